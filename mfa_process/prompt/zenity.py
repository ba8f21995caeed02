"""A GNOME/GTK dialog (zenity) for desktops where the caller has no terminal."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, List

from ..watchdog import Watchdog
from ._dialog import TITLE, dialog_source

if TYPE_CHECKING:
    from . import CodeSource


def zenity_argv(message: str) -> List[str]:
    return ["zenity", "--entry", "--hide-text", f"--title={TITLE}", f"--text={message}"]


def zenity_source(new_watchdog: Callable[[], Watchdog]) -> CodeSource:
    return dialog_source("zenity", zenity_argv, new_watchdog)
