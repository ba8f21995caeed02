"""mfa_process.config.configure: what `configure` changes (plan), how it names the program
(plugin_command) and how it writes the file (write_with_backup)."""

from __future__ import annotations

import os
import shlex
import stat
import sys
from pathlib import Path
from typing import Dict

import pytest
from botocore.configloader import load_config

from mfa_process.config import configure
from mfa_process.config.configure import (
    BACKUP_SUFFIX,
    configure_profile,
    plan,
    plugin_command,
    read_config_text,
    write_with_backup,
)
from mfa_process.errors import ConfigError, ProfileNotFoundError

ARN = "arn:aws:iam::123456789012:mfa/alice"
OLD_ARN = "arn:aws:iam::123456789012:mfa/old"

BASE_ONLY = f"""\
# my settings
[profile base]
region = eu-central-1
mfa_serial = {OLD_ARN}

[profile other]
output = json
"""


@pytest.fixture
def botocore_profiles(tmp_path: Path):
    counter = iter(range(10**6))

    def parse(text: str) -> Dict[str, Dict[str, object]]:
        path = tmp_path / f"config-{next(counter)}"
        path.write_text(text, encoding="utf-8")
        return load_config(str(path))["profiles"]

    return parse


def run_plan(
    text: str,
    base: str = "base",
    plugin: str = "mfa",
    mfa_serial=ARN,
    command: str = "mfa-process",
    region=None,
    force=False,
):
    return plan(text, base, plugin, mfa_serial, command, region, force)


# --- plan -----------------------------------------------------------------------------------------


def test_plan_sets_mfa_serial_and_adds_the_profile(botocore_profiles) -> None:
    text, changes = run_plan(BASE_ONLY)

    assert (
        text == BASE_ONLY.replace(OLD_ARN, ARN) + "\n[profile mfa]\ncredential_process = mfa-process --profile base\n"
    )
    assert changes == [
        f"set mfa_serial = {ARN} in [profile base]",
        "set credential_process = mfa-process --profile base in [profile mfa]",
    ]
    seen = botocore_profiles(text)
    assert seen["base"] == {"region": "eu-central-1", "mfa_serial": ARN}
    assert seen["mfa"] == {"credential_process": "mfa-process --profile base"}
    assert seen["other"] == {"output": "json"}


def test_plan_adds_mfa_serial_to_a_base_section_without_one(botocore_profiles) -> None:
    text, changes = run_plan("[profile base]\nregion = eu-central-1\n")

    assert botocore_profiles(text)["base"] == {"region": "eu-central-1", "mfa_serial": ARN}
    assert changes[0] == f"set mfa_serial = {ARN} in [profile base]"


def test_plan_for_the_default_profile(botocore_profiles) -> None:
    text, _ = run_plan("[default]\nregion = eu-west-1\n", base="default")

    seen = botocore_profiles(text)
    assert seen["default"] == {"region": "eu-west-1", "mfa_serial": ARN}
    assert seen["mfa"] == {"credential_process": "mfa-process --profile default"}


def test_plan_without_mfa_serial_leaves_the_base_profile_alone() -> None:
    text, changes = run_plan(BASE_ONLY, mfa_serial=None)

    assert text == BASE_ONLY + "\n[profile mfa]\ncredential_process = mfa-process --profile base\n"
    assert changes == ["set credential_process = mfa-process --profile base in [profile mfa]"]


def test_plan_creates_the_config_from_nothing(botocore_profiles) -> None:
    text, changes = run_plan("", region="eu-west-1")

    assert text == (
        f"[profile base]\nmfa_serial = {ARN}\n\n"
        "[profile mfa]\ncredential_process = mfa-process --profile base\nregion = eu-west-1\n"
    )
    assert len(changes) == 3
    assert botocore_profiles(text)["mfa"]["region"] == "eu-west-1"


def test_plan_copies_the_region_into_a_new_section(botocore_profiles) -> None:
    text, changes = run_plan(BASE_ONLY, region="eu-central-1")

    assert botocore_profiles(text)["mfa"] == {
        "credential_process": "mfa-process --profile base",
        "region": "eu-central-1",
    }
    assert changes[-1] == "set region = eu-central-1 in [profile mfa]"


