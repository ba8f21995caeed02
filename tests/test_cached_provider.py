"""CachedSessionProvider: cache hits without botocore, one fetch per miss, the 15-minute margin, refresh, rotation."""

from __future__ import annotations

import errno
import os
from contextlib import contextmanager

import pytest

from mfa_process.config.mfa_device import parse_mfa_serial
from mfa_process.config.settings import Settings
from mfa_process.errors import (
    BaseCredentialsError,
    MfaCodeRejectedError,
    StsUnreachableError,
)
from mfa_process.session.cache import SessionCache, SessionKey
from mfa_process.session.cached_provider import CachedSessionProvider
from mfa_process.session.credentials import REFRESH_MARGIN_SECONDS, Credentials
from mfa_process.watchdog import no_watchdog

PROFILE = "base"
SERIAL = "arn:aws:iam::123456789012:mfa/alice"
DURATION = 43200
FILES_KEY = "AKIAFILESKEY00000001"
OLD_KEY = "AKIAOLDKEYBEFOREROT1"
NOW = 1_700_000_000


class Clock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class FakeUpstream:
    """Stands in for SessionTokenProvider: counts retrieve() calls."""

    def __init__(self, base_access_key_id: str, result: Credentials = None, error: BaseException = None) -> None:
        self.base_access_key_id = base_access_key_id
        self.result = result
        self.error = error
        self.calls = 0

    def retrieve(self) -> Credentials:
        self.calls += 1
        # as SessionTokenProvider: right before its call (on the tests' fixed clock: an hour before expiry)
        self.mfa_authenticated_at = self.result.expires_at - 3600 if self.result is not None else 0.0
        if self.error is not None:
            raise self.error
        return self.result


class Factory:
    """The open_upstream callable: counts calls."""

    def __init__(self, upstream: FakeUpstream = None, error: BaseException = None) -> None:
        self.upstream = upstream
        self.error = error
        self.calls = 0

    def __call__(self, announce=None) -> FakeUpstream:
        self.calls += 1
        if self.error is not None:
            raise self.error
        return self.upstream


def creds(access_key_id: str, expires_at: int = NOW + DURATION) -> Credentials:
    return Credentials(access_key_id, "secret-" + access_key_id, "token-" + access_key_id, expires_at, "123456789012")


def key(base_access_key_id: str = FILES_KEY) -> SessionKey:
    return SessionKey(PROFILE, base_access_key_id, SERIAL, DURATION)


@pytest.fixture
def cache(tmp_path) -> SessionCache:
    return SessionCache(str(tmp_path / "cache"))


@pytest.fixture
def locks(monkeypatch):
    """Paths of every session lock taken (a hit must not wait behind a prompting process)."""
    import mfa_process.session.lock

    taken = []
    real = mfa_process.session.lock.session_lock

    def counting_session_lock(path, *args):
        taken.append(path)
        return real(path, *args)

    monkeypatch.setattr(mfa_process.session.lock, "session_lock", counting_session_lock)
    return taken


@pytest.fixture
def while_waiting_for_the_lock(monkeypatch):
    """Run an action while retrieve() waits for the session lock: what another process does
    when it holds the lock and stores a session before letting us in."""
    import mfa_process.session.lock

    actions = []
    real = mfa_process.session.lock.session_lock

    @contextmanager
    def lock_after_actions(path, *args):
        for action in actions:
            action()
        with real(path, *args) as held:
            yield held

    monkeypatch.setattr(mfa_process.session.lock, "session_lock", lock_after_actions)
    return actions.append


def provider(cache, known, factory, clock=None, refresh=False, warn=None) -> CachedSessionProvider:
    settings = Settings(
        profile=PROFILE,
        device=parse_mfa_serial(SERIAL),
        duration=DURATION,
        lock_timeout=2,
        known_base_access_key_id=known,
        token_code=None,
        refresh=refresh,
    )
    return CachedSessionProvider(
        cache,
        settings,
        factory,
        lambda: no_watchdog(settings.lock_timeout),
        warn=warn if warn is not None else (lambda message: None),
        clock=clock or Clock(),
    )


