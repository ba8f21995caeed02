"""The installed command against an STS that answers wrongly: expired sessions, pages that are not
GetSessionToken responses, half answers, and no answer at all. Every one ends in one clear line,
exit 1, nothing on stdout, nothing cached, and no secret on stderr (--verbose included)."""

from __future__ import annotations

import re
import time

import pytest
from aws_home import AwsHome
from sts_rewrites import Rewrite, cut_inside_session_token, page, replace_field_text, strip_field

HTML_PAGE = (
    "<!DOCTYPE html><html><head><meta charset=utf-8><title>Sign in</title></head>"
    "<body><p>Corporate proxy: please sign in<br></body></html>"
)


def assert_clean_failure(result, *fragments: str) -> None:
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mfa-process: "), result.stderr
    assert "Traceback" not in result.stderr
    assert "unexpected" not in result.stderr and "report it" not in result.stderr
    assert "[redacted]" not in result.stderr  # nothing secret-looking in our own messages
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


def assert_no_secret(aws: AwsHome, text: str) -> None:
    """Neither the base secret nor any secret or token the double issued appears in ``text``."""
    assert aws.user.secret_access_key not in text
    for session in aws.sts.sessions():
        assert session.secret_access_key not in text
        assert session.session_token[:40] not in text


def utc(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(epoch))


# --- 1. an Expiration in the past, or inside the 15-minute margin -----------------------------


@pytest.mark.parametrize("left_minutes", [-60, 10], ids=["expired", "inside-margin"])
def test_a_session_that_expires_too_soon_is_refused_and_not_cached(aws: AwsHome, left_minutes: int) -> None:
    aws.sts.expiry_offset = left_minutes * 60 - 43200  # STS's clock is behind ours by that much

    started = time.time()
    result = aws.run(["--profile", "base", "--token-code", aws.code()])

    assert_clean_failure(result, "STS returned a session that expires at", "machine's clock says", "check the clock")
    [issued] = aws.sts.sessions()
    assert utc(issued.expires) in result.stderr
    said = re.search(r"clock says (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC)", result.stderr).group(1)
    assert utc(started - 1) <= said <= utc(time.time() + 1)
    assert aws.cache_files() == []
    assert_no_secret(aws, result.stderr)


def test_after_a_refused_session_the_next_good_one_is_served(aws: AwsHome) -> None:
    aws.sts.expiry_offset = -43200 - 60
    assert aws.run(["--profile", "base", "--token-code", aws.code()]).returncode == 1
    aws.sts.expiry_offset = 0

    result = aws.run(["--profile", "base", "--token-code", aws.code(1)])

    assert result.returncode == 0, result.stderr
    assert len(aws.cache_files()) == 1


# --- 2. a 200 answer that is not a GetSessionToken response ------------------------------------


ANSWERS = {
    "html": (Rewrite(page, 200, "text/html", HTML_PAGE), ["text/html", "not a GetSessionToken response"]),
    "well-formed html": (
        Rewrite(page, 200, "text/html; charset=utf-8", "<html><body><p>hello</p></body></html>"),
        ["text/html", "not a GetSessionToken response"],
    ),
    "empty body": (Rewrite(page, 200, "text/xml", ""), ["text/xml", "not a GetSessionToken response"]),
    "truncated xml": (Rewrite(cut_inside_session_token, 20), ["text/xml", "not a GetSessionToken response"]),
    "no SecretAccessKey": (Rewrite(strip_field, "SecretAccessKey"), ["without Credentials.SecretAccessKey"]),
    "no Credentials": (Rewrite(strip_field, "Credentials"), ["without Credentials"]),
    "no Expiration": (Rewrite(strip_field, "Expiration"), ["without Credentials.Expiration"]),
    "garbled Expiration": (
        Rewrite(replace_field_text, "Expiration", "soon"),
        ["text/xml", "not a GetSessionToken response"],
    ),
}


