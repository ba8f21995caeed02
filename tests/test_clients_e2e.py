"""Real clients running `credential_process = mfa-process --profile base` in a real pseudo-terminal,
against the local STS double: the AWS CLI, boto3, and the AWS SDK for JavaScript v3 (`fromIni` and
`fromProcess`, which run the plugin through /bin/sh with a pipe as stdin).

Each client makes a call that only MFA-backed credentials may make (IAM GetUser: the seed's
policy denies it to the long-term keys, and IAM refuses GetSessionToken sessions made without
MFA): the first run prompts once, the second is a cache hit, and the same call with the base
profile's long-term keys is denied. Then many accounts, one MFA session: role profiles with
`source_profile = mfa` in two accounts share one prompt.
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path
from typing import List, Optional, Tuple

import pexpect
import pytest
from aws_home import AwsHome, spawn

PROMPT = "Enter MFA code for arn:aws:iam::123456789012:mfa/alice: "
ACCOUNT = "123456789012"
DEV_ROLE = "arn:aws:iam::111111111111:role/dev-admin"
PROD_ROLE = "arn:aws:iam::222222222222:role/prod-admin"
MSG_ROLE_CHAINING = "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."

JS_DIR = Path(__file__).parent / "js"
JS_CALL = JS_DIR / "call.mjs"  # node resolves @aws-sdk/* from tests/js/node_modules, next to it
JS_PACKAGES = ("client-iam", "client-sts", "credential-providers")
needs_js = pytest.mark.skipif(
    not all((JS_DIR / "node_modules" / "@aws-sdk" / name).is_dir() for name in JS_PACKAGES) or not shutil.which("node"),
    reason="needs node and `npm install --no-package-lock --prefix tests/js` (README, Running the tests)",
)

BOTO3_CALL = """
import json, sys
import boto3, botocore.exceptions
profile, action = sys.argv[1:3]
session = boto3.Session(profile_name=profile)
try:
    if action == "GetUser":
        out = session.client("iam", region_name="us-east-1").get_user()["User"]
        out.pop("CreateDate")
    else:
        out = session.client("sts", region_name="us-east-1").get_caller_identity()
except botocore.exceptions.ClientError as error:
    sys.exit(f"{error.response['Error']['Code']}: {error.response['Error']['Message']}")
out.pop("ResponseMetadata", None)
print(json.dumps(out))
"""

CLI_ACTIONS = {"GetUser": ["iam", "get-user"], "GetCallerIdentity": ["sts", "get-caller-identity"]}


def client_command(client: str, profile: str, action: str) -> Tuple[str, List[str]]:
    """The command line with which ``client`` makes one ``action`` (IAM GetUser or STS
    GetCallerIdentity) as ``profile``."""
    if client == "aws-cli":
        return "aws", [*CLI_ACTIONS[action], "--profile", profile, "--region", "us-east-1", "--output", "json"]
    if client == "boto3":
        return sys.executable, ["-c", BOTO3_CALL, profile, action]
    provider = client.split("-", 1)[1]  # js-fromIni, js-fromProcess
    return "node", [str(JS_CALL), provider, profile, action]


CLIENTS = [
    "aws-cli",
    "boto3",
    pytest.param("js-fromIni", marks=needs_js),
    pytest.param("js-fromProcess", marks=needs_js),
]


class Run:
    def __init__(self, prompts: int, output: str, status: int) -> None:
        self.prompts, self.output, self.status = prompts, output, status

    def field(self, name: str) -> Optional[str]:
        """A string field of the JSON the client printed (the CLI indents it, the others do not)."""
        m = re.search(rf'"{name}":\s*"([^"]+)"', self.output)
        return m.group(1) if m else None


def run_client(aws: AwsHome, client: str, profile: str, action: str, code: Optional[str] = None) -> Run:
    """One client call in a pseudo-terminal; every prompt that appears gets ``code`` (an empty
    line if None). Returns the number of prompts, the output after the last one, and the exit status."""
    command, args = client_command(client, profile, action)
    child = spawn(command, aws, timeout=30, args=args)
    prompts = 0
    while child.expect_exact([PROMPT, pexpect.EOF]) == 0:
        prompts += 1
        child.sendline(code or "")
    output = child.before
    child.close()
    return Run(prompts, output, child.exitstatus)


@pytest.fixture
def aws(aws: AwsHome) -> AwsHome:
    aws.env["NODE_NO_WARNINGS"] = "1"  # Node 20: the SDK's "will require node >= 22" warning
    return aws


def mfa_session_key(aws: AwsHome, action: str) -> str:
    """The one key that made every ``action`` call; the double issued it with MFA (GetSessionToken)."""
    keys = {r["access_key_id"] for r in aws.sts.requests if r["action"] == action}
    assert len(keys) == 1, keys
    key = keys.pop()
    assert key.startswith("ASIA")
    assert aws.sts.key_facts(key) == {"account": ACCOUNT, "temporary": True, "mfa": True, "role_arn": None}
    return key


# ---- the client matrix: a call that needs MFA ------------------------------------------------------
@pytest.mark.parametrize("client", CLIENTS)
def test_call_that_needs_mfa_prompts_once_then_hits_the_cache(aws: AwsHome, client: str) -> None:
    first = run_client(aws, client, "mfa", "GetUser", aws.code())

    assert (first.prompts, first.status) == (1, 0), first.output
    assert first.field("Arn") == aws.user.arn
    assert aws.sts.calls("GetSessionToken") == 1

    second = run_client(aws, client, "mfa", "GetUser")

    assert (second.prompts, second.status) == (0, 0), second.output
    assert second.field("Arn") == aws.user.arn
    assert aws.sts.calls("GetSessionToken") == 1
    calls = [r for r in aws.sts.requests if r["action"] == "GetUser"]
    assert [r["status"] for r in calls] == [200, 200]
    mfa_session_key(aws, "GetUser")  # both made with the one cached MFA session

    # the control: the same call with the base profile's long-term keys is denied
    control = run_client(aws, "js-fromIni" if client == "js-fromProcess" else client, "base", "GetUser")

    assert control.prompts == 0
    assert control.status != 0
    assert "AccessDenied" in control.output and "iam:GetUser on resource: user alice with an explicit deny" in (
        control.output.replace("\r\n", "").replace("\n", "")
    )
    last = aws.sts.requests[-1]
    assert (last["action"], last["access_key_id"], last["status"]) == ("GetUser", aws.user.access_key_id, 403)
    assert aws.sts.calls("GetSessionToken") == 1


# ---- many accounts, one MFA session ------------------------------------------------------------
ROLE_PROFILES = f"""
[profile dev]
role_arn = {DEV_ROLE}
source_profile = mfa
region = us-east-1

