"""Which process is the caller, and whether it is still there: the POSIX caller watch (re-parenting
means the caller is gone), and on Linux with a scripted kernel32, the Windows one and the caller
found past mfa-process.exe's launcher."""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
from pathlib import Path
from typing import List

import pytest
from processes import isolated_env, started

from mfa_process.system import windows
from mfa_process.system.posix import CallerWatch
from mfa_process.system.windows import caller_pid

INTERMEDIATE = """
import subprocess, sys
subprocess.Popen([sys.executable, "-c", sys.argv[1], sys.argv[2]])  # stdout: the test's pipe
sys.stdin.readline()  # exit when the test says so
"""

WATCHER = """
import os, sys, time
from mfa_process.system.posix import CallerWatch
watch = CallerWatch()
print(os.getppid(), watch.alive(), flush=True)
deadline = time.monotonic() + 10
while not os.path.exists(sys.argv[1]) and time.monotonic() < deadline:
    time.sleep(0.01)
print(os.getppid(), watch.alive(), flush=True)
"""


@pytest.mark.e2e
def test_caller_watch_notices_that_its_parent_exited(tmp_path: Path) -> None:
    go = tmp_path / "parent-gone"
    argv = [sys.executable, "-c", INTERMEDIATE, WATCHER, str(go)]
    pipes = dict(stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=isolated_env(tmp_path))
    with started(argv, **pipes) as parent:  # killed with the watcher whatever fails
        before = parent.stdout.readline().split()
        assert before == [str(parent.pid), "True"]

        parent.stdin.close()  # the parent exits; the watcher is re-parented
        parent.wait(10)
        go.touch()
        after = parent.stdout.readline().split()

    assert after[0] != str(parent.pid)
    assert after[1] == "False"


def test_caller_watch_in_this_process_sees_its_parent_alive() -> None:
    watch = CallerWatch()

    assert watch.alive() and watch.alive()


SYNCHRONIZE = 0x00100000
WAIT_OBJECT_0 = 0x0
WAIT_TIMEOUT = 0x102
WAIT_FAILED = 0xFFFFFFFF


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


# ---- which process is the caller, past mfa-process.exe's launcher ----------------------------

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
