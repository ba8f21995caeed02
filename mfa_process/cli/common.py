"""What the commands share: argument parsing that fails in one line, the session options read
into Settings, warnings on stderr, and the times they print. The provider chain itself is the
library's (session/chain.py)."""

from __future__ import annotations

import argparse
import sys
import time

from ..config.settings import (
    DEFAULT_DURATION,
    DEFAULT_PROMPT_TIMEOUT,
    DEFAULT_STS_TIMEOUT,
    LOCK_TIMEOUT_MARGIN,
    MAX_DURATION,
    SETTING_SOURCES,
    SHORTEST_DURATION,
    resolve_settings,
)
from ..errors import EXIT_USAGE
from ..prompt import PROMPTS

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing on the cache-hit path
if TYPE_CHECKING:
    from typing import Callable, List, Mapping, NoReturn, Optional, TextIO, Tuple

    from _typeshed import SupportsWrite

    from ..config.settings import Settings
    from ..server.running import CredentialServer

HELP_WIDTH = 88


class ArgumentParser(argparse.ArgumentParser):
    """Usage errors in one line, like every other error (argparse prints the whole usage), and
    help, version and errors written to the streams the command was given, not sys's."""

    _streams: Optional[Tuple[TextIO, TextIO]] = None

    def parse(self, argv: List[str], stdout: TextIO, stderr: TextIO) -> argparse.Namespace:
        """``argv`` parsed; an unknown option is named before a missing required one (argparse
        would say "--profile is required" for `--profile-name x` or `--bogus`)."""
        self._streams = (stdout, stderr)
        required = [action for action in self._actions if action.required]
        for action in required:
            action.required = False
        try:
            args, extras = self.parse_known_args(argv)
        finally:
            for action in required:
                action.required = True
        if extras:
            self.error(unrecognized(extras))
        missing = [action for action in required if getattr(args, action.dest) in (None, action.default)]
        if missing:
            names = ", ".join("/".join(action.option_strings) or action.dest for action in missing)
            self.error(f"the following arguments are required: {names}")
        return args

    def error(self, message: str) -> NoReturn:
        """One line: argparse quotes what was typed, which must neither add a line nor drive the terminal."""
        from ..redact import printable, redact

        self.exit(EXIT_USAGE, f"mfa-process: {printable(redact(message))}; see {self.prog} --help\n")

    def _print_message(self, message: str, file: Optional[SupportsWrite[str]] = None) -> None:
        if self._streams is not None:
            file = self._streams[1] if file is sys.stderr else self._streams[0]
        super()._print_message(message, file)


def unrecognized(extras: List[str]) -> str:
    """The unknown options by name, never a value typed with them or after them (a secret key given
    to the wrong option would otherwise be repeated on stderr, which SDKs put in their errors)."""
    options = [word.split("=", 1)[0] for word in extras if word.startswith("-")]
    others = len(extras) - len(options)
    if not options:
        return f"unrecognized arguments: {others} word{'s' if others != 1 else ''} (not shown)"
    more = f" and {others} other word{'s' if others != 1 else ''} (not shown)" if others else ""
    return f"unrecognized arguments: {' '.join(options)}{more}"


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
        allow_abbrev=False,  # `--p=VALUE` is an unknown option, not a guess among --profile, --prompt...
    )


def add_profile_option(parser: argparse.ArgumentParser, required: bool = True) -> None:
    parser.add_argument(
        "--profile", required=required, metavar="NAME", help="base profile with long-term keys and mfa_serial"
    )


def add_session_options(parser: argparse.ArgumentParser) -> None:
    """The options of every command that gets a session; each help ends with every way to set it
    (config.settings.SETTING_SOURCES) and its default."""
    add_profile_option(parser)

    def setting(flag: str, metavar: str, what: str, default: Optional[str]) -> None:
        then = f"default: {default}" if default is not None else "one of them is required"
        parser.add_argument(flag, metavar=metavar, help=f"{what} ({ways_to_set(flag)}; {then})")

    setting("--mfa-serial", "ARN", "MFA device ARN or serial", None)
    setting("--duration", "SECONDS", f"session length, {SHORTEST_DURATION}..{MAX_DURATION}", f"{DEFAULT_DURATION}")
    setting(
        "--max-mfa-age",
        "DURATION",
        "serve a session only this long after its MFA (3600, 90m, 1h), as a policy on aws:MultiFactorAuthAge allows",
        "no limit",
    )
    parser.add_argument(
        "--min-remaining",
        metavar="DURATION",
        help="get a new session now unless the cached one has this long left (4h, 90m, 3600); for long runs "
        "(flag only; default: the 15-minute refresh margin)",
    )
    parser.add_argument(
        "--token-code",
        metavar="CODE",
        help="the 6-digit code, instead of asking on the terminal (flag only; default: ask)",
    )
    parser.add_argument(
        "--refresh",
        action="store_true",
        help="get a new session even if a cached one is valid (flag only; default: off)",
    )
    setting(
        "--prompt",
        "SOURCE",
        f"where the code comes from: {', '.join(PROMPTS)}, or several comma-separated, tried in order",
        "auto",
    )
    setting(
        "--prompt-timeout", "SECONDS", "give up waiting for the code after this long", f"{DEFAULT_PROMPT_TIMEOUT:g}"
    )
    setting(
        "--sts-timeout",
        "SECONDS",
        "give up on the STS call after this long, retries included",
        f"{DEFAULT_STS_TIMEOUT:g}",
    )
    setting(
        "--lock-timeout",
        "SECONDS",
        "longest wait for another prompting mfa-process",
        f"prompt timeout per code source + STS timeout + {LOCK_TIMEOUT_MARGIN:g}",
    )
    add_verbose_option(parser)


