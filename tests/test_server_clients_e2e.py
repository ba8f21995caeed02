"""Real clients under `mfa-process exec --server`, calling across a renewal of the MFA session: a
long-running boto3 process (codes from a code source, then from a person at a real terminal),
the AWS CLI in a shell loop (this environment's, and the system's CLI v2), a long-running
JavaScript SDK v3 process, and boto3 served a role with `--role-profile`.

Sessions last 930 s: the server renews one 15 s after it arrives (half the time until the SDKs'
15-minute margin) and botocore asks the server again 30 s after a session's issue, so a client
sees new keys within a test. The JS SDK asks again only within 5 minutes of expiry: its wall
clock runs 10 minutes ahead (tests/clock_shift.py), so it asks 30 s after issue too.

STS takes a code of the window before now, now or the next (the double's skew), each window once,
so every code handed out, by the code source or by the test at the prompt, is of a window not
used before.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Set, Tuple

import pexpect
import pytest
import totp
from aws_home import BIN_DIR, AwsHome, spawn
from test_clients_e2e import JS_DIR, needs_js
from test_keyring_e2e import aws_cli_v2

TESTS_DIR = str(Path(__file__).parent)
PROMPT = "Enter MFA code for arn:aws:iam::123456789012:mfa/alice: "
DURATION = "930"  # renewed by the server 15 s after issue; botocore asks again 30 s after issue
RENEWED = "renewed the session of "  # the server's log line (-v) for each renewal
ROLE = "arn:aws:iam::111111111111:role/admin"
ROLE_SESSION_ARN = r"arn:aws:sts::111111111111:assumed-role/admin/mfa-process-\d+"
JS_CLOCK_AHEAD = 600  # seconds: a 930 s session looks 330 s long to the JS SDK, which asks again under 300
CALL_SECONDS = "36"  # how long a long-running client calls: past botocore's second ask, 30 s after issue
MIN_CALLS = 30  # about one a second
CLI_LOOP_SECONDS = "22"  # past the first renewal, 15 s after the first session
RUN_TIMEOUT = 85  # seconds: a client that calls for 36, with room for a loaded machine

# The code source (`mfa_process = python code.py TESTS FOLDER`): the code of a window STS still
# takes and no earlier call used; the windows used are kept in FOLDER/windows.json, the seed in
# FOLDER/seed (a file: a traceback quoting this source never shows it).
CODE_SOURCE = """\
import json, sys
from pathlib import Path

tests, folder = sys.argv[1], Path(sys.argv[2])
sys.path.insert(0, tests)
import totp

record = folder / "windows.json"
used = json.loads(record.read_text()) if record.exists() else []
now = totp.counter_at()
free = [window for window in (now, now + 1, now - 1) if window not in used]
if not free:
    sys.exit("every TOTP window STS takes now has been used")
record.write_text(json.dumps(used + [free[0]]))
print(totp.hotp((folder / "seed").read_text().strip(), free[0]))
"""

# A long-running boto3 program: one session on the default chain (here the container endpoint),
# one client, ACTION (IAM GetUser, which needs MFA, or STS GetCallerIdentity) about once a second
# for SECONDS; one JSON line per call, an error also on stderr; exit status 1 if any call failed.
BOTO3_LOOP = """\
import json, sys, time
import boto3

seconds, action = float(sys.argv[1]), sys.argv[2]
session = boto3.Session()
if action == "GetUser":
    client = session.client("iam", region_name="us-east-1")
    call = lambda: client.get_user()["User"]["Arn"]
else:
    client = session.client("sts", region_name="us-east-1")
    call = lambda: client.get_caller_identity()["Arn"]
end, failed = time.monotonic() + seconds, 0
while time.monotonic() < end:
    try:
        line = {"ok": True, "arn": call()}
    except Exception as error:  # whatever it is, the program saw it
        failed += 1
        line = {"ok": False, "error": f"{type(error).__name__}: {error}"}
        print("error:", line["error"], file=sys.stderr, flush=True)
    print(json.dumps(line), flush=True)
    time.sleep(1)
