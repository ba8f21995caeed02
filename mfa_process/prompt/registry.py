"""The one registry of code sources: each name mfa_prompt / --prompt accepts (alone, or several
comma-separated: a chain), and its factory.

Adding a source is one module and one entry here. The names are read on the cache-hit path
(settings checks mfa_prompt), so nothing is imported here: each factory imports its source's
module once that source is chosen.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing on the cache-hit path
if TYPE_CHECKING:
    from typing import Callable, Dict, Mapping, Optional

    from ..watchdog import Watchdog
    from . import CodeSource

    Factory = Callable[["SourceRequest"], CodeSource]


class SourceRequest:
    """What a factory may use: the profile's prompt settings, a fresh watchdog per question, and
    the environment (a display for dialogs and notices)."""

    __slots__ = ("profile", "mfa_process_command", "oath_account", "new_watchdog", "environ")

    def __init__(
        self,
        profile: str,
        mfa_process_command: Optional[str],
        oath_account: Optional[str],
        new_watchdog: Callable[[], Watchdog],
        environ: Mapping[str, str],
    ) -> None:
        self.profile = profile
        self.mfa_process_command = mfa_process_command
        self.oath_account = oath_account
        self.new_watchdog = new_watchdog
        self.environ = environ

    def notify(self, text: str) -> None:
        """Tell the person something while no prompt is shown (touch the key)."""
        from .notify import notify

        notify(text, self.environ)


def _terminal(request: SourceRequest) -> CodeSource:
    from ..errors import login_hint
    from .terminal import terminal_prompt

    return terminal_prompt(f"{login_hint(request.profile)}, or pass --token-code", request.new_watchdog)


def _command(request: SourceRequest) -> CodeSource:
    from ..errors import ConfigError
    from .command import command_source

    if not request.mfa_process_command:
        raise ConfigError(
            f"mfa_prompt = command needs `mfa_process = <command that prints a code>` in profile '{request.profile}'"
        )
    return command_source(request.mfa_process_command, request.new_watchdog, request.notify, request.profile)


def _ykman(request: SourceRequest) -> CodeSource:
    from .ykman import ykman_source

    return ykman_source(request.oath_account, request.new_watchdog, request.notify)


def _zenity(request: SourceRequest) -> CodeSource:
    from .zenity import zenity_source

    return zenity_source(request.new_watchdog)


def _kdialog(request: SourceRequest) -> CodeSource:
    from .kdialog import kdialog_source

    return kdialog_source(request.new_watchdog)


def _osascript(request: SourceRequest) -> CodeSource:
    from .osascript import osascript_source

    return osascript_source(request.new_watchdog)


def _windows_dialog(request: SourceRequest) -> CodeSource:
    from .windows_dialog import windows_dialog_source

    return windows_dialog_source(request.new_watchdog)


SOURCES: Dict[str, Factory] = {
    "terminal": _terminal,
    "command": _command,
    "ykman": _ykman,
    "zenity": _zenity,
    "kdialog": _kdialog,
    "osascript": _osascript,
    "windows-dialog": _windows_dialog,
}

# `auto` is no source: choose.code_source turns it (and several names, comma-separated) into a
# chain of SOURCES tried in order.
PROMPTS = ("auto", *SOURCES)
