"""Ask for the code on the terminal the person is looking at, exactly as the AWS CLI does."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Optional

from ..errors import NoTerminalError, PromptAbortedError
from ..system.console import Console, ConsoleLike
from ..watchdog import Watchdog, no_watchdog
from .codes import WHAT_A_CODE_IS, ask_until_well_formed

if TYPE_CHECKING:
    from . import CodeSource


def terminal_available(open_console: Callable[[], ConsoleLike] = Console) -> bool:
    """True when this process has a terminal to ask on (SDKs keep theirs; IDEs and CI have none)."""
    try:
        open_console().__exit__(None, None, None)
    except OSError:
        return False
    return True


def terminal_prompt(
    no_terminal_hint: str,
    new_watchdog: Callable[[], Watchdog] = no_watchdog,
    open_console: Callable[[], ConsoleLike] = Console,
) -> CodeSource:
    """A code source on the controlling terminal; ``no_terminal_hint`` says what to do without one.

    Each question is bounded by a fresh watchdog; when it fires, the prompt is erased.
    """

    def ask(mfa_serial: str, notice: Optional[str]) -> str:
        try:
            console = open_console()
        except OSError as error:
            raise NoTerminalError(
                f"no terminal to ask for the MFA code ({error.strerror}); {no_terminal_hint}"
            ) from error
        watchdog = new_watchdog()
        with console:
            if notice:
                console.write(notice + "\n")

            def answer() -> str:
                try:
                    line = console.read_secret_line(watchdog, prompt=f"Enter MFA code for {mfa_serial}: ")
                except PromptAbortedError:  # timed out, or our caller is gone
                    console.erase_line()
                    raise
                if line is None:
                    raise PromptAbortedError("no MFA code entered (input closed); run the command again to retry")
                return line

            return ask_until_well_formed(answer, lambda: console.write(f"{WHAT_A_CODE_IS}, for example 123456.\n"))

    return ask
