"""Red team, issue 10: `mfa-process rotate` against a hostile or broken IAM, a careless user's
credentials file and a plugin that runs at the same moment.

A new key comes from the network (IAM CreateAccessKey): whatever it is, it must not be written into
the credentials file or the keyring unchecked, must not reach the terminal as control characters,
and a usable key must stay stored. Every rotation here runs with --verbose, so tracebacks are
checked for secrets too (the secret guard knows every key the double made).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import boto3
import botocore.exceptions
import pytest
from aws_home import AwsHome, contract
from botocore.configloader import raw_config_parse
from processes import kill_group, popen
from secret_guard import SecretGuard
from secret_service import SecretService
from sts_double import DEFAULT_USER, User
from sts_double_process import StsDoubleProcess
from sts_rewrites import Rewrite, pad_field, page, replace_field_text, strip_field
from test_red_team_keys import KeyringBackends, files_holding, plugin_works
from test_red_team_messages import terminal_safe
from test_rotate_e2e import OLD_KEY, stored_key, wait_until

STEP_SECONDS = 60
OLD_SECRET = DEFAULT_USER.secret_access_key


def rotate(aws: AwsHome) -> subprocess.CompletedProcess:
    """`rotate --verbose` with the session `login` cached: it asks for no code, and calls STS
    GetSessionToken not at all (a rewrite of SecretAccessKey then only meets CreateAccessKey)."""
    return aws.run(["rotate", "--profile", "base", "--verbose"], timeout=STEP_SECONDS)


def login(aws: AwsHome, offset: int = 0) -> None:
    result = aws.run(["login", "--profile", "base", "--token-code", aws.code(offset)], timeout=STEP_SECONDS)
    assert result.returncode == 0, result.stderr


def keyring_entry(secret_service: SecretService) -> Optional[Dict[str, object]]:
    text = secret_service.stored("mfa-process", "base")
    return None if text is None else json.loads(text)


@pytest.fixture
def backends(aws: AwsHome, tmp_path: Path) -> KeyringBackends:
    """Keyring backends written under tmp_path (tests/test_red_team_keys.py), none chosen yet."""
    aws.write_credentials("")
    return KeyringBackends(tmp_path, aws)


def move_to_keyring(aws: AwsHome, secret_service: SecretService) -> None:
    aws.env.update(secret_service.environ)
    added = aws.run(["add", "--profile", "base", "--from-credentials-file"], timeout=STEP_SECONDS)
    assert added.returncode == 0, added.stderr


# --- 1. a malformed key in IAM's answer -----------------------------------------------------------

INJECTION = "x" * 20 + "\n[profile evil]\ncredential_process = touch pwned"
HOSTILE_KEYS = {
    "a secret of 41 characters": Rewrite(replace_field_text, "SecretAccessKey", "A" * 41),
    "a secret that opens a profile": Rewrite(replace_field_text, "SecretAccessKey", INJECTION),
    "a temporary key ID": Rewrite(replace_field_text, "AccessKeyId", "ASIA" + "Q" * 16),
    "a key ID of 21 characters": Rewrite(replace_field_text, "AccessKeyId", "AKIA" + "Q" * 17),
    "a key ID with terminal controls": Rewrite(replace_field_text, "AccessKeyId", "AKIA\u009b2J\u202eQQQQQQQQQQQQ"),
    "a secret of a megabyte": Rewrite(pad_field, "SecretAccessKey", "A", 1024 * 1024),
    "an empty secret": Rewrite(replace_field_text, "SecretAccessKey", ""),
}


def file_cases() -> List[object]:
    return [pytest.param(name, id=name) for name in HOSTILE_KEYS]


@pytest.mark.parametrize("answer", file_cases())
def test_a_malformed_new_key_is_not_written_over_the_key_in_the_file(aws: AwsHome, answer: str) -> None:
    login(aws)
    aws.sts.rewrite = HOSTILE_KEYS[answer]

    result = rotate(aws)
    aws.sts.rewrite = None

    assert result.returncode == 1, result.stdout
    assert terminal_safe(result.stdout + result.stderr, keep="\n")
    assert stored_key(aws) == OLD_KEY and OLD_SECRET in aws.credentials_file.read_text()
    assert "evil" not in raw_config_parse(str(aws.credentials_file))
    assert files_holding(aws.root, "Q" * 12) == [] and files_holding(aws.root, "A" * 41) == []
    assert f"key {OLD_KEY} is still stored" in result.stderr
    assert plugin_works(aws, 1)


@pytest.mark.parametrize("answer", ["a secret of 41 characters", "a secret that opens a profile"])
def test_a_malformed_new_key_is_not_written_over_the_key_in_the_keyring(
    aws: AwsHome, secret_service: SecretService, answer: str
) -> None:
    move_to_keyring(aws, secret_service)
    login(aws)
    aws.sts.rewrite = HOSTILE_KEYS[answer]

    result = rotate(aws)
    aws.sts.rewrite = None

    assert result.returncode == 1, result.stdout
    old_entry = {"Version": 1, "AccessKeyId": OLD_KEY, "SecretAccessKey": OLD_SECRET}
    old_key_kept = keyring_entry(secret_service) == old_entry
    assert old_key_kept  # compared apart: a failed assertion would print both secrets
    assert plugin_works(aws, 1)


def test_an_answer_without_a_secret_names_the_key_made_at_aws(aws: AwsHome) -> None:
    """The new key exists at AWS, but its secret never arrived: nothing is stored, and the error
    names the new key so the user can delete it (the old key stays)."""
    login(aws)
    aws.sts.rewrite = Rewrite(strip_field, "SecretAccessKey")

    result = rotate(aws)
    aws.sts.rewrite = None

    (made,) = [key for key, _ in aws.sts.created_keys()]
    assert result.returncode == 1 and stored_key(aws) == OLD_KEY
    assert made in result.stderr.splitlines()[-1]
    assert "unexpected" not in result.stderr


def test_a_keyring_that_fails_the_read_back_is_left_holding_a_working_key(backends: KeyringBackends) -> None:
    aws = backends.aws
    aws.write_config(f"[profile base]\nmfa_serial = {DEFAULT_USER.mfa_serial}\nmfa_key_store = keyring\n")
    backends.put("base", OLD_KEY, OLD_SECRET)
    backends.use("redteam_keyring.FlakyReadBack")
    login(aws)

    result = rotate(aws)

    stored = json.loads(backends.entries()["mfa-process/base"])
    assert result.returncode == 1, result.stdout
    assert aws.sts.key_works(stored["AccessKeyId"]), f"{stored['AccessKeyId']} is stored, and deleted at AWS"


def test_rotate_verbose_when_the_file_refuses_the_new_key_keeps_the_old_and_prints_no_secret(aws: AwsHome) -> None:
    """[DEFAULT] holds the keys: botocore reads them, the text edit refuses the file; the new key
    was made at AWS by then (the secret guard knows its secret, and checks stderr for it)."""
    aws.write_credentials(
        f"[DEFAULT]\naws_access_key_id = {OLD_KEY}\naws_secret_access_key = {OLD_SECRET}\n\n"
        "[base]\nregion = us-east-1\n"
    )

    result = aws.run(["rotate", "--profile", "base", "--token-code", aws.code(), "--verbose"], timeout=STEP_SECONDS)

    ((made, secret),) = aws.sts.created_keys()
    assert result.returncode == 1 and "[DEFAULT]" in result.stderr, result.stderr
    assert f"the new key {made} was deleted at AWS; key {OLD_KEY} is still stored" in result.stderr
    assert secret not in result.stdout and aws.credentials_file.read_text().count(OLD_SECRET) == 1
    assert aws.sts.key_works(OLD_KEY) and not aws.sts.key_works(made)


# --- 2. a working key, but another user's ---------------------------------------------------------

BOB = User(
    name="bob",
    account="123456789012",
    access_key_id="AKIAI44QH8DHBEXAMPLE",
    secret_access_key="je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
    mfa_serial="arn:aws:iam::123456789012:mfa/bob",
    totp_secret="GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
)
BOBS_KEY_AS_ALICES = (
    '<CreateAccessKeyResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">\n'
    "  <CreateAccessKeyResult>\n    <AccessKey>\n      <UserName>alice</UserName>\n"
    f"      <AccessKeyId>{BOB.access_key_id}</AccessKeyId>\n      <Status>Active</Status>\n"
    f"      <SecretAccessKey>{BOB.secret_access_key}</SecretAccessKey>\n"
    "      <CreateDate>2026-01-01T00:00:00Z</CreateDate>\n    </AccessKey>\n  </CreateAccessKeyResult>\n"
    "  <ResponseMetadata>\n    <RequestId>1</RequestId>\n  </ResponseMetadata>\n</CreateAccessKeyResponse>\n"
)


@pytest.fixture
def two_users(tmp_path: Path, secret_guard: SecretGuard) -> Iterator[AwsHome]:
    """An AWS home on a double that knows alice (the base profile's user) and bob."""
    with StsDoubleProcess(users=[DEFAULT_USER, BOB]) as double:
        secret_guard.watch_double(double)
        yield AwsHome(tmp_path, double, guard=secret_guard)  # type: ignore[arg-type] # the same API


@pytest.mark.e2e
def test_a_new_key_of_another_user_is_refused_and_the_users_key_kept(two_users: AwsHome) -> None:
    aws = two_users
    aws.sts.propagation_delay = 0.2
    login(aws)
    aws.sts.stall_after = "CreateAccessKey"  # IAM made alice's key; its answer is swapped on the way
    argv = ["mfa-process", "rotate", "--profile", "base", "--verbose"]
    process = popen(argv, env=aws.env, cwd=aws.root, capture_output=True)
    try:
        assert wait_until(lambda: aws.sts.stalled() == ["CreateAccessKey"] or process.poll() is not None)
        aws.sts.rewrite = Rewrite(page, 200, "text/xml", BOBS_KEY_AS_ALICES)
        aws.sts.stall_before = "GetCallerIdentity"  # the proof with the new key: answered by the real double
        aws.sts.stall_after = None
        assert wait_until(lambda: aws.sts.stalled() == ["GetCallerIdentity"] or process.poll() is not None)
        aws.sts.rewrite = None
        aws.sts.stall_before = None
        stdout, stderr = process.communicate(timeout=STEP_SECONDS)
    finally:
        kill_group(process)
    aws.guard.check("the stderr of mfa-process rotate", stderr.decode())

    assert process.returncode == 1, stdout
    assert stored_key(aws) != BOB.access_key_id
    assert aws.sts.key_works(str(stored_key(aws))) and plugin_works(aws, 1)


# --- 3. what rotate prints comes from the network too ---------------------------------------------


def test_a_user_name_from_the_network_reaches_stdout_only_as_printable_text(aws: AwsHome) -> None:
    login(aws)
    aws.sts.rewrite = Rewrite(replace_field_text, "Arn", "arn:aws:iam::123456789012:user/\u009b2J\u202eevil")

    result = rotate(aws)
    aws.sts.rewrite = None

    assert result.returncode == 1 and stored_key(aws) == OLD_KEY
    assert terminal_safe(result.stdout + result.stderr, keep="\n"), result.stdout


# --- 4. the old key kept elsewhere in the credentials file ----------------------------------------

MESSY = (
    "# keys\r\n[default]\r\naws_access_key_id = {key}\r\naws_secret_access_key = {secret}\r\n"
    "region = eu-west-1\r\n\r\n[base]\r\n; the same key, for mfa-process\r\n"
    "aws_access_key_id = {key}\r\naws_secret_access_key = {secret}\r\ns3 =\r\n  addressing_style = path\r\n"
    "\r\n[other]\r\nregion = us-east-2"
)


def test_rotate_says_which_other_profile_still_holds_the_deleted_key(aws: AwsHome) -> None:
    aws.write_credentials(MESSY.format(key=OLD_KEY, secret=OLD_SECRET))

    result = aws.run(["rotate", "--profile", "base", "--token-code", aws.code(), "--verbose"], timeout=STEP_SECONDS)

    assert result.returncode == 0, result.stderr
    assert "default" in result.stderr, result.stderr


def test_rotate_in_a_crlf_file_with_continuation_lines_changes_only_the_key_lines(aws: AwsHome) -> None:
    before = MESSY.format(key=OLD_KEY, secret=OLD_SECRET).replace("[default]", "[spare]")
    aws.write_credentials(before)

    result = aws.run(["rotate", "--profile", "base", "--token-code", aws.code(), "--verbose"], timeout=STEP_SECONDS)

    assert result.returncode == 0, result.stderr
    ((new, secret),) = aws.sts.created_keys()
    head, tail = before.split("[base]")
    expected = head + "[base]" + tail.replace(OLD_KEY, new).replace(OLD_SECRET, secret)
    assert aws.credentials_file.read_bytes().decode() in (expected, expected + "\r\n")  # CRLF kept
    profiles = raw_config_parse(str(aws.credentials_file))
    assert profiles["base"] == {
        "aws_access_key_id": new,
        "aws_secret_access_key": secret,
        "s3": {"addressing_style": "path"},
    }
    assert profiles["spare"]["aws_access_key_id"] == OLD_KEY and profiles["other"] == {"region": "us-east-2"}
    assert plugin_works(aws, 1)


# --- 5. a session signed by the deleted key, cached by a plugin run during the rotation -----------


def served_session_works(aws: AwsHome, stdout: str) -> bool:
    issued = contract(stdout)
    sts = boto3.client(
        "sts",
        endpoint_url=aws.sts.url,
        region_name="us-east-1",
        aws_access_key_id=str(issued["AccessKeyId"]),
        aws_secret_access_key=str(issued["SecretAccessKey"]),
        aws_session_token=str(issued["SessionToken"]),
    )
    try:
        sts.get_caller_identity()
    except botocore.exceptions.ClientError:
        return False
    return True


@pytest.mark.parametrize("store", ["file", "keyring"])
def test_no_session_of_the_deleted_key_is_served_after_rotate(
    aws: AwsHome, store: str, request: pytest.FixtureRequest
) -> None:
    if store == "keyring":
        move_to_keyring(aws, request.getfixturevalue("secret_service"))
    aws.sts.propagation_delay = 0.2
    login(aws)
    aws.sts.stall_after = "GetSessionToken"  # a plugin run signs with the old key; its answer waits
    plugin = popen(
        ["mfa-process", "--profile", "base", "--refresh", "--token-code", aws.code(1)],
        env=aws.env,
        cwd=aws.root,
        capture_output=True,
    )
    try:
        assert wait_until(lambda: aws.sts.stalled() == ["GetSessionToken"] or plugin.poll() is not None)
        rotated = rotate(aws)
        aws.sts.stall_after = None
        _, plugin_stderr = plugin.communicate(timeout=STEP_SECONDS)
    finally:
        kill_group(plugin)
    aws.guard.check("the stderr of the plugin", plugin_stderr.decode())
    assert rotated.returncode == 0, rotated.stderr
    assert not aws.sts.key_works(OLD_KEY)

    served = aws.run(["--profile", "base"], timeout=STEP_SECONDS)  # no code, no terminal: a hit or nothing

    dead_session_served = served.returncode == 0 and not served_session_works(aws, served.stdout)
    assert not dead_session_served
