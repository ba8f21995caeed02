"""The terminal prompt, driven through a real pseudo-terminal as a person would answer it."""

from __future__ import annotations

import json
import os
import signal
import time

import pexpect
import pytest
from aws_home import AwsHome, spawn

PROMPT = "Enter MFA code for arn:aws:iam::123456789012:mfa/alice: "


def read_json_until_eof(child) -> dict:
    child.expect(pexpect.EOF)
    text = child.before
    return json.loads(text[text.index("{") :])


def test_prompt_text_matches_the_aws_cli_and_input_is_not_echoed(aws: AwsHome) -> None:
    child = spawn("mfa-process --profile base", aws)
    child.expect_exact(PROMPT)
    code = aws.code()
    child.sendline(code)

    data = read_json_until_eof(child)
    child.close()

    assert child.exitstatus == 0
    assert data["Version"] == 1
    assert code not in child.before.split("{")[0]  # typed, never shown
    assert aws.sts.calls("GetSessionToken") == 1


def test_malformed_answer_is_asked_again_without_calling_sts(aws: AwsHome) -> None:
    child = spawn("mfa-process --profile base", aws)
    child.expect_exact(PROMPT)
    child.sendline("12 34")
    child.expect("6 digits")
    child.expect_exact(PROMPT)
    assert aws.sts.calls() == 0
    child.sendline(f"  {aws.code()}  ")  # surrounding spaces are fine

    read_json_until_eof(child)
    child.close()

    assert child.exitstatus == 0
    assert aws.sts.calls("GetSessionToken") == 1


def test_rejected_code_is_explained_and_asked_again(aws: AwsHome) -> None:
    child = spawn("mfa-process --profile base", aws)
    child.expect_exact(PROMPT)
    child.sendline(aws.wrong_code())
    child.expect("AWS rejected that code .wrong, or already used.. Wait for the next code")
    child.expect_exact(PROMPT)
    child.sendline(aws.code())

    read_json_until_eof(child)
    child.close()

    assert child.exitstatus == 0
    assert aws.sts.calls("GetSessionToken") == 2


def test_three_rejected_codes_fail_cleanly(aws: AwsHome) -> None:
    child = spawn("mfa-process --profile base", aws)
    for _ in range(3):
        child.expect_exact(PROMPT)
        child.sendline(aws.wrong_code())
    child.expect(pexpect.EOF)
    child.close()

    assert child.exitstatus != 0
    assert "rejected 3 MFA codes" in child.before
    assert "{" not in child.before  # nothing on stdout
    assert aws.sts.calls("GetSessionToken") == 3
    assert aws.cache_files() == []


def test_end_of_input_fails_cleanly(aws: AwsHome) -> None:
    child = spawn("mfa-process --profile base", aws)
    child.expect_exact(PROMPT)
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()

    assert child.exitstatus != 0
    assert "no MFA code entered" in child.before
    assert aws.sts.calls() == 0


def _echo_is_on(stty_output: str) -> bool:
    flags = stty_output.replace(";", " ").split()
    return "echo" in flags and "-echo" not in flags


def test_ctrl_c_restores_the_terminal_and_exits_130(aws: AwsHome) -> None:
    child = spawn("sh -c 'trap : INT; mfa-process --profile base; echo status=$?; stty -a'", aws)
    child.expect_exact(PROMPT)
    child.sendintr()
    child.expect(r"status=(\d+)")
    before_status, status = child.before, int(child.match.group(1))
    child.expect(pexpect.EOF)
    child.close()

    assert status == 130
    assert "mfa-process: interrupted" in before_status
    assert _echo_is_on(child.before)
    assert aws.sts.calls() == 0


