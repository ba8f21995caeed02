"""SessionCache: private files, one per session key, replaced atomically, and never a crash on a bad file."""

from __future__ import annotations

import json
import os
import stat
import time

import pytest

from mfa_process.session.cache import SessionCache, SessionKey
from mfa_process.session.credentials import Credentials

BASE_KEY = "AKIABASEKEY000000001"
SERIAL = "arn:aws:iam::123456789012:mfa/alice"
ISSUED_AT = 1_700_000_000
EXPIRES_AT = ISSUED_AT + 43200


def key(profile="base", base_access_key_id=BASE_KEY, mfa_serial=SERIAL, duration=43200):
    return SessionKey(profile, base_access_key_id, mfa_serial, duration)


def credentials(access_key_id="ASIASESSION000000001", expires_at=EXPIRES_AT):
    return Credentials(access_key_id, "session-secret", "session-token", expires_at, "123456789012")


@pytest.fixture
def cache(tmp_path):
    return SessionCache(str(tmp_path / "cache"))


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def rewrite(path, change):
    """Apply ``change`` to the stored JSON document at ``path``."""
    with open(path, encoding="utf-8") as file:
        document = json.load(file)
    change(document)
    with open(path, "w", encoding="utf-8") as file:
        json.dump(document, file)


def test_store_then_load_round_trip(cache):
    stored = credentials()
    path = cache.store(key(), stored, issued_at=ISSUED_AT)

    session = cache.load(key())

    assert session is not None
    assert session.credentials == stored
    assert (session.profile, session.mfa_serial, session.duration) == ("base", SERIAL, 43200)
    assert session.issued_at == ISSUED_AT
    assert session.path == path == cache.path_for(key())


def test_load_with_an_equal_key_built_separately_finds_the_session(cache):
    cache.store(SessionKey("base", BASE_KEY, SERIAL, 43200), credentials(), issued_at=ISSUED_AT)

    assert cache.load(SessionKey("base", BASE_KEY, SERIAL, 43200)) is not None


def test_file_is_0600_and_new_folder_0700(cache):
    path = cache.store(key(), credentials(), issued_at=ISSUED_AT)

    assert mode(path) == 0o600
    assert mode(cache.directory) == 0o700


def test_existing_0755_folder_is_tightened_to_0700(cache):
    os.makedirs(cache.directory, mode=0o755)
    os.chmod(cache.directory, 0o755)

    cache.store(key(), credentials(), issued_at=ISSUED_AT)

    assert mode(cache.directory) == 0o700


def test_replacing_a_0644_file_leaves_a_0600_file(cache):
    path = cache.store(key(), credentials(), issued_at=ISSUED_AT)
    os.chmod(path, 0o644)

    cache.store(key(), credentials(access_key_id="ASIASESSION000000002"), issued_at=ISSUED_AT)

    assert mode(path) == 0o600


@pytest.mark.parametrize(
    "other",
    [
        pytest.param(key(profile="other"), id="profile"),
        pytest.param(key(base_access_key_id="AKIABASEKEY000000002"), id="base-key"),
        pytest.param(key(mfa_serial="arn:aws:iam::123456789012:mfa/bob"), id="serial"),
        pytest.param(key(duration=3600), id="duration"),
    ],
)
def test_distinct_session_keys_get_distinct_files(cache, other):
    assert cache.path_for(other) != cache.path_for(key())
    assert cache.lock_path_for(other) != cache.lock_path_for(key())

    cache.store(key(), credentials("ASIAFIRST00000000001"), issued_at=ISSUED_AT)
    cache.store(other, credentials("ASIASECOND0000000002"), issued_at=ISSUED_AT)

    assert cache.load(key()).credentials.access_key_id == "ASIAFIRST00000000001"
    assert cache.load(other).credentials.access_key_id == "ASIASECOND0000000002"


def test_base_access_key_id_is_in_neither_file_name_nor_content(cache):
    path = cache.store(key(), credentials(), issued_at=ISSUED_AT)

    assert BASE_KEY not in os.path.basename(path)
    assert BASE_KEY not in cache.lock_path_for(key())
    with open(path, encoding="utf-8") as file:
        assert BASE_KEY not in file.read()


def test_missing_file_is_a_miss(cache):
    assert cache.load(key()) is None


