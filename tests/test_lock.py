"""session_lock: another process holding it makes us wait (bounded), and its death frees the lock at once."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time

import pytest

from mfa_process.errors import LockTimeoutError
from mfa_process.lock import session_lock

HINT = "asking for the MFA code of profile 'base'"

HOLDER = """
import os, sys, time
os.umask(0o022)  # the usual umask: a lock file created 0644 would show
from mfa_process.lock import session_lock
with session_lock(sys.argv[1], 5, "holder"):
    print("locked", flush=True)
    time.sleep(60)
"""


@pytest.fixture
def umask_022():
    """The usual umask, so a lock file created 0644 (filelock's default) would show."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


@pytest.fixture
def holder(tmp_path):
    """A second process that holds the lock at ``path`` until it is killed."""
    path = str(tmp_path / "base.0123456789abcdef01234567.lock")
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, path], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path
    )
    try:
        line = process.stdout.readline()
        assert line == "locked\n", process.stderr.read()
        yield path, process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(5)
        process.stdout.close()
        process.stderr.close()


def mode(path: str) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_lock_held_by_another_process_times_out_with_the_hint_and_the_timeout(holder):
    path, process = holder
    started = time.monotonic()

    with pytest.raises(LockTimeoutError) as raised:
        with session_lock(path, timeout=0.3, holder_hint=HINT):
            pytest.fail("acquired a lock another process holds")

    waited = time.monotonic() - started
    assert 0.3 <= waited < 3
    message = str(raised.value)
    assert HINT in message
    assert "0.3 s" in message
    assert raised.value.exit_code == 1


def test_lock_of_a_killed_holder_is_acquired_at_once(holder):
    path, process = holder
    with pytest.raises(LockTimeoutError):
        with session_lock(path, timeout=0.3, holder_hint=HINT):
            pass

    process.send_signal(signal.SIGKILL)  # no cleanup runs: only the kernel can drop the lock
    process.wait(5)
    assert os.path.exists(path)  # the dead holder's lock file is still there
    started = time.monotonic()

    with session_lock(path, timeout=0.3, holder_hint=HINT):
        acquired_after = time.monotonic() - started

    assert acquired_after < 0.2


def test_lock_file_is_private(tmp_path, umask_022):
    path = str(tmp_path / "session.lock")

    with session_lock(path, timeout=1, holder_hint=HINT):
        assert mode(path) == 0o600


def test_lock_file_created_by_the_holder_process_is_private(holder):
    path, process = holder

    assert mode(path) == 0o600


def test_lock_is_released_when_the_body_raises(tmp_path):
    path = str(tmp_path / "session.lock")

    with pytest.raises(RuntimeError):
        with session_lock(path, timeout=1, holder_hint=HINT):
            raise RuntimeError("prompt failed")

    check = subprocess.run(
        [sys.executable, "-c", "import sys\nfrom mfa_process.lock import session_lock\n"
         "with session_lock(sys.argv[1], 0.3, 'x'):\n    print('ok')", path],
        capture_output=True, text=True, timeout=20, cwd=tmp_path,
    )
    assert check.stdout == "ok\n", check.stderr