def test_sigterm_during_prompt_restores_the_terminal(aws: AwsHome) -> None:
    child = spawn("sh -c 'mfa-process --profile base & wait $!; echo status=$?; stty -a'", aws)
    child.expect_exact(PROMPT)
    time.sleep(0.2)
    [pid] = _children_named(child.pid, "mfa-process")
    os.kill(pid, signal.SIGTERM)
    child.expect(r"status=(\d+)")
    status = int(child.match.group(1))
    child.expect(pexpect.EOF)
    child.close()

    assert status != 0
    assert _echo_is_on(child.before)


# Those a person sends (Ctrl-\, kill, a closed terminal, Ctrl-C) and those whose default also ends a process.
ENDING_SIGNALS = [signal.SIGQUIT, signal.SIGTERM, signal.SIGHUP, signal.SIGINT]
ENDING_SIGNALS += [signal.SIGUSR1, signal.SIGUSR2, signal.SIGALRM, signal.SIGVTALRM, signal.SIGPROF, signal.SIGXCPU]


@pytest.mark.parametrize("signum", ENDING_SIGNALS, ids=lambda s: s.name)
def test_a_signal_at_the_prompt_restores_the_terminal_under_a_non_shell_parent(aws: AwsHome, signum: int) -> None:
    """No shell to reset the terminal afterwards (an SDK, an IDE, terraform): mfa-process must."""
    child = spawn("mfa-process --profile base", aws)
    child.expect_exact(PROMPT)
    assert child.getecho() is False  # the prompt is written once echo is off

    os.kill(child.pid, signum)
    child.expect(pexpect.EOF)
    echo = child.getecho()
    child.close()

    assert echo is True
    assert (child.signalstatus, child.exitstatus) == (None, 130)
    assert "mfa-process: interrupted" in child.before
    assert aws.sts.calls() == 0


def test_ctrl_backslash_at_the_prompt_restores_the_terminal(aws: AwsHome) -> None:
    child = spawn("mfa-process --profile base", aws)
    child.expect_exact(PROMPT)

    child.sendcontrol("\\")  # SIGQUIT to the foreground process group: its default dumps core, skipping cleanup
    child.expect(pexpect.EOF)
    echo = child.getecho()
    child.close()

    assert echo is True
    assert (child.signalstatus, child.exitstatus) == (None, 130)


def test_ctrl_z_at_the_prompt_shows_echo_while_stopped_and_hides_it_again_on_fg(aws: AwsHome) -> None:
    """As getpass-like tools do: stopped, the shell gets a terminal that echoes; back in the
    foreground, the input is hidden again and the prompt shown again."""
    script = "set -m; mfa-process --profile base; echo stopped=$?; stty -a; fg; echo status=$?"
    child = spawn("bash", aws, args=["--norc", "--noprofile", "-c", script])
    child.expect_exact(PROMPT)
    time.sleep(0.2)

    child.sendcontrol("z")
    child.expect(r"stopped=(\d+)")
    assert int(child.match.group(1)) == 128 + signal.SIGTSTP  # really stopped, as a job
    child.expect_exact("mfa-process --profile base")  # bash's fg names the job it resumes
    assert _echo_is_on(child.before)  # stty -a, run while mfa-process was stopped
    child.expect_exact(PROMPT)  # shown again on SIGCONT
    assert child.getecho() is False
    code = aws.code()
    child.sendline(code)
    child.expect(r"status=(\d+)")
    transcript, status = child.before, int(child.match.group(1))
    child.expect(pexpect.EOF)
    child.close()

    assert status == 0
    assert '"Version": 1' in transcript and code not in transcript  # served, and the code never shown
    assert aws.sts.calls("GetSessionToken") == 1


def _children_named(parent: int, name: str) -> list:
    """Descendants of ``parent`` whose command line mentions ``name`` (read from /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = open(f"/proc/{entry}/stat").read()
            cmdline = open(f"/proc/{entry}/cmdline", "rb").read().replace(b"\0", b" ").decode()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == parent:
            if name in cmdline:
                found.append(int(entry))
            found.extend(_children_named(int(entry), name))
    return found
