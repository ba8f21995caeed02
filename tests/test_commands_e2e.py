"""The companion commands (login, status, logout, env, exec, configure), end to end through the
STS double, with a real pseudo-terminal where a person would type."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pexpect
import pytest
from aws_home import BIN_DIR, AwsHome, contract, spawn
from processes import default_signals

PROMPT = "Enter MFA code for arn:aws:iam::123456789012:mfa/alice: "


def login(aws: AwsHome, *extra: str) -> str:
    child = spawn("mfa-process", aws, args=["login", "--profile", "base", *extra])
    if child.expect_exact([PROMPT, pexpect.EOF]) == 0:
        child.sendline(aws.code(aws.sts.calls("GetSessionToken")))  # a fresh code each time
        child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    return child.before


def assert_no_secrets(aws: AwsHome, text: str) -> None:
    assert aws.user.secret_access_key not in text
    for document in (json.loads(p.read_text()) for p in aws.cache_files()):
        assert document["credentials"]["SecretAccessKey"] not in text
        assert document["credentials"]["SessionToken"] not in text


# --- login ------------------------------------------------------------------------------------


def test_login_prompts_then_every_process_is_served_without_a_terminal(aws: AwsHome) -> None:
    transcript = login(aws)

    assert "logged in: profile base, MFA device arn:aws:iam::123456789012:mfa/alice" in transcript
    assert "left)" in transcript
    assert_no_secrets(aws, transcript)
    plugin = aws.run(["--profile", "base"])  # no terminal: only the cache can serve it
    assert plugin.returncode == 0, plugin.stderr
    assert aws.sts.calls("GetSessionToken") == 1


def test_login_with_a_valid_session_says_so_and_does_not_prompt(aws: AwsHome) -> None:
    login(aws)

    again = aws.run(["login", "--profile", "base"])  # no terminal: it must not try to prompt

    assert again.returncode == 0, again.stderr
    assert "already logged in: profile base" in again.stderr
    assert again.stdout == ""
    assert aws.sts.calls("GetSessionToken") == 1


def test_login_refresh_prompts_for_a_new_session(aws: AwsHome) -> None:
    login(aws)
    first = contract(aws.run(["--profile", "base"]).stdout)

    transcript = login(aws, "--refresh")

    assert "logged in" in transcript and "already" not in transcript
    assert contract(aws.run(["--profile", "base"]).stdout)["AccessKeyId"] != first["AccessKeyId"]
    assert aws.sts.calls("GetSessionToken") == 2


def test_login_with_token_code_needs_no_terminal(aws: AwsHome) -> None:
    result = aws.run(["login", "--profile", "base", "--token-code", aws.code()])

    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert "logged in" in result.stderr


def test_login_without_terminal_or_code_fails_clearly(aws: AwsHome) -> None:
    result = aws.run(["login", "--profile", "base"])

    assert result.returncode == 1
    assert "no terminal" in result.stderr and result.stdout == ""


def test_login_unknown_profile(aws: AwsHome) -> None:
    result = aws.run(["login", "--profile", "nobody"])

    assert result.returncode == 2
    assert "profile 'nobody'" in result.stderr
    assert aws.sts.calls() == 0


# --- status -----------------------------------------------------------------------------------


def sessions_table(stdout: str) -> str:
    """status's first table (the sessions); the base profiles' keys follow after a blank line."""
    return stdout.split("\n\n")[0] + "\n"


def test_status_with_nothing_cached(aws: AwsHome) -> None:
    result = aws.run(["status"])

    assert result.returncode == 0
    assert result.stdout == (
        "no cached sessions\n\n"
        f"BASE PROFILE  KEYS IN{' ' * (len(str(aws.credentials_file)) - 7)}  KEY AGE\n"
        f"base          {aws.credentials_file}  unknown\n"
    )
    assert json.loads(aws.run(["status", "--json"]).stdout) == []


def test_status_lists_sessions_without_secrets(aws: AwsHome) -> None:
    aws.run(["--profile", "base", "--token-code", aws.code()])
    aws.run(["--profile", "base", "--duration", "3600", "--token-code", aws.code(1)])

    table = aws.run(["status"])
    data = json.loads(aws.run(["status", "--json"]).stdout)

    assert table.returncode == 0
    header, *rows = sessions_table(table.stdout).splitlines()
    assert header.split() == [
        "PROFILE",
        "MFA",
        "DEVICE",
        "ACCOUNT",
        "DURATION",
        "EXPIRES",
        "LEFT",
        "MFA",
        "AGE",
        "SERVED",
    ]
    assert len(rows) == 2
    assert all(row.startswith("base ") and row.endswith("yes") for row in rows)
    assert all(row[header.index("ACCOUNT") :].startswith("123456789012 ") for row in rows)  # aligned
    assert sorted(entry["duration"] for entry in data) == [3600, 43200]
    assert all(entry["served"] is True and entry["account_id"] == "123456789012" for entry in data)
    assert all(entry["expiration"].endswith("Z") for entry in data)
    assert all(0 <= entry["mfa_age_seconds"] < 60 and entry["mfa_authenticated_at"].endswith("Z") for entry in data)
    assert_no_secrets(aws, table.stdout + json.dumps(data))


def test_status_says_when_the_mfa_max_age_renews_a_session_early(aws: AwsHome) -> None:
    aws.write_config(aws.config_file.read_text().replace("[profile base]\n", "[profile base]\nmfa_max_age = 1h\n"))
    aws.run(["--profile", "base", "--token-code", aws.code()])  # a 12-hour session

    [entry] = json.loads(aws.run(["status", "--json"]).stdout)
    table = aws.run(["status"]).stdout

    assert entry["max_mfa_age"] == 3600 and 3500 < entry["seconds_left"] <= 3600 and entry["served"] is True
    assert entry["served_until"] < entry["expiration"]
    assert "yes, until MFA age 1h 00m" in table


def test_status_shows_a_session_past_the_margin_as_not_served(aws: AwsHome) -> None:
    aws.run(["--profile", "base", "--token-code", aws.code()])
    [cache_file] = aws.cache_files()
    document = json.loads(cache_file.read_text())
    document["expires_at"] = int(time.time()) + 600
    document["credentials"]["Expiration"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(document["expires_at"]))
    cache_file.write_text(json.dumps(document))

    [entry] = json.loads(aws.run(["status", "--json"]).stdout)
    table = aws.run(["status"]).stdout

    assert entry["served"] is False and 0 < entry["seconds_left"] <= 600
    assert "no (refresh due)" in table


def test_status_filters_by_profile_and_reports_damaged_files(aws: AwsHome) -> None:
    aws.run(["--profile", "base", "--token-code", aws.code()])
    (aws.cache_dir / "broken.0123456789abcdef01234567.json").write_text("{not json")

    other = aws.run(["status", "--profile", "other"])
    mine = aws.run(["status", "--profile", "base"])

    assert other.stdout == "no cached sessions for profile other\n"
    assert len(sessions_table(mine.stdout).splitlines()) == 2
    assert mine.returncode == 0
    assert "1 unreadable cache file(s) ignored" in mine.stderr
    assert "broken.0123456789abcdef01234567.json" in mine.stderr  # named like a session: other files are not ours


HOSTILE_PROFILE = "evil\x1b]0;pwned\x07\x1b[2J\r\u202e"  # sets the window title, clears the screen, reverses text
HOSTILE_SERIAL = "arn:aws:iam::123456789012:mfa/\x9b31m\x7f\x08\n\u2028x"  # C1 CSI, DEL, backspace, line breaks
CONTROL_CHARACTERS = [chr(c) for c in [*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029, 0x202E]]


def store_hostile_session(aws: AwsHome) -> None:
    """A valid session file whose text fields would drive a terminal if printed raw."""
    from mfa_process.session.cache import SessionCache, SessionKey
    from mfa_process.session.credentials import Credentials

    expires_at = int(time.time()) + 6 * 3600
    key = SessionKey(HOSTILE_PROFILE, aws.user.access_key_id, HOSTILE_SERIAL, 43200)
    credentials = Credentials("ASIAHOSTILE000000001", "session-secret", "session-token", expires_at, "1234\x1b[5m")
    SessionCache(str(aws.cache_dir)).store(key, credentials, issued_at=time.time())


def test_status_table_escapes_control_characters_from_the_cache(aws: AwsHome) -> None:
    store_hostile_session(aws)

    result = aws.run(["status"])

    assert result.returncode == 0
    for char in CONTROL_CHARACTERS:
        assert char not in result.stdout.replace("\n", "") and char not in result.stderr.replace("\n", "")
    header, row = sessions_table(result.stdout).splitlines()
    assert row.startswith("evil\\x1b]0;pwned\\x07\\x1b[2J\\r\\u202e ")
    assert "mfa/\\x9b31m\\x7f\\x08\\n\\u2028x " in row and "1234\\x1b[5m " in row


def test_status_json_escapes_control_characters_from_the_cache(aws: AwsHome) -> None:
    store_hostile_session(aws)

    result = aws.run(["status", "--json"])

    assert result.returncode == 0
    for char in CONTROL_CHARACTERS:
        assert char not in result.stdout.replace("\n", "") and char not in result.stderr.replace("\n", "")
    [entry] = json.loads(result.stdout)  # JSON escapes: the values themselves come back intact
    assert entry["profile"] == HOSTILE_PROFILE and entry["mfa_serial"] == HOSTILE_SERIAL
    assert entry["account_id"] == "1234\x1b[5m"


def test_status_for_a_profile_name_with_control_characters(aws: AwsHome) -> None:
    result = aws.run(["status", "--profile", "x\x1b]0;t\x07"])

    assert result.returncode == 0
    assert result.stdout == "no cached sessions for profile x\\x1b]0;t\\x07\n"


# --- logout -----------------------------------------------------------------------------------


def test_logout_removes_the_profiles_sessions_and_nothing_else(aws: AwsHome) -> None:
    aws.run(["--profile", "base", "--token-code", aws.code()])
    unrelated = aws.cache_dir / "notes.txt"
    unrelated.write_text("mine")

    first = aws.run(["logout", "--profile", "base"])
    second = aws.run(["logout", "--profile", "base"])

    assert first.returncode == 0 and first.stdout.startswith("removed ")
    assert aws.cache_files() == []
    assert unrelated.read_text() == "mine"
    assert second.returncode == 0 and second.stdout == "no cached sessions for profile base\n"
    assert aws.run(["--profile", "base"]).returncode != 0  # the next call needs a code again


def test_logout_all_removes_damaged_files_too(aws: AwsHome) -> None:
    aws.run(["--profile", "base", "--token-code", aws.code()])
    (aws.cache_dir / "broken.0123456789abcdef01234567.json").write_text("{")

    result = aws.run(["logout", "--all"])

    assert result.returncode == 0
    assert len(result.stdout.splitlines()) == 2
    assert aws.cache_files() == []


def test_logout_needs_a_profile_or_all(aws: AwsHome) -> None:
    result = aws.run(["logout"])

    assert result.returncode == 2
    assert "--profile" in result.stderr and "--all" in result.stderr
    assert len(result.stderr.splitlines()) == 1


# --- env --------------------------------------------------------------------------------------


def test_env_lines_evaluated_by_a_real_shell(aws: AwsHome) -> None:
    aws.run(["--profile", "base", "--token-code", aws.code()])
    cached = contract(aws.run(["--profile", "base"]).stdout)

    shell = subprocess.run(
        ["sh", "-c", 'eval "$(mfa-process env --profile base)" && env'],
        env=aws.env,
        capture_output=True,
        text=True,
        timeout=60,
        start_new_session=True,
        preexec_fn=default_signals,
    )

    assert shell.returncode == 0, shell.stderr
    assert f"AWS_ACCESS_KEY_ID={cached['AccessKeyId']}" in shell.stdout.splitlines()
    assert f"AWS_SECRET_ACCESS_KEY={cached['SecretAccessKey']}" in shell.stdout.splitlines()
    assert f"AWS_SESSION_TOKEN={cached['SessionToken']}" in shell.stdout.splitlines()
    assert f"AWS_CREDENTIAL_EXPIRATION={cached['Expiration']}" in shell.stdout.splitlines()


def aws_cli_after_env(aws: AwsHome) -> subprocess.CompletedProcess:
    """`eval "$(mfa-process env ...)"` in a shell, then the AWS CLI in that shell."""
    return subprocess.run(
        ["sh", "-c", 'eval "$(mfa-process env --profile base)" && aws sts get-caller-identity --region us-east-1'],
        env=aws.env,
        capture_output=True,
        text=True,
        timeout=60,
        start_new_session=True,
        preexec_fn=default_signals,
    )


def test_env_keys_work_for_the_aws_cli(aws: AwsHome) -> None:
    aws.run(["--profile", "base", "--token-code", aws.code()])
    shell = aws_cli_after_env(aws)

    assert shell.returncode == 0, shell.stderr
    assert json.loads(shell.stdout)["Arn"] == "arn:aws:iam::123456789012:user/alice"


@pytest.mark.parametrize(
    "shell, first_line", [("fish", "set -gx AWS_ACCESS_KEY_ID '"), ("powershell", "$Env:AWS_ACCESS_KEY_ID = '")]
)
def test_env_for_other_shells(aws: AwsHome, shell: str, first_line: str) -> None:
    aws.run(["--profile", "base", "--token-code", aws.code()])

    result = aws.run(["env", "--profile", "base", "--shell", shell])

    assert result.returncode == 0
    assert result.stdout.startswith(first_line)
    assert len(result.stdout.splitlines()) == 4


def test_env_prompts_on_the_terminal_not_on_stdout(aws: AwsHome) -> None:
    output = aws.root / "env.out"
    child = spawn("sh", aws, args=["-c", f"mfa-process env --profile base > {output}"])
    child.expect_exact(PROMPT)
    child.sendline(aws.code())
    child.expect(pexpect.EOF)
    child.close()

    assert child.exitstatus == 0
    assert output.read_text().startswith("export AWS_ACCESS_KEY_ID='ASIA")
    assert "Enter MFA code" not in output.read_text()


def stale_environment(aws: AwsHome) -> dict:
    """What an old shell can hold that SDKs read instead of, or together with, fresh keys."""
    return {
        "AWS_SECURITY_TOKEN": "stale-token-of-an-old-session",  # botocore reads it before AWS_SESSION_TOKEN
        "AWS_PROFILE": "does-not-exist",
        "AWS_DEFAULT_PROFILE": "does-not-exist",
        "AWS_ACCOUNT_ID": "999999999999",
        "AWS_CREDENTIAL_SCOPE": "eu-west-9",
        "AWS_ACCESS_KEY": "AKIASTALESTALESTALE1",
        "AWS_SECRET_KEY": "stale-secret",
        "AWS_WEB_IDENTITY_TOKEN_FILE": str(aws.root / "no-such-token-file"),
        "AWS_ROLE_ARN": "arn:aws:iam::999999999999:role/stale",
        "AWS_ROLE_SESSION_NAME": "stale",
    }


def test_env_unsets_stale_variables_so_the_aws_cli_works(aws: AwsHome) -> None:
    aws.run(["--profile", "base", "--token-code", aws.code()])
    aws.env.update(stale_environment(aws))

    shell = aws_cli_after_env(aws)

    assert shell.returncode == 0, shell.stderr
    assert json.loads(shell.stdout)["Arn"] == "arn:aws:iam::123456789012:user/alice"
    assert aws.sts.requests[-1]["access_key_id"].startswith("ASIA")


@pytest.mark.parametrize(
    "shell, unset",
    [
        ("sh", "unset AWS_SECURITY_TOKEN"),
        ("fish", "set -e AWS_SECURITY_TOKEN;"),
        ("powershell", "Remove-Item Env:AWS_SECURITY_TOKEN -ErrorAction SilentlyContinue"),
    ],
)
def test_env_unsets_only_the_stale_variables_that_are_set(aws: AwsHome, shell: str, unset: str) -> None:
    aws.run(["--profile", "base", "--token-code", aws.code()])
    aws.env["AWS_SECURITY_TOKEN"] = "stale"

    result = aws.run(["env", "--profile", "base", "--shell", shell])

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == unset and len(lines) == 5


@pytest.mark.parametrize("shell", ["sh", "fish", "powershell"])
@pytest.mark.parametrize(
    "field, bad",
    [
        ("SessionToken", "token\n$Env:PWNED = 1; echo pwned"),
        ("AccessKeyId", "ASIA\r\x1b[2J"),
        ("SecretAccessKey", "s\u2028x"),
    ],
)
def test_env_refuses_a_session_value_that_is_not_printable_ascii(aws: AwsHome, shell: str, field: str, bad: str):
    aws.run(["--profile", "base", "--token-code", aws.code()])
    [cache_file] = aws.cache_files()
    document = json.loads(cache_file.read_text())
    document["credentials"][field] = bad
    cache_file.write_text(json.dumps(document))

    result = aws.run(["env", "--profile", "base", "--shell", shell])

    assert result.returncode == 1
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith("mfa-process: ")
    assert "Traceback" not in result.stderr and "pwned" not in result.stderr


def test_env_with_nothing_cached_and_no_terminal_fails_cleanly(aws: AwsHome) -> None:
    result = aws.run(["env", "--profile", "base"])

    assert result.returncode == 1 and result.stdout == ""
    assert "no terminal" in result.stderr


# --- exec -------------------------------------------------------------------------------------


def test_exec_runs_the_command_with_the_session_and_without_profile_variables(aws: AwsHome) -> None:
    aws.run(["--profile", "base", "--token-code", aws.code()])
    cached = contract(aws.run(["--profile", "base"]).stdout)
    aws.env.update(AWS_PROFILE="mfa", AWS_DEFAULT_PROFILE="mfa")

    result = aws.run(
        [
            "exec",
            "--profile",
            "base",
            "--",
            sys.executable,
            "-c",
            "import json, os; print(json.dumps(dict(os.environ)))",
        ]
    )

    child_env = json.loads(result.stdout)
    assert result.returncode == 0, result.stderr
    assert child_env["AWS_ACCESS_KEY_ID"] == cached["AccessKeyId"]
    assert child_env["AWS_SESSION_TOKEN"] == cached["SessionToken"]
    assert "AWS_PROFILE" not in child_env and "AWS_DEFAULT_PROFILE" not in child_env
    assert child_env["HOME"] == str(aws.root)  # the rest of the environment is kept


def test_exec_aws_cli_uses_the_injected_keys(aws: AwsHome) -> None:
    aws.run(["--profile", "base", "--token-code", aws.code()])
    aws.env["AWS_PROFILE"] = "does-not-exist"  # would break the CLI if it were passed on

    result = aws.run(["exec", "--profile", "base", "--", "aws", "sts", "get-caller-identity", "--region", "us-east-1"])

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["Arn"] == "arn:aws:iam::123456789012:user/alice"
    assert aws.sts.requests[-1]["access_key_id"].startswith("ASIA")


BOTO3_CALLER = "import boto3; print(boto3.client('sts', region_name='us-east-1').get_caller_identity()['Arn'])"


@pytest.mark.parametrize(
    "command",
    [
        ["aws", "sts", "get-caller-identity", "--region", "us-east-1", "--query", "Arn", "--output", "text"],
        [sys.executable, "-c", BOTO3_CALLER],
    ],
    ids=["aws-cli", "boto3"],
)
def test_exec_with_stale_variables_in_the_environment(aws: AwsHome, command: list) -> None:
    aws.run(["--profile", "base", "--token-code", aws.code()])
    aws.env.update(stale_environment(aws))

    result = aws.run(["exec", "--profile", "base", "--", *command])

    assert result.returncode == 0, result.stderr
    assert result.stdout == "arn:aws:iam::123456789012:user/alice\n"
    assert aws.sts.requests[-1]["access_key_id"].startswith("ASIA")


def test_exec_refuses_a_session_value_with_a_nul(aws: AwsHome) -> None:
    aws.run(["--profile", "base", "--token-code", aws.code()])
    [cache_file] = aws.cache_files()
    document = json.loads(cache_file.read_text())
    document["credentials"]["SessionToken"] = "token\u0000tail"
    cache_file.write_text(json.dumps(document))

    result = aws.run(["exec", "--profile", "base", "--", "sh", "-c", "echo ran"])

    assert result.returncode == 1 and result.stdout == ""
    assert len(result.stderr.splitlines()) == 1 and "unexpected" not in result.stderr


@pytest.mark.parametrize("command", [[""], ["", "arg"]])
def test_exec_with_an_empty_command_name(aws: AwsHome, command: list) -> None:
    result = aws.run(["exec", "--profile", "base", "--", *command])

    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1
    assert "empty" in result.stderr and "unexpected" not in result.stderr
    assert aws.sts.calls() == 0


def test_exec_passes_the_base_profiles_region_unless_one_is_set(aws: AwsHome) -> None:
    aws.write_config(f"[profile base]\nmfa_serial = {aws.user.mfa_serial}\nregion = eu-west-1\n")
    aws.run(["--profile", "base", "--token-code", aws.code()])
    show = ["exec", "--profile", "base", "--", "sh", "-c", "echo $AWS_REGION $AWS_DEFAULT_REGION"]

    from_profile = aws.run(show)
    aws.env["AWS_REGION"] = "ap-northeast-1"
    from_environment = aws.run(show)

    assert from_profile.stdout == "eu-west-1 eu-west-1\n"
    assert from_environment.stdout == "ap-northeast-1\n"


def test_exec_exits_with_the_commands_status(aws: AwsHome) -> None:
    aws.run(["--profile", "base", "--token-code", aws.code()])

    result = aws.run(["exec", "--profile", "base", "--", "sh", "-c", "exit 42"])

    assert result.returncode == 42


def test_exec_signals_reach_the_command(aws: AwsHome) -> None:
    aws.run(["--profile", "base", "--token-code", aws.code()])
    marker = aws.root / "got-term"
    process = subprocess.Popen(
        [
            "mfa-process",
            "exec",
            "--profile",
            "base",
            "--",
            "sh",
            "-c",
            f"trap 'touch {marker}; exit 7' TERM; echo ready; while :; do sleep 0.1; done",
        ],
        env=aws.env,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=default_signals,
    )
    try:
        assert process.stdout.readline() == "ready\n"

        process.send_signal(signal.SIGTERM)

        assert process.wait(timeout=10) == 7
        assert marker.exists()
    finally:
        if process.poll() is None:  # the loop never ends by itself
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_exec_without_a_command(aws: AwsHome) -> None:
    result = aws.run(["exec", "--profile", "base", "--"])

    assert result.returncode == 2
    assert "no command to run" in result.stderr
    assert aws.sts.calls() == 0


def test_exec_unknown_command(aws: AwsHome) -> None:
    aws.run(["--profile", "base", "--token-code", aws.code()])

    result = aws.run(["exec", "--profile", "base", "--", "no-such-command-here"])

    assert result.returncode == 127
    assert "command not found: no-such-command-here" in result.stderr


def test_exec_prompts_then_runs(aws: AwsHome) -> None:
    child = spawn(
        "mfa-process", aws, args=["exec", "--profile", "base", "--", "sh", "-c", "echo key=$AWS_ACCESS_KEY_ID"]
    )
    child.expect_exact(PROMPT)
    child.sendline(aws.code())
    child.expect(r"key=ASIA\w+")
    child.expect(pexpect.EOF)
    child.close()

    assert child.exitstatus == 0


# --- configure --------------------------------------------------------------------------------

ODD_CONFIG = """\
# my settings, keep me
[default]
region=eu-west-1\t

