"""`mfa_process = <command>`: a command that prints the code (ykman, 1Password's op, pass otp).

The same key aws-vault reads, so one config serves both. The command runs through the shell,
bounded by mfa_prompt_timeout, and the first 6-digit number it prints is the code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from ..errors import CodeCommandError
from ..watchdog import Watchdog
from ._helper_process import code_reader_source, find_code, run_helper

if TYPE_CHECKING:
    from . import CodeSource


def command_source(
    command: str, new_watchdog: Callable[[], Watchdog], notify: Callable[[str], None] = lambda text: None
) -> CodeSource:
    """``notify`` tells the person when the command is slow: its own stderr (where ykman asks
    for a touch) is captured for error messages, so they would not see that."""
    return code_reader_source(lambda mfa_serial, watchdog: _run(command, watchdog, notify), new_watchdog, "a new code")


def _run(command: str, watchdog: Watchdog, notify: Callable[[str], None]) -> str:
    try:
        result = run_helper(
            command,
            watchdog,
            f"the mfa_process command ({command})",
            shell=True,
            on_slow=lambda: notify(f"Waiting for `{command}` to print the MFA code (touch your key if it asks)"),
            slow_after=1.0,
        )
    except OSError as error:
        raise CodeCommandError(f"cannot run the mfa_process command ({command}): {error.strerror}") from error
    if result.timed_out:
        raise CodeCommandError(
            f"the mfa_process command gave no code within {watchdog.timeout:g} s ({result.last_error_line}); "
            f"run it by hand to check: {command}"
        )
    if result.returncode != 0:
        raise CodeCommandError(
            f"the mfa_process command failed with exit status {result.returncode} ({result.last_error_line}); "
            f"run it by hand to check: {command}"
        )
    code = find_code(result.stdout)
    if code is None:
        raise CodeCommandError(
            f"the mfa_process command printed no 6-digit code ({result.last_error_line}); "
            f"run it by hand to check: {command}"
        )
    return code
