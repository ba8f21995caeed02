"""Link 2: the base profile's long-term keys, where a run would take them from: the OS keyring
(`mfa_key_store = keyring`: its entry is read, never shown) or the AWS files, as botocore reads
them. Keys in both places is the settings' own error, said in its words. A key is shown only by
its masked ID (AKIA...MPLE)."""

from __future__ import annotations

import re
from shlex import quote
from typing import Dict, Mapping, Optional

from ..config.aws_files import credential_settings, credentials_file_path, files_with_keys, merge_profile
from ..config.recursion_guard import calls_mfa_process
from ..config.settings import KEY_STORE_OPTION, KEYRING_STORE
from ..errors import ConfigError, KeyringError, KeyStoreConflictError, MfaProcessError, RecursiveProfileError
from ..keystore.access_key import KEY_ID_SHAPE
from .report import FAIL, Finding, fail, from_message, ok, warning

KEYRING_TIMEOUT = 15.0  # a locked keyring may show an unlock dialog: time to answer it, not a minute
_SHOWN_SHAPE = r"A[KS]IA[A-Z0-9]{16}"  # a long-term (KEY_ID_SHAPE) or temporary key ID: safe to show masked
_STATIC = ("aws_access_key_id", "credential_process")  # credential_settings' others give temporary credentials


def check_keys(
    name: str,
    from_config: Dict[str, str],
    from_credentials: Dict[str, str],
    environ: Mapping[str, str],
    settings_error: Optional[MfaProcessError],
    keyring_timeout: float = KEYRING_TIMEOUT,
) -> Finding:
    """``settings_error``: what resolving the profile's settings raised (keys in both places,
    a base profile that runs mfa-process itself, a bad mfa_key_store value are its to say)."""
    subject = f"profile {name}: keys"
    profile = merge_profile(from_config, from_credentials)
    if isinstance(settings_error, (KeyStoreConflictError, RecursiveProfileError)):
        return from_message(FAIL, subject, str(settings_error))
    store = profile.get(KEY_STORE_OPTION, "").strip()
    if store and store != KEYRING_STORE and isinstance(settings_error, ConfigError):
        return from_message(FAIL, subject, str(settings_error))
    if store == KEYRING_STORE:
        return _in_keyring(name, environ, keyring_timeout)
    temporary = [key for key in credential_settings(profile) if key not in _STATIC]
    if temporary:
        return fail(
            f"{subject}: it gets temporary credentials ({temporary[0]}), and GetSessionToken needs an IAM "
            "user's long-term keys",
            "name the profile that holds those keys in --profile (and in the credential_process line)",
        )
    in_files = files_with_keys(from_config, from_credentials, environ)
    process = profile.get("credential_process", "")
    if process and not from_credentials.get("aws_access_key_id"):  # botocore runs it before the config's keys
        if calls_mfa_process(process):  # the settings say so too; this is the keys' part of it
            return fail(f"{subject}: its own credential_process is mfa-process", "give it long-term keys instead")
        return warning(f"{subject}: from its credential_process, which doctor does not run")
    if not in_files:
        credentials = credentials_file_path(environ)
        return fail(
            f"{subject}: none in {credentials}, the config file or the keyring",
            f"store them in the OS keyring with `mfa-process add --profile {quote(name)}`, or add aws_access_key_id "
            f"and aws_secret_access_key to [{name}] in {credentials}",
        )
    path = in_files[0]
    part = from_credentials if path == credentials_file_path(environ) else from_config
    return _in_file(subject, name, path, part)


def _in_file(subject: str, name: str, path: str, part: Dict[str, str]) -> Finding:
    missing = [key for key in ("aws_access_key_id", "aws_secret_access_key") if not part.get(key)]
    if missing:
        return fail(
            f"{subject}: [{name}] in {path} has no {' and no '.join(missing)}",
            f"add it (aws configure --profile {quote(name)}), or store both in the OS keyring with "
            f"`mfa-process add --profile {quote(name)}`",
        )
    key_id = part["aws_access_key_id"]
    if part.get("aws_session_token") or key_id.startswith("ASIA"):
        return fail(
            f"{subject}: [{name}] in {path} holds temporary keys ({mask(key_id)})",
            f"GetSessionToken needs an IAM user's long-term keys (AKIA...): put those in [{name}]",
        )
    if not re.fullmatch(KEY_ID_SHAPE, key_id):
        return warning(
            f"{subject}: in {path}, but its aws_access_key_id is not shaped like an IAM user's key ID "
            f"(AKIA and 16 more; it has {len(key_id)} characters)",
            "check that it is the access key of the IAM user whose MFA device mfa_serial names",
        )
    return ok(f"{subject}: in {path} ({mask(key_id)})")


def _in_keyring(name: str, environ: Mapping[str, str], timeout: float) -> Finding:
    from ..keystore.keyring_store import KeyringStore

    subject = f"profile {name}: keys"
    store = KeyringStore(name, environ, timeout)
    try:
        key = store.load()
    except KeyringError as error:
        return from_message(
            FAIL, subject, str(error), fix=f"store them again with `mfa-process add --profile {quote(name)}`"
        )
    if key is None:
        return fail(
            f"{subject}: {store.describe()} has no entry", f"store them with `mfa-process add --profile {quote(name)}`"
        )
    return ok(f"{subject}: in {store.describe()} ({mask(key.access_key_id)})")


def mask(key_id: str) -> str:
    """``AKIA...MPLE``: enough to tell keys apart, never the whole ID. Only a value shaped like a
    key ID is shown at all: what else sits there may be a secret key pasted in the wrong place."""
    if re.fullmatch(_SHOWN_SHAPE, key_id):
        return f"{key_id[:4]}...{key_id[-4:]}"
    return f"a value not shaped like a key ID ({len(key_id)} characters)"
