"""Red team, issue 8: what a hostile or broken network (a proxy, a captive portal, a wrong
AWS_ENDPOINT_URL) can make mfa-process print or do, through the installed command.

Found: pages that are not AWS answers but come with an error status gave "GetSessionToken failed: : "
(neither what came back nor from where); --sts-timeout above what a thread can wait for crashed with
"unexpected OverflowError"; a session too large for the cache was served once and then never again,
so every later call prompted (and the Java SDK reads at most 64000 bytes of it).
"""

from __future__ import annotations

import pytest
from aws_home import AwsHome, contract
from sts_rewrites import Rewrite, pad_field, page

PAGE = "<html><body><h1>{status}</h1><p>Corporate proxy</p><a href='https://login.example/'>sign in</a></body></html>"


def assert_one_clean_line(result, *fragments: str) -> str:
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr and "unexpected" not in result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith("mfa-process: ") and result.stderr == line + "\n"
    for fragment in fragments:
        assert fragment in line, line
    return line


# --- 1. an error status with a page that is not an AWS error --------------------------------------


@pytest.mark.parametrize("status", [301, 302, 307, 403, 404, 502, 503])
def test_an_error_page_says_what_came_back_and_from_where(aws: AwsHome, status: int) -> None:
    aws.sts.rewrite = Rewrite(page, status, "text/html", PAGE.format(status=status))

    result = aws.run(["--profile", "base", "--token-code", aws.code()])

    line = assert_one_clean_line(
        result, f"the STS endpoint {aws.sts.url}", f"HTTP {status}", "text/html", "AWS_ENDPOINT_URL"
    )
    assert "GetSessionToken failed: :" not in line
    assert aws.cache_files() == []


def test_a_real_aws_error_document_is_still_translated(aws: AwsHome) -> None:
    """Control: an AWS error (here a wrong code) keeps its own message."""
    result = aws.run(["--profile", "base", "--token-code", aws.wrong_code()])

    assert_one_clean_line(result, "AWS rejected the MFA code")


# --- 2. a timeout longer than a thread can wait -------------------------------------------------


@pytest.mark.parametrize("seconds", ["1e10", "1e300"])
def test_a_huge_sts_timeout_means_wait_as_long_as_it_takes(aws: AwsHome, seconds: str) -> None:
    result = aws.run(["--profile", "base", "--token-code", aws.code(), "--sts-timeout", seconds])

    assert result.returncode == 0, result.stderr
    assert contract(result.stdout)["AccessKeyId"].startswith("ASIA")


# --- 3. a session too large to be cached (or read by every SDK) ---------------------------------


def test_an_oversized_session_is_refused_not_served_once_and_then_prompted_for_every_time(aws: AwsHome) -> None:
    aws.sts.rewrite = Rewrite(pad_field, "SessionToken", "A", 70_000)

    result = aws.run(["--profile", "base", "--token-code", aws.code()])

    assert_one_clean_line(result, f"the STS endpoint {aws.sts.url}", "bytes", "AWS_ENDPOINT_URL")
    assert aws.cache_files() == []
