"""What the server holds, and when it is renewed: ahead of the SDKs, so no request waits on a person.

The SDKs come back for new credentials 15 minutes before they expire (botocore; the JS SDK at 5,
Java at 15 s) and give an endpoint 1 to 2 s per attempt. So the renewal starts earlier still, by
the longest a renewal may take (every code source's prompt timeout and the STS timeout: the
lock timeout), and runs in the main thread, where a prompt can handle its signals. Requests are
answered from what is held; only when that has (nearly) ended does a request wait, briefly, for
the renewal in progress.
"""

from __future__ import annotations

import threading
import time
from typing import Callable, Optional

from ..config.settings import REFRESH_MARGIN_SECONDS
from ..errors import MfaProcessError, SessionUnavailableError
from ..session.credentials import Credentials

# A session with this little left is not handed out: a call signed with it could reach AWS after it ends.
SERVE_FLOOR_SECONDS = 60
# How long a request that finds nothing to hand out waits for the renewal in progress: within the
# JS SDK v3's 1 s per attempt (botocore's is 2 s), so the SDK reports our reason, not a timeout.
REQUEST_WAIT_SECONDS = 0.8
# After a failed renewal: the next try while the session held still serves ...
RETRY_SECONDS = 60.0
# ... and, once it no longer does, the shortest gap before a request starts another.
WANTED_RETRY_SECONDS = 5.0
# The wall clock is read again at least this often (a laptop that slept, a clock set forward).
POLL_SECONDS = 1.0

Fetch = Callable[[Optional[int]], Credentials]


def renew_at(expires_at: float, obtained_at: float, lead: float) -> float:
    """When to get the next session: ``lead`` seconds before the SDKs start asking (at the refresh
    margin), but never in the first half of the time until then (a session barely longer than the
    margin would otherwise be renewed as soon as it arrives, again and again)."""
    asking = expires_at - REFRESH_MARGIN_SECONDS
    return max(asking - lead, obtained_at + (asking - obtained_at) / 2)


class Renewal:
    """Holds ``first`` and renews it with ``fetch(min_remaining)``, which returns a session with
    more than ``min_remaining`` seconds left (None: as the command line asked). ``label`` names it
    in messages ("profile 'base'"); ``lead``: the longest a renewal may take; ``log`` hears each
    renewal and failure, ``warn`` what went wrong."""

    def __init__(
        self,
        fetch: Fetch,
        first: Credentials,
        label: str,
        lead: float,
        log: Callable[[str], None],
        warn: Callable[[str], None],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._fetch = fetch
        self._label = label
        self._lead = lead
        self._log = log
        self._warn = warn
        self._clock = clock
        self._changed = threading.Condition()
        self._held = first
        self._obtained_at = clock()
        self._renewing = False
        self._wanted = False
        self._stopping = False
        self._finished = 0  # renewals finished, failed or not: a waiting request sees the next one end
        self._failure: Optional[str] = None
        self._failed_at = float("-inf")  # time.monotonic() of the last failure
        self._retry_at: Optional[float] = None

    # ---- the requests' side: any thread ----------------------------------------------------

    def current(self, wait: float = REQUEST_WAIT_SECONDS) -> Credentials:
        """What to hand out now; or, when nothing held may be, after waiting up to ``wait`` for the
        renewal that this asks for, SessionUnavailableError with the reason."""
        deadline = time.monotonic() + wait
        with self._changed:
            finished = self._finished
            while not self._servable(self._held):
                if not self._wanted:
                    self._wanted = True
                    self._changed.notify_all()
                left = deadline - time.monotonic()
                if left <= 0 or self._stopping or (self._finished > finished and not self._renewing):
                    raise SessionUnavailableError(self._unavailable_reason())
                self._changed.wait(left)
            return self._held

    def stop(self) -> None:
        """End ``run`` (from any thread, or a signal handler): a prompt in progress gives up."""
        with self._changed:
            self._stopping = True
            self._changed.notify_all()

    def stopping(self) -> bool:
        return self._stopping

    # ---- the renewing side: the main thread ------------------------------------------------

    def run(self, interrupt_stops: bool) -> None:
        """Renew whenever due until ``stop()``. Ctrl-C at a prompt ends the server if
        ``interrupt_stops`` (`serve`), else only that renewal (`exec`: the command got it too)."""
        while True:
            with self._changed:
                while not self._stopping and not self._due():
                    self._changed.wait(POLL_SECONDS)
                if self._stopping:
                    return
                self._renewing = True
                self._wanted = False
                held = self._held
            try:
                self._renew(held, interrupt_stops)
            finally:
                with self._changed:
                    self._renewing = False
                    self._finished += 1
                    self._changed.notify_all()

    def _due(self) -> bool:
        now = self._clock()
        if self._servable(self._held, now):
            if self._retry_at is not None:
                return now >= self._retry_at
            return now >= renew_at(self._held.expires_at, self._obtained_at, self._lead)
        return self._wanted and time.monotonic() - self._failed_at >= WANTED_RETRY_SECONDS

    def _renew(self, held: Credentials, interrupt_stops: bool) -> None:
        min_remaining = max(0, int(held.expires_at - self._clock()) + 1)  # newer than what is held
        try:
            new = self._fetch(min_remaining)
        except KeyboardInterrupt:
            if interrupt_stops:
                raise
            self._failed("interrupted at the prompt")
            return
        except MfaProcessError as error:
            self._failed(str(error))
            return
        except Exception as error:  # a bug: the server goes on serving what it holds
            self._failed(f"unexpected {type(error).__name__}; run with --verbose for details and report it", error)
            return
        if new.expires_at <= held.expires_at:
            self._failed(f"the new session ends at {new.expiration}, no later than the one held")
            return
        with self._changed:
            self._held, self._obtained_at = new, self._clock()
            self._failure, self._retry_at = None, None
        self._log(f"renewed the session of {self._label}: {_masked(new.access_key_id)} until {new.expiration}")

    def _failed(self, reason: str, error: Optional[BaseException] = None) -> None:
        if self._stopping:
            return
        now = self._clock()
        with self._changed:
            self._failure = reason
            self._failed_at = time.monotonic()
            self._retry_at = now + RETRY_SECONDS
            serving = self._servable(self._held, now)
        if serving:
            then = f"serving the current one until {self._held.expiration}; trying again in {RETRY_SECONDS:g} s"
        else:
            then = "the next request tries again"
        self._warn(f"could not renew the session of {self._label}: {reason}; {then}")
        if error is not None:
            self._log_traceback(error)

    def _log_traceback(self, error: BaseException) -> None:
        import traceback

        from ..redact import redact

        self._log(redact("".join(traceback.format_exception(type(error), error, error.__traceback__))).rstrip())

    def _servable(self, credentials: Credentials, now: Optional[float] = None) -> bool:
        return credentials.seconds_left(self._clock() if now is None else now) > SERVE_FLOOR_SECONDS

    def _unavailable_reason(self) -> str:
        ended = f"the session of {self._label} has ended ({self._held.expiration})"
        if self._stopping:
            return f"{ended} and mfa-process is stopping"
        # a request asks for the renewal before it hears the reason: one is always pending or coming
        if self._failure is None:
            return f"{ended}; mfa-process is renewing it (on its terminal, if it needs an MFA code): try again"
        return f"{ended}; mfa-process is renewing it, the last try failed: {self._failure}"


def _masked(access_key_id: str) -> str:
    return access_key_id[:4] + "..." + access_key_id[-4:]
