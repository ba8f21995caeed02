"""A macOS dialog through AppleScript (osascript), with the typed code hidden."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, List

from ..watchdog import Watchdog
from ._dialog import TITLE, dialog_source

if TYPE_CHECKING:
    from . import CodeSource


def applescript_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def osascript_argv(message: str) -> List[str]:
    return [
        "osascript",
        "-e",
        f'display dialog {applescript_string(message)} default answer "" with hidden answer '
        f"with title {applescript_string(TITLE)}",
        "-e",
        "text returned of result",
    ]


def osascript_source(new_watchdog: Callable[[], Watchdog]) -> CodeSource:
    return dialog_source("osascript", osascript_argv, new_watchdog)
