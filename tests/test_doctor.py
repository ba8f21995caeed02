"""`mfa-process doctor`'s checks one by one, in this process, on files under tmp_path: the AWS files,
the base profile's keys (files and keyring), mfa_serial, settings, the credential_process lines, the
cache folder, the clock against a local HTTP server's Date header, the code sources; then the order
of the whole report and how the command prints it. Running other programs (`--version` of what a
credential_process line names), the STS double and moved clocks: tests/test_doctor_e2e.py."""

from __future__ import annotations

import email.utils
import io
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import keyring
import keyring.backend
import pytest

from mfa_process.cli import doctor_command
from mfa_process.doctor.cache_folder import check_cache_folder
from mfa_process.doctor.clock import (
    FAIL_SKEW,
    WARN_SKEW,
    NoStsTime,
    StsTime,
    ask_sts_time,
    check_clock,
    judge,
    sts_client,
)
from mfa_process.doctor.code_sources import Here, check_code_source, check_here
from mfa_process.doctor.diagnose import diagnose
from mfa_process.doctor.files import check_files
from mfa_process.doctor.keys import mask
from mfa_process.doctor.plugin_lines import ThisProgram, check_plugin_line, plugin_lines
from mfa_process.doctor.profiles import BaseProfile, base_profile_names, check_base_profile, region_partition
from mfa_process.doctor.report import FAIL, OK, WARNING, Finding, Report, split_fix
from mfa_process.keystore.keyring_store import SERVICE
from mfa_process.session.cache import SessionCache
from mfa_process.session.credentials import Credentials
from mfa_process.session.session_key import SessionKey

KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
SERIAL = "arn:aws:iam::123456789012:mfa/alice"
BASE = f"[profile base]\nmfa_serial = {SERIAL}\n"
PLUGIN = "[profile mfa]\ncredential_process = mfa-process --profile base\n"
KEYS = f"[base]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = {SECRET}\n"


