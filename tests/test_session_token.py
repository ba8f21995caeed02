"""SessionTokenProvider against the STS double over real HTTP: the call, re-asking, regions, AWS errors."""

from __future__ import annotations

import os
import time

import boto3
import botocore.exceptions
import pytest
import totp
from sts_double import DEFAULT_USER, StsDouble, User
from sts_rewrites import Rewrite, cut_end, empty_field, page, strip_field

from mfa_process.config.mfa_device import parse_mfa_serial
from mfa_process.config.settings import DEFAULT_STS_TIMEOUT, Settings
from mfa_process.errors import (
    InvalidAccessKeyError,
    MfaCodeRejectedError,
    MfaDeviceNotAssociatedError,
    SessionExpiresTooSoonError,
    StsAnswerError,
    StsError,
    StsUnreachableError,
    TemporaryBaseCredentialsError,
    ThrottledError,
)
from mfa_process.prompt.token_code import TokenCode
from mfa_process.session.base_keys import BaseSession, open_base_session
from mfa_process.session.credentials import REFRESH_MARGIN_SECONDS
from mfa_process.session.session_token import (
    MAX_CODE_TRIES,
    REJECTED_NOTICE,
    SessionTokenProvider,
    _shown,
)

USER = DEFAULT_USER
MASKED_KEY = "AKIA...MPLE"  # AKIAIOSFODNN7EXAMPLE
DURATION = 3600
_CLEARED_ENV = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_ENDPOINT_URL",
    "AWS_STS_REGIONAL_ENDPOINTS",
    "AWS_MAX_ATTEMPTS",
    "AWS_RETRY_MODE",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "http_proxy",
    "https_proxy",
)


class AwsFiles:
    """Config and credentials files in tmp_path, named through the environment, and STS at the double."""

    def __init__(self, tmp_path, monkeypatch, sts: StsDouble) -> None:
        self.tmp_path = tmp_path
        self.monkeypatch = monkeypatch
        self.config = tmp_path / "config"
        self.credentials = tmp_path / "credentials"
        for name in _CLEARED_ENV:
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("HOME", str(tmp_path))
        monkeypatch.setenv("AWS_CONFIG_FILE", str(self.config))
        monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(self.credentials))
        self.point_at(sts)
        self.write()

    def point_at(self, sts: StsDouble) -> None:
        self.monkeypatch.setenv("AWS_ENDPOINT_URL_STS", sts.url)

    def write(self, user: User = USER, region: str = None, secret: str = None, access_key_id: str = None) -> None:
        config = f"[profile base]\nmfa_serial = {user.mfa_serial}\n"
        if region:
            config += f"region = {region}\n"
        self.config.write_text(config)
        self.credentials.write_text(
            f"[base]\naws_access_key_id = {access_key_id or user.access_key_id}\n"
            f"aws_secret_access_key = {secret or user.secret_access_key}\n"
        )


@pytest.fixture
def files(tmp_path, monkeypatch, sts) -> AwsFiles:
    return AwsFiles(tmp_path, monkeypatch, sts)


def record_scopes(double: StsDouble):
    """The region of each request's SigV4 credential scope, as the double received it (read when called)."""
    return lambda: [request["region"] for request in double.requests]


@pytest.fixture
def scopes(sts):
    return record_scopes(sts)


@pytest.fixture
def japan_time():
    """A local zone far from UTC, so a local-time conversion of Expiration would show."""
    saved = os.environ.get("TZ")
    os.environ["TZ"] = "JST-9"
    time.tzset()
    yield
    if saved is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = saved
    time.tzset()


class Codes:
    """A code source that answers from a script; each entry is a code or a callable giving one."""

    def __init__(self, *answers) -> None:
        self.answers = list(answers)
        self.calls = []

    def __call__(self, serial, notice):
        self.calls.append((serial, notice))
        answer = self.answers.pop(0)
        return answer() if callable(answer) else answer


def never_called(serial, notice):
    raise AssertionError("the code source must not be called")


def right_code(user: User = USER):
    return lambda: totp.code(user.totp_secret)  # computed when asked, like a person reading the device


