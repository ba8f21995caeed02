"""redact(): every form a secret can take in a message or a traceback loses its value, keeps its name."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mfa_process.redact import PLACEHOLDER, redact

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY"
TOKEN = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ+abc=="


@pytest.mark.parametrize(
    "text, kept",
    [
        (f"<SecretAccessKey>{SECRET}</SecretAccessKey>", f"<SecretAccessKey>{PLACEHOLDER}</SecretAccessKey>"),
        (f"<SessionToken>{TOKEN}</SessionToken>", f"<SessionToken>{PLACEHOLDER}</SessionToken>"),
        (f"<SessionToken>{TOKEN}", f"<SessionToken>{PLACEHOLDER}"),  # a body cut off mid-token
        (f'{{"SecretAccessKey": "{SECRET}"}}', f'{{"SecretAccessKey": "{PLACEHOLDER}"}}'),
        (f'"SessionToken":"{TOKEN}', f'"SessionToken":"{PLACEHOLDER}"'),  # cut-off JSON
        (f"{{'SecretAccessKey': '{SECRET}'}}", f"{{'SecretAccessKey': '{PLACEHOLDER}'}}"),  # a Python repr
        (f'{{"Token": "{TOKEN}"}}', f'{{"Token": "{PLACEHOLDER}"}}'),  # the ECS container answer
        (f"aws_secret_access_key = {SECRET}\n", f"aws_secret_access_key = {PLACEHOLDER}\n"),
        (f"AWS_SESSION_TOKEN={TOKEN} aws s3 ls", f"AWS_SESSION_TOKEN={PLACEHOLDER} aws s3 ls"),
        (f"export AWS_SECRET_ACCESS_KEY='{SECRET}'", f"export AWS_SECRET_ACCESS_KEY={PLACEHOLDER}"),
        (f"AWS_SECURITY_TOKEN={TOKEN}", f"AWS_SECURITY_TOKEN={PLACEHOLDER}"),
        (f"X-Amz-Security-Token: {TOKEN}\r\n", f"X-Amz-Security-Token: {PLACEHOLDER}\r\n"),
        (f"SessionToken={TOKEN}&Version=1", f"SessionToken={PLACEHOLDER}&Version=1"),
        (f"Credentials(session_token='{TOKEN}')", f"Credentials(session_token={PLACEHOLDER})"),
    ],
)
def test_each_form_loses_its_value_and_keeps_its_name(text, kept):
    redacted = redact(text)

    assert redacted == kept
    assert SECRET not in redacted and TOKEN not in redacted


def test_a_botocore_parser_error_with_a_whole_body(tmp_path):
    body = (
        '<GetSessionTokenResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">\n  <GetSessionTokenResult>\n'
        f"    <Credentials>\n      <AccessKeyId>ASIAEXAMPLE</AccessKeyId>\n      <SecretAccessKey>{SECRET}"
        f"</SecretAccessKey>\n      <SessionToken>{TOKEN}"
    ).encode()
    message = f"Unable to parse response (no element found), invalid XML received:\n{body!r}"

    redacted = redact(message)

    assert SECRET not in redacted and TOKEN not in redacted
    assert "<AccessKeyId>ASIAEXAMPLE</AccessKeyId>" in redacted  # what is not secret stays readable
    assert "<GetSessionTokenResponse xmlns=" in redacted
    assert f"<SecretAccessKey>{PLACEHOLDER}</SecretAccessKey>" in redacted


@pytest.mark.parametrize(
    "text",
    [
        "mfa-process: AWS rejected the MFA code: it is wrong, or was already used",
        "The security token included in the request is invalid.",
        "pass --token-code CODE, or TokenCode=123456 in the request",
        "<GetSessionTokenResponse><GetSessionTokenResult>",
        "mfa-process: no answer from STS at http://127.0.0.1:8080 within 30 s",
    ],
)
def test_ordinary_text_is_unchanged(text):
    assert redact(text) == text


@given(
    name=st.sampled_from(["SecretAccessKey", "SessionToken", "Token"]),
    value=st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=\"\\' ", min_size=16),
)
def test_any_json_value_is_hidden(name, value):
    """Whatever the value holds (quotes and backslashes too), none of it survives."""
    escaped = json.dumps(value)[1:-1]
    document = json.dumps({"AccessKeyId": "ASIAEXAMPLE", name: value, "Expiration": "2026-01-01T00:00:00Z"})

    redacted = redact(document)

    assert escaped not in redacted
    assert json.loads(redacted) == {
        "AccessKeyId": "ASIAEXAMPLE",
        name: PLACEHOLDER,
        "Expiration": "2026-01-01T00:00:00Z",
    }


def test_a_cut_off_value_is_redacted_to_the_end_of_its_line_only():
    text = f"b'<Credentials><SessionToken>{TOKEN}'\nmfa-process: the STS endpoint answered badly\n"

    assert redact(text) == f"b'<Credentials><SessionToken>{PLACEHOLDER}\nmfa-process: the STS endpoint answered badly\n"


def test_redacting_twice_changes_nothing():
    text = f'<SessionToken>{TOKEN}</SessionToken> {{"SecretAccessKey": "{SECRET}"}} aws_session_token = {TOKEN}'

    once = redact(text)

    assert redact(once) == once