class Home:
    """AWS files, a cache folder and a bin folder under tmp_path, and the environment that names them."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.config = root / ".aws" / "config"
        self.credentials = root / ".aws" / "credentials"
        self.bin = root / "bin"
        self.cache = root / ".cache" / "mfa-process"
        self.config.parent.mkdir()
        self.bin.mkdir()
        self.env: Dict[str, str] = {
            "HOME": str(root),
            "AWS_CONFIG_FILE": str(self.config),
            "AWS_SHARED_CREDENTIALS_FILE": str(self.credentials),
            "XDG_CACHE_HOME": str(root / ".cache"),
            "PATH": str(self.bin),
        }

    def write(self, config: Optional[str] = BASE + PLUGIN, credentials: Optional[str] = KEYS) -> "Home":
        for path, text in ((self.config, config), (self.credentials, credentials)):
            if text is not None:
                path.write_text(text)
                path.chmod(0o600)
        return self

    def program(self, name: str) -> Path:
        """An executable file on this PATH (never run here)."""
        path = self.bin / name
        path.write_text("#!/bin/sh\nexit 99\n")
        path.chmod(0o755)
        return path

    def base(self, name: str = "base") -> List[Finding]:
        files = check_files(self.env)[1]
        return check_base_profile(name, files, self.env)[0]


@pytest.fixture
def home(tmp_path: Path) -> Home:
    return Home(tmp_path)


def statuses(findings: List[Finding]) -> List[str]:
    return [finding.status for finding in findings]


def the(findings: List[Finding], subject: str) -> Finding:
    """The one finding whose text starts with ``subject``."""
    found = [finding for finding in findings if finding.what.startswith(subject)]
    assert len(found) == 1, findings
    return found[0]


# --- the report ---------------------------------------------------------------------------------


def test_a_message_splits_at_its_first_semicolon_outside_parentheses_and_code() -> None:
    assert split_fix("profile 'x' is not in a; check the name") == ("profile 'x' is not in a", "check the name")
    assert split_fix("no keyring (it said a; b); run `x; y` then z") == (
        "no keyring (it said a; b)",
        "run `x; y` then z",
    )
    assert split_fix("keys in both. Move them with `add`") == ("keys in both", "Move them with `add`")
    assert split_fix("nothing to split") == ("nothing to split", "")


def test_a_report_is_broken_by_its_first_failure_and_counts_each_status() -> None:
    report = Report()
    report.add([Finding(OK, "a"), Finding(WARNING, "b", "fix b"), Finding(FAIL, "c", "fix c"), Finding(FAIL, "d", "e")])

    assert report.broken and report.first_failure is not None and report.first_failure.what == "c"
    assert (report.count(OK), report.count(WARNING), report.count(FAIL)) == (1, 1, 2)
    assert not Report().broken


# --- 1. the files -------------------------------------------------------------------------------


def test_both_files_found_and_parsed_say_where_they_were_looked_for(home: Home) -> None:
    findings, files = check_files(home.write().env)

    assert statuses(findings) == [OK, OK]
    assert findings[0].what == f"config file {home.config} (from AWS_CONFIG_FILE): 2 profiles"
    assert findings[1].what == f"credentials file {home.credentials} (from AWS_SHARED_CREDENTIALS_FILE): 1 profile"
    assert files.profiles is not None and sorted(files.profiles) == ["base", "mfa"]


def test_without_the_variables_the_files_are_looked_for_under_home(home: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(home.root))  # what ~ expands to

    findings, _ = check_files({"HOME": str(home.root)})

    assert findings[0].what == f"config file {home.config}: not found"
    assert findings[0].fix.startswith(
        "put your access keys in a profile first (`aws configure --profile BASE`), then "
        "create it with `mfa-process configure --profile BASE --mfa-serial ARN`"
    )


def test_a_missing_config_file_fails_and_a_missing_credentials_file_does_not(home: Home) -> None:
    findings, files = check_files(home.write(config=None, credentials=None).env)

    assert statuses(findings) == [FAIL, OK]
    assert "or point AWS_CONFIG_FILE at yours" in findings[0].fix
    assert "none (fine when the keys are in the keyring or the config file)" in findings[1].what
    assert files.profiles == {}


def test_a_broken_line_is_named_by_its_number_and_never_quoted(home: Home) -> None:
    home.write(credentials=f"[base]\naws_access_key_id = {KEY_ID}\n{SECRET}\n")

    findings, files = check_files(home.env)

    broken = findings[1]
    assert broken.status == FAIL
    assert (
        broken.what == f"credentials file: cannot parse {home.credentials}: line 3 is not `key = value` or a [section]"
    )
    assert broken.fix == "fix the file's INI syntax"
    assert SECRET not in broken.what + broken.fix and KEY_ID not in broken.what + broken.fix
    assert files.profiles is None  # nothing can be said about any profile
    assert findings[0].status == OK  # the other file is judged alone


def test_a_folder_where_a_file_belongs_is_not_a_file(home: Home) -> None:
    home.write(config=None)
    home.config.mkdir()

    findings, _ = check_files(home.env)

    assert findings[0].status == FAIL and findings[0].what.endswith(": not a file")
    assert findings[0].fix == "put the file there, or point AWS_CONFIG_FILE at it"


def test_a_credentials_file_others_can_read_is_a_warning_naming_chmod(home: Home) -> None:
    home.write()
    home.credentials.chmod(0o644)

    findings, _ = check_files(home.env)

    assert statuses(findings) == [OK, OK, WARNING]
    assert findings[2].what.endswith("other users can read it (mode 0644)")
    assert findings[2].fix == f"make it private: chmod 600 {home.credentials}"


# --- 2. the base profiles and their keys ----------------------------------------------------------


def test_the_base_profiles_are_those_with_an_mfa_serial_and_those_lines_name() -> None:
    profiles = {
        "base": ({"mfa_serial": SERIAL}, {}),
        "mfa": ({"credential_process": "mfa-process --profile other"}, {}),
        "other": ({}, {"aws_access_key_id": KEY_ID}),
        "admin": ({"role_arn": "arn:aws:iam::123456789012:role/admin", "mfa_serial": SERIAL}, {}),
        "stored": ({"mfa_key_store": "keyring"}, {}),
        "plain": ({}, {}),
    }

    assert base_profile_names(profiles, None, ["other", "gone"]) == ["base", "stored", "other"]
    assert base_profile_names(profiles, "plain", ["other"]) == ["plain"]


def test_keys_in_the_credentials_file_are_shown_by_a_masked_id(home: Home) -> None:
    findings = home.write().base()

    keys = the(findings, "profile base: keys")
    assert keys.status == OK
    assert keys.what == f"profile base: keys: in {home.credentials} (AKIA...MPLE)"
    assert KEY_ID not in " ".join(finding.what + finding.fix for finding in findings)
    assert mask(KEY_ID) == "AKIA...MPLE"


def test_no_keys_anywhere_names_add_and_the_credentials_file(home: Home) -> None:
    keys = the(home.write(credentials="").base(), "profile base: keys")

    assert keys.status == FAIL
    assert keys.what == f"profile base: keys: none in {home.credentials}, the config file or the keyring"
    assert keys.fix == (
        "store them in the OS keyring with `mfa-process add --profile base`, or add aws_access_key_id and "
        f"aws_secret_access_key to [base] in {home.credentials}"
    )


def test_half_a_key_names_the_missing_part(home: Home) -> None:
    keys = the(home.write(credentials=f"[base]\naws_access_key_id = {KEY_ID}\n").base(), "profile base: keys")

    assert keys.status == FAIL
    assert keys.what.endswith(f"[base] in {home.credentials} has no aws_secret_access_key")
    assert "mfa-process add --profile base" in keys.fix


def test_temporary_keys_cannot_be_base_keys(home: Home) -> None:
    home.write(credentials=KEYS.replace("AKIA", "ASIA") + "aws_session_token = FQoGZXIvYXdzEXAMPLETOKEN\n")

    keys = the(home.base(), "profile base: keys")

    assert keys.status == FAIL and "holds temporary keys (ASIA...MPLE)" in keys.what
    assert keys.fix.startswith("GetSessionToken needs an IAM user's long-term keys")


def test_a_role_profile_as_base_gets_temporary_credentials(home: Home) -> None:
    home.write(config=BASE + "role_arn = arn:aws:iam::123456789012:role/admin\nsource_profile = other\n")

    keys = the(home.base(), "profile base: keys")

    assert keys.status == FAIL and "gets temporary credentials (role_arn)" in keys.what


def test_a_base_profile_whose_credential_process_is_mfa_process_says_it_recurses(home: Home) -> None:
    home.write(config=BASE + "credential_process = mfa-process --profile other\n", credentials="")

    keys = the(home.base(), "profile base: keys")

    assert keys.status == FAIL and "gets its base keys through mfa-process itself" in keys.what


class MemoryKeyring(keyring.backend.KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.items: Dict[tuple, str] = {}

    def get_password(self, service: str, username: str) -> Optional[str]:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        del self.items[(service, username)]


@pytest.fixture
def memory_keyring(home: Home) -> Iterator[MemoryKeyring]:
    """keyring's backend for this test, allowed as a user allows their password manager's."""
    previous = keyring.get_keyring()
    memory = MemoryKeyring()
    keyring.set_keyring(memory)
    home.env["MFA_PROCESS_KEYRING_BACKENDS"] = f"{MemoryKeyring.__module__}.{MemoryKeyring.__qualname__}"
    yield memory
    keyring.set_keyring(previous)


KEYRING_BASE = BASE + f"mfa_key_store = keyring\nmfa_key_id = {KEY_ID}\n"


def test_keys_in_the_keyring_are_read_and_shown_masked(home: Home, memory_keyring: MemoryKeyring) -> None:
    entry = {"Version": 1, "AccessKeyId": KEY_ID, "SecretAccessKey": SECRET}
    memory_keyring.items[(SERVICE, "base")] = json.dumps(entry)

    findings = home.write(config=KEYRING_BASE + PLUGIN, credentials="").base()

    keys = the(findings, "profile base: keys")
    assert keys.status == OK
    assert keys.what == "profile base: keys: in the keyring (service mfa-process, account base) (AKIA...MPLE)"
    assert SECRET not in " ".join(finding.what + finding.fix for finding in findings)


def test_a_keyring_without_the_entry_names_add(home: Home, memory_keyring: MemoryKeyring) -> None:
    keys = the(home.write(config=KEYRING_BASE, credentials="").base(), "profile base: keys")

    assert keys.status == FAIL
    assert keys.what == "profile base: keys: the keyring (service mfa-process, account base) has no entry"
    assert keys.fix == "store them with `mfa-process add --profile base`"


def test_a_keyring_entry_of_another_program_is_refused_as_a_run_refuses_it(
    home: Home, memory_keyring: MemoryKeyring
) -> None:
    memory_keyring.items[(SERVICE, "base")] = SECRET

    keys = the(home.write(config=KEYRING_BASE, credentials="").base(), "profile base: keys")

    assert keys.status == FAIL and "was not written by mfa-process" in keys.what
    assert keys.fix == "replace it with `mfa-process add --profile base`"
    assert SECRET not in keys.what + keys.fix


def test_keys_in_the_file_and_the_keyring_is_the_settings_own_error(home: Home) -> None:
    keys = the(home.write(config=KEYRING_BASE).base(), "profile base: keys")

    assert keys.status == FAIL
    assert keys.what.startswith(f"profile base: keys: profile 'base' has keys in {home.credentials} and mfa_key_store")
    assert keys.fix.startswith(
        "Move them into the keyring with `mfa-process add --profile base --from-credentials-file`"
    )


def test_an_unknown_key_store_is_said_once_by_the_keys(home: Home) -> None:
    findings = home.write(config=BASE + "mfa_key_store = vault\n", credentials="").base()

    keys = the(findings, "profile base: keys")
    assert keys.status == FAIL and "mfa_key_store 'vault' in profile 'base' is not 'keyring'" in keys.what
    assert statuses(findings).count(FAIL) == 1


def test_a_profile_that_is_in_neither_file_is_said_as_a_run_says_it(home: Home) -> None:
    findings = home.write().base("nosuch")

    assert len(findings) == 1 and findings[0].status == FAIL
    assert findings[0].what == f"profile 'nosuch' is not in {home.config} or {home.credentials}"
    assert findings[0].fix.startswith("check the --profile name")


# --- 3. mfa_serial, and the other settings ---------------------------------------------------------


def test_a_good_serial_shows_its_account_and_partition(home: Home) -> None:
    serial = the(home.write().base(), "profile base: mfa_serial")

    assert serial.status == OK
    assert serial.what == f"profile base: mfa_serial: {SERIAL} (account 123456789012, partition aws)"


def test_no_serial_names_the_line_to_add_and_where(home: Home) -> None:
    findings = home.write(config="[profile base]\n").base()

    serial = the(findings, "profile base: mfa_serial")
    assert serial.status == FAIL and serial.what == "profile base: mfa_serial: none"
    assert serial.fix.startswith(f"add `mfa_serial = arn:aws:iam::ACCOUNT:mfa/NAME` to [profile base] in {home.config}")
    assert statuses(findings).count(FAIL) == 1  # the settings' own complaint is the same one


@pytest.mark.parametrize(
    ("serial", "said"),
    [
        ("alice", "is not an MFA device ARN"),
        ("arn:aws:iam::123456789012:user/alice", "is not an IAM MFA device ARN"),
        ("arn:aws:iam::123456789012:u2f/root/key", "is a FIDO security key"),
    ],
)
def test_a_bad_serial_is_said_as_a_run_says_it_with_where_to_copy_one(home: Home, serial: str, said: str) -> None:
    found = the(home.write(config=f"[profile base]\nmfa_serial = {serial}\n").base(), "profile base: mfa_serial")

    assert found.status == FAIL and said in found.what
    assert found.fix


def test_a_serial_of_another_partition_than_the_region_names_a_region_of_its_own(home: Home) -> None:
    china = "arn:aws-cn:iam::123456789012:mfa/alice"
    home.write(config=f"[profile base]\nmfa_serial = {china}\nregion = us-east-1\n")

    found = the(home.base(), "profile base: mfa_serial")

    assert found.status == FAIL
    assert "is a device of partition aws-cn, but region in [profile base] is us-east-1, in aws" in found.what
    assert found.fix == "set region in [profile base] to a region of aws-cn, such as cn-north-1"
    home.env["AWS_DEFAULT_REGION"] = "cn-northwest-1"
    assert the(home.base(), "profile base: mfa_serial").status == OK  # the variable comes first, as in botocore


def test_regions_fall_in_their_partitions() -> None:
    assert [region_partition(r) for r in ("eu-west-1", "cn-north-1", "us-gov-west-1", "us-isob-east-1")] == [
        "aws",
        "aws-cn",
        "aws-us-gov",
        "aws-iso-b",
    ]


def test_good_settings_say_what_a_run_would_do(home: Home) -> None:
    home.write(config=BASE + "duration_seconds = 3600\nmfa_max_age = 90m\nmfa_prompt = terminal\n")

    found = the(home.base(), "profile base: settings")

    assert found.status == OK
    assert found.what == "profile base: settings: sessions of 1h, code from terminal, MFA max age 90m"


def test_a_bad_setting_is_the_settings_error_even_with_a_bad_serial(home: Home) -> None:
    home.write(config="[profile base]\nmfa_serial = alice\nduration_seconds = 100\n")

    findings = home.base()

    found = the(findings, "profile base: settings")
    assert found.status == FAIL
    assert "duration 100 s (duration_seconds in profile 'base') is outside" in found.what
    assert statuses(findings).count(FAIL) == 2  # the serial and the duration, each once


# --- 4. the credential_process lines ----------------------------------------------------------------


def this_program(home: Home) -> ThisProgram:
    return ThisProgram(os.path.realpath(home.program("mfa-process")), "mfa-process")


def line_finding(home: Home, config: str, this: Optional[ThisProgram] = None, credentials: str = KEYS) -> Finding:
    home.write(config=config, credentials=credentials)
    profiles = check_files(home.env)[1].profiles
    assert profiles is not None
    lines = plugin_lines(profiles)
    assert len(lines) == 1
    return check_plugin_line(lines[0], profiles, this or this_program(home), home.env)


def test_a_line_that_finds_this_program_on_path_is_ok(home: Home) -> None:
    found = line_finding(home, BASE + PLUGIN)

    assert found.status == OK
    assert (
        found.what
        == f"profile mfa: credential_process: runs this mfa-process ({home.bin}/mfa-process) for profile 'base'"
    )


def test_a_link_to_this_program_is_this_program(home: Home) -> None:
    this = this_program(home)
    other = home.root / "elsewhere"
    other.mkdir()
    (other / "mfa-process").symlink_to(home.bin / "mfa-process")

    found = line_finding(home, BASE + f"[profile mfa]\ncredential_process = {other}/mfa-process --profile base\n", this)

    assert found.status == OK


def test_a_program_not_on_path_names_this_one_by_its_path(home: Home) -> None:
    this = ThisProgram("/opt/venv/bin/mfa-process", "/opt/venv/bin/mfa-process")

    found = line_finding(home, BASE + PLUGIN, this)

    assert found.status == FAIL
    assert found.what == f"profile mfa: credential_process: runs mfa-process, which is not on PATH (PATH: {home.bin})"
    assert found.fix == "name this one by its path: credential_process = /opt/venv/bin/mfa-process --profile base"


def test_a_path_that_is_not_there_is_said(home: Home) -> None:
    found = line_finding(home, BASE + "[profile mfa]\ncredential_process = /nowhere/mfa-process --profile base\n")

    assert found.status == FAIL and "runs /nowhere/mfa-process, which does not exist or cannot be run" in found.what


@pytest.mark.parametrize(
    ("line", "said", "fix"),
    [
        ("mfa-process", "runs mfa-process with no --profile", "name the base profile: credential_process = "),
        ("mfa-process --profile nosuch", "for profile 'nosuch', which is in neither AWS file", "name a base profile"),
        ("mfa-process --profile=mfa", "runs mfa-process for its own profile", "name the profile that holds"),
        ("mfa-process --profile 'base", "its quotes do not pair up", "fix its quoting"),
    ],
)
def test_a_line_that_names_no_usable_base_profile_says_which(home: Home, line: str, said: str, fix: str) -> None:
    found = line_finding(home, BASE + f"[profile mfa]\ncredential_process = {line}\n")

    assert found.status == FAIL and said in found.what and found.fix.startswith(fix)


def test_a_line_that_never_runs_names_what_sdks_use_first(home: Home) -> None:
    found = line_finding(home, BASE + PLUGIN, credentials=KEYS + f"[mfa]\naws_access_key_id = {KEY_ID}\n")

    assert found.status == FAIL
    assert "never runs: SDKs use the profile's aws_access_key_id (in the credentials file) before it" in found.what
    assert found.fix == "remove aws_access_key_id from [mfa]"


def test_this_program_started_as_its_console_script_is_its_real_path(home: Home) -> None:
    script = home.program("mfa-process")

    this = ThisProgram.started_as(str(script), "/usr/bin/python3")

    assert this.path == os.path.realpath(script)
    assert ThisProgram.started_as("/x/mfa_process/__main__.py", "/usr/bin/python3").command == (
        "/usr/bin/python3 -m mfa_process"
    )


# --- 5. the cache folder ----------------------------------------------------------------------------


def store_session(folder: Path) -> str:
    cache = SessionCache(str(folder))
    credentials = Credentials("ASIASESSION000000001", "session-secret", "session-token", 4_000_000_000, "123456789012")
    return cache.store(SessionKey("base", KEY_ID, SERIAL, 43200), credentials, issued_at=time.time())


def test_a_cache_folder_not_made_yet_is_fine(home: Home) -> None:
    findings = check_cache_folder(home.env)

    assert statuses(findings) == [OK]
    assert findings[0].what == f"cache folder {home.cache}: not made yet (the first session makes it, private)"


def test_a_private_cache_folder_counts_its_sessions(home: Home) -> None:
    store_session(home.cache)

    findings = check_cache_folder(home.env)

    assert statuses(findings) == [OK] and findings[0].what == f"cache folder {home.cache}: private, 1 session"


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX modes")
def test_a_cache_folder_others_can_write_fails_with_chmod(home: Home) -> None:
    store_session(home.cache)
    home.cache.chmod(0o775)

    findings = check_cache_folder(home.env)

    assert statuses(findings) == [FAIL]
    assert findings[0].what == (
        f"cache folder: the cache folder {home.cache} can be written by other users (mode 0775), "
        "so its sessions are not served"
    )
    assert findings[0].fix == f"make it private: chmod 700 {home.cache}"


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX modes and links")
def test_a_link_to_a_folder_others_can_write_fails_naming_the_link(home: Home) -> None:
    shared = home.root / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    home.cache.parent.mkdir()
    home.cache.symlink_to(shared)

    findings = check_cache_folder(home.env)

    assert statuses(findings) == [FAIL] and "is a symbolic link to a folder that can be written by" in findings[0].what
    assert findings[0].fix == f"remove the link (rm {home.cache}) and mfa-process creates a private folder"


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX modes")
def test_a_session_file_others_can_read_is_a_warning_naming_rm(home: Home) -> None:
    path = store_session(home.cache)
    os.chmod(path, 0o644)

    findings = check_cache_folder(home.env)

    assert statuses(findings) == [OK, WARNING]
    assert findings[1].what.endswith(
        f"the cache file {path} can be read or written by other users (mode 0644), so it is not served"
    )
    assert findings[1].fix == f"remove it (rm {path})"


def test_a_damaged_session_file_is_a_warning_naming_logout_all(home: Home) -> None:
    store_session(home.cache)
    (home.cache / f"base.{'0' * 24}.json").write_text("{ cut off")
    os.chmod(home.cache / f"base.{'0' * 24}.json", 0o600)

    findings = check_cache_folder(home.env)

    assert statuses(findings) == [OK, WARNING]
    assert findings[1].fix == "mfa-process logout --all removes them with every session"


def test_a_file_where_the_cache_folder_belongs_fails(home: Home) -> None:
    home.cache.parent.mkdir()
    home.cache.write_text("")

    findings = check_cache_folder(home.env)

    assert (
        statuses(findings) == [FAIL] and findings[0].fix == f"remove it (rm {home.cache}); mfa-process makes the folder"
    )


# --- 6. the clock -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("skew", "status", "said"),
    [
        (0.5, OK, "clock: within 1 s of STS's (https://sts)"),
        (-WARN_SKEW, OK, "clock: within 60 s of STS's (https://sts)"),
        (75, WARNING, "clock: 75 s ahead of STS's (https://sts)"),
        (-FAIL_SKEW, WARNING, "clock: 5 min behind STS's (https://sts)"),
        (600, FAIL, "clock: 10 min ahead of STS's (https://sts): sessions are judged by this clock"),
        (-3600, FAIL, "clock: 60 min behind STS's (https://sts): sessions are judged by this clock"),
    ],
)
def test_a_skew_is_judged_by_its_size_in_either_direction(skew: float, status: str, said: str) -> None:
    found = judge(StsTime("https://sts", server=1_000_000.0, local=1_000_000.5 + skew))

    assert found.status == status and found.what.startswith(said)
    assert (found.fix != "") == (status != OK)


class DateServer:
    """A loopback HTTP server answering every request as STS answers an unsigned one (403), with a
    Date header ``offset`` seconds from now (or none), in a thread stopped by ``close``."""

    def __init__(self, offset: float = 0.0, date: bool = True) -> None:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                server.requests.append({"path": self.path, "authorization": self.headers.get("Authorization")})
                body = b"<ErrorResponse><Error><Code>MissingAuthenticationToken</Code></Error></ErrorResponse>"
                self.send_response_only(403)
                if date:
                    self.send_header("Date", email.utils.formatdate(time.time() + offset, usegmt=True))
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        self.requests: List[dict] = []
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


@pytest.fixture
def botocore_env(home: Home, monkeypatch: pytest.MonkeyPatch) -> Home:
    """botocore reads os.environ: this test's files there, and no variable of the machine's."""
    for name in list(os.environ):
        if name.startswith("AWS_") or name.lower().endswith("_proxy"):
            monkeypatch.delenv(name)
    for name, value in home.env.items():
        if name != "PATH":
            monkeypatch.setenv(name, value)
    return home


@pytest.fixture
def date_server() -> Iterator[DateServer]:
    server = DateServer(offset=600)
    yield server
    server.close()


def test_the_clock_is_read_from_an_unsigned_answer_of_the_endpoint_the_variable_names(
    botocore_env: Home, date_server: DateServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", date_server.url)

    findings = check_clock([("base", "us-east-1")])

    assert statuses(findings) == [FAIL]
    assert findings[0].what.startswith(f"clock: 10 min behind STS's ({date_server.url})")
    assert date_server.requests == [{"path": "/", "authorization": None}]  # nothing signed, nothing looked up


def test_the_profiles_endpoint_url_is_honoured(botocore_env: Home, date_server: DateServer) -> None:
    botocore_env.write(config=BASE + f"endpoint_url = {date_server.url}\n")

    answer = ask_sts_time(sts_client("base", "us-east-1"))

    assert answer.endpoint == date_server.url and 595 < -answer.skew < 605


def test_the_endpoint_follows_the_profiles_region_else_the_devices_partition(botocore_env: Home) -> None:
    botocore_env.write(config=BASE + "[profile eu]\nregion = eu-west-1\n")

    assert sts_client("base", "cn-north-1").meta.endpoint_url == "https://sts.cn-north-1.amazonaws.com.cn"
    assert sts_client("eu", "us-east-1").meta.endpoint_url == "https://sts.eu-west-1.amazonaws.com"


def test_an_answer_without_a_date_is_no_verdict(botocore_env: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    server = DateServer(date=False)
    try:
        monkeypatch.setenv("AWS_ENDPOINT_URL_STS", server.url)
        with pytest.raises(NoStsTime, match="its answer has no Date header"):
            ask_sts_time(sts_client(None, "us-east-1"))
    finally:
        server.close()


def test_no_answer_is_a_warning_that_the_clock_was_not_checked(
    botocore_env: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = DateServer()
    url = server.url
    server.close()  # nothing listens there now
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", url)

    findings = check_clock([("base", "us-east-1")])

    assert statuses(findings) == [WARNING]
    assert findings[0].what == f"clock: not checked: STS at {url} gave no time (could not connect)"
    assert findings[0].fix.startswith("nothing to do offline (--offline skips this)")


def test_profiles_with_one_endpoint_are_asked_once(botocore_env: Home, date_server: DateServer, monkeypatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", date_server.url)
    botocore_env.write(config=BASE + "[profile other]\nmfa_serial = GAHT12345678\n")

    findings = check_clock([("base", "us-east-1"), ("other", "us-east-1")])

    assert len(findings) == 1 and len(date_server.requests) == 1


# --- 7. the code sources --------------------------------------------------------------------------------


def base_profile(home: Home, config: str) -> BaseProfile:
    home.write(config=config)
    return check_base_profile("base", check_files(home.env)[1], home.env)[1]


def test_the_sources_here_are_listed_with_why_each_cannot_ask(home: Home) -> None:
    home.program("ykman")
    here = Here(home.env, lambda: False, platform="linux")

    assert (
        check_here(here).what == "code sources here: terminal: no, ykman: yes, zenity: no display, kdialog: no display"
    )


def test_a_display_makes_zenity_available(home: Home) -> None:
    home.program("zenity")
    here = Here({**home.env, "DISPLAY": ":0"}, lambda: False, platform="linux")

    assert "zenity: yes" in check_here(here).what


def test_auto_asks_the_terminal_first_and_says_what_runs_without_one(home: Home) -> None:
    home.program("zenity")
    base = base_profile(home, BASE)

    on_terminal = check_code_source(base, Here({**home.env, "DISPLAY": ":0"}, lambda: True, platform="linux"))
    terminal_only = check_code_source(base, Here(home.env, lambda: True, platform="linux"))

    assert on_terminal is not None and on_terminal.status == OK
    assert on_terminal.what == (
        "profile base: code source: terminal (mfa_prompt auto: terminal, zenity); "
        "without a terminal (an IDE, CI): zenity"
    )
    assert terminal_only is not None and terminal_only.what.endswith(
        "without a terminal (an IDE, CI): none, so run `mfa-process login --profile base` in a terminal first"
    )


def test_auto_with_nothing_to_ask_on_is_a_warning_naming_login(home: Home) -> None:
    found = check_code_source(base_profile(home, BASE), Here(home.env, lambda: False, platform="linux"))

    assert found is not None and found.status == WARNING
    assert found.what == "profile base: code source: none here (mfa_prompt auto: terminal; terminal: no)"
    assert found.fix == "run `mfa-process login --profile base` in a terminal first, or pass --token-code"


def test_a_named_source_that_is_not_here_fails_naming_how_to_get_it(home: Home) -> None:
    found = check_code_source(base_profile(home, BASE + "mfa_prompt = ykman\n"), Here(home.env, lambda: True))

    assert found is not None and found.status == FAIL
    assert found.what == "profile base: code source: none here (mfa_prompt ykman; ykman: not on PATH)"
    assert found.fix.startswith("install ykman (pip install yubikey-manager)")


def test_the_mfa_process_command_counts_when_its_program_is_on_path(home: Home) -> None:
    config = BASE + "mfa_process = op item get aws --otp\n"
    base = base_profile(home, config)
    missing = check_code_source(base, Here(home.env, lambda: False))
    home.program("op")
    found = check_code_source(base, Here(home.env, lambda: False))

    assert missing is not None and missing.status == WARNING and "command: op not on PATH" in missing.what
    assert found is not None and found.status == OK and found.what.startswith("profile base: code source: command")


def test_mfa_prompt_command_without_a_command_fails(home: Home) -> None:
    found = check_code_source(base_profile(home, BASE + "mfa_prompt = command\n"), Here(home.env, lambda: True))

    assert found is not None and found.status == FAIL
    assert found.fix == "set `mfa_process = <command that prints a code>` in profile 'base'"


# --- the whole report, and how the command prints it --------------------------------------------------


def test_the_links_are_walked_in_the_order_a_run_meets_them(home: Home) -> None:
    home.write()
    this = this_program(home)

    report = diagnose(home.env, offline=True, this=this, has_terminal=lambda: True)

    subjects = [finding.what.split(":")[0] for finding in report.findings]
    assert subjects == [
        f"config file {home.config} (from AWS_CONFIG_FILE)",
        f"credentials file {home.credentials} (from AWS_SHARED_CREDENTIALS_FILE)",
        "profile base",
        "profile base",
        "profile base",
        "profile mfa",
        f"cache folder {home.cache}",
        "code sources here",
        "profile base",
    ]
    assert not report.broken and report.skipped == ["clock (--offline)"]


def test_profile_limits_the_lines_to_those_of_that_base_profile(home: Home) -> None:
    home.write(config=BASE + PLUGIN + "[profile other]\nmfa_serial = GAHT12345678\n")
    this = this_program(home)

    report = diagnose(home.env, profile="other", offline=True, this=this, has_terminal=lambda: True)

    assert not any(finding.what.startswith("profile base") for finding in report.findings)
    assert the(report.findings, "credential_process").what == (
        "credential_process: no profile runs mfa-process for profile other, so SDKs never call it"
    )


def test_broken_files_leave_out_what_depends_on_them(home: Home) -> None:
    home.write(config="key = value before any section\n")

    report = diagnose(home.env, this=this_program(home), has_terminal=lambda: True)

    assert report.first_failure is not None and "line 1 comes before any [section]" in report.first_failure.what
    assert not any(finding.what.startswith(("profile", "clock")) for finding in report.findings)
    assert any(finding.what.startswith("cache folder") for finding in report.findings)


def test_the_command_prints_each_finding_its_fix_and_a_last_line_with_the_first_fix() -> None:
    report = Report()
    report.add([Finding(OK, "one"), Finding(WARNING, "two", "fix two"), Finding(FAIL, "three", "fix three")])
    report.skipped.append("clock (--offline)")

    assert doctor_command.format_report(report) == (
        "ok       one\n"
        "warning  two\n"
        "         fix: fix two\n"
        "FAIL     three\n"
        "         fix: fix three\n"
        "3 checks: 1 problem, 1 warning; not checked: clock (--offline); first fix: fix three\n"
    )


def test_the_command_escapes_what_files_hold_and_redacts_secret_looking_values() -> None:
    report = Report()
    report.add([Finding(FAIL, "profile a\x1b[2Jb: aws_secret_access_key = hunter2", "fix\nFAIL forged")])

    printed = doctor_command.format_report(report)

    assert "\x1b" not in printed and "\\x1b[2J" in printed
    assert "hunter2" not in printed and "[redacted]" in printed
    assert printed.count("\n") == 3  # the finding, its fix, the summary: no forged line


def test_the_command_exits_1_when_something_is_broken_and_0_with_warnings_only(
    botocore_env: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.argv", [str(botocore_env.program("mfa-process"))])
    stdout, stderr = io.StringIO(), io.StringIO()

    healthy = doctor_command.run(["--offline"], botocore_env.write().env, stdout, stderr)
    broken = doctor_command.run(["--offline", "--profile", "nosuch"], botocore_env.env, io.StringIO(), stderr)

    assert healthy == 0, stdout.getvalue()
    assert stdout.getvalue().splitlines()[-1].startswith("9 checks: no problems")
    assert broken == 1 and stderr.getvalue() == ""
