"""Code sources end to end: the real `mfa-process` command, the STS double, fake helper programs.

Fakes (tests/fakes.py) stand in for zenity, kdialog, osascript, powershell, ykman and an
`op`-like command; PATH holds only them and the few real tools needed, so what a developer has
installed never matters. `aws.run` starts mfa-process in a new session (no terminal, as an IDE
or CI would); `spawn` runs it in a real pseudo-terminal.
"""

from __future__ import annotations

import json
import os
import signal
import time
from typing import Dict, List, Tuple

import pexpect
import pytest
from aws_home import AwsHome, contract, spawn
from fakes import FakeBin, pid_gone, step, wait_gone

SERIAL = "arn:aws:iam::123456789012:mfa/alice"
PROMPT = f"Enter MFA code for {SERIAL}: "
QUESTION = f"Enter MFA code for {SERIAL}:"  # the dialogs' text
ERASE = "\r\x1b[2K"  # carriage return, erase the whole line
PROMPT_NAMES = ("auto", "terminal", "command", "ykman", "zenity", "kdialog", "osascript", "windows-dialog")


@pytest.fixture
def fakes(aws: AwsHome) -> FakeBin:
    fake_bin = FakeBin(aws.root / "fakes")
    fake_bin.install(aws.env)
    return fake_bin


def base_profile(aws: AwsHome, *lines: str) -> None:
    """The base profile with its MFA serial and ``lines`` (settings) added."""
    extra = "".join(line + "\n" for line in lines)
    aws.write_config(f"[profile base]\nmfa_serial = {SERIAL}\n{extra}")


def failed_cleanly(result) -> None:
    """A failure as SDKs need it: non-zero, nothing on stdout, one message line on stderr."""
    assert result.returncode != 0
    assert result.stdout == ""
    assert result.stderr.startswith("mfa-process: ")
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


# --- mfa_process = <command> -------------------------------------------------------------------


def test_mfa_process_command_prints_the_code_without_a_terminal(aws: AwsHome, fakes: FakeBin) -> None:
    code = aws.code()
    op = fakes.add("op", stdout=f"Your code: {code}\n")
    base_profile(aws, "mfa_process = op item get 'AWS alice' --otp")

    result = aws.run(["--profile", "base"])

    assert result.returncode == 0, result.stderr
    assert contract(result.stdout)["Version"] == 1
    assert op.calls() == [["item", "get", "AWS alice", "--otp"]]  # through the shell: quotes honoured
    assert aws.sts.calls("GetSessionToken") == 1


def test_mfa_process_command_comes_before_the_terminal(aws: AwsHome, fakes: FakeBin) -> None:
    op = fakes.add("op", stdout=f"{aws.code()}\n")
    base_profile(aws, "mfa_process = op item get aws --otp")

    child = spawn("mfa-process --profile base", aws, timeout=20)
    child.expect(pexpect.EOF)
    child.close()

    assert child.exitstatus == 0, child.before
    assert "Enter MFA code" not in child.before
    assert op.calls() == [["item", "get", "aws", "--otp"]]
    assert aws.sts.calls("GetSessionToken") == 1


def test_mfa_process_command_failure_shows_its_last_stderr_line(aws: AwsHome, fakes: FakeBin) -> None:
    fakes.add("op", status=1, stderr="[ERROR] 2026/01/05 09:12:44\nop: not signed in\n")
    base_profile(aws, "mfa_process = op item get aws --otp")

    result = aws.run(["--profile", "base"])

    failed_cleanly(result)
    assert "mfa_process command" in result.stderr
    assert "exit status 1" in result.stderr
    assert "op: not signed in" in result.stderr
    assert "run it by hand to check: op ... (the mfa_process line of profile 'base')" in result.stderr
    assert "item get aws" not in result.stderr
    assert aws.sts.calls() == 0
    assert aws.cache_files() == []


TOTP_SEED = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


