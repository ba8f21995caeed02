"""Red team, issue 8: the terminal. "Every signal that ends the prompt restores the terminal" held
for Ctrl-C, Ctrl-\\, SIGTERM and SIGHUP, but not for the other signals whose default action ends a
process: SIGUSR1 (sent by many supervisors and scripts), SIGUSR2, SIGALRM (a `timeout`-style
wrapper, an alarm left armed by the caller)... Each one killed mfa-process with echo still off."""

from __future__ import annotations

import os
import signal

import pexpect
from aws_home import AwsHome, spawn

PROMPT = "Enter MFA code for arn:aws:iam::123456789012:mfa/alice: "


def test_a_signal_with_a_handler_of_the_callers_is_left_to_it(aws: AwsHome) -> None:
    """Only default dispositions are taken over: an ignored SIGUSR1 stays ignored (the prompt goes on)."""
    child = spawn("bash", aws, args=["--norc", "--noprofile", "-c", "trap '' USR1; exec mfa-process --profile base"])
    child.expect_exact(PROMPT)

    os.kill(child.pid, signal.SIGUSR1)
    child.sendline(aws.code())
    child.expect(pexpect.EOF)
    child.close()

    assert child.exitstatus == 0, child.before
    assert '"Version": 1' in child.before
