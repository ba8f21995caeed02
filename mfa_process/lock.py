"""The cross-process lock that lets exactly one process prompt and call STS per session.

It is an OS lock (flock on POSIX, msvcrt on Windows, through filelock): the kernel drops it
when its holder dies, so a process killed mid-prompt never blocks the next run.
"""

from __future__ import annotations

from contextlib import contextmanager
TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing on the cache-hit path

from .errors import LockTimeoutError

if TYPE_CHECKING:
    from typing import Iterator


@contextmanager
def session_lock(path: str, timeout: float, holder_hint: str) -> Iterator[None]:
    """Hold the lock at ``path``; wait at most ``timeout`` seconds for it."""
    from filelock import FileLock, Timeout

    lock = FileLock(path, timeout=timeout, mode=0o600)
    try:
        lock.acquire()
    except Timeout as error:
        raise LockTimeoutError(
            f"waited {timeout:g} s for another mfa-process that is {holder_hint}; "
            "answer or cancel its prompt, then run the command again"
        ) from error
    try:
        yield
    finally:
        lock.release()
