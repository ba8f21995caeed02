"""session_lock: another process holding it makes us wait (bounded), and its death frees the lock at once."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from processes import isolated_env, kill_group, popen, run, started

from mfa_process.errors import CallerGoneError, LockTimeoutError, UnsafeCacheError
from mfa_process.session.lock import session_lock
from mfa_process.watchdog import POLL_SECONDS, Watchdog, no_watchdog

HINT = "asking for the MFA code of profile 'base'"

HOLDER = """
import os, sys, time
os.umask(0o022)  # the usual umask: a lock file created 0644 would show
from mfa_process.session.lock import session_lock
from mfa_process.watchdog import no_watchdog
with session_lock(sys.argv[1], no_watchdog(5), "asking for the MFA code of profile 'base'"):
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
    argv = [sys.executable, "-c", HOLDER, path]
    with started(argv, capture_output=True, text=True, cwd=tmp_path, env=isolated_env(tmp_path)) as process:
        line = process.stdout.readline()
        assert line == "locked\n", process.stderr.read()
        yield path, process


def mode(path: str) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.e2e
def test_lock_held_by_another_process_times_out_with_the_hint_and_the_timeout(holder):
    path, process = holder
    started = time.monotonic()

    with pytest.raises(LockTimeoutError) as raised:
        with session_lock(path, no_watchdog(0.3), HINT):
            pytest.fail("acquired a lock another process holds")

    waited = time.monotonic() - started
    assert 0.3 <= waited < 3
    message = str(raised.value)
    assert HINT in message
    assert "0.3 s" in message
    assert raised.value.exit_code == 1


@pytest.mark.e2e
def test_lock_of_a_killed_holder_is_acquired_at_once(holder):
    path, process = holder
    with pytest.raises(LockTimeoutError):
        with session_lock(path, no_watchdog(0.3), HINT):
            pass

    process.send_signal(signal.SIGKILL)  # no cleanup runs: only the kernel can drop the lock
    process.wait(5)
    assert os.path.exists(path)  # the dead holder's lock file is still there
    started = time.monotonic()

    with session_lock(path, no_watchdog(0.3), HINT):
        acquired_after = time.monotonic() - started

    assert acquired_after < 0.2


def test_lock_file_is_private(tmp_path, umask_022):
    path = str(tmp_path / "session.lock")

    with session_lock(path, no_watchdog(1), HINT):
        assert mode(path) == 0o600


@pytest.mark.e2e
def test_lock_file_created_by_the_holder_process_is_private(holder):
    path, process = holder

    assert mode(path) == 0o600


@pytest.mark.e2e
def test_lock_is_released_when_the_body_raises(tmp_path):
    path = str(tmp_path / "session.lock")

    with pytest.raises(RuntimeError):
        with session_lock(path, no_watchdog(1), HINT):
            raise RuntimeError("prompt failed")

    check = run(
        [
            sys.executable,
            "-c",
            "import sys\nfrom mfa_process.session.lock import session_lock\n"
            "from mfa_process.watchdog import no_watchdog\n"
            "with session_lock(sys.argv[1], no_watchdog(0.3), 'x'):\n    print('ok')",
            path,
        ],
        capture_output=True,
        text=True,
        timeout=20,
        cwd=tmp_path,
        env=isolated_env(tmp_path),
    )
    assert check.stdout == "ok\n", check.stderr


# --- the lock path is never followed, and never someone else's -----------------------------------


@pytest.fixture
def victim(tmp_path):
    """A file of ours that a planted link at the lock path points to."""
    path = tmp_path / "victim.txt"
    path.write_text("precious\n")
    os.chmod(path, 0o644)
    return path


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX links and owners")
def test_symlink_at_the_lock_path_is_refused_and_its_target_untouched(tmp_path, victim):
    path = str(tmp_path / "base.0123456789abcdef01234567.lock")
    os.symlink(victim, path)

    with pytest.raises(UnsafeCacheError) as raised:
        with session_lock(path, no_watchdog(1), HINT):
            pytest.fail("locked through a symbolic link")

    assert str(raised.value) == f"the lock file {path} is a symbolic link; remove it"
    assert victim.read_text() == "precious\n" and mode(str(victim)) == 0o644


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX links and owners")
def test_dangling_symlink_at_the_lock_path_creates_nothing(tmp_path):
    path = str(tmp_path / "session.lock")
    target = tmp_path / "created-through-the-link"
    os.symlink(target, path)

    with pytest.raises(UnsafeCacheError, match="symbolic link"):
        with session_lock(path, no_watchdog(1), HINT):
            pass

    assert not target.exists()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX FIFOs")
