"""`mfa-process status`: the cached sessions, how long they have left, and whether they are
still served. No secrets: keys and tokens are never shown."""

from __future__ import annotations

import json
import time
from typing import Dict, List, Mapping, TextIO

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
    if args.json:
        # ensure_ascii (the default) escapes everything outside printable ASCII: safe on a terminal as it is
        stdout.write(json.dumps([_as_dict(session, now) for session in sessions], indent=2) + "\n")
    elif not sessions:
        stdout.write("no cached sessions" + (f" for profile {shown(args.profile)}" if args.profile else "") + "\n")
    else:
        stdout.write(_table([[shown(cell) for cell in _row(session, now)] for session in sessions]))
    warn = warner(stderr)
    for warning in cache.pop_warnings():  # what the cache did not trust, each with its fix
        warn(shown(warning))
    if damaged:
        stderr.write(
            f"mfa-process: {len(damaged)} unreadable cache file(s) ignored (they count as misses): "
            + ", ".join(shown(path) for path in damaged)
            + "\n"
        )
    return 0


def _as_dict(session: CachedSession, now: float) -> Dict[str, object]:
    credentials = session.credentials
    return {
        "profile": session.profile,
        "mfa_serial": session.mfa_serial,
        "account_id": credentials.account_id,
        "duration": session.duration,
        "expiration": credentials.expiration,
        "expires_local": local_time(credentials.expires_at),
        "seconds_left": max(0, int(credentials.seconds_left(now))),
        "served": credentials.is_servable(now),
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


def _table(rows: List[List[str]]) -> str:
    widths = [max(len(row[i]) for row in [list(COLUMNS), *rows]) for i in range(len(COLUMNS))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in [list(COLUMNS), *rows]
    ]
    return "\n".join(lines) + "\n"
