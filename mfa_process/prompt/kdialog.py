"""A KDE dialog (kdialog) for desktops where the caller has no terminal."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, List

from ..watchdog import Watchdog
from ._dialog import TITLE, dialog_source

if TYPE_CHECKING:
    from . import CodeSource


def kdialog_argv(message: str) -> List[str]:
    return ["kdialog", "--title", TITLE, "--password", message]


def kdialog_source(new_watchdog: Callable[[], Watchdog]) -> CodeSource:
    return dialog_source("kdialog", kdialog_argv, new_watchdog)