@pytest.mark.parametrize(
    "fake_step, timeout_setting, expected",
    [
        pytest.param(
            step(status=1, stderr=f"oathtool: cannot decode {TOTP_SEED}\n"), None, "exit status 1", id="fails"
        ),
        pytest.param(step(stdout="no code\n", stderr=f"seed {TOTP_SEED}\n"), None, "printed no", id="no-code"),
        pytest.param(
            step(hang=True, stderr=f"waiting on {TOTP_SEED}\n"), "mfa_prompt_timeout = 1", "no code within", id="hangs"
        ),
    ],
)
def test_mfa_process_command_never_echoes_its_arguments(
    aws: AwsHome, fakes: FakeBin, fake_step: dict, timeout_setting: str, expected: str
) -> None:
    """`oathtool --totp -b SEED` holds the TOTP seed: name the program and the profile key only."""
    fakes.add("oathtool", fake_step)
    base_profile(aws, f"mfa_process = oathtool --totp -b {TOTP_SEED}", *([timeout_setting] if timeout_setting else []))

    result = aws.run(["--profile", "base"], timeout=20)

    failed_cleanly(result)
    assert expected in result.stderr
    if expected == "no code within":  # unavailable, not broken: auto's chain went on, and sums each source up
        assert "no code source worked: command: the mfa_process command gave no code within 1 s" in result.stderr
    else:
        assert "check: oathtool ... (the mfa_process line of profile 'base')" in result.stderr
    assert TOTP_SEED not in result.stderr
    assert TOTP_SEED[:8] not in result.stderr


def test_mfa_process_command_not_found_is_a_clear_error(aws: AwsHome, fakes: FakeBin) -> None:
    base_profile(aws, "mfa_process = no-such-otp-tool --otp")

    result = aws.run(["--profile", "base"])

    failed_cleanly(result)
    assert "exit status 127" in result.stderr
    assert "not found" in result.stderr  # the shell's own complaint, its last stderr line
    assert aws.sts.calls() == 0


@pytest.mark.parametrize("output", ["signed in as alice\n", "1234567\n", "12345\n"], ids=["text", "7-digit", "5-digit"])
def test_mfa_process_command_that_prints_no_code(aws: AwsHome, fakes: FakeBin, output: str) -> None:
    fakes.add("op", stdout=output, stderr="op: item has no one-time password\n")
    base_profile(aws, "mfa_process = op item get aws --otp")

    result = aws.run(["--profile", "base"])

    failed_cleanly(result)
    assert "printed no 6-digit code" in result.stderr
    assert "op: item has no one-time password" in result.stderr
    assert aws.sts.calls() == 0


def test_mfa_process_command_that_hangs_is_killed_with_its_children(aws: AwsHome, fakes: FakeBin) -> None:
    op = fakes.add("op", hang=True, child=True, stderr="op: waiting for the 1Password app to unlock\n")
    base_profile(aws, "mfa_process = op item get aws --otp", "mfa_prompt_timeout = 1")

    started = time.monotonic()
    result = aws.run(["--profile", "base"], timeout=20)
    elapsed = time.monotonic() - started

    failed_cleanly(result)
    assert "mfa_process command gave no code within 1 s" in result.stderr
    assert "op: waiting for the 1Password app to unlock" in result.stderr  # its last stderr line
    assert elapsed < 5
    pids = op.pids()
    assert len(pids) == 2  # the fake and the child it started
    assert wait_gone(pids, 2) == []
    assert aws.sts.calls() == 0


def test_mfa_process_code_rejected_by_sts_is_asked_again(aws: AwsHome, fakes: FakeBin) -> None:
    op = fakes.add("op", step(stdout=f"{aws.wrong_code()}\n"), step(stdout=f"{aws.code()}\n"))
    base_profile(aws, "mfa_process = op item get aws --otp")

    result = aws.run(["--profile", "base"])

    assert result.returncode == 0, result.stderr
    assert contract(result.stdout)["Version"] == 1
    assert len(op.calls()) == 2
    assert aws.sts.calls("GetSessionToken") == 2


