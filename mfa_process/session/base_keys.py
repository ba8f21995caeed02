"""The base profile's long-term keys: resolved by botocore exactly as the SDKs would, or read
from the OS keyring when the profile says ``mfa_key_store = keyring``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping

from ..config.recursion_guard import Resolving, is_recursion_report, recursion_message
from ..errors import (
    BaseCredentialsError,
    ConfigFileError,
    ProfileNotFoundError,
    RecursiveProfileError,
    TemporaryBaseCredentialsError,
)

if TYPE_CHECKING:
    import boto3


@dataclass(frozen=True)
class BaseSession:
    """A boto3 session signed with the base keys; ``cache_name`` names its sessions in the cache:
    the key ID, or for keys in the keyring the name the config file gives them
    (config.settings.keyring_cache_name)."""

    session: "boto3.Session"
    access_key_id: str
    cache_name: str = ""

    def __post_init__(self) -> None:
        if not self.cache_name:
            object.__setattr__(self, "cache_name", self.access_key_id)


def open_keyring_session(profile: str, environ: Mapping[str, str], timeout: float, cache_name: str) -> BaseSession:
    """A boto3 session for ``profile`` (its region and endpoints) signed with the keyring's keys;
    its sessions are cached under ``cache_name`` (settings.keyring_cache_name), whatever key the
    keyring holds now: the name the hit computes from the config file alone."""
    import boto3

    from ..keystore.keyring_store import KeyringStore

    key = KeyringStore(profile, environ, timeout).require()
    try:
        session = boto3.Session(
            profile_name=profile, aws_access_key_id=key.access_key_id, aws_secret_access_key=key.secret_access_key
        )
    except Exception as error:  # botocore's config errors: the same messages as open_base_session's
        import botocore.exceptions

        if isinstance(error, botocore.exceptions.ConfigParseError):
            raise ConfigFileError(f"{error}; fix the file's INI syntax") from error
        raise
    return BaseSession(session, key.access_key_id, cache_name=cache_name)


def open_base_session(profile: str) -> BaseSession:
    """A boto3 session for ``profile`` whose credentials are long-term keys, or a clear error.

    A named profile takes precedence over AWS_ACCESS_KEY_ID in the environment, as in botocore.
    """
    import boto3
    import botocore.exceptions

    try:
        session = boto3.Session(profile_name=profile)
        with Resolving(profile):
            credentials = session.get_credentials()
            frozen = credentials.get_frozen_credentials() if credentials is not None else None
    except botocore.exceptions.ProfileNotFound as error:
        raise ProfileNotFoundError(f"profile '{profile}' not found; check the --profile name") from error
    except botocore.exceptions.ConfigParseError as error:
        raise ConfigFileError(f"{error}; fix the file's INI syntax") from error
    except botocore.exceptions.BotoCoreError as error:
        if is_recursion_report(str(error)):
            raise RecursiveProfileError(recursion_message(profile)) from error
        raise BaseCredentialsError(f"cannot get the keys of profile '{profile}': {error}") from error
    if frozen is None or not frozen.access_key:
        raise BaseCredentialsError(
            f"profile '{profile}' has no access keys; store them in the OS keyring with "
            f"`mfa-process add --profile {profile}`, or add aws_access_key_id and "
            f"aws_secret_access_key to [{profile}] in ~/.aws/credentials"
        )
    if frozen.token:
        raise TemporaryBaseCredentialsError(
            f"profile '{profile}' gives temporary credentials, but GetSessionToken needs the "
            "long-term access keys of an IAM user; point --profile at the profile that holds them"
        )
    return BaseSession(session, frozen.access_key)
