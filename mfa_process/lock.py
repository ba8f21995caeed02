"""The cross-process lock that lets exactly one process prompt and call STS per session.

It is an OS lock (flock on POSIX, msvcrt on Windows, through filelock): the kernel drops it
when its holder dies, so a process killed mid-prompt never blocks the next run.
"""

from __future__ import annotations

import time
from contextlib import contextmanager

from .errors import CallerGoneError, LockTimeoutError
from .watchdog import POLL_SECONDS

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing on the cache-hit path
if TYPE_CHECKING:
    from typing import Callable, Iterator


@contextmanager
def session_lock(
    path: str, timeout: float, holder_hint: str, caller_alive: Callable[[], bool] = lambda: True
) -> Iterator[None]:
    """Hold the lock at ``path``; wait at most ``timeout`` seconds for it, and not at all once
    the program that started us is gone."""
    from filelock import FileLock, Timeout

    lock = FileLock(path, mode=0o600)
    deadline = time.monotonic() + timeout
    while True:
        try:
            lock.acquire(timeout=max(0.0, min(POLL_SECONDS, deadline - time.monotonic())))
            break
        except Timeout:
            if not caller_alive():
                raise CallerGoneError(
                    "the program that started mfa-process is gone; stopped waiting for another mfa-process"
                ) from None
            if time.monotonic() >= deadline:
                raise LockTimeoutError(
                    f"waited {timeout:g} s for another mfa-process that is {holder_hint}; "
                    "answer or cancel its prompt, then run the command again"
                ) from None
    try:
        yield
    finally:
        lock.release()
