"""Red team, issue 8: an Expiration *later* than anything STS gives.

GetSessionToken never returns a session longer than the DurationSeconds asked for, and a signed
request only succeeds when the clocks agree within minutes. An Expiration hours past now + duration
is a wrong answer: an STS-compatible endpoint or proxy that writes its local time without a zone
(botocore reads a zone-less time as UTC), here 9 hours ahead. It was cached and served for those
extra hours after the session had really expired: every SDK call then failed with ExpiredToken,
and nothing asked for a new session until `mfa-process logout`.
"""

from __future__ import annotations

import pytest
from aws_home import AwsHome, contract
from sts_rewrites import Rewrite, shift_expiration
from test_red_team_sts import assert_one_clean_line


def test_an_expiration_hours_past_the_duration_asked_for_is_refused(aws: AwsHome) -> None:
    aws.sts.rewrite = Rewrite(shift_expiration, 9)  # a UTC+9 endpoint's local time, zone-less

    result = aws.run(["--profile", "base", "--token-code", aws.code(), "--duration", "3600"])

    assert_one_clean_line(result, "STS returned a session that expires at", "3600 s", "clock")
    assert aws.cache_files() == []


@pytest.mark.parametrize("minutes", [0, 5, -5])
def test_an_expiration_within_minutes_of_the_duration_is_served(aws: AwsHome, minutes: int) -> None:
    """Control: clocks a few minutes apart are normal (SigV4 allows minutes of skew)."""
    aws.sts.expiry_offset = minutes * 60

    result = aws.run(["--profile", "base", "--token-code", aws.code(), "--duration", "3600"])

    assert result.returncode == 0, result.stderr
    assert contract(result.stdout)["Expiration"].endswith("Z")
    assert len(aws.cache_files()) == 1
