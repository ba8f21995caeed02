"""MFA age and --min-remaining end to end, with moved clocks instead of waiting: the STS double
runs ahead (clock_offset) and denies IAM calls whose MFA is over an hour old (max_mfa_age, as
examples/deny-old-mfa.json does), and mfa-process and its SDKs run ahead by as much
(libfaketime, tests/clock_shift.py)."""

from __future__ import annotations

import calendar
import json
import sys
import time

import pexpect
from aws_home import AwsHome, spawn
from test_clients_e2e import BOTO3_CALL
from test_concurrency_e2e import outputs, start_many

PROMPT = "Enter MFA code for arn:aws:iam::123456789012:mfa/alice: "
FIFTY_MINUTES = 50 * 60


def with_max_age(aws: AwsHome, max_age: str = "1h") -> None:
    aws.write_config(
        aws.config_file.read_text().replace("[profile base]\n", f"[profile base]\nmfa_max_age = {max_age}\n")
    )
    aws.sts.max_mfa_age = 3600


def get_user(aws: AwsHome, code: str = ""):
    """boto3 in a pseudo-terminal, IAM GetUser as profile mfa; answers the prompt with ``code``
    if one comes. (exit status, prompts seen, output)."""
    child = spawn(sys.executable, aws, args=["-c", BOTO3_CALL, "mfa", "GetUser"], timeout=60)
    prompts = 0
    while child.expect_exact([PROMPT, pexpect.EOF]) == 0:
        prompts += 1
        child.sendline(code)
    output = child.before
    child.close()
    return child.exitstatus, prompts, output


def move_clocks(aws: AwsHome, clock_shift, seconds: float) -> None:
    aws.sts.clock_offset = seconds
    aws.env = clock_shift(aws.env, seconds)


def epoch(expiration: str) -> int:
    return calendar.timegm(time.strptime(expiration, "%Y-%m-%dT%H:%M:%SZ"))


def test_fifty_minutes_after_its_mfa_a_call_prompts_once_instead_of_being_denied(aws: AwsHome, clock_shift) -> None:
    with_max_age(aws)
    assert get_user(aws, aws.code())[:2] == (0, 1)

    move_clocks(aws, clock_shift, FIFTY_MINUTES)
    status, prompts, output = get_user(aws, aws.code(1))

    assert (status, prompts) == (0, 1), output
    assert '"UserName": "alice"' in output
    assert aws.sts.calls("GetSessionToken") == 2
    last_get_user = [r for r in aws.sts.requests if r["action"] == "GetUser"][-1]
    assert last_get_user["code"] is None and last_get_user["mfa_age"] < 60


def test_without_mfa_max_age_the_same_call_is_denied_by_the_policy(aws: AwsHome, clock_shift) -> None:
    """The failure mfa_max_age exists for: the 12-hour session is served, and IAM denies it."""
    aws.sts.max_mfa_age = 3600
    assert get_user(aws, aws.code())[:2] == (0, 1)

    move_clocks(aws, clock_shift, FIFTY_MINUTES + 600)
    status, prompts, output = get_user(aws, aws.code(1))

    assert status != 0 and prompts == 0
    assert "AccessDenied" in output and "explicit deny" in output


def test_the_expiration_printed_never_passes_the_policys_limit(aws: AwsHome, clock_shift) -> None:
    with_max_age(aws)
    first = aws.run(["--profile", "base", "--token-code", aws.code()])
    move_clocks(aws, clock_shift, 30 * 60)
    served = aws.run(["--profile", "base"])  # a hit, 30 minutes later on every clock

    assert first.returncode == 0 and served.returncode == 0, served.stderr
    mfa_at = aws.sts.sessions()[-1].mfa_authenticated_at
    assert mfa_at is not None
    for answer in (first.stdout, served.stdout):
        expiration = epoch(json.loads(answer)["Expiration"])
        assert expiration <= mfa_at + 3600  # the session itself lasts 12 hours
        assert expiration >= mfa_at + 3600 - 5  # and is not cut shorter than the policy needs


def test_concurrent_callers_at_that_moment_see_one_prompt(aws: AwsHome, clock_shift) -> None:
    with_max_age(aws)
    assert aws.run(["--profile", "base", "--token-code", aws.code()]).returncode == 0
    move_clocks(aws, clock_shift, FIFTY_MINUTES)

    child = start_many(
        aws,
        f"{sys.executable} -c \"import boto3; print(boto3.Session(profile_name='mfa')"
        f".client('iam', region_name='us-east-1').get_user()['User']['UserName'])\"",
        6,
    )
    child.expect_exact(PROMPT, timeout=120)
    child.sendline(aws.code(1))
    child.expect_exact("all-done", timeout=120)
    transcript = child.before

    assert "Enter MFA code" not in transcript
    assert outputs(aws, 6) == ["alice\n"] * 6
    assert aws.sts.calls("GetSessionToken") == 2


def test_min_remaining_longer_than_what_is_left_refreshes_and_shorter_does_not(aws: AwsHome, clock_shift) -> None:
    assert aws.run(["login", "--profile", "base", "--token-code", aws.code()]).returncode == 0  # 12 hours
    move_clocks(aws, clock_shift, 2 * 3600)  # 10 hours left

    enough = aws.run(["login", "--profile", "base", "--min-remaining", "9h"])
    child = spawn("mfa-process", aws, args=["login", "--profile", "base", "--min-remaining", "11h"])
    child.expect_exact(PROMPT)
    child.sendline(aws.code(1))
    child.expect(pexpect.EOF)
    child.close()

    assert enough.returncode == 0 and "already logged in" in enough.stderr, enough.stderr
    assert child.exitstatus == 0, child.before
    assert aws.sts.calls("GetSessionToken") == 2
    refused = aws.run(["--profile", "base", "--min-remaining", "13h"])
    assert refused.returncode == 2 and "is not less than a new session gives" in refused.stderr
