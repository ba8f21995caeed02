"""Set and remove keys of one profile in an AWS config or credentials file, verified and
written atomically, without a backup: these edits move secrets out of a file, and a backup
would keep them.

The edit is made as text (ini_edit) and read back as botocore reads it: unless exactly the
intended keys of exactly that profile changed, nothing is written.
"""

from __future__ import annotations

import configparser
from typing import Callable, Dict, Iterable, Mapping, Optional

from ..errors import ConfigError, ConfigFileError
from .aws_files import describe_parse_error
from .configure import read_config_text, write_with_backup
from .ini_edit import RawConfig, config_section_name, profiles_of, read_config, remove_option, set_option

Profiles = Dict[str, Dict[str, str]]


def edit_profile(
    path: str,
    profile: str,
    is_config_file: bool,
    set_keys: Optional[Mapping[str, str]] = None,
    remove_keys: Iterable[str] = (),
    by: str = "mfa-process",
    check: Optional[Callable[[Mapping[str, str]], None]] = None,
    dry_run: bool = False,
) -> bool:
    """Apply the edit to the file at ``path``; False when it would change nothing.

    ``by`` names the command in messages ("run add again"). ``check`` sees the profile's keys
    in the very text that is edited (and may refuse them): the file is replaced only if it
    still holds that text. ``dry_run``: every check, nothing written.
    """
    text = read_config_text(path)
    if check is not None:
        check(_profiles(text, is_config_file, path).get(profile, {}))
    new_text = planned_edit(text, profile, is_config_file, set_keys or {}, tuple(remove_keys), path)
    if new_text == text or dry_run:
        return new_text != text
    write_with_backup(path, new_text, expected=text, backup=False, by=by)
    return True


def planned_edit(
    text: str, profile: str, is_config_file: bool, set_keys: Mapping[str, str], remove_keys: Iterable[str], path: str
) -> str:
    """``text`` with the edit made, or ConfigError when it would not read back as intended."""
    before = _profiles(text, is_config_file, path)
    section = config_section_name(profile) if is_config_file else profile
    new_text = text
    try:
        for key, value in set_keys.items():
            new_text = set_option(new_text, section, key, value)
    except ValueError:
        raise ConfigError(f"a value for profile '{profile}' would not stay on its line in {path}; nothing was changed")
    removed = set()
    for key in remove_keys:
        new_text = remove_option(new_text, section, key)
        removed.add(key)
    expected = {name: dict(keys) for name, keys in before.items()}
    keys = expected.setdefault(profile, {})
    keys.update(set_keys)
    for key in removed:
        keys.pop(key, None)
    if not keys and profile not in _profiles(new_text, is_config_file, path):
        del expected[profile]  # its section went with its last key
    if _profiles(new_text, is_config_file, path) != expected:
        raise ConfigError(
            f"the edit of profile '{profile}' in {path} would not read back as intended, so nothing was changed; "
            "edit the file by hand and please report this"
        )
    return new_text


def _profiles(text: str, is_config_file: bool, path: str) -> Profiles:
    """Every profile of ``text`` as botocore reads it (with [DEFAULT]'s keys folded in)."""
    try:
        raw, defaults = read_config(text)
    except configparser.Error as error:
        raise ConfigFileError(
            f"cannot parse {path}: {describe_parse_error(error)}; fix the file's INI syntax"
        ) from None
    if defaults:
        raise ConfigFileError(f"{path} has a [DEFAULT] section, which botocore does not read as a profile; remove it")
    return _named(raw, is_config_file)


def _named(raw: RawConfig, is_config_file: bool) -> Profiles:
    if is_config_file:
        return {name: keys for name, (_, keys) in profiles_of(raw).items()}
    return {name: dict(keys) for name, keys in raw.items()}
