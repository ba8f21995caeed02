"""The bounds on every wait: the Watchdog (deadline, caller still there), the POSIX caller watch,
the lock wait, and helper programs run under a watchdog."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import time
import types
from pathlib import Path

import pytest
from fakes import wait_gone
from processes import isolated_env, started

from mfa_process.errors import (
    CallerGoneError,
    LockTimeoutError,
    PromptAbortedError,
    PromptTimeoutError,
)
from mfa_process.prompt import code_reader
from mfa_process.prompt._helper_process import run_helper
from mfa_process.prompt.code_reader import code_reader_source
from mfa_process.session.lock import session_lock
from mfa_process.system.posix import CallerWatch
from mfa_process.watchdog import POLL_SECONDS, Watchdog, no_watchdog

HINT = "run `mfa-process login --profile base` in a terminal first"


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        assert seconds >= 0, "time never runs backwards"
        self.now += seconds


class FakeCaller:
    def __init__(self) -> None:
        self.alive = True
        self.asked = 0

    def __call__(self) -> bool:
        self.asked += 1
        return self.alive


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def caller() -> FakeCaller:
    return FakeCaller()


def test_next_wait_is_one_poll_while_the_deadline_is_far(clock, caller) -> None:
    watchdog = Watchdog(60, caller, HINT, clock)

    assert watchdog.next_wait() == POLL_SECONDS
    assert 0 < POLL_SECONDS <= 0.5  # short enough to notice a gone caller within 2 s


def test_next_wait_never_exceeds_a_poll_nor_the_time_left(clock, caller) -> None:
    watchdog = Watchdog(1.0, caller, HINT, clock)
    while clock.now < 1000.0 + 1.5:
        wait = watchdog.next_wait()
        assert 0.0 <= wait <= POLL_SECONDS
        assert wait <= max(watchdog.remaining(), 0.0)
        assert wait == pytest.approx(max(0.0, min(POLL_SECONDS, watchdog.remaining())))
        clock.advance(0.07)


def test_next_wait_is_zero_past_the_deadline(clock, caller) -> None:
    watchdog = Watchdog(1.0, caller, HINT, clock)
    clock.advance(5)

    assert watchdog.next_wait() == 0.0


def test_check_passes_until_the_deadline(clock, caller) -> None:
    watchdog = Watchdog(2.0, caller, HINT, clock)
    clock.advance(1.99)

    watchdog.check()


@pytest.mark.parametrize("late", [0.0, 0.5, 100.0])
def test_check_past_the_deadline_says_how_long_and_what_to_do(clock, caller, late: float) -> None:
    watchdog = Watchdog(1.5, caller, HINT, clock)
    clock.advance(1.5 + late)

    with pytest.raises(PromptTimeoutError) as raised:
        watchdog.check("the YubiKey")

    assert str(raised.value) == f"no answer within 1.5 s while waiting for the YubiKey; {HINT}"
    assert isinstance(raised.value, PromptAbortedError)  # the terminal erases its prompt for these


def test_whole_seconds_are_shown_without_a_fraction(clock, caller) -> None:
    watchdog = Watchdog(60.0, caller, "", clock)
    clock.advance(60)

    with pytest.raises(PromptTimeoutError) as raised:
        watchdog.check()

    assert str(raised.value) == "no answer within 60 s while waiting for the MFA code"  # no hint, no "; "


def test_a_gone_caller_ends_the_wait_at_once(clock, caller) -> None:
    watchdog = Watchdog(60, caller, HINT, clock)
    watchdog.check()
    caller.alive = False

    with pytest.raises(CallerGoneError) as raised:
        watchdog.check("the zenity dialog")

    assert "the program that started mfa-process is gone" in str(raised.value)
    assert "the zenity dialog" in str(raised.value)
    assert isinstance(raised.value, PromptAbortedError)


def test_a_gone_caller_is_reported_before_the_timeout(clock, caller) -> None:
    watchdog = Watchdog(1, caller, HINT, clock)
    clock.advance(10)
    caller.alive = False

    with pytest.raises(CallerGoneError):
        watchdog.check()


def test_the_caller_is_asked_on_every_check(clock, caller) -> None:
    watchdog = Watchdog(60, caller, HINT, clock)
    for _ in range(3):
        watchdog.check()

    assert caller.asked == 3


def test_a_polling_loop_gives_up_after_exactly_the_timeout(clock, caller) -> None:
    """What every prompt, dialog and helper does: check, then block for next_wait()."""
    watchdog = Watchdog(1.0, caller, HINT, clock)
    started, polls = clock.now, 0
    with pytest.raises(PromptTimeoutError):
        while True:
            watchdog.check()
            clock.advance(watchdog.next_wait())
            polls += 1

    assert clock.now - started == pytest.approx(1.0)
    expected = math.ceil(1.0 / POLL_SECONDS)
    assert expected <= polls <= expected + 1  # one more for float rounding at the deadline, no more
    assert caller.asked == polls + 1


def test_no_watchdog_never_ends_a_wait() -> None:
    watchdog = no_watchdog()
    watchdog.check()

    assert watchdog.next_wait() == POLL_SECONDS
    assert watchdog.remaining() == float("inf")


# --- the POSIX caller watch: re-parenting means the caller is gone ----------------------------

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


# --- the lock wait ends when the caller is gone --------------------------------------------------

HOLDER = """
import sys, time
from mfa_process.session.lock import session_lock
from mfa_process.watchdog import no_watchdog
with session_lock(sys.argv[1], no_watchdog(5), "holder"):
    print("locked", flush=True)
    time.sleep(60)
