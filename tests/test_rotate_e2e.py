"""`mfa-process rotate` end to end: a new key through the MFA session, against the double's IAM
(two-key limit, propagation delay, deleted keys stop working), in the credentials file and in a
real Secret Service; and killed (SIGKILL) between every two calls, a usable key stays stored."""

from __future__ import annotations

import configparser
import json
import time
from typing import Optional

import boto3
import pexpect
import pytest
from aws_home import AwsHome, contract, spawn
from processes import kill_group, popen

from mfa_process.config.settings import resolve_settings
from mfa_process.errors import RotationError
from mfa_process.session.key_rotation import KeyRotation

PROMPT = "Enter MFA code for arn:aws:iam::123456789012:mfa/alice: "
OLD_KEY = "AKIAIOSFODNN7EXAMPLE"
WAIT_SECONDS = 30.0


def stored_key(aws: AwsHome) -> Optional[str]:
    parser = configparser.RawConfigParser()
    parser.read(aws.credentials_file)
    return parser.get("base", "aws_access_key_id", fallback=None)


def key_ids(aws: AwsHome) -> list:
    return sorted(key["access_key_id"] for key in aws.sts.access_keys())


def new_key_id(aws: AwsHome) -> str:
    (key_id,) = [key for key, _ in aws.sts.created_keys()]
    return key_id


def mfa_session_works(aws: AwsHome, code_offset: int = 1) -> bool:
    """The plugin gets an MFA session with whatever key is stored, and IAM accepts it."""
    result = aws.run(["--profile", "base", "--token-code", aws.code(code_offset)])
    if result.returncode != 0:
        return False
    issued = contract(result.stdout)
    facts = aws.sts.key_facts(str(issued["AccessKeyId"]))
    return bool(facts and facts["mfa"])


def wait_until(condition, seconds: float = WAIT_SECONDS) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def second_key(aws: AwsHome) -> str:
    """A second key for the user, made as someone with an MFA session would."""
    session = aws.sts.issue_session(OLD_KEY)
    iam = boto3.client(
        "iam",
        endpoint_url=aws.sts.url,
        region_name="us-east-1",
        aws_access_key_id=session.access_key_id,
        aws_secret_access_key=session.secret_access_key,
        aws_session_token=session.session_token,
    )
    return str(iam.create_access_key()["AccessKey"]["AccessKeyId"])


# --- a whole rotation ------------------------------------------------------------------------------


def test_rotate_replaces_the_file_key_and_deletes_the_old_one_at_aws(aws):
    aws.sts.propagation_delay = 0.5
    before = aws.credentials_file.read_text()

    result = aws.run(["rotate", "--profile", "base", "--token-code", aws.code()])

    assert result.returncode == 0, result.stderr
    new = new_key_id(aws)
    assert key_ids(aws) == [new] and aws.sts.key_works(new) and not aws.sts.key_works(OLD_KEY)
    assert stored_key(aws) == new
    assert aws.credentials_file.read_text().splitlines()[0] == before.splitlines()[0]
    assert f"key {new} is stored in {aws.credentials_file}; the old key {OLD_KEY} is deleted at AWS" in result.stdout
    assert "mfa_key_created = " in aws.config_file.read_text()
    assert not [path for path in aws.root.rglob("*backup*")]
    secret = dict(aws.sts.created_keys())[new]
    assert secret not in result.stdout + result.stderr
    assert mfa_session_works(aws)


def test_rotate_uses_the_cached_session_and_asks_nothing(aws):
    assert aws.run(["login", "--profile", "base", "--token-code", aws.code()]).returncode == 0

    result = aws.run(["rotate", "--profile", "base"])  # no terminal, no code: the session is cached

    assert result.returncode == 0, result.stderr
    assert aws.sts.calls("GetSessionToken") == 1
    assert stored_key(aws) == new_key_id(aws)
    assert aws.cache_files() == []  # the sessions the old key signed are logged out


def test_rotate_asks_for_the_code_once_on_the_terminal(aws):
    child = spawn("mfa-process", aws, args=["rotate", "--profile", "base"])
    child.expect_exact(PROMPT)
    child.sendline(aws.code())
    child.expect(pexpect.EOF)
    child.close()

    assert child.exitstatus == 0, child.before
    assert aws.sts.calls("GetSessionToken") == 1
    assert stored_key(aws) == new_key_id(aws)


def test_the_new_key_is_proven_across_the_propagation_delay_before_the_old_one_goes(aws):
    aws.sts.propagation_delay = 2.5

    result = aws.run(["rotate", "--profile", "base", "--token-code", aws.code()])

    assert result.returncode == 0, result.stderr
    new = new_key_id(aws)
    calls = [(r["action"], r["access_key_id"], r["code"]) for r in aws.sts.requests]
    proofs = [call for call in calls if call[0] == "GetCallerIdentity" and call[1] == new]
    assert proofs[0][2] == "InvalidClientTokenId" and proofs[-1][2] is None  # refused, then accepted
    assert calls.index(proofs[-1]) < calls.index(("DeleteAccessKey",) + calls[-1][1:])
    assert calls[-1][0] == "DeleteAccessKey"


def test_a_user_at_the_two_key_limit_gets_an_error_naming_both_keys(aws):
    other = second_key(aws)
    before = aws.credentials_file.read_bytes()

    result = aws.run(["rotate", "--profile", "base", "--token-code", aws.code()])

    assert result.returncode == 1 and result.stdout.count("\n") <= 1
    message = result.stderr.strip()
    assert message.count("\n") == 0, message
    assert f"already has two access keys, the most IAM allows: {OLD_KEY} (stored here) and {other}" in message
    assert f"aws iam delete-access-key --user-name alice --access-key-id {other}" in message
    assert aws.credentials_file.read_bytes() == before and key_ids(aws) == sorted([OLD_KEY, other])


