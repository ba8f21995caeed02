"""`mfa-process status`: the cached sessions, how long they have left, and whether they are
still served; then each base profile, where its keys live and how old the key is (a reminder
to rotate after 90 days). No secrets: keys and tokens are never shown, the keyring not read."""

from __future__ import annotations

import json
import time
from typing import Dict, List, Mapping, Optional, Sequence, TextIO

from ..errors import ConfigError
from ..keystore.key_locations import KeyLocation, key_locations
from ..redact import printable as shown
from ..session.cache import CachedSession
from ..session.chain import session_cache
from .common import add_profile_option, add_verbose_option, local_time, new_parser, time_left, warner

EXAMPLES = """\
examples:
  mfa-process status                   every cached session
  mfa-process status --profile base    one base profile's sessions
  mfa-process status --json            for scripts (seconds_left, served, ...)
"""

COLUMNS = ("PROFILE", "MFA DEVICE", "ACCOUNT", "DURATION", "EXPIRES", "LEFT", "SERVED")
KEY_COLUMNS = ("BASE PROFILE", "KEYS IN", "KEY AGE")


def run(argv: List[str], environ: Mapping[str, str], stdout: TextIO, stderr: TextIO) -> int:
    parser = new_parser("mfa-process status", "List cached MFA sessions.", EXAMPLES)
    add_profile_option(parser, required=False)
    parser.add_argument("--json", action="store_true", help="one JSON array, for scripts")
    add_verbose_option(parser)
    args = parser.parse(argv, stdout, stderr)
    cache = session_cache(environ)
    entries = list(cache.entries())  # each file read once
    damaged = [path for path, session in entries if session is None]
    sessions = [s for _, s in entries if s is not None and (args.profile is None or s.profile == args.profile)]
    now = time.time()
    try:
        locations = {location.profile: location for location in key_locations(environ)}
    except ConfigError as error:  # the sessions are listed all the same
        warner(stderr)(f"base profiles not shown: {error}")
        locations = {}
    if args.profile is not None:
        locations = {name: location for name, location in locations.items() if name == args.profile}
    if args.json:
        # ensure_ascii (the default) escapes everything outside printable ASCII: safe on a terminal as it is
        rows = [_as_dict(session, now, locations.get(session.profile)) for session in sessions]
        stdout.write(json.dumps(rows, indent=2) + "\n")
    elif not sessions:
        stdout.write("no cached sessions" + (f" for profile {shown(args.profile)}" if args.profile else "") + "\n")
    else:
        stdout.write(_table(COLUMNS, [[shown(cell) for cell in _row(session, now)] for session in sessions]))
    if locations and not args.json:
        stdout.write(
            "\n" + _table(KEY_COLUMNS, [[shown(cell) for cell in _key_row(loc, now)] for loc in locations.values()])
        )
    warn = warner(stderr)
    for location in locations.values():
        if location.age is not None and location.age.due(now):
            warn(
                f"the key of profile {shown(location.profile)} is {location.age.shown(now)} old; rotate it with "
                f"`mfa-process rotate --profile {shown(location.profile)}`"
            )
    for warning in cache.pop_warnings():  # what the cache did not trust, each with its fix
        warn(shown(warning))
    if damaged:
        stderr.write(
            f"mfa-process: {len(damaged)} unreadable cache file(s) ignored (they count as misses): "
            + ", ".join(shown(path) for path in damaged)
            + "\n"
        )
    return 0


def _as_dict(session: CachedSession, now: float, location: Optional[KeyLocation]) -> Dict[str, object]:
    credentials = session.credentials
    age = location.age if location is not None else None
    return {
        "profile": session.profile,
        "mfa_serial": session.mfa_serial,
        "account_id": credentials.account_id,
        "duration": session.duration,
        "expiration": credentials.expiration,
        "expires_local": local_time(credentials.expires_at),
        "seconds_left": max(0, int(credentials.seconds_left(now))),
        "served": credentials.is_servable(now),
        "keys_in": location.where if location is not None else None,
        "key_age_days": age.days(now) if age is not None else None,
        "key_age_exact": age.exact if age is not None else None,
    }


def _row(session: CachedSession, now: float) -> List[str]:
    credentials = session.credentials
    left = credentials.seconds_left(now)
    served = "yes" if credentials.is_servable(now) else ("no (expired)" if left <= 0 else "no (refresh due)")
    return [
        session.profile,
        session.mfa_serial,
        credentials.account_id or "-",
        f"{session.duration}s",
        local_time(credentials.expires_at),
        time_left(left),
        served,
    ]


def _key_row(location: KeyLocation, now: float) -> List[str]:
    age = location.age
    if age is None:
        shown_age = "unknown"
    else:
        shown_age = age.shown(now) + (" (rotate)" if age.due(now) else "")
    return [location.profile, location.where, shown_age]


def _table(columns: Sequence[str], rows: List[List[str]]) -> str:
    widths = [max(len(row[i]) for row in [list(columns), *rows]) for i in range(len(columns))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in [list(columns), *rows]
    ]
    return "\n".join(lines) + "\n"
