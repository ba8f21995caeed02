"""One rule picks the code sources: `mfa_prompt` in the base profile (or --prompt), else `auto`.

`mfa_prompt` names one source, or several comma-separated that are tried in order (a chain,
source_chain.py). auto is one such chain: the profile's `mfa_process` command if it has one;
the terminal (/dev/tty, CONIN$), when it opens; a dialog that exists here (zenity or kdialog
with a display, else the platform's own: osascript on macOS, an input box on Windows); else a
clear error. Never a GUI just because stdout is not a terminal: under credential_process it
never is, and the terminal comes before every dialog.
"""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING, Callable, Iterator, List, Mapping, Optional

from ..errors import NoPromptError, login_hint
from ..system.native_dialog import Which, has_display, native_dialog
from ..watchdog import Watchdog
from .registry import SOURCES, SourceRequest
from .source_chain import SourceChain
from .terminal import terminal_available

if TYPE_CHECKING:
    from . import CodeSource
    from .registry import Factory

AUTO = "auto"


def auto_sources(
    mfa_process_command: Optional[str],
    environ: Mapping[str, str],
    which: Which = shutil.which,
    platform_dialog: Callable[[Which], Optional[str]] = native_dialog,
) -> Iterator[str]:
    """The sources `auto` stands for here, in order; lazily, so that a caller that stops at the
    terminal never looks for a dialog."""
    if mfa_process_command:
        yield "command"
    yield "terminal"
    if has_display(environ):
        for program in ("zenity", "kdialog"):
            if which(program):
                yield program
    dialog = platform_dialog(which)
    if dialog is not None:
        yield dialog


def choose_prompt(
    prompt: str,
    profile: str,
    mfa_process_command: Optional[str],
    environ: Mapping[str, str],
    has_terminal: Callable[[], bool] = terminal_available,
    which: Which = shutil.which,
    platform_dialog: Callable[[Which], Optional[str]] = native_dialog,
) -> str:
    """The source `auto` asks first here (the terminal only when it opens), or ``prompt`` itself
    when it names sources."""
    if prompt != AUTO:
        return prompt
    for name in auto_sources(mfa_process_command, environ, which, platform_dialog):
        if name != "terminal" or has_terminal():
            return name
    raise NoPromptError(
        f"no terminal and no dialog to ask for the MFA code; {login_hint(profile)}, "
        f"{_set_a_command(profile)}, or pass --token-code"
    )


def source_names(
    prompt: str,
    mfa_process_command: Optional[str],
    environ: Mapping[str, str],
    which: Which = shutil.which,
    platform_dialog: Callable[[Which], Optional[str]] = native_dialog,
) -> List[str]:
    """The sources ``prompt`` (names from PROMPTS, comma-separated) stands for, in order, with
    `auto` spelled out; each once, where it first comes."""
    names: List[str] = []
    for written in _written(prompt):
        expanded = auto_sources(mfa_process_command, environ, which, platform_dialog) if written == AUTO else [written]
        names.extend(name for name in expanded if name not in names)
    return names


def code_source(
    prompt: str,
    profile: str,
    mfa_process_command: Optional[str],
    oath_account: Optional[str],
    new_watchdog: Callable[[], Watchdog],
    environ: Mapping[str, str],
    which: Which = shutil.which,
    platform_dialog: Callable[[Which], Optional[str]] = native_dialog,
    sources: Optional[Mapping[str, Factory]] = None,
) -> CodeSource:
    """The code source ``prompt`` stands for, built from the registry (or ``sources``): the one
    it names, as is; for `auto` or several names, a SourceChain of them. Every source is built
    now, so a misconfigured one (`command` without `mfa_process`) is an error even when an
    earlier one would have answered; each makes its own watchdog per question."""
    factories = SOURCES if sources is None else sources
    request = SourceRequest(profile, mfa_process_command, oath_account, new_watchdog, environ)
    written = _written(prompt)
    if len(written) == 1 and written[0] != AUTO:
        return factories[written[0]](request)
    names = source_names(prompt, mfa_process_command, environ, which, platform_dialog)
    fix = [login_hint(profile)]
    if AUTO in written and not mfa_process_command:
        fix.append(_set_a_command(profile))
    return SourceChain([(name, factories[name](request)) for name in names], f"{', '.join(fix)}, or pass --token-code")


def _written(prompt: str) -> List[str]:
    return [name.strip() for name in prompt.split(",")]


def _set_a_command(profile: str) -> str:
    return f"set `mfa_process = <command that prints a code>` in profile '{profile}'"
