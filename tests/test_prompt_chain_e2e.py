"""A chain of code sources end to end: the real `mfa-process` command with
`mfa_prompt = ykman, zenity, terminal`, the STS double, fake helper programs (tests/fakes.py).

PATH holds only the fakes a test adds and the few real tools needed, so a helper a test does not
add is not installed. `aws.run` starts mfa-process with no terminal (as an IDE or CI would),
`spawn` in a real pseudo-terminal (as a person runs it).
"""

from __future__ import annotations

import json
import time
from typing import Dict, List

import pexpect
import pytest
from aws_home import AwsHome, contract, spawn
from fakes import Fake, FakeBin, step, wait_gone

SERIAL = "arn:aws:iam::123456789012:mfa/alice"
PROMPT = f"Enter MFA code for {SERIAL}: "
QUESTION = f"Enter MFA code for {SERIAL}:"  # the dialogs' text
REJECTED = "AWS rejected that code"  # the start of the notice a source hears when asked again
ERASE = "\r\x1b[2K"  # the terminal prompt erasing itself when nobody answered
CHAIN = "ykman, zenity, terminal"


@pytest.fixture
def fakes(aws: AwsHome) -> FakeBin:
    fake_bin = FakeBin(aws.root / "fakes")
    fake_bin.install(aws.env)
    return fake_bin


def base_profile(aws: AwsHome, *lines: str, prompt: str = CHAIN) -> None:
    """The base profile with its MFA serial, ``mfa_prompt = prompt`` and ``lines``."""
    extra = "".join(line + "\n" for line in lines)
    aws.write_config(f"[profile base]\nmfa_serial = {SERIAL}\nmfa_prompt = {prompt}\n{extra}")


def entries(fake: Fake) -> List[List[str]]:
    """The calls that asked for a code (a touch notice may show as a zenity notification)."""
    return [argv for argv in fake.calls() if "--notification" not in argv]


def text_of(argv: List[str]) -> str:
    return next(arg for arg in argv if arg.startswith("--text="))


def run_at_terminal(aws: AwsHome, command: str = "mfa-process --profile base", answer: str = "") -> Dict[str, object]:
    """``command`` in a pseudo-terminal; ``answer`` typed at the terminal prompt if given, else
    none is expected. Returns what the terminal showed and the exit status."""
    child = spawn(command, aws, timeout=30)
    if answer:
        child.expect_exact(PROMPT)
        child.sendline(answer)
    child.expect(pexpect.EOF)
    child.close()
    return {"shown": child.logfile_read.getvalue(), "after": child.before, "status": child.exitstatus}


def served(transcript: str) -> Dict[str, object]:
    """The credential_process output in a terminal transcript (it follows any prompt)."""
    return json.loads(transcript[transcript.index("{") :])


# --- the sources that are there answer --------------------------------------------------------------


def test_without_ykman_the_zenity_dialog_gives_the_code(aws: AwsHome, fakes: FakeBin) -> None:
    zenity = fakes.add("zenity", stdout=f"{aws.code()}\n")
    aws.env["DISPLAY"] = ":0"
    base_profile(aws)

    result = aws.run(["--profile", "base"])

    assert result.returncode == 0, result.stderr
    assert contract(result.stdout)["Version"] == 1
    [argv] = entries(zenity)
    assert "--entry" in argv and text_of(argv) == f"--text={QUESTION}"
    assert aws.sts.calls("GetSessionToken") == 1


def test_without_ykman_or_zenity_the_terminal_asks(aws: AwsHome, fakes: FakeBin) -> None:
    base_profile(aws)

    shown = run_at_terminal(aws, answer=aws.code())

    assert shown["status"] == 0, shown["shown"]
    assert str(shown["shown"]).count(PROMPT) == 1
    assert served(str(shown["after"]))["Version"] == 1
    assert aws.sts.calls("GetSessionToken") == 1


def test_a_ykman_that_finds_no_yubikey_passes_to_zenity(aws: AwsHome, fakes: FakeBin) -> None:
    ykman = fakes.add("ykman", status=1, stderr="ERROR: No YubiKey detected!\n")
    zenity = fakes.add("zenity", stdout=f"{aws.code()}\n")
    aws.env["DISPLAY"] = ":0"
    base_profile(aws)

    result = aws.run(["--profile", "base"])

    assert result.returncode == 0, result.stderr
    assert contract(result.stdout)["Version"] == 1
    assert ykman.calls() == [["oath", "accounts", "code", "--single", SERIAL]]
    assert len(entries(zenity)) == 1
    assert aws.sts.calls("GetSessionToken") == 1


def test_a_ykman_nobody_touches_times_out_is_killed_and_zenity_asks(aws: AwsHome, fakes: FakeBin) -> None:
    ykman = fakes.add("ykman", hang=True, child=True, stderr="Touch your YubiKey...\n")
    zenity = fakes.add("zenity", stdout=f"{aws.code()}\n")
    aws.env["DISPLAY"] = ":0"
    base_profile(aws, "mfa_prompt_timeout = 1")

    started = time.monotonic()
    result = aws.run(["--profile", "base"], timeout=30)
    elapsed = time.monotonic() - started

    assert result.returncode == 0, result.stderr
    assert len(entries(zenity)) == 1
    assert 1 <= elapsed < 8  # ykman's own timeout, then zenity's answer
    assert wait_gone(ykman.pids(), 2) == []


