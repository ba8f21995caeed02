"""The terminal prompt: its logic with a fake console, the POSIX console on a real pty, the Windows one
on a fake msvcrt."""

from __future__ import annotations

import builtins
import errno
import importlib
import io
import os
import select
import signal
import sys
import termios
import threading
import time
import types

import pytest

from mfa_process.errors import NoTerminalError, PromptAbortedError
from mfa_process.prompt.codes import MAX_MALFORMED_ANSWERS
from mfa_process.prompt.terminal import terminal_prompt
from mfa_process.system.posix_console import Console as PosixConsole
from mfa_process.watchdog import no_watchdog

SERIAL = "arn:aws:iam::123456789012:mfa/alice"
PROMPT = f"Enter MFA code for {SERIAL}: "
HINT = "run `mfa-process login --profile base` in a terminal, or pass --token-code"
NOTICE = "AWS rejected that code (wrong, or already used). Wait for the next code, then enter it."


class FakeConsole:
    """Records what is written; answers read_secret_line from a script (None is end of input)."""

    def __init__(self, *answers) -> None:
        self.answers = list(answers)
        self.writes = []
        self.reads = 0
        self.opened = 0
        self.closed = 0

    def open(self) -> "FakeConsole":  # the open_console callable
        self.opened += 1
        return self

    def __enter__(self) -> "FakeConsole":
        return self

    def __exit__(self, *exc_info) -> None:
        self.closed += 1

    def write(self, text: str) -> None:
        self.writes.append(text)

    def read_secret_line(self, watchdog=None, prompt=""):
        if prompt:
            self.writes.append(prompt)
        self.reads += 1
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def erase_line(self) -> None:
        self.writes.append("<erase>")


def ask(console: FakeConsole, notice=None) -> str:
    return terminal_prompt(HINT, open_console=console.open)(SERIAL, notice)


# --- terminal_prompt with a fake console -------------------------------------------------------


def test_prompt_text_is_exactly_the_aws_clis():
    console = FakeConsole("123456")

    assert ask(console) == "123456"
    assert console.writes == [PROMPT]
    assert PROMPT == "Enter MFA code for arn:aws:iam::123456789012:mfa/alice: "
    assert (console.opened, console.closed, console.reads) == (1, 1, 1)


def test_notice_is_written_once_before_the_prompt():
    console = FakeConsole("12", "654321")

    assert ask(console, NOTICE) == "654321"
    assert console.writes[:2] == [NOTICE + "\n", PROMPT]
    assert console.writes.count(NOTICE + "\n") == 1
    assert console.writes.count(PROMPT) == 2


def test_surrounding_spaces_are_stripped():
    console = FakeConsole("  123456 \t")

    assert ask(console) == "123456"
    assert console.reads == 1


@pytest.mark.parametrize("malformed", ["12345", "1234567", "12 345", "abcdef", "", "١٢٣٤٥٦", "１２３４５６"])
def test_malformed_answer_is_explained_and_asked_again(malformed):
    console = FakeConsole(malformed, "654321")

    assert ask(console) == "654321"
    assert console.reads == 2
    assert console.writes[0] == PROMPT
    assert "6 digits" in console.writes[1]
    assert console.writes[2] == PROMPT


def test_three_malformed_answers_abort():
    assert MAX_MALFORMED_ANSWERS == 3
    console = FakeConsole("1", "12", "123", "123456")

    with pytest.raises(PromptAbortedError) as raised:
        ask(console)

    assert console.reads == 3  # the fourth (valid) answer is never read
    assert console.writes.count(PROMPT) == 3
    assert "3" in str(raised.value)
    assert console.closed == 1


def test_end_of_input_aborts_at_once():
    console = FakeConsole(None, "123456")

    with pytest.raises(PromptAbortedError) as raised:
        ask(console)

    assert console.reads == 1
    assert "input closed" in str(raised.value)
    assert console.closed == 1


def test_no_controlling_terminal_raises_no_terminal_error_with_the_hint():
    def no_tty():
        raise OSError(errno.ENXIO, os.strerror(errno.ENXIO))

    with pytest.raises(NoTerminalError) as raised:
        terminal_prompt(HINT, open_console=no_tty)(SERIAL, None)

    message = str(raised.value)
    assert HINT in message
    assert os.strerror(errno.ENXIO) in message
    assert isinstance(raised.value.__cause__, OSError)
    assert raised.value.exit_code == 1


class CtrlCConsole(FakeConsole):
    def read_secret_line(self, watchdog=None, prompt=""):
        raise KeyboardInterrupt


def test_ctrl_c_at_the_prompt_propagates_and_closes_the_console():
    console = CtrlCConsole()

    with pytest.raises(KeyboardInterrupt):
        ask(console)

    assert console.closed == 1


# --- the POSIX console on a real pseudo-terminal -------------------------------------------------