def wrong_code(user: User = USER) -> str:
    valid = {totp.code(user.totp_secret, offset) for offset in range(-3, 4)}
    return next(code for code in ("000000", "111111", "222222", "333333") if code not in valid)


def settings(serial: str = USER.mfa_serial, duration: int = DURATION, sts_timeout: float = DEFAULT_STS_TIMEOUT):
    """What SessionTokenProvider reads from the resolved settings: profile, device, duration, STS timeout."""
    return Settings(
        profile="base",
        device=parse_mfa_serial(serial),
        duration=duration,
        lock_timeout=95.0,
        known_base_access_key_id=None,
        token_code=None,
        refresh=False,
        sts_timeout=sts_timeout,
    )


def make(code_source=never_called, serial=None, user: User = USER) -> SessionTokenProvider:
    return SessionTokenProvider(settings(serial or user.mfa_serial), open_base_session("base"), code_source)


def assert_no_secret(message: str, *secrets: str) -> None:
    for secret in (USER.secret_access_key, *secrets):
        assert secret not in message


# --- success ---------------------------------------------------------------------------------


def test_success_maps_expiration_to_unix_time_and_account_from_the_device(files, sts, japan_time):
    codes = Codes(right_code())
    before = time.time()

    credentials = make(codes).retrieve()

    [issued] = [session for session in sts.sessions() if session.access_key_id == credentials.access_key_id]
    assert credentials.expires_at == int(issued.expires)  # Expiration has whole seconds, in UTC
    assert before + DURATION - 1 <= credentials.expires_at <= time.time() + DURATION
    assert credentials.account_id == "123456789012"
    assert credentials.secret_access_key == issued.secret_access_key
    assert credentials.session_token == issued.session_token
    assert issued.mfa is True
    assert codes.calls == [(USER.mfa_serial, None)]
    [request] = sts.requests
    assert request["action"] == "GetSessionToken"
    assert request["access_key_id"] == USER.access_key_id  # signed with the base keys
    assert request["params"]["SerialNumber"] == USER.mfa_serial
    assert request["params"]["DurationSeconds"] == str(DURATION)


def test_hardware_serial_gives_no_account_id(tmp_path, monkeypatch):
    hardware = User("bob", "123456789012", "AKIAHARDWAREUSER0001", "bob-secret-key", "GAHT12345678", USER.totp_secret)
    with StsDouble(users=[hardware]) as double:
        files = AwsFiles(tmp_path, monkeypatch, double)
        files.write(hardware)

        credentials = make(Codes(right_code(hardware)), user=hardware).retrieve()

    assert credentials.account_id is None
    assert "AccountId" not in credentials.process_output()


# --- codes -----------------------------------------------------------------------------------


def test_rejected_code_is_asked_again_with_the_notice(files, sts):
    codes = Codes(wrong_code(), right_code())

    credentials = make(codes).retrieve()

    assert credentials.access_key_id.startswith("ASIA")
    assert sts.calls("GetSessionToken") == 2
    assert [r["code"] for r in sts.requests] == ["AccessDenied", None]
    assert codes.calls == [(USER.mfa_serial, None), (USER.mfa_serial, REJECTED_NOTICE)]


def test_three_rejected_codes_give_up_after_exactly_three_calls(files, sts):
    assert MAX_CODE_TRIES == 3
    codes = Codes(wrong_code(), wrong_code(), wrong_code(), right_code())

    with pytest.raises(MfaCodeRejectedError) as raised:
        make(codes).retrieve()

    assert sts.calls("GetSessionToken") == 3
    assert len(codes.calls) == 3
    assert [notice for _, notice in codes.calls] == [None, REJECTED_NOTICE, REJECTED_NOTICE]
    assert USER.mfa_serial in str(raised.value)
    assert_no_secret(str(raised.value))


def test_token_code_is_used_without_asking(files, sts):
    credentials = make(TokenCode(totp.code(USER.totp_secret))).retrieve()

    assert credentials.access_key_id.startswith("ASIA")
    assert sts.calls("GetSessionToken") == 1


def test_rejected_token_code_says_to_pass_the_next_code_and_is_not_retried(files, sts):
    with pytest.raises(MfaCodeRejectedError) as raised:
        make(TokenCode(wrong_code())).retrieve()

    assert "pass the next code" in str(raised.value)
    assert sts.calls("GetSessionToken") == 1
    assert_no_secret(str(raised.value))


