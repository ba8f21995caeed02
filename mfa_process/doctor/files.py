"""Link 1: the AWS config and credentials files, found where botocore looks for them
(AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/config and ~/.aws/credentials) and
parsed by the reader every run uses, so that a broken line is named as a run would name it."""

from __future__ import annotations

import os
import stat
from typing import Dict, List, Mapping, Optional, Tuple

from ..config.aws_files import all_profiles, config_file_path, credentials_file_path
from ..errors import ConfigFileError
from .report import FAIL, Finding, fail, from_message, ok, warning

CONFIG_VARIABLE = "AWS_CONFIG_FILE"
CREDENTIALS_VARIABLE = "AWS_SHARED_CREDENTIALS_FILE"
SETUP_FIX = (
    "put your access keys in a profile first (`aws configure --profile BASE`), then "
    "create it with `mfa-process configure --profile BASE --mfa-serial ARN`"
)

Profiles = Dict[str, Tuple[Dict[str, str], Dict[str, str]]]


class AwsFiles:
    """Both files' paths and their profiles as a run reads them (name -> (config part,
    credentials part)); ``profiles`` is None when a file cannot be read: then nothing can be
    said about any profile."""

    def __init__(self, config_path: str, credentials_path: str, profiles: Optional[Profiles]) -> None:
        self.config_path = config_path
        self.credentials_path = credentials_path
        self.profiles = profiles


def check_files(environ: Mapping[str, str]) -> Tuple[List[Finding], AwsFiles]:
    config_path, credentials_path = config_file_path(environ), credentials_file_path(environ)
    config_alone, credentials_alone = {**environ, CREDENTIALS_VARIABLE: ""}, {**environ, CONFIG_VARIABLE: ""}
    findings = [
        _check_file("config file", config_path, CONFIG_VARIABLE, config_alone, environ, required=True),
        _check_file("credentials file", credentials_path, CREDENTIALS_VARIABLE, credentials_alone, environ),
    ]
    mode = _others_can_read(credentials_path)
    if mode is not None:
        findings.append(
            warning(
                f"credentials file {credentials_path}: other users can read it (mode {mode:04o})",
                f"make it private: chmod 600 {credentials_path}",
            )
        )
    try:
        profiles: Optional[Profiles] = all_profiles(environ)
    except ConfigFileError:  # said above, of the file it is in
        profiles = None
    return findings, AwsFiles(config_path, credentials_path, profiles)


def _check_file(
    kind: str, path: str, variable: str, alone: Mapping[str, str], environ: Mapping[str, str], required: bool = False
) -> Finding:
    """One file: found, a file, and parsed (``alone``: the environment with the other file named
    as nothing, so that only this one is read). Only the config file is ``required``: the keys
    may be in the keyring, or in the config file itself."""
    named = f" (from {variable})" if environ.get(variable) else ""
    if not os.path.lexists(path):
        if required:
            return fail(f"{kind} {path}{named}: not found", f"{SETUP_FIX}, or point {variable} at yours")
        return ok(f"{kind} {path}{named}: none (fine when the keys are in the keyring or the config file)")
    if not os.path.isfile(path):
        what = "a link to nothing" if not os.path.exists(path) else "not a file"
        return fail(f"{kind} {path}{named}: {what}", f"put the file there, or point {variable} at it")
    try:
        count = len(all_profiles(alone))
    except ConfigFileError as error:
        found = from_message(FAIL, kind, str(error))
        found.fix = found.fix or f"make it readable by you: ls -l {path}"
        return found
    return ok(f"{kind} {path}{named}: {count} profile{'' if count == 1 else 's'}")


def _others_can_read(path: str) -> Optional[int]:
    """The credentials file's mode when its group or others may read it (POSIX), else None."""
    if os.name != "posix":
        return None
    try:
        status = os.stat(path)
    except OSError:
        return None
    return stat.S_IMODE(status.st_mode) if stat.S_ISREG(status.st_mode) and status.st_mode & 0o044 else None
