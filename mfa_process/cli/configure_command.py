"""`mfa-process configure`: set up ~/.aws/config so that a profile uses mfa-process.

It edits the file as text (comments, order and spacing stay as they are), writes it
atomically after keeping a backup, changes nothing when nothing needs changing, and then
says whether the base profile has the long-term keys it needs.
"""

from __future__ import annotations

import configparser
import os
import shlex
import stat
import sys
from typing import Dict, List, Mapping, Set, TextIO, Tuple

from ..config.aws_files import config_file_path, credentials_file_path, read_profile
from ..config.configure import (
    check_profile_name,
    plan,
    plugin_command,
    shown,
    write_with_backup,
)
from ..config.ini_edit import profiles_of, read_config
from ..config.mfa_device import parse_mfa_serial
from ..config.settings import static_access_key_id
from ..errors import (
    ConfigFileError,
    ConfigWriteError,
    InvalidMfaSerialError,
    ProfileNotFoundError,
)
from .common import add_profile_option, add_verbose_option, new_parser

Profile = Dict[str, str]

EXAMPLES = """\
examples:
  mfa-process configure --profile base --mfa-serial arn:aws:iam::123456789012:mfa/alice
  mfa-process configure --profile base --as work-mfa    name the new profile work-mfa
  aws sts get-caller-identity --profile mfa             then use it
"""


def run(argv: List[str], environ: Mapping[str, str], stdout: TextIO) -> int:
    parser = new_parser(
        "mfa-process configure",
        "Add a profile that runs mfa-process for a base profile, and set the base's mfa_serial.",
        EXAMPLES,
    )
    add_profile_option(parser)
    parser.add_argument("--mfa-serial", metavar="ARN", help="the MFA device to set as the base profile's mfa_serial")
    parser.add_argument(
        "--as", dest="plugin_profile", default="mfa", metavar="NEW_PROFILE", help="the profile to add (default mfa)"
    )
    parser.add_argument("--force", action="store_true", help="replace a different credential_process in NEW_PROFILE")
    add_verbose_option(parser)
    args = parser.parse_args(argv)

    check_profile_name("--profile", args.profile)
    check_profile_name("--as", args.plugin_profile)
    path = config_file_path(environ)
    text = _read_text(path)
    from_config, from_credentials = _read_base_profile(args.profile, text, environ)
    base = {**from_config, **from_credentials}
    if args.mfa_serial is not None:
        parse_mfa_serial(args.mfa_serial)
    elif not base.get("mfa_serial"):
        raise InvalidMfaSerialError(
            f"profile '{args.profile}' has no mfa_serial; pass --mfa-serial arn:aws:iam::ACCOUNT:mfa/NAME"
        )
    new_text, changes = plan(
        text,
        args.profile,
        args.plugin_profile,
        args.mfa_serial,
        plugin_command(sys.argv[0], sys.executable),
        base.get("region"),
        args.force,
    )
    if changes:
        try:
            backup = write_with_backup(path, new_text, expected=text)
        except OSError as error:
            raise ConfigWriteError(f"cannot write {path}: {error.strerror or error}; it is unchanged") from None
        for change in changes:
            stdout.write(f"{path}: {change}\n")
        if backup:
            stdout.write(f"previous version kept as {backup}\n")
    else:
        stdout.write(f"{path}: already configured, nothing changed\n")
    stdout.write(_keys_report(args.profile, from_config, from_credentials, environ))
    glue = "=" if args.plugin_profile.startswith("-") else " "
    stdout.write(f"try it: aws sts get-caller-identity --profile{glue}{shlex.quote(args.plugin_profile)}\n")
    return 0


MAX_LISTED = 20


def _read_base_profile(profile: str, config_text: str, environ: Mapping[str, str]) -> Tuple[Profile, Profile]:
    """The base profile's two parts. One that exists in neither file is an error naming those
    that do: configure would otherwise write a profile with no keys behind it."""
    try:
        return read_profile(profile, environ)
    except ProfileNotFoundError as error:
        names = _profile_names(config_text, credentials_file_path(environ))
        listed = ", ".join(shown(name) for name in names[:MAX_LISTED])
        more = f" and {len(names) - MAX_LISTED} more" if len(names) > MAX_LISTED else ""
        there = f"the profiles there are {listed}{more}" if names else "they hold no profile yet"
        raise ProfileNotFoundError(
            f"profile {shown(profile)} is not in {config_file_path(environ)} or {credentials_file_path(environ)}; "
            f"{there}: check --profile, or add the base profile's keys first (aws configure --profile NAME)"
        ) from error


def _profile_names(config_text: str, credentials_path: str) -> List[str]:
    names: Set[str] = set()
    try:
        names.update(profiles_of(read_config(config_text)[0]))
    except configparser.Error:
        pass
    if not os.path.isfile(credentials_path):  # as aws_config reads it: a FIFO would block
        return sorted(names)
    parser = configparser.RawConfigParser()
    try:
        parser.read(credentials_path, encoding="utf-8")
        names.update(parser.sections())
    except (configparser.Error, OSError, UnicodeDecodeError):
        pass
    return sorted(names)


def _keys_report(profile: str, from_config: Profile, from_credentials: Profile, environ: Mapping[str, str]) -> str:
    merged = {**from_config, **from_credentials}
    if static_access_key_id(merged, from_config, from_credentials):
        return f"profile '{profile}' has long-term access keys: ready\n"
    if merged.get("aws_session_token"):
        return (
            f"profile '{profile}' holds temporary keys (aws_session_token); GetSessionToken needs an IAM "
            f"user's long-term access keys in [{profile}] of {credentials_file_path(environ)}\n"
        )
    if any(merged.get(key) for key in ("credential_process", "role_arn", "sso_session", "sso_start_url")):
        return (
            f"profile '{profile}' gets its keys from another source; they must be an IAM user's "
            "long-term access keys (not a role or SSO session)\n"
        )
    missing = [key for key in ("aws_access_key_id", "aws_secret_access_key") if not merged.get(key)]
    return (
        f"profile '{profile}' is missing {' and '.join(missing)}: add them to [{profile}] in "
        f"{credentials_file_path(environ)} (aws configure --profile {profile})\n"
    )


def _read_text(path: str) -> str:
    """The config file's text ("" if there is none), read without blocking: a FIFO at the path
    would hang a plain open() for ever; configure edits only regular files."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        return ""
    except OSError as error:
        raise ConfigFileError(f"cannot read {path}: {error.strerror}") from None
    try:
        with os.fdopen(fd, "rb") as config_file:
            if not stat.S_ISREG(os.fstat(config_file.fileno()).st_mode):
                raise ConfigFileError(f"{path} is not a regular file; configure edits only regular files")
            data = config_file.read()
    except OSError as error:
        raise ConfigFileError(f"cannot read {path}: {error.strerror}") from None
    try:
        return data.decode("utf-8")  # newlines as they are: the editor keeps each line's own ending
    except UnicodeDecodeError as error:
        raise ConfigFileError(f"cannot read {path}: {error}") from None
