"""system.windows_console on Linux, with a fake msvcrt: the wait for a key is bounded by the
watchdog, and a timed-out prompt is erased."""

from __future__ import annotations

import importlib
import io
import sys
import types
from typing import List

import pytest

from mfa_process.errors import CallerGoneError, PromptTimeoutError
from mfa_process.prompt.terminal import terminal_prompt
from mfa_process.watchdog import Watchdog

SERIAL = "arn:aws:iam::123456789012:mfa/alice"
PROMPT = f"Enter MFA code for {SERIAL}: "
HINT = "run `mfa-process login --profile base` in a terminal first"


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
