"""One rule picks the code source: `mfa_prompt` in the base profile (or --prompt), else `auto`.

auto: the profile's `mfa_process` command if it has one; else the terminal, when /dev/tty
(CONIN$) opens; else a dialog that exists here (zenity or kdialog with a display, else the
platform's own: osascript on macOS, an input box on Windows); else a clear error. Never a GUI
just because stdout is not a terminal: under credential_process it never is.
"""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING, Callable, Mapping, Optional

from ..errors import NoPromptError, login_hint
from ..system.native_dialog import Which, native_dialog
from ..watchdog import Watchdog
from .registry import SOURCES, SourceRequest
from .terminal import terminal_available

if TYPE_CHECKING:
    from . import CodeSource


def choose_prompt(
    prompt: str,
    profile: str,
    mfa_process_command: Optional[str],
    environ: Mapping[str, str],
    has_terminal: Callable[[], bool] = terminal_available,
    which: Which = shutil.which,
    platform_dialog: Callable[[Which], Optional[str]] = native_dialog,
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
    dialog = platform_dialog(which)
    if dialog is not None:
        return dialog
    raise NoPromptError(
        f"no terminal and no dialog to ask for the MFA code; {login_hint(profile)}, "
        f"set `mfa_process = <command that prints a code>` in profile '{profile}', "
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
    """The code source ``prompt`` (a name from PROMPTS) stands for, built from the registry."""
    name = choose_prompt(prompt, profile, mfa_process_command, environ)
    return SOURCES[name](SourceRequest(profile, mfa_process_command, oath_account, new_watchdog, environ))
