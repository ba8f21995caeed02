"""The STS double's IAM access keys (CreateAccessKey, DeleteAccessKey, ListAccessKeys), through real
boto3 clients against the double's own process: what `mfa-process rotate` is tested against."""

from __future__ import annotations

import re
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Dict, Tuple

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError, ReadTimeoutError
from processes import isolated_env, kill_group, popen
from secret_guard import SecretGuard
from sts_double import DEFAULT_USER, IssuedSession, StsDouble, User
from sts_double_process import StsDoubleProcess
from totp import code

U = DEFAULT_USER
BOB = User(
    "bob",
    U.account,
    "AKIAI44QH8DHBEXAMPLE",
    "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
    "arn:aws:iam::123456789012:mfa/bob",
    "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU",
)
INVALID = (403, "InvalidClientTokenId", "The security token included in the request is invalid.")
ACTIONS = {  # boto3 method -> (IAM action, arguments that are valid for it)
    "create_access_key": ("CreateAccessKey", {}),
    "delete_access_key": ("DeleteAccessKey", {"AccessKeyId": U.access_key_id}),
    "list_access_keys": ("ListAccessKeys", {}),
}
JAN_2024 = datetime(2024, 1, 1, tzinfo=timezone.utc)
ONE_TRY = Config(retries={"total_max_attempts": 1}, read_timeout=20, connect_timeout=5)

Keys = Tuple[str, str]  # a long-term key: (id, secret)
Creds = Dict[str, str]  # a session: AccessKeyId, SecretAccessKey, SessionToken


# ---- helpers ---------------------------------------------------------------------------------
def client(
    service: str, sts: StsDoubleProcess | StsDouble, keys: Keys | Creds = (U.access_key_id, U.secret_access_key)
) -> Any:
    """A boto3 client for the double, signing with long-term ``keys`` or a session."""
    if isinstance(keys, dict):
        signing = dict(
            aws_access_key_id=keys["AccessKeyId"],
            aws_secret_access_key=keys["SecretAccessKey"],
            aws_session_token=keys["SessionToken"],
        )
    else:
        signing = dict(aws_access_key_id=keys[0], aws_secret_access_key=keys[1])
    return boto3.client(service, endpoint_url=sts.url, region_name="us-east-1", config=ONE_TRY, **signing)


def creds(session: IssuedSession) -> Creds:
    return {
        "AccessKeyId": session.access_key_id,
        "SecretAccessKey": session.secret_access_key,
        "SessionToken": session.session_token,
    }


def mfa_session(sts: StsDoubleProcess, keys: Keys = (U.access_key_id, U.secret_access_key)) -> Creds:
    """A GetSessionToken session with a real TOTP code, as `mfa-process` gets one."""
    answer = client("sts", sts, keys).get_session_token(SerialNumber=U.mfa_serial, TokenCode=code(U.totp_secret))
    return answer["Credentials"]


def error(exc: pytest.ExceptionInfo[ClientError]) -> Tuple[int, str, str]:
    e = exc.value.response
    return e["ResponseMetadata"]["HTTPStatusCode"], e["Error"]["Code"], e["Error"]["Message"]


def wait_until(what: str, check: Callable[[], Any], seconds: float = 10.0) -> Any:
    """Poll ``check`` until it returns something true; fail naming ``what`` if it never does."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.02)
    pytest.fail(f"not within {seconds:.0f} s: {what}")


def new_key(sts: StsDoubleProcess, session: Creds) -> Keys:
    """CreateAccessKey for the caller; the new key's (id, secret)."""
    made = client("iam", sts, session).create_access_key()["AccessKey"]
    return made["AccessKeyId"], made["SecretAccessKey"]


