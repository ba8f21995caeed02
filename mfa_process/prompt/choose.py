"""One rule picks the code source: `mfa_prompt` in the base profile (or --prompt), else `auto`.

auto: the profile's `mfa_process` command if it has one; else the terminal, when /dev/tty
(CONIN$) opens; else a dialog that exists here (zenity or kdialog with a display, osascript
on macOS, an input box on Windows); else a clear error. Never a GUI just because stdout is not
a terminal: under credential_process it never is.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from typing import TYPE_CHECKING, Callable, Mapping, Optional

from ..errors import ConfigError, NoPromptError
from ..watchdog import Watchdog
from .terminal import Console, terminal_available, terminal_prompt

if TYPE_CHECKING:
    from . import CodeSource


def choose_prompt(
    prompt: str,
    profile: str,
    mfa_process_command: Optional[str],
    environ: Mapping[str, str],
    has_terminal: Callable[[], bool] = terminal_available,
    which: Callable[[str], Optional[str]] = shutil.which,
    platform: str = sys.platform,
) -> str:
    """The source `auto` stands for here, or ``prompt`` itself when it names one."""
    if prompt != "auto":
        return prompt
    if mfa_process_command:
        return "command"
    if has_terminal():
        return "terminal"
    if environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"):
        for program in ("zenity", "kdialog"):
            if which(program):
                return program
    if platform == "darwin" and which("osascript"):
        return "osascript"
    if platform == "win32":
        return "windows-dialog"
    raise NoPromptError(
        f"no terminal and no dialog to ask for the MFA code; run `mfa-process login --profile {profile}` in a "
        f"terminal first, set `mfa_process = <command that prints a code>` in profile '{profile}', "
        "or pass --token-code"
    )


def code_source(
    prompt: str,
    profile: str,
    mfa_process_command: Optional[str],
    oath_account: Optional[str],
    new_watchdog: Callable[[], Watchdog],
    environ: Mapping[str, str],
) -> CodeSource:
    kind = choose_prompt(prompt, profile, mfa_process_command, environ)
    if kind == "terminal":
        hint = f"start the session from a terminal first (mfa-process login --profile {profile}), or pass --token-code"
        return terminal_prompt(hint, new_watchdog)
    if kind == "command":
        if not mfa_process_command:
            raise ConfigError(
                f"mfa_prompt = command needs `mfa_process = <command that prints a code>` in profile '{profile}'"
            )
        from .command import command_source

        return command_source(mfa_process_command, new_watchdog, lambda text: notify(text, environ), profile)
    if kind == "ykman":
        from .ykman import ykman_source

        return ykman_source(oath_account, new_watchdog, lambda text: notify(text, environ))
    if kind == "zenity":
        from .zenity import zenity_source

        return zenity_source(new_watchdog)
    if kind == "kdialog":
        from .kdialog import kdialog_source

        return kdialog_source(new_watchdog)
    if kind == "osascript":
        from .osascript import osascript_source

        return osascript_source(new_watchdog)
    from .windows_dialog import windows_dialog_source

    return windows_dialog_source(new_watchdog)


def notify(text: str, environ: Mapping[str, str]) -> None:
    """Tell the person something (touch the key) where they can see it: the terminal, else a
    desktop notification; nowhere if neither exists."""
    try:
        with Console() as console:
            console.write(text + "\n")
            return
    except OSError:
        pass
    if environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"):
        for argv in (["zenity", "--notification", f"--text={text}"], ["kdialog", "--passivepopup", text, "10"]):
            if shutil.which(argv[0]):
                subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                return