[profile   base]
; keys live in the credentials file
region = eu-central-1
s3 =
    max_concurrent_requests = 20

[profile other]
output = json
# the end
"""


def test_configure_edits_without_losing_anything_and_the_profile_works(aws: AwsHome) -> None:
    aws.write_config(ODD_CONFIG)

    result = aws.run(["configure", "--profile", "base", "--mfa-serial", aws.user.mfa_serial])

    text = aws.config_file.read_text()
    assert result.returncode == 0, result.stderr
    original_lines = [line for line in ODD_CONFIG.splitlines() if line.strip()]
    before_new_section = text.split("[profile mfa]")[0]
    kept = [line for line in before_new_section.splitlines() if line in original_lines]
    assert kept == original_lines  # every line kept, in its order
    assert "[profile mfa]\ncredential_process = mfa-process --profile base\n" in text
    assert "has long-term access keys: ready" in result.stdout
    assert Path(str(aws.config_file) + ".mfa-process-backup").read_text() == ODD_CONFIG
    # botocore reads the result, and the new profile works end to end
    import botocore.session

    session = botocore.session.Session(profile="base")
    session.set_config_variable("config_file", str(aws.config_file))
    assert session.get_scoped_config()["mfa_serial"] == aws.user.mfa_serial
    assert session.get_scoped_config()["s3"] == {"max_concurrent_requests": "20"}
    child = spawn("aws", aws, args=["sts", "get-caller-identity", "--profile", "mfa"])
    child.expect_exact(PROMPT)
    child.sendline(aws.code())
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0 and "user/alice" in child.before


def test_configure_is_idempotent(aws: AwsHome) -> None:
    aws.write_config(ODD_CONFIG)
    aws.run(["configure", "--profile", "base", "--mfa-serial", aws.user.mfa_serial])
    once = aws.config_file.read_text()
    os.unlink(str(aws.config_file) + ".mfa-process-backup")

    again = aws.run(["configure", "--profile", "base", "--mfa-serial", aws.user.mfa_serial])

    assert again.returncode == 0
    assert "already configured, nothing changed" in again.stdout
    assert aws.config_file.read_text() == once
    assert not Path(str(aws.config_file) + ".mfa-process-backup").exists()  # nothing written


def test_configure_refuses_to_replace_another_credential_process(aws: AwsHome) -> None:
    original = ODD_CONFIG + "\n[profile mfa]\ncredential_process = other-tool --x\n"
    aws.write_config(original)

    refused = aws.run(["configure", "--profile", "base", "--mfa-serial", aws.user.mfa_serial])

    assert refused.returncode == 2 and refused.stdout == ""
    assert "--force" in refused.stderr and "other-tool --x" in refused.stderr
    assert aws.config_file.read_text() == original

    forced = aws.run(["configure", "--profile", "base", "--mfa-serial", aws.user.mfa_serial, "--force"])

    assert forced.returncode == 0
    assert "credential_process = mfa-process --profile base" in aws.config_file.read_text()
    assert "other-tool" not in aws.config_file.read_text()


def test_configure_as_another_name_and_a_new_config_file(aws: AwsHome) -> None:
    aws.config_file.unlink()

    result = aws.run(["configure", "--profile", "base", "--mfa-serial", aws.user.mfa_serial, "--as", "work"])

    assert result.returncode == 0, result.stderr
    assert aws.config_file.read_text() == (
        f"[profile base]\nmfa_serial = {aws.user.mfa_serial}\n\n"
        "[profile work]\ncredential_process = mfa-process --profile base\n"
    )
    assert (aws.config_file.stat().st_mode & 0o777) == 0o600


def test_configure_says_what_keys_are_missing(aws: AwsHome) -> None:
    aws.write_credentials("")

    result = aws.run(["configure", "--profile", "base", "--mfa-serial", aws.user.mfa_serial])

    assert result.returncode == 0
    assert "missing aws_access_key_id and aws_secret_access_key" in result.stdout
    assert "aws configure --profile base" in result.stdout


def test_configure_needs_an_mfa_serial(aws: AwsHome) -> None:
    aws.write_config("[profile base]\nregion = us-east-1\n")

    result = aws.run(["configure", "--profile", "base"])

    assert result.returncode == 2 and "--mfa-serial" in result.stderr
    assert aws.config_file.read_text() == "[profile base]\nregion = us-east-1\n"


def test_configure_rejects_a_bad_serial_without_writing(aws: AwsHome) -> None:
    before = aws.config_file.read_text()

    result = aws.run(["configure", "--profile", "base", "--mfa-serial", "arn:aws:iam::123456789012:u2f/x/y"])

    assert result.returncode == 2 and "FIDO" in result.stderr
    assert aws.config_file.read_text() == before


def test_configure_writes_an_absolute_path_when_not_on_path(aws: AwsHome, tmp_path: Path) -> None:
    elsewhere = tmp_path / "bin"
    elsewhere.mkdir()
    shutil.copy2(Path(BIN_DIR) / "mfa-process", elsewhere / "mfa-process")
    aws.env["PATH"] = "/usr/bin:/bin"
    configure = [str(elsewhere / "mfa-process"), "configure", "--profile", "base", "--mfa-serial", aws.user.mfa_serial]

    quiet = dict(env=aws.env, capture_output=True, text=True, timeout=60, preexec_fn=default_signals)
    result = subprocess.run(configure, **quiet)

    # the profile from conftest said plain `mfa-process`, which this PATH cannot find: updated
    assert result.returncode == 0, result.stderr
    assert f"credential_process = {elsewhere / 'mfa-process'} --profile base" in aws.config_file.read_text()
    again = subprocess.run(configure, **quiet)
    assert "already configured" in again.stdout


# --- help -------------------------------------------------------------------------------------


def test_main_help_lists_every_command_with_an_example(aws: AwsHome) -> None:
    text = aws.run(["--help"]).stdout

    for command in ("login", "status", "logout", "env", "exec", "configure"):
        assert f"  {command} " in text
        assert f"mfa-process {command}" in text or "mfa-process env" in text


@pytest.mark.parametrize("command", ["login", "status", "logout", "env", "exec", "configure"])
def test_each_command_help_has_examples(aws: AwsHome, command: str) -> None:
    result = aws.run([command, "--help"])

    assert result.returncode == 0
    assert result.stdout.startswith(f"usage: mfa-process {command}")
    assert "examples:" in result.stdout
