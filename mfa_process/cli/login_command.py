"""`mfa-process login`: ask for the code now, in this terminal, and fill the cache.

Then every later SDK process on this machine (IDEs, CDK, CI jobs, tools with short
timeouts) is served from the cache without needing a terminal of its own.
"""

from __future__ import annotations

import sys
import time
from typing import List, Mapping, TextIO

from ..session.credentials import Credentials
from .common import (
    add_session_options,
    local_time,
    new_parser,
    session_provider,
    session_settings,
    time_left,
)

EXAMPLES = """\
examples:
  mfa-process login --profile base                  prompt unless a session is cached
  mfa-process login --profile base --refresh        a new session now
  mfa-process login --profile base --duration 3600  must match what credential_process uses
"""


def run(argv: List[str], environ: Mapping[str, str], stdout: TextIO) -> int:
    parser = new_parser(
        "mfa-process login", "Start an MFA session now, so that every process is served from the cache.", EXAMPLES
    )
    add_session_options(parser)
    args = parser.parse_args(argv)
    settings = session_settings(args, environ)
    provider = session_provider(settings, environ)
    cached = None if settings.refresh else provider.cached()
    if cached is not None:
        _report(
            "already logged in",
            settings.profile,
            settings.device.serial,
            cached.credentials,
            "; --refresh for a new one",
        )
        return 0
    _report("logged in", settings.profile, settings.device.serial, provider.retrieve())
    return 0


def _report(what: str, profile: str, mfa_serial: str, credentials: Credentials, hint: str = "") -> None:
    left = time_left(credentials.seconds_left(time.time()))
    print(
        f"mfa-process: {what}: profile {profile}, MFA device {mfa_serial}, "
        f"session expires {local_time(credentials.expires_at)} ({left} left){hint}",
        file=sys.stderr,
    )