"""


@pytest.fixture
def held_lock(tmp_path: Path):
    path = str(tmp_path / "base.0123456789abcdef01234567.lock")
    argv = [sys.executable, "-c", HOLDER, path]
    with started(argv, stdout=subprocess.PIPE, text=True, env=isolated_env(tmp_path)) as process:
        assert process.stdout.readline() == "locked\n"
        yield path


@pytest.mark.e2e
def test_lock_wait_ends_soon_after_the_caller_is_gone(held_lock: str) -> None:
    started = time.monotonic()
    gone_at = started + 0.3

    with pytest.raises(CallerGoneError) as raised:
        with session_lock(held_lock, Watchdog(5, lambda: time.monotonic() < gone_at), "asking for the MFA code"):
            pytest.fail("acquired a lock another process holds")

    waited = time.monotonic() - started
    assert 0.3 <= waited < 1.0
    assert "stopped waiting for another mfa-process" in str(raised.value)


@pytest.mark.e2e
def test_lock_wait_for_a_caller_already_gone_ends_within_a_poll(held_lock: str) -> None:
    started = time.monotonic()

    with pytest.raises(CallerGoneError):
        with session_lock(held_lock, Watchdog(5, lambda: False), "asking for the MFA code"):
            pass

    assert time.monotonic() - started < POLL_SECONDS + 0.5


@pytest.mark.e2e
def test_lock_wait_with_the_caller_there_still_times_out(held_lock: str) -> None:
    with pytest.raises(LockTimeoutError):
        with session_lock(held_lock, Watchdog(0.3, lambda: True), "asking for the MFA code"):
            pass


# --- helper programs under a watchdog ------------------------------------------------------------

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


@pytest.fixture
def fake_time(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """The code reader's clock and sleep, on a fake clock."""
    clock = FakeClock()
    monkeypatch.setattr(code_reader, "time", types.SimpleNamespace(sleep=clock.advance, monotonic=clock))
    return clock


def test_after_a_rejection_the_same_code_is_read_again_until_it_changes(fake_time: FakeClock) -> None:
    codes = ["111111", "111111", "111111", "222222"]
    reads = []

    def read_code(mfa_serial: str, watchdog: Watchdog) -> str:
        reads.append(fake_time.now)
        return codes.pop(0)

    ask = code_reader_source(read_code, lambda: Watchdog(60, lambda: True, HINT, fake_time), "a new code")

    assert ask("serial", None) == "111111"
    assert ask("serial", "AWS rejected that code") == "222222"
    assert [later - earlier for earlier, later in zip(reads[1:], reads[2:])] == pytest.approx([2.0, 2.0])


def test_waiting_for_a_new_code_is_bounded_by_the_watchdog(fake_time: FakeClock) -> None:
    ask = code_reader_source(
        lambda serial, watchdog: "111111", lambda: Watchdog(5, lambda: True, HINT, fake_time), "a new code"
    )
    ask("serial", None)
    started = fake_time.now

    with pytest.raises(PromptTimeoutError) as raised:
        ask("serial", "AWS rejected that code")

    assert fake_time.now - started == pytest.approx(5.0)
    assert "a new code" in str(raised.value)
