"""The bounds on every wait: a deadline, and the caller still being there.

SDKs give up on a credential_process (terraform's Go SDK kills its `sh` after 60 s, not us)
and nothing tells the plugin. So every prompt, dialog, helper command and lock wait polls a
watchdog: past the deadline, or once the program that started us is gone, it stops.
"""

from __future__ import annotations

import time

from .errors import CallerGoneError, PromptTimeoutError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing on the cache-hit path
if TYPE_CHECKING:
    from typing import Callable, Optional

POLL_SECONDS = 0.2


class Watchdog:
    def __init__(
        self,
        timeout: float,
        caller_alive: Callable[[], bool],
        timeout_hint: str = "",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.timeout = timeout
        self.caller_alive = caller_alive
        self.timeout_hint = timeout_hint
        self.clock = clock
        self.deadline = clock() + timeout

    def remaining(self) -> float:
        return self.deadline - self.clock()

    def expired(self) -> bool:
        return self.remaining() <= 0

    def next_wait(self) -> float:
        """How long to block before the next check."""
        return max(0.0, min(POLL_SECONDS, self.remaining()))

    def check(self, waiting_for: str = "the MFA code") -> None:
        """Raise if the wait must end now."""
        self.check_caller(waiting_for)
        if self.expired():
            hint = f"; {self.timeout_hint}" if self.timeout_hint else ""
            raise PromptTimeoutError(f"no answer within {self.timeout:g} s while waiting for {waiting_for}{hint}")

    def check_caller(self, waiting_for: str) -> None:
        """Raise if the program that started us is gone; a wait with its own timeout error (the
        lock's) checks the deadline itself."""
        if not self.caller_alive():
            raise CallerGoneError(f"the program that started mfa-process is gone; stopped waiting for {waiting_for}")


def no_watchdog(timeout: Optional[float] = None) -> Watchdog:
    """A watchdog that only bounds time (tests, callers without a parent to watch)."""
    return Watchdog(float("inf") if timeout is None else timeout, lambda: True)
