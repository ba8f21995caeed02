"""The dialog a platform always has, for a caller without a terminal and without X11/Wayland tools;
and whether those tools have a display to show on."""

from __future__ import annotations

import sys
from typing import Callable, Mapping, Optional

Which = Callable[[str], Optional[str]]


def native_dialog(which: Which, platform: str = sys.platform) -> Optional[str]:
    """The mfa_prompt name of this platform's own dialog: AppleScript's on macOS (when osascript
    is on PATH), PowerShell's input box on Windows; None elsewhere."""
    if platform == "darwin":
        return "osascript" if which("osascript") else None
    if platform == "win32":
        return "windows-dialog"
    return None


def has_display(environ: Mapping[str, str]) -> bool:
    """An X11 or Wayland display to show zenity's and kdialog's windows on."""
    return bool(environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"))
