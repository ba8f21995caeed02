"""What the commands share: argument parsing that fails in one line, the session options, and
the provider chain (cache in front of GetSessionToken in front of the terminal prompt)."""

from __future__ import annotations

import argparse
import sys
import time

from ..config.recursion_guard import check_not_resolving
from ..config.settings import (
    DEFAULT_DURATION,
    DEFAULT_PROMPT_TIMEOUT,
    DEFAULT_STS_TIMEOUT,
    LOCK_TIMEOUT_MARGIN,
    resolve_settings,
)
from ..errors import EXIT_USAGE
from ..prompt import PROMPTS
from ..session.cache import SessionCache
from ..session.cache_dir import default_cache_dir
from ..session.cached_provider import CachedSessionProvider

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing on the cache-hit path
if TYPE_CHECKING:
    from typing import List, Mapping, NoReturn, Optional

    from ..config.settings import Settings
    from ..prompt import CodeSource
    from ..session.cached_provider import Upstream
    from ..watchdog import Watchdog

HELP_WIDTH = 88


class ArgumentParser(argparse.ArgumentParser):
    """Usage errors in one line, like every other error (argparse prints the whole usage)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"mfa-process: {message}; see {self.prog} --help\n")


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Help at a fixed width: argparse would import shutil on every run to measure the terminal."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, width=HELP_WIDTH)


def new_parser(prog: str, description: str, examples: str, usage: Optional[str] = None) -> ArgumentParser:
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
    parser.add_argument(
        "--mfa-serial", metavar="ARN", help="MFA device ARN or serial (default: mfa_serial of the profile)"
    )
    parser.add_argument(
        "--duration",
        metavar="SECONDS",
        help=f"session length, 901..129600 (default: $MFA_PROCESS_DURATION, duration_seconds, {DEFAULT_DURATION})",
    )
    parser.add_argument("--token-code", metavar="CODE", help="the 6-digit code, instead of asking on the terminal")
    parser.add_argument("--refresh", action="store_true", help="get a new session even if a cached one is valid")
    parser.add_argument(
        "--prompt",
        choices=PROMPTS,
        metavar="SOURCE",
        help=f"where the code comes from: {', '.join(PROMPTS)} (default: $MFA_PROCESS_PROMPT, mfa_prompt, auto)",
    )
    parser.add_argument(
        "--prompt-timeout",
        metavar="SECONDS",
        help="give up waiting for the code after this long "
        f"(default: $MFA_PROCESS_PROMPT_TIMEOUT, mfa_prompt_timeout, {DEFAULT_PROMPT_TIMEOUT:g})",
    )
    parser.add_argument(
        "--sts-timeout",
        metavar="SECONDS",
        help="give up on the STS call after this long, retries included "
        f"(default: $MFA_PROCESS_STS_TIMEOUT, mfa_sts_timeout, {DEFAULT_STS_TIMEOUT:g})",
    )
    parser.add_argument(
        "--lock-timeout",
        metavar="SECONDS",
        help="longest wait for another prompting mfa-process (default: $MFA_PROCESS_LOCK_TIMEOUT, mfa_lock_timeout, "
        f"prompt timeout + STS timeout + {LOCK_TIMEOUT_MARGIN:g})",
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
        prompt=args.prompt,
        prompt_timeout=args.prompt_timeout,
        sts_timeout=args.sts_timeout,
    )


def session_cache(environ: Mapping[str, str]) -> SessionCache:
    return SessionCache(default_cache_dir(environ))


def session_provider(settings: Settings, environ: Mapping[str, str]) -> CachedSessionProvider:
    """The provider chain: cache in front of GetSessionToken in front of the code source.

    Every wait (prompt, dialog, helper command, lock) is bounded by mfa_prompt_timeout and ends
    as soon as the program that started us is gone.
    """
    from ..system import CallerWatch

    caller = CallerWatch()

    def new_watchdog() -> Watchdog:
        from ..watchdog import Watchdog

        hint = f"run `mfa-process login --profile {settings.profile}` in a terminal first"
        return Watchdog(settings.prompt_timeout, caller.alive, hint)

    def open_upstream() -> Upstream:
        from ..prompt.choose import code_source
        from ..session.base_keys import open_base_session
        from ..session.session_token import SessionTokenProvider

        chosen: List[CodeSource] = []

        def ask(mfa_serial: str, notice: Optional[str]) -> str:
            """Pick the code source only when a code is needed: a waiter that finds the
            session cached after the lock must not fail for want of a terminal."""
            provider.announce(f"asking for the MFA code of profile '{settings.profile}'")
            if not chosen:
                chosen.append(
                    code_source(
                        settings.prompt,
                        settings.profile,
                        settings.mfa_process_command,
                        settings.oath_account,
                        new_watchdog,
                        environ,
                    )
                )
            return chosen[0](mfa_serial, notice)

        return SessionTokenProvider(
            settings.profile,
            open_base_session(settings.profile),
            settings.device,
            settings.duration,
            ask,
            settings.token_code,
            sts_timeout=settings.sts_timeout,
            on_calling_sts=lambda endpoint: provider.announce(
                f"waiting on STS at {endpoint} (for up to {settings.sts_timeout:g} s)"
            ),
        )

    provider = CachedSessionProvider(
        session_cache(environ),
        settings.profile,
        settings.device.serial,
        settings.duration,
        settings.known_base_access_key_id,
        open_upstream,
        settings.lock_timeout,
        refresh=settings.refresh,
        warn=lambda message: print(f"mfa-process: warning: {message}", file=sys.stderr),
        caller_alive=caller.alive,
    )
    return provider


def local_time(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(epoch))


def time_left(seconds: float) -> str:
    """``11h 59m``, ``14m``, or ``expired``."""
    if seconds <= 0:
        return "expired"
    minutes = int(seconds // 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m"
