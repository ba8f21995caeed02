"""The STS double's aws:MultiFactorAuthAge and its moved clock, through real boto3 clients against
the double's own process: what mfa-process's ``mfa_max_age`` is tested against, without waiting
for real hours."""

from __future__ import annotations

import time
from typing import Any, Dict, Optional, Tuple

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from secret_guard import SecretGuard
from sts_double import DEFAULT_USER, IssuedSession
from sts_double_process import StsDoubleProcess
from totp import code, totp

U = DEFAULT_USER
ROLE = "arn:aws:iam::210987654321:role/admin"
HOUR = 3600.0
ONE_TRY = Config(retries={"total_max_attempts": 1}, read_timeout=20, connect_timeout=5)
NEAR = 5.0  # seconds: what a request's trip and a loaded machine add to an age or a time
LONG_TERM = {"aws_access_key_id": U.access_key_id, "aws_secret_access_key": U.secret_access_key}

Creds = Dict[str, Any]  # AccessKeyId, SecretAccessKey, SessionToken, Expiration (a datetime)


# ---- helpers ---------------------------------------------------------------------------------
def client(service: str, sts: StsDoubleProcess, creds: Optional[Creds] = None) -> Any:
    """A boto3 client for the double: the user's long-term keys, or session ``creds``."""
    signing: Dict[str, str] = LONG_TERM
    if creds is not None:
        signing = {
            "aws_access_key_id": creds["AccessKeyId"],
            "aws_secret_access_key": creds["SecretAccessKey"],
            "aws_session_token": creds["SessionToken"],
        }
    return boto3.client(service, endpoint_url=sts.url, region_name="us-east-1", config=ONE_TRY, **signing)


def creds(session: IssuedSession) -> Creds:
    return {
        "AccessKeyId": session.access_key_id,
        "SecretAccessKey": session.secret_access_key,
        "SessionToken": session.session_token,
    }


def mfa_session(sts: StsDoubleProcess, window: int = 0, **params: Any) -> Creds:
    """GetSessionToken with a real TOTP code (of the window ``window`` steps from now: a code
    works once), as mfa-process gets a session."""
    token = code(U.totp_secret, window)
    answer = client("sts", sts).get_session_token(SerialNumber=U.mfa_serial, TokenCode=token, **params)
    return answer["Credentials"]


def error(exc: pytest.ExceptionInfo[ClientError]) -> Tuple[int, str, str]:
    e = exc.value.response
    return e["ResponseMetadata"]["HTTPStatusCode"], e["Error"]["Code"], e["Error"]["Message"]


def last_age(sts: StsDoubleProcess, action: str) -> Optional[float]:
    """The aws:MultiFactorAuthAge the double saw in the last request of ``action``."""
    return [r for r in sts.requests if r["action"] == action][-1]["mfa_age"]


def denied_get_user(arn: str) -> Tuple[int, str, str]:
    message = (
        f"User: {arn} is not authorized to perform: iam:GetUser on resource: user alice "
        "with an explicit deny in an identity-based policy"
    )
    return 403, "AccessDenied", message


# ---- the policy on aws:MultiFactorAuthAge -----------------------------------------------------
def test_get_user_is_allowed_while_the_mfa_is_young_and_denied_once_it_is_max_mfa_age_old(
    sts: StsDoubleProcess,
) -> None:
    sts.max_mfa_age = HOUR
    session = mfa_session(sts)
    iam = client("iam", sts, session)

    assert iam.get_user()["User"]["UserName"] == "alice"
    age = last_age(sts, "GetUser")
    assert age is not None and 0 <= age < NEAR

    sts.clock_offset = HOUR - 10  # 59 min 50 s later: still younger than the policy's hour
    assert iam.get_user()["User"]["UserName"] == "alice"
    age = last_age(sts, "GetUser")
    assert age is not None and HOUR - 10 <= age < HOUR

    sts.clock_offset = HOUR  # an hour later
    with pytest.raises(ClientError) as exc:
        iam.get_user()
    assert error(exc) == denied_get_user(U.arn)
    age = last_age(sts, "GetUser")
    assert age is not None and HOUR <= age < HOUR + NEAR
    assert [r["code"] for r in sts.requests if r["action"] == "GetUser"] == [None, None, "AccessDenied"]

    # The session itself is good for 12 hours: only the policy on MFA age says no.
    assert client("sts", sts, session).get_caller_identity()["Arn"] == U.arn
    assert last_age(sts, "GetCallerIdentity") == pytest.approx(HOUR, abs=NEAR)

    fresh = mfa_session(sts, window=1)  # a new code: a new MFA authentication, at the double's now
    assert client("iam", sts, fresh).get_user()["User"]["UserName"] == "alice"
    assert last_age(sts, "GetUser") == pytest.approx(0, abs=NEAR)


