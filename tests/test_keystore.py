"""keystore/: the key's shape, the config's facts about it, where status finds it, and the
keyring store's refusals (a stub backend here; tests/test_keyring_e2e.py uses a real Secret Service)."""

from __future__ import annotations

import threading
import time

import keyring
import keyring.backend
import pytest

from mfa_process.config.profile_edit import planned_edit
from mfa_process.config.settings import resolve_settings
from mfa_process.errors import (
    ConfigError,
    InvalidKeyError,
    KeyringEntryError,
    KeyringError,
    KeyStoreConflictError,
)
from mfa_process.keystore import keyring_store
from mfa_process.keystore.access_key import AccessKey, parse_access_key
from mfa_process.keystore.key_facts import KeyAge, format_time, key_age, parse_time, record_facts
from mfa_process.keystore.key_locations import key_locations
from mfa_process.keystore.keyring_store import SERVICE, KeyringStore

KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
SERIAL = "arn:aws:iam::123456789012:mfa/alice"


# --- the key's shape -------------------------------------------------------------------------------


def test_a_well_formed_key_is_taken_and_its_secret_never_shown():
    key = parse_access_key(f" {KEY_ID} ", SECRET + "\n", "the terminal")

    assert key == AccessKey(KEY_ID, SECRET)
    assert SECRET not in repr(key) and SECRET not in str(key) and KEY_ID in repr(key)


@pytest.mark.parametrize(
    "key_id, secret, says",
    [
        ("", SECRET, "no access key ID in the terminal"),
        (KEY_ID, "", "no secret access key in the terminal"),
        ("ASIAIOSFODNN7EXAMPLE", SECRET, "temporary"),
        ("AKIAIOSFODNN7EXAMPL", SECRET, "(AKIAIOSFODNN7EXAMPL) is not an IAM user's key"),
        ("akiaiosfodnn7example", SECRET, "is not an IAM user's key"),
        (KEY_ID, SECRET[:-1], "(it has 39)"),
        (KEY_ID, SECRET[:-1] + "!", "(it has 40)"),
    ],
)
def test_a_malformed_key_is_refused_naming_what_is_wrong(key_id, secret, says):
    with pytest.raises(InvalidKeyError) as raised:
        parse_access_key(key_id, secret, "the terminal")

    assert says in str(raised.value)
    assert not secret or secret not in str(raised.value)


# --- facts in the config file ---------------------------------------------------------------------


def test_times_are_written_and_read_as_utc():
    assert format_time(0) == "1970-01-01T00:00:00Z"
    assert parse_time("2026-12-02T06:10:15Z") == 1796191815.0
    assert parse_time("yesterday") is None


def test_the_age_is_exact_from_created_and_a_minimum_from_added():
    now = parse_time("2026-12-02T00:00:00Z")
    assert now is not None

    exact = key_age({"mfa_key_created": "2026-08-01T00:00:00Z", "mfa_key_added": "2026-12-01T00:00:00Z"})
    at_least = key_age({"mfa_key_added": "2026-11-20T00:00:00Z"})

    assert exact is not None and exact.exact and exact.shown(now) == "123d" and exact.due(now)
    assert at_least is not None and not at_least.exact and at_least.shown(now) == ">=12d"
    assert not at_least.due(now)
    assert key_age({"mfa_key_added": "not a date"}) is None
    assert KeyAge(now - 90 * 86400, True).due(now) and not KeyAge(now - 89 * 86400, True).due(now)


def test_recording_facts_replaces_older_ones_and_keeps_everything_else(tmp_path):
    config = tmp_path / "config"
    config.write_text(
        "# mine\n[profile base]\nmfa_serial = " + SERIAL + "\nmfa_key_added = 2020-01-01T00:00:00Z\n\n"
        "[profile mfa]\ncredential_process = mfa-process --profile base\n"
    )
    environ = {"AWS_CONFIG_FILE": str(config)}

    record_facts("base", environ, KEY_ID, created=0)

    assert config.read_text() == (
        "# mine\n[profile base]\nmfa_serial = " + SERIAL + "\nmfa_key_store = keyring\n"
        f"mfa_key_id = {KEY_ID}\nmfa_key_created = 1970-01-01T00:00:00Z\n\n"
        "[profile mfa]\ncredential_process = mfa-process --profile base\n"
    )


# --- removing keys from a credentials file ---------------------------------------------------------


