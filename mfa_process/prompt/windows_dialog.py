"""A Windows input box (through PowerShell) for callers without a console."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, List

from ..system.powershell import powershell_quote
from ..watchdog import Watchdog
from ._dialog import TITLE, dialog_source

if TYPE_CHECKING:
    from . import CodeSource


def windows_dialog_argv(message: str) -> List[str]:
    script = (
        "Add-Type -AssemblyName Microsoft.VisualBasic; "
        f"[Microsoft.VisualBasic.Interaction]::InputBox({powershell_quote(message)}, {powershell_quote(TITLE)})"
    )
    return ["powershell", "-NoProfile", "-NonInteractive", "-Command", script]


def windows_dialog_source(new_watchdog: Callable[[], Watchdog]) -> CodeSource:
    return dialog_source("powershell", windows_dialog_argv, new_watchdog)
