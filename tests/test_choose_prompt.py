"""choose_prompt, the one rule that picks the code source, with the terminal, PATH and platform
injected; and notify, which tells the person to touch the key where they can see it."""

from __future__ import annotations

from typing import Dict, List, Optional

import pytest

from mfa_process.errors import ConfigError, NoPromptError, NoTerminalError
from mfa_process.prompt import PROMPTS, notify
from mfa_process.prompt.choose import choose_prompt, code_source
from mfa_process.system.native_dialog import native_dialog
from mfa_process.watchdog import no_watchdog

COMMAND = "ykman oath accounts code --single 'AWS:alice'"
DISPLAY = {"DISPLAY": ":0"}
WAYLAND = {"WAYLAND_DISPLAY": "wayland-0"}


class Machine:
    """What choose_prompt may look at: a terminal or not, the programs on PATH, the platform."""

    def __init__(self, terminal: bool = False, programs: tuple = (), platform: str = "linux") -> None:
        self.terminal = terminal
        self.programs = set(programs)
        self.platform = platform
        self.looked_up: List[str] = []
        self.terminal_checks = 0

    def has_terminal(self) -> bool:
        self.terminal_checks += 1
        return self.terminal

    def which(self, program: str) -> Optional[str]:
        self.looked_up.append(program)
        return f"/usr/bin/{program}" if program in self.programs else None

    def choose(
        self,
        prompt: str = "auto",
        environ: Optional[Dict[str, str]] = None,
        command: Optional[str] = None,
        profile: str = "base",
    ) -> str:
        return choose_prompt(
            prompt,
            profile,
            command,
            environ or {},
            has_terminal=self.has_terminal,
            which=self.which,
            platform_dialog=lambda which: native_dialog(which, self.platform),
        )


EVERYTHING = dict(terminal=True, programs=("zenity", "kdialog", "osascript"))


@pytest.mark.parametrize("name", [name for name in PROMPTS if name != "auto"])
def test_an_explicit_source_is_returned_as_is_without_looking_around(name: str) -> None:
    machine = Machine()  # no terminal, nothing installed, no display: still the named source

    assert machine.choose(name) == name
    assert machine.terminal_checks == 0 and machine.looked_up == []


@pytest.mark.parametrize("name", [name for name in PROMPTS if name not in ("auto", "command")])
def test_an_explicit_source_wins_over_a_configured_command(name: str) -> None:
    assert Machine(**EVERYTHING).choose(name, DISPLAY, command=COMMAND) == name


@pytest.mark.parametrize("platform", ["linux", "darwin", "win32"])
def test_auto_takes_the_configured_command_first(platform: str) -> None:
    machine = Machine(platform=platform, **EVERYTHING)

    assert machine.choose(environ=DISPLAY, command=COMMAND) == "command"
    assert machine.terminal_checks == 0 and machine.looked_up == []


def test_an_empty_command_is_no_command() -> None:
    assert Machine(terminal=True).choose(command="") == "terminal"


@pytest.mark.parametrize("platform", ["linux", "darwin", "win32"])
def test_auto_takes_the_terminal_when_there_is_one_even_with_a_display(platform: str) -> None:
    machine = Machine(platform=platform, **EVERYTHING)

    assert machine.choose(environ={**DISPLAY, **WAYLAND}) == "terminal"
    assert machine.looked_up == []  # no dialog is even looked for


@pytest.mark.parametrize("environ", [DISPLAY, WAYLAND, {**DISPLAY, **WAYLAND}], ids=["x11", "wayland", "both"])
def test_without_a_terminal_a_display_enables_zenity(environ: Dict[str, str]) -> None:
    assert Machine(programs=("zenity", "kdialog")).choose(environ=environ) == "zenity"


@pytest.mark.parametrize("environ", [DISPLAY, WAYLAND], ids=["x11", "wayland"])
def test_kdialog_when_zenity_is_not_installed(environ: Dict[str, str]) -> None:
    assert Machine(programs=("kdialog",)).choose(environ=environ) == "kdialog"


