"""Read a profile from the AWS files without configparser, when the files are plain enough.

The cache-hit path reads two small files on every SDK call, and importing configparser costs
more than reading them. This reader accepts only a strict subset of INI in which configparser
(as ``aws_files`` uses it) cannot read anything differently: ``[header]`` lines, ``key = value``
lines starting in the first column, blank lines and full-line comments, UTF-8 text with no
control, format or non-ASCII space characters. Anything else (a continuation line, an indented
key, a repeated section or key, ``[DEFAULT]``, a quoted profile name, a line configparser would
refuse, an unreadable file) is "not sure": it returns None and ``aws_files`` decides, errors
included. A hypothesis test holds both readers to the same answer.
"""

from __future__ import annotations

import os
import stat

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing on the cache-hit path
if TYPE_CHECKING:
    from typing import Dict, List, Mapping, Optional, Tuple

    Profile = Dict[str, str]
    Sections = List[Tuple[str, Profile]]

_MAX_FILE_BYTES = 1024 * 1024  # larger files are left to configparser
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
_COMMENT_PREFIXES = ("#", ";")  # configparser's defaults, full-line comments only
_DEFAULT_SECTION = "DEFAULT"  # configparser merges it into every section: not handled here


def read_profile_plainly(name: str, environ: Mapping[str, str]) -> Optional[Tuple[Profile, Profile]]:
    """Profile ``name`` as (config file part, credentials file part), exactly as
    ``aws_files.read_profile`` returns it; None when not sure or when that would raise."""
    from_config = _profiles_in(_config_file_path(environ), is_config_file=True)
    if from_config is None:
        return None
    from_credentials = _profiles_in(_credentials_file_path(environ), is_config_file=False)
    if from_credentials is None:
        return None
    config_part, credentials_part = from_config.get(name), from_credentials.get(name)
    if config_part is None and credentials_part is None:  # aws_files raises ProfileNotFoundError
        return None
    return config_part or {}, credentials_part or {}


def _config_file_path(environ: Mapping[str, str]) -> str:
    return _expand(environ.get("AWS_CONFIG_FILE", "~/.aws/config"))


def _credentials_file_path(environ: Mapping[str, str]) -> str:
    return _expand(environ.get("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials"))


def _expand(path: str) -> str:
    return os.path.expanduser(os.path.expandvars(path))


def _profiles_in(path: str, is_config_file: bool) -> Optional[Dict[str, Profile]]:
    """Every profile of the file at ``path`` ({} when there is no regular file, as
    os.path.isfile decides); None when not sure."""
    text = _read_text(path)
    if text is None:
        return None
    sections = plain_sections(text)
    if sections is None:
        return None
    profiles: Dict[str, Profile] = {}
    for section, values in sections:
        if not is_config_file:
            profiles[section] = values
            continue
        if any(char in section for char in "\"'\\"):  # aws_files asks shlex
            return None
        profile_name = _config_profile_name(section)
        if profile_name is not None:
            profiles[profile_name] = values  # a later section of the same name wins, as there
    return profiles


def _read_text(path: str) -> Optional[str]:
    """The file's text ("" when os.path.isfile would say no file); None when not sure."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return ""
    except (OSError, ValueError):
        return ""
    try:
        fd = os.open(path, _READ_FLAGS)  # without blocking: a FIFO put there since is no hang
    except OSError:  # configparser would skip the file: let it
        return None
    try:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode) or status.st_size > _MAX_FILE_BYTES:
            return None
        data = os.read(fd, status.st_size + 1)  # sized to the file: a 1 MiB buffer costs more than the read
    except OSError:
        return None
    finally:
        os.close(fd)
    if len(data) != status.st_size:  # changed while read, or read short: not sure
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text.replace("\r\n", "\n").replace("\r", "\n")  # what text mode's universal newlines do


def plain_sections(text: str) -> Optional[Sections]:
    """The sections of ``text`` in file order, each with its keys (lower case) and stripped
    values, as RawConfigParser reads them; None for anything outside the plain subset."""
    sections: Sections = []
    seen = set()
    current: Optional[Profile] = None
    for line in text.split("\n"):  # text mode splits on \n only (not on \x0b, \x1c, \u2028...)
        if not (line.isprintable() or line.replace("\t", " ").isprintable()):
            return None  # control, format or non-ASCII space characters: strip() and \s differ
        content = line.strip()
        if not content or content.startswith(_COMMENT_PREFIXES):
            continue  # no continuation line follows (see below), so blank lines change nothing
        if line[0] in " \t":
            return None  # a continuation line, or a key or header configparser reads by indent
        if content.startswith("["):
            header = content[1:-1]
            if not (content.endswith("]") and header) or "[" in header or "]" in header:
                return None
            if header == _DEFAULT_SECTION or header in seen:
                return None
            seen.add(header)
            current = {}
            sections.append((header, current))
            continue
        if current is None:
            return None  # a key before any section: configparser refuses the file
        delimiters = [index for index in (content.find("="), content.find(":")) if index >= 0]
        if not delimiters:
            return None
        split = min(delimiters)
        key = content[:split].rstrip().lower()
        if not key or key in current:
            return None
        current[key] = content[split + 1 :].strip()
    return sections


def _config_profile_name(section: str) -> Optional[str]:
    """botocore's reading of an unquoted config-file section name, as aws_files has it."""
    if section == "default":
        return section
    if not section.startswith("profile"):
        return None
    words = section.split()
    return words[1] if len(words) == 2 else None
