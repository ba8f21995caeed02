"""`mfa-process --profile NAME`: print the credential_process JSON for an MFA session."""

from __future__ import annotations

import argparse
import sys
TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing on the cache-hit path

from .. import __version__
from ..cache import SessionCache
from ..cache_dir import default_cache_dir
from ..cached_provider import CachedSessionProvider
from ..errors import EXIT_USAGE
from ..recursion_guard import check_not_resolving
from ..settings import DEFAULT_DURATION, DEFAULT_LOCK_TIMEOUT, resolve_settings

if TYPE_CHECKING:
    from typing import List, Mapping, NoReturn, TextIO

    from ..cached_provider import Upstream
    from ..settings import Settings

HELP_WIDTH = 88
EXAMPLES = """\
examples:
  # ~/.aws/config: SDKs and the AWS CLI run this and read its JSON
  [profile mfa]
  credential_process = mfa-process --profile base

  mfa-process --profile base                      # prompt once, then serve from cache
  mfa-process --profile base --refresh            # new session now
  mfa-process --profile base --token-code 123456  # no prompt (scripts)
  aws sts get-caller-identity --profile mfa       # what you normally run
"""


class _ArgumentParser(argparse.ArgumentParser):
    """Usage errors in one line, like every other error (argparse prints the whole usage)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: {message}; see {self.prog} --help\n")


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Help at a fixed width: argparse would import shutil on every run to measure the terminal."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, width=HELP_WIDTH)


def build_parser() -> argparse.ArgumentParser:
    parser = _ArgumentParser(
        prog="mfa-process",
        description=(
            "AWS credential_process plugin: MFA-backed session credentials from STS\n"
            "GetSessionToken, asked for on the terminal once and cached until 15 minutes\n"
            "before they expire."
        ),
        epilog=EXAMPLES,
        formatter_class=_HelpFormatter,
    )
    parser.add_argument("--profile", required=True, metavar="NAME", help="base profile with long-term keys and mfa_serial")
    parser.add_argument("--mfa-serial", metavar="ARN", help="MFA device ARN or serial (default: mfa_serial of the profile)")
    parser.add_argument(
        "--duration",
        metavar="SECONDS",
        help=f"session length, 901..129600 (default: $MFA_PROCESS_DURATION, duration_seconds, {DEFAULT_DURATION})",
    )
    parser.add_argument("--token-code", metavar="CODE", help="the 6-digit code, instead of asking on the terminal")
    parser.add_argument("--refresh", action="store_true", help="get a new session even if a cached one is valid")
    parser.add_argument(
        "--lock-timeout",
        metavar="SECONDS",
        help=f"longest wait for another mfa-process that is prompting (default {DEFAULT_LOCK_TIMEOUT:g})",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="show error details (tracebacks)")
    parser.add_argument("--version", action="version", version=f"mfa-process {__version__}")
    return parser


def run(argv: List[str], environ: Mapping[str, str], stdout: TextIO) -> int:
    args = build_parser().parse_args(argv)
    check_not_resolving(environ)
    settings = resolve_settings(
        args.profile,
        environ,
        mfa_serial=args.mfa_serial,
        duration=args.duration,
        token_code=args.token_code,
        lock_timeout=args.lock_timeout,
        refresh=args.refresh,
    )
    credentials = cached_provider(settings).retrieve()
    stdout.write(credentials.to_json() + "\n")
    stdout.flush()
    return 0


def cached_provider(settings: Settings) -> CachedSessionProvider:
    """The provider chain: cache in front of GetSessionToken in front of the terminal prompt."""

    def open_upstream() -> Upstream:
        from ..base_profile import open_base_session
        from ..prompt.terminal import terminal_prompt
        from ..session_token import SessionTokenProvider

        hint = (
            f"start the session from a terminal first (mfa-process --profile {settings.profile} >/dev/null), "
            "or pass --token-code"
        )
        return SessionTokenProvider(
            settings.profile,
            open_base_session(settings.profile),
            settings.device,
            settings.duration,
            terminal_prompt(hint),
            settings.token_code,
        )

    return CachedSessionProvider(
        SessionCache(default_cache_dir()),
        settings.profile,
        settings.device.serial,
        settings.duration,
        settings.known_base_access_key_id,
        open_upstream,
        settings.lock_timeout,
        refresh=settings.refresh,
        warn=lambda message: print(f"mfa-process: warning: {message}", file=sys.stderr),
    )
