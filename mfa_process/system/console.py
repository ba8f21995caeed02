"""The terminal a person is looking at, whatever the platform: /dev/tty on POSIX, the console
(CONOUT$ and the console keyboard) on Windows. Never stdin or stderr: SDKs capture those.

Not imported by ``system`` itself: termios and signal handling are for the miss path only.
"""

from __future__ import annotations

import sys
from typing import Optional, Protocol

from ..watchdog import Watchdog

if sys.platform == "win32":
    from .windows_console import Console
else:
    from .posix_console import Console


class ConsoleLike(Protocol):
    """What both consoles offer (and what tests fake)."""

    def __enter__(self) -> "ConsoleLike": ...

    def __exit__(self, *exc_info: object) -> None: ...

    def write(self, text: str) -> None: ...

    def read_secret_line(self, watchdog: Optional[Watchdog] = None, prompt: str = "") -> Optional[str]: ...

    def read_line(self, watchdog: Optional[Watchdog] = None, prompt: str = "") -> Optional[str]: ...

    def erase_line(self) -> None: ...


__all__ = ["Console", "ConsoleLike"]