def test_a_new_key_that_never_works_is_deleted_and_the_old_one_stored_again(aws, monkeypatch):
    """In-process, with a 1-second bound (the command's is 60 s): the double never propagates it."""
    aws.sts.propagation_delay = 3600
    for name, value in aws.env.items():
        monkeypatch.setenv(name, value)
    settings = resolve_settings("base", aws.env, token_code=aws.code())
    steps: list = []

    with pytest.raises(RotationError) as raised:
        KeyRotation(settings, aws.env, steps.append, steps.append, propagation_timeout=1.0).run()

    new = new_key_id(aws)
    assert f"new key {new} did not work (InvalidClientTokenId: " in str(raised.value)
    assert f", for 1 s); key {OLD_KEY} is stored again and still active; the new key {new} was deleted at AWS" in str(
        raised.value
    )
    assert stored_key(aws) == OLD_KEY and key_ids(aws) == [OLD_KEY]


def test_rotate_of_keys_in_the_keyring_keeps_them_there(aws, secret_service):
    aws.env.update(secret_service.environ)
    user = aws.user
    added = aws.run(["add", "--profile", "base", "--from-credentials-file"])
    assert added.returncode == 0, added.stderr

    result = aws.run(["rotate", "--profile", "base", "--token-code", aws.code()])

    assert result.returncode == 0, result.stderr
    new = new_key_id(aws)
    entry = secret_service.stored("mfa-process", "base")
    assert entry is not None and new in entry and user.secret_access_key not in entry
    assert "stored in the keyring" in result.stdout
    config = aws.config_file.read_text()
    assert "mfa_key_store = keyring" in config and "mfa_key_created = " in config and "mfa_key_added" not in config
    assert "aws_access_key_id" not in aws.credentials_file.read_text()
    assert mfa_session_works(aws)


# --- killed between two calls: a usable key stays stored ---------------------------------------------


def start_rotate(aws: AwsHome):
    return popen(
        ["mfa-process", "rotate", "--profile", "base", "--token-code", aws.code()],
        env=aws.env,
        cwd=aws.root,
        stdin=None,
        capture_output=True,
    )


STALL_POINTS = [
    ("stall_before", "CreateAccessKey", False),  # nothing created yet
    ("stall_after", "CreateAccessKey", False),  # created at AWS, the answer never read
    ("stall_before", "DeleteAccessKey", True),  # stored and proven, both keys at AWS
    ("stall_after", "DeleteAccessKey", True),  # the old key deleted, before the report
]


@pytest.mark.parametrize("stall, action, stored_is_new", STALL_POINTS)
def test_killed_between_two_calls_a_usable_key_stays_stored(aws, stall, action, stored_is_new):
    kill_between_calls(aws, stall, action)

    stored = stored_key(aws)
    assert (stored != OLD_KEY) is stored_is_new
    assert wait_until(lambda: aws.sts.key_works(stored))
    assert mfa_session_works(aws)


@pytest.mark.parametrize("stall, action, stored_is_new", STALL_POINTS)
def test_killed_between_two_calls_the_keyring_holds_a_usable_key(aws, secret_service, stall, action, stored_is_new):
    aws.env.update(secret_service.environ)
    assert aws.run(["add", "--profile", "base", "--from-credentials-file"]).returncode == 0

    kill_between_calls(aws, stall, action)

    entry = secret_service.stored("mfa-process", "base")
    assert entry is not None
    stored = json.loads(entry)["AccessKeyId"]
    assert (stored != OLD_KEY) is stored_is_new
    assert wait_until(lambda: aws.sts.key_works(stored))
    assert mfa_session_works(aws)


def kill_between_calls(aws: AwsHome, stall: str, action: str) -> None:
    """Start rotate, let the double hold it at ``action``, SIGKILL it there."""
    aws.sts.propagation_delay = 0.5
    setattr(aws.sts, stall, action)
    process = start_rotate(aws)
    try:
        assert wait_until(lambda: aws.sts.stalled() == [action] or process.poll() is not None)
        assert process.poll() is None, process.communicate()
    finally:
        kill_group(process)
        setattr(aws.sts, stall, None)
        aws.sts.release()


def test_killed_while_it_waits_for_the_new_key_the_new_key_is_stored_and_works_soon(aws):
    aws.sts.propagation_delay = 4.0
    process = start_rotate(aws)
    try:
        assert wait_until(lambda: stored_key(aws) != OLD_KEY or process.poll() is not None)
        assert process.poll() is None, process.communicate()
    finally:
        kill_group(process)

    stored = stored_key(aws)
    assert stored == new_key_id(aws) and not aws.sts.key_works(stored)  # not propagated yet
    assert wait_until(lambda: aws.sts.key_works(stored))
    assert mfa_session_works(aws)


def test_an_orphan_key_left_by_a_killed_rotate_is_named_by_the_next_one(aws):
    aws.sts.stall_after = "CreateAccessKey"
    process = start_rotate(aws)
    try:
        assert wait_until(lambda: aws.sts.stalled() == ["CreateAccessKey"])
    finally:
        kill_group(process)
        aws.sts.stall_after = None
        aws.sts.release()
    orphan = new_key_id(aws)

    result = aws.run(["rotate", "--profile", "base", "--token-code", aws.code(1)])

    assert result.returncode == 1
    assert f"{OLD_KEY} (stored here) and {orphan}" in result.stderr
    assert stored_key(aws) == OLD_KEY