def test_without_max_mfa_age_an_old_mfa_session_calls_iam_and_its_age_is_still_recorded(
    sts: StsDoubleProcess,
) -> None:
    assert sts.max_mfa_age is None and sts.clock_offset == 0
    session = mfa_session(sts)
    sts.clock_offset = 10 * HOUR

    assert client("iam", sts, session).get_user()["User"]["UserName"] == "alice"
    assert last_age(sts, "GetUser") == pytest.approx(10 * HOUR, abs=NEAR)


def test_callers_without_mfa_have_no_age_and_the_age_policy_leaves_them_to_the_mfa_policy(
    sts: StsDoubleProcess,
) -> None:
    sts.max_mfa_age = 60.0
    sts.clock_offset = HOUR
    plain = client("sts", sts).get_session_token()["Credentials"]  # no code: no MFA
    client("sts", sts, plain).get_caller_identity()
    client("sts", sts).get_caller_identity()

    assert [(r["action"], r["access_key_id"], r["mfa_age"]) for r in sts.requests] == [
        ("GetSessionToken", U.access_key_id, None),
        ("GetCallerIdentity", plain["AccessKeyId"], None),
        ("GetCallerIdentity", U.access_key_id, None),
    ]
    assert sts.sessions()[0].mfa_authenticated_at is None

    # Without the deny-without-MFA policy, long-term keys call GetUser: the age condition needs the
    # key, and a caller without MFA has none (a Deny on NumericGreaterThanEquals does not match).
    sts.deny_without_mfa = False
    assert client("iam", sts).get_user()["User"]["UserName"] == "alice"
    assert last_age(sts, "GetUser") is None


def test_a_failed_authentication_records_no_age(sts: StsDoubleProcess) -> None:
    session = dict(mfa_session(sts), SessionToken="not-the-token")
    with pytest.raises(ClientError):
        client("sts", sts, session).get_caller_identity()

    [request] = [r for r in sts.requests if r["action"] == "GetCallerIdentity"]
    assert (request["code"], request["mfa_age"]) == ("InvalidClientTokenId", None)


# ---- when the MFA authentication was -----------------------------------------------------------
def test_each_mfa_session_records_its_mfa_time_on_the_doubles_clock(sts: StsDoubleProcess) -> None:
    sts.clock_offset = 3000.0
    before = time.time() + 3000.0
    mfa_session(sts)
    sts.issue_session(U.access_key_id)
    after = time.time() + 3000.0

    [by_code, issued] = sts.sessions()
    for session in (by_code, issued):
        assert session.mfa and session.mfa_authenticated_at is not None
        assert before - 1 <= session.mfa_authenticated_at <= after + 1


def test_a_role_session_keeps_its_source_mfa_time(sts: StsDoubleProcess) -> None:
    sts.add_role(ROLE)
    source = mfa_session(sts)
    [source_session] = sts.sessions()
    sts.clock_offset = 1000.0

    role = client("sts", sts, source).assume_role(RoleArn=ROLE, RoleSessionName="admin")
    role_session = sts.sessions()[-1]
    assert role_session.role_arn == ROLE
    assert role_session.mfa_authenticated_at == source_session.mfa_authenticated_at

    role_creds = role["Credentials"]
    assert client("sts", sts, role_creds).get_caller_identity()["Account"] == "210987654321"
    assert last_age(sts, "GetCallerIdentity") == pytest.approx(1000.0, abs=NEAR)

    sts.max_mfa_age = 900.0  # the role session is 16 minutes after the source's MFA
    with pytest.raises(ClientError) as exc:
        client("iam", sts, role_creds).get_user(UserName="alice")
    assert error(exc) == denied_get_user(role["AssumedRoleUser"]["Arn"])
    assert role["AssumedRoleUser"]["Arn"] == "arn:aws:sts::210987654321:assumed-role/admin/admin"


