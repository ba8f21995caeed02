"""`mfa-process doctor` end to end: the installed command run as a person or an IDE runs it, on an
isolated AWS home whose STS is the double. A healthy setup exits 0; each broken link (a missing or
broken file, missing keys, a bad mfa_serial, a credential_process line that runs another program or
names a missing profile, a cache folder others can write, a clock 10 minutes off) exits 1 with its
exact fix; nothing secret is printed (the secret guard reads stdout and stderr).

The clock is moved on this side (libfaketime, tests/clock_shift.py): the double's clock_offset moves
the times in its answers, not the Date header http.server writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import List, Optional

import pexpect
import pytest
from aws_home import BIN_DIR, AwsHome, spawn
from processes import run

from mfa_process import __version__

THIS = os.path.realpath(os.path.join(BIN_DIR, "mfa-process"))


def doctor(aws: AwsHome, *args: str, argv: Optional[List[str]] = None) -> subprocess.CompletedProcess:
    """`mfa-process doctor ARGS` with no terminal; its stdout is the secret guard's to read too."""
    if argv is None:
        result = aws.run(["doctor", *args])
    else:
        result = run(
            [*argv, "doctor", *args],
            env=aws.env,
            cwd=aws.root,
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
        aws.guard.check("the stderr of mfa-process doctor", result.stderr)
    aws.guard.check("the stdout of mfa-process doctor", result.stdout)
    assert aws.user.secret_access_key not in result.stdout and aws.user.access_key_id not in result.stdout
    assert result.stderr == ""
    return result


def line(output: str, start: str) -> str:
    """The one line of ``output`` that starts with ``start``, and its fix line if it has one."""
    lines = output.splitlines()
    found = [index for index, text in enumerate(lines) if text.startswith(start)]
    assert len(found) == 1, output
    index = found[0]
    fix = lines[index + 1] if index + 1 < len(lines) and lines[index + 1].startswith(" " * 9 + "fix: ") else ""
    return lines[index] + ("\n" + fix if fix else "")


def fake_program(folder: Path, script: str) -> Path:
    """An executable `mfa-process` in ``folder`` that runs ``script`` (sh)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "mfa-process"
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(0o755)
    return path


@pytest.fixture
def home(aws: AwsHome) -> AwsHome:
    aws.credentials_file.chmod(0o600)  # as `aws configure` leaves it
    return aws


# --- healthy ------------------------------------------------------------------------------------


def test_a_healthy_setup_in_a_terminal_is_ok_on_every_line(home: AwsHome) -> None:
    child = spawn("mfa-process", home, args=["doctor"])
    child.expect(pexpect.EOF)
    child.close()
    output = child.logfile_read.getvalue().replace("\r\n", "\n")

    assert child.exitstatus == 0, output
    assert [text.split()[0] for text in output.splitlines()[:-1]] == ["ok"] * 10, output
    assert f"ok       profile base: keys: in {home.credentials_file} (AKIA...MPLE)" in output
    assert "ok       profile base: mfa_serial: arn:aws:iam::123456789012:mfa/alice (account 123456789012" in output
    assert f"ok       profile mfa: credential_process: runs this mfa-process ({BIN_DIR}/mfa-process)" in output
    assert line(output, "ok       clock: within ").endswith(f" s of STS's ({home.sts.url})")
    assert "ok       profile base: code source: terminal (mfa_prompt auto: terminal)" in output
    assert output.splitlines()[-1] == "10 checks: no problems, no warnings"
    assert home.user.access_key_id not in output and home.user.secret_access_key not in output


def test_without_a_terminal_the_code_source_is_a_warning_and_the_exit_status_still_0(home: AwsHome) -> None:
    result = doctor(home)

    assert result.returncode == 0, result.stdout
    assert line(result.stdout, "warning  profile base: code source") == (
        "warning  profile base: code source: none here (mfa_prompt auto: terminal; terminal: no)\n"
        "         fix: run `mfa-process login --profile base` in a terminal first, or pass --token-code"
    )
    assert result.stdout.splitlines()[-1] == "10 checks: no problems, 1 warning"


def test_the_clock_check_is_one_unsigned_request_and_offline_sends_none(home: AwsHome) -> None:
    doctor(home)
    asked = home.sts.requests

    offline = doctor(home, "--offline")

    assert [(r["action"], r["access_key_id"], r["status"]) for r in asked] == [("GetCallerIdentity", None, 403)]
    assert len(home.sts.requests) == 1  # none more
    assert not [text for text in offline.stdout.splitlines() if text[9:].startswith("clock")]
    assert offline.stdout.splitlines()[-1].endswith("; not checked: clock (--offline)")


# --- each broken link, with its fix -------------------------------------------------------------------


def test_a_missing_config_file_names_configure(home: AwsHome) -> None:
    home.config_file.unlink()

    result = doctor(home)

    assert result.returncode == 1
    assert line(result.stdout, "FAIL     config file") == (
        f"FAIL     config file {home.config_file} (from AWS_CONFIG_FILE): not found\n"
        "         fix: put your access keys in a profile first (`aws configure --profile BASE`), then "
        "create it with `mfa-process configure --profile BASE --mfa-serial ARN`, "
        "or point AWS_CONFIG_FILE at yours"
    )
    assert result.stdout.splitlines()[-1].endswith(
        "first fix: put your access keys in a profile first (`aws configure --profile BASE`), then "
        "create it with `mfa-process configure --profile BASE --mfa-serial ARN`, "
        "or point AWS_CONFIG_FILE at yours"
    )


def test_a_broken_ini_line_is_named_by_its_number_only(home: AwsHome) -> None:
    home.write_credentials(f"[base]\naws_access_key_id = {home.user.access_key_id}\n{home.user.secret_access_key}\n")

    result = doctor(home)

    assert result.returncode == 1
    assert line(result.stdout, "FAIL     credentials file") == (
        f"FAIL     credentials file: cannot parse {home.credentials_file}: line 3 is not `key = value` or a [section]\n"
        "         fix: fix the file's INI syntax"
    )
    assert "profile base" not in result.stdout  # nothing is said of profiles the files cannot give


def test_missing_keys_name_add_and_the_credentials_file(home: AwsHome) -> None:
    home.write_credentials("")

    result = doctor(home, "--profile", "base")

    assert result.returncode == 1
    assert line(result.stdout, "FAIL     profile base: keys") == (
        f"FAIL     profile base: keys: none in {home.credentials_file}, the config file or the keyring\n"
        "         fix: store them in the OS keyring with `mfa-process add --profile base`, or add aws_access_key_id "
        f"and aws_secret_access_key to [base] in {home.credentials_file}"
    )


def test_a_bad_mfa_serial_is_said_as_a_run_says_it(home: AwsHome) -> None:
    home.write_config(home.config_file.read_text().replace(home.user.mfa_serial, "alice"))

    result = doctor(home)

    assert result.returncode == 1
    assert line(result.stdout, "FAIL     profile base: mfa_serial") == (
        "FAIL     profile base: mfa_serial: mfa_serial 'alice' is not an MFA device ARN "
        "(arn:aws:iam::ACCOUNT:mfa/NAME) or hardware serial\n"
        "         fix: copy it from IAM > Users > Security credentials"
    )
    run_says = home.run(["--profile", "base", "--token-code", home.code()])
    assert "mfa_serial 'alice' is not an MFA device ARN" in run_says.stderr  # the same words


def test_a_line_naming_a_missing_profile_names_the_profiles_there_are(home: AwsHome) -> None:
    home.write_config(home.config_file.read_text().replace("--profile base", "--profile bsae"))

    result = doctor(home)

    assert result.returncode == 1
    assert line(result.stdout, "FAIL     profile mfa: credential_process") == (
        "FAIL     profile mfa: credential_process: runs mfa-process for profile 'bsae', which is in neither AWS file\n"
        "         fix: name a base profile that exists in --profile, or create that one "
        "(mfa-process configure --profile bsae --mfa-serial ARN)"
    )


def test_a_line_running_an_older_mfa_process_names_this_one(home: AwsHome) -> None:
    old = fake_program(home.root / "old", 'echo "mfa-process 0.0.1"\n')
    home.write_config(home.config_file.read_text().replace("= mfa-process", f"= {old}"))

    result = doctor(home)

    assert result.returncode == 1
    assert line(result.stdout, "FAIL     profile mfa: credential_process") == (
        f"FAIL     profile mfa: credential_process: runs mfa-process 0.0.1 ({old}), "
        f"not this one ({__version__} at {THIS})\n"
        "         fix: credential_process = mfa-process --profile base"
    )


def test_a_line_running_another_program_says_what_it_printed(home: AwsHome) -> None:
    other = fake_program(home.root / "other", 'echo "usage: some other tool"; exit 2\n')
    home.write_config(home.config_file.read_text().replace("= mfa-process", f"= {other}"))

    result = doctor(home)

    assert result.returncode == 1
    assert line(result.stdout, "FAIL     profile mfa: credential_process") == (
        f"FAIL     profile mfa: credential_process: runs {other}, which is not mfa-process "
        "(asked for --version, it printed 'usage: some other tool')\n"
        "         fix: credential_process = mfa-process --profile base"
    )


def test_a_copy_of_the_same_version_is_a_warning(home: AwsHome) -> None:
    copy = fake_program(home.root / "copy", f'echo "mfa-process {__version__}"\n')
    home.write_config(home.config_file.read_text().replace("= mfa-process", f"= {copy}"))

    result = doctor(home, "--profile", "base")

    assert result.returncode == 0
    assert line(result.stdout, "warning  profile mfa: credential_process") == (
        f"warning  profile mfa: credential_process: runs another copy of mfa-process {__version__} ({copy}); "
        f"this one is {THIS}\n"
        "         fix: to have it follow this one's upgrades: credential_process = mfa-process --profile base"
    )


def test_a_program_that_never_answers_is_killed_after_5_seconds(home: AwsHome) -> None:
    pid_file = home.root / "hanging.pid"
    hanging = fake_program(home.root / "hanging", f"echo $$ > {pid_file}\nexec sleep 60\n")
    home.write_config(home.config_file.read_text().replace("= mfa-process", f"= {hanging}"))
    started = time.monotonic()

    result = doctor(home, "--offline")

    assert 5 <= time.monotonic() - started < 30
    assert result.returncode == 1
    assert "which is not mfa-process (asked for --version, it did not answer within 5 s)" in result.stdout
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid_file.read_text()), 0)


def test_a_program_not_on_the_path_of_the_caller_names_this_one_by_its_path(home: AwsHome) -> None:
    home.env["PATH"] = "/usr/bin:/bin"  # as an IDE started from the desktop may have it

    result = doctor(home, "--offline", argv=[THIS])

    assert result.returncode == 1
    assert line(result.stdout, "FAIL     profile mfa: credential_process") == (
        "FAIL     profile mfa: credential_process: runs mfa-process, which is not on PATH (PATH: /usr/bin:/bin)\n"
        f"         fix: name this one by its path: credential_process = {THIS} --profile base"
    )


def test_run_as_python_m_the_line_is_compared_by_version(home: AwsHome) -> None:
    result = doctor(home, "--offline", argv=[sys.executable, "-m", "mfa_process"])

    assert result.returncode == 0, result.stdout
    assert line(result.stdout, "ok       profile mfa: credential_process") == (
        f"ok       profile mfa: credential_process: runs mfa-process {__version__} ({BIN_DIR}/mfa-process) "
        "for profile 'base'"
    )


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX modes")
def test_a_cache_folder_others_can_write_names_chmod_700(home: AwsHome) -> None:
    assert home.run(["login", "--profile", "base", "--token-code", home.code()]).returncode == 0
    home.cache_dir.chmod(0o770)

    result = doctor(home, "--offline")

    assert result.returncode == 1
    assert line(result.stdout, "FAIL     cache folder") == (
        f"FAIL     cache folder: the cache folder {home.cache_dir} can be written by other users (mode 0770), "
        "so its sessions are not served\n"
        f"         fix: make it private: chmod 700 {home.cache_dir}"
    )
    home.cache_dir.chmod(0o700)
    assert "ok       cache folder" in doctor(home, "--offline").stdout


# --- the clock ----------------------------------------------------------------------------------------


def test_a_clock_10_minutes_ahead_is_broken(home: AwsHome, clock_shift) -> None:
    home.env = clock_shift(home.env, 600)

    result = doctor(home)

    assert result.returncode == 1
    assert line(result.stdout, "FAIL     clock") == (
        f"FAIL     clock: 10 min ahead of STS's ({home.sts.url}): sessions are judged by this clock, and AWS "
        "refuses requests signed 15 minutes off\n"
        "         fix: set this machine's clock right, and keep it so with network time (timedatectl set-ntp true on "
        "Linux)"
    )


def test_a_clock_10_minutes_behind_is_broken_too(home: AwsHome, clock_shift) -> None:
    home.env = clock_shift(home.env, -600)

    result = doctor(home)

    assert result.returncode == 1
    assert f"FAIL     clock: 10 min behind STS's ({home.sts.url})" in result.stdout


def test_a_clock_90_seconds_off_is_a_warning(home: AwsHome, clock_shift) -> None:
    home.env = clock_shift(home.env, 90)

    result = doctor(home)

    assert result.returncode == 0
    assert line(result.stdout, "warning  clock").startswith("warning  clock: 9")  # 90 s, give or take a second
    assert "s ahead of STS's" in line(result.stdout, "warning  clock")


def test_an_sts_that_does_not_answer_is_a_warning_not_a_failure(home: AwsHome) -> None:
    home.env["AWS_ENDPOINT_URL_STS"] = "http://127.0.0.1:9"  # discard: nothing listens

    result = doctor(home)

    assert result.returncode == 0
    assert line(result.stdout, "warning  clock") == (
        "warning  clock: not checked: STS at http://127.0.0.1:9 gave no time (could not connect)\n"
        "         fix: nothing to do offline (--offline skips this); else check the network, any proxy and "
        "AWS_ENDPOINT_URL_STS"
    )


# --- keys in the keyring ------------------------------------------------------------------------------

BACKEND = """
import json, os
import keyring.backend


class FileBacked(keyring.backend.KeyringBackend):
    priority = 1

    def get_password(self, service, username):
        try:
            with open(os.environ["DOCTOR_KEYRING"]) as f:
                return json.load(f).get(service + "/" + username)
        except FileNotFoundError:
            return None

    def set_password(self, service, username, password):
        raise RuntimeError("read only")

    def delete_password(self, service, username):
        raise RuntimeError("read only")
"""


def use_keyring(aws: AwsHome, entries: dict) -> None:
    """A keyring backend of this test's, allowed as a user allows a password manager's plugin."""
    folder = aws.root / "backend"
    folder.mkdir(exist_ok=True)
    (folder / "doctor_keyring.py").write_text(BACKEND)
    (aws.root / "keyring.json").write_text(json.dumps(entries))
    aws.env.update(
        PYTHONPATH=str(folder),
        PYTHON_KEYRING_BACKEND="doctor_keyring.FileBacked",
        MFA_PROCESS_KEYRING_BACKENDS="doctor_keyring.FileBacked",
        DOCTOR_KEYRING=str(aws.root / "keyring.json"),
    )


def keyring_config(aws: AwsHome) -> str:
    return aws.config_file.read_text().replace(
        "[profile base]\n", f"[profile base]\nmfa_key_store = keyring\nmfa_key_id = {aws.user.access_key_id}\n"
    )


def test_keys_in_the_keyring_are_found_and_shown_masked(home: AwsHome) -> None:
    user = home.user
    entry = {"Version": 1, "AccessKeyId": user.access_key_id, "SecretAccessKey": user.secret_access_key}
    use_keyring(home, {"mfa-process/base": json.dumps(entry)})
    home.write_config(keyring_config(home))
    home.write_credentials("")

    result = doctor(home, "--offline")

    assert result.returncode == 0, result.stdout
    assert line(result.stdout, "ok       profile base: keys") == (
        "ok       profile base: keys: in the keyring (service mfa-process, account base) (AKIA...MPLE)"
    )


def test_keys_in_the_keyring_and_the_file_is_the_runs_own_error(home: AwsHome) -> None:
    use_keyring(home, {})
    home.write_config(keyring_config(home))

    result = doctor(home, "--offline")

    assert result.returncode == 1
    assert line(result.stdout, "FAIL     profile base: keys") == (
        f"FAIL     profile base: keys: profile 'base' has keys in {home.credentials_file} and mfa_key_store = keyring: "
        "mfa-process would use the keyring's, other tools the file's\n"
        "         fix: Move them into the keyring with `mfa-process add --profile base --from-credentials-file`, "
        "or remove mfa_key_store to use the file's"
    )
    assert "has keys in" in home.run(["--profile", "base", "--token-code", home.code()]).stderr


def test_a_keyring_without_the_entry_names_add(home: AwsHome) -> None:
    use_keyring(home, {})
    home.write_config(keyring_config(home))
    home.write_credentials("")

    result = doctor(home, "--offline")

    assert result.returncode == 1
    assert line(result.stdout, "FAIL     profile base: keys") == (
        "FAIL     profile base: keys: the keyring (service mfa-process, account base) has no entry\n"
        "         fix: store them with `mfa-process add --profile base`"
    )


# --- the command ------------------------------------------------------------------------------------


def test_help_names_every_option(home: AwsHome) -> None:
    result = home.run(["doctor", "--help"])

    assert result.returncode == 0
    assert "--profile NAME" in result.stdout and "--offline" in result.stdout
    assert "mfa-process doctor --profile base" in result.stdout