def json_files(cache: SessionCache):
    if not os.path.isdir(cache.directory):
        return []
    return sorted(name for name in os.listdir(cache.directory) if name.endswith(".json"))


# --- hits and misses -------------------------------------------------------------------------


def test_hit_with_key_known_from_the_files_never_opens_the_upstream(cache, locks):
    stored = creds("ASIACACHED0000000001")
    cache.store(key(), stored, issued_at=NOW - 60)
    factory = Factory(error=AssertionError("open_upstream must not be called on a hit"))

    served = provider(cache, FILES_KEY, factory).retrieve()

    assert served == stored
    assert factory.calls == 0
    assert locks == []


def test_miss_calls_upstream_once_stores_and_the_next_call_is_a_hit(cache, locks):
    fresh = creds("ASIAFRESH00000000001")
    upstream = FakeUpstream(FILES_KEY, fresh)
    factory = Factory(upstream)

    first = provider(cache, FILES_KEY, factory).retrieve()

    assert first == fresh
    assert (factory.calls, upstream.calls) == (1, 1)
    assert locks == [cache.lock_path_for(key())]
    stored = cache.load(key())
    assert stored is not None
    assert stored.credentials == fresh
    assert stored.issued_at == NOW  # the injected clock, not time.time()

    second_factory = Factory(error=AssertionError("second call must be a hit"))
    second = provider(cache, FILES_KEY, second_factory).retrieve()

    assert second == fresh
    assert second_factory.calls == 0
    assert upstream.calls == 1
    assert len(locks) == 1


@pytest.mark.parametrize("known", [FILES_KEY, None], ids=["key-from-files", "key-from-upstream"])
@pytest.mark.parametrize(
    "seconds_left, served",
    [(REFRESH_MARGIN_SECONDS, False), (REFRESH_MARGIN_SECONDS + 1, True)],
    ids=["exactly-15-min-not-served", "15-min-plus-1s-served"],
)
def test_refresh_margin_is_strictly_more_than_15_minutes(cache, locks, known, seconds_left, served):
    assert REFRESH_MARGIN_SECONDS == 15 * 60
    cached = creds("ASIACACHED0000000001", expires_at=NOW + seconds_left)
    cache.store(key(), cached, issued_at=NOW - 3600)
    fresh = creds("ASIAFRESH00000000001")
    upstream = FakeUpstream(FILES_KEY, fresh)

    result = provider(cache, known, Factory(upstream), clock=Clock(NOW)).retrieve()

    if served:
        assert result == cached
        assert upstream.calls == 0
        assert locks == []
    else:
        assert result == fresh
        assert upstream.calls == 1
        assert cache.load(key()).credentials == fresh


def test_miss_served_from_a_session_another_process_stored_while_we_waited(cache, while_waiting_for_the_lock):
    """The cold-cache race: the lock holder stores, the waiter reads it instead of prompting,
    and never even resolves the base keys (no botocore import in the waiters)."""
    theirs = creds("ASIATHEIRS0000000001")
    upstream = FakeUpstream(FILES_KEY, creds("ASIAMINE000000000001"))
    factory = Factory(upstream)
    while_waiting_for_the_lock(lambda: cache.store(key(), theirs, issued_at=NOW + 1))

    result = provider(cache, FILES_KEY, factory).retrieve()

    assert result == theirs
    assert factory.calls == 0
    assert upstream.calls == 0


# --- refresh ---------------------------------------------------------------------------------