CREDENTIALS = (
    "# keys\n[base]\n; the old one\naws_access_key_id = " + KEY_ID + "\naws_secret_access_key = " + SECRET + "\n"
    "region = eu-west-1\n\n[other]\naws_access_key_id = AKIAOTHER00000000000\naws_secret_access_key = x\n"
)


def test_removing_the_keys_takes_only_their_lines():
    edited = planned_edit(CREDENTIALS, "base", False, {}, ("aws_access_key_id", "aws_secret_access_key"), "creds")

    assert edited == CREDENTIALS.replace(
        "aws_access_key_id = " + KEY_ID + "\naws_secret_access_key = " + SECRET + "\n", ""
    )
    assert SECRET not in edited


def test_a_section_left_empty_goes_with_its_keys():
    text = "[base]\naws_access_key_id = " + KEY_ID + "\naws_secret_access_key = " + SECRET + "\n\n[other]\nx = 1\n"

    edited = planned_edit(text, "base", False, {}, ("aws_access_key_id", "aws_secret_access_key"), "creds")

    assert edited == "[other]\nx = 1\n"


def test_continuation_lines_go_with_their_key():
    text = "[base]\naws_secret_access_key = " + SECRET + "\n  more\nregion = x\n"

    assert planned_edit(text, "base", False, {}, ("aws_secret_access_key",), "creds") == "[base]\nregion = x\n"


# --- settings: keys in one place only --------------------------------------------------------------


