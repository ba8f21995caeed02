"""A cached session's credential_process JSON, read and written without the json module.

The cache-hit path runs before every SDK call; json, the Credentials class and cache.py's
machinery cost more than the rest of it. Here the session file is trusted exactly as
SessionCache.load trusts it (a private regular file of ours, opened without following a link
or blocking, in a folder of ours nobody else can write) and read only when its text is
exactly what SessionCache.store writes with plain printable-ASCII values, so that its meaning
cannot differ from json's reading. Anything else returns None, and the caller takes the full
path (SessionCache, with its warnings). Tests hold both readings to the same answer.
"""

from __future__ import annotations

import os
import stat
import time

from .cache_dir import default_cache_dir
from .session_key import SessionKey

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing on the cache-hit path
if TYPE_CHECKING:
    from typing import List, Mapping, Optional


# cache.py's values (a test keeps them equal).
_MAX_FILE_BYTES = 64 * 1024
_REFRESH_MARGIN_SECONDS = 15 * 60
_POSIX = hasattr(os, "geteuid") and hasattr(os, "O_NOFOLLOW") and os.open in os.supports_dir_fd
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | _O_CLOEXEC
_DIRECTORY_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _O_CLOEXEC


def served_json(
    key: SessionKey, environ: Mapping[str, str], now: float, max_mfa_age: Optional[int] = None
) -> Optional[str]:
    """The credential_process JSON (without its final newline) that the full path would print
    for ``key`` at ``now`` under ``max_mfa_age``, or None: no servable session, or not sure."""
    if not _POSIX:
        return None
    raw = _read_trusted(default_cache_dir(environ), key.file_stem + ".json")
    if raw is None:
        return None
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        return None
    return _output(text.split("\n"), key, now, max_mfa_age)


def _read_trusted(directory: str, name: str) -> Optional[bytes]:
    """The file's bytes when SessionCache would read it without a warning; else None."""
    try:
        folder = os.open(directory, _DIRECTORY_FLAGS)
    except OSError:
        return None
    try:
        status = os.fstat(folder)
        if status.st_uid != os.geteuid() or status.st_mode & 0o022:
            return None
        fd = os.open(name, _READ_FLAGS, dir_fd=folder)
    except OSError:
        return None
    finally:
        os.close(folder)
    try:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode) or status.st_uid != os.geteuid() or status.st_mode & 0o077:
            return None
        if status.st_size > _MAX_FILE_BYTES:
            return None
        data = os.read(fd, status.st_size + 1)
        if len(data) != status.st_size:  # changed while read, or read short: let the full path judge
            return None
    except OSError:
        return None
    finally:
        os.close(fd)
    return data


def _output(lines: List[str], key: SessionKey, now: float, max_mfa_age: Optional[int]) -> Optional[str]:
    """Parse the exact text json.dumps(document, indent=2) gives a session document, check it
    as SessionCache.load and Credentials do, and give Credentials.to_json()'s text (its
    Expiration brought forward to the MFA max age, as credentials.served_until does)."""
    if lines[6:7] and lines[6].startswith('  "mfa_authenticated_at": '):
        mfa_at: Optional[str] = _value(lines.pop(6), "  ", "mfa_authenticated_at", ",")
        if mfa_at is None or not _is_number(mfa_at):
            return None
    else:  # a file of an older version: its issued time stands in (SessionCache.load does the same)
        mfa_at = None
    if len(lines) not in (15, 16) or lines[:2] != ["{", '  "format": 1,']:
        return None
    if lines[7:9] != ['  "credentials": {', '    "Version": 1,'] or lines[-2:] != ["  }", "}"]:
        return None
    with_account = len(lines) == 16
    profile = _string(_value(lines[2], "  ", "profile", ","))
    serial = _string(_value(lines[3], "  ", "mfa_serial", ","))
    duration = _integer(_value(lines[4], "  ", "duration", ","))
    issued_at = _value(lines[5], "  ", "issued_at", ",")
    expires_at = _integer(_value(lines[6], "  ", "expires_at", ","))
    access_key_id = _string(_value(lines[9], "    ", "AccessKeyId", ","))
    secret_access_key = _string(_value(lines[10], "    ", "SecretAccessKey", ","))
    session_token = _string(_value(lines[11], "    ", "SessionToken", ","))
    expiration = _string(_value(lines[12], "    ", "Expiration", "," if with_account else ""))
    account_id = _string(_value(lines[13], "    ", "AccountId", "")) if with_account else ""
    if (profile, serial, duration) != (key.profile, key.mfa_serial, key.duration):
        return None
    if issued_at is None or not _is_number(issued_at) or expires_at is None or account_id is None:
        return None
    if not (access_key_id and secret_access_key and session_token and expiration):
        return None
    mfa_time = float(issued_at if mfa_at is None else mfa_at)
    if not 0 <= mfa_time <= expires_at:  # SessionCache.load refuses the file
        return None
    until = expires_at if max_mfa_age is None else min(expires_at, int(mfa_time) + max_mfa_age)
    try:
        if expiration != time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expires_at)):
            return None
        if until != expires_at:
            expiration = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(until))
    except (OverflowError, ValueError, OSError):
        return None
    if not until - now > _REFRESH_MARGIN_SECONDS:
        return None
    account = f',\n  "AccountId": "{account_id}"' if account_id else ""
    return (
        f'{{\n  "Version": 1,\n  "AccessKeyId": "{access_key_id}",\n  "SecretAccessKey": "{secret_access_key}",\n'
        f'  "SessionToken": "{session_token}",\n  "Expiration": "{expiration}"{account}\n}}'
    )


def _value(line: str, indent: str, name: str, end: str) -> Optional[str]:
    """The value text of ``indent"name": VALUE{end}``, or None when the line is not that."""
    start = f'{indent}"{name}": '
    if not (line.startswith(start) and line.endswith(end)):
        return None
    return line[len(start) : len(line) - len(end)]


def _string(text: Optional[str]) -> Optional[str]:
    """A JSON string whose characters json writes as themselves (printable ASCII, no quote or
    backslash): then json.loads gives exactly the text between the quotes."""
    if text is None or len(text) < 2 or text[0] != '"' or text[-1] != '"':
        return None
    inner = text[1:-1]
    if not (inner.isascii() and inner.isprintable()) or '"' in inner or "\\" in inner:
        return None
    return inner


def _integer(text: Optional[str]) -> Optional[int]:
    """A positive JSON integer of at most 18 digits (int(), and json, read it alike)."""
    if text is None or not 0 < len(text) <= 18 or not (text.isdigit() and text.isascii()) or text[0] == "0":
        return None
    return int(text)


def _is_number(text: str) -> bool:
    """A JSON number json reads as an int or float: ``-?(0|[1-9][0-9]*)(.[0-9]+)?``, short enough
    for int() (json refuses integers of thousands of digits)."""
    if len(text) > 32:
        return False
    whole, dot, fraction = text[1:].partition(".") if text.startswith("-") else text.partition(".")
    if not (whole.isascii() and whole.isdigit()) or (len(whole) > 1 and whole[0] == "0"):
        return False
    return not dot or (fraction.isascii() and fraction.isdigit())
