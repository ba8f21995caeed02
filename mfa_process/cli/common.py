"""What the commands share: argument parsing that fails in one line, the session options, and
the provider chain (cache in front of GetSessionToken in front of the terminal prompt)."""

from __future__ import annotations

import argparse
import sys
import time

from ..cache import SessionCache
from ..cache_dir import default_cache_dir
from ..cached_provider import CachedSessionProvider
from ..errors import EXIT_USAGE
from ..recursion_guard import check_not_resolving
from ..settings import DEFAULT_DURATION, DEFAULT_LOCK_TIMEOUT, resolve_settings

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing on the cache-hit path
if TYPE_CHECKING:
    from typing import Mapping, NoReturn

    from ..cached_provider import Upstream
    from ..settings import Settings

HELP_WIDTH = 88


class ArgumentParser(argparse.ArgumentParser):
    """Usage errors in one line, like every other error (argparse prints the whole usage)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"mfa-process: {message}; see {self.prog} --help\n")


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Help at a fixed width: argparse would import shutil on every run to measure the terminal."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, width=HELP_WIDTH)


def new_parser(prog: str, description: str, examples: str, usage: str = None) -> ArgumentParser:
    return ArgumentParser(
        prog=prog,
        usage=usage,
        description=description,
        epilog=examples,
        formatter_class=HelpFormatter,
    )


def add_profile_option(parser: argparse.ArgumentParser, required: bool = True) -> None:
    parser.add_argument(
        "--profile", required=required, metavar="NAME", help="base profile with long-term keys and mfa_serial"
    )


def add_session_options(parser: argparse.ArgumentParser) -> None:
    """The options of every command that gets a session."""
    add_profile_option(parser)
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
    add_verbose_option(parser)


def add_verbose_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-v", "--verbose", action="store_true", help="show error details (tracebacks)")


def session_settings(args: argparse.Namespace, environ: Mapping[str, str]) -> Settings:
    check_not_resolving(environ)
    return resolve_settings(
        args.profile,
        environ,
        mfa_serial=args.mfa_serial,
        duration=args.duration,
        token_code=args.token_code,
        lock_timeout=args.lock_timeout,
        refresh=args.refresh,
    )


def session_cache(environ: Mapping[str, str]) -> SessionCache:
    return SessionCache(default_cache_dir(environ))


def session_provider(settings: Settings, environ: Mapping[str, str]) -> CachedSessionProvider:
    """The provider chain: cache in front of GetSessionToken in front of the terminal prompt."""

    def open_upstream() -> Upstream:
        from ..base_profile import open_base_session
        from ..prompt.terminal import terminal_prompt
        from ..session_token import SessionTokenProvider

        hint = (
            f"start the session from a terminal first (mfa-process login --profile {settings.profile}), "
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
        session_cache(environ),
        settings.profile,
        settings.device.serial,
        settings.duration,
        settings.known_base_access_key_id,
        open_upstream,
        settings.lock_timeout,
        refresh=settings.refresh,
        warn=lambda message: print(f"mfa-process: warning: {message}", file=sys.stderr),
    )


def local_time(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(epoch))


def time_left(seconds: float) -> str:
    """``11h 59m``, ``14m``, or ``expired``."""
    if seconds <= 0:
        return "expired"
    minutes = int(seconds // 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m"
