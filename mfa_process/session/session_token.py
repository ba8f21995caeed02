"""One MFA session from STS GetSessionToken, signed with the base profile's long-term keys.

Only GetSessionToken keeps MFA context for accounts whose SCPs deny requests without it.
A rejected code is asked for again (it may have been used already in its 30 s window); the
code source decides whether it has another one (a --token-code has not: prompt/token_code.py).
Whatever comes back is checked before anyone can cache it: a page that is not a GetSessionToken
response, a half answer, or a session that would expire within the refresh margin is refused.
"""

from __future__ import annotations

import calendar
import time
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional

from ..errors import (
    MFA_CODE_REJECTED,
    InvalidAccessKeyError,
    MfaCodeRejectedError,
    MfaDeviceNotAssociatedError,
    MfaProcessError,
    SessionExpiresTooSoonError,
    StsAnswerError,
    StsError,
    StsUnreachableError,
    TemporaryBaseCredentialsError,
    ThrottledError,
)
from .base_keys import BaseSession
from .credentials import REFRESH_MARGIN_SECONDS, Credentials

if TYPE_CHECKING:
    from ..config.settings import Settings
    from ..prompt import CodeSource

MAX_CODE_TRIES = 3
REJECTED_NOTICE = "AWS rejected that code (wrong, or already used). Wait for the next code, then enter it."
_THROTTLING_CODES = {"Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException"}
_CREDENTIAL_FIELDS = ("AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration")
_ENDPOINT_HINT = "check AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL / the profile's endpoint_url and any proxy"
_TIMEOUT_SETTINGS = "--sts-timeout, MFA_PROCESS_STS_TIMEOUT or mfa_sts_timeout"
# Java SDK v2 reads at most 64000 bytes of credential_process output; the cache, 64 KiB per file
# with the contract in it. Real GetSessionToken sessions print as about 1 KB.
MAX_SESSION_BYTES = 60_000
# A signed request succeeds only while the clocks agree within minutes (SigV4 allows 15).
_CLOCK_SKEW_SECONDS = 15 * 60
# A session this close to now + duration was issued as asked: if it is still too short, the duration is.
_DURATION_SLACK_SECONDS = 120


class _DeadlinePassed(Exception):
    """Raised inside botocore (before-send) so an abandoned call does not try again."""


def _ignore(endpoint: str) -> None:
    pass