# ---- who may call them ------------------------------------------------------------------------
@pytest.mark.parametrize("method", sorted(ACTIONS))
def test_long_term_keys_are_denied_by_the_deny_without_mfa_policy(sts: StsDoubleProcess, method: str) -> None:
    action, kwargs = ACTIONS[method]
    with pytest.raises(ClientError) as exc:
        getattr(client("iam", sts), method)(**kwargs)

    assert error(exc) == (
        403,
        "AccessDenied",
        f"User: arn:aws:iam::123456789012:user/alice is not authorized to perform: iam:{action} on resource: "
        "user alice with an explicit deny in an identity-based policy",
    )
    assert [key["access_key_id"] for key in sts.access_keys()] == [U.access_key_id]


@pytest.mark.parametrize("method", sorted(ACTIONS))
def test_a_session_without_mfa_is_refused_by_iam(sts: StsDoubleProcess, method: str) -> None:
    plain = client("sts", sts).get_session_token()["Credentials"]
    _, kwargs = ACTIONS[method]
    with pytest.raises(ClientError) as exc:
        getattr(client("iam", sts, plain), method)(**kwargs)

    assert error(exc) == INVALID
    assert sts.created_keys() == [] and len(sts.access_keys()) == 1


@pytest.mark.parametrize("method", sorted(ACTIONS))
def test_another_users_name_is_not_found(sts: StsDoubleProcess, method: str) -> None:
    _, kwargs = ACTIONS[method]
    with pytest.raises(ClientError) as exc:
        getattr(client("iam", sts, mfa_session(sts)), method)(UserName="bob", **kwargs)

    assert error(exc) == (404, "NoSuchEntity", "The user with name bob cannot be found.")


# ---- what they do -----------------------------------------------------------------------------
def test_an_mfa_session_creates_lists_and_deletes_keys(sts: StsDoubleProcess) -> None:
    iam = client("iam", sts, mfa_session(sts))
    before = datetime.now(timezone.utc).replace(microsecond=0)

    made = iam.create_access_key(UserName="alice")["AccessKey"]

    assert set(made) == {"UserName", "AccessKeyId", "Status", "SecretAccessKey", "CreateDate"}
    assert (made["UserName"], made["Status"]) == ("alice", "Active")
    assert re.fullmatch(r"AKIA[A-Z2-7]{16}", made["AccessKeyId"])
    assert re.fullmatch(r"[A-Za-z0-9+/]{40}", made["SecretAccessKey"])
    assert before <= made["CreateDate"] <= datetime.now(timezone.utc)
    assert sts.created_keys() == [(made["AccessKeyId"], made["SecretAccessKey"])]

    listed = iam.list_access_keys()
    assert listed["IsTruncated"] is False
    assert listed["AccessKeyMetadata"] == [
        {"UserName": "alice", "AccessKeyId": U.access_key_id, "Status": "Active", "CreateDate": JAN_2024},
        {"UserName": "alice", "AccessKeyId": made["AccessKeyId"], "Status": "Active", "CreateDate": made["CreateDate"]},
    ]
    assert [(key["access_key_id"], key["status"], key["create_date"]) for key in sts.access_keys("alice")] == [
        (key["AccessKeyId"], "Active", key["CreateDate"].timestamp()) for key in listed["AccessKeyMetadata"]
    ]
    assert "secret_access_key" not in str(sts.access_keys()) and made["SecretAccessKey"] not in str(sts.access_keys())

    deleted = iam.delete_access_key(AccessKeyId=made["AccessKeyId"])

    assert set(deleted) == {"ResponseMetadata"}
    assert [key["AccessKeyId"] for key in iam.list_access_keys()["AccessKeyMetadata"]] == [U.access_key_id]
    assert sts.created_keys() == [(made["AccessKeyId"], made["SecretAccessKey"])]  # the guard still knows it
    iam_calls = [r for r in sts.requests if r["action"] in ("CreateAccessKey", "ListAccessKeys", "DeleteAccessKey")]
    assert [r["status"] for r in iam_calls] == [200, 200, 200, 200]


