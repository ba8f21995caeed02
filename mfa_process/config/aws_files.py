"""Read one profile from the AWS config and credentials files, the way botocore does.

This is the light reader used on the cache-hit path, where importing botocore would cost
more than everything else together. It follows botocore's rules: the files named by
``AWS_CONFIG_FILE`` and ``AWS_SHARED_CREDENTIALS_FILE`` (else ``~/.aws/config`` and
``~/.aws/credentials``), ``[profile NAME]`` or ``[default]`` in the config file, ``[NAME]`` in
the credentials file, and credentials-file values winning over config-file ones.
"""

from __future__ import annotations

import configparser
import os

from ..errors import ConfigFileError, ProfileNotFoundError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing on the cache-hit path
if TYPE_CHECKING:
    from typing import Dict, Mapping, Optional, Tuple

    Profile = Dict[str, str]


def config_file_path(environ: Mapping[str, str]) -> str:
    return _expand(environ.get("AWS_CONFIG_FILE", "~/.aws/config"))


def credentials_file_path(environ: Mapping[str, str]) -> str:
    return _expand(environ.get("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials"))


def load_profile(name: str, environ: Mapping[str, str]) -> Profile:
    """Return the merged settings of profile ``name``; raise if neither file has it."""
    from_config, from_credentials = read_profile(name, environ)
    merged: Profile = dict(from_config)
    merged.update(from_credentials)
    return merged


def read_profile(name: str, environ: Mapping[str, str]) -> Tuple[Profile, Profile]:
    """Profile ``name`` as each file has it: (config file part, credentials file part)."""
    config_path = config_file_path(environ)
    credentials_path = credentials_file_path(environ)
    from_config = _profiles_in(config_path, is_config_file=True).get(name)
    from_credentials = _profiles_in(credentials_path, is_config_file=False).get(name)
    if from_config is None and from_credentials is None:
        raise ProfileNotFoundError(
            f"profile '{name}' is not in {config_path} or {credentials_path}; "
            "check the --profile name (sections are [profile NAME] in config, [NAME] in credentials)"
        )
    return from_config or {}, from_credentials or {}


def _profiles_in(path: str, is_config_file: bool) -> Dict[str, Profile]:
    if not os.path.isfile(path):
        return {}
    parser = configparser.RawConfigParser(interpolation=None)
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError) as error:
        # `from None`: configparser's own message quotes the line, and --verbose prints the chain
        raise ConfigFileError(f"cannot parse {path}: {_describe(error)}; fix the file's INI syntax") from None
    except OSError as error:
        raise ConfigFileError(f"cannot read {path}: {error.strerror}") from error
    profiles: Dict[str, Profile] = {}
    for section in parser.sections():
        name = _profile_name(section, is_config_file)
        if name is not None:
            profiles[name] = {key: value.strip() for key, value in parser.items(section)}
    return profiles


def _profile_name(section: str, is_config_file: bool) -> Optional[str]:
    """botocore's reading of a section name (configloader.build_profile_map)."""
    if not is_config_file or section == "default":
        return section
    if not section.startswith("profile"):
        return None
    if any(char in section for char in "\"'\\"):
        import shlex  # only for quoted names: keeps shlex off the usual path

        try:
            words = shlex.split(section)
        except ValueError:
            return None
    else:
        words = section.split()
    return words[1] if len(words) == 2 else None


def _describe(error: Exception) -> str:
    """Where the file is broken, in one line, by line number only: these files hold secret
    keys, so no part of their text is ever repeated in a message."""
    if isinstance(error, configparser.MissingSectionHeaderError):
        return f"line {error.lineno} comes before any [section]"
    if isinstance(error, configparser.ParsingError) and error.errors:
        line_number = error.errors[0][0]
        return f"line {line_number} is not `key = value` or a [section]"
    if isinstance(error, configparser.DuplicateOptionError):
        return f"line {error.lineno} repeats a key of its section"
    if isinstance(error, configparser.DuplicateSectionError):
        return f"line {error.lineno} repeats a section header"
    if isinstance(error, UnicodeDecodeError):
        return "it is not UTF-8 text"
    return f"it is not valid INI ({type(error).__name__})"


def _expand(path: str) -> str:
    return os.path.expanduser(os.path.expandvars(path))