# --- region ------------------------------------------------------------------------------------


def spy_on_clients(monkeypatch, provider: SessionTokenProvider):
    """The region of every client the provider's boto3 session creates."""
    regions = []
    session = provider.base.session
    create = session.client

    def client(*args, **kwargs):
        created = create(*args, **kwargs)
        regions.append(created.meta.region_name)
        return created

    monkeypatch.setattr(session, "client", client)
    return regions


def test_region_is_the_base_profiles_region_when_set(files, sts, scopes, monkeypatch):
    files.write(region="eu-west-1")
    provider = make(Codes(right_code()))
    regions = spy_on_clients(monkeypatch, provider)

    provider.retrieve()

    assert regions == ["eu-west-1"]
    assert scopes() == ["eu-west-1"]


def test_region_defaults_to_us_east_1_for_the_aws_partition(files, sts, scopes, monkeypatch):
    provider = make(Codes(right_code()))
    regions = spy_on_clients(monkeypatch, provider)

    provider.retrieve()

    assert regions == ["us-east-1"]  # not botocore's "aws-global"
    assert scopes() == ["us-east-1"]


def test_region_defaults_to_the_partitions_region_for_china(tmp_path, monkeypatch):
    china = User(
        "li",
        "123456789012",
        "AKIACHINAUSER0000001",
        "li-secret-key",
        "arn:aws-cn:iam::123456789012:mfa/li",
        USER.totp_secret,
    )
    with StsDouble(users=[china]) as double:
        seen = record_scopes(double)
        files = AwsFiles(tmp_path, monkeypatch, double)
        files.write(china)

        make(Codes(right_code(china)), user=china).retrieve()

    assert seen() == ["cn-north-1"]


# --- AWS errors over HTTP ----------------------------------------------------------------------


def test_serial_of_another_user_is_not_associated_and_not_asked_again(files, sts):
    other = "arn:aws:iam::123456789012:mfa/mallory"
    codes = Codes(right_code(), right_code())

    with pytest.raises(MfaDeviceNotAssociatedError) as raised:
        make(codes, serial=other).retrieve()

    message = str(raised.value)
    assert other in message
    assert "mfa_serial" in message  # what to fix (the dropped e2e case asserted it on stderr)
    assert MASKED_KEY in message
    assert USER.access_key_id not in message
    assert_no_secret(message)
    assert sts.calls("GetSessionToken") == 1
    assert len(codes.calls) == 1


def test_unknown_access_key(files, sts):
    unknown = "AKIAUNKNOWNKEY000009"
    files.write(access_key_id=unknown)

    with pytest.raises(InvalidAccessKeyError) as raised:
        make(Codes(right_code())).retrieve()

    message = str(raised.value)
    assert "does not know access key" in message
    assert "AKIA...0009" in message
    assert unknown not in message
    assert_no_secret(message)
    assert [r["code"] for r in sts.requests] == ["InvalidClientTokenId"]


def test_wrong_secret_key(files, sts):
    wrong_secret = "wrongSECRETwrongSECRETwrongSECRETwrong000"
    files.write(secret=wrong_secret)

    with pytest.raises(InvalidAccessKeyError) as raised:
        make(Codes(right_code())).retrieve()

    message = str(raised.value)
    assert "secret key of profile 'base'" in message
    assert "secret" in message
    assert MASKED_KEY in message
    assert USER.access_key_id not in message
    assert_no_secret(message, wrong_secret)
    assert [r["code"] for r in sts.requests] == ["SignatureDoesNotMatch"]


def test_session_credentials_as_base(files, sts):
    plain = boto3.Session(
        aws_access_key_id=USER.access_key_id, aws_secret_access_key=USER.secret_access_key, region_name="us-east-1"
    ).client("sts", endpoint_url=sts.url)
    issued = plain.get_session_token(DurationSeconds=900)["Credentials"]  # no MFA: the double allows it
    session = boto3.Session(
        aws_access_key_id=issued["AccessKeyId"],
        aws_secret_access_key=issued["SecretAccessKey"],
        aws_session_token=issued["SessionToken"],
    )
    provider = SessionTokenProvider(settings(), BaseSession(session, issued["AccessKeyId"]), Codes(right_code()))

    with pytest.raises(TemporaryBaseCredentialsError) as raised:
        provider.retrieve()

    message = str(raised.value)
    assert "long-term" in message
    assert_no_secret(message, issued["SecretAccessKey"], issued["SessionToken"])
    assert sts.requests[-1]["code"] == "AccessDenied"