# --- GUI dialogs: zenity, kdialog, osascript, the Windows input box -------------------------------


def test_auto_picks_zenity_with_a_display_and_no_terminal(aws: AwsHome, fakes: FakeBin) -> None:
    zenity = fakes.add("zenity", stdout=f"{aws.code()}\n")
    kdialog = fakes.add("kdialog", stdout=f"{aws.code()}\n")
    aws.env["DISPLAY"] = ":0"

    result = aws.run(["--profile", "base"])

    assert result.returncode == 0, result.stderr
    assert contract(result.stdout)["Version"] == 1
    [argv] = zenity.calls()
    assert "--entry" in argv and "--hide-text" in argv
    assert f"--text={QUESTION}" in argv
    assert kdialog.calls() == []
    assert aws.sts.calls("GetSessionToken") == 1


def test_zenity_cancel_is_a_clear_error(aws: AwsHome, fakes: FakeBin) -> None:
    fakes.add("zenity", status=1)
    aws.env["DISPLAY"] = ":0"

    result = aws.run(["--profile", "base"])

    failed_cleanly(result)
    assert "cancelled" in result.stderr
    assert aws.sts.calls() == 0


def test_a_dialog_that_fails_is_not_reported_as_cancelled(aws: AwsHome, fakes: FakeBin) -> None:
    fakes.add("zenity", status=1, stderr="zenity: cannot open display: :9\n")
    aws.env["DISPLAY"] = ":9"

    result = aws.run(["--profile", "base"])

    failed_cleanly(result)
    assert "cancelled" not in result.stderr
    assert "zenity: cannot open display: :9" in result.stderr


def test_osascript_cancel_is_a_cancel(aws: AwsHome, fakes: FakeBin) -> None:
    fakes.add("osascript", status=1, stderr="execution error: User canceled. (-128)\n")
    base_profile(aws, "mfa_prompt = osascript")

    result = aws.run(["--profile", "base"])

    failed_cleanly(result)
    assert "cancelled" in result.stderr


def test_a_slow_mfa_process_command_is_announced_on_the_terminal(aws: AwsHome, fakes: FakeBin) -> None:
    """ykman asks for a touch on its stderr, which is captured: the person must hear it from us."""
    fakes.add("op", stdout=f"{aws.code()}\n", stderr="Touch your YubiKey...\n", delay=1.5)
    base_profile(aws, "mfa_process = op item get aws --otp")

    child = spawn("mfa-process --profile base", aws, timeout=20)
    child.expect_exact("Waiting for `op` to print the MFA code")
    child.expect(pexpect.EOF)
    child.close()

    assert child.exitstatus == 0, child.before
    assert "item get aws" not in child.before  # the program, never its arguments (they may hold a seed)
    assert aws.sts.calls("GetSessionToken") == 1


def test_a_malformed_dialog_answer_is_asked_again(aws: AwsHome, fakes: FakeBin) -> None:
    zenity = fakes.add("zenity", step(stdout="12 34\n"), step(stdout=f"{aws.code()}\n"))
    aws.env["DISPLAY"] = ":0"

    result = aws.run(["--profile", "base"])

    assert result.returncode == 0, result.stderr
    first, second = zenity.calls()
    assert f"--text={QUESTION}" in first
    assert any(arg.startswith("--text=") and "6 digits" in arg for arg in second)
    assert aws.sts.calls("GetSessionToken") == 1


def test_a_dialog_nobody_answers_times_out_and_is_closed(aws: AwsHome, fakes: FakeBin) -> None:
    zenity = fakes.add("zenity", hang=True, child=True)
    aws.env["DISPLAY"] = ":0"

    started = time.monotonic()
    result = aws.run(["--profile", "base", "--prompt-timeout", "1"], timeout=20)
    elapsed = time.monotonic() - started

    failed_cleanly(result)
    assert "no answer within 1 s" in result.stderr
    assert elapsed < 5
    assert wait_gone(zenity.pids(), 2) == []
    assert aws.sts.calls() == 0