class SessionTokenProvider:
    def __init__(
        self,
        settings: Settings,
        base: BaseSession,
        code_source: CodeSource,
        *,
        on_calling_sts: Callable[[str], None] = _ignore,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """A session of ``settings.duration`` for ``settings.device``; ``settings.sts_timeout``
        bounds each GetSessionToken call, retries included; ``on_calling_sts`` hears the endpoint
        right before each call (for waiters to say what the holder waits on)."""
        self.profile = settings.profile
        self.device = settings.device
        self.duration = settings.duration
        self.sts_timeout = settings.sts_timeout
        self.base = base
        self.code_source = code_source
        self.on_calling_sts = on_calling_sts
        self.clock = clock
        self._deadline = float("inf")  # of the call in progress (time.monotonic)
        self._answer: Dict[str, Any] = {}  # status and content type of the last HTTP answer, never its body
        self.mfa_authenticated_at = clock()  # set again right before each GetSessionToken call

    @property
    def base_access_key_id(self) -> str:
        """What names the base key in the cache (BaseSession.cache_name)."""
        return self.base.cache_name

    def retrieve(self) -> Credentials:
        """Credentials for one new session; asks for a code (again) as needed."""
        client = self._sts_client()
        rejected: Optional[MfaCodeRejectedError] = None
        for attempt in range(MAX_CODE_TRIES):
            code = self.code_source(self.device.serial, REJECTED_NOTICE if attempt else None)
            try:
                self.mfa_authenticated_at = self.clock()  # before the call: MFA age is never underestimated
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
        config = Config(
            connect_timeout=min(10.0, self.sts_timeout),
            read_timeout=min(20.0, self.sts_timeout),
            retries={"max_attempts": 3, "mode": "standard"},
        )
        client = self.base.session.client("sts", region_name=region, config=config)
        client.meta.events.register("before-send.sts.GetSessionToken", self._stop_after_deadline)
        client.meta.events.register("before-parse.sts.GetSessionToken", self._note_answer)
        return client

    def _stop_after_deadline(self, **kwargs: Any) -> None:
        """No new attempt once the call's deadline has passed (its caller has stopped waiting)."""
        if time.monotonic() >= self._deadline:
            raise _DeadlinePassed("the STS timeout has passed")

    def _note_answer(self, response_dict: Dict[str, Any], **kwargs: Any) -> None:
        """What came back, for the message if it cannot be parsed: status and type, never the body."""
        headers = response_dict.get("headers") or {}
        self._answer = {"status": response_dict.get("status_code"), "type": headers.get("content-type") or "no type"}

    def _get_session_token(self, client, code: str) -> Credentials:  # type: ignore[no-untyped-def]
        import botocore.exceptions

        endpoint = _shown(client.meta.endpoint_url)
        self.on_calling_sts(endpoint)
        self._answer = {}
        try:
            response = self._call_within_deadline(client, code, endpoint)
        except botocore.exceptions.ClientError as error:
            raise self._translate(error, endpoint) from error
        except (botocore.exceptions.ConnectionError, botocore.exceptions.HTTPClientError) as error:
            raise StsUnreachableError(
                f"cannot reach STS at {endpoint} ({error}); check the network, proxy settings and endpoint_url"
            ) from error
        except botocore.exceptions.BotoCoreError as error:
            raise StsError(f"GetSessionToken failed: {error}") from error
        except Exception as error:  # botocore could not parse a 2xx answer: ResponseParserError, KeyError, ValueError
            if not self._answer:
                raise
            raise StsAnswerError(
                f"the STS endpoint {endpoint} answered HTTP {self._answer['status']} with {self._answer['type']}, "
                f"not a GetSessionToken response; {_ENDPOINT_HINT}"
            ) from error
        credentials = self._credentials(response, endpoint)
        self._check_size(credentials, endpoint)
        self._check_expiration(credentials)
        return credentials

    def _call_within_deadline(self, client, code: str, endpoint: str) -> Dict[str, Any]:  # type: ignore[no-untyped-def]
        """GetSessionToken with one deadline for connect, read and retries together.

        botocore has no total deadline, so the call runs in a daemon thread that this one stops
        waiting for; the before-send hook keeps an abandoned call from trying again.
        """
        import threading

        outcome: List[Any] = []

        def call() -> None:
            try:
                outcome.append(
                    client.get_session_token(
                        SerialNumber=self.device.serial, TokenCode=code, DurationSeconds=self.duration
                    )
                )
            except BaseException as error:  # handed to the waiting thread, which raises it
                outcome.append(error)

        self._deadline = time.monotonic() + self.sts_timeout
        worker = threading.Thread(target=call, name="mfa-process-sts", daemon=True)
        worker.start()
        worker.join(min(self.sts_timeout, threading.TIMEOUT_MAX))  # longer: OverflowError
        if not outcome:
            raise StsUnreachableError(
                f"no answer from STS at {endpoint} within {self.sts_timeout:g} s; check the network and proxy, "
                f"or allow more time with {_TIMEOUT_SETTINGS}"
            )
        if isinstance(outcome[0], BaseException):
            raise outcome[0]
        return outcome[0]  # type: ignore[no-any-return]

    def _credentials(self, response: Any, endpoint: str) -> Credentials:
        """The session in a parsed answer, or an error naming the fields it lacks (never their values)."""
        issued = response.get("Credentials") if isinstance(response, dict) else None
        if not isinstance(issued, dict):
            missing = ["Credentials"]
        else:
            missing = [
                f"Credentials.{name}"
                for name in _CREDENTIAL_FIELDS
                if not (hasattr(issued.get(name), "utctimetuple") if name == "Expiration" else _text(issued.get(name)))
            ]
        if missing:
            raise StsAnswerError(
                f"the STS endpoint {endpoint} answered HTTP {self._answer.get('status', '2xx')} with "
                f"{self._answer.get('type', 'no type')} but without {', '.join(missing)}, so not a whole "
                f"GetSessionToken response; {_ENDPOINT_HINT}"
            )
        assert isinstance(issued, dict)
        return Credentials(
            access_key_id=issued["AccessKeyId"],
            secret_access_key=issued["SecretAccessKey"],
            session_token=issued["SessionToken"],
            expires_at=calendar.timegm(issued["Expiration"].utctimetuple()),
            account_id=self.device.account_id,
        )

    def _check_size(self, credentials: Credentials, endpoint: str) -> None:
        """Refuse a session larger than the cache reads back (it would be served once, then asked
        for on every call) or the Java SDK reads from a credential_process; STS's are ~1 KB."""
        size = len(credentials.to_json().encode("utf-8"))
        if size > MAX_SESSION_BYTES:
            raise StsAnswerError(
                f"the STS endpoint {endpoint} answered with a session of {size} bytes, more than the "
                f"{MAX_SESSION_BYTES} a credential_process may print; {_ENDPOINT_HINT}"
            )

    def _check_expiration(self, credentials: Credentials) -> None:
        """Refuse a session no SDK could use: cached, it would make every call run us again; and one
        that claims to last longer than asked (a zone-less local time read as UTC): cached, it would
        be served after it had really expired, and every call would fail until a logout."""
        now = self.clock()
        latest = now + self.duration + _CLOCK_SKEW_SECONDS
        if credentials.expires_at > latest:
            raise StsAnswerError(
                f"STS returned a session that expires at {_utc(credentials.expires_at)}, later than the "
                f"{self.duration} s asked for allow (this machine's clock says {_utc(now)}): check the clock, "
                f"and the time zone of the endpoint's answers; {_ENDPOINT_HINT}"
            )
        if credentials.is_servable(now):
            return
        margin = REFRESH_MARGIN_SECONDS // 60
        if abs(credentials.expires_at - (now + self.duration)) <= _DURATION_SLACK_SECONDS:
            raise SessionExpiresTooSoonError(
                f"STS returned a session of {self.duration} s, which is within the {margin}-minute refresh margin "
                "by the time it arrives; use a longer duration, for example 3600"
            )
        raise SessionExpiresTooSoonError(
            f"STS returned a session that expires at {_utc(credentials.expires_at)}; this machine's clock says "
            f"{_utc(now)}: check the clock (sessions with {margin} minutes or less left are refused)"
        )

    def _translate(self, error: Exception, endpoint: str = "of this profile") -> MfaProcessError:
        """One line per AWS error a person can act on; the raw text for the rest; and what came
        back, from where, when it was no AWS error at all (a redirect, a proxy's or gateway's page)."""
        response = getattr(error, "response", {})
        details = response.get("Error", {})
        code, message = details.get("Code", ""), details.get("Message", "")
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if not code or code == str(status):  # botocore's stand-ins when the body held no AWS error
            return StsAnswerError(
                f"the STS endpoint {endpoint} answered HTTP {status} with {self._answer.get('type', 'no type')}, "
                f"not a GetSessionToken response; {_ENDPOINT_HINT}"
            )
        key = _mask(self.base.access_key_id)
        if "invalid MFA one time pass code" in message:
            return MfaCodeRejectedError(MFA_CODE_REJECTED)
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


def _text(value: object) -> bool:
    return isinstance(value, str) and bool(value)


def _utc(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(epoch))


def _shown(url: str) -> str:
    """The endpoint as it may be printed: without a user:password part."""
    scheme, sep, rest = url.partition("://")
    authority, slash, path = rest.partition("/")
    return scheme + sep + authority.rpartition("@")[2] + slash + path


def _mask(access_key_id: str) -> str:
    """Enough of the key ID to recognise it, not the whole."""
    return access_key_id[:4] + "..." + access_key_id[-4:] if len(access_key_id) > 8 else access_key_id
