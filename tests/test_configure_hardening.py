"""`configure` is not a way in (issue 8): hostile profile names and values, files other programs
wrote, links and files planted beside ~/.aws/config. Every attack is tried first; the checks are
what botocore (the AWS CLI and every Python SDK) then reads, and what is left on disk."""

from __future__ import annotations

import os
import shlex
import stat
from pathlib import Path
from typing import Dict, Optional

import pytest
from aws_home import AwsHome
from botocore.configloader import build_profile_map, raw_config_parse

from mfa_process.cli import credential_process
from mfa_process.config import configure
from mfa_process.config.configure import BACKUP_SUFFIX, plan, write_with_backup
from mfa_process.errors import ConfigError, ConfigFileError

ARN = "arn:aws:iam::123456789012:mfa/alice"
BASE = f"[profile base]\nregion = eu-central-1\nmfa_serial = {ARN}\n"
INJECTION = "m]\n[default]\ncredential_process = touch /tmp/x\n[profile z"

# Everything that ends a line somewhere (configparser: \r \n; str.splitlines: \v \f \x1c-\x1e
# \x85 \u2028 \u2029), NUL and other controls, header brackets, white space at the ends, argv
# bytes that are not UTF-8 (lone surrogates), and nothing at all.
HOSTILE_NAMES = [
    INJECTION,
    "a\nb",
    "a\rb",
    "a\r\nb",
    "a\x0bb",
    "a\x0cb",
    "a\x1cb",
    "a\x1db",
    "a\x1eb",
    "a\x85b",
    "a\u2028b",
    "a\u2029b",
    "a\x00b",
    "a\x1bb",
    "a\x7fb",
    "[x",
    "x]",
    "a]b",
    " lead",
    "trail ",
    "trail\t",
    "\u3000wide-space",
    "bad\udcffbytes",
    "",
]


def botocore_profiles(path: Path, parse_subsections: bool = True) -> Dict[str, Dict[str, object]]:
    return build_profile_map(raw_config_parse(str(path), parse_subsections))["profiles"]


def run_plan(text: str, base: str = "base", plugin: str = "mfa", mfa_serial: Optional[str] = ARN, **kwargs):
    options = {"command": "mfa-process", "region": None, "force": False, **kwargs}
    return plan(text, base, plugin, mfa_serial, options["command"], options["region"], options["force"])


def one_line_error(result) -> str:
    assert result.returncode == 2, result
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert len(result.stderr.splitlines()) == 1 and result.stderr.endswith("\n"), repr(result.stderr)
    assert result.stderr.startswith("mfa-process: ")
    return result.stderr


# --- 1. names and values that would change the file's structure -----------------------------------


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=ascii)
@pytest.mark.parametrize("option", ["--as", "--profile"])
def test_plan_refuses_a_profile_name_that_could_change_the_ini_structure(option: str, name: str) -> None:
    names = {"plugin": name} if option == "--as" else {"base": name}

    with pytest.raises(ConfigError) as raised:
        run_plan(BASE, **names)

    message = str(raised.value)
    assert raised.value.exit_code == 2
    assert message.startswith(option) and "profile name" in message
    assert len(message.splitlines()) == 1 and message.isprintable()


@pytest.mark.parametrize(
    "name", ["work", "my base", "o'brien", "a=b", "x:y", "#hash", ";semi", "$HOME", "caf\u00e9", "tab\tinside"]
)
def test_plan_accepts_odd_but_harmless_names_and_botocore_finds_them(name: str, tmp_path: Path) -> None:
    text, _ = run_plan("", base=name, plugin=f"{name}-mfa")
    config = tmp_path / "config"
    config.write_text(text, encoding="utf-8")

    seen = botocore_profiles(config)
    assert seen == {
        name: {"mfa_serial": ARN},
        f"{name}-mfa": {"credential_process": f"mfa-process --profile {shlex.quote(name)}"},
    }
    assert shlex.split(seen[f"{name}-mfa"]["credential_process"]) == ["mfa-process", "--profile", name]