def test_plan_does_not_copy_the_region_into_an_existing_section(botocore_profiles) -> None:
    before = BASE_ONLY + "\n[profile mfa]\noutput = json\n"

    text, changes = run_plan(before, region="eu-central-1")

    assert botocore_profiles(text)["mfa"] == {"output": "json", "credential_process": "mfa-process --profile base"}
    assert not any("region" in change for change in changes)


def test_plan_does_not_copy_the_region_when_updating_an_existing_line(botocore_profiles) -> None:
    before = (
        f"[profile base]\nmfa_serial = {ARN}\n\n"
        "[profile mfa]\ncredential_process = /opt/old/bin/mfa-process --profile base\n"
    )

    text, changes = run_plan(before, region="eu-central-1")

    assert botocore_profiles(text)["mfa"] == {"credential_process": "mfa-process --profile base"}
    assert changes == ["set credential_process = mfa-process --profile base in [profile mfa]"]


def test_plan_already_configured_changes_nothing() -> None:
    configured = (
        f"[profile base]\nmfa_serial = {ARN}\n\n[profile mfa]\ncredential_process = mfa-process --profile base\n"
    )

    text, changes = run_plan(configured, region="eu-west-1")

    assert changes == []
    assert text == configured


def test_plan_already_configured_with_the_same_program_by_another_path(tmp_path: Path, monkeypatch) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    program = bin_dir / "mfa-process"
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    configured = f"[profile base]\nmfa_serial = {ARN}\n\n[profile mfa]\ncredential_process = {program} --profile base\n"

    text, changes = run_plan(configured)

    assert changes == []
    assert text == configured


def test_plan_refuses_to_replace_another_credential_process_without_force() -> None:
    before = BASE_ONLY + "\n[profile mfa]\ncredential_process = aws-vault export --format=json base\n"

    with pytest.raises(ConfigError) as raised:
        run_plan(before)

    message = str(raised.value)
    assert "--force" in message
    assert "aws-vault export --format=json base" in message
    assert "[profile mfa]" in message
    assert raised.value.exit_code == 2


def test_plan_replaces_another_credential_process_with_force(botocore_profiles) -> None:
    before = (
        BASE_ONLY + "\n[profile mfa]\ncredential_process = aws-vault export --format=json base\nregion = us-east-1\n"
    )

    text, changes = run_plan(before, force=True, region="eu-central-1")

    assert botocore_profiles(text)["mfa"] == {"credential_process": "mfa-process --profile base", "region": "us-east-1"}
    assert "set credential_process = mfa-process --profile base in [profile mfa]" in changes