def test_refresh_bypasses_a_valid_cached_session(cache):
    old = creds("ASIAOLDVALID00000001")
    cache.store(key(), old, issued_at=NOW - 100)
    fresh = creds("ASIAFRESH00000000001")
    upstream = FakeUpstream(FILES_KEY, fresh)
    clock = Clock(NOW)

    result = provider(cache, FILES_KEY, Factory(upstream), clock=clock, refresh=True).retrieve()

    assert result == fresh
    assert upstream.calls == 1
    stored = cache.load(key())
    assert stored.credentials == fresh
    assert stored.issued_at == NOW


def test_refresh_serves_a_session_another_process_stored_after_this_call_started(cache, while_waiting_for_the_lock):
    old = creds("ASIAOLDVALID00000001")
    cache.store(key(), old, issued_at=NOW - 100)
    newer = creds("ASIANEWER00000000001")
    clock = Clock(NOW)

    def another_process_refreshes_first() -> None:
        clock.now = NOW + 5  # time passes while we wait for its lock
        cache.store(key(), newer, issued_at=NOW + 5)

    upstream = FakeUpstream(FILES_KEY, creds("ASIAMINE000000000001"))
    factory = Factory(upstream)
    while_waiting_for_the_lock(another_process_refreshes_first)

    result = provider(cache, FILES_KEY, factory, clock=clock, refresh=True).retrieve()

    assert result == newer
    assert factory.calls == 0
    assert upstream.calls == 0


# --- which base key ----------------------------------------------------------------------------


def test_unknown_key_from_files_takes_the_key_from_upstream_and_hits_without_retrieve(cache, locks):
    stored = creds("ASIACACHED0000000001")
    cache.store(key(FILES_KEY), stored, issued_at=NOW - 60)
    upstream = FakeUpstream(FILES_KEY, creds("ASIAFRESH00000000001"))
    factory = Factory(upstream)

    result = provider(cache, None, factory).retrieve()

    assert result == stored
    assert factory.calls == 1
    assert upstream.calls == 0
    assert locks == []


@pytest.mark.parametrize("known", [FILES_KEY, None], ids=["files-name-the-new-key", "key-only-from-upstream"])
def test_rotated_base_key_does_not_serve_the_old_keys_session(cache, known):
    old_session = creds("ASIAOLDKEYSESSION001")
    cache.store(key(OLD_KEY), old_session, issued_at=NOW - 60)
    fresh = creds("ASIAFRESH00000000001")
    upstream = FakeUpstream(FILES_KEY, fresh)

    result = provider(cache, known, Factory(upstream)).retrieve()

    assert result == fresh
    assert upstream.calls == 1
    assert cache.load(key(FILES_KEY)).credentials == fresh
    assert cache.load(key(OLD_KEY)).credentials == old_session  # a different file, left alone


def test_files_key_differs_from_upstream_key_stores_under_the_upstreams_key(cache):
    """botocore's answer wins: the session is filed (and later found) under the key that signed it."""
    fresh = creds("ASIAFRESH00000000001")
    upstream = FakeUpstream(FILES_KEY, fresh)

    result = provider(cache, OLD_KEY, Factory(upstream)).retrieve()

    assert result == fresh
    assert upstream.calls == 1
    assert cache.load(key(FILES_KEY)).credentials == fresh
    assert cache.load(key(OLD_KEY)) is None


# --- failures --------------------------------------------------------------------------------


def test_store_failure_still_returns_the_credentials_and_warns_naming_the_cache_folder(cache, monkeypatch):
    def failing_store(self, key, credentials, issued_at, mfa_authenticated_at=None):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(SessionCache, "store", failing_store)
    fresh = creds("ASIAFRESH00000000001")
    upstream = FakeUpstream(FILES_KEY, fresh)
    warnings = []

    result = provider(cache, FILES_KEY, Factory(upstream), warn=warnings.append).retrieve()

    assert result == fresh
    assert upstream.calls == 1
    assert len(warnings) == 1
    assert cache.directory in warnings[0]
    assert "No space left on device" in warnings[0]
    assert fresh.secret_access_key not in warnings[0]


