"""Real clients (the AWS CLI, boto3) running `credential_process = mfa-process --profile base`
in a real pseudo-terminal: the first call prompts once, the second is a cache hit."""

from __future__ import annotations

import json
import sys

import pexpect
import pytest
from conftest import AwsHome, spawn

PROMPT = "Enter MFA code for arn:aws:iam::123456789012:mfa/alice: "
USER_ARN = "arn:aws:iam::123456789012:user/alice"

BOTO3_CALL = (
    "import boto3, json; "
    "print(json.dumps(boto3.Session(profile_name='mfa').client('sts').get_caller_identity()['Arn']))"
)

CLIENTS = {
    "aws-cli": ("aws", ["sts", "get-caller-identity", "--profile", "mfa", "--output", "json"]),
    "boto3": (sys.executable, ["-c", BOTO3_CALL]),
}


def run_client(aws: AwsHome, client: str, code: str = ""):
    """Run one client call; answer the prompt with ``code`` if it appears. Returns (prompted, output)."""
    command, args = CLIENTS[client]
    child = spawn(command, aws, args=args)
    prompted = child.expect_exact([PROMPT, pexpect.EOF]) == 0
    if prompted:
        child.sendline(code)
        child.expect(pexpect.EOF)
    output = child.before
    child.close()
    assert child.exitstatus == 0, output
    return prompted, output


@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_first_call_prompts_once_second_is_served_from_cache(aws: AwsHome, client: str) -> None:
    prompted, output = run_client(aws, client, aws.code())

    assert prompted
    assert USER_ARN in output
    assert output.count("Enter MFA code") == 0  # the one prompt was consumed above, no second one
    assert aws.sts.calls("GetSessionToken") == 1

    prompted_again, output = run_client(aws, client)

    assert not prompted_again
    assert USER_ARN in output
    assert aws.sts.calls("GetSessionToken") == 1
    # each call was made with the MFA session, never with the long-term key
    identity_callers = [r["access_key_id"] for r in aws.sts.requests if r["action"] == "GetCallerIdentity"]
    assert len(identity_callers) == 2
    assert all(caller.startswith("ASIA") for caller in identity_callers)


def test_aws_cli_assume_role_with_the_mfa_session(aws: AwsHome) -> None:
    """The MFA session as source_profile: role trust policies that require MFA pass."""
    aws.sts.add_role("arn:aws:iam::210987654321:role/admin")
    aws.write_config(
        aws.config_file.read_text()
        + "\n[profile admin]\nrole_arn = arn:aws:iam::210987654321:role/admin\nsource_profile = mfa\n"
        "region = us-east-1\n"
    )
    child = spawn("aws", aws, args=["sts", "get-caller-identity", "--profile", "admin", "--output", "json"])
    child.expect_exact(PROMPT)
    child.sendline(aws.code())
    child.expect(pexpect.EOF)
    child.close()

    assert child.exitstatus == 0, child.before
    arn = json.loads(child.before[child.before.index("{") :])["Arn"]
    assert arn.startswith("arn:aws:sts::210987654321:assumed-role/admin/")