def test_missing_folder_is_a_miss(tmp_path):
    assert SessionCache(str(tmp_path / "does-not-exist")).load(key()) is None


def stored_bytes(cache):
    path = cache.store(key(), credentials(), issued_at=ISSUED_AT)
    with open(path, "rb") as file:
        return path, file.read()


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda raw: b"", id="empty"),
        pytest.param(lambda raw: raw[: len(raw) // 2], id="truncated"),
        pytest.param(lambda raw: b"[" + raw + b"]", id="json-list"),
        pytest.param(lambda raw: b"null", id="json-null"),
        pytest.param(lambda raw: b"\xff\xfe" + raw, id="not-utf8"),
        pytest.param(lambda raw: b"[" * 30000 + b"]" * 30000, id="deeply-nested"),
    ],
)
def test_damaged_file_is_a_miss(cache, damage):
    path, raw = stored_bytes(cache)
    with open(path, "wb") as file:
        file.write(damage(raw))

    assert cache.load(key()) is None


def set_key(name, value):
    def change(document):
        document[name] = value

    return change


def set_credential(name, value):
    def change(document):
        document["credentials"][name] = value

    return change


def delete_key(name):
    def change(document):
        del document[name]

    return change


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(set_key("format", 2), id="format-2"),
        pytest.param(set_key("format", "1"), id="format-string"),
        pytest.param(delete_key("format"), id="format-missing"),
        pytest.param(delete_key("credentials"), id="credentials-missing"),
        pytest.param(set_key("credentials", "ASIA..."), id="credentials-string"),
        pytest.param(set_credential("SecretAccessKey", None), id="secret-null"),
        pytest.param(set_credential("SessionToken", 42), id="token-number"),
        pytest.param(set_key("profile", None), id="profile-null"),
        pytest.param(set_key("mfa_serial", 123), id="serial-number"),
        pytest.param(set_key("duration", "43200"), id="duration-string"),
        pytest.param(set_key("duration", True), id="duration-bool"),
        pytest.param(set_key("issued_at", str(ISSUED_AT)), id="issued-at-string"),
        pytest.param(set_key("issued_at", True), id="issued-at-bool"),
        pytest.param(delete_key("issued_at"), id="issued-at-missing"),
        pytest.param(set_key("expires_at", str(EXPIRES_AT)), id="expires-at-string"),
        pytest.param(set_key("expires_at", EXPIRES_AT + 60), id="expires-at-disagrees-with-expiration"),
        pytest.param(set_key("expires_at", 10**20), id="expires-at-out-of-range"),
    ],
)
def test_file_with_wrong_format_or_types_is_a_miss(cache, change):
    path = cache.store(key(), credentials(), issued_at=ISSUED_AT)
    rewrite(path, change)

    assert cache.load(key()) is None


def padded_to(cache, size):
    """Store a valid session, then pad its file with JSON whitespace to exactly ``size`` bytes."""
    path, raw = stored_bytes(cache)
    with open(path, "wb") as file:
        file.write(raw + b" " * (size - len(raw)))
    assert os.path.getsize(path) == size
    return path


def test_file_of_exactly_64_kib_is_read(cache):
    padded_to(cache, 64 * 1024)

    assert cache.load(key()) is not None


def test_file_over_64_kib_is_a_miss(cache):
    padded_to(cache, 64 * 1024 + 1)

    assert cache.load(key()) is None


@pytest.mark.parametrize(
    "other",
    [
        pytest.param(key(profile="other"), id="profile"),
        pytest.param(key(mfa_serial="arn:aws:iam::123456789012:mfa/bob"), id="serial"),
        pytest.param(key(duration=3600), id="duration"),
    ],
)
def test_file_stored_for_another_key_is_a_miss(cache, other):
    # Someone else's session under this key's file name (a copied or hash-colliding file).
    other_path = cache.store(other, credentials(), issued_at=ISSUED_AT)
    os.replace(other_path, cache.path_for(key()))

    assert cache.load(key()) is None


def temp_files(cache):
    return sorted(name for name in os.listdir(cache.directory) if name.startswith(".tmp-"))