def write(tmp_path, config: str, credentials: str = ""):
    (tmp_path / "config").write_text(config)
    (tmp_path / "credentials").write_text(credentials)
    return {
        "HOME": str(tmp_path),
        "AWS_CONFIG_FILE": str(tmp_path / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
    }


def test_a_keyring_profile_is_cached_under_the_key_id_the_config_records(tmp_path):
    environ = write(
        tmp_path, f"[profile base]\nmfa_serial = {SERIAL}\nmfa_key_store = keyring\nmfa_key_id = {KEY_ID}\n"
    )

    settings = resolve_settings("base", environ)

    assert settings.key_store == "keyring"
    assert settings.known_base_access_key_id == f"keyring:{KEY_ID}"


def test_keys_in_a_file_and_the_keyring_is_an_error_that_says_which_wins(tmp_path):
    environ = write(
        tmp_path,
        f"[profile base]\nmfa_serial = {SERIAL}\nmfa_key_store = keyring\n",
        f"[base]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = {SECRET}\n",
    )

    with pytest.raises(KeyStoreConflictError) as raised:
        resolve_settings("base", environ)

    message = str(raised.value)
    assert str(tmp_path / "credentials") in message
    assert "mfa-process would use the keyring's, other tools the file's" in message
    assert "--from-credentials-file" in message and "remove mfa_key_store" in message


def test_an_unknown_key_store_is_refused(tmp_path):
    environ = write(tmp_path, f"[profile base]\nmfa_serial = {SERIAL}\nmfa_key_store = vault\n")

    with pytest.raises(ConfigError, match="mfa_key_store 'vault' in profile 'base' is not 'keyring'"):
        resolve_settings("base", environ)


def test_status_finds_each_base_profile_and_where_its_keys_are(tmp_path):
    environ = write(
        tmp_path,
        f"[profile base]\nmfa_serial = {SERIAL}\nmfa_key_store = keyring\nmfa_key_added = 2026-01-01T00:00:00Z\n\n"
        f"[profile files]\nmfa_serial = {SERIAL}\n\n[profile mfa]\ncredential_process = mfa-process --profile base\n"
        "mfa_serial = x\n\n[profile plain]\nregion = eu-west-1\n",
        f"[files]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = {SECRET}\n",
    )

    found = {location.profile: location for location in key_locations(environ)}

    assert sorted(found) == ["base", "files"]
    assert found["base"].where == "keyring" and found["base"].age is not None
    assert found["files"].where == str(tmp_path / "credentials") and found["files"].age is None


# --- the keyring store, on a stub backend ------------------------------------------------------------


class MemoryKeyring(keyring.backend.KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.items: dict = {}
        self.block = threading.Event()
        self.blocking = False

    def get_password(self, service, username):
        if self.blocking:
            self.block.wait(5)
        return self.items.get((service, username))

    def set_password(self, service, username, password):
        self.items[(service, username)] = password

    def delete_password(self, service, username):
        del self.items[(service, username)]


ALLOW_MEMORY = {"MFA_PROCESS_KEYRING_BACKENDS": f"{MemoryKeyring.__module__}.{MemoryKeyring.__qualname__}"}


@pytest.fixture
def backend():
    previous = keyring.get_keyring()
    memory = MemoryKeyring()
    keyring.set_keyring(memory)
    yield memory
    memory.block.set()
    keyring.set_keyring(previous)


def test_the_store_writes_one_entry_and_reads_it_back(backend):
    store = KeyringStore("base", ALLOW_MEMORY)

    store.save(AccessKey(KEY_ID, SECRET))

    assert list(backend.items) == [(SERVICE, "base")]
    assert store.load() == AccessKey(KEY_ID, SECRET)
    assert store.delete() is True and store.load() is None and store.delete() is False


def test_an_entry_mfa_process_did_not_write_is_refused_without_quoting_it(backend):
    backend.items[(SERVICE, "base")] = "hunter2-" + SECRET

    with pytest.raises(KeyringEntryError) as raised:
        KeyringStore("base", ALLOW_MEMORY).load()

    assert "was not written by mfa-process" in str(raised.value) and SECRET not in str(raised.value)


def test_no_entry_names_add(backend):
    with pytest.raises(KeyringEntryError, match="store them with `mfa-process add --profile base`"):
        KeyringStore("base", ALLOW_MEMORY).require()


def test_a_keyring_that_does_not_answer_is_an_error_in_bounded_time(backend):
    backend.blocking = True
    started = time.monotonic()

    with pytest.raises(KeyringError, match="did not answer within 0.2 s"):
        KeyringStore("base", ALLOW_MEMORY, timeout=0.2).load()

    assert time.monotonic() - started < 3


@pytest.mark.parametrize(
    "backend_class, says",
    [
        ("keyring.backends.fail.Keyring", "chose keyring.backends.fail.Keyring, which mfa-process does not use"),
        ("keyring.backends.null.Keyring", "chose keyring.backends.null.Keyring, which mfa-process does not use"),
    ],
)
def test_no_backend_is_an_error_with_the_headless_fix(backend_class, says):
    module, _, name = backend_class.rpartition(".")
    previous = keyring.get_keyring()
    keyring.set_keyring(getattr(__import__(module, fromlist=[name]), name)())
    try:
        with pytest.raises(KeyringError) as raised:
            KeyringStore("base", ALLOW_MEMORY).load()
    finally:
        keyring.set_keyring(previous)

    assert says in str(raised.value) and keyring_store.HEADLESS_FIX in str(raised.value)


def test_a_plain_text_backend_is_refused(monkeypatch):
    plaintext = type("PlaintextKeyring", (MemoryKeyring,), {"__module__": "keyrings.alt.file"})
    previous = keyring.get_keyring()
    keyring.set_keyring(plaintext())
    try:
        with pytest.raises(KeyringError, match="chose keyrings.alt.file.PlaintextKeyring, which mfa-process does not"):
            KeyringStore("base", ALLOW_MEMORY).save(AccessKey(KEY_ID, SECRET))
    finally:
        keyring.set_keyring(previous)


def test_a_backend_off_the_list_is_refused_unless_its_owner_allows_it(backend):
    """A stub keyring (not encrypted, not on ALLOWED_BACKENDS) is refused by default."""
    with pytest.raises(KeyringError, match="MFA_PROCESS_KEYRING_BACKENDS=module.Class"):
        KeyringStore("base", {}).load()

    assert KeyringStore("base", ALLOW_MEMORY).load() is None


def test_save_over_another_key_than_expected_writes_nothing(backend):
    store = KeyringStore("base", ALLOW_MEMORY)
    store.save(AccessKey(KEY_ID, SECRET))
    other = AccessKey("AKIAOTHER00000000000", SECRET)

    with pytest.raises(KeyringEntryError, match="is no longer key AKIAOTHER00000000000"):
        store.save(AccessKey("AKIANEW0000000000000", SECRET), replacing=other)

    assert store.load() == AccessKey(KEY_ID, SECRET)


def test_delete_removes_an_entry_it_cannot_read(backend):
    backend.items[(SERVICE, "base")] = "not ours"

    assert KeyringStore("base", ALLOW_MEMORY).delete() is True and backend.items == {}