def test_a_user_has_two_keys_at_most(sts: StsDoubleProcess) -> None:
    iam = client("iam", sts, creds(sts.issue_session(U.access_key_id)))
    first = iam.create_access_key()["AccessKey"]["AccessKeyId"]

    with pytest.raises(ClientError) as exc:
        iam.create_access_key()
    assert error(exc) == (409, "LimitExceeded", "Cannot exceed quota for AccessKeysPerUser: 2")
    assert [key["access_key_id"] for key in sts.access_keys()] == [U.access_key_id, first]

    iam.delete_access_key(AccessKeyId=first)
    second = iam.create_access_key()["AccessKey"]["AccessKeyId"]  # room again
    assert [key["access_key_id"] for key in sts.access_keys()] == [U.access_key_id, second]


def test_an_unknown_or_foreign_key_is_not_found() -> None:
    with StsDoubleProcess([U, BOB]) as sts:
        iam = client("iam", sts, creds(sts.issue_session(U.access_key_id)))
        for akid in ("AKIAZZZZZZZZZZZZZZZZ", BOB.access_key_id):
            with pytest.raises(ClientError) as exc:
                iam.delete_access_key(AccessKeyId=akid)
            assert error(exc) == (404, "NoSuchEntity", f"The Access Key with id {akid} cannot be found.")

        assert sts.key_works(BOB.access_key_id) and [k["access_key_id"] for k in sts.access_keys("bob")] == [
            BOB.access_key_id
        ]
        assert not sts.key_works("AKIAZZZZZZZZZZZZZZZZ")


# ---- propagation and deletion -----------------------------------------------------------------
def test_a_new_key_signs_only_after_the_propagation_delay(sts: StsDoubleProcess) -> None:
    sts.propagation_delay = 0.5
    session = creds(sts.issue_session(U.access_key_id))
    started = time.monotonic()
    keys = new_key(sts, session)

    for call in (
        lambda: client("sts", sts, keys).get_caller_identity(),
        lambda: client("sts", sts, keys).get_session_token(),
        lambda: client("iam", sts, keys).list_access_keys(),
    ):
        with pytest.raises(ClientError) as exc:
            call()
        assert error(exc) == INVALID
    assert time.monotonic() - started < 0.5, "too slow to see the key before it propagated"
    assert not sts.key_works(keys[0]) and [k["usable"] for k in sts.access_keys()] == [True, False]

    wait_until("the new key works", lambda: sts.key_works(keys[0]))

    assert time.monotonic() - started >= 0.5
    assert [k["usable"] for k in sts.access_keys()] == [True, True]
    identity = client("sts", sts, keys).get_caller_identity()  # never denied, even without MFA
    assert (identity["Arn"], identity["Account"]) == ("arn:aws:iam::123456789012:user/alice", U.account)
    from_new = mfa_session(sts, keys)  # GetSessionToken with the new key, as after a rotation
    assert client("iam", sts, from_new).get_user()["User"]["UserName"] == "alice"


def test_a_deleted_key_stops_working_and_so_do_the_sessions_made_with_it(sts: StsDoubleProcess) -> None:
    role = "arn:aws:iam::123456789012:role/admin"
    sts.add_role(role)
    sts.propagation_delay = 0.0
    old_mfa = mfa_session(sts)  # rotation: the MFA session of the old key does the work
    old_plain = client("sts", sts).get_session_token()["Credentials"]
    role_session = client("sts", sts, old_mfa).assume_role(RoleArn=role, RoleSessionName="s1")["Credentials"]
    keys = new_key(sts, old_mfa)
    new_session = creds(sts.issue_session(keys[0]))

    client("iam", sts, old_mfa).delete_access_key(AccessKeyId=U.access_key_id)

    assert not sts.key_works(U.access_key_id)
    for signer in ((U.access_key_id, U.secret_access_key), old_mfa, old_plain):
        with pytest.raises(ClientError) as exc:
            client("sts", sts, signer).get_caller_identity()
        assert error(exc) == INVALID
    with pytest.raises(ClientError) as exc:
        client("iam", sts, old_mfa).list_access_keys()
    assert error(exc) == INVALID
    with pytest.raises(RuntimeError, match="no usable access key"):
        sts.issue_session(U.access_key_id)
    # the new key and its session work; a role session outlives the key it was assumed with, as at AWS
    assert client("sts", sts, keys).get_caller_identity()["Account"] == U.account
    assert [k["AccessKeyId"] for k in client("iam", sts, new_session).list_access_keys()["AccessKeyMetadata"]] == [
        keys[0]
    ]
    assert client("sts", sts, role_session).get_caller_identity()["Arn"].endswith(":assumed-role/admin/s1")
    assert [(k["access_key_id"], k["usable"]) for k in sts.access_keys()] == [(keys[0], True)]