def test_a_dialog_that_cannot_open_the_display_passes_to_the_terminal(aws: AwsHome, fakes: FakeBin) -> None:
    zenity = fakes.add("zenity", status=1, stderr="(zenity:4242): Gtk-WARNING **: cannot open display: :9\n")
    aws.env["DISPLAY"] = ":9"
    base_profile(aws, prompt="zenity, terminal")

    shown = run_at_terminal(aws, answer=aws.code())

    assert shown["status"] == 0, shown["shown"]
    assert len(zenity.calls()) == 1
    assert aws.sts.calls("GetSessionToken") == 1


def test_the_prompt_flag_takes_a_chain_too(aws: AwsHome, fakes: FakeBin) -> None:
    zenity = fakes.add("zenity", stdout=f"{aws.code()}\n")
    aws.env["DISPLAY"] = ":0"
    base_profile(aws, prompt="terminal")  # the flag wins over the profile

    result = aws.run(["--profile", "base", "--prompt", "ykman,zenity"])

    assert result.returncode == 0, result.stderr
    assert len(entries(zenity)) == 1


# --- nothing can ask --------------------------------------------------------------------------------


def test_with_no_source_available_one_line_names_what_each_said(aws: AwsHome, fakes: FakeBin) -> None:
    assert "DISPLAY" not in aws.env and "WAYLAND_DISPLAY" not in aws.env
    base_profile(aws)

    result = aws.run(["--profile", "base"])

    assert result.returncode == 1
    assert result.stdout == ""
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("mfa-process: no code source worked: ykman: ")
    assert line.index("ykman: ") < line.index("; zenity: ") < line.index("; terminal: ")  # in the order written
    assert "ykman is not installed" in line
    assert "zenity is not installed" in line
    assert "no terminal to ask for the MFA code" in line
    assert line.endswith("; fix: run `mfa-process login --profile base` in a terminal first, or pass --token-code")
    assert aws.sts.calls() == 0
    assert aws.cache_files() == []


# --- what stops the chain -----------------------------------------------------------------------------


def test_a_code_aws_rejects_is_asked_again_of_zenity_not_the_terminal(aws: AwsHome, fakes: FakeBin) -> None:
    # The YubiKey is plugged in while the dialog is up: the next code still comes from the dialog.
    ykman = fakes.add("ykman", step(status=1, stderr="ERROR: No YubiKey detected!\n"), step(stdout=f"{aws.code(1)}\n"))
    zenity = fakes.add("zenity", step(stdout=f"{aws.wrong_code()}\n"), step(stdout=f"{aws.code()}\n"))
    aws.env["DISPLAY"] = ":0"
    base_profile(aws)

    shown = run_at_terminal(aws)  # a terminal is there: the chain could have moved on to it, and must not

    assert shown["status"] == 0, shown["shown"]
    assert PROMPT not in str(shown["shown"])
    assert len(ykman.calls()) == 1  # not asked again: the chain does not start over
    first, second = entries(zenity)
    assert text_of(first) == f"--text={QUESTION}"
    assert text_of(second).startswith(f"--text={REJECTED}") and text_of(second).endswith(QUESTION)
    assert served(str(shown["after"]))["Version"] == 1
    assert aws.sts.calls("GetSessionToken") == 2


def test_a_cancelled_dialog_stops_the_chain(aws: AwsHome, fakes: FakeBin) -> None:
    zenity = fakes.add("zenity", status=1)
    aws.env["DISPLAY"] = ":0"
    base_profile(aws)

    shown = run_at_terminal(aws)  # the terminal comes after zenity and is not asked

    assert shown["status"] == 1
    assert PROMPT not in str(shown["shown"])
    assert "the MFA code dialog was cancelled" in str(shown["shown"])
    assert len(zenity.calls()) == 1
    assert aws.sts.calls() == 0


# --- auto is a chain ---------------------------------------------------------------------------------


def test_auto_asks_a_dialog_when_nobody_answers_at_the_terminal(aws: AwsHome, fakes: FakeBin) -> None:
    zenity = fakes.add("zenity", stdout=f"{aws.code()}\n")
    aws.env["DISPLAY"] = ":0"

    child = spawn("mfa-process --profile base --prompt-timeout 1", aws, timeout=30)
    child.expect_exact(PROMPT)
    child.expect_exact(ERASE, timeout=5)  # the terminal gave up on its own timeout
    child.expect(pexpect.EOF)
    child.close()

    assert child.exitstatus == 0, child.logfile_read.getvalue()
    assert len(entries(zenity)) == 1
    assert served(child.before)["Version"] == 1
    assert aws.sts.calls("GetSessionToken") == 1
