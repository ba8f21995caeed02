"""What the GUI dialog sources share: run the dialog, read the answer, ask again if malformed."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Callable, List, Optional

from ..errors import (
    CodeCommandError,
    CodeSourceUnavailableError,
    PromptAbortedError,
    PromptTimeoutError,
    PromptUnavailableError,
)
from ..watchdog import Watchdog
from ._helper_process import HelperResult, run_helper
from .codes import WHAT_A_CODE_IS, ask_until_well_formed

if TYPE_CHECKING:
    from . import CodeSource

TITLE = "mfa-process"
CANCELLED_STATUS = 1  # zenity, kdialog and osascript all exit 1 on Cancel
# How a dialog says it has no screen to show on: GTK's zenity, Qt's kdialog, AppleScript outside
# a desktop session (over SSH).
_NO_DISPLAY = re.compile(r"cannot open display|could not connect to display|no user interaction allowed", re.IGNORECASE)


def dialog_source(
    program: str,
    build_argv: Callable[[str], List[str]],
    new_watchdog: Callable[[], Watchdog],
) -> CodeSource:
    """A code source that shows ``build_argv(message)`` and reads the code from its stdout."""

    def ask(mfa_serial: str, notice: Optional[str]) -> str:
        watchdog = new_watchdog()
        question = f"Enter MFA code for {mfa_serial}:"
        message = f"{notice}\n\n{question}" if notice else question

        def answer() -> str:
            try:
                result = run_helper(build_argv(message), watchdog, f"the {program} dialog")
            except FileNotFoundError as error:
                raise PromptUnavailableError(
                    f"{program} is not installed or not on PATH; choose another mfa_prompt"
                ) from error
            if result.timed_out:
                raise PromptTimeoutError(f"the {program} dialog got no answer within {watchdog.timeout:g} s")
            if _cancelled(result):
                raise PromptAbortedError("the MFA code dialog was cancelled; run the command again to retry")
            if result.returncode != 0 and _NO_DISPLAY.search(result.stderr):
                raise CodeSourceUnavailableError(
                    f"no display for the {program} dialog ({result.last_error_line}); "
                    "check DISPLAY or WAYLAND_DISPLAY, or choose another mfa_prompt"
                )
            if result.returncode != 0:
                raise CodeCommandError(
                    f"{program} failed with exit status {result.returncode} ({result.last_error_line})"
                )
            return result.stdout

        def explain() -> None:
            nonlocal message
            message = f"{WHAT_A_CODE_IS}.\n\n{question}"

        return ask_until_well_formed(answer, explain)

    return ask


def _cancelled(result: HelperResult) -> bool:
    """Cancel: exit 1 with nothing on stderr (zenity, kdialog) or AppleScript's -128, or an empty
    answer; exit 1 with an error (no display, say) is a failure and says so."""
    if result.returncode == 0:
        return not result.stdout.strip()
    return result.returncode == CANCELLED_STATUS and (not result.stderr.strip() or "(-128)" in result.stderr)
