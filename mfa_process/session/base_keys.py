"""The base profile's long-term keys, resolved by botocore exactly as the SDKs would."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

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
    session: "boto3.Session"
    access_key_id: str


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
            f"profile '{profile}' has no access keys; add aws_access_key_id and "
            f"aws_secret_access_key to [{profile}] in ~/.aws/credentials"
        )
    if frozen.token:
        raise TemporaryBaseCredentialsError(
            f"profile '{profile}' gives temporary credentials, but GetSessionToken needs the "
            "long-term access keys of an IAM user; point --profile at the profile that holds them"
        )
    return BaseSession(session, frozen.access_key)