def test_assume_role_with_its_own_code_starts_a_new_mfa_time(sts: StsDoubleProcess) -> None:
    sts.add_role(ROLE)
    sts.clock_offset = 2 * HOUR
    client("sts", sts).assume_role(
        RoleArn=ROLE, RoleSessionName="admin", SerialNumber=U.mfa_serial, TokenCode=code(U.totp_secret)
    )

    [role_session] = sts.sessions()
    assert role_session.mfa_authenticated_at == pytest.approx(sts.now(), abs=NEAR)


# ---- the moved clock ---------------------------------------------------------------------------
def test_expiry_and_expiration_follow_the_clock_offset(sts: StsDoubleProcess) -> None:
    sts.clock_offset = 50 * 60.0
    asked = time.time()
    session = mfa_session(sts, DurationSeconds=900)

    expiration = session["Expiration"].timestamp()
    assert expiration == pytest.approx(asked + 50 * 60 + 900, abs=NEAR)
    [issued] = sts.sessions()
    assert int(issued.expires) == expiration  # the answer's Expiration is the expiry, in whole seconds
    assert client("sts", sts, session).get_caller_identity()["Arn"] == U.arn

    sts.clock_offset = 50 * 60.0 + 900  # 15 minutes on: the session has ended
    with pytest.raises(ClientError) as exc:
        client("sts", sts, session).get_caller_identity()
    assert error(exc) == (400, "ExpiredToken", "The security token included in the request is expired")

    sts.clock_offset = 50 * 60.0  # back: the double's clock is all there is to it
    assert client("sts", sts, session).get_caller_identity()["Arn"] == U.arn


def test_key_propagation_follows_the_clock_offset(sts: StsDoubleProcess) -> None:
    sts.propagation_delay = 600.0
    sts.clock_offset = 3000.0
    made = client("iam", sts, creds(sts.issue_session(U.access_key_id))).create_access_key()["AccessKey"]
    new_id = made["AccessKeyId"]
    assert made["CreateDate"].timestamp() == pytest.approx(time.time() + 3000, abs=NEAR)
    assert not sts.key_works(new_id)

    sts.clock_offset = 3600.0  # ten minutes on: IAM has propagated it
    assert sts.key_works(new_id)
    assert [k["usable"] for k in sts.access_keys()] == [True, True]
    signing = {"aws_access_key_id": new_id, "aws_secret_access_key": made["SecretAccessKey"]}
    identity = boto3.client("sts", endpoint_url=sts.url, region_name="us-east-1", config=ONE_TRY, **signing)
    assert identity.get_caller_identity()["Arn"] == U.arn


def test_totp_codes_stay_on_real_time(sts: StsDoubleProcess) -> None:
    """A moved double still takes the code of the moment: it comes from the test's authenticator,
    which knows nothing of the offset. The code of the double's own now is refused."""
    sts.clock_offset = 50 * 60.0
    moved = totp(U.totp_secret, time.time() + 50 * 60)
    if moved in {code(U.totp_secret, offset) for offset in (-1, 0, 1)}:  # one chance in ~300 000
        pytest.skip("the moved window's code equals a real one's")

    with pytest.raises(ClientError) as exc:
        client("sts", sts).get_session_token(SerialNumber=U.mfa_serial, TokenCode=moved)
    assert error(exc)[:2] == (403, "AccessDenied")

    assert mfa_session(sts)["AccessKeyId"].startswith("ASIA")


@pytest.mark.e2e  # starts a process of its own
def test_the_settings_cross_processes_and_start_from_the_constructor(secret_guard: SecretGuard) -> None:
    with StsDoubleProcess(clock_offset=-120.5, max_mfa_age=60.0) as sts:
        secret_guard.watch_double(sts)  # type: ignore[arg-type]
        assert (sts.clock_offset, sts.max_mfa_age) == (-120.5, 60.0)
        assert sts.now() == pytest.approx(time.time() - 120.5, abs=NEAR)

        session = mfa_session(sts)
        assert client("iam", sts, session).get_user()["User"]["UserName"] == "alice"
        sts.clock_offset = -60.0  # 60.5 s later for the double
        with pytest.raises(ClientError) as exc:
            client("iam", sts, session).get_user()
        assert error(exc) == denied_get_user(U.arn)

        sts.max_mfa_age = None
        assert client("iam", sts, session).get_user()["User"]["UserName"] == "alice"
    assert sts.sessions()[0].expires == pytest.approx(time.time() - 120.5 + 43200, abs=NEAR)  # read after stop()