@pytest.mark.parametrize("case", sorted(ANSWERS))
def test_a_malformed_answer_says_what_came_back_and_from_where(aws: AwsHome, case: str) -> None:
    rewrite, fragments = ANSWERS[case]
    aws.sts.rewrite = rewrite

    result = aws.run(["--profile", "base", "--token-code", aws.code()], timeout=60)

    assert_clean_failure(result, f"the STS endpoint {aws.sts.url}", "HTTP 200", "AWS_ENDPOINT_URL", *fragments)
    assert aws.cache_files() == []
    assert_no_secret(aws, result.stderr)
    assert aws.sts.calls("GetSessionToken") == 1  # not retried: a second call would burn another code


# --- 3. --verbose never shows a secret ----------------------------------------------------------


@pytest.mark.parametrize("case", ["truncated xml", "no SecretAccessKey", "garbled Expiration"])
def test_verbose_with_a_malformed_answer_redacts_the_secrets_in_the_traceback(aws: AwsHome, case: str) -> None:
    aws.sts.rewrite = ANSWERS[case][0]

    result = aws.run(["--profile", "base", "--token-code", aws.code(), "--verbose"])

    assert result.returncode == 1 and result.stdout == ""
    assert "Traceback" in result.stderr
    [issued] = aws.sts.sessions()
    assert issued.secret_access_key not in result.stderr
    assert issued.session_token[:40] not in result.stderr
    assert aws.user.secret_access_key not in result.stderr
    assert result.stderr.splitlines()[-1].startswith("mfa-process: the STS endpoint ")
    if case == "truncated xml":  # botocore's ResponseParserError carries the body: shown, secrets blanked
        assert "<SecretAccessKey>[redacted]</SecretAccessKey>" in result.stderr
        assert "<SessionToken>[redacted]" in result.stderr
        assert "ResponseParserError" in result.stderr


# --- 4. a hung STS: one deadline for the whole call ------------------------------------------------


@pytest.mark.parametrize(
    "how", ["flag", "environment", "profile"], ids=["--sts-timeout", "MFA_PROCESS_STS_TIMEOUT", "mfa_sts_timeout"]
)
def test_a_hung_sts_ends_at_the_sts_timeout(aws: AwsHome, how: str) -> None:
    aws.sts.hang = True
    args = ["--profile", "base", "--token-code", aws.code()]
    if how == "flag":
        args += ["--sts-timeout", "3"]
    elif how == "environment":
        aws.env["MFA_PROCESS_STS_TIMEOUT"] = "3"
    else:
        aws.write_config(f"[profile base]\nmfa_serial = {aws.user.mfa_serial}\nmfa_sts_timeout = 3\n")

    started = time.monotonic()
    result = aws.run(args, timeout=30)
    took = time.monotonic() - started

    assert 3 <= took < 3 + 5, took
    assert_clean_failure(result, f"no answer from STS at {aws.sts.url} within 3 s", "--sts-timeout")
    assert aws.cache_files() == []
    assert aws.sts.calls("GetSessionToken") >= 1


def test_a_hung_sts_with_the_default_timeout_ends_within_30_s(aws: AwsHome) -> None:
    aws.sts.hang = True

    started = time.monotonic()
    result = aws.run(["--profile", "base", "--token-code", aws.code()], timeout=60)
    took = time.monotonic() - started

    assert 30 <= took < 30 + 5, took
    assert_clean_failure(result, "within 30 s", "MFA_PROCESS_STS_TIMEOUT", "mfa_sts_timeout")


def test_a_slow_sts_within_the_timeout_still_serves(aws: AwsHome) -> None:
    aws.sts.delay = 1.0

    result = aws.run(["--profile", "base", "--token-code", aws.code(), "--sts-timeout", "10"])

    assert result.returncode == 0, result.stderr
    assert aws.sts.calls("GetSessionToken") == 1