# ---- stalling a call, to kill a client between two calls -------------------------------------
def test_stall_before_holds_a_request_unprocessed_until_released(sts: StsDoubleProcess) -> None:
    iam = client("iam", sts, creds(sts.issue_session(U.access_key_id)))
    sts.stall_before = "CreateAccessKey"
    assert sts.stalled() == []
    with ThreadPoolExecutor(1) as pool:
        try:
            create = pool.submit(iam.create_access_key)

            assert wait_until("the create is stalled", sts.stalled) == ["CreateAccessKey"]
            assert not create.done() and len(sts.access_keys()) == 1  # not processed yet
            assert (sts.requests[-1]["action"], sts.requests[-1]["status"]) == ("CreateAccessKey", None)
            assert iam.list_access_keys()["AccessKeyMetadata"]  # other actions are not held

            sts.release()
            made = create.result(timeout=10)["AccessKey"]
        finally:
            sts.stall_before = None
            sts.release()
    assert sts.stalled() == [] and sts.calls("CreateAccessKey") == 1
    assert [k["access_key_id"] for k in sts.access_keys()] == [U.access_key_id, made["AccessKeyId"]]


def test_stall_after_holds_the_answer_of_a_processed_request(sts: StsDoubleProcess) -> None:
    iam = client("iam", sts, creds(sts.issue_session(U.access_key_id)))
    sts.stall_after = "ListAccessKeys"
    with ThreadPoolExecutor(2) as pool:
        try:
            first = pool.submit(iam.list_access_keys)
            wait_until("the first list is stalled", sts.stalled)
            assert sts.requests[-1]["status"] == 200 and not first.done()  # processed, not answered

            sts.release()  # releases the request held now, not the setting
            first.result(timeout=10)
            second = pool.submit(iam.list_access_keys)
            assert wait_until("the second list is stalled", sts.stalled) == ["ListAccessKeys"]

            sts.stall_after = None  # clearing the setting lets it go too
            assert second.result(timeout=10)["IsTruncated"] is False
        finally:
            sts.stall_after = None
            sts.release()
    assert sts.stalled() == [] and sts.calls("ListAccessKeys") == 2


CREATE_KEY = """
import sys, boto3
from botocore.config import Config
one_try = Config(retries={"total_max_attempts": 1})
iam = boto3.client("iam", endpoint_url=sys.argv[1], region_name="us-east-1", config=one_try)
iam.create_access_key()
print("answered", flush=True)
"""


def test_a_client_killed_while_its_answer_is_stalled_leaves_the_key_made(sts: StsDoubleProcess, tmp_path: Path) -> None:
    session = creds(sts.issue_session(U.access_key_id))
    env = isolated_env(
        tmp_path,
        AWS_ACCESS_KEY_ID=session["AccessKeyId"],
        AWS_SECRET_ACCESS_KEY=session["SecretAccessKey"],
        AWS_SESSION_TOKEN=session["SessionToken"],
        AWS_CONFIG_FILE=str(tmp_path / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "credentials"),
    )
    sts.stall_after = "CreateAccessKey"
    process = popen([sys.executable, "-c", CREATE_KEY, sts.url], env=env, capture_output=True, text=True)
    try:
        wait_until("the client's CreateAccessKey is stalled", sts.stalled, seconds=30)
        assert process.poll() is None
    finally:
        kill_group(process)  # between CreateAccessKey and anything the client would do next
    assert process.stdout is not None and process.stdout.closed

    sts.release()
    wait_until("the stalled request ended", lambda: not sts.stalled())

    [(made, _)] = sts.created_keys()  # it exists at "AWS", and the client never saw it
    assert [k["access_key_id"] for k in sts.access_keys()] == [U.access_key_id, made]
    listed = client("iam", sts, session).list_access_keys()["AccessKeyMetadata"]
    assert [k["AccessKeyId"] for k in listed] == [U.access_key_id, made]


