"""Putting a base profile's key into the keyring and taking it out again, each step in the
order that leaves a usable key if the run is cut short: the keyring entry is written and read
back before the config records it, and only then does the credentials file lose the key."""

from __future__ import annotations

import time
from typing import Callable, List, Mapping, Optional

from ..config.aws_files import config_file_path, files_with_keys, read_profile
from ..errors import KeyringEntryError, KeyStoreConflictError, MfaProcessError, ProfileNotFoundError
from .access_key import AccessKey
from .credentials_file import CredentialsFileStore
from .key_facts import forget_facts, record_facts
from .keyring_store import KeyringStore


class Added:
    """What `add` did, for the command to report."""

    def __init__(
        self,
        key: AccessKey,
        store: KeyringStore,
        replaced: Optional[str],
        moved_from: Optional[str],
        still_in: Optional[str] = None,
    ) -> None:
        self.key = key
        self.store = store
        self.replaced = replaced  # the key ID the entry held before, if any
        self.moved_from = moved_from  # the credentials file the key was taken out of
        self.still_in = still_in  # a file that still holds the secret elsewhere (another profile, a comment)


def add_to_keyring(
    profile: str,
    key: AccessKey,
    environ: Mapping[str, str],
    move_from_file: bool = False,
    clock: Callable[[], float] = time.time,
) -> Added:
    """Store ``key`` as ``profile``'s, record that in the config file, and with
    ``move_from_file`` remove it from the credentials file (where it came from).

    The removal is tried first without writing: what would refuse it refuses the whole add. If
    it still fails at the end, the config's record is taken back, so the file's key stays the
    one every tool uses, mfa-process included.
    """
    file_store = CredentialsFileStore(profile, environ)
    if move_from_file:
        file_store.remove(key, dry_run=True)
    else:
        _refuse_keys_in_files(profile, environ, file_store)
    store = KeyringStore(profile, environ)
    previous = _previous_key_id(store)
    store.save(key)
    record_facts(profile, environ, key.access_key_id, added=clock(), by="add")
    if not move_from_file:
        return Added(key, store, previous if previous != key.access_key_id else None, None)
    try:
        file_store.remove(key)
    except MfaProcessError as error:
        try:
            forget_facts(profile, environ, by="add")
        except MfaProcessError as undo_error:
            raise KeyStoreConflictError(
                f"{error}; and the config file could not be set back ({undo_error}): remove the mfa_key_* lines of "
                f"profile '{profile}' in {config_file_path(environ)}, or the keys from {file_store.path}"
            ) from None
        raise type(error)(
            f"{error}; the key stays in {file_store.path} and is still the one used (a copy is in the keyring): "
            "fix that, then run add --from-credentials-file again"
        ) from None
    still_in = file_store.path if file_store.still_holds(key.secret_access_key) else None
    return Added(key, store, previous if previous != key.access_key_id else None, file_store.path, still_in)


def remove_from_keyring(profile: str, environ: Mapping[str, str]) -> KeyringStore:
    """Delete ``profile``'s keyring entry (readable or not) and the config's record of it."""
    store = KeyringStore(profile, environ)
    if not store.delete():
        raise KeyringEntryError(f"the keyring has no keys for profile '{profile}'; nothing was removed")
    forget_facts(profile, environ, by="remove")
    return store


def keys_in_files(profile: str, environ: Mapping[str, str]) -> List[str]:
    """The AWS files that hold keys of ``profile`` (as botocore would read them)."""
    try:
        from_config, from_credentials = read_profile(profile, environ)
    except ProfileNotFoundError:
        return []
    return files_with_keys(from_config, from_credentials, environ)


def _refuse_keys_in_files(profile: str, environ: Mapping[str, str], file_store: CredentialsFileStore) -> None:
    found = keys_in_files(profile, environ)
    if not found:
        return
    if found[0] == file_store.path:
        fix = (
            f"move them with `mfa-process add --profile {profile} --from-credentials-file`, or delete them there first"
        )
    else:
        fix = f"delete aws_access_key_id and aws_secret_access_key from the profile in {found[0]} first"
    raise KeyStoreConflictError(
        f"profile '{profile}' already has keys in {found[0]}; keys in both places would disagree: {fix}"
    )


def _previous_key_id(store: KeyringStore) -> Optional[str]:
    try:
        previous = store.load()
    except KeyringEntryError:  # an entry we did not write: replaced all the same
        return None
    return previous.access_key_id if previous else None