def test_without_a_display_auto_never_picks_a_dialog(aws: AwsHome, fakes: FakeBin) -> None:
    zenity = fakes.add("zenity", stdout=f"{aws.code()}\n")
    kdialog = fakes.add("kdialog", stdout=f"{aws.code()}\n")
    assert "DISPLAY" not in aws.env and "WAYLAND_DISPLAY" not in aws.env

    result = aws.run(["--profile", "base"])

    failed_cleanly(result)
    assert "mfa-process login --profile base" in result.stderr
    assert "mfa_process" in result.stderr.replace("mfa-process", "")
    assert zenity.calls() == [] and kdialog.calls() == []
    assert aws.sts.calls() == 0


def test_prompt_flag_kdialog_uses_kdialog_even_without_a_display(aws: AwsHome, fakes: FakeBin) -> None:
    zenity = fakes.add("zenity", stdout=f"{aws.code()}\n")
    kdialog = fakes.add("kdialog", stdout=f"{aws.code()}\n")

    result = aws.run(["--profile", "base", "--prompt", "kdialog"])

    assert result.returncode == 0, result.stderr
    assert kdialog.calls() == [["--title", "mfa-process", "--password", QUESTION]]
    assert zenity.calls() == []


def test_mfa_prompt_osascript_runs_osascript(aws: AwsHome, fakes: FakeBin) -> None:
    osascript = fakes.add("osascript", stdout=f"{aws.code()}\n")
    base_profile(aws, "mfa_prompt = osascript")

    result = aws.run(["--profile", "base"])

    assert result.returncode == 0, result.stderr
    assert osascript.calls() == [
        [
            "-e",
            f'display dialog "{QUESTION}" default answer "" with hidden answer with title "mfa-process"',
            "-e",
            "text returned of result",
        ]
    ]


def test_mfa_prompt_windows_dialog_runs_powershell(aws: AwsHome, fakes: FakeBin) -> None:
    powershell = fakes.add("powershell", stdout=f"{aws.code()}\r\n")
    base_profile(aws, "mfa_prompt = windows-dialog")

    result = aws.run(["--profile", "base"])

    assert result.returncode == 0, result.stderr
    [argv] = powershell.calls()
    assert argv[:3] == ["-NoProfile", "-NonInteractive", "-Command"]
    assert f"InputBox('{QUESTION}', 'mfa-process')" in argv[3]


def test_a_person_at_a_terminal_gets_the_terminal_even_with_a_display(aws: AwsHome, fakes: FakeBin) -> None:
    zenity = fakes.add("zenity", stdout=f"{aws.code()}\n")
    aws.env["DISPLAY"] = ":0"

    # stdout and stderr captured, as every SDK does: still the terminal, never a dialog
    child = spawn("sh -c 'mfa-process --profile base >out.json 2>err.txt; echo status=$?'", aws, timeout=20)
    child.expect_exact(PROMPT)
    child.sendline(aws.code())
    child.expect(r"status=(\d+)")
    status = int(child.match.group(1))
    child.expect(pexpect.EOF)
    child.close()

    assert status == 0, (aws.root / "err.txt").read_text()
    assert contract((aws.root / "out.json").read_text())["Version"] == 1
    assert zenity.calls() == []
    assert aws.sts.calls("GetSessionToken") == 1


# --- ykman -------------------------------------------------------------------------------------


def test_ykman_asks_for_the_mfa_serial_by_default(aws: AwsHome, fakes: FakeBin) -> None:
    ykman = fakes.add("ykman", stdout=f"{aws.code()}\n")
    base_profile(aws, "mfa_prompt = ykman")

    result = aws.run(["--profile", "base"])

    assert result.returncode == 0, result.stderr
    assert ykman.calls() == [["oath", "accounts", "code", "--single", SERIAL]]
    assert aws.sts.calls("GetSessionToken") == 1