def ways_to_set(flag: str) -> str:
    """``or $MFA_PROCESS_DURATION, or duration_seconds in the base profile``: the ways besides the
    flag, in precedence order."""
    env_name, profile_key = SETTING_SOURCES[flag]
    ways = ([f"${env_name}"] if env_name else []) + [f"{profile_key} in the base profile"]
    return "or " + ", or ".join(ways)


def add_verbose_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-v", "--verbose", action="store_true", help="show error details (tracebacks)")


def session_settings(args: argparse.Namespace, environ: Mapping[str, str]) -> Settings:
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
        max_mfa_age=args.max_mfa_age,
        min_remaining=args.min_remaining,
    )


def warner(stderr: TextIO) -> Callable[[str], None]:
    """Where the library's warnings go: one line each on the command's stderr."""
    return lambda message: print(f"mfa-process: warning: {message}", file=stderr)


def log_out_profile(profile: str, environ: Mapping[str, str], stdout: TextIO, stderr: TextIO) -> None:
    """Remove ``profile``'s cached sessions (its key changed or went), naming each removed file."""
    from ..session.chain import session_cache

    cache = session_cache(environ)
    for path in sorted(cache.remove_profile(profile)):
        stdout.write(f"logged out {path}\n")
    warn = warner(stderr)
    for warning in cache.pop_warnings():  # what was left alone, and why
        warn(warning)


def local_time(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(epoch))


def time_left(seconds: float) -> str:
    """``11h 59m``, ``14m``, or ``expired``."""
    if seconds <= 0:
        return "expired"
    minutes = int(seconds // 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m"


def add_server_options(parser: argparse.ArgumentParser) -> None:
    """The options of the credentials server (`exec --server`, `serve`)."""
    parser.add_argument(
        "--role-profile",
        metavar="NAME",
        help="serve this role profile's role (its role_arn, external_id, duration_seconds up to 3600), "
        "assumed with the MFA session (default: the MFA session itself)",
    )
    parser.add_argument(
        "--bind",
        metavar="ADDRESS",
        help="the address to listen on (default 127.0.0.1; ::1 also works); any other address can be reached "
        "by whoever reaches it, a warning says so",
    )
    parser.add_argument("--port", metavar="N", help="the port to listen on (default: a free one)")


def open_server(args: argparse.Namespace, environ: Mapping[str, str], stderr: TextIO) -> CredentialServer:
    """The credentials server the options ask for, listening; its first session not yet fetched."""
    from ..server.address import listen_address
    from ..server.running import CredentialServer

    address = listen_address(args.bind, args.port)
    warn, log = server_messages(stderr, args.verbose)
    if not address.loopback:
        warn(
            f"listening on {address.host}, not on loopback: any process, container or machine that reaches it "
            "can ask for the keys, and only the token stops it; SDKs take a plain-http endpoint only on "
            "loopback (or ECS's 169.254.170.2)"
        )
    return CredentialServer(session_settings(args, environ), environ, address, warn, log, args.role_profile)


def server_messages(stderr: TextIO, verbose: bool) -> Tuple[Callable[[str], None], Callable[[str], None]]:
    """(warn, log) for a server: each line redacted and printable (they quote STS and clients),
    the log only with --verbose."""
    from ..redact import printable, redact

    def warn(message: str) -> None:
        print(f"mfa-process: warning: {printable(redact(message))}", file=stderr, flush=True)

    def log(message: str) -> None:  # a traceback keeps its lines
        if verbose:
            print(f"mfa-process: {printable(redact(message), keep=chr(10))}", file=stderr, flush=True)

    return warn, log
