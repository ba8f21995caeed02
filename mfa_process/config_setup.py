"""`configure`: the edits that make a profile use mfa-process, and writing them safely."""

from __future__ import annotations

import os
import shlex
import shutil
import tempfile
from typing import List, Optional, Tuple

from .config_editor import config_section_name, get_option, has_section, set_option
from .errors import ConfigError

BACKUP_SUFFIX = ".mfa-process-backup"


def plan(
    text: str,
    base_profile: str,
    plugin_profile: str,
    mfa_serial: Optional[str],
    plugin_command: str,
    region: Optional[str],
    force: bool,
) -> Tuple[str, List[str]]:
    """The config file's new text and a line per change (none: already configured)."""
    if plugin_profile == base_profile:
        raise ConfigError(f"--as must name a new profile, not the base profile '{base_profile}'")
    changes: List[str] = []
    base_section = config_section_name(base_profile)
    if mfa_serial is not None and get_option(text, base_section, "mfa_serial") != mfa_serial:
        text = set_option(text, base_section, "mfa_serial", mfa_serial)
        changes.append(f"set mfa_serial = {mfa_serial} in [{base_section}]")

    plugin_section = config_section_name(plugin_profile)
    wanted = f"{plugin_command} --profile {shlex.quote(base_profile)}"
    current = get_option(text, plugin_section, "credential_process")
    if current is not None and current != wanted and not _is_mfa_process(current) and not force:
        raise ConfigError(
            f"[{plugin_section}] already has credential_process = {current}; "
            "pass --force to replace it, or choose another name with --as"
        )
    if current is None or not _same_call(current, wanted):
        is_new_section = not has_section(text, plugin_section)
        text = set_option(text, plugin_section, "credential_process", wanted)
        changes.append(f"set credential_process = {wanted} in [{plugin_section}]")
        if is_new_section and region:
            text = set_option(text, plugin_section, "region", region)
            changes.append(f"set region = {region} in [{plugin_section}]")
    return text, changes


def _is_mfa_process(command: str) -> bool:
    """An mfa-process line of our own making (another path, or `python -m`): ours to update."""
    words = _split(command)
    return bool(words) and (os.path.basename(words[0]) == "mfa-process" or words[1:3] == ["-m", "mfa_process"])


def _same_call(current: str, wanted: str) -> bool:
    """The same arguments, and a program that is the same file once PATH is applied."""
    have, want = _split(current), _split(wanted)
    if not have or not want or have[1:] != want[1:]:
        return False
    if have[0] == want[0]:
        return True
    have_path, want_path = shutil.which(have[0]), shutil.which(want[0])
    return (
        have_path is not None and want_path is not None and os.path.realpath(have_path) == os.path.realpath(want_path)
    )


def _split(command: str) -> List[str]:
    try:
        return shlex.split(command)
    except ValueError:
        return []


def plugin_command(argv0: str, executable: str) -> str:
    """How credential_process should start this mfa-process: by name when PATH finds this
    very program, else by absolute path (or as `python -m mfa_process`)."""
    name = os.path.basename(argv0)
    if name.startswith("mfa-process"):  # the console script (mfa-process, mfa-process.exe)
        on_path = shutil.which("mfa-process")
        if on_path and os.path.realpath(on_path) == os.path.realpath(argv0):
            return "mfa-process"
        return shlex.quote(os.path.abspath(argv0))
    return f"{shlex.quote(executable)} -m mfa_process"


def write_with_backup(path: str, text: str) -> Optional[str]:
    """Replace ``path`` atomically with ``text``, first copying the old file aside.

    Returns the backup's path (None when there was no file). The file keeps its mode; a new
    file, and a new ~/.aws folder, are private to the user.
    """
    path = os.path.realpath(path)  # a symlinked config (dotfiles) is updated where it lives
    folder = os.path.dirname(path)
    os.makedirs(folder, mode=0o700, exist_ok=True)
    backup = None
    mode = 0o600
    if os.path.exists(path):
        backup = path + BACKUP_SUFFIX
        shutil.copy2(path, backup)
        mode = os.stat(path).st_mode & 0o777
    fd, temp_path = tempfile.mkstemp(prefix=".config-", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as temp_file:
            temp_file.write(text)
            temp_file.flush()
            os.fsync(temp_file.fileno())
        os.chmod(temp_path, mode)
        os.replace(temp_path, path)
    except BaseException:
        try:
            os.unlink(temp_path)
        except OSError:
            pass
        raise
    return backup
