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
TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing on the cache-hit path

from .errors import ConfigFileError, ProfileNotFoundError

if TYPE_CHECKING:
    from typing import Dict, Mapping, Optional

    Profile = Dict[str, str]


def config_file_path(environ: Mapping[str, str]) -> str:
    return _expand(environ.get("AWS_CONFIG_FILE") or "~/.aws/config")


def credentials_file_path(environ: Mapping[str, str]) -> str:
    return _expand(environ.get("AWS_SHARED_CREDENTIALS_FILE") or "~/.aws/credentials")


def load_profile(name: str, environ: Mapping[str, str]) -> Profile:
    """Return the merged settings of profile ``name``; raise if neither file has it."""
    config_path = config_file_path(environ)
    credentials_path = credentials_file_path(environ)
    from_config = _profiles_in(config_path, is_config_file=True).get(name)
    from_credentials = _profiles_in(credentials_path, is_config_file=False).get(name)
    if from_config is None and from_credentials is None:
        raise ProfileNotFoundError(
            f"profile '{name}' is not in {config_path} or {credentials_path}; "
            "check the --profile name (sections are [profile NAME] in config, [NAME] in credentials)"
        )
    merged: Profile = dict(from_config or {})
    merged.update(from_credentials or {})
    return merged


def _profiles_in(path: str, is_config_file: bool) -> Dict[str, Profile]:
    if not os.path.isfile(path):
        return {}
    parser = configparser.RawConfigParser(interpolation=None)
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError) as error:
        first_line = str(error).splitlines()[0]
        raise ConfigFileError(f"cannot parse {path}: {first_line}; fix the file's INI syntax") from error
    except OSError as error:
        raise ConfigFileError(f"cannot read {path}: {error.strerror}") from error
    profiles: Dict[str, Profile] = {}
    for section in parser.sections():
        name = _profile_name(section, is_config_file)
        if name is not None:
            profiles[name] = {key: value.strip() for key, value in parser.items(section)}
    return profiles


def _profile_name(section: str, is_config_file: bool) -> Optional[str]:
    if not is_config_file:
        return section.strip()
    words = section.split()
    if len(words) == 2 and words[0] == "profile":
        return words[1].strip("'\"")
    if section.strip() == "default":
        return "default"
    return None


def _expand(path: str) -> str:
    return os.path.expanduser(os.path.expandvars(path))