@pytest.mark.parametrize(
    "environ", [{}, {"DISPLAY": ""}, {"WAYLAND_DISPLAY": ""}], ids=["unset", "empty-x11", "empty-wayland"]
)
def test_no_display_means_no_zenity_or_kdialog(environ: Dict[str, str]) -> None:
    machine = Machine(programs=("zenity", "kdialog"))

    with pytest.raises(NoPromptError):
        machine.choose(environ=environ)
    assert "zenity" not in machine.looked_up and "kdialog" not in machine.looked_up


def test_a_display_without_zenity_or_kdialog_is_no_dialog() -> None:
    with pytest.raises(NoPromptError):
        Machine(programs=("osascript",)).choose(environ=DISPLAY)


def test_osascript_on_macos() -> None:
    assert Machine(platform="darwin", programs=("osascript",)).choose() == "osascript"


def test_osascript_only_on_macos() -> None:
    with pytest.raises(NoPromptError):
        Machine(platform="linux", programs=("osascript",)).choose()


def test_macos_without_osascript_has_no_dialog() -> None:
    with pytest.raises(NoPromptError):
        Machine(platform="darwin").choose()


def test_windows_without_a_console_gets_the_input_box() -> None:
    assert Machine(platform="win32").choose() == "windows-dialog"


def test_no_way_to_ask_says_what_to_do_for_that_profile() -> None:
    with pytest.raises(NoPromptError) as raised:
        Machine(platform="linux", programs=("zenity",)).choose(profile="work")

    message = str(raised.value)
    assert "mfa-process login --profile work" in message
    assert "mfa_process" in message.replace("mfa-process", "")
    assert "profile 'work'" in message
    assert "--token-code" in message
    assert isinstance(raised.value, NoTerminalError)  # the same exit status as no terminal
    assert raised.value.exit_code == 1


# --- code_source: turning the choice into a source -------------------------------------------


def test_mfa_prompt_command_without_a_command_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as raised:
        code_source("command", "work", None, None, no_watchdog, {})

    assert "mfa_process" in str(raised.value) and "profile 'work'" in str(raised.value)
    assert raised.value.exit_code == 2


# --- notify: the touch notice --------------------------------------------------------------------


class Recorder:
    def __init__(self) -> None:
        self.started: List[List[str]] = []

    def popen(self, argv, **kwargs):
        self.started.append(argv)


def _no_terminal():
    raise OSError(6, "No such device or address")


class _Terminal:
    written: List[str] = []

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        pass

    def write(self, text: str) -> None:
        _Terminal.written.append(text)


@pytest.fixture
def desktop(monkeypatch: pytest.MonkeyPatch):
    recorder = Recorder()
    installed = set()
    monkeypatch.setattr(notify, "Console", _no_terminal)
    monkeypatch.setattr(notify.subprocess, "Popen", recorder.popen)
    monkeypatch.setattr(notify.shutil, "which", lambda program: f"/usr/bin/{program}" if program in installed else None)
    return recorder, installed


def test_notice_goes_to_the_terminal_when_there_is_one(monkeypatch: pytest.MonkeyPatch, desktop) -> None:
    recorder, installed = desktop
    installed.update({"zenity", "kdialog"})
    _Terminal.written = []
    monkeypatch.setattr(notify, "Console", _Terminal)

    notify.notify("Touch your YubiKey", DISPLAY)

    assert _Terminal.written == ["Touch your YubiKey\n"]
    assert recorder.started == []


def test_notice_without_a_terminal_is_a_zenity_notification(desktop) -> None:
    recorder, installed = desktop
    installed.update({"zenity", "kdialog"})

    notify.notify("Touch your YubiKey", WAYLAND)

    assert recorder.started == [["zenity", "--notification", "--text=Touch your YubiKey"]]


def test_notice_falls_back_to_kdialog(desktop) -> None:
    recorder, installed = desktop
    installed.add("kdialog")

    notify.notify("Touch your YubiKey", DISPLAY)

    assert recorder.started == [["kdialog", "--passivepopup", "Touch your YubiKey", "10"]]


def test_notice_without_terminal_or_display_goes_nowhere_quietly(desktop) -> None:
    recorder, installed = desktop
    installed.update({"zenity", "kdialog"})

    notify.notify("Touch your YubiKey", {})

    assert recorder.started == []