# --- every mapping of _translate, with errors built by hand ------------------------------------

_MFA_CODE = "MultiFactorAuthentication failed with invalid MFA one time pass code. "
_MFA_SERIAL = (
    "MultiFactorAuthentication failed, unable to validate MFA code. Please verify your MFA serial number is "
    "valid and associated with this user."
)


@pytest.mark.parametrize(
    "code, aws_message, expected, fragment",
    [
        ("AccessDenied", _MFA_CODE, MfaCodeRejectedError, "rejected the MFA code"),
        ("AccessDenied", _MFA_SERIAL, MfaDeviceNotAssociatedError, "does not belong"),
        (
            "AccessDenied",
            "Cannot call GetSessionToken with session credentials",
            TemporaryBaseCredentialsError,
            "long-term",
        ),
        (
            "InvalidClientTokenId",
            "The security token included in the request is invalid.",
            InvalidAccessKeyError,
            "does not know",
        ),
        (
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match",
            InvalidAccessKeyError,
            "secret key",
        ),
        ("Throttling", "Rate exceeded", ThrottledError, "throttling"),
        ("ThrottlingException", "Rate exceeded", ThrottledError, "throttling"),
        ("RequestLimitExceeded", "Request limit exceeded.", ThrottledError, "throttling"),
        ("TooManyRequestsException", "Too many requests", ThrottledError, "throttling"),
        (
            "SignatureDoesNotMatch",
            "Signature expired: 20240101T000000Z is now earlier than 20240101T001500Z (20240101T003000Z - 15 min.)",
            StsError,
            "clock",
        ),
        ("RequestExpired", "Request has expired.", StsError, "clock"),
        ("SignatureExpired", "Signature has expired", StsError, "clock"),
        ("SomethingNew", "A brand new failure", StsError, "SomethingNew: A brand new failure"),
        ("AccessDenied", "User: arn:aws:iam::123456789012:user/alice is not authorized", StsError, "not authorized"),
    ],
)
def test_translate_maps_each_aws_error(code, aws_message, expected, fragment):
    provider = SessionTokenProvider(settings(), BaseSession(None, USER.access_key_id), never_called)
    error = botocore.exceptions.ClientError({"Error": {"Code": code, "Message": aws_message}}, "GetSessionToken")

    translated = provider._translate(error)

    assert type(translated) is expected
    message = str(translated)
    assert fragment in message
    assert_no_secret(message)
    assert USER.access_key_id not in message
    if expected in (InvalidAccessKeyError, MfaDeviceNotAssociatedError):
        assert MASKED_KEY in message


# --- answers that are not what they should be (issue 8) --------------------------------------------


def make_with(code_source=never_called, sts_timeout: float = DEFAULT_STS_TIMEOUT, **options) -> SessionTokenProvider:
    return SessionTokenProvider(settings(sts_timeout=sts_timeout), open_base_session("base"), code_source, **options)


def utc(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(epoch))


@pytest.mark.parametrize("left", [-3600, -1, 0, 600, REFRESH_MARGIN_SECONDS], ids=lambda s: f"{s}s-left")
def test_a_session_expiring_within_the_margin_is_refused_with_both_times(files, sts, left):
    sts.expiry_offset = left - DURATION  # STS's clock is behind this machine's
    read = []
    provider = make_with(Codes(right_code()), clock=lambda: read.append(time.time()) or read[-1])

    with pytest.raises(SessionExpiresTooSoonError) as raised:
        provider.retrieve()

    [issued] = sts.sessions()
    message = str(raised.value)
    assert f"STS returned a session that expires at {utc(issued.expires)}" in message
    assert f"this machine's clock says {utc(read[-1])}: check the clock" in message
    assert_no_secret(message, issued.secret_access_key, issued.session_token)


