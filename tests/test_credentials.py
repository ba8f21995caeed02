"""Credentials: the credential_process JSON contract, the refresh margin, and rebuilding from the cache."""

from __future__ import annotations

import json
import re
import time

import pytest

from mfa_process.session.credentials import REFRESH_MARGIN_SECONDS, Credentials

EPOCH = 1_700_000_000  # 2023-11-14T22:13:20Z
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY"
TOKEN = "FwoGZXIvYXdzEXAMPLESESSIONTOKEN"


def make(account_id=None, expires_at=EPOCH):
    return Credentials("ASIAEXAMPLE", SECRET, TOKEN, expires_at, account_id)


def test_process_output_has_exactly_the_contract_keys_without_account():
    output = make().process_output()

    assert output == {
        "Version": 1,
        "AccessKeyId": "ASIAEXAMPLE",
        "SecretAccessKey": SECRET,
        "SessionToken": TOKEN,
        "Expiration": "2023-11-14T22:13:20Z",
    }
    assert type(output["Version"]) is int


def test_process_output_adds_account_id_when_known():
    output = make(account_id="123456789012").process_output()

    assert set(output) == {"Version", "AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration", "AccountId"}
    assert output["AccountId"] == "123456789012"


def test_empty_account_id_is_left_out():
    assert "AccountId" not in make(account_id="").process_output()


def test_to_json_is_one_object_equal_to_process_output():
    credentials = make(account_id="123456789012")

    assert json.loads(credentials.to_json()) == credentials.process_output()


def test_expiration_is_utc_with_z_whatever_the_local_time_zone(monkeypatch):
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        expiration = make().expiration
    finally:
        monkeypatch.undo()
        time.tzset()

    assert expiration == "2023-11-14T22:13:20Z"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", expiration)


def test_exactly_the_refresh_margin_left_is_not_servable():
    assert REFRESH_MARGIN_SECONDS == 900
    assert make().is_servable(EPOCH - 900) is False


def test_one_second_more_than_the_margin_is_servable():
    assert make().is_servable(EPOCH - 901) is True


def test_expired_credentials_are_not_servable():
    assert make().is_servable(EPOCH + 1) is False


def test_seconds_left():
    assert make().seconds_left(EPOCH - 3600.5) == 3600.5


def test_from_process_output_round_trip_with_and_without_account():
    for credentials in (make(), make(account_id="123456789012")):
        assert Credentials.from_process_output(credentials.process_output(), credentials.expires_at) == credentials


def good_output():
    return make(account_id="123456789012").process_output()


@pytest.mark.parametrize("name", ["Version", "AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"])
def test_from_process_output_rejects_a_missing_field(name):
    data = good_output()
    del data[name]

    assert Credentials.from_process_output(data, EPOCH) is None


@pytest.mark.parametrize(
    "name, value",
    [
        ("Version", 2),
        ("Version", "1"),
        ("Version", True),
        ("AccessKeyId", 12345),
        ("AccessKeyId", ""),
        ("SecretAccessKey", None),
        ("SecretAccessKey", ["x"]),
        ("SessionToken", ""),
        ("SessionToken", {"x": 1}),
        ("Expiration", EPOCH),
    ],
)
def test_from_process_output_rejects_a_mistyped_field(name, value):
    data = good_output()
    data[name] = value

    assert Credentials.from_process_output(data, EPOCH) is None


@pytest.mark.parametrize("data", [None, [], "text", 1])
def test_from_process_output_rejects_a_non_object(data):
    assert Credentials.from_process_output(data, EPOCH) is None


@pytest.mark.parametrize("expires_at", [True, False, float(EPOCH), str(EPOCH), None])
def test_from_process_output_rejects_expires_at_that_is_not_an_int(expires_at):
    assert Credentials.from_process_output(good_output(), expires_at) is None


@pytest.mark.parametrize("expires_at", [EPOCH + 1, EPOCH - 1, EPOCH + 3600])
def test_from_process_output_rejects_expiration_that_disagrees_with_expires_at(expires_at):
    assert Credentials.from_process_output(good_output(), expires_at) is None


def test_from_process_output_drops_an_account_id_that_is_not_a_string():
    data = good_output()
    data["AccountId"] = 123456789012

    credentials = Credentials.from_process_output(data, EPOCH)

    assert credentials is not None
    assert credentials.account_id is None
    assert "AccountId" not in credentials.process_output()


def test_repr_shows_neither_secret_nor_token():
    credentials = make(account_id="123456789012")

    for text in (repr(credentials), str(credentials), f"{credentials}"):
        assert SECRET not in text
        assert TOKEN not in text
        assert "ASIAEXAMPLE" in text
