"""Ask for the code on the terminal the person is looking at, exactly as the AWS CLI does."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Callable, Optional, Protocol

from ..config.mfa_device import normalize_token_code
from ..errors import NoTerminalError, PromptAbortedError
from ..watchdog import Watchdog, no_watchdog

if TYPE_CHECKING:
    from . import CodeSource

if sys.platform == "win32":
    from ._windows_console import Console
else:
    from ._posix_console import Console


class _Console(Protocol):
    """What both consoles offer: the terminal a person is looking at."""

    def __enter__(self) -> "_Console": ...

    def __exit__(self, *exc_info: object) -> None: ...

    def write(self, text: str) -> None: ...

    def read_secret_line(self, watchdog: Optional[Watchdog] = None, prompt: str = "") -> Optional[str]: ...

    def erase_line(self) -> None: ...


MAX_MALFORMED_ANSWERS = 3


def terminal_available(open_console: Callable[[], _Console] = Console) -> bool:
    """True when this process has a terminal to ask on (SDKs keep theirs; IDEs and CI have none)."""
    try:
        open_console().__exit__(None, None, None)
    except OSError:
        return False
    return True


def terminal_prompt(
    no_terminal_hint: str,
    new_watchdog: Callable[[], Watchdog] = no_watchdog,
    open_console: Callable[[], _Console] = Console,
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
            for _ in range(MAX_MALFORMED_ANSWERS):
                try:
                    answer = console.read_secret_line(watchdog, prompt=f"Enter MFA code for {mfa_serial}: ")
                except PromptAbortedError:  # timed out, or our caller is gone
                    console.erase_line()
                    raise
                if answer is None:
                    raise PromptAbortedError("no MFA code entered (input closed); run the command again to retry")
                code = normalize_token_code(answer)
                if code is not None:
                    return code
                console.write("An MFA code is the 6 digits your device shows, for example 123456.\n")
        raise PromptAbortedError(f"no 6-digit MFA code after {MAX_MALFORMED_ANSWERS} answers; run the command again")

    return ask
