"""The cross-process lock that lets exactly one process prompt and call STS per session.

It is an OS lock: the kernel drops it when its holder dies, so a process killed mid-prompt never
blocks the next run. On POSIX it is flock(2) on a lock file that is opened without following a
link or blocking, and used only if it is a regular file of ours with no other hard link (filelock
before 3.20.1 truncated and chmod-ed the target of a planted link; 3.20.x still truncates the file
on every poll, which would erase what the holder announces). Windows uses filelock (msvcrt).

The holder writes one line into the lock file saying what it is waiting on (``announce``), so a
waiter that gives up can tell the person what the other process is doing.
"""

from __future__ import annotations

import os
import stat
import time
from contextlib import contextmanager

from ..errors import LockTimeoutError, UnsafeCacheError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing on the cache-hit path
if TYPE_CHECKING:
    from typing import Callable, Iterator, Optional

    from ..watchdog import Watchdog

RETRY_SECONDS = 0.05  # between two tries of a held lock (filelock's default poll interval)
MAX_PHASE_CHARS = 200
MAX_PHASE_BYTES = 1024
_UNPRINTABLE = ("Cc", "Cf", "Cs", "Zl", "Zp")  # controls, format (bidi overrides), surrogates, separators
_OPEN_FLAGS = (
    os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
)


class HeldLock:
    """The lock while it is held: the holder can say what it is waiting on."""

    __slots__ = ("path", "_fd")

    def __init__(self, path: str, fd: Optional[int]) -> None:
        self.path = path
        self._fd = fd

    def announce(self, phase: str) -> None:
        """Write ``phase`` (e.g. "waiting on STS at https://...") as the lock file's one line.

        Written through the locked descriptor, never through a name. Best effort: a waiter falls
        back to its own guess, so a failed write must not fail the holder. The line is written
        before the old one is cut off, newline-terminated, so a reader sees one whole line."""
        if self._fd is None:
            return
        line = (one_line(phase) + "\n").encode("utf-8")
        try:
            os.pwrite(self._fd, line, 0)
            os.ftruncate(self._fd, len(line))
        except OSError:
            pass


def asking_for_code(profile: str) -> str:
    """What a lock holder announces while it waits for a person's code."""
    return f"asking for the MFA code of profile '{profile}'"


@contextmanager
def session_lock(path: str, watchdog: Watchdog, holder_hint: str) -> Iterator[HeldLock]:
    """Hold the lock at ``path``; wait for it until the watchdog's deadline (the lock timeout),
    and not at all once the program that started us is gone. ``holder_hint`` is what we announce
    while holding it (until ``announce`` says otherwise), and what a timeout says if the holder
    announced nothing.

    Raises UnsafeCacheError if the lock file is a link, not a regular file, or not ours."""
    from ..system import HAS_FLOCK

    if not HAS_FLOCK:  # pragma: no cover - Windows
        with _windows_lock(path, watchdog, holder_hint):
            yield HeldLock(path, None)
        return
    fd = _acquire(path, watchdog, holder_hint)
    held = HeldLock(path, fd)
    try:
        held.announce(holder_hint)
        yield held
    finally:
        held._fd = None
        try:
            os.ftruncate(fd, 0)  # the next holder announces its own phase
        except OSError:
            pass
        os.close(fd)  # drops the flock


def _give_up_if_due(watchdog: Watchdog, holder: Callable[[], str]) -> None:
    """End the wait for a held lock: the caller is gone, or the lock timeout has passed
    (``holder`` says what the other process is doing, read only then)."""
    watchdog.check_caller("another mfa-process")
    if watchdog.expired():
        raise LockTimeoutError(
            f"waited {watchdog.timeout:g} s for another mfa-process that is {holder()}; "
            "answer or cancel its prompt (or let it finish), then run the command again"
        )


def _acquire(path: str, watchdog: Watchdog, holder_hint: str) -> int:
    """The descriptor of the lock file at ``path``, flock-ed by us."""
    fd = _open_lock_file(path)
    try:
        while True:
            if not _try_flock(fd):
                _give_up_if_due(watchdog, lambda: _announced(fd) or holder_hint)
                time.sleep(min(RETRY_SECONDS, watchdog.next_wait()))
                continue
            if _still_named(path, fd):
                locked, fd = fd, -1
                return locked
            # `logout` removed (or someone replaced) the file while we waited: lock the one there now
            os.close(fd)
            fd = -1
            fd = _open_lock_file(path)
    finally:
        if fd >= 0:
            os.close(fd)


