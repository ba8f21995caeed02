"""The dialog a platform always has, for a caller without a terminal and without X11/Wayland tools."""

from __future__ import annotations

import sys
from typing import Callable, Optional

Which = Callable[[str], Optional[str]]


def native_dialog(which: Which, platform: str = sys.platform) -> Optional[str]:
    """The mfa_prompt name of this platform's own dialog: AppleScript's on macOS (when osascript
    is on PATH), PowerShell's input box on Windows; None elsewhere."""
    if platform == "darwin":
        return "osascript" if which("osascript") else None
    if platform == "win32":
        return "windows-dialog"
    return None