def test_plan_updates_an_mfa_process_line_with_another_path_without_force(
    botocore_profiles, monkeypatch, tmp_path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # /opt/old/bin/mfa-process does not exist anywhere
    before = (
        f"[profile base]\nmfa_serial = {ARN}\n\n"
        "[profile mfa]\ncredential_process = /opt/old/bin/mfa-process --profile base\n"
    )

    text, changes = run_plan(before)

    assert text == before.replace("/opt/old/bin/mfa-process", "mfa-process")
    assert changes == ["set credential_process = mfa-process --profile base in [profile mfa]"]
    assert botocore_profiles(text)["mfa"] == {"credential_process": "mfa-process --profile base"}


def test_plan_updates_a_python_m_line_of_its_own_making_without_force(botocore_profiles, monkeypatch, tmp_path) -> None:
    """plugin_command writes `<python> -m mfa_process` when configure runs as `python -m
    mfa_process`; that line is mfa-process's own too, so running `mfa-process configure` later
    must update it, not demand --force as for another tool's credential_process."""
    monkeypatch.setenv("PATH", str(tmp_path))
    ours = plugin_command("/somewhere/mfa_process/__main__.py", "/opt/python3.11/bin/python3")
    before = f"[profile base]\nmfa_serial = {ARN}\n\n[profile mfa]\ncredential_process = {ours} --profile base\n"

    text, changes = run_plan(before)

    assert changes == ["set credential_process = mfa-process --profile base in [profile mfa]"]
    assert botocore_profiles(text)["mfa"] == {"credential_process": "mfa-process --profile base"}


def test_plan_as_the_base_profile_is_an_error() -> None:
    with pytest.raises(ConfigError, match="--as"):
        run_plan(BASE_ONLY, base="base", plugin="base")
    with pytest.raises(ConfigError, match="--as"):
        run_plan(BASE_ONLY, base="default", plugin="default")


def test_plan_under_another_name(botocore_profiles) -> None:
    text, changes = run_plan(BASE_ONLY, plugin="work-mfa")

    assert botocore_profiles(text)["work-mfa"] == {"credential_process": "mfa-process --profile base"}
    assert "mfa" not in botocore_profiles(text)
    assert changes[-1] == "set credential_process = mfa-process --profile base in [profile work-mfa]"


@pytest.mark.parametrize("base", ["my base", "o'brien", "$HOME", "a;b", "x`id`", 'say"hi"', "-dash", "tab\tbase"])
def test_plan_quotes_the_base_profile_for_botocores_shlex_split(base: str) -> None:
    text, _ = run_plan("", base=base, mfa_serial=None)

    line = next(line for line in text.splitlines() if line.startswith("credential_process"))
    value = line.split("=", 1)[1].strip()
    # botocore runs credential_process as shlex.split(value), without a shell; a name that starts
    # with - is glued to its option, or argparse would take it for an option of its own
    expected = [f"--profile={base}"] if base.startswith("-") else ["--profile", base]
    assert shlex.split(value) == ["mfa-process", *expected]


def test_plan_quotes_an_absolute_program_path_with_spaces(botocore_profiles) -> None:
    command = shlex.quote("/Users/Alice Smith/.local/bin/mfa-process")

    text, _ = run_plan("", command=command, mfa_serial=None)

    read = botocore_profiles(text)["mfa"]["credential_process"]
    assert shlex.split(read) == ["/Users/Alice Smith/.local/bin/mfa-process", "--profile", "base"]


@pytest.mark.parametrize("base, plugin", [("my base", "mfa"), ("base", "my mfa"), ("o'brien", "mfa")])
def test_plan_profile_names_botocore_can_find(base: str, plugin: str, botocore_profiles) -> None:
    """botocore reads a config header with shlex.split ([profile 'my base'] is profile
    `my base`; [profile my base] is three words and ignored). The sections configure writes
    must be ones botocore (and mfa-process's own reader) find under these names."""
    text, _ = run_plan("", base=base, plugin=plugin)

    seen = botocore_profiles(text)
    assert seen.get(base, {}).get("mfa_serial") == ARN, text
    assert shlex.split(seen.get(plugin, {}).get("credential_process", "")) == ["mfa-process", "--profile", base], text


# --- plugin_command -------------------------------------------------------------------------------


def _script(folder: Path, name: str = "mfa-process") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o755)
    return path


def test_plugin_command_by_name_when_path_finds_this_program(tmp_path: Path, monkeypatch) -> None:
    script = _script(tmp_path / "venv" / "bin")
    monkeypatch.setenv("PATH", os.pathsep.join([str(tmp_path / "empty"), str(script.parent)]))

    assert plugin_command(str(script), "/usr/bin/python3") == "mfa-process"


def test_plugin_command_by_name_when_path_finds_a_link_to_it(tmp_path: Path, monkeypatch) -> None:
    script = _script(tmp_path / "pipx" / "venvs" / "mfa-process" / "bin")
    link_dir = tmp_path / "local" / "bin"
    link_dir.mkdir(parents=True)
    (link_dir / "mfa-process").symlink_to(script)
    monkeypatch.setenv("PATH", str(link_dir))

    assert plugin_command(str(script), "/usr/bin/python3") == "mfa-process"
    assert plugin_command(str(link_dir / "mfa-process"), "/usr/bin/python3") == "mfa-process"


def test_plugin_command_absolute_when_not_on_path(tmp_path: Path, monkeypatch) -> None:
    script = _script(tmp_path / "elsewhere")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))

    assert plugin_command(str(script), "/usr/bin/python3") == str(script)


def test_plugin_command_absolute_when_path_finds_another_mfa_process(tmp_path: Path, monkeypatch) -> None:
    script = _script(tmp_path / "new-venv" / "bin")
    other = _script(tmp_path / "old-venv" / "bin")
    monkeypatch.setenv("PATH", str(other.parent))

    assert plugin_command(str(script), "/usr/bin/python3") == str(script)