def test_store_replaces_the_file_and_leaves_no_temp_file(cache):
    cache.store(key(), credentials("ASIAFIRST00000000001"), issued_at=ISSUED_AT)
    cache.store(key(), credentials("ASIASECOND0000000002"), issued_at=ISSUED_AT + 1)

    assert os.listdir(cache.directory) == [os.path.basename(cache.path_for(key()))]
    session = cache.load(key())
    assert session.credentials.access_key_id == "ASIASECOND0000000002"
    assert session.issued_at == ISSUED_AT + 1


def test_failed_store_keeps_the_old_file_and_leaves_no_temp_file(cache, monkeypatch):
    cache.store(key(), credentials("ASIAFIRST00000000001"), issued_at=ISSUED_AT)

    def failing_replace(source, destination):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError):
        cache.store(key(), credentials("ASIASECOND0000000002"), issued_at=ISSUED_AT)
    monkeypatch.undo()

    assert temp_files(cache) == []
    assert cache.load(key()).credentials.access_key_id == "ASIAFIRST00000000001"


def test_stale_temp_file_is_removed_and_fresh_one_kept_on_next_store(cache):
    os.makedirs(cache.directory)
    now = time.time()
    stale = os.path.join(cache.directory, ".tmp-stale.json")
    fresh = os.path.join(cache.directory, ".tmp-fresh.json")
    for path, age in ((stale, 11 * 60), (fresh, 9 * 60)):
        with open(path, "w") as file:
            file.write("{")
        os.utime(path, (now - age, now - age))

    cache.store(key(), credentials(), issued_at=ISSUED_AT)

    assert temp_files(cache) == [".tmp-fresh.json"]


def test_sessions_lists_readable_sessions_and_skips_junk(cache):
    first = cache.store(key(profile="alpha"), credentials("ASIAALPHA00000000001"), issued_at=ISSUED_AT)
    second = cache.store(key(profile="beta"), credentials("ASIABETA000000000002"), issued_at=ISSUED_AT)
    with open(first, "rb") as file:
        valid = file.read()
    junk = {
        "junk.json": b"{not json",
        "list.json": b"[]",
        "notes.txt": valid,  # valid content, but not a .json file
        ".tmp-abc.json": valid,  # a writer's temp file
        ".hidden.json": valid,
        os.path.basename(cache.lock_path_for(key(profile="alpha"))): b"",
    }
    for name, content in junk.items():
        with open(os.path.join(cache.directory, name), "wb") as file:
            file.write(content)
    os.mkdir(os.path.join(cache.directory, "folder.json"))

    sessions = list(cache.sessions())

    assert [session.path for session in sessions] == sorted([first, second])
    assert sorted(session.profile for session in sessions) == ["alpha", "beta"]
    assert {session.credentials.access_key_id for session in sessions} == {
        "ASIAALPHA00000000001",
        "ASIABETA000000000002",
    }


def test_sessions_of_a_missing_folder_is_empty(tmp_path):
    assert list(SessionCache(str(tmp_path / "does-not-exist")).sessions()) == []


@pytest.mark.parametrize("profile", ["team/prod", "my profile", "../../escape", "a\\b:c*d?", "日本語"])
def test_odd_profile_names_give_safe_file_names_in_the_folder(cache, profile):
    path = cache.store(key(profile=profile), credentials(), issued_at=ISSUED_AT)
    name = os.path.basename(path)

    assert os.path.dirname(path) == cache.directory
    assert all(char.isascii() and (char.isalnum() or char in "_.-") for char in name)
    assert cache.load(key(profile=profile)).profile == profile


def test_long_profile_name_gives_a_short_file_name(cache):
    path = cache.store(key(profile="p" * 500), credentials(), issued_at=ISSUED_AT)

    assert len(os.path.basename(path)) < 100


@pytest.mark.parametrize("profile", [".hidden", "..", ".tmp-x"])
def test_profile_name_with_a_leading_dot_gives_a_listed_file(cache, profile):
    path = cache.store(key(profile=profile), credentials(), issued_at=ISSUED_AT)

    assert not os.path.basename(path).startswith(".")
    assert [session.profile for session in cache.sessions()] == [profile]


def test_session_of_profile_named_like_a_temp_file_survives_later_stores(cache):
    path = cache.store(key(profile=".tmp-x"), credentials(), issued_at=ISSUED_AT)
    old = time.time() - 11 * 60
    os.utime(path, (old, old))

    cache.store(key(profile="other"), credentials(), issued_at=ISSUED_AT)

    assert cache.load(key(profile=".tmp-x")) is not None
