"""`mfa-process status`: the cached sessions, how long they have left, and whether they are
still served; then each base profile, where its keys live and how old the key is (a reminder
to rotate after 90 days). No secrets: keys and tokens are never shown, the keyring not read."""

from __future__ import annotations

import json
import time
from typing import Dict, List, Mapping, Optional, Sequence, TextIO

from ..config.settings import max_mfa_age_of
from ..errors import ConfigError
from ..keystore.key_locations import KeyLocation, key_locations
from ..redact import printable as shown
from ..session.cache import CachedSession
from ..session.chain import session_cache
from ..session.credentials import REFRESH_MARGIN_SECONDS, served_until
from .common import ArgumentParser, add_profile_option, add_verbose_option, local_time, new_parser, time_left, warner

EXAMPLES = """\
examples:
  mfa-process status                   every cached session
  mfa-process status --profile base    one base profile's sessions
  mfa-process status --json            for scripts (seconds_left, served, ...)
"""

COLUMNS = ("PROFILE", "MFA DEVICE", "ACCOUNT", "DURATION", "EXPIRES", "LEFT", "MFA AGE", "SERVED")
KEY_COLUMNS = ("BASE PROFILE", "KEYS IN", "KEY AGE")


def build_parser() -> ArgumentParser:
    """The options, read by `run` and by the shell completion scripts (cli/completion_scripts)."""
    parser = new_parser("mfa-process status", "List cached MFA sessions.", EXAMPLES)
    add_profile_option(parser, required=False)
    parser.add_argument("--json", action="store_true", help="one JSON array, for scripts")
    add_verbose_option(parser)
    return parser


def run(argv: List[str], environ: Mapping[str, str], stdout: TextIO, stderr: TextIO) -> int:
    args = build_parser().parse(argv, stdout, stderr)
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
    max_ages = {profile: _max_mfa_age(profile, environ, stderr) for profile in {s.profile for s in sessions}}
    views = [SessionView(session, max_ages[session.profile], now) for session in sessions]
    if args.json:
        # ensure_ascii (the default) escapes everything outside printable ASCII: safe on a terminal as it is
        rows = [_as_dict(view, locations.get(view.session.profile)) for view in views]
        stdout.write(json.dumps(rows, indent=2) + "\n")
    elif not sessions:
        stdout.write("no cached sessions" + (f" for profile {shown(args.profile)}" if args.profile else "") + "\n")
    else:
        stdout.write(_table(COLUMNS, [[shown(cell) for cell in view.row()] for view in views]))
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


def _max_mfa_age(profile: str, environ: Mapping[str, str], stderr: TextIO) -> Optional[int]:
    """The profile's MFA max age; a setting every run would refuse is said, and the session
    shown as if it had none."""
    try:
        return max_mfa_age_of(profile, environ)
    except ConfigError as error:
        warner(stderr)(f"profile {shown(profile)}: {shown(str(error))}")
        return None


class SessionView:
    """A cached session as a run would see it now: served until its expiration, or until its
    MFA reaches the profile's max age when that comes first (the session is renewed early)."""

    def __init__(self, session: CachedSession, max_mfa_age: Optional[int], now: float) -> None:
        self.session = session
        self.max_mfa_age = max_mfa_age
        self.now = now
        self.until = served_until(session.credentials.expires_at, session.mfa_authenticated_at, max_mfa_age)
        self.left = self.until - now
        self.mfa_age = now - session.mfa_authenticated_at

    @property
    def served(self) -> bool:
        return self.left > REFRESH_MARGIN_SECONDS

    def served_note(self) -> str:
        cut_short = self.until < self.session.credentials.expires_at
        if self.served:
            return f"yes, until MFA age {time_left(self.max_mfa_age or 0)}" if cut_short else "yes"
        if self.session.credentials.seconds_left(self.now) <= 0:
            return "no (expired)"
        return f"no (MFA age over {time_left(self.max_mfa_age or 0)})" if cut_short else "no (refresh due)"

    def row(self) -> List[str]:
        session, credentials = self.session, self.session.credentials
        return [
            session.profile,
            session.mfa_serial,
            credentials.account_id or "-",
            f"{session.duration}s",
            local_time(credentials.expires_at),
            time_left(self.left),
            time_left(self.mfa_age) if self.mfa_age > 0 else "0m",
            self.served_note(),
        ]


def _as_dict(view: SessionView, location: Optional[KeyLocation]) -> Dict[str, object]:
    session, credentials, now = view.session, view.session.credentials, view.now
    age = location.age if location is not None else None
    return {
        "profile": session.profile,
        "mfa_serial": session.mfa_serial,
        "account_id": credentials.account_id,
        "duration": session.duration,
        "expiration": credentials.expiration,
        "expires_local": local_time(credentials.expires_at),
        "served_until": credentials.until(view.until).expiration,
        "seconds_left": max(0, int(view.left)),
        "served": view.served,
        "mfa_authenticated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(session.mfa_authenticated_at)),
        "mfa_age_seconds": max(0, int(view.mfa_age)),
        "max_mfa_age": view.max_mfa_age,
        "keys_in": location.where if location is not None else None,
        "key_age_days": age.days(now) if age is not None else None,
        "key_age_exact": age.exact if age is not None else None,
    }


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
