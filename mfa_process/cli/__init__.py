"""The command line: pick the command, run it, and turn every error into a message and an exit
code. This is the only place that decides an exit status.

`mfa-process --profile NAME` (the credential_process form) is the default; the companion
commands are imported only when named, so the cache-hit path stays small.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing on the cache-hit path
if TYPE_CHECKING:
    from typing import Callable, List, Mapping, Optional, TextIO

    Command = Callable[[List[str], Mapping[str, str], TextIO, TextIO], int]

# Each companion command and the module that runs it, in the order --help lists them.
COMMAND_MODULES = {
    "login": ".login_command",
    "status": ".status_command",
    "logout": ".logout_command",
    "env": ".env_command",
    "exec": ".exec_command",
    "serve": ".serve_command",
    "configure": ".configure_command",
    "add": ".add_command",
    "remove": ".remove_command",
    "rotate": ".rotate_command",
    "doctor": ".doctor_command",
    "completion": ".completion_command",
    "help": ".help_command",
}
COMMANDS = tuple(COMMAND_MODULES)


def main(argv: Optional[List[str]] = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    own_args = args[: args.index("--")] if "--" in args else args  # after --: exec's command
    verbose = "--verbose" in own_args or "-v" in own_args
    try:
        from .fast_hit import cached_output  # the plain `--profile NAME` on a cache hit, before argparse

        hit = cached_output(args, os.environ)
        if hit is not None:
            sys.stdout.write(hit + "\n")
            sys.stdout.flush()
            return 0
        if args and args[0] in COMMANDS:
            status = _command(args[0])(args[1:], os.environ, sys.stdout, sys.stderr)
        elif not args:  # a person trying the program: what it does and its commands (stdout stays empty)
            from .credential_process import usage_with_commands

            sys.stderr.write(usage_with_commands())
            status = EXIT_USAGE_STATUS
        elif not args[0].startswith("-"):
            raise unknown_command(args[0])
        else:
            from . import credential_process

            status = credential_process.run(args, os.environ, sys.stdout, sys.stderr)
        if sys.stdout is not None:
            sys.stdout.flush()  # here, not at exit, where a failure would be reported as Python's own
        return status
    except KeyboardInterrupt:
        from ..errors import EXIT_INTERRUPTED

        return _fail("interrupted; no credentials were issued", EXIT_INTERRUPTED, verbose, sys.stderr)
    except BrokenPipeError:  # whoever read our output is gone: an SDK that gave up, `| head -1`
        from ..errors import EXIT_FAILURE

        _detach_stdout()
        return _fail(
            "could not write the output: the program reading it is gone (broken pipe)",
            EXIT_FAILURE,
            verbose,
            sys.stderr,
        )
    except Exception as error:  # imported only now: a cache hit never loads the error classes
        from ..errors import EXIT_FAILURE, MfaProcessError

        if isinstance(error, MfaProcessError):
            return _fail(str(error), error.exit_code, verbose, sys.stderr)
        # a bug, not bad input: say so, details only with --verbose
        return _fail(
            f"unexpected {type(error).__name__}; run with --verbose for details and report it",
            EXIT_FAILURE,
            verbose,
            sys.stderr,
        )


EXIT_USAGE_STATUS = 2  # errors.EXIT_USAGE, without importing the error classes on the hit path


def unknown_command(word: str) -> Exception:
    """The error for a first word that is no command, naming the likeliest one meant."""
    from difflib import get_close_matches

    from ..errors import UnknownCommandError
    from ..redact import printable

    close = get_close_matches(word, COMMANDS, n=1, cutoff=0.7)
    shown = printable(word)[:60]
    if close:
        return UnknownCommandError(f"unknown command '{shown}' (did you mean '{close[0]}'?); see mfa-process help")
    return UnknownCommandError(
        f"unknown command '{shown}'; the commands are {', '.join(COMMANDS)}, and the plugin form is "
        "mfa-process --profile NAME; see mfa-process help"
    )


def _command(name: str) -> Command:
    """The companion command ``name``, its module imported only now (the hit never pays for it)."""
    from importlib import import_module

    return import_module(COMMAND_MODULES[name], __package__).run  # type: ignore[no-any-return]


def _fail(message: str, exit_code: int, verbose: bool, stderr: TextIO) -> int:
    """The one line (after the traceback, with --verbose), every secret-looking value redacted:
    botocore's parser errors carry whole response bodies; and every control character escaped:
    messages quote what STS, a proxy or a file said, which must neither add lines nor reach the
    terminal as escape sequences (redacted first: escaping a tab would hide `key<TAB>= secret`)."""
    from ..redact import printable, redact

    details = ""
    if verbose:
        import traceback

        details = printable(redact(traceback.format_exc()), keep="\n")
    try:
        stderr.write(f"{details}mfa-process: {printable(redact(message))}\n")
        stderr.flush()
    except OSError:  # stderr is gone too: the exit status is all that is left to say it
        pass
    return exit_code


def _detach_stdout() -> None:
    """Point stdout at /dev/null: Python flushes it again at exit, and would report the broken
    pipe a second time ("Exception ignored in ... BrokenPipeError")."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, AttributeError, ValueError):  # no stdout at all: nothing to flush either
        pass
