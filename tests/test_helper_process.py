"""Helper programs under a watchdog: killed with their children at the deadline or when the caller
is gone, even when a grandchild left their process group."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fakes import wait_gone

from mfa_process.errors import CallerGoneError
from mfa_process.prompt._helper_process import run_helper
from mfa_process.system import windows
from mfa_process.watchdog import Watchdog

HINT = "run `mfa-process login --profile base` in a terminal first"


FAMILY = """
import os, subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(1000)"])
print(os.getpid(), child.pid, flush=True)
sys.stderr.write("waiting for a touch\\n"); sys.stderr.flush()
time.sleep(1000)
"""


def _pids(stdout: str):
    return [int(pid) for pid in stdout.split()]


@pytest.mark.e2e
def test_a_helper_past_the_deadline_is_killed_with_its_children() -> None:
    watchdog = Watchdog(0.5, lambda: True, HINT)
    started = time.monotonic()

    result = run_helper([sys.executable, "-c", FAMILY], watchdog, "the YubiKey")

    assert 0.5 <= time.monotonic() - started < 2.5
    assert result.timed_out
    assert result.last_error_line == "waiting for a touch"  # its output so far is kept
    pids = _pids(result.stdout)
    assert len(pids) == 2 and wait_gone(pids, 2) == []


@pytest.mark.e2e
def test_a_helper_is_killed_with_its_children_when_the_caller_is_gone(tmp_path: Path) -> None:
    out = tmp_path / "pids"
    script = FAMILY.replace("flush=True)", f"flush=True, file=open({str(out)!r}, 'w'))")
    gone_at = time.monotonic() + 0.5
    watchdog = Watchdog(30, lambda: time.monotonic() < gone_at, HINT)

    with pytest.raises(CallerGoneError) as raised:
        run_helper([sys.executable, "-c", script], watchdog, "the zenity dialog")

    assert time.monotonic() - gone_at < 1.0
    assert "the zenity dialog" in str(raised.value)
    pids = _pids(out.read_text())
    assert len(pids) == 2 and wait_gone(pids, 2) == []


ESCAPED = """
import subprocess, sys, time
# a grandchild that leaves the helper's process group (as a daemon does) with stdout still open
escaped = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(4)"], start_new_session=True)
print(escaped.pid, flush=True, file=open(sys.argv[1], "w"))
time.sleep(1000)
"""


@pytest.mark.e2e
def test_a_helper_whose_grandchild_left_its_group_still_ends_at_the_deadline(tmp_path: Path) -> None:
    """The bound holds even when something the helper started keeps its output pipe open."""
    out = tmp_path / "escaped.pid"
    watchdog = Watchdog(0.5, lambda: True, HINT)
    started = time.monotonic()
    try:
        result = run_helper([sys.executable, "-c", ESCAPED, str(out)], watchdog, "the mfa_process command")
        took = time.monotonic() - started
    finally:
        if out.exists() and out.read_text().strip():
            escaped = int(out.read_text())
            if wait_gone([escaped], 0):  # still running: it is ours to end
                os.kill(escaped, signal.SIGKILL)

    assert result.timed_out
    assert took < 2.0, f"run_helper waited {took:.1f} s for a 0.5 s bound (until the escaped grandchild exited)"


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
