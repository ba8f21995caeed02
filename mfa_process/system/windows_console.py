"""The console on Windows: CONOUT$ for the prompt and the console keyboard for the answer.

``msvcrt.getwch`` reads the console itself, whatever stdin is, and does not echo.
"""

from __future__ import annotations

import msvcrt  # type: ignore[import-not-found]
import time
from typing import List, Optional

from ..watchdog import Watchdog, no_watchdog

_MAX_LINE_CHARS = 1024
_END_OF_LINE = ("\r", "\n")
_END_OF_INPUT = "\x1a"  # Ctrl-Z
_INTERRUPT = "\x03"  # Ctrl-C
_BACKSPACE = "\x08"
_KEY_POLL_SECONDS = 0.05


class Console:
    """The attached console (raises OSError when the process has none)."""

    def __init__(self) -> None:
        open("CONIN$", "r").close()  # fails when there is no console to read from
        self._out = open("CONOUT$", "w", encoding="utf-8")

    def __enter__(self) -> "Console":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._out.close()

    def write(self, text: str) -> None:
        self._out.write(text)
        self._out.flush()

    def read_secret_line(self, watchdog: Optional[Watchdog] = None, prompt: str = "") -> Optional[str]:
        """Show ``prompt``, then read one line typed without echo; None at Ctrl-Z.
        The watchdog ends the wait (by raising)."""
        return self._read_line(watchdog, prompt, echo=False)

    def read_line(self, watchdog: Optional[Watchdog] = None, prompt: str = "") -> Optional[str]:
        """Show ``prompt``, then read one line typed with echo; None at Ctrl-Z."""
        return self._read_line(watchdog, prompt, echo=True)

    def _read_line(self, watchdog: Optional[Watchdog], prompt: str, echo: bool) -> Optional[str]:
        watchdog = watchdog or no_watchdog()
        if prompt:
            self.write(prompt)
        typed: List[str] = []
        while len(typed) <= _MAX_LINE_CHARS:
            watchdog.check()
            if not msvcrt.kbhit():  # type: ignore[attr-defined]
                time.sleep(_KEY_POLL_SECONDS)
                continue
            char = msvcrt.getwch()  # type: ignore[attr-defined]
            if char in _END_OF_LINE:
                break
            if char == _INTERRUPT:
                raise KeyboardInterrupt
            if char == _END_OF_INPUT and not typed:
                return None
            if char == _BACKSPACE:
                if typed and echo:
                    self.write("\b \b")
                typed = typed[:-1]
            else:
                typed.append(char)
                if echo:
                    self.write(char)
        self.write("\n")
        return "".join(typed)

    def erase_line(self) -> None:
        """Take the unanswered prompt off the screen (Windows consoles understand VT sequences)."""
        self.write("\r\x1b[2K")