def test_plugin_command_absolute_from_a_relative_argv0(tmp_path: Path, monkeypatch) -> None:
    script = _script(tmp_path / "venv" / "bin")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.chdir(tmp_path)

    assert plugin_command(os.path.join("venv", "bin", "mfa-process"), "/usr/bin/python3") == str(script)


def test_plugin_command_quotes_an_absolute_path_with_spaces(tmp_path: Path, monkeypatch) -> None:
    script = _script(tmp_path / "Alice's tools" / "bin")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))

    command = plugin_command(str(script), "/usr/bin/python3")

    assert command != str(script)
    assert shlex.split(command) == [str(script)]


def test_plugin_command_as_python_m() -> None:
    main = os.path.join("/work", "main", "mfa_process", "__main__.py")

    assert plugin_command(main, "/opt/venv/bin/python3") == "/opt/venv/bin/python3 -m mfa_process"
    assert shlex.split(plugin_command(main, "/opt/my venv/bin/python3")) == [
        "/opt/my venv/bin/python3",
        "-m",
        "mfa_process",
    ]


def test_plugin_command_as_python_m_ignores_path(tmp_path: Path, monkeypatch) -> None:
    _script(tmp_path / "bin")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))

    assert (
        plugin_command("/x/mfa_process/__main__.py", sys.executable) == f"{shlex.quote(sys.executable)} -m mfa_process"
    )


# --- write_with_backup ----------------------------------------------------------------------------


def _others(folder: Path, *expected: Path) -> list:
    return sorted(path.name for path in folder.iterdir() if path not in expected)