def test_unusable_cache_folder_still_returns_the_credentials_and_warns(tmp_path):
    """A cache folder that cannot be created or written (here: a regular file is in the way; for a
    non-root user a read-only folder does the same) must not cost the person their session."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    cache = SessionCache(str(blocker / "mfa-process"))
    fresh = creds("ASIAFRESH00000000001")
    upstream = FakeUpstream(FILES_KEY, fresh)
    warnings = []

    result = provider(cache, FILES_KEY, Factory(upstream), warn=warnings.append).retrieve()

    assert result == fresh
    assert upstream.calls == 1
    assert any(cache.directory in warning for warning in warnings)


@pytest.mark.parametrize(
    "error",
    [MfaCodeRejectedError("AWS rejected 3 MFA codes"), StsUnreachableError("cannot reach STS"), KeyboardInterrupt()],
    ids=["rejected", "unreachable", "ctrl-c"],
)
def test_upstream_retrieve_errors_propagate_unchanged_and_nothing_is_stored(cache, error):
    upstream = FakeUpstream(FILES_KEY, error=error)

    with pytest.raises(type(error)) as raised:
        provider(cache, FILES_KEY, Factory(upstream)).retrieve()

    assert raised.value is error
    assert upstream.calls == 1
    assert json_files(cache) == []

    # and the lock was released: the next run gets its session at once
    fresh = creds("ASIAFRESH00000000001")
    assert provider(cache, FILES_KEY, Factory(FakeUpstream(FILES_KEY, fresh))).retrieve() == fresh


def test_upstream_factory_errors_propagate_unchanged_and_nothing_is_stored(cache):
    error = BaseCredentialsError("profile 'base' has no access keys")
    factory = Factory(error=error)

    with pytest.raises(BaseCredentialsError) as raised:
        provider(cache, None, factory).retrieve()

    assert raised.value is error
    assert factory.calls == 1
    assert json_files(cache) == []


# --- what the cache did not trust --------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX links and owners")
def test_symlinked_lock_file_still_serves_uncached_with_one_warning_naming_the_lock(cache, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    cache.ensure_directory()
    os.symlink(victim, cache.lock_path_for(key()))
    fresh = creds("ASIAFRESH00000000001")
    upstream = FakeUpstream(FILES_KEY, fresh)
    warnings = []

    result = provider(cache, FILES_KEY, Factory(upstream), warn=warnings.append).retrieve()

    assert result == fresh
    assert upstream.calls == 1
    assert warnings == [
        f"the lock file {cache.lock_path_for(key())} is a symbolic link; remove it (this session is not cached)"
    ]
    assert victim.read_text() == "precious\n"
    assert json_files(cache) == []


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX links and owners")
def test_untrusted_session_file_is_a_miss_warned_once_then_replaced(cache):
    path = cache.store(key(), creds("ASIAPLANTED000000001"), issued_at=NOW - 60)
    os.chown(path, 12345, 12345)
    fresh = creds("ASIAFRESH00000000001")
    upstream = FakeUpstream(FILES_KEY, fresh)
    warnings = []

    result = provider(cache, FILES_KEY, Factory(upstream), warn=warnings.append).retrieve()

    assert result == fresh
    assert len(warnings) == 1 and path in warnings[0] and "uid 12345" in warnings[0]
    assert cache.load(key()).credentials == fresh  # stored in its place, ours now


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX links and owners")
def test_foreign_cache_folder_serves_uncached_with_one_warning(cache):
    cache.store(key(), creds("ASIAPLANTED000000001"), issued_at=NOW - 60)
    os.chown(cache.directory, 12345, 12345)
    fresh = creds("ASIAFRESH00000000001")
    upstream = FakeUpstream(FILES_KEY, fresh)
    warnings = []

    result = provider(cache, FILES_KEY, Factory(upstream), warn=warnings.append).retrieve()

    assert result == fresh
    [warning] = warnings
    assert cache.directory in warning and "uid 12345" in warning and warning.endswith("(this session is not cached)")
