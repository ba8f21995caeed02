"""Read one profile from the AWS config and credentials files, the way botocore does, and what
the files alone say about it (the merged profile, the long-term key botocore will use).

This is the light reader used on the cache-hit path, where importing botocore would cost
more than everything else together. It follows botocore's rules: the files named by
``AWS_CONFIG_FILE`` and ``AWS_SHARED_CREDENTIALS_FILE`` (else ``~/.aws/config`` and
``~/.aws/credentials``), ``[profile NAME]`` or ``[default]`` in the config file, ``[NAME]`` in
the credentials file, and credentials-file values winning over config-file ones.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing on the cache-hit path
if TYPE_CHECKING:
    from typing import Dict, List, Mapping, Optional, Tuple

    Profile = Dict[str, str]

# Profile keys with which botocore gets credentials before it looks at static keys.
_EARLIER_CREDENTIAL_SOURCES = ("role_arn", "web_identity_token_file", "sso_session", "sso_start_url")

# Larger than any AWS config or credentials file (a few KB): such a file is refused unread.
_MAX_FILE_SIZE = 1 << 20


def config_file_path(environ: Mapping[str, str]) -> str:
    return _expand(environ.get("AWS_CONFIG_FILE", "~/.aws/config"))


def credentials_file_path(environ: Mapping[str, str]) -> str:
    return _expand(environ.get("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials"))


def read_profile(name: str, environ: Mapping[str, str]) -> Tuple[Profile, Profile]:
    """Profile ``name`` as each file has it: (config file part, credentials file part)."""
    config_path = config_file_path(environ)
    credentials_path = credentials_file_path(environ)
    from_config = _profiles_in(config_path, is_config_file=True).get(name)
    from_credentials = _profiles_in(credentials_path, is_config_file=False).get(name)
    if from_config is None and from_credentials is None:
        from ..errors import ProfileNotFoundError  # here: the cache hit imports no error classes

        raise ProfileNotFoundError(
            f"profile '{name}' is not in {config_path} or {credentials_path}; "
            "check the --profile name (sections are [profile NAME] in config, [NAME] in credentials)"
        )
    return from_config or {}, from_credentials or {}


def all_profiles(environ: Mapping[str, str]) -> Dict[str, Tuple[Profile, Profile]]:
    """Every profile of both files, as ``read_profile`` gives each: (config part, credentials part)."""
    from_config = _profiles_in(config_file_path(environ), is_config_file=True)
    from_credentials = _profiles_in(credentials_file_path(environ), is_config_file=False)
    return {
        name: (from_config.get(name, {}), from_credentials.get(name, {}))
        for name in sorted(set(from_config) | set(from_credentials))
    }


def files_with_keys(from_config: Profile, from_credentials: Profile, environ: Mapping[str, str]) -> List[str]:
    """The files whose part of the profile sets a key (credentials file first, as botocore reads them)."""
    parts = ((credentials_file_path(environ), from_credentials), (config_file_path(environ), from_config))
    return [path for path, part in parts if part.get("aws_access_key_id") or part.get("aws_secret_access_key")]


def merge_profile(from_config: Profile, from_credentials: Profile) -> Profile:
    """The profile as botocore sees it: the credentials file's values win over the config file's."""
    return {**from_config, **from_credentials}


def static_access_key_id(profile: Profile, from_config: Profile, from_credentials: Profile) -> Optional[str]:
    """The key botocore will use, when the files alone decide it; None means ask botocore.

    ``profile`` is the merged profile. botocore's order for a named profile: role/web
    identity/SSO, then keys in the credentials file, then credential_process, then keys in the
    config file.
    """
    if any(profile.get(key) for key in _EARLIER_CREDENTIAL_SOURCES):
        return None
    if _has_keys(from_credentials):
        return _long_term_key(from_credentials)
    if profile.get("credential_process"):
        return None
    if _has_keys(from_config):
        return _long_term_key(from_config)
    return None


def credential_settings(profile: Profile) -> List[str]:
    """The keys of ``profile`` (merged) with which botocore gets credentials from the files: each
    of them comes before a container-credentials endpoint in every SDK's chain."""
    keys = (*_EARLIER_CREDENTIAL_SOURCES, "aws_access_key_id", "credential_process")
    return [key for key in keys if profile.get(key)]


def _has_keys(part: Profile) -> bool:
    return bool(part.get("aws_access_key_id") and part.get("aws_secret_access_key"))


def _long_term_key(part: Profile) -> Optional[str]:
    return None if part.get("aws_session_token") else part["aws_access_key_id"]


def _profiles_in(path: str, is_config_file: bool) -> Dict[str, Profile]:
    if not os.path.isfile(path):
        return {}
    import configparser  # here, not at the top: the cache hit uses static_access_key_id alone

    from ..errors import ConfigFileError

    try:
        size = os.stat(path).st_size
    except OSError as error:
        raise ConfigFileError(f"cannot read {path}: {error.strerror}") from error
    if size > _MAX_FILE_SIZE:  # a disk image or log named as the file would cost memory and time at every read
        variable = "AWS_CONFIG_FILE" if is_config_file else "AWS_SHARED_CREDENTIALS_FILE"
        kind = "config" if is_config_file else "credentials"
        mib = f"{size / (1 << 20):.1f}".rstrip("0").rstrip(".")
        raise ConfigFileError(f"{path} is {mib} MiB; an AWS {kind} file is a few KB: check {variable}")
    parser = configparser.RawConfigParser(interpolation=None)
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError) as error:
        # `from None`: configparser's own message quotes the line, and --verbose prints the chain
        raise ConfigFileError(
            f"cannot parse {path}: {describe_parse_error(error)}; fix the file's INI syntax"
        ) from None
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


def describe_parse_error(error: Exception) -> str:
    """Where the file is broken, in one line, by line number only: these files hold secret
    keys, so no part of their text is ever repeated in a message."""
    import configparser

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