@pytest.fixture
def pty():
    """(master fd, slave fd, a Console reading the slave as its /dev/tty)."""
    master, slave = os.openpty()
    console = PosixConsole.__new__(PosixConsole)
    console._fd = slave
    yield master, slave, console
    for fd in (master, slave):
        try:
            os.close(fd)
        except OSError:
            pass


def echo_on(fd: int) -> bool:
    return bool(termios.tcgetattr(fd)[3] & termios.ECHO)


def drain(master: int, wait: float = 0.2) -> bytes:
    """What the program wrote to its terminal (the master side reads it)."""
    data = b""
    while select.select([master], [], [], wait)[0]:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
        wait = 0.05
    return data


def type_when_echo_is_off(master: int, slave: int, text: bytes, seen: dict) -> threading.Thread:
    """A person typing once the prompt has hidden the input (TCSAFLUSH would drop earlier keys)."""

    def person() -> None:
        deadline = time.monotonic() + 3
        while echo_on(slave) and time.monotonic() < deadline:
            time.sleep(0.005)
        seen["echo_while_reading"] = echo_on(slave)
        os.write(master, text)

    thread = threading.Thread(target=person, daemon=True)
    thread.start()
    return thread


def test_read_line_returns_one_line_without_its_newline(pty):
    master, slave, console = pty
    os.write(master, b"123456\n")

    assert console._read_line(no_watchdog()) == "123456"


def test_read_line_enter_key_sends_carriage_return(pty):
    master, slave, console = pty
    os.write(master, b"654321\r")  # the terminal turns Enter (CR) into NL

    assert console._read_line(no_watchdog()) == "654321"


def test_read_line_ctrl_d_is_end_of_input(pty):
    master, slave, console = pty
    os.write(master, b"\x04")

    assert console._read_line(no_watchdog()) is None


def test_read_secret_line_hides_the_input_and_restores_the_terminal(pty):
    master, slave, console = pty
    before = termios.tcgetattr(slave)
    assert before[3] & termios.ECHO
    seen = {}
    person = type_when_echo_is_off(master, slave, b"907531\r", seen)

    line = console.read_secret_line()
    person.join(3)

    assert line == "907531"
    assert seen["echo_while_reading"] is False
    assert termios.tcgetattr(slave) == before
    shown = drain(master)
    assert b"907531" not in shown  # never echoed
    assert shown.endswith(b"\n")  # the line is ended for the person


def test_prompt_over_a_real_pty(pty):
    master, slave, console = pty
    seen = {}
    person = type_when_echo_is_off(master, slave, b" 907531 \r", seen)

    code = terminal_prompt(HINT, open_console=lambda: console)(SERIAL, NOTICE)
    person.join(3)

    assert code == "907531"
    shown = drain(master).decode()
    assert shown == NOTICE + "\r\n" + PROMPT + "\r\n"  # the typed code is never shown


@pytest.fixture
def alarm():
    """``alarm(handler, seconds)``: SIGALRM to this (main) thread; cleared afterwards."""
    previous = signal.getsignal(signal.SIGALRM)

    def arm(handler, seconds: float = 0.2) -> None:
        signal.signal(signal.SIGALRM, handler)
        signal.setitimer(signal.ITIMER_REAL, seconds)

    yield arm
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, previous)


def test_interrupted_read_restores_echo(pty, alarm):
    master, slave, console = pty
    before = termios.tcgetattr(slave)
    seen = {}

    def ctrl_c(signum, frame):
        seen["echo_while_reading"] = echo_on(slave)
        raise KeyboardInterrupt

    alarm(ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        console.read_secret_line()

    assert seen["echo_while_reading"] is False
    assert termios.tcgetattr(slave) == before


class Terminated(Exception):
    pass


def test_sigterm_during_the_read_becomes_keyboard_interrupt_and_restores_echo(pty, alarm):
    master, slave, console = pty
    before = termios.tcgetattr(slave)
    seen = {}

    def ours(signum, frame):  # what was installed before the prompt (and must be again after)
        raise Terminated

    previous_term = signal.signal(signal.SIGTERM, ours)
    try:

        def send_sigterm(signum, frame):
            seen["echo_while_reading"] = echo_on(slave)
            os.kill(os.getpid(), signal.SIGTERM)

        alarm(send_sigterm)
        with pytest.raises(KeyboardInterrupt):
            console.read_secret_line()

        assert seen["echo_while_reading"] is False
        assert termios.tcgetattr(slave) == before
        assert signal.getsignal(signal.SIGTERM) is ours
    finally:
        signal.signal(signal.SIGTERM, previous_term)


def test_a_signal_the_parent_ignores_stays_ignored_during_the_read(pty, alarm):
    """nohup, or a script's background job: SIGHUP/SIGINT are ignored on purpose and must not end the prompt."""
    master, slave, console = pty
    seen = {}
    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:

        def hang_up(signum, frame):
            os.kill(os.getpid(), signal.SIGHUP)
            seen["sent"] = True
            os.write(master, b"246810\r")

        alarm(hang_up)
        try:
            line = console.read_secret_line()
        except KeyboardInterrupt:  # would stop the whole pytest run: a plain failure instead
            pytest.fail("an ignored SIGHUP ended the prompt")

        assert seen["sent"] and line == "246810"
        assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGHUP, previous)


