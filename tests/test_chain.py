"""session.chain: what build_provider puts together for a Settings, and how the parts meet
(the code source chosen when asked, the watchdogs, announcements to lock waiters)."""

from __future__ import annotations

import os
import time

import pytest

from mfa_process.config.mfa_device import parse_mfa_serial
from mfa_process.config.settings import Settings
from mfa_process.errors import CallerGoneError, LockTimeoutError, login_hint
from mfa_process.prompt.token_code import TokenCode
from mfa_process.session import base_keys
from mfa_process.session.cache import SessionCache, SessionKey
from mfa_process.session.cached_provider import CachedSessionProvider
from mfa_process.session.chain import ChosenWhenAsked, MissPath, build_provider
from mfa_process.session.credentials import Credentials
from mfa_process.session.session_token import SessionTokenProvider
from mfa_process.watchdog import Watchdog, no_watchdog

SERIAL = "arn:aws:iam::123456789012:mfa/alice"
BASE_KEY = "AKIAFILESKEY00000001"
fcntl = pytest.importorskip("fcntl")  # the lock is flock(2) on POSIX


def settings(token_code=None, known=BASE_KEY, **options) -> Settings:
    return Settings(
        profile="base",
        device=parse_mfa_serial(SERIAL),
        duration=43200,
        lock_timeout=7.0,
        known_base_access_key_id=known,
        token_code=token_code,
        refresh=False,
        prompt_timeout=11.0,
        sts_timeout=13.0,
        **options,
    )


def creds(access_key_id: str = "ASIACACHED0000000001") -> Credentials:
    return Credentials(access_key_id, "secret", "token", int(time.time()) + 7200, "123456789012")


