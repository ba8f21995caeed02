"""Moved clocks for the processes a test starts (tests/clock_shift.py): the wall clock moves, the
monotonic clock and every timed wait stay real, and mfa-process runs under it against an STS
double moved alike."""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict

import clock_shift as clock_shift_module
import pytest
from aws_home import BIN_DIR, AwsHome, contract
from clock_shift import ClockShift, ClockShiftUnavailable
from processes import isolated_env, run

OFFSET = 50 * 60.0  # the "50 minutes later"
CHILD_SECONDS = 30.0  # a shifted child that waits the offset instead of 0.2 s is killed long before
WAIT = 0.2
WAIT_SLACK = 1.0  # a loaded machine may oversleep; a wait of the offset (3000 s) never fits

# Prints its clocks, then how long each kind of timed wait took (monotonic seconds).
WAITS = r"""
import json, select, subprocess, sys, threading, time
wait = float(sys.argv[1])
took = {}

def measure(name, call):
    started = time.monotonic()
    call()
    took[name] = time.monotonic() - started

def popen_wait():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        child.wait(timeout=wait)
    except subprocess.TimeoutExpired:
        pass
    finally:
        child.kill()
        child.wait()

def communicate():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"], stdout=subprocess.PIPE)
    try:
        child.communicate(timeout=wait)
    except subprocess.TimeoutExpired:
        pass
    finally:
        child.kill()
        child.communicate()

held = threading.Lock()
held.acquire()
measure("time.sleep", lambda: time.sleep(wait))
measure("Event.wait", lambda: threading.Event().wait(wait))
measure("Lock.acquire", lambda: held.acquire(timeout=wait))
sleeper = threading.Thread(target=time.sleep, args=(30,), daemon=True)
sleeper.start()
measure("Thread.join", lambda: sleeper.join(wait))
measure("select", lambda: select.select([], [], [], wait))
measure("Popen.wait", popen_wait)
measure("Popen.communicate", communicate)
print(json.dumps({"time": time.time(), "monotonic": time.monotonic(), "took": took}))
"""