def test_fifo_at_the_lock_path_is_refused_at_once(tmp_path):
    path = str(tmp_path / "session.lock")
    os.mkfifo(path, 0o600)
    started = time.monotonic()

    with pytest.raises(UnsafeCacheError) as raised:
        with session_lock(path, no_watchdog(1), HINT):
            pass

    assert time.monotonic() - started < 1
    assert str(raised.value) == f"the lock file {path} is not a regular file; remove it"


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX links and owners")
def test_lock_file_of_another_user_is_refused_and_left_alone(tmp_path):
    path = tmp_path / "session.lock"
    path.write_text("")
    os.chmod(path, 0o666)
    os.chown(path, 12345, 12345)

    with pytest.raises(UnsafeCacheError) as raised:
        with session_lock(str(path), no_watchdog(1), HINT):
            pass

    assert str(raised.value) == f"the lock file {path} belongs to uid 12345, not to you; remove it"
    assert mode(str(path)) == 0o666 and os.stat(path).st_uid == 12345


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX links and owners")
def test_lock_file_with_another_hard_link_is_refused(tmp_path, victim):
    path = str(tmp_path / "session.lock")
    os.link(victim, path)

    with pytest.raises(UnsafeCacheError, match="hard link"):
        with session_lock(path, no_watchdog(1), HINT):
            pass

    assert victim.read_text() == "precious\n" and mode(str(victim)) == 0o644


def test_existing_lock_file_of_ours_with_group_bits_is_made_private(tmp_path):
    path = tmp_path / "session.lock"
    path.write_text("")
    os.chmod(path, 0o664)

    with session_lock(str(path), no_watchdog(1), HINT):
        assert mode(str(path)) == 0o600


@pytest.mark.e2e
def test_lock_file_removed_while_we_waited_is_locked_anew(holder):
    """`logout` may remove a lock file nobody holds; a waiter that had it open must not then hold
    a lock on a file no longer there while a newcomer locks the new one."""
    path, process = holder
    acquired = []

    def wait_then_lock():
        with session_lock(path, no_watchdog(10), HINT):
            acquired.append(os.stat(path).st_ino)
            time.sleep(0.2)

    import threading

    waiter = threading.Thread(target=wait_then_lock)
    waiter.start()
    time.sleep(0.3)  # the waiter has the old file open and polls it
    os.unlink(path)  # as logout would, had the holder been gone
    process.kill()
    process.wait(5)
    waiter.join(15)

    assert acquired and os.path.exists(path)
    assert acquired[0] == os.stat(path).st_ino  # it locked the file that is there, not the removed one


# --- the holder says what it is waiting on; a waiter that gives up repeats it --------------------

ANNOUNCING_HOLDER = """
import sys, time
from mfa_process.session.lock import session_lock
from mfa_process.watchdog import no_watchdog
with session_lock(sys.argv[1], no_watchdog(5), sys.argv[2]) as held:
    if len(sys.argv) > 3:
        held.announce(sys.argv[3])
    print("locked", flush=True)
    time.sleep(60)
"""


@pytest.fixture
def start_holder(tmp_path):
    """Start a process that holds the lock, with a hint and optionally an announced phase."""
    holders = []

    def start(*args: str) -> str:
        path = str(tmp_path / "base.0123456789abcdef01234567.lock")
        process = popen(
            [sys.executable, "-c", ANNOUNCING_HOLDER, path, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
            env=isolated_env(tmp_path),
        )
        holders.append(process)
        assert process.stdout.readline() == "locked\n", process.stderr.read()
        return path

    try:
        yield start
    finally:
        for process in holders:
            kill_group(process)


def timeout_message(path: str, hint: str = "the waiter's own guess") -> str:
    with pytest.raises(LockTimeoutError) as raised:
        with session_lock(path, no_watchdog(0.3), hint):
            pytest.fail("acquired a held lock")
    return str(raised.value)


@pytest.mark.e2e
def test_waiter_that_times_out_says_what_the_holder_announced(start_holder):
    path = start_holder(HINT, "waiting on STS at http://127.0.0.1:4566/")

    message = timeout_message(path)

    assert message.startswith("waited 0.3 s for another mfa-process that is waiting on STS at http://127.0.0.1:4566/;")
    assert "own guess" not in message


@pytest.mark.e2e
def test_holder_announces_its_hint_by_default(start_holder):
    path = start_holder("asking for the MFA code of profile 'prod'")

    message = timeout_message(path)

    assert "that is asking for the MFA code of profile 'prod';" in message


@pytest.mark.e2e
def test_announced_phase_is_one_short_line_without_control_characters(start_holder):
    nasty = "waiting\x1b]0;pwned\x07 on\r STS\u202e\nsecond line " + "x" * 5000
    path = start_holder(HINT, nasty)

    message = timeout_message(path)

    assert os.path.getsize(path) <= 1024
    assert "\x1b" not in message and "\x07" not in message and "\r" not in message and "\u202e" not in message
    assert "\n" not in message
    assert "waiting]0;pwned on STS second line x" in message  # line breaks become spaces
    assert len(message) < 400


def test_waiter_uses_its_own_hint_when_the_holder_announced_nothing(tmp_path):
    import fcntl

    path = tmp_path / "session.lock"
    path.write_text("")
    os.chmod(path, 0o600)
    with open(path) as other_program:  # an older mfa-process that writes nothing
        fcntl.flock(other_program, fcntl.LOCK_EX)

        message = timeout_message(str(path), hint=HINT)

    assert HINT in message


def test_announce_after_release_does_nothing(tmp_path):
    path = str(tmp_path / "session.lock")
    with session_lock(path, no_watchdog(1), HINT) as held:
        held.announce("calling STS")
    held.announce("too late")

    with open(path) as file:
        assert "too late" not in file.read()


# --- the lock wait ends when the caller is gone --------------------------------------------------

QUIET_HOLDER = """
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
    argv = [sys.executable, "-c", QUIET_HOLDER, path]
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