def test_ykman_asks_for_mfa_oath_account_when_set(aws: AwsHome, fakes: FakeBin) -> None:
    ykman = fakes.add("ykman", stdout=f"{aws.code()}\n")
    base_profile(aws, "mfa_prompt = ykman", "mfa_oath_account = AWS:alice")

    result = aws.run(["--profile", "base"])

    assert result.returncode == 0, result.stderr
    assert ykman.calls() == [["oath", "accounts", "code", "--single", "AWS:alice"]]


def test_ykman_waiting_for_a_touch_says_so_on_the_terminal(aws: AwsHome, fakes: FakeBin) -> None:
    fakes.add("ykman", stdout=f"{aws.code()}\n", delay=1.0)
    base_profile(aws, "mfa_prompt = ykman", "mfa_oath_account = AWS:alice")

    child = spawn("mfa-process --profile base", aws, timeout=20)
    child.expect_exact("Touch your YubiKey to get the MFA code (AWS:alice)")
    child.expect(pexpect.EOF)
    child.close()

    assert child.exitstatus == 0, child.before
    assert json.loads(child.before[child.before.index("{") :])["Version"] == 1
    assert aws.sts.calls("GetSessionToken") == 1


def test_ykman_touch_notice_without_a_terminal_is_a_desktop_notification(aws: AwsHome, fakes: FakeBin) -> None:
    fakes.add("ykman", stdout=f"{aws.code()}\n", delay=1.0)
    zenity = fakes.add("zenity")
    aws.env["DISPLAY"] = ":0"
    base_profile(aws, "mfa_prompt = ykman")

    result = aws.run(["--profile", "base"])

    assert result.returncode == 0, result.stderr
    [argv] = zenity.wait_for_calls(1)
    assert "--notification" in argv
    assert f"--text=Touch your YubiKey to get the MFA code ({SERIAL})" in argv


def test_ykman_never_touched_times_out_and_is_killed(aws: AwsHome, fakes: FakeBin) -> None:
    ykman = fakes.add("ykman", hang=True, stderr="Touch your YubiKey...\n")
    base_profile(aws, "mfa_prompt = ykman", "mfa_prompt_timeout = 0.5")

    started = time.monotonic()
    result = aws.run(["--profile", "base"], timeout=20)
    elapsed = time.monotonic() - started

    failed_cleanly(result)
    assert "the YubiKey gave no code within 0.5 s" in result.stderr
    assert elapsed < 4
    assert wait_gone(ykman.pids(), 2) == []
    assert aws.sts.calls() == 0


def test_ykman_that_fails_shows_why(aws: AwsHome, fakes: FakeBin) -> None:
    fakes.add("ykman", status=1, stderr="Error: No YubiKey detected!\n")
    base_profile(aws, "mfa_prompt = ykman")

    result = aws.run(["--profile", "base"])

    failed_cleanly(result)
    assert "No YubiKey detected!" in result.stderr
    assert "mfa_oath_account" in result.stderr
    assert aws.sts.calls() == 0


def test_ykman_missing_names_yubikey_manager(aws: AwsHome, fakes: FakeBin) -> None:
    base_profile(aws, "mfa_prompt = ykman")

    result = aws.run(["--profile", "base"])

    failed_cleanly(result)
    assert "ykman" in result.stderr and "yubikey-manager" in result.stderr
    assert aws.sts.calls() == 0


# --- the terminal prompt's timeout -----------------------------------------------------------------


def _echo_is_on(stty_output: str) -> bool:
    flags = stty_output.replace(";", " ").split()
    return "echo" in flags and "-echo" not in flags


