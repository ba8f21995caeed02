"""Link 7: where the MFA code can come from here, and which source a base profile's run would
ask first: `mfa_prompt` (or --prompt, MFA_PROCESS_PROMPT) spelled out as prompt/choose.py spells
`auto`, each source judged available as a run would find it (a terminal that opens, a program on
PATH, a display for zenity and kdialog). SDKs started outside a terminal (IDEs, CI) have none:
the line says what they would use."""

from __future__ import annotations

import shutil
import sys
from typing import Callable, List, Mapping, Optional, Tuple

from ..errors import login_hint
from ..prompt.choose import source_names
from ..prompt.command import program_word
from ..prompt.terminal import terminal_available
from ..system.native_dialog import has_display, native_dialog
from .profiles import BaseProfile
from .report import Finding, fail, ok, warning

_INSTALL = {
    "ykman": "install ykman (pip install yubikey-manager)",
    "zenity": "install zenity, and run with a display",
    "kdialog": "install kdialog, and run with a display",
    "osascript": "osascript is macOS's own",
    "windows-dialog": "the input box is Windows's own",
    "terminal": "run it in a terminal",
}


class Here:
    """What this machine offers: a terminal, programs on PATH, a display."""

    def __init__(
        self,
        environ: Mapping[str, str],
        has_terminal: Callable[[], bool] = terminal_available,
        platform: str = sys.platform,
    ) -> None:
        self.environ = environ
        self.terminal = has_terminal()
        self.platform = platform

    def which(self, program: str) -> Optional[str]:
        return shutil.which(program, path=self.environ.get("PATH"))

    def native_dialog(self, which: Callable[[str], Optional[str]]) -> Optional[str]:
        return native_dialog(which, self.platform)

    def available(self, source: str, command: Optional[str]) -> Tuple[bool, str]:
        """Whether ``source`` can ask here, and in a word or two why (not): `terminal: no`."""
        if source == "terminal":
            return self.terminal, "yes" if self.terminal else "no"
        if source == "command":
            if not command:
                return False, "no mfa_process in the profile"
            program = program_word(command) or "?"
            return (True, f"yes ({program})") if self.which(program) else (False, f"{program} not on PATH")
        if source in ("zenity", "kdialog") and not has_display(self.environ):
            return False, "no display"
        if source == "windows-dialog":
            return (True, "yes") if self.platform == "win32" else (False, "Windows only")
        if source == "osascript" and self.platform != "darwin":
            return False, "macOS only"
        return (True, "yes") if self.which(source) else (False, "not on PATH")

    def shown_sources(self) -> List[str]:
        """The sources worth naming on this platform (command is a profile's: said per profile)."""
        own = {"darwin": ["osascript"], "win32": ["windows-dialog"]}.get(self.platform, ["zenity", "kdialog"])
        return ["terminal", "ykman", *own]


def check_here(here: Here) -> Finding:
    described = []
    for source in here.shown_sources():
        _, why = here.available(source, None)
        described.append(f"{source}: {why}")
    return ok("code sources here: " + ", ".join(described))


def check_code_source(base: BaseProfile, here: Here) -> Optional[Finding]:
    """The source a run of ``base`` asks first here (None: its settings did not resolve)."""
    settings = base.settings
    if settings is None:
        return None
    subject = f"profile {base.name}: code source"
    command = settings.mfa_process_command
    names = source_names(settings.prompt, command, here.environ, here.which, here.native_dialog)
    if "command" in names and not command:
        return fail(
            f"{subject}: mfa_prompt names command, but the profile has no mfa_process",
            f"set `mfa_process = <command that prints a code>` in profile '{base.name}'",
        )
    usable = [name for name in names if here.available(name, command)[0]]
    asked = f"mfa_prompt {settings.prompt}" + (f": {', '.join(names)}" if names != [settings.prompt] else "")
    if not usable:
        reasons = ", ".join(f"{name}: {here.available(name, command)[1]}" for name in names) or "nothing to try"
        if "auto" in settings.prompt.split(","):
            return warning(
                f"{subject}: none here ({asked}; {reasons})",
                f"{login_hint(base.name)}, or pass --token-code",
            )
        fixes = [_INSTALL[name] for name in names if name in _INSTALL]
        return fail(
            f"{subject}: none here ({asked}; {reasons})",
            ", or ".join([*fixes, "set mfa_prompt to a source this machine has"]),
        )
    first = usable[0]
    without_terminal = next((name for name in usable if name != "terminal"), None)
    note = ""
    if first == "terminal":
        note = (
            f"; without a terminal (an IDE, CI): {without_terminal}"
            if without_terminal
            else f"; without a terminal (an IDE, CI): none, so {login_hint(base.name)}"
        )
    return ok(f"{subject}: {first} ({asked}){note}")