def test_sigcont_hides_the_input_again_and_shows_the_prompt_again(pty, alarm):
    """Back from a stop (`fg`), the shell's own settings may have turned echo on: off again."""
    master, slave, console = pty
    before = termios.tcgetattr(slave)
    seen = {}

    def shell_then_fg(signum, frame):
        termios.tcsetattr(slave, termios.TCSANOW, before)  # what a shell does while we are stopped
        os.kill(os.getpid(), signal.SIGCONT)
        type_when_echo_is_off(master, slave, b"135790\r", seen)

    alarm(shell_then_fg)
    line = console.read_secret_line(prompt="Code: ")

    assert line == "135790"
    assert seen["echo_while_reading"] is False
    assert termios.tcgetattr(slave) == before
    assert drain(master) == b"Code: \rCode: \r\n"
    assert signal.getsignal(signal.SIGCONT) is signal.SIG_DFL


# --- the Windows console, with a fake msvcrt -----------------------------------------------------


class ConsoleOut(io.StringIO):
    """CONOUT$: keeps what was written after close."""

    def __init__(self) -> None:
        super().__init__()
        self.written = []
        self.flushes = 0

    def write(self, text: str) -> int:
        self.written.append(text)
        return len(text)

    def flush(self) -> None:
        self.flushes += 1


class WindowsConsoles:
    def __init__(self, module, keys, outputs) -> None:
        self.module = module
        self.keys = keys
        self.outputs = outputs

    def type(self, text: str) -> None:
        self.keys.extend(text)

    @property
    def shown(self) -> str:
        return "".join(part for out in self.outputs for part in out.written)


@pytest.fixture
def windows(monkeypatch):
    keys = []
    outputs = []

    def getwch() -> str:
        if not keys:
            raise AssertionError("read past the scripted keys")
        return keys.pop(0)

    msvcrt = types.ModuleType("msvcrt")
    msvcrt.getwch = getwch
    msvcrt.kbhit = lambda: True  # every scripted key is waiting already
    monkeypatch.setitem(sys.modules, "msvcrt", msvcrt)
    name = "mfa_process.system.windows_console"
    sys.modules.pop(name, None)
    module = importlib.import_module(name)

    real_open = builtins.open

    def fake_open(file, mode="r", *args, **kwargs):
        if file == "CONIN$":
            return io.StringIO()
        if file == "CONOUT$":
            assert "w" in mode
            out = ConsoleOut()
            outputs.append(out)
            return out
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", fake_open)
    yield WindowsConsoles(module, keys, outputs)
    sys.modules.pop(name, None)
    package = sys.modules["mfa_process.system"]
    if hasattr(package, "windows_console"):
        delattr(package, "windows_console")


def test_windows_enter_ends_the_line(windows):
    windows.type("123456\r")
    with windows.module.Console() as console:
        assert console.read_secret_line() == "123456"
    assert windows.shown == "\n"  # getwch does not echo; only the line end is shown


def test_windows_newline_also_ends_the_line(windows):
    windows.type("123456\n")
    with windows.module.Console() as console:
        assert console.read_secret_line() == "123456"


def test_windows_backspace_deletes_the_last_character(windows):
    windows.type("\x0812x\x083456\r")  # a backspace on an empty line is harmless
    with windows.module.Console() as console:
        assert console.read_secret_line() == "123456"


def test_windows_ctrl_z_on_an_empty_line_is_end_of_input(windows):
    windows.type("\x1a")
    with windows.module.Console() as console:
        assert console.read_secret_line() is None


def test_windows_ctrl_c_raises_keyboard_interrupt(windows):
    windows.type("12\x03")
    with windows.module.Console() as console:
        with pytest.raises(KeyboardInterrupt):
            console.read_secret_line()


def test_windows_prompt_goes_to_conout(windows):
    windows.type(" 123456 \r")

    code = terminal_prompt(HINT, open_console=windows.module.Console)(SERIAL, None)

    assert code == "123456"
    assert windows.shown == PROMPT + "\n"
    assert windows.outputs[0].flushes >= 1


def test_windows_without_a_console_is_no_terminal(windows, monkeypatch):
    def no_console(file, mode="r", *args, **kwargs):
        raise OSError(errno.ENXIO, "The handle is invalid")

    monkeypatch.setattr(builtins, "open", no_console)

    with pytest.raises(NoTerminalError) as raised:
        terminal_prompt(HINT, open_console=windows.module.Console)(SERIAL, None)

    assert HINT in str(raised.value)