def test_stop_ends_a_stalled_request_at_once() -> None:
    double = StsDouble().start()
    try:
        double.stall_before = "GetCallerIdentity"
        with ThreadPoolExecutor(1) as pool:
            call = pool.submit(client("sts", double).get_caller_identity)
            wait_until("the call is stalled", double.stalled)

            started = time.monotonic()
            double.stop()
            assert time.monotonic() - started < 1.0
            with pytest.raises((ConnectionClosedError, EndpointConnectionError, ReadTimeoutError)):
                call.result(timeout=10)  # never answered: the connection closed
    finally:
        double.stop()
    assert double.stalled() == []


# ---- the secret guard ---------------------------------------------------------------------------
def test_the_guard_knows_created_secrets_everywhere_even_on_a_terminal(
    sts: StsDoubleProcess, secret_guard: SecretGuard
) -> None:
    akid, secret = new_key(sts, creds(sts.issue_session(U.access_key_id)))
    guard = SecretGuard()
    guard.watch_double(sts)  # type: ignore[arg-type] # the same API, over loopback
    leak = f"the secret access key of {akid} (made by CreateAccessKey)"

    assert guard.leaks([("Captured stderr call", f"rotated: {secret}")]) == [f"{leak} appears in Captured stderr call"]
    guard.check("the terminal", f"new key {secret}", contract_channel=True)
    assert guard.leaks() == [f"{leak} appears in the terminal"]
    assert guard.leaks([("Captured stderr call", f"rotated to {akid}")]) == [
        f"{leak} appears in the terminal"
    ]  # ids are no secret
    assert secret_guard.secrets(contract_channel=True)[secret] == leak  # the suite's own guard too


def test_created_secrets_stay_known_after_the_double_stops() -> None:
    guard = SecretGuard()
    double = StsDoubleProcess(propagation_delay=0.0).start()
    try:
        guard.watch_double(double)  # type: ignore[arg-type]
        assert double.propagation_delay == 0.0
        iam = client("iam", double, creds(double.issue_session(U.access_key_id)))
        made = iam.create_access_key()["AccessKey"]
        iam.delete_access_key(AccessKeyId=made["AccessKeyId"])
    finally:
        double.stop()

    assert double.created_keys() == [(made["AccessKeyId"], made["SecretAccessKey"])]
    assert guard.leaks([("Captured stderr call", made["SecretAccessKey"])]) == [
        f"the secret access key of {made['AccessKeyId']} (made by CreateAccessKey) appears in Captured stderr call"
    ]


def test_key_controls_are_json_and_hold_no_secret(sts: StsDoubleProcess) -> None:
    [key] = sts.access_keys()

    assert key == {
        "access_key_id": U.access_key_id,
        "status": "Active",
        "create_date": JAN_2024.timestamp(),
        "usable": True,
    }
    assert sts.key_works(U.access_key_id) and not sts.key_works("AKIAZZZZZZZZZZZZZZZZ")
    assert (sts.created_keys(), sts.stalled(), sts.stall_before, sts.stall_after) == ([], [], None, None)
    assert sts.propagation_delay == 1.0
    with pytest.raises(RuntimeError, match="no IAM user 'carol'"):
        sts.access_keys("carol")