def remove_if_unheld(folder: int, name: str) -> bool:
    """Unlink the lock file ``name`` in the open ``folder`` unless someone holds it (its holder is
    prompting, and a newcomer must lock the same file as the waiters; session_lock checks the name
    after locking, so removing an unheld one is safe). False when it is no regular lock file of
    ours to open (a link, a FIFO...): the caller decides what to do with that entry."""
    try:
        fd = os.open(name, _OPEN_FLAGS & ~os.O_CREAT, dir_fd=folder)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    try:
        try:
            if not _try_flock(fd):
                return True  # held: it stays
        except OSError:  # no locking here at all: leave it
            return True
        try:
            named = os.stat(name, dir_fd=folder, follow_symlinks=False)
        except OSError:
            return True
        opened = os.fstat(fd)
        if (named.st_dev, named.st_ino) == (opened.st_dev, opened.st_ino):
            try:
                os.unlink(name, dir_fd=folder)
            except OSError:
                pass
        return True
    finally:
        os.close(fd)  # drops the flock


def _try_flock(fd: int) -> bool:
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except (BlockingIOError, PermissionError):  # held (some file systems say EACCES)
        return False
    return True


def _open_lock_file(path: str) -> int:
    """Open (or create, 0600) the lock file: no link followed, no FIFO waited on, nobody else's."""
    try:
        fd = os.open(path, _OPEN_FLAGS, 0o600)
    except OSError:
        problem = _path_problem(path)
        if problem:
            raise UnsafeCacheError(problem) from None
        raise
    try:
        status = os.fstat(fd)
        problem = _file_problem(path, status)
        if problem:
            raise UnsafeCacheError(problem)
        if stat.S_IMODE(status.st_mode) != 0o600:
            os.fchmod(fd, 0o600)  # ours: through the descriptor, whatever the umask made it
    except BaseException:
        os.close(fd)
        raise
    return fd


def _path_problem(path: str) -> Optional[str]:
    """Why the open failed, when it is something planted at the path."""
    try:
        status = os.lstat(path)
    except OSError:
        return None
    if stat.S_ISLNK(status.st_mode):
        return f"the lock file {path} is a symbolic link; remove it"
    return _file_problem(path, status)


def _file_problem(path: str, status: os.stat_result) -> Optional[str]:
    if not stat.S_ISREG(status.st_mode):
        return f"the lock file {path} is not a regular file; remove it"
    if status.st_uid != os.geteuid():
        return f"the lock file {path} belongs to uid {status.st_uid}, not to you; remove it"
    if status.st_nlink > 1:  # a hard link to a file of ours elsewhere: announce would overwrite it
        return f"the lock file {path} has another hard link; remove it"
    return None


def _still_named(path: str, fd: int) -> bool:
    try:
        named = os.lstat(path)
    except OSError:
        return False
    opened = os.fstat(fd)
    return (named.st_dev, named.st_ino) == (opened.st_dev, opened.st_ino)


def _announced(fd: int) -> str:
    """The holder's line from the lock file we have open (checked as ours): no link followed,
    no blocking, at most 1 KiB, control characters stripped."""
    try:
        raw = os.pread(fd, MAX_PHASE_BYTES, 0)
    except OSError:
        return ""
    return one_line(raw.decode("utf-8", "replace").split("\n", 1)[0])


def one_line(text: str) -> str:
    """``text`` as one short printable line: no control or format characters (escape sequences,
    carriage returns, bidirectional overrides), at most 200 characters."""
    import unicodedata

    spaced = " ".join(text.split())  # line breaks and tabs become single spaces
    return "".join(char for char in spaced if unicodedata.category(char) not in _UNPRINTABLE)[:MAX_PHASE_CHARS]


@contextmanager
def _windows_lock(path: str, watchdog: Watchdog, holder_hint: str) -> Iterator[None]:  # pragma: no cover - Windows
    """msvcrt locking through filelock (>= 3.20.1 refuses reparse points at the lock path)."""
    from filelock import FileLock, Timeout

    if os.path.islink(path):
        raise UnsafeCacheError(f"the lock file {path} is a symbolic link; remove it")
    lock = FileLock(path, mode=0o600)

    def acquired() -> bool:
        try:
            lock.acquire(timeout=watchdog.next_wait())
        except Timeout:
            return False
        return True

    while not acquired():
        _give_up_if_due(watchdog, lambda: holder_hint)
    try:
        yield
    finally:
        lock.release()
