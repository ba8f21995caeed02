"""The STS double in a process of its own (the ``sts`` fixture): StsDouble's API over its control path."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request

import boto3
import pytest
import totp
from sts_double import DEFAULT_USER, User
from sts_double_process import StsDoubleProcess
from sts_rewrites import Rewrite, page, strip_field

pytestmark = pytest.mark.e2e  # every test here starts the double's process

U = DEFAULT_USER
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback, whatever HTTP_PROXY says


def session_token(url: str, user: User = U, offset: int = 0) -> dict:
    client = boto3.client(
        "sts",
        endpoint_url=url,
        region_name="eu-west-1",
        aws_access_key_id=user.access_key_id,
        aws_secret_access_key=user.secret_access_key,
    )
    return client.get_session_token(SerialNumber=user.mfa_serial, TokenCode=totp.code(user.totp_secret, offset))


def test_the_double_serves_from_another_process_and_no_thread_here(sts: StsDoubleProcess) -> None:
    assert threading.active_count() == 1  # pexpect may fork this process safely

    credentials = session_token(sts.url)["Credentials"]

    [issued] = sts.sessions()
    assert (issued.access_key_id, issued.secret_access_key) == (
        credentials["AccessKeyId"],
        credentials["SecretAccessKey"],
    )
    assert issued.mfa and issued.account == U.account and issued.role_arn is None
    assert sts.issued_sessions() == [(issued.access_key_id, issued.secret_access_key, issued.session_token)]
    assert sts.calls() == sts.calls("GetSessionToken") == 1
    assert sts.requests[0]["region"] == "eu-west-1"
    assert sts.users() == [U]
    assert threading.active_count() == 1


def test_settings_are_read_and_set_in_the_double(sts: StsDoubleProcess) -> None:
    sts.delay, sts.throttle, sts.expiry_offset = 0.25, True, -60

    assert (sts.delay, sts.throttle, sts.expiry_offset) == (0.25, True, -60)
    assert sts.hang is False and sts.rewrite is None


def test_a_rewrite_crosses_by_name_and_a_lambda_is_refused(sts: StsDoubleProcess) -> None:
    sts.rewrite = Rewrite(strip_field, "SessionToken")
    assert sts.rewrite == Rewrite(strip_field, "SessionToken")
    assert "SessionToken" not in session_token(sts.url)["Credentials"]

    with pytest.raises(TypeError, match="sts_rewrites.Rewrite"):
        sts.rewrite = lambda status, kind, body: (status, kind, body)
    with pytest.raises(ValueError, match="not a rewrite of tests/sts_rewrites.py"):
        Rewrite(lambda status, kind, body: (status, kind, body))


def test_records_stay_readable_after_stop_for_the_secret_guard() -> None:
    double = StsDoubleProcess(skew_windows=2).start()
    session_token(double.url, offset=-2)  # within the skew given
    issued = double.issue_session(U.access_key_id, 900)

    double.stop()
    double.stop()  # idempotent

    assert [akid for akid, _, _ in double.issued_sessions()][-1] == issued.access_key_id
    assert double.users() == [U] and double.calls("GetSessionToken") == 1
    with pytest.raises(RuntimeError, match="not running"):
        double.add_role("arn:aws:iam::123456789012:role/late")
    with pytest.raises(urllib.error.URLError):
        DIRECT.open(double.url, timeout=2)  # the process is gone


def test_users_and_policy_are_given_at_start() -> None:
    bob = User(
        "bob", "210987654321", "AKIABOBBOBBOBBOBBOB1", "bob-secret-key-0123456789", "GAHT12345678", U.totp_secret
    )
    with StsDoubleProcess(users=[bob], deny_without_mfa=False) as double:
        assert double.users() == [bob]
        assert double.deny_without_mfa is False
        assert double.key_facts(bob.access_key_id) == {
            "account": bob.account,
            "temporary": False,
            "mfa": False,
            "role_arn": None,
        }


def test_only_the_secret_path_reaches_the_controls(sts: StsDoubleProcess) -> None:
    sts.rewrite = Rewrite(page, 200, "text/plain", "not the controls")
    guessed = sts.url + "/control-" + "0" * 32 + "/requests"

    with DIRECT.open(urllib.request.Request(guessed, data=b"[]"), timeout=5) as answer:
        assert answer.read() == b"not the controls"  # answered as an STS request, and recorded as one
    assert sts.calls() == 1