def test_write_with_backup_replaces_and_keeps_the_old_file(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text("[default]\nregion = eu-west-1\n")
    config.chmod(0o640)

    backup = write_with_backup(str(config), "[default]\nregion = us-east-1\n")

    assert backup == str(config) + BACKUP_SUFFIX
    assert Path(backup).read_text() == "[default]\nregion = eu-west-1\n"
    assert config.read_text() == "[default]\nregion = us-east-1\n"
    assert stat.S_IMODE(config.stat().st_mode) == 0o640
    assert _others(tmp_path, config, Path(backup)) == []  # no temp file left


def test_write_with_backup_keeps_the_mode_whatever_it_is(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text("old\n")
    config.chmod(0o604)

    write_with_backup(str(config), "new\n")

    assert stat.S_IMODE(config.stat().st_mode) == 0o604


def test_write_with_backup_backup_is_the_previous_version(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text("one\n")

    write_with_backup(str(config), "two\n")
    backup = write_with_backup(str(config), "three\n")

    assert Path(backup).read_text() == "two\n"
    assert config.read_text() == "three\n"


def test_write_with_backup_writes_the_text_byte_for_byte(tmp_path: Path) -> None:
    config = tmp_path / "config"
    text = "[default]\r\nregion = eu-west-1\r\n# caf\u00e9\n"

    write_with_backup(str(config), text)

    assert config.read_bytes() == text.encode("utf-8")


def test_write_with_backup_new_file_is_private_in_a_new_private_folder(tmp_path: Path) -> None:
    old_umask = os.umask(0o022)
    try:
        config = tmp_path / "home" / ".aws" / "config"

        backup = write_with_backup(str(config), "[profile mfa]\n")
    finally:
        os.umask(old_umask)

    assert backup is None
    assert config.read_text() == "[profile mfa]\n"
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert stat.S_IMODE(config.parent.stat().st_mode) == 0o700
    assert _others(config.parent, config) == []


def test_write_with_backup_new_file_in_an_existing_folder(tmp_path: Path) -> None:
    config = tmp_path / "config"

    assert write_with_backup(str(config), "x\n") is None
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert _others(tmp_path, config) == []


@pytest.mark.parametrize("failing", ["replace", "fsync", "fchmod"])
def test_write_with_backup_failure_leaves_the_file_untouched(tmp_path: Path, monkeypatch, failing: str) -> None:
    config = tmp_path / "config"
    config.write_text("[default]\nregion = eu-west-1\n")
    config.chmod(0o640)

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(configure.os, failing, broken)
    with pytest.raises(OSError, match="No space left"):
        write_with_backup(str(config), "[default]\nregion = us-east-1\n")
    monkeypatch.undo()

    assert config.read_text() == "[default]\nregion = eu-west-1\n"
    assert stat.S_IMODE(config.stat().st_mode) == 0o640
    backup = Path(str(config) + BACKUP_SUFFIX)
    assert _others(tmp_path, config, backup) == []  # no temp file left
    assert not backup.exists() or backup.read_text() == "[default]\nregion = eu-west-1\n"


def test_write_with_backup_failure_on_a_new_file_leaves_nothing(tmp_path: Path, monkeypatch) -> None:
    config = tmp_path / "config"

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(configure.os, "replace", broken)
    with pytest.raises(OSError):
        write_with_backup(str(config), "x\n")
    monkeypatch.undo()

    assert list(tmp_path.iterdir()) == []


def test_write_with_backup_through_a_symlink_updates_the_target(tmp_path: Path) -> None:
    """~/.aws/config is often a link into a dotfiles repository (stow, yadm, home-manager).
    configure must update the file the link points to, not replace the link with a copy that
    silently leaves the repository behind."""
    dotfiles = tmp_path / "dotfiles" / "aws"
    dotfiles.mkdir(parents=True)
    target = dotfiles / "config"
    target.write_text("[default]\nregion = eu-west-1\n")
    aws_dir = tmp_path / ".aws"
    aws_dir.mkdir()
    link = aws_dir / "config"
    link.symlink_to(target)

    write_with_backup(str(link), "[default]\nregion = us-east-1\n")

    assert link.is_symlink()
    assert target.read_text() == "[default]\nregion = us-east-1\n"


# --- configure_profile and what it reports about the base profile's keys -------------------------


@pytest.fixture
def aws_files(tmp_path: Path):
    config, credentials = tmp_path / "config", tmp_path / "credentials"
    environ = {"HOME": str(tmp_path), "AWS_CONFIG_FILE": str(config), "AWS_SHARED_CREDENTIALS_FILE": str(credentials)}
    return config, credentials, environ


def test_configure_profile_writes_once_then_changes_nothing(aws_files) -> None:
    config, credentials, environ = aws_files
    config.write_text(BASE_ONLY)
    credentials.write_text("[base]\naws_access_key_id = AKIAFILESKEY00000001\naws_secret_access_key = not-used\n")

    done = configure_profile("base", "mfa", ARN, "mfa-process", False, environ)

    assert done.path == str(config)
    assert done.changes == run_plan(BASE_ONLY, region="eu-central-1")[1]  # the base's region, for the new profile
    assert done.backup is not None and Path(done.backup).read_text() == BASE_ONLY
    assert done.keys_report == "profile 'base' has long-term access keys: ready\n"
    again = configure_profile("base", "mfa", None, "mfa-process", False, environ)
    assert (again.changes, again.backup) == ([], None)


@pytest.mark.parametrize(
    "credentials_text, fragment",
    [
        ("[base]\naws_access_key_id = ASIATEMP\naws_secret_access_key = s\naws_session_token = t\n", "temporary keys"),
        ("[base]\nrole_arn = arn:aws:iam::123456789012:role/r\n", "gets its keys from another source"),
        ("[base]\naws_access_key_id = AKIAFILESKEY00000001\n", "is missing aws_secret_access_key: add them"),
    ],
    ids=["session-token", "role", "no-secret"],
)
def test_keys_report_says_what_the_base_profile_lacks(aws_files, credentials_text: str, fragment: str) -> None:
    config, credentials, environ = aws_files
    credentials.write_text(credentials_text)

    done = configure_profile("base", "mfa", ARN, "mfa-process", False, environ)

    assert fragment in done.keys_report and done.keys_report.count("\n") == 1


def test_a_base_profile_in_neither_file_is_an_error_naming_those_there(aws_files) -> None:
    config, credentials, environ = aws_files
    config.write_text(BASE_ONLY)

    with pytest.raises(ProfileNotFoundError, match="the profiles there are 'base', 'other'"):
        configure_profile("typo", "mfa", ARN, "mfa-process", False, environ)
    assert config.read_text() == BASE_ONLY


def test_read_config_text_of_no_file_is_empty(tmp_path: Path) -> None:
    assert read_config_text(str(tmp_path / "absent")) == ""
