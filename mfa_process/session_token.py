"""One MFA session from STS GetSessionToken, signed with the base profile's long-term keys.

Only GetSessionToken keeps MFA context for accounts whose SCPs deny requests without it.
A rejected code is asked for again (it may have been used already in its 30 s window).
"""

from __future__ import annotations

import calendar
from typing import TYPE_CHECKING, Optional

from .base_profile import BaseSession
from .credentials import Credentials
from .errors import (
    InvalidAccessKeyError,
    MfaCodeRejectedError,
    MfaDeviceNotAssociatedError,
    MfaProcessError,
    StsError,
    StsUnreachableError,
    TemporaryBaseCredentialsError,
    ThrottledError,
)
from .mfa_device import MfaDevice

if TYPE_CHECKING:
    from .prompt import CodeSource

MAX_CODE_TRIES = 3
REJECTED_NOTICE = "AWS rejected that code (wrong, or already used). Wait for the next code, then enter it."
_THROTTLING_CODES = {"Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException"}


class SessionTokenProvider:
    def __init__(
        self,
        profile: str,
        base: BaseSession,
        device: MfaDevice,
        duration: int,
        code_source: CodeSource,
        token_code: Optional[str] = None,
    ) -> None:
        self.profile = profile
        self.base = base
        self.device = device
        self.duration = duration
        self.code_source = code_source
        self.token_code = token_code

    @property
    def base_access_key_id(self) -> str:
        return self.base.access_key_id

    def retrieve(self) -> Credentials:
        """Credentials for one new session; asks for a code (again) as needed."""
        client = self._sts_client()
        if self.token_code is not None:
            try:
                return self._get_session_token(client, self.token_code)
            except MfaCodeRejectedError as error:
                raise MfaCodeRejectedError(f"{error}; pass the next code your device shows") from error
        rejected: Optional[MfaCodeRejectedError] = None
        for attempt in range(MAX_CODE_TRIES):
            code = self.code_source(self.device.serial, REJECTED_NOTICE if attempt else None)
            try:
                return self._get_session_token(client, code)
            except MfaCodeRejectedError as error:
                rejected = error
        raise MfaCodeRejectedError(
            f"AWS rejected {MAX_CODE_TRIES} MFA codes in a row; check that the device is {self.device.serial} "
            "and that this computer's clock is right"
        ) from rejected

    def _sts_client(self):  # type: ignore[no-untyped-def]
        from botocore.config import Config

        region = self.base.session.region_name or self.device.default_region
        config = Config(connect_timeout=10, read_timeout=20, retries={"max_attempts": 3, "mode": "standard"})
        return self.base.session.client("sts", region_name=region, config=config)

    def _get_session_token(self, client, code: str) -> Credentials:  # type: ignore[no-untyped-def]
        import botocore.exceptions

        try:
            response = client.get_session_token(
                SerialNumber=self.device.serial, TokenCode=code, DurationSeconds=self.duration
            )
        except botocore.exceptions.ClientError as error:
            raise self._translate(error) from error
        except (botocore.exceptions.ConnectionError, botocore.exceptions.HTTPClientError) as error:
            raise StsUnreachableError(
                f"cannot reach STS at {client.meta.endpoint_url} ({error}); "
                "check the network, proxy settings and endpoint_url"
            ) from error
        except botocore.exceptions.BotoCoreError as error:
            raise StsError(f"GetSessionToken failed: {error}") from error
        issued = response["Credentials"]
        return Credentials(
            access_key_id=issued["AccessKeyId"],
            secret_access_key=issued["SecretAccessKey"],
            session_token=issued["SessionToken"],
            expires_at=calendar.timegm(issued["Expiration"].utctimetuple()),
            account_id=self.device.account_id,
        )

    def _translate(self, error: Exception) -> MfaProcessError:
        """One line per AWS error a person can act on; the raw text for the rest."""
        details = getattr(error, "response", {}).get("Error", {})
        code, message = details.get("Code", ""), details.get("Message", "")
        key = _mask(self.base.access_key_id)
        if "invalid MFA one time pass code" in message:
            return MfaCodeRejectedError("AWS rejected the MFA code: it is wrong, or was already used")
        if "unable to validate MFA code" in message or "associated with this user" in message:
            return MfaDeviceNotAssociatedError(
                f"MFA device {self.device.serial} does not belong to the IAM user of access key {key} "
                f"(profile '{self.profile}'); set mfa_serial to that user's device ARN"
            )
        if "session credentials" in message:
            return TemporaryBaseCredentialsError(
                f"profile '{self.profile}' holds session credentials; GetSessionToken needs an IAM user's "
                "long-term access keys"
            )
        if "Signature expired" in message or code in ("RequestExpired", "SignatureExpired"):
            return StsError(f"AWS says the request time is wrong ({message}); set this computer's clock right")
        if code == "InvalidClientTokenId":
            return InvalidAccessKeyError(
                f"AWS does not know access key {key} of profile '{self.profile}' (deleted or inactive?); "
                "put an active key in the profile"
            )
        if code == "SignatureDoesNotMatch":
            return InvalidAccessKeyError(
                f"the secret key of profile '{self.profile}' does not match access key {key}; fix aws_secret_access_key"
            )
        if code in _THROTTLING_CODES:
            return ThrottledError("STS is throttling GetSessionToken calls; wait a minute and try again")
        return StsError(f"GetSessionToken failed: {code}: {message}")


def _mask(access_key_id: str) -> str:
    """Enough of the key ID to recognise it, not the whole."""
    return access_key_id[:4] + "..." + access_key_id[-4:] if len(access_key_id) > 8 else access_key_id