@pytest.fixture
def environ(tmp_path):
    return {"HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / "cache")}


def key() -> SessionKey:
    return SessionKey("base", BASE_KEY, SERIAL, 43200)


# --- build_provider ---------------------------------------------------------------------------------


def test_build_provider_serves_a_hit_from_the_users_cache(environ, tmp_path):
    stored = creds()
    SessionCache(str(tmp_path / "cache" / "mfa-process")).store(key(), stored, issued_at=time.time())

    provider = build_provider(settings(), environ, warn=pytest.fail)

    assert isinstance(provider, CachedSessionProvider)
    assert provider.retrieve() == stored


def test_build_provider_passes_what_the_cache_did_not_trust_to_warn(environ, tmp_path):
    folder = tmp_path / "cache" / "mfa-process"
    SessionCache(str(folder)).store(key(), creds(), issued_at=time.time())
    os.chmod(folder, 0o777)  # others could plant sessions: not trusted
    warnings = []
    provider = build_provider(settings(), environ, warn=warnings.append)

    assert provider.cached() is None
    assert len(warnings) == 1 and str(folder) in warnings[0]


# --- the code source --------------------------------------------------------------------------------


def test_a_token_code_is_the_code_source(environ):
    source = MissPath(settings(token_code="123456"), environ, lambda: True).code_source(announce=pytest.fail)

    assert isinstance(source, TokenCode)
    assert source(SERIAL, None) == "123456"


def test_without_a_token_code_the_source_is_chosen_only_when_a_code_is_needed(environ, monkeypatch):
    chosen = []
    heard = []

    def choose():
        chosen.append(True)
        return lambda serial, notice: f"code for {serial} ({notice})"

    miss = MissPath(settings(), environ, lambda: True)
    monkeypatch.setattr(miss, "choose_code_source", choose)
    source = miss.code_source(heard.append)

    assert isinstance(source, ChosenWhenAsked) and chosen == [] and heard == []
    assert source(SERIAL, None) == f"code for {SERIAL} (None)"
    assert source(SERIAL, "again") == f"code for {SERIAL} (again)"
    assert chosen == [True]  # chosen once
    assert heard == ["asking for the MFA code of profile 'base'"] * 2  # waiters hear each time we ask


def test_the_chosen_source_gets_the_settings_and_a_prompt_watchdog(environ, monkeypatch):
    import mfa_process.prompt.choose

    seen = {}

    def code_source(prompt, profile, mfa_process_command, oath_account, new_watchdog, env):
        seen.update(prompt=prompt, profile=profile, command=mfa_process_command, oath=oath_account, env=env)
        seen["watchdog"] = new_watchdog()
        return lambda serial, notice: "654321"

    monkeypatch.setattr(mfa_process.prompt.choose, "code_source", code_source)
    resolved = settings(prompt="ykman", mfa_process_command="print-code", oath_account="AWS:alice")

    MissPath(resolved, environ, lambda: False).choose_code_source()

    assert [seen[name] for name in ("prompt", "profile", "command", "oath")] == [
        "ykman",
        "base",
        "print-code",
        "AWS:alice",
    ]
    assert seen["env"] is environ
    watchdog = seen["watchdog"]
    assert watchdog.timeout == 11.0
    assert watchdog.timeout_hint == login_hint("base") == "run `mfa-process login --profile base` in a terminal first"
    assert watchdog.caller_alive() is False  # the caller watch build_provider made


# --- the upstream -----------------------------------------------------------------------------------


def test_open_upstream_is_get_session_token_that_announces_the_sts_call(environ, monkeypatch):
    monkeypatch.setattr(base_keys, "open_base_session", lambda profile: base_keys.BaseSession(None, BASE_KEY))
    heard = []

    upstream = MissPath(settings(token_code="123456"), environ, lambda: True).open_upstream(heard.append)

    assert isinstance(upstream, SessionTokenProvider)
    assert (upstream.profile, upstream.device.serial, upstream.duration, upstream.sts_timeout) == (
        "base",
        SERIAL,
        43200,
        13.0,
    )
    assert isinstance(upstream.code_source, TokenCode)
    upstream.on_calling_sts("https://sts.us-east-1.amazonaws.com")
    assert heard == ["waiting on STS at https://sts.us-east-1.amazonaws.com (for up to 13 s)"]


class AnnouncingUpstream:
    """Reads the lock file while it 'calls STS', after announcing it."""

    base_access_key_id = BASE_KEY
    mfa_authenticated_at = 0.0

    def __init__(self, announce, lock_path: str) -> None:
        self.announce = announce
        self.lock_path = lock_path
        self.lock_text = None

    def retrieve(self) -> Credentials:
        self.announce("waiting on STS at http://127.0.0.1:9/")
        with open(self.lock_path) as lock_file:
            self.lock_text = lock_file.read()
        return creds("ASIAFRESH00000000001")


def test_the_upstream_announces_through_the_held_lock(tmp_path):
    cache = SessionCache(str(tmp_path / "cache"))
    opened = []

    def open_upstream(announce):
        opened.append(AnnouncingUpstream(announce, cache.lock_path_for(key())))
        return opened[0]

    provider = CachedSessionProvider(cache, settings(), open_upstream, lambda: no_watchdog(2))

    assert provider.retrieve().access_key_id == "ASIAFRESH00000000001"
    assert opened[0].lock_text == "waiting on STS at http://127.0.0.1:9/\n"


# --- the lock wait is bounded by the lock watchdog --------------------------------------------------


@pytest.fixture
def held_elsewhere(tmp_path):
    """The session's lock held through another open file (flock: as if by another process)."""
    cache = SessionCache(str(tmp_path / "cache"))
    cache.ensure_directory()
    path = cache.lock_path_for(key())
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    yield cache
    os.close(fd)


def never_opened(announce):
    raise AssertionError("a waiter that gave up must not open the upstream")


def test_lock_wait_ends_when_the_lock_watchdogs_caller_is_gone(held_elsewhere):
    provider = CachedSessionProvider(held_elsewhere, settings(), never_opened, lambda: Watchdog(30, lambda: False))
    started = time.monotonic()

    with pytest.raises(CallerGoneError) as raised:
        provider.retrieve()

    assert time.monotonic() - started < 1
    assert str(raised.value) == "the program that started mfa-process is gone; stopped waiting for another mfa-process"


def test_lock_wait_ends_at_the_lock_watchdogs_deadline(held_elsewhere):
    provider = CachedSessionProvider(held_elsewhere, settings(), never_opened, lambda: no_watchdog(0.3))

    with pytest.raises(LockTimeoutError) as raised:
        provider.retrieve()

    assert str(raised.value).startswith("waited 0.3 s for another mfa-process that is ")


def test_the_lock_watchdog_has_the_lock_timeout_and_the_caller_watch(environ):
    watchdog = MissPath(settings(), environ, lambda: False).lock_watchdog()

    assert watchdog.timeout == 7.0
    assert watchdog.caller_alive() is False