def test_a_session_just_past_the_margin_is_served(files, sts):
    sts.expiry_offset = REFRESH_MARGIN_SECONDS + 5 - DURATION
    now = time.time()

    credentials = make_with(Codes(right_code()), clock=lambda: now).retrieve()

    assert credentials.is_servable(now)


def test_a_session_as_long_as_asked_but_still_inside_the_margin_blames_the_duration(files, sts):
    later = time.time() + 5  # the answer took a while: 901 s asked, 896 s left
    provider = SessionTokenProvider(
        settings(duration=901), open_base_session("base"), Codes(right_code()), clock=lambda: later
    )

    with pytest.raises(SessionExpiresTooSoonError) as raised:
        provider.retrieve()

    assert "session of 901 s" in str(raised.value) and "longer duration" in str(raised.value)


NOT_GST = "not a GetSessionToken"


@pytest.mark.parametrize(
    "rewrite, fragment",
    [
        (Rewrite(page, 200, "text/html", "<html><body>sign in</body></html>"), f"with text/html, {NOT_GST}"),
        (Rewrite(page, 200, "text/html", "<!DOCTYPE html><p>sign in<br>"), f"with text/html, {NOT_GST}"),
        (Rewrite(cut_end, 60), f"with text/xml, {NOT_GST}"),
        (Rewrite(strip_field, "SessionToken"), "without Credentials.SessionToken"),
        (Rewrite(empty_field, "AccessKeyId"), "without Credentials.AccessKeyId"),
    ],
    ids=["xhtml", "html", "truncated", "no-token", "empty-key-id"],
)
def test_a_malformed_answer_is_a_typed_error_naming_the_endpoint_and_not_retried(files, sts, rewrite, fragment):
    sts.rewrite = rewrite
    codes = Codes(right_code(), right_code())

    with pytest.raises(StsAnswerError) as raised:
        make_with(codes).retrieve()

    message = str(raised.value)
    assert f"the STS endpoint {sts.url} answered HTTP 200" in message
    assert fragment in message
    assert "AWS_ENDPOINT_URL_STS" in message
    [issued] = sts.sessions()
    assert_no_secret(message, issued.secret_access_key, issued.session_token)
    assert sts.calls("GetSessionToken") == 1 and len(codes.calls) == 1


def test_on_calling_sts_hears_the_endpoint_before_each_call(files, sts):
    heard = []
    provider = make_with(Codes(wrong_code(), right_code()), on_calling_sts=lambda url: heard.append((url, sts.calls())))

    provider.retrieve()

    assert heard == [(sts.url, 0), (sts.url, 1)]  # before each request reached STS


def test_a_hung_sts_ends_at_the_deadline_and_the_abandoned_call_stops(files, sts):
    import threading

    sts.hang = True
    started = time.monotonic()

    with pytest.raises(StsUnreachableError) as raised:
        make_with(Codes(right_code()), sts_timeout=1.5).retrieve()

    assert 1.5 <= time.monotonic() - started < 3.5
    message = str(raised.value)
    assert f"no answer from STS at {sts.url} within 1.5 s" in message
    assert "--sts-timeout, MFA_PROCESS_STS_TIMEOUT or mfa_sts_timeout" in message
    time.sleep(2.5)  # the abandoned attempt times out (read timeout = the STS timeout) and tries no more
    assert sts.calls("GetSessionToken") == 1
    assert not [thread for thread in threading.enumerate() if thread.name == "mfa-process-sts"]


def test_retries_fit_in_the_deadline(files, sts):
    """Answers that time out one by one: the whole call still ends at the deadline, not after every attempt."""
    sts.delay = 30
    started = time.monotonic()

    with pytest.raises(StsUnreachableError):
        make_with(Codes(right_code()), sts_timeout=2).retrieve()

    assert time.monotonic() - started < 4


def test_the_endpoint_is_shown_without_a_password():
    assert _shown("https://user:hunter2@proxy.example:8443/sts") == "https://proxy.example:8443/sts"
    assert _shown("https://sts.us-east-1.amazonaws.com") == "https://sts.us-east-1.amazonaws.com"