@pytest.mark.parametrize("value", ["eu\nwest", "eu\r[default]", "eu\x85west", "eu\u2028west", "eu\x00", "eu\x0c"])
def test_plan_refuses_a_region_that_is_not_one_line(value: str) -> None:
    with pytest.raises(ConfigError, match="region of profile 'base'"):
        run_plan(BASE, region=value)


@pytest.mark.parametrize("value", [f"{ARN}\n[default]", f"{ARN}\r", f"{ARN}\u2028x", f" {ARN}"])
def test_plan_refuses_an_mfa_serial_that_is_not_one_line(value: str) -> None:
    with pytest.raises(ConfigError, match="mfa_serial"):
        run_plan(BASE.replace(ARN, "old"), mfa_serial=value)


@pytest.mark.parametrize("path", ["/opt/a\nb/mfa-process", "/opt/a\rb/mfa-process", "/opt/a\u2029b/mfa-process"])
def test_plan_refuses_a_program_path_that_is_not_one_line(path: str) -> None:
    with pytest.raises(ConfigError, match="install mfa-process in a folder"):
        run_plan(BASE, command=shlex.quote(path))


@pytest.mark.parametrize("name", ["-dash", "--help", "-p"])
def test_a_base_name_starting_with_a_dash_is_glued_to_its_option(name: str, tmp_path: Path) -> None:
    text, _ = run_plan("", base=name)
    config = tmp_path / "config"
    config.write_text(text, encoding="utf-8")

    line = botocore_profiles(config)["mfa"]["credential_process"]
    argv = shlex.split(line)
    assert argv == ["mfa-process", f"--profile={name}"]
    assert credential_process.build_parser().parse_args(argv[1:]).profile == name  # not read as an option


def test_configure_refuses_the_injection_end_to_end(aws: AwsHome) -> None:
    before = aws.config_file.read_bytes()

    for option in ("--as", "--profile"):
        result = aws.run(["configure", "--profile", "base", "--mfa-serial", aws.user.mfa_serial, option, INJECTION])

        assert "cannot be a profile name" in one_line_error(result)
        assert aws.config_file.read_bytes() == before
        assert not Path(str(aws.config_file) + BACKUP_SUFFIX).exists()
    assert "default" not in botocore_profiles(aws.config_file)


# --- 2. an mfa-process line for another base profile ----------------------------------------------


def test_plan_does_not_repoint_another_profiles_mfa_process_line_without_force(tmp_path: Path) -> None:
    before = BASE + "\n[profile mfa]\ncredential_process = mfa-process --profile work\n"

    with pytest.raises(ConfigError) as raised:
        run_plan(before)

    message = str(raised.value)
    assert "'work'" in message and "--force" in message and "--as" in message
    _, changes = run_plan(before, force=True)
    assert changes == ["set credential_process = mfa-process --profile base in [profile mfa]"]


@pytest.mark.parametrize(
    "line", ["/opt/old/bin/mfa-process --profile=work", "/usr/bin/python3 -m mfa_process --profile work"]
)
def test_plan_does_not_repoint_any_spelling_of_another_profile(line: str) -> None:
    with pytest.raises(ConfigError, match="already runs mfa-process for profile 'work'"):
        run_plan(BASE + f"\n[profile mfa]\ncredential_process = {line}\n")