def run_shifted(clock_shift: ClockShift, tmp_path: Path, seconds: float, script: str, *args: str) -> Dict[str, Any]:
    """Run ``script`` in a child Python shifted by ``seconds``; its JSON line, parsed."""
    env = clock_shift(isolated_env(tmp_path), seconds)
    result = run(
        [sys.executable, "-I", "-c", script, *args], env=env, capture_output=True, text=True, timeout=CHILD_SECONDS
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


# ---- the clocks ----------------------------------------------------------------------------------
@pytest.mark.parametrize("seconds", [OFFSET, -OFFSET, 12.75])
def test_the_wall_clock_moves_and_the_monotonic_clock_does_not(
    clock_shift: ClockShift, tmp_path: Path, seconds: float
) -> None:
    clocks = "import json, time; print(json.dumps({'time': time.time(), 'monotonic': time.monotonic()}))"
    wall_before, monotonic_before = time.time(), time.monotonic()
    child = run_shifted(clock_shift, tmp_path, seconds, clocks)
    wall_after, monotonic_after = time.time(), time.monotonic()

    assert wall_before + seconds - 2 <= child["time"] <= wall_after + seconds + 2
    assert monotonic_before <= child["monotonic"] <= monotonic_after  # one monotonic clock for the machine


def test_timed_waits_take_real_time_not_the_offset(clock_shift: ClockShift, tmp_path: Path) -> None:
    started = time.time()
    child = run_shifted(clock_shift, tmp_path, OFFSET, WAITS, str(WAIT))

    assert child["time"] == pytest.approx(started + OFFSET, abs=2 + CHILD_SECONDS)
    took = {name: round(seconds, 3) for name, seconds in child["took"].items()}
    assert set(took) == {
        "time.sleep",
        "Event.wait",
        "Lock.acquire",
        "Thread.join",
        "select",
        "Popen.wait",
        "Popen.communicate",
    }
    slow_or_short = {name: s for name, s in took.items() if not WAIT <= s <= WAIT + WAIT_SLACK}
    assert not slow_or_short, f"timed waits of {WAIT} s took {took}"


# A sleep on the monotonic clock until an absolute deadline, as time.sleep() makes it on Python 3.11
# and newer (3.10 sleeps with select(), which libfaketime leaves alone): what returns 0 or an error.
ABSOLUTE_MONOTONIC_SLEEP = """
import ctypes
libc = ctypes.CDLL(None)
class timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]
now = timespec()
libc.clock_gettime(1, ctypes.byref(now))  # CLOCK_MONOTONIC
later = now.tv_nsec + 10_000_000
deadline = timespec(now.tv_sec + later // 1_000_000_000, later % 1_000_000_000)
print(libc.clock_nanosleep(1, 1, ctypes.byref(deadline), None))  # TIMER_ABSTIME
"""


def test_without_the_library_libfaketime_breaks_sleep(clock_shift: ClockShift, tmp_path: Path) -> None:
    """Why the library exists (libfaketime issue 426): libfaketime alone, monotonic clock real,
    and a sleep until a monotonic deadline (time.sleep() on Python 3.11+) fails with EINVAL; with
    the library it works. If a libfaketime fixes it, this test says so and the library may go."""
    shifted = clock_shift(isolated_env(tmp_path), OFFSET)
    alone = dict(shifted, LD_PRELOAD=str(clock_shift.libfaketime))
    argv = [sys.executable, "-I", "-c", ABSOLUTE_MONOTONIC_SLEEP]

    broken = run(argv, env=alone, capture_output=True, text=True, timeout=CHILD_SECONDS)
    fixed = run(argv, env=shifted, capture_output=True, text=True, timeout=CHILD_SECONDS)

    assert broken.stdout.strip() == "22", "a monotonic sleep under libfaketime alone did not fail with EINVAL"
    assert fixed.stdout.strip() == "0", fixed.stderr


# ---- the environment --------------------------------------------------------------------------
def test_shifting_keeps_other_preloads_and_a_second_shift_replaces_the_first(tmp_path: Path) -> None:
    shift = ClockShift(tmp_path / "shim.so", Path("/usr/lib/faketime/libfaketime.so.1"))
    env = {"LD_PRELOAD": "/opt/other.so", "PATH": "/bin"}

    once = shift(env, 60)
    twice = shift.shifted_env(once, -1.5)

    assert once["LD_PRELOAD"] == f"{tmp_path / 'shim.so'}:/usr/lib/faketime/libfaketime.so.1:/opt/other.so"
    assert twice["LD_PRELOAD"] == once["LD_PRELOAD"]
    assert (once["FAKETIME"], twice["FAKETIME"]) == ("+60.000", "-1.500")
    assert twice["FAKETIME_DONT_FAKE_MONOTONIC"] == "1" and twice["PATH"] == "/bin"
    assert env == {"LD_PRELOAD": "/opt/other.so", "PATH": "/bin"}  # a copy: the caller's env is left alone


@pytest.mark.e2e  # starts a process of its own
def test_a_missing_compiler_or_libfaketime_is_unavailable_with_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(clock_shift_module, "find_libfaketime", lambda: None)
    with pytest.raises(ClockShiftUnavailable, match="libfaketime .* is not installed; .*apt-get install"):
        ClockShift.build(tmp_path / "a")

    monkeypatch.setattr(clock_shift_module, "find_libfaketime", lambda: Path("/usr/lib/faketime/libfaketime.so.1"))
    monkeypatch.delenv("CC", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(ClockShiftUnavailable, match="no C compiler"):
        ClockShift.build(tmp_path / "b")

    failing = tmp_path / "cc"
    failing.write_text("#!/bin/sh\necho 'fatal error: dlfcn.h: No such file or directory' >&2\nexit 1\n")
    failing.chmod(0o755)
    monkeypatch.setenv("CC", str(failing))
    with pytest.raises(ClockShiftUnavailable, match=r"status 1\): fatal error: dlfcn.h"):
        ClockShift.build(tmp_path / "c")


# ---- mfa-process under a moved clock ------------------------------------------------------------
def test_mfa_process_runs_shifted(clock_shift: ClockShift, tmp_path: Path) -> None:
    env = clock_shift(isolated_env(tmp_path), OFFSET)
    result = run(
        [Path(BIN_DIR, "mfa-process"), "--version"], env=env, capture_output=True, text=True, timeout=CHILD_SECONDS
    )

    assert result.returncode == 0 and result.stdout.startswith("mfa-process "), result.stderr


def test_the_plugin_and_the_double_moved_alike(aws: AwsHome, clock_shift: ClockShift) -> None:
    """50 minutes ahead, both: the session's Expiration is on the moved clock, and the plugin
    reads its cache on the moved clock. The code comes from real time, as the double checks codes
    on real time (a person's authenticator knows nothing of the offset)."""
    real = aws.env
    aws.sts.clock_offset = OFFSET
    aws.env = clock_shift(real, OFFSET)
    asked = time.time()
    first = aws.run(["--profile", "base", "--duration", "1000", "--token-code", aws.code()])
    assert first.returncode == 0, first.stderr

    expiration = datetime.strptime(str(contract(first.stdout)["Expiration"]), "%Y-%m-%dT%H:%M:%SZ")
    expires = expiration.replace(tzinfo=timezone.utc).timestamp()
    assert expires == pytest.approx(asked + OFFSET + 1000, abs=5)
    [issued] = aws.sts.sessions()
    assert int(issued.expires) == expires and issued.mfa_authenticated_at == pytest.approx(asked + OFFSET, abs=5)

    # On the moved clock the session has some 16 minutes left: more than the 15-minute margin, so
    # the cache serves it.
    again = aws.run(["--profile", "base", "--duration", "1000"])
    assert again.returncode == 0, again.stderr
    assert contract(again.stdout)["AccessKeyId"] == issued.access_key_id

    # 4 minutes later on the moved clock: under the margin, a new session is asked for.
    aws.env = clock_shift(real, OFFSET + 240)
    aws.sts.clock_offset = OFFSET + 240
    renewed = aws.run(["--profile", "base", "--duration", "1000", "--token-code", aws.code(1)])
    assert renewed.returncode == 0, renewed.stderr
    assert contract(renewed.stdout)["AccessKeyId"] != issued.access_key_id
    assert aws.sts.calls("GetSessionToken") == 2