def test_terminal_prompt_times_out_erases_itself_and_restores_the_terminal(aws: AwsHome, fakes: FakeBin) -> None:
    child = spawn("sh -c 'mfa-process --profile base --prompt-timeout 1; echo status=$?; stty -a'", aws, timeout=20)
    child.expect_exact(PROMPT)
    asked = time.monotonic()
    child.expect_exact(ERASE, timeout=5)
    erased_after = time.monotonic() - asked
    between = child.before
    child.expect(r"status=(\d+)")
    message, status = child.before, int(child.match.group(1))
    child.expect(pexpect.EOF)
    child.close()

    assert status != 0
    assert 0.8 < erased_after < 3
    assert between.strip() == ""  # nothing between the prompt and its erasure
    assert "no answer within 1 s" in message
    assert "mfa-process login --profile base" in message
    assert PROMPT not in message  # the prompt is not asked again
    assert _echo_is_on(child.before)
    assert aws.sts.calls() == 0


# --- the caller goes away ------------------------------------------------------------------------


def _processes() -> Dict[int, Tuple[int, List[str]]]:
    """pid -> (parent pid, argv) of every process, from /proc."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                argv = [part.decode(errors="replace") for part in cmdline.read().split(b"\0") if part]
        except (OSError, ValueError, IndexError):
            continue
        table[int(entry)] = (ppid, argv)
    return table


def _descendants(root: int) -> List[Tuple[int, int, List[str]]]:
    table = _processes()
    found, parents = [], {root}
    changed = True
    while changed:
        changed = False
        for pid, (ppid, argv) in table.items():
            if ppid in parents and pid not in parents:
                parents.add(pid)
                found.append((pid, ppid, argv))
                changed = True
    return found


def _is_mfa_process(argv: List[str]) -> bool:
    return any(os.path.basename(arg) == "mfa-process" for arg in argv[:2])


def _mfa_process_under(root: int) -> Tuple[int, int]:
    """(pid, parent pid) of the one mfa-process below ``root``."""
    deadline = time.monotonic() + 5
    while True:
        found = [(pid, ppid) for pid, ppid, argv in _descendants(root) if _is_mfa_process(argv)]
        if len(found) == 1 or time.monotonic() > deadline:
            assert len(found) == 1, _descendants(root)
            return found[0]
        time.sleep(0.05)


def _expect_prompt(child, aws: AwsHome) -> None:
    """The prompt of an mfa-process whose stderr goes to err.txt (which says why, if it ended)."""
    if child.expect_exact([PROMPT, "parent-gone"]) == 1:
        pytest.fail(f"mfa-process ended without prompting: {(aws.root / 'err.txt').read_text()}")


def _cpu_ticks(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def _wait_until_idle(pid: int, timeout: float = 15) -> None:
    """Until ``pid`` has used (almost) no CPU for 0.3 s: started up, and now only waiting."""
    deadline = time.monotonic() + timeout
    time.sleep(0.3)
    last = _cpu_ticks(pid)
    while time.monotonic() < deadline:
        time.sleep(0.3)
        now = _cpu_ticks(pid)
        if now - last <= 1:
            return
        last = now
    raise AssertionError(f"process {pid} kept busy for {timeout} s")


def _next_run_is_not_blocked(aws: AwsHome) -> None:
    started = time.monotonic()
    result = aws.run(["--profile", "base", "--token-code", aws.code(), "--lock-timeout", "30"])
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 5
    assert contract(result.stdout)["Version"] == 1


def test_prompting_child_exits_when_its_parent_shell_is_killed(aws: AwsHome, fakes: FakeBin) -> None:
    child = spawn("sh -c 'mfa-process --profile base; true'", aws, timeout=20)
    child.expect_exact(PROMPT)
    pid, parent = _mfa_process_under(child.pid)
    assert parent == child.pid  # the `; true` keeps sh from exec'ing

    os.kill(child.pid, signal.SIGKILL)
    assert wait_gone([pid], 2) == []
    child.close(force=True)

    _next_run_is_not_blocked(aws)
    assert aws.sts.calls("GetSessionToken") == 1


def test_prompting_child_notices_its_parent_is_gone_and_leaves_the_terminal_clean(aws: AwsHome, fakes: FakeBin) -> None:
    """The killed parent is not the terminal's session leader, so no SIGHUP comes: only the
    parent watch can end the prompt. stderr goes to a file, as an SDK captures it."""
    child = spawn(
        "sh -c 'sh -c \"mfa-process --profile base 2>err.txt; true\"; echo parent-gone; sleep 30'", aws, timeout=20
    )
    _expect_prompt(child, aws)
    pid, parent = _mfa_process_under(child.pid)
    assert parent != child.pid  # the inner sh

    os.kill(parent, signal.SIGKILL)
    killed = time.monotonic()
    assert wait_gone([pid], 2) == [], "mfa-process kept prompting after its parent died"
    took = time.monotonic() - killed
    child.expect_exact("parent-gone")
    after = child.before  # everything the terminal got after the prompt
    child.expect(pexpect.TIMEOUT, timeout=0.3)
    after += child.before
    echo = child.getecho()
    child.close(force=True)

    assert took < 2
    assert ERASE in after  # the unanswered prompt was taken off the screen
    assert "Enter MFA code" not in after and "mfa-process:" not in after
    assert echo  # the terminal echoes again
    assert "the program that started mfa-process is gone" in (aws.root / "err.txt").read_text()
    _next_run_is_not_blocked(aws)
    assert aws.sts.calls("GetSessionToken") == 1


def test_a_lock_waiter_whose_parent_dies_stops_waiting(aws: AwsHome, fakes: FakeBin) -> None:
    holder = spawn("mfa-process --profile base", aws, timeout=20)
    holder.expect_exact(PROMPT)
    waiter = spawn(
        "sh -c 'sh -c \"mfa-process --profile base 2>err.txt; true\"; echo parent-gone; sleep 30'", aws, timeout=20
    )
    pid, parent = _mfa_process_under(waiter.pid)
    _wait_until_idle(pid)  # past its start-up (and its parent watch): waiting on the holder's lock
    assert waiter.expect_exact([PROMPT, pexpect.TIMEOUT], timeout=0.1) == 1
    assert not pid_gone(pid)

    os.kill(parent, signal.SIGKILL)
    gone = wait_gone([pid], 2)
    waiter.close(force=True)

    assert gone == [], "the waiter kept waiting after its parent died"
    assert "stopped waiting for another mfa-process" in (aws.root / "err.txt").read_text()
    assert holder.isalive()  # the holder is still asking, undisturbed
    holder.sendline(aws.code())
    holder.expect(pexpect.EOF)
    holder.close()
    assert holder.exitstatus == 0
    assert aws.sts.calls("GetSessionToken") == 1


# --- settings ------------------------------------------------------------------------------------


def test_unknown_mfa_prompt_lists_the_choices(aws: AwsHome, fakes: FakeBin) -> None:
    base_profile(aws, "mfa_prompt = nonsense")

    result = aws.run(["--profile", "base", "--token-code", aws.code()])

    failed_cleanly(result)
    assert result.returncode == 2
    assert "mfa_prompt 'nonsense'" in result.stderr
    assert all(name in result.stderr for name in PROMPT_NAMES)
    assert aws.sts.calls() == 0


def test_mfa_prompt_command_without_mfa_process_is_a_clear_error(aws: AwsHome, fakes: FakeBin) -> None:
    base_profile(aws, "mfa_prompt = command")

    result = aws.run(["--profile", "base"])

    failed_cleanly(result)
    assert result.returncode == 2
    assert "mfa_prompt = command needs `mfa_process" in result.stderr
    assert aws.sts.calls() == 0


@pytest.mark.parametrize("value", ["0", "-5", "soon"])
def test_mfa_prompt_timeout_must_be_positive(aws: AwsHome, fakes: FakeBin, value: str) -> None:
    base_profile(aws, f"mfa_prompt_timeout = {value}")

    result = aws.run(["--profile", "base"])

    failed_cleanly(result)
    assert result.returncode == 2
    assert f"prompt timeout '{value}'" in result.stderr
    assert "mfa_prompt_timeout in profile 'base'" in result.stderr
    assert aws.sts.calls() == 0
