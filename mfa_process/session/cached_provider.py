"""The cache in front of GetSessionToken: lookup, refresh margin, one fetch, store.

The hit path touches only the cache file. On a miss, exactly one process per session key
holds the lock, asks for the code and calls STS; the others wait on the lock and then find
the fresh session in the cache. What the cache did not trust (a planted file, a folder others
can write, a link at the lock path) is said once per run, through ``warn``.
"""

from __future__ import annotations

import time

from ..errors import UnsafeCacheError
from .cache import SessionKey
from .credentials import REFRESH_MARGIN_SECONDS, served_until

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing on the cache-hit path
if TYPE_CHECKING:
    from typing import Callable, Optional, Protocol, Set

    from ..config.settings import Settings
    from ..watchdog import Watchdog
    from .cache import CachedSession, SessionCache
    from .credentials import Credentials
    from .lock import HeldLock

    Announce = Callable[[str], None]

    class Upstream(Protocol):
        """Gets a new session, signed with the base keys (SessionTokenProvider)."""

        @property
        def base_access_key_id(self) -> str: ...

        @property
        def mfa_authenticated_at(self) -> float:
            """When the code of the last session retrieved was sent."""

        def retrieve(self) -> Credentials: ...


class CachedSessionProvider:
    """The session ``settings`` describe (profile, device, duration, refresh), from the cache
    when it holds one worth serving, else from the upstream ``open_upstream(announce)`` opens:
    ``announce`` tells processes waiting on our lock what the upstream waits on. The lock wait
    is bounded by the watchdog ``new_lock_watchdog`` makes (lock timeout, caller gone)."""

    def __init__(
        self,
        cache: SessionCache,
        settings: Settings,
        open_upstream: Callable[[Announce], Upstream],
        new_lock_watchdog: Callable[[], Watchdog],
        warn: Callable[[str], None] = lambda message: None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.cache = cache
        self.settings = settings
        self.open_upstream = open_upstream
        self.new_lock_watchdog = new_lock_watchdog
        self.warn = warn
        self.clock = clock
        self._upstream: Optional[Upstream] = None
        self._warned: Set[str] = set()
        self._held: Optional[HeldLock] = None

    def cached(self) -> Optional[CachedSession]:
        """The session the cache would serve now, without asking anyone (for `login`, `env`);
        its credentials say when they must be renewed (the MFA max age may bring that forward)."""
        try:
            base_access_key_id = self.settings.known_base_access_key_id or self._open_upstream().base_access_key_id
            return self._servable(self.cache.load(self._key(base_access_key_id)))
        finally:
            self._warn_cache_problems()

    def retrieve(self) -> Credentials:
        try:
            return self._retrieve()
        finally:
            self._warn_cache_problems()

    def _retrieve(self) -> Credentials:
        started = self.clock()
        known = self.settings.known_base_access_key_id
        if known is not None:  # the files name the key: no botocore yet
            key = self._key(known)
        else:
            key = self._key(self._open_upstream().base_access_key_id)
        hit = self._lookup(key)
        if hit is not None:
            return hit
        return self._fetch_once(key, started)

    def _fetch_once(self, key: SessionKey, started: float) -> Credentials:
        """Under the session's lock: serve what another process just cached, or fetch and store.

        botocore is imported only here, by the one process that holds the lock and still finds
        no session: many processes starting at once do not each pay for it.
        """
        from contextlib import ExitStack

        from .lock import asking_for_code, session_lock

        holder_hint = asking_for_code(self.settings.profile)
        with ExitStack() as held:
            try:
                self.cache.ensure_directory()
                self._held = held.enter_context(
                    session_lock(self.cache.lock_path_for(key), self.new_lock_watchdog(), holder_hint)
                )
                held.callback(self._release)
            except UnsafeCacheError as error:  # a folder or lock file we must not use: served alike
                self._warned.add(str(error))
                self.warn(f"{error} (this session is not cached)")
                return self._uncached()
            except OSError as error:  # no usable cache folder: still serve, uncached and unlocked
                self.warn(f"cannot use the cache folder {self.cache.directory} ({error}); this session is not cached")
                return self._uncached()
            stored = self.cache.load(key)
            # a session issued since this run started is served even under --refresh or
            # --min-remaining: the one who held the lock just asked for the code
            just_issued = stored is not None and stored.issued_at > started
            fresh = self._servable(stored, minimum=REFRESH_MARGIN_SECONDS if just_issued else None)
            if fresh is not None and (not self.settings.refresh or just_issued):
                return fresh.credentials
            upstream = self._open_upstream()
            key = self._key(upstream.base_access_key_id)  # the same, unless the files misled us
            credentials = upstream.retrieve()
            served = self._as_served(credentials, upstream.mfa_authenticated_at)
            try:
                self.cache.store(
                    key, credentials, issued_at=self.clock(), mfa_authenticated_at=upstream.mfa_authenticated_at
                )
            except UnsafeCacheError as error:  # the folder changed hands while we prompted
                self._warned.add(str(error))
                self.warn(f"{error} (this session is not cached)")
            except OSError as error:
                self.warn(f"could not cache the session in {self.cache.directory} ({error}); you will be asked again")
            return served

    def _uncached(self) -> Credentials:
        """A new session from upstream, not stored (no usable cache)."""
        upstream = self._open_upstream()
        credentials = upstream.retrieve()
        return self._as_served(credentials, upstream.mfa_authenticated_at)

    def _as_served(self, credentials: Credentials, mfa_authenticated_at: float) -> Credentials:
        """``credentials`` said to expire no later than their MFA max age allows."""
        return credentials.until(served_until(credentials.expires_at, mfa_authenticated_at, self.settings.max_mfa_age))

    def announce(self, phase: str) -> None:
        """Tell processes waiting on our lock what we wait on now ("waiting on STS at ...")."""
        if self._held is not None:
            self._held.announce(phase)

    def _release(self) -> None:
        self._held = None

    def _warn_cache_problems(self) -> None:
        """One warning per thing the cache did not trust (each names its fix)."""
        for message in self.cache.pop_warnings():
            if message not in self._warned:
                self._warned.add(message)
                self.warn(message)

    def _open_upstream(self) -> Upstream:
        """Once per run: the slow part, where botocore resolves the base keys."""
        if self._upstream is None:
            self._upstream = self.open_upstream(self.announce)
        return self._upstream

    def _lookup(self, key: SessionKey) -> Optional[Credentials]:
        session = None if self.settings.refresh else self._servable(self.cache.load(key))
        return session.credentials if session is not None else None

    def _key(self, base_access_key_id: str) -> SessionKey:
        settings = self.settings
        return SessionKey(settings.profile, base_access_key_id, settings.device.serial, settings.duration)

    def _servable(self, session: Optional[CachedSession], minimum: Optional[float] = None) -> Optional[CachedSession]:
        """``session``, its credentials expiring no later than its MFA max age allows, when it has
        more left than ``minimum`` (by default the refresh margin, or --min-remaining); else None."""
        if session is None:
            return None
        settings = self.settings
        until = served_until(session.credentials.expires_at, session.mfa_authenticated_at, settings.max_mfa_age)
        if minimum is None:
            minimum = max(REFRESH_MARGIN_SECONDS, settings.min_remaining or 0)
        if until - self.clock() <= minimum:
            return None
        session.credentials = session.credentials.until(until)
        return session
