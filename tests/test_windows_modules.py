"""The Windows-only modules' logic on Linux, with fakes for kernel32, taskkill and msvcrt; and the
quoting of the dialog scripts (PowerShell, AppleScript) that no shell is there to check."""

from __future__ import annotations

import ctypes
import importlib
import io
import os
import subprocess
import sys
import types
from typing import List

import pytest

from mfa_process.errors import CallerGoneError, PromptTimeoutError
from mfa_process.prompt.osascript import applescript_string, osascript_argv
from mfa_process.prompt.terminal import terminal_prompt
from mfa_process.prompt.windows_dialog import windows_dialog_argv
from mfa_process.system import windows
from mfa_process.system.powershell import powershell_quote as powershell_string
from mfa_process.watchdog import Watchdog

SYNCHRONIZE = 0x00100000
WAIT_OBJECT_0 = 0x0
WAIT_TIMEOUT = 0x102
WAIT_FAILED = 0xFFFFFFFF
SERIAL = "arn:aws:iam::123456789012:mfa/alice"
PROMPT = f"Enter MFA code for {SERIAL}: "
HINT = "run `mfa-process login --profile base` in a terminal first"


# --- system.windows.CallerWatch, on a scripted kernel32 ------------------------------------------


class FakeKernel32:
    """OpenProcess gives ``handle``; WaitForSingleObject answers from ``waits`` (the last repeats)."""

    def __init__(self, handle: int = 0x1A4, waits: tuple = (WAIT_TIMEOUT,)) -> None:
        self.handle = handle
        self.waits = list(waits)
        self.opened: List[tuple] = []
        self.waited: List[tuple] = []

    def OpenProcess(self, access: int, inherit: bool, pid: int) -> int:  # noqa: N802 - the Win32 name
        self.opened.append((access, inherit, pid))
        return self.handle

    def WaitForSingleObject(self, handle: int, milliseconds: int) -> int:  # noqa: N802
        self.waited.append((handle, milliseconds))
        return self.waits.pop(0) if len(self.waits) > 1 else self.waits[0]


@pytest.fixture
def kernel32(monkeypatch: pytest.MonkeyPatch):
    """Install a FakeKernel32 as ctypes.WinDLL("kernel32"); returns a function that sets its script."""
    loaded: List[tuple] = []
    holder = {}

    def win_dll(name: str, **kwargs):
        loaded.append((name, kwargs))
        return holder["kernel32"]

    monkeypatch.setattr(ctypes, "WinDLL", win_dll, raising=False)

    def script(**kwargs) -> FakeKernel32:
        holder["kernel32"] = FakeKernel32(**kwargs)
        holder["kernel32"].loaded = loaded
        return holder["kernel32"]

    return script


def test_caller_watch_opens_its_parent_for_waiting_only(kernel32) -> None:
    fake = kernel32()

    windows.CallerWatch()

    assert fake.loaded == [("kernel32", {"use_last_error": True})]
    assert fake.opened == [(SYNCHRONIZE, False, os.getppid())]


def test_caller_watch_alive_while_the_parent_runs(kernel32) -> None:
    fake = kernel32(handle=0x1A4, waits=(WAIT_TIMEOUT,))
    watch = windows.CallerWatch()

    assert watch.alive() and watch.alive()
    assert fake.waited == [(0x1A4, 0), (0x1A4, 0)]  # a zero timeout: a check, never a wait


def test_caller_watch_gone_once_the_parent_exited(kernel32) -> None:
    kernel32(waits=(WAIT_TIMEOUT, WAIT_TIMEOUT, WAIT_OBJECT_0))
    watch = windows.CallerWatch()

    assert [watch.alive(), watch.alive(), watch.alive()] == [True, True, False]


@pytest.mark.parametrize("handle", [0, None])
def test_a_parent_that_cannot_be_opened_is_assumed_alive(kernel32, handle) -> None:
    fake = kernel32(handle=handle)
    watch = windows.CallerWatch()

    assert watch.alive()
    assert fake.waited == []


def test_a_failed_wait_does_not_end_the_prompt(kernel32) -> None:
    kernel32(waits=(WAIT_FAILED,))

    assert windows.CallerWatch().alive()


# --- system.windows: helper process groups and killing a tree ------------------------------------