def test_plan_still_updates_the_same_profiles_line_from_another_path(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    before = BASE + "\n[profile mfa]\ncredential_process = /opt/old/bin/mfa-process --profile=base\n"

    _, changes = run_plan(before)

    assert changes == ["set credential_process = mfa-process --profile base in [profile mfa]"]


def test_configure_does_not_repoint_end_to_end(aws: AwsHome) -> None:
    aws.write_config(aws.config_file.read_text() + "\n[profile personal]\nmfa_serial = " + aws.user.mfa_serial + "\n")
    aws.write_credentials(aws.credentials_file.read_text() + "\n[personal]\naws_access_key_id = AKIAOTHER\n")
    before = aws.config_file.read_bytes()

    result = aws.run(["configure", "--profile", "personal"])

    assert "already runs mfa-process for profile 'base'" in one_line_error(result)
    assert aws.config_file.read_bytes() == before


# --- 3. a base profile that exists nowhere --------------------------------------------------------


def test_configure_for_a_profile_that_exists_nowhere_names_those_that_do(aws: AwsHome) -> None:
    before = aws.config_file.read_bytes()

    result = aws.run(["configure", "--profile", "bsae", "--mfa-serial", aws.user.mfa_serial])

    message = one_line_error(result)
    assert "profile 'bsae' is not in" in message
    assert "'base', 'mfa'" in message and "aws configure --profile" in message
    assert aws.config_file.read_bytes() == before
    assert not Path(str(aws.config_file) + BACKUP_SUFFIX).exists()


def test_configure_for_a_profile_only_in_the_credentials_file_adds_its_section(aws: AwsHome) -> None:
    aws.write_config("")

    result = aws.run(["configure", "--profile", "base", "--mfa-serial", aws.user.mfa_serial])

    assert result.returncode == 0, result.stderr
    assert botocore_profiles(aws.config_file)["base"] == {"mfa_serial": aws.user.mfa_serial}


def test_configure_with_no_profiles_at_all_says_so(aws: AwsHome) -> None:
    aws.config_file.unlink()
    aws.credentials_file.unlink()

    result = aws.run(["configure", "--profile", "base", "--mfa-serial", aws.user.mfa_serial])

    assert "they hold no profile yet" in one_line_error(result)
    assert not aws.config_file.exists()


# --- 4. the backup, the temporary file and the final replace --------------------------------------


def test_every_backup_is_kept(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text("original\n")

    first = write_with_backup(str(config), "two\n")
    second = write_with_backup(str(config), "three\n")
    third = write_with_backup(str(config), "four\n")

    assert first == str(config) + BACKUP_SUFFIX and Path(first).read_text() == "original\n"
    assert second == str(config) + BACKUP_SUFFIX + ".1" and Path(second).read_text() == "two\n"
    assert third == str(config) + BACKUP_SUFFIX + ".2" and Path(third).read_text() == "three\n"
    for backup in (first, second, third):
        assert stat.S_IMODE(os.lstat(backup).st_mode) == 0o600


def test_a_link_planted_at_the_backup_path_is_not_followed(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text("[default]\nregion = eu-west-1\n")
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    victim.chmod(0o644)
    Path(str(config) + BACKUP_SUFFIX).symlink_to(victim)

    with pytest.raises(ConfigFileError, match="not a backup of mfa-process's"):
        write_with_backup(str(config), "[default]\nregion = us-east-1\n")

    assert victim.read_text() == "precious\n" and stat.S_IMODE(victim.stat().st_mode) == 0o644
    assert config.read_text() == "[default]\nregion = eu-west-1\n"


def test_a_dangling_link_planted_at_the_backup_path_creates_nothing(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text("x\n")
    Path(str(config) + BACKUP_SUFFIX).symlink_to(tmp_path / "created-by-us")

    with pytest.raises(ConfigFileError):
        write_with_backup(str(config), "y\n")

    assert not (tmp_path / "created-by-us").exists()
    assert config.read_text() == "x\n"


@pytest.fixture
def another_user(monkeypatch):
    """Make ``path`` belong to someone else: chown when root, else pretend we are another uid."""

    def give_away(*paths: Path) -> None:
        if os.geteuid() == 0:
            for path in paths:
                os.lchown(path, 54321, 54321)
        else:
            real = os.geteuid()
            monkeypatch.setattr(configure.os, "geteuid", lambda: real + 1)

    return give_away


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="giving one file to another user needs root")


@needs_root
def test_a_file_of_another_user_at_the_backup_path_is_refused(tmp_path: Path, another_user) -> None:
    config = tmp_path / "config"
    config.write_text("x\n")
    planted = Path(str(config) + BACKUP_SUFFIX)
    planted.write_text("theirs\n")
    another_user(planted)

    with pytest.raises(ConfigFileError, match="owned by another user"):
        write_with_backup(str(config), "y\n")

    assert planted.read_text() == "theirs\n" and config.read_text() == "x\n"


def test_a_link_of_another_user_at_the_config_path_is_not_written_through(tmp_path: Path, another_user) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    config = tmp_path / "config"
    config.symlink_to(victim)
    another_user(config)

    with pytest.raises(ConfigFileError, match="symbolic link owned by another user"):
        write_with_backup(str(config), "[profile mfa]\n")

    assert victim.read_text() == "precious\n"
    assert config.is_symlink() and not Path(str(victim) + BACKUP_SUFFIX).exists()


@needs_root
def test_the_users_own_link_to_another_users_file_is_not_written_through(tmp_path: Path, another_user) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    another_user(victim)
    config = tmp_path / "config"
    config.symlink_to(victim)

    with pytest.raises(ConfigFileError, match="is a file owned by another user"):
        write_with_backup(str(config), "[profile mfa]\n")

    assert victim.read_text() == "precious\n"


def test_a_temporary_file_swapped_for_a_link_is_not_followed_nor_installed(tmp_path: Path, monkeypatch) -> None:
    """Someone who can write in the folder swaps the temporary file for a link while it is being
    written: no mode change through the link, and the link does not become the config file."""
    config = tmp_path / "config"
    config.write_text("old\n")
    config.chmod(0o644)
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    victim.chmod(0o600)
    real_fsync = os.fsync

    def fsync_then_swap(fd: int) -> None:
        real_fsync(fd)
        for temp in tmp_path.glob(".config-*"):
            if not temp.is_symlink():
                temp.unlink()
                temp.symlink_to(victim)

    monkeypatch.setattr(configure.os, "fsync", fsync_then_swap)
    with pytest.raises(ConfigFileError, match="was replaced while configure wrote it"):
        write_with_backup(str(config), "new\n")
    monkeypatch.undo()

    assert stat.S_IMODE(victim.stat().st_mode) == 0o600 and victim.read_text() == "precious\n"
    assert not config.is_symlink() and config.read_text() == "old\n"
    assert list(tmp_path.glob(".config-*")) == []


def test_a_file_changed_since_it_was_read_is_not_overwritten(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text("read by configure\n")
    expected = config.read_text()
    config.write_text("written by someone else meanwhile\n")

    with pytest.raises(ConfigFileError, match="changed while configure was running"):
        write_with_backup(str(config), "planned\n", expected=expected)

    assert config.read_text() == "written by someone else meanwhile\n"


def test_configure_says_which_backup_it_kept_each_time(aws: AwsHome) -> None:
    original = aws.config_file.read_bytes()
    serial = aws.user.mfa_serial

    first = aws.run(["configure", "--profile", "base", "--mfa-serial", serial, "--as", "one"])
    second = aws.run(["configure", "--profile", "base", "--mfa-serial", serial, "--as", "two"])

    assert first.returncode == 0 and second.returncode == 0, (first.stderr, second.stderr)
    assert f"previous version kept as {aws.config_file}{BACKUP_SUFFIX}\n" in first.stdout
    assert f"previous version kept as {aws.config_file}{BACKUP_SUFFIX}.1\n" in second.stdout
    assert Path(f"{aws.config_file}{BACKUP_SUFFIX}").read_bytes() == original  # the only copy survives


# --- 5. a region written on continuation lines ----------------------------------------------------


def test_a_region_continued_on_the_next_line_is_copied_as_one_line(aws: AwsHome) -> None:
    aws.write_config(f"[profile base]\nmfa_serial = {aws.user.mfa_serial}\nregion =\n    eu-west-1\n")

    result = aws.run(["configure", "--profile", "base", "--as", "new"])

    assert result.returncode == 0, result.stderr
    assert "[profile new]\ncredential_process = mfa-process --profile base\nregion = eu-west-1\n" in (
        aws.config_file.read_text()
    )
    assert botocore_profiles(aws.config_file, parse_subsections=False)["new"]["region"] == "eu-west-1"


def test_a_region_spanning_lines_is_refused_not_written_as_new_lines(aws: AwsHome) -> None:
    text = (
        f"[profile base]\nmfa_serial = {aws.user.mfa_serial}\n"
        "region = eu\n  [default]\n  credential_process = touch /tmp/x\n"
    )
    aws.write_config(text)
    assert botocore_profiles(aws.config_file)["base"]["region"] == "eu\n[default]\ncredential_process = touch /tmp/x"

    result = aws.run(["configure", "--profile", "base", "--as", "new"])

    assert "region of profile 'base'" in one_line_error(result)
    assert aws.config_file.read_text() == text
    assert "default" not in botocore_profiles(aws.config_file)


# --- the file as configparser reads it, not as str.splitlines() does ------------------------------


@pytest.mark.parametrize("separator", ["\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"])
def test_characters_that_only_splitlines_breaks_on_are_not_line_ends(separator: str, tmp_path: Path) -> None:
    """configparser reads a file split at \\n and \\r only: `[profile mfa]` after one of these is
    part of the region's value, not a section; editing it would rewrite the region."""
    region = f"eu{separator}[profile mfa]{separator}credential_process = evil"
    before = f"[profile base]\nmfa_serial = {ARN}\nregion = {region}\n"

    text, _ = run_plan(before, force=True)

    config = tmp_path / "config"
    config.write_text(text, encoding="utf-8")
    assert botocore_profiles(config) == {
        "base": {"mfa_serial": ARN, "region": region},
        "mfa": {"credential_process": "mfa-process --profile base"},
    }


def test_an_indented_header_is_a_header(tmp_path: Path) -> None:
    """configparser reads `  [profile mfa]` as a header unless it continues a value; adding a
    second [profile mfa] would make every AWS command fail with a duplicate section."""
    before = f"[profile base]\n  mfa_serial = {ARN}\n  [profile mfa]\n  output = json\n"

    text, _ = run_plan(before)

    config = tmp_path / "config"
    config.write_text(text, encoding="utf-8")
    assert botocore_profiles(config)["mfa"] == {"output": "json", "credential_process": "mfa-process --profile base"}


def test_a_key_added_before_an_indented_header_keeps_it_a_header(tmp_path: Path) -> None:
    """Found by the property test: a key added at column 0 after keys indented by two makes a
    header indented by one a continuation of the new key's value (the section disappears)."""
    before = "[profile mfa]\n  output = json\n [profile base]\nregion = eu-west-1\n"

    text, _ = run_plan(before, mfa_serial=None)

    config = tmp_path / "config"
    config.write_text(text, encoding="utf-8")
    assert botocore_profiles(config) == {
        "mfa": {"output": "json", "credential_process": "mfa-process --profile base"},
        "base": {"region": "eu-west-1"},
    }
    assert "  credential_process = mfa-process --profile base\n" in text


def test_the_last_of_two_headers_for_a_profile_is_edited_as_botocore_reads_it(tmp_path: Path) -> None:
    before = "[profile base]\nregion = old\n\n[profile  base]\nmfa_serial = old\noutput = json\n"

    text, _ = run_plan(before)

    config = tmp_path / "config"
    config.write_text(text, encoding="utf-8")
    assert botocore_profiles(config)["base"] == {"mfa_serial": ARN, "output": "json"}


def test_a_lone_carriage_return_ends_a_line(tmp_path: Path) -> None:
    before = "[profile base]\rmfa_serial = old\r[profile other]\routput = json\r"

    text, _ = run_plan(before)

    config = tmp_path / "config"
    config.write_bytes(text.encode("utf-8"))
    assert botocore_profiles(config) == {
        "base": {"mfa_serial": ARN},
        "other": {"output": "json"},
        "mfa": {"credential_process": "mfa-process --profile base"},
    }


def test_a_config_that_is_not_valid_ini_is_refused_by_line_number(tmp_path: Path) -> None:
    with pytest.raises(ConfigFileError, match=r"line 3 .*fix it"):
        run_plan("[profile base]\nregion = x\naws_secret_access_key\n")