sys.exit(1 if failed else 0)
"""

# The AWS CLI in a shell loop: every run a fresh process that asks the server. Arguments: the
# seconds to loop, then the CLIs to run in turn; each run prints its Arn, or FAILED.
CLI_LOOP = """\
end=$(( $(date +%s) + $1 )); shift
while [ "$(date +%s)" -lt "$end" ]; do
    for cli in "$@"; do
        "$cli" sts get-caller-identity --region us-east-1 --endpoint-url "$AWS_ENDPOINT_URL_STS" \\
            --query Arn --output text \\
            || echo "FAILED: $cli exited $?"
    done
    sleep 1
done
"""


class Authenticator:
    """A person's authenticator app: each code of a window STS still takes (now, the next, the one
    before) that no earlier answer used."""

    def __init__(self, seed: str) -> None:
        self.seed = seed
        self.used: Set[int] = set()

    def code(self) -> str:
        now = totp.counter_at()
        window = next(window for window in (now, now + 1, now - 1) if window not in self.used)
        self.used.add(window)
        return totp.hotp(self.seed, window)


def with_code_source(aws: AwsHome) -> Path:
    """[profile base] takes its codes from CODE_SOURCE (mfa_prompt = command); the folder it keeps
    its record of windows in."""
    folder = aws.root / "authenticator"
    folder.mkdir()
    (folder / "seed").write_text(aws.user.totp_secret)
    helper = folder / "code.py"
    helper.write_text(CODE_SOURCE)
    command = shlex.join([sys.executable, str(helper), TESTS_DIR, str(folder)])
    settings = f"[profile base]\nmfa_prompt = command\nmfa_process = {command}\n"
    aws.write_config(aws.config_file.read_text().replace("[profile base]\n", settings))
    return folder


def codes_handed_out(folder: Path) -> int:
    record = folder / "windows.json"
    return len(json.loads(record.read_text())) if record.exists() else 0


def exec_server(*extra: str) -> List[str]:
    """`mfa-process exec --server` arguments, with its log (-v: a line per request and per renewal)."""
    return ["exec", "--server", "-v", "--profile", "base", "--duration", DURATION, *extra]


def boto3_loop(action: str) -> List[str]:
    return ["--", sys.executable, "-c", BOTO3_LOOP, CALL_SECONDS, action]


def in_terminal(aws: AwsHome, args: List[str], person: Optional[Authenticator] = None) -> Tuple[int, int, str]:
    """`mfa-process ARGS` in a pseudo-terminal; ``person`` answers each prompt (none expected
    without one). (exit status, prompts, transcript)."""
    deadline = time.monotonic() + RUN_TIMEOUT  # for the whole run, however many prompts
    child = spawn("mfa-process", aws, timeout=RUN_TIMEOUT, args=args)
    prompts = 0
    while child.expect_exact([PROMPT, pexpect.EOF], timeout=max(0.1, deadline - time.monotonic())) == 0:
        prompts += 1
        assert person is not None, "a prompt with a code source configured"
        child.sendline(person.code())
    child.close()
    return child.exitstatus, prompts, child.logfile_read.getvalue()


def call_lines(output: str) -> List[Dict[str, object]]:
    """The JSON lines a looping client printed, one per call (other lines: the server's log)."""
    return [json.loads(line) for line in output.splitlines() if line.startswith('{"ok"')]


def served(log: str) -> List[int]:
    """The status of every request the server answered, from its log."""
    return [int(status) for status in re.findall(r"mfa-process: GET / from 127\.0\.0\.1: (\d+)", log)]


def answered(aws: AwsHome, action: str) -> List[Dict[str, object]]:
    """Every ``action`` request the double received, in order; each answered 200."""
    calls = [r for r in aws.sts.requests if r["action"] == action]
    assert [(r["status"], r["code"]) for r in calls] == [(200, None)] * len(calls), calls
    return calls


def keys_of(aws: AwsHome, action: str) -> List[str]:
    """The access key of every ``action`` request, each answered 200 and made by a caller with an
    MFA age (aws:MultiFactorAuthAge: its credentials carry MFA)."""
    calls = answered(aws, action)
    assert all(r["mfa_age"] is not None for r in calls), calls
    return [str(r["access_key_id"]) for r in calls]


def assert_mfa_sessions(aws: AwsHome, keys: List[str], role_arn: Optional[str] = None) -> None:
    """Every key is a session the double issued with MFA (a GetSessionToken session with a code,
    or a role session assumed with one): the calls signed with them carried MFA."""
    for key in set(keys):
        assert aws.sts.key_facts(key) == {
            "account": role_arn.split(":")[4] if role_arn else aws.user.account,
            "temporary": True,
            "mfa": True,
            "role_arn": role_arn,
        }, key


def assert_new_keys_arrived(keys: List[str]) -> None:
    """The keys changed while the client ran, each one used for a run of calls, never going back."""
    runs = [key for index, key in enumerate(keys) if index == 0 or keys[index - 1] != key]
    assert len(runs) >= 2, f"one key for all {len(keys)} calls"
    assert len(runs) == len(set(runs)), f"a key came back after a newer one: {runs}"


def assert_long_run(aws: AwsHome, output: str, log: str, action: str, arn: str = "") -> List[Dict[str, object]]:
    """A looping client's run: every call succeeded, each with one request (no retry hid a
    failure) signed with an MFA session, new keys arrived, and the server answered the client's
    every request (its first, and each time the SDK asked again) with credentials."""
    calls = call_lines(output)
    assert len(calls) >= MIN_CALLS, output
    failed = [call for call in calls if not call["ok"]]
    assert not failed, failed
    if arn:
        assert {call["arn"] for call in calls} == {arn}
    keys = keys_of(aws, action)
    assert len(keys) == len(calls)
    assert_new_keys_arrived(keys)
    answers = served(log)
    assert len(answers) >= 2 and set(answers) == {200}, answers
    return calls


def renewals(log: str) -> int:
    return sum(1 for line in log.splitlines() if RENEWED in line)


# ---- boto3, a long-running program ----------------------------------------------------------------
def test_boto3_keeps_calling_across_renewals_with_codes_from_a_code_source(aws: AwsHome) -> None:
    authenticator = with_code_source(aws)

    status, prompts, transcript = in_terminal(aws, exec_server(*boto3_loop("GetUser")))

    assert status == 0, transcript
    assert prompts == 0 and "Enter MFA code" not in transcript
    assert "error:" not in transcript and "Traceback" not in transcript
    assert_long_run(aws, transcript, transcript, "GetUser", aws.user.arn)
    assert_mfa_sessions(aws, keys_of(aws, "GetUser"))
    renewed = renewals(transcript)
    assert renewed >= 1
    assert len(answered(aws, "GetSessionToken")) == 1 + renewed == codes_handed_out(authenticator)


def test_boto3_keeps_calling_while_a_person_answers_one_prompt_per_renewal(aws: AwsHome) -> None:
    person = Authenticator(aws.user.totp_secret)

    status, prompts, transcript = in_terminal(aws, exec_server(*boto3_loop("GetUser")), person)

    assert status == 0, transcript
    assert "error:" not in transcript and "Traceback" not in transcript
    assert_long_run(aws, transcript, transcript, "GetUser", aws.user.arn)
    assert_mfa_sessions(aws, keys_of(aws, "GetUser"))
    renewed = renewals(transcript)
    assert renewed >= 1
    assert prompts == 1 + renewed  # the first session, then one per renewal
    assert len(answered(aws, "GetSessionToken")) == prompts  # every answer taken: no prompt asked twice


# ---- the AWS CLI, a fresh process for every call --------------------------------------------------
@pytest.mark.parametrize("cli", ["aws", "v2"])
def test_the_aws_cli_in_a_loop_gets_the_renewed_keys(aws: AwsHome, cli: str) -> None:
    command = os.path.join(BIN_DIR, "aws") if cli == "aws" else aws_cli_v2()
    if command is None:
        reason = "no AWS CLI v2 installed (/usr/bin/aws, /usr/local/bin/aws; Debian: apt-get install awscli)"
        if os.environ.get("CI"):  # .ci/run installs it: there, a missing CLI is a failure
            pytest.fail(reason)
        pytest.skip(reason + "; the venv's aws is checked")
    authenticator = with_code_source(aws)

    result = aws.run(exec_server("--", "sh", "-c", CLI_LOOP, "sh", CLI_LOOP_SECONDS, command), timeout=RUN_TIMEOUT)

    assert result.returncode == 0, result.stderr
    assert "FAILED" not in result.stdout, result.stdout + result.stderr
    arns = result.stdout.split()
    assert len(arns) >= 8
    assert set(arns) == {aws.user.arn}
    keys = keys_of(aws, "GetCallerIdentity")
    assert len(keys) == len(arns)
    assert_new_keys_arrived(keys)
    assert_mfa_sessions(aws, keys)
    assert served(result.stderr) == [200] * len(arns)  # every run asked the server once
    renewed = renewals(result.stderr)
    assert renewed >= 1
    assert len(answered(aws, "GetSessionToken")) == 1 + renewed == codes_handed_out(authenticator)


# ---- the JavaScript SDK v3, a long-running program ------------------------------------------------
@needs_js
def test_the_js_sdk_keeps_calling_across_renewals(aws: AwsHome, clock_shift) -> None:
    authenticator = with_code_source(aws)
    shifted = clock_shift(aws.env, JS_CLOCK_AHEAD)
    node_clock = [f"{name}={value}" for name, value in shifted.items() if aws.env.get(name) != value]
    node = ["env", *node_clock, "NODE_NO_WARNINGS=1", "node", str(JS_DIR / "keep_calling.mjs"), CALL_SECONDS]

    result = aws.run(exec_server("--", *node), timeout=RUN_TIMEOUT)

    assert result.returncode == 0, result.stdout + result.stderr
    assert_long_run(aws, result.stdout, result.stderr, "GetCallerIdentity", aws.user.arn)
    assert_mfa_sessions(aws, keys_of(aws, "GetCallerIdentity"))
    renewed = renewals(result.stderr)
    assert renewed >= 1
    assert len(answered(aws, "GetSessionToken")) == 1 + renewed == codes_handed_out(authenticator)


# ---- a role assumed with the MFA session ----------------------------------------------------------
def test_boto3_is_served_the_role_and_a_new_role_session_after_a_renewal(aws: AwsHome) -> None:
    aws.sts.add_role(ROLE)  # its trust policy requires MFA
    authenticator = with_code_source(aws)
    aws.write_config(aws.config_file.read_text() + f"\n[profile admin]\nrole_arn = {ROLE}\n")

    result = aws.run(exec_server("--role-profile", "admin", *boto3_loop("GetCallerIdentity")), timeout=RUN_TIMEOUT)

    assert result.returncode == 0, result.stdout + result.stderr
    calls = assert_long_run(aws, result.stdout, result.stderr, "GetCallerIdentity")
    arns = [str(call["arn"]) for call in calls]
    assert all(re.fullmatch(ROLE_SESSION_ARN, arn) for arn in arns), arns
    assert len(set(arns)) >= 2  # a new role session
    assert_mfa_sessions(aws, keys_of(aws, "GetCallerIdentity"), role_arn=ROLE)
    renewed = renewals(result.stderr)
    assert renewed >= 1
    assume = [r for r in aws.sts.requests if r["action"] == "AssumeRole"]
    assert [(r["params"]["RoleArn"], r["status"]) for r in assume] == [(ROLE, 200)] * (1 + renewed)
    assert_mfa_sessions(aws, [r["access_key_id"] for r in assume])  # each signed with an MFA session
    assert len(answered(aws, "GetSessionToken")) == 1 + renewed == codes_handed_out(authenticator)