class FakeProcess:
    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.kills = 0

    def kill(self) -> None:
        self.kills += 1


def test_kill_process_tree_runs_taskkill_on_the_whole_tree(monkeypatch: pytest.MonkeyPatch) -> None:
    runs = []
    monkeypatch.setattr(windows.subprocess, "run", lambda argv, **kwargs: runs.append((argv, kwargs)))
    process = FakeProcess(4242)

    windows.kill_process_tree(process)

    assert runs == [(["taskkill", "/T", "/F", "/PID", "4242"], {"capture_output": True})]
    assert process.kills == 1  # and the helper itself, whatever taskkill did


def test_helpers_start_in_a_new_process_group(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0x200, raising=False)

    assert windows.process_group_options() == {"creationflags": 0x200}


# --- system.windows_console: the wait for a key is bounded ----------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 500.0
        self.sleeps: List[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class ConsoleOut(io.StringIO):
    def __init__(self, shown: List[str]) -> None:
        super().__init__()
        self.shown = shown

    def write(self, text: str) -> int:
        self.shown.append(text)
        return len(text)


class Keyboard:
    """msvcrt: keys become available after ``idle_polls`` empty kbhit() answers."""

    def __init__(self) -> None:
        self.keys: List[str] = []
        self.idle_polls = 10**9
        self.polls = 0
        self.reads = 0

    def kbhit(self) -> bool:
        self.polls += 1
        if self.polls > 10_000:  # 500 s of fake time: the wait was never going to end
            raise AssertionError("the console kept polling past every deadline")
        return self.polls > self.idle_polls and bool(self.keys)

    def getwch(self) -> str:
        self.reads += 1
        return self.keys.pop(0)


class WindowsConsole:
    def __init__(self, module, keyboard: Keyboard, clock: FakeClock, shown: List[str]) -> None:
        self.module = module
        self.keyboard = keyboard
        self.clock = clock
        self.shown = shown

    def watchdog(self, timeout: float, caller_alive=lambda: True) -> Watchdog:
        return Watchdog(timeout, caller_alive, HINT, clock=self.clock.monotonic)


@pytest.fixture
def console(monkeypatch: pytest.MonkeyPatch):
    keyboard = Keyboard()
    msvcrt = types.ModuleType("msvcrt")
    msvcrt.kbhit = keyboard.kbhit
    msvcrt.getwch = keyboard.getwch
    monkeypatch.setitem(sys.modules, "msvcrt", msvcrt)
    name = "mfa_process.system.windows_console"
    previous = sys.modules.pop(name, None)
    module = importlib.import_module(name)
    clock = FakeClock()
    shown: List[str] = []
    monkeypatch.setattr(module, "time", types.SimpleNamespace(sleep=clock.sleep, monotonic=clock.monotonic))

    def console_files(file, mode="r", *args, **kwargs):
        assert file in ("CONIN$", "CONOUT$"), file
        return io.StringIO() if file == "CONIN$" else ConsoleOut(shown)

    monkeypatch.setattr(module, "open", console_files, raising=False)
    yield WindowsConsole(module, keyboard, clock, shown)
    sys.modules.pop(name, None)
    package = sys.modules["mfa_process.system"]
    if previous is not None:
        sys.modules[name] = previous
        package.windows_console = previous
    elif hasattr(package, "windows_console"):
        delattr(package, "windows_console")


def test_no_key_before_the_deadline_ends_the_read(console: WindowsConsole) -> None:
    started = console.clock.now

    with console.module.Console() as terminal:
        with pytest.raises(PromptTimeoutError) as raised:
            terminal.read_secret_line(console.watchdog(1.0))

    assert console.clock.now - started == pytest.approx(1.0, abs=0.06)
    assert max(console.clock.sleeps) <= 0.2  # keeps polling: a gone caller is noticed soon
    assert console.keyboard.reads == 0
    assert "no answer within 1 s" in str(raised.value)
    assert console.shown == []  # no newline: the prompt is left for the caller to erase


def test_a_gone_caller_ends_the_read(console: WindowsConsole) -> None:
    gone_after = console.clock.now + 0.5

    with console.module.Console() as terminal:
        with pytest.raises(CallerGoneError):
            terminal.read_secret_line(console.watchdog(60, lambda: console.clock.now < gone_after))

    assert console.clock.now - gone_after < 0.2


def test_keys_typed_before_the_deadline_are_the_answer(console: WindowsConsole) -> None:
    console.keyboard.keys.extend("123456\r")
    console.keyboard.idle_polls = 5

    with console.module.Console() as terminal:
        assert terminal.read_secret_line(console.watchdog(1.0)) == "123456"

    assert console.shown == ["\n"]


def test_a_timed_out_prompt_is_erased_from_the_console(console: WindowsConsole) -> None:
    ask = terminal_prompt(HINT, lambda: console.watchdog(1.0), open_console=console.module.Console)

    with pytest.raises(PromptTimeoutError):
        ask(SERIAL, None)

    assert console.shown == [PROMPT, "\r\x1b[2K"]


# --- the dialog scripts' quoting -----------------------------------------------------------------


def _powershell_verbatim_value(literal: str) -> str:
    """What PowerShell reads from a '...' string: '' is one quote; a lone ' would end it."""
    assert literal.startswith("'") and literal.endswith("'") and len(literal) >= 2
    inner = literal[1:-1]
    assert "'" not in inner.replace("''", ""), f"a quote escapes the string: {literal}"
    return inner.replace("''", "'")


def _applescript_value(literal: str) -> str:
    """What AppleScript reads from a "..." string: backslash escapes the next character."""
    assert literal.startswith('"') and literal.endswith('"')
    value, chars = [], iter(literal[1:-1])
    for char in chars:
        assert char != '"', f"a quote escapes the string: {literal}"
        value.append(next(chars) if char == "\\" else char)
    return "".join(value)


TRICKY = [
    "it's",
    "''",
    "a'); Remove-Item C:\\ -Recurse; ('",
    'say "hi"',
    "back\\slash\\",
    'end \\" quote',
    "two\n\nlines",
]


def test_windows_dialog_argv_doubles_single_quotes() -> None:
    argv = windows_dialog_argv("Bob's code:")

    assert argv[:4] == ["powershell", "-NoProfile", "-NonInteractive", "-Command"]
    assert argv[4] == (
        "Add-Type -AssemblyName Microsoft.VisualBasic; "
        "[Microsoft.VisualBasic.Interaction]::InputBox('Bob''s code:', 'mfa-process')"
    )


@pytest.mark.parametrize("text", TRICKY)
def test_powershell_string_reads_back_as_the_text(text: str) -> None:
    assert _powershell_verbatim_value(powershell_string(text)) == text


def test_osascript_argv_escapes_quotes_and_backslashes() -> None:
    argv = osascript_argv('Type "the code" \\ now:')

    assert argv == [
        "osascript",
        "-e",
        'display dialog "Type \\"the code\\" \\\\ now:" default answer "" with hidden answer with title "mfa-process"',
        "-e",
        "text returned of result",
    ]


@pytest.mark.parametrize("text", TRICKY)
def test_applescript_string_reads_back_as_the_text(text: str) -> None:
    assert _applescript_value(applescript_string(text)) == text


# ---- which process is the caller, past mfa-process.exe's launcher ----------------------------
from mfa_process.system.windows import caller_pid  # noqa: E402

CALLER, LAUNCHER, REDIRECTOR, SHELL = 100, 200, 300, 50


@pytest.mark.parametrize(
    "table, parent, expected",
    [
        pytest.param({}, LAUNCHER, LAUNCHER, id="no-table-the-parent"),
        pytest.param({LAUNCHER: (CALLER, "mfa-process.exe")}, LAUNCHER, CALLER, id="console-script-launcher"),
        pytest.param(
            {REDIRECTOR: (LAUNCHER, "python.exe"), LAUNCHER: (CALLER, "MFA-PROCESS.EXE")},
            REDIRECTOR,
            CALLER,
            id="venv-redirector-then-launcher",
        ),
        pytest.param({CALLER: (SHELL, "python.exe"), SHELL: (1, "cmd.exe")}, CALLER, CALLER, id="python-m-no-launcher"),
        pytest.param(
            {1: (2, "a.exe"), 2: (3, "b.exe"), 3: (4, "c.exe"), 4: (5, "mfa-process.exe")}, 1, 1, id="too-far-up"
        ),
    ],
)
def test_caller_pid_looks_past_the_launcher_only(table, parent, expected) -> None:
    assert caller_pid(parent, table) == expected
