"""Many processes on a cold cache: one prompt, one GetSessionToken, everyone served.

Also the lock's failure modes: a holder killed mid-prompt never blocks the next run, and a
waiter gives up after its bound with a clear message.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pexpect
from aws_home import AwsHome, spawn

PROMPT = "Enter MFA code for arn:aws:iam::123456789012:mfa/alice: "
BOTO3_CALL = "import boto3; print(boto3.Session(profile_name='mfa').client('sts').get_caller_identity()['Arn'])"


def start_many(aws: AwsHome, command: str, count: int):
    """``count`` copies of ``command`` started at once from one shell on one terminal."""
    script = aws.root / "many.sh"
    script.write_text(f"for i in $(seq {count}); do\n  {command} > out.$i 2> err.$i &\ndone\nwait\necho all-done\n")
    return spawn(f"sh {script}", aws, timeout=120)


def outputs(aws: AwsHome, count: int):
    return [(aws.root / f"out.{i}").read_text() for i in range(1, count + 1)]


def test_sixteen_plugins_at_once_prompt_once(aws: AwsHome) -> None:
    child = start_many(aws, "mfa-process --profile base", 16)
    child.expect_exact(PROMPT)
    child.sendline(aws.code())
    child.expect_exact("all-done")
    child.expect(pexpect.EOF)
    transcript = child.before

    results = [json.loads(text) for text in outputs(aws, 16)]
    assert "Enter MFA code" not in transcript  # no second prompt after the first
    assert aws.sts.calls("GetSessionToken") == 1
    assert len({r["AccessKeyId"] for r in results}) == 1
    assert all(r["Version"] == 1 for r in results)


def test_ten_boto3_processes_at_once_prompt_once(aws: AwsHome) -> None:
    """Like terraform with parallelism 10: every SDK process runs the plugin on a cold cache."""
    child = start_many(aws, f'{sys.executable} -c "{BOTO3_CALL}"', 10)
    child.expect_exact(PROMPT, timeout=120)
    child.sendline(aws.code())
    child.expect_exact("all-done", timeout=120)
    transcript = child.before

    assert "Enter MFA code" not in transcript
    assert outputs(aws, 10) == ["arn:aws:iam::123456789012:user/alice\n"] * 10
    assert aws.sts.calls("GetSessionToken") == 1


def test_holder_killed_mid_prompt_does_not_block_the_next_run(aws: AwsHome) -> None:
    holder = spawn("mfa-process --profile base", aws)
    holder.expect_exact(PROMPT)
    assert list(aws.cache_dir.glob("*.lock"))  # it holds the lock while asking
    os.kill(holder.pid, signal.SIGKILL)
    holder.expect(pexpect.EOF)
    holder.close()

    started = time.monotonic()
    result = aws.run(["--profile", "base", "--token-code", aws.code(), "--lock-timeout", "30"])

    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 10
    assert json.loads(result.stdout)["Version"] == 1


def test_waiting_is_bounded_and_says_why(aws: AwsHome) -> None:
    holder = spawn("mfa-process --profile base", aws)
    holder.expect_exact(PROMPT)

    started = time.monotonic()
    waiter = aws.run(["--profile", "base", "--lock-timeout", "1.5"])
    waited = time.monotonic() - started

    holder.sendline(aws.code())
    holder.expect(pexpect.EOF)
    holder.close()
    assert waiter.returncode != 0
    assert waiter.stdout == ""
    assert "waited 1.5 s for another mfa-process" in waiter.stderr
    assert "answer or cancel its prompt" in waiter.stderr
    assert "that is asking for the MFA code of profile 'base'" in waiter.stderr
    assert 1.4 < waited < 10
    assert holder.exitstatus == 0
    # and once the holder answered, the waiter's next run is a hit
    again = aws.run(["--profile", "base"])
    assert again.returncode == 0, again.stderr
    assert aws.sts.calls("GetSessionToken") == 1


def test_a_waiter_that_gives_up_says_the_holder_is_waiting_on_sts(aws: AwsHome) -> None:
    """The holder has its code and waits on a silent STS: a waiter must not blame a prompt."""
    from processes import started

    aws.sts.hang = True
    with started(  # killed with what it started when the block ends, whatever fails
        ["mfa-process", "--profile", "base", "--token-code", aws.code(), "--sts-timeout", "20"],
        env=aws.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    ):
        deadline = time.monotonic() + 20
        while aws.sts.calls("GetSessionToken") == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        waiter = aws.run(["--profile", "base", "--lock-timeout", "1"])

    assert waiter.returncode == 1
    assert waiter.stdout == ""
    assert f"another mfa-process that is waiting on STS at {aws.sts.url}" in waiter.stderr
    assert "for up to 20 s" in waiter.stderr


def test_a_waiter_serves_what_the_holder_fetched(aws: AwsHome) -> None:
    holder = spawn("mfa-process --profile base", aws)
    holder.expect_exact(PROMPT)
    waiter = spawn("mfa-process --profile base --lock-timeout 60", aws)
    time.sleep(1.0)  # the waiter is blocked on the lock, not prompting
    assert waiter.expect_exact([PROMPT, pexpect.TIMEOUT], timeout=0.5) == 1

    holder.sendline(aws.code())
    holder.expect(pexpect.EOF)
    waiter.expect(pexpect.EOF)
    holder.close()
    waiter.close()

    assert waiter.exitstatus == 0
    held = json.loads(holder.before[holder.before.index("{") :])
    waited = json.loads(waiter.before[waiter.before.index("{") :])
    assert held == waited
    assert aws.sts.calls("GetSessionToken") == 1