[profile prod]
role_arn = {PROD_ROLE}
source_profile = mfa
region = us-east-1
"""


@pytest.mark.parametrize("client", ["aws-cli", "boto3", pytest.param("js-fromIni", marks=needs_js)])
def test_roles_in_two_accounts_share_one_prompt(aws: AwsHome, client: str) -> None:
    aws.sts.add_role(DEV_ROLE)  # trust policies that require MFA
    aws.sts.add_role(PROD_ROLE)
    aws.write_config(aws.config_file.read_text() + ROLE_PROFILES)

    dev = run_client(aws, client, "dev", "GetCallerIdentity", aws.code())
    prod = run_client(aws, client, "prod", "GetCallerIdentity")

    assert (dev.prompts, dev.status) == (1, 0), dev.output
    assert (prod.prompts, prod.status) == (0, 0), prod.output
    assert re.fullmatch(r"arn:aws:sts::111111111111:assumed-role/dev-admin/[\w+=,.@-]+", dev.field("Arn") or "")
    assert re.fullmatch(r"arn:aws:sts::222222222222:assumed-role/prod-admin/[\w+=,.@-]+", prod.field("Arn") or "")
    assert aws.sts.calls("GetSessionToken") == 1
    assume = [r for r in aws.sts.requests if r["action"] == "AssumeRole"]
    assert [(r["params"]["RoleArn"], r["status"]) for r in assume] == [(DEV_ROLE, 200), (PROD_ROLE, 200)]
    mfa_session_key(aws, "AssumeRole")  # both signed with the one MFA session
    identity_roles = [
        aws.sts.key_facts(r["access_key_id"])["role_arn"]  # type: ignore[index]
        for r in aws.sts.requests
        if r["action"] == "GetCallerIdentity"
    ]
    assert identity_roles == [DEV_ROLE, PROD_ROLE]


def test_role_sessions_from_the_mfa_session_are_capped_at_one_hour(aws: AwsHome) -> None:
    """AWS counts AssumeRole with GetSessionToken credentials as role chaining: at most 3600 s.
    A role profile sourced from the MFA session must not ask for more (duration_seconds)."""
    aws.sts.add_role(DEV_ROLE, max_session_duration=43200)  # the role itself would allow 12 h
    aws.write_config(
        aws.config_file.read_text()
        + f"\n[profile long]\nrole_arn = {DEV_ROLE}\nsource_profile = mfa\nduration_seconds = 7200\n"
        f"\n[profile hour]\nrole_arn = {DEV_ROLE}\nsource_profile = mfa\nduration_seconds = 3600\n"
    )

    long = run_client(aws, "aws-cli", "long", "GetCallerIdentity", aws.code())

    assert long.prompts == 1
    assert long.status != 0
    assert MSG_ROLE_CHAINING in " ".join(long.output.split())
    refused = aws.sts.requests[-1]
    assert (refused["action"], refused["params"]["DurationSeconds"], refused["code"]) == (
        "AssumeRole",
        "7200",
        "ValidationError",
    )

    hour = run_client(aws, "aws-cli", "hour", "GetCallerIdentity")

    assert (hour.prompts, hour.status) == (0, 0), hour.output
    assert (hour.field("Arn") or "").startswith("arn:aws:sts::111111111111:assumed-role/dev-admin/")
    assert aws.sts.calls("GetSessionToken") == 1
    assert [r["params"]["DurationSeconds"] for r in aws.sts.requests if r["action"] == "AssumeRole"] == ["7200", "3600"]
    mfa_session_key(aws, "AssumeRole")
