"""`mfa-process login`: ask for the code now, in this terminal, and fill the cache.

Then every later SDK process on this machine (IDEs, CDK, CI jobs, tools with short
timeouts) is served from the cache without needing a terminal of its own.
"""

from __future__ import annotations

import time
from typing import List, Mapping, TextIO

from ..config.settings import Settings
from ..session.chain import build_provider
from ..session.credentials import Credentials
from .common import ArgumentParser, add_session_options, local_time, new_parser, session_settings, time_left, warner

EXAMPLES = """\
examples:
  mfa-process login --profile base                  prompt unless a session is cached
  mfa-process login --profile base --refresh        a new session now
  mfa-process login --profile base --duration 3600  must match what credential_process uses
"""


def build_parser() -> ArgumentParser:
    """The options, read by `run` and by the shell completion scripts (cli/completion_scripts)."""
    parser = new_parser(
        "mfa-process login", "Start an MFA session now, so that every process is served from the cache.", EXAMPLES
    )
    add_session_options(parser)
    return parser


def run(argv: List[str], environ: Mapping[str, str], stdout: TextIO, stderr: TextIO) -> int:
    args = build_parser().parse(argv, stdout, stderr)
    settings = session_settings(args, environ)
    provider = build_provider(settings, environ, warner(stderr))
    cached = None if settings.refresh else provider.cached()
    if cached is not None:
        stderr.write(_report("already logged in", settings, cached.credentials, "; --refresh for a new one"))
        return 0
    stderr.write(_report("logged in", settings, provider.retrieve()))
    return 0


def _report(what: str, settings: Settings, credentials: Credentials, hint: str = "") -> str:
    left = time_left(credentials.seconds_left(time.time()))
    return (
        f"mfa-process: {what}: profile {settings.profile}, MFA device {settings.device.serial}, "
        f"session expires {local_time(credentials.expires_at)} ({left} left){hint}\n"
    )
