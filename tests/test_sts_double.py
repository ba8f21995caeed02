"""Tests of the STS double itself, through real clients over HTTP."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
import totp as totp_module
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from processes import default_signals
from sts_double import DEFAULT_USER, StsDouble, User
from totp import code, totp

U = DEFAULT_USER
ROLE = "arn:aws:iam::210987654321:role/admin"
NS = "https://sts.amazonaws.com/doc/2011-06-15/"
MSG_REUSED = "MultiFactorAuthentication failed with invalid MFA one time pass code. "
MSG_SERIAL = (
    "MultiFactorAuthentication failed, unable to validate MFA code. Please verify your MFA "
    "serial number is valid and associated with this user."
)
MSG_SIGNATURE = (
    "The request signature we calculated does not match the signature you provided. Check your AWS "
    "Secret Access Key and signing method. Consult the service documentation for details."
)


# ---- helpers ---------------------------------------------------------------------------------
def client(
    sts: StsDouble,
    creds: dict[str, str] | None = None,
    *,
    region: str = "us-east-1",
    user: User = U,
    secret: str | None = None,
    **config: Any,
) -> Any:
    """A boto3 STS client for the double: long-term keys of `user`, or session `creds`."""
    if creds:
        keys = dict(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
        )
    else:
        keys = dict(aws_access_key_id=user.access_key_id, aws_secret_access_key=secret or user.secret_access_key)
    cfg = Config(retries={"total_max_attempts": 1}, **config)
    return boto3.client("sts", endpoint_url=sts.url, region_name=region, config=cfg, **keys)


def error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[int, str, str]:
    e = exc.value.response
    return e["ResponseMetadata"]["HTTPStatusCode"], e["Error"]["Code"], e["Error"]["Message"]


def mfa_session(sts: StsDouble, offset: int = 0, **kw: Any) -> dict[str, Any]:
    return client(sts).get_session_token(SerialNumber=U.mfa_serial, TokenCode=code(U.totp_secret, offset), **kw)[
        "Credentials"
    ]


def not_a_valid_code() -> str:
    valid = {code(U.totp_secret, o) for o in range(-3, 4)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in valid)


def mid_window(margin: float = 3.0) -> None:
    """Sleep past the next 30 s boundary if it is near, so the client and the double agree on 'now'."""
    left = 30 - time.time() % 30
    if left < margin:
        time.sleep(left + 0.05)


def raw(sts: StsDouble, body: str, *, tamper: str | None = None, region: str = "us-east-1") -> tuple[int, str, dict]:
    """POST a form body signed by botocore's SigV4 signer (optionally changed after signing)."""
    req = AWSRequest(
        "POST", sts.url + "/", data=body, headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    )
    SigV4Auth(Credentials(U.access_key_id, U.secret_access_key), "sts", region).add_auth(req)
    prepared = req.prepare()
    data = (tamper or body).encode()
    headers = dict(prepared.headers, **{"Content-Length": str(len(data))})
    http_req = urllib.request.Request(prepared.url, data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(http_req, timeout=5) as resp:
            return resp.status, resp.read().decode(), dict(resp.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(), dict(e.headers)


# ---- TOTP ------------------------------------------------------------------------------------
def test_totp_matches_rfc6238_vectors(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # base32 of b"12345678901234567890"
    vectors = {59: "287082", 1111111109: "081804", 1111111111: "050471", 1234567890: "005924", 2000000000: "279037"}
    assert {t: totp(secret, t) for t in vectors} == vectors
    assert totp(secret.lower() + "====", 59) == "287082"
    monkeypatch.setattr(totp_module, "time", SimpleNamespace(time=lambda: 1111111111 + 30.0))
    assert (code(secret, -1), code(secret)) == ("050471", totp(secret, 1111111141))


# ---- GetSessionToken -------------------------------------------------------------------------
def test_get_session_token_with_valid_code(sts: StsDouble) -> None:
    before = datetime.now(timezone.utc)
    creds = mfa_session(sts)
    assert re.fullmatch(r"ASIA[A-Z2-7]{16}", creds["AccessKeyId"])
    assert len(creds["SecretAccessKey"]) == 40 and len(creds["SessionToken"]) > 100
    assert abs(creds["Expiration"] - (before + timedelta(seconds=43200))) < timedelta(seconds=5)
    short = client(sts).get_session_token(
        SerialNumber=U.mfa_serial, TokenCode=code(U.totp_secret, 1), DurationSeconds=900
    )["Credentials"]
    assert abs(short["Expiration"] - (before + timedelta(seconds=900))) < timedelta(seconds=5)
    assert short["AccessKeyId"] != creds["AccessKeyId"] and short["SessionToken"] != creds["SessionToken"]


def test_reused_code_is_rejected_like_aws(sts: StsDouble) -> None:
    token = code(U.totp_secret)
    client(sts).get_session_token(SerialNumber=U.mfa_serial, TokenCode=token)
    with pytest.raises(ClientError) as exc:
        client(sts).get_session_token(SerialNumber=U.mfa_serial, TokenCode=token)
    assert error(exc) == (403, "AccessDenied", MSG_REUSED)


def test_wrong_code_is_rejected(sts: StsDouble) -> None:
    with pytest.raises(ClientError) as exc:
        client(sts).get_session_token(SerialNumber=U.mfa_serial, TokenCode=not_a_valid_code())
    assert error(exc) == (403, "AccessDenied", MSG_REUSED)


def test_wrong_serial_is_rejected(sts: StsDouble) -> None:
    with pytest.raises(ClientError) as exc:
        client(sts).get_session_token(SerialNumber="arn:aws:iam::123456789012:mfa/bob", TokenCode=code(U.totp_secret))
    assert error(exc) == (403, "AccessDenied", MSG_SERIAL)


def test_codes_within_skew_windows_are_accepted_once() -> None:
    with StsDouble(skew_windows=1) as sts:
        mid_window()
        for offset in (-2, 2):
            with pytest.raises(ClientError) as exc:
                mfa_session(sts, offset)
            assert error(exc)[2] == MSG_REUSED
        for offset in (-1, 0, 1):
            mfa_session(sts, offset)


def test_concurrent_use_of_one_code_succeeds_once(sts: StsDouble) -> None:
    sts.delay = 0.2
    clients = [client(sts) for _ in range(4)]
    token = code(U.totp_secret)

    def call(c: Any) -> str:
        try:
            c.get_session_token(SerialNumber=U.mfa_serial, TokenCode=token)
            return "ok"
        except ClientError as e:
            return e.response["Error"]["Message"]

    with ThreadPoolExecutor(4) as pool:
        results = sorted(pool.map(call, clients))
    assert results == [MSG_REUSED] * 3 + ["ok"]


def test_session_credentials_cannot_get_session_token(sts: StsDouble) -> None:
    with pytest.raises(ClientError) as exc:
        client(sts, mfa_session(sts)).get_session_token()
    assert error(exc) == (403, "AccessDenied", "Cannot call GetSessionToken with session credentials")


@pytest.mark.parametrize(
    "seconds, message",
    [
        (
            100,
            "1 validation error detected: Value '100' at 'durationSeconds' failed to satisfy constraint: "
            "Member must have value greater than or equal to 900",
        ),
        (
            129601,
            "1 validation error detected: Value '129601' at 'durationSeconds' failed to satisfy constraint: "
            "Member must have value less than or equal to 129600",
        ),
    ],
)
def test_duration_is_validated(sts: StsDouble, seconds: int, message: str) -> None:
    with pytest.raises(ClientError) as exc:
        client(sts, parameter_validation=False).get_session_token(DurationSeconds=seconds)
    assert error(exc) == (400, "ValidationError", message)
    for ok in (900, 129600):
        client(sts).get_session_token(DurationSeconds=ok)


def test_token_code_format_is_validated(sts: StsDouble) -> None:
    with pytest.raises(ClientError) as exc:
        client(sts, parameter_validation=False).get_session_token(SerialNumber=U.mfa_serial, TokenCode="12345x7")
    assert error(exc) == (
        400,
        "ValidationError",
        "2 validation errors detected: Value '12345x7' at 'tokenCode' failed to satisfy constraint: "
        "Member must have length less than or equal to 6; Value '12345x7' at 'tokenCode' failed to "
        "satisfy constraint: Member must satisfy regular expression pattern: [\\d]*",
    )


# ---- authentication --------------------------------------------------------------------------
def test_wrong_secret_fails_signature(sts: StsDouble) -> None:
    with pytest.raises(ClientError) as exc:
        client(sts, secret="x" * 40).get_caller_identity()
    assert error(exc) == (403, "SignatureDoesNotMatch", MSG_SIGNATURE)


def test_unknown_key_is_invalid_client_token(sts: StsDouble) -> None:
    stranger = User("mallory", "123456789012", "AKIAZZZZZZZZZZZZZZZZ", U.secret_access_key, U.mfa_serial, U.totp_secret)
    with pytest.raises(ClientError) as exc:
        client(sts, user=stranger).get_caller_identity()
    assert error(exc) == (403, "InvalidClientTokenId", "The security token included in the request is invalid.")


def test_session_token_must_match(sts: StsDouble) -> None:
    creds = dict(mfa_session(sts), SessionToken="forged")
    with pytest.raises(ClientError) as exc:
        client(sts, creds).get_caller_identity()
    assert error(exc)[1] == "InvalidClientTokenId"


def test_signature_covers_the_body_and_any_region_is_accepted(sts: StsDouble) -> None:
    body = "Action=GetCallerIdentity&Version=2011-06-15"
    for region in ("us-east-1", "eu-central-1", "cn-north-1"):
        status, _, _ = raw(sts, body, region=region)
        assert status == 200
    status, xml, _ = raw(sts, body, tamper="Action=GetCallerIdentity&Version=2011-06-16")
    assert status == 403 and "<Code>SignatureDoesNotMatch</Code>" in xml


def test_unsigned_request_is_refused(sts: StsDouble) -> None:
    req = urllib.request.Request(sts.url, data=b"Action=GetCallerIdentity&Version=2011-06-15", method="POST")
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(req, timeout=5)
    assert exc.value.code == 403 and b"<Code>MissingAuthenticationToken</Code>" in exc.value.read()


# ---- wire format -----------------------------------------------------------------------------
def test_xml_shapes_match_sts(sts: StsDouble) -> None:
    status, xml, headers = raw(
        sts,
        f"Action=GetSessionToken&Version=2011-06-15&DurationSeconds=900"
        f"&SerialNumber={U.mfa_serial}&TokenCode={code(U.totp_secret)}",
    )
    assert status == 200 and headers["Content-Type"] == "text/xml"
    assert xml.startswith(f'<GetSessionTokenResponse xmlns="{NS}">')
    m = re.search(r"<RequestId>([0-9a-f-]{36})</RequestId>\s*</ResponseMetadata>\s*</GetSessionTokenResponse>", xml)
    assert m and headers["x-amzn-RequestId"] == m.group(1)
    assert re.search(r"<GetSessionTokenResult>\s*<Credentials>\s*<AccessKeyId>ASIA", xml)
    assert re.search(r"<Expiration>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ</Expiration>", xml)

    status, xml, headers = raw(sts, "Action=GetThings&Version=2011-06-15")
    assert status == 400
    assert re.fullmatch(
        rf'<ErrorResponse xmlns="{re.escape(NS)}">\s*<Error>\s*<Type>Sender</Type>\s*<Code>InvalidAction</Code>\s*'
        r"<Message>Could not find operation GetThings for version 2011-06-15</Message>\s*</Error>\s*"
        r"<RequestId>([0-9a-f-]{36})</RequestId>\s*</ErrorResponse>\s*",
        xml,
    )
    assert headers["x-amzn-RequestId"] in xml


# ---- GetCallerIdentity -----------------------------------------------------------------------
def test_get_caller_identity_for_keys_and_sessions(sts: StsDouble) -> None:
    user_arn = "arn:aws:iam::123456789012:user/alice"
    ident = client(sts).get_caller_identity()
    assert (ident["Account"], ident["Arn"]) == ("123456789012", user_arn)
    assert re.fullmatch(r"AIDA[A-Z2-7]{17}", ident["UserId"])
    session = client(sts, mfa_session(sts)).get_caller_identity()
    assert (session["UserId"], session["Account"], session["Arn"]) == (ident["UserId"], "123456789012", user_arn)


# ---- AssumeRole ------------------------------------------------------------------------------
def test_assume_role_is_denied_without_mfa(sts: StsDouble) -> None:
    sts.add_role(ROLE, require_mfa=False)
    denied = (
        403,
        "AccessDenied",
        "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: "
        f"sts:AssumeRole on resource: {ROLE} with an explicit deny in an identity-based policy",
    )
    plain_session = client(sts).get_session_token()["Credentials"]
    for c in (client(sts), client(sts, plain_session)):
        with pytest.raises(ClientError) as exc:
            c.assume_role(RoleArn=ROLE, RoleSessionName="s1")
        assert error(exc) == denied


def test_assume_role_with_mfa_session(sts: StsDouble) -> None:
    sts.add_role(ROLE)
    sts.add_role("arn:aws:iam::210987654321:role/deeper")
    session = client(sts, mfa_session(sts))
    out = session.assume_role(RoleArn=ROLE, RoleSessionName="alice-cli")
    assumed = "arn:aws:sts::210987654321:assumed-role/admin/alice-cli"
    assert out["AssumedRoleUser"]["Arn"] == assumed
    assert re.fullmatch(r"AROA[A-Z2-7]{17}:alice-cli", out["AssumedRoleUser"]["AssumedRoleId"])
    role = client(sts, out["Credentials"])
    ident = role.get_caller_identity()
    assert (ident["Arn"], ident["Account"], ident["UserId"]) == (
        assumed,
        "210987654321",
        out["AssumedRoleUser"]["AssumedRoleId"],
    )
    # the role session keeps MFA context: chaining into an MFA-requiring role works
    assert role.assume_role(RoleArn="arn:aws:iam::210987654321:role/deeper", RoleSessionName="x2")["Credentials"]

    with pytest.raises(ClientError) as exc:
        session.assume_role(RoleArn=ROLE, RoleSessionName="long", DurationSeconds=7200)
    assert error(exc) == (
        400,
        "ValidationError",
        "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
    )
    unknown = "arn:aws:iam::210987654321:role/nope"
    with pytest.raises(ClientError) as exc:
        session.assume_role(RoleArn=unknown, RoleSessionName="xx")
    assert error(exc) == (
        403,
        "AccessDenied",
        "User: arn:aws:iam::123456789012:user/alice is not authorized to "
        f"perform: sts:AssumeRole on resource: {unknown}",
    )


def test_role_trust_policy_requiring_mfa() -> None:
    with StsDouble(deny_without_mfa=False) as sts:
        open_role, mfa_role = "arn:aws:iam::123456789012:role/open", "arn:aws:iam::123456789012:role/mfa"
        sts.add_role(open_role, require_mfa=False)
        sts.add_role(mfa_role, require_mfa=True)
        keys = client(sts)
        assert keys.assume_role(RoleArn=open_role, RoleSessionName="s1")["Credentials"]
        with pytest.raises(ClientError) as exc:
            keys.assume_role(RoleArn=mfa_role, RoleSessionName="s1")
        assert error(exc)[1] == "AccessDenied" and "explicit deny" not in error(exc)[2]
        # AssumeRole with long-term keys plus SerialNumber/TokenCode (the CLI's role_arn + mfa_serial)
        out = keys.assume_role(
            RoleArn=mfa_role, RoleSessionName="s1", SerialNumber=U.mfa_serial, TokenCode=code(U.totp_secret)
        )
        assert out["AssumedRoleUser"]["Arn"] == "arn:aws:sts::123456789012:assumed-role/mfa/s1"


# ---- IAM GetUser (a call that needs MFA) ---------------------------------------------------
def iam_client(sts: StsDouble, creds: dict[str, str] | None = None) -> Any:
    """A boto3 IAM client for the double: long-term keys, or session ``creds``."""
    keys = (
        dict(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
        )
        if creds
        else dict(aws_access_key_id=U.access_key_id, aws_secret_access_key=U.secret_access_key)
    )
    return boto3.client(
        "iam", endpoint_url=sts.url, region_name="us-east-1", config=Config(retries={"total_max_attempts": 1}), **keys
    )


def test_iam_get_user_needs_an_mfa_session(sts: StsDouble) -> None:
    user = iam_client(sts, mfa_session(sts)).get_user()["User"]
    assert (user["UserName"], user["Arn"]) == ("alice", "arn:aws:iam::123456789012:user/alice")

    with pytest.raises(ClientError) as exc:  # long-term keys: the seed's policy
        iam_client(sts).get_user()
    assert error(exc) == (
        403,
        "AccessDenied",
        "User: arn:aws:iam::123456789012:user/alice is not authorized "
        "to perform: iam:GetUser on resource: user alice with an explicit deny in an "
        "identity-based policy",
    )
    with pytest.raises(ClientError) as exc:  # a session without MFA: IAM itself refuses it
        iam_client(sts, client(sts).get_session_token()["Credentials"]).get_user()
    assert error(exc) == (403, "InvalidClientTokenId", "The security token included in the request is invalid.")
    assert [r["status"] for r in sts.requests if r["action"] == "GetUser"] == [200, 403, 403]


def test_iam_get_user_from_a_role_session_must_name_a_user(sts: StsDouble) -> None:
    sts.add_role(ROLE)
    role_creds = client(sts, mfa_session(sts)).assume_role(RoleArn=ROLE, RoleSessionName="s1")["Credentials"]
    with pytest.raises(ClientError) as exc:
        iam_client(sts, role_creds).get_user()
    assert error(exc)[:2] == (400, "ValidationError")


def test_get_user_is_an_iam_action_not_an_sts_one(sts: StsDouble) -> None:
    status, xml, _ = raw(sts, "Action=GetUser&Version=2010-05-08")  # signed for the sts service
    assert status == 400 and "<Code>InvalidAction</Code>" in xml


def test_key_facts_tell_what_the_double_issued(sts: StsDouble) -> None:
    sts.add_role(ROLE)
    creds = mfa_session(sts)
    role_key = client(sts, creds).assume_role(RoleArn=ROLE, RoleSessionName="s1")["Credentials"]["AccessKeyId"]
    plain = client(sts).get_session_token()["Credentials"]["AccessKeyId"]
    assert sts.key_facts(U.access_key_id) == {"account": U.account, "temporary": False, "mfa": False, "role_arn": None}
    assert sts.key_facts(creds["AccessKeyId"]) == {
        "account": U.account,
        "temporary": True,
        "mfa": True,
        "role_arn": None,
    }
    assert sts.key_facts(plain) == {"account": U.account, "temporary": True, "mfa": False, "role_arn": None}
    assert sts.key_facts(role_key) == {"account": "210987654321", "temporary": True, "mfa": True, "role_arn": ROLE}
    assert sts.key_facts("ASIAUNKNOWNUNKNOWN00") is None


# ---- test controls ---------------------------------------------------------------------------
def test_throttle_answers_like_aws(sts: StsDouble) -> None:
    sts.throttle = True
    with pytest.raises(ClientError) as exc:
        client(sts).get_caller_identity()
    assert error(exc) == (400, "Throttling", "Rate exceeded")
    sts.throttle = False
    assert client(sts).get_caller_identity()["Account"] == U.account


def test_delay_slows_answers(sts: StsDouble) -> None:
    c = client(sts)
    sts.delay = 0.3
    start = time.monotonic()
    c.get_caller_identity()
    assert time.monotonic() - start >= 0.3


def test_calls_and_requests_are_recorded(sts: StsDouble) -> None:
    c = client(sts)
    c.get_caller_identity()
    c.get_session_token(SerialNumber=U.mfa_serial, TokenCode=code(U.totp_secret))
    with pytest.raises(ClientError):
        c.get_session_token(SerialNumber=U.mfa_serial, TokenCode=code(U.totp_secret))
    assert (sts.calls(), sts.calls("GetSessionToken"), sts.calls("AssumeRole")) == (3, 2, 0)
    last = sts.requests[-1]
    assert (last["action"], last["access_key_id"], last["status"], last["code"]) == (
        "GetSessionToken",
        U.access_key_id,
        403,
        "AccessDenied",
    )
    assert last["params"]["SerialNumber"] == U.mfa_serial


def test_endpoint_from_environment(sts: StsDouble, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", sts.url)
    c = boto3.client(
        "sts", region_name="eu-west-1", aws_access_key_id=U.access_key_id, aws_secret_access_key=U.secret_access_key
    )
    assert c.get_caller_identity()["Arn"] == "arn:aws:iam::123456789012:user/alice"
    assert sts.calls("GetCallerIdentity") == 1


# ---- other clients ---------------------------------------------------------------------------
def aws_env(sts: StsDouble, tmp_path: Path) -> dict[str, str]:
    (tmp_path / "config").write_text("[default]\nregion = us-east-1\noutput = json\n")
    (tmp_path / "credentials").write_text(
        f"[default]\naws_access_key_id = {U.access_key_id}\naws_secret_access_key = {U.secret_access_key}\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return dict(
        env,
        HOME=str(tmp_path),
        AWS_CONFIG_FILE=str(tmp_path / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "credentials"),
        AWS_ENDPOINT_URL_STS=sts.url,
    )


def test_aws_cli_get_session_token(sts: StsDouble, tmp_path: Path) -> None:
    aws = str(Path(sys.executable).parent / "aws")
    argv = [aws, "sts", "get-session-token", "--serial-number", U.mfa_serial, "--token-code", code(U.totp_secret)]
    ok = subprocess.run(
        argv, env=aws_env(sts, tmp_path), capture_output=True, text=True, timeout=30, preexec_fn=default_signals
    )
    assert ok.returncode == 0, ok.stderr
    creds = json.loads(ok.stdout)["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA") and creds["SessionToken"]
    again = subprocess.run(
        argv, env=aws_env(sts, tmp_path), capture_output=True, text=True, timeout=30, preexec_fn=default_signals
    )
    assert again.returncode != 0
    assert f"An error occurred (AccessDenied) when calling the GetSessionToken operation: {MSG_REUSED}" in again.stderr
    assert sts.calls("GetSessionToken") == 2


@pytest.mark.e2e
def test_standalone_main_prints_user_and_serves(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("sts_double.py"))],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=default_signals,
    )  # Ctrl-C stops it even if pytest's parent ignores SIGINT
    try:
        info = json.loads(proc.stdout.readline())  # type: ignore[union-attr]
        assert info["access_key_id"] == U.access_key_id and info["totp_secret"] == U.totp_secret
        c = boto3.client(
            "sts",
            endpoint_url=info["url"],
            region_name="us-east-1",
            aws_access_key_id=info["access_key_id"],
            aws_secret_access_key=info["secret_access_key"],
        )
        assert c.get_caller_identity()["Arn"] == "arn:aws:iam::123456789012:user/alice"
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=5)
    finally:
        if proc.poll() is None:  # never leave a server behind, whatever failed
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0 and err == ""


JS_CHECK = """
const { STSClient, GetSessionTokenCommand, GetCallerIdentityCommand } = require("@aws-sdk/client-sts");
const [akid, secret, serial, token] = process.argv.slice(1);
(async () => {
  const lt = new STSClient({ region: "ap-northeast-1", credentials: { accessKeyId: akid, secretAccessKey: secret } });
  const c = (await lt.send(new GetSessionTokenCommand({ SerialNumber: serial, TokenCode: token }))).Credentials;
  const s = new STSClient({ region: "ap-northeast-1", credentials: { accessKeyId: c.AccessKeyId,
    secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken } });
  console.log(JSON.stringify({ arn: (await s.send(new GetCallerIdentityCommand({}))).Arn,
                               expiration: c.Expiration.toISOString() }));
})().catch((e) => { console.error(e.name, e.message); process.exit(1); });
"""


JS_MODULES = Path(__file__).parent / "js" / "node_modules"


@pytest.mark.skipif(
    not (JS_MODULES / "@aws-sdk" / "client-sts").is_dir() or not shutil.which("node"),
    reason="needs node and `npm install --prefix tests/js` (README, Running the tests)",
)
def test_js_sdk_v3(sts: StsDouble, tmp_path: Path) -> None:
    env = dict(aws_env(sts, tmp_path), NODE_PATH=str(JS_MODULES), NODE_NO_WARNINGS="1")
    out = subprocess.run(
        ["node", "-e", JS_CHECK, U.access_key_id, U.secret_access_key, U.mfa_serial, code(U.totp_secret)],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        preexec_fn=default_signals,
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["arn"] == "arn:aws:iam::123456789012:user/alice" and result["expiration"].endswith(".000Z")
