"""On-disk cache of MFA sessions: one JSON file per session key, replaced atomically.

A reader sees the old file or the new one, never half of either: writers go through a temp
file in the same folder, fsync, then ``os.replace``. Anything unreadable is a miss, so a
damaged file costs one prompt, never a crash.
"""

from __future__ import annotations

import json
import os
import re
import time

from .credentials import Credentials

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing on the cache-hit path
if TYPE_CHECKING:
    from typing import Iterator, List, Optional

try:  # CPython's own SHA-256: hashlib would load OpenSSL first, ~3 ms on every cache hit
    from _sha256 import sha256  # Python < 3.12
except ImportError:
    try:
        from _sha2 import sha256  # Python >= 3.12
    except ImportError:
        from hashlib import sha256

_FORMAT = 1
_MAX_FILE_BYTES = 64 * 1024
_STALE_TEMP_SECONDS = 600
_UNSAFE_FILENAME_CHARS = re.compile(r"[^A-Za-z0-9_.-]")


class SessionKey:
    """What makes two sessions interchangeable: same base profile and keys, device, duration."""

    __slots__ = ("profile", "base_access_key_id", "mfa_serial", "duration")

    def __init__(self, profile: str, base_access_key_id: str, mfa_serial: str, duration: int) -> None:
        self.profile = profile
        self.base_access_key_id = base_access_key_id
        self.mfa_serial = mfa_serial
        self.duration = duration

    @property
    def file_stem(self) -> str:
        identity = "\0".join((self.profile, self.base_access_key_id, self.mfa_serial, str(self.duration)))
        digest = sha256(identity.encode("utf-8")).hexdigest()[:24]
        readable = _UNSAFE_FILENAME_CHARS.sub("_", self.profile)[:48]
        if readable.startswith("."):  # hidden files are temp files here, and not listed
            readable = "_" + readable[1:]
        return f"{readable}.{digest}"


class CachedSession:
    """A session as stored: what it was issued for, when, and where it lies."""

    __slots__ = ("profile", "mfa_serial", "duration", "issued_at", "credentials", "path")

    def __init__(
        self, profile: str, mfa_serial: str, duration: int, issued_at: float, credentials: Credentials, path: str
    ) -> None:
        self.profile = profile
        self.mfa_serial = mfa_serial
        self.duration = duration
        self.issued_at = issued_at
        self.credentials = credentials
        self.path = path


class SessionCache:
    def __init__(self, directory: str) -> None:
        self.directory = directory

    def path_for(self, key: SessionKey) -> str:
        return os.path.join(self.directory, key.file_stem + ".json")

    def lock_path_for(self, key: SessionKey) -> str:
        return os.path.join(self.directory, key.file_stem + ".lock")

    def load(self, key: SessionKey) -> Optional[CachedSession]:
        """The session stored for ``key``, or None when absent, damaged or someone else's."""
        session = self._read(self.path_for(key))
        if session is None or (session.profile, session.mfa_serial, session.duration) != (
            key.profile,
            key.mfa_serial,
            key.duration,
        ):
            return None
        return session

    def store(self, key: SessionKey, credentials: Credentials, issued_at: float) -> str:
        """Write the session for ``key`` atomically (0600 file in a 0700 folder)."""
        import tempfile

        self.ensure_directory()
        self._remove_stale_temp_files()
        document = {
            "format": _FORMAT,
            "profile": key.profile,
            "mfa_serial": key.mfa_serial,
            "duration": key.duration,
            "issued_at": round(issued_at, 3),
            "expires_at": credentials.expires_at,
            "credentials": credentials.process_output(),
        }
        path = self.path_for(key)
        fd, temp_path = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=self.directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as temp_file:
                json.dump(document, temp_file, indent=2)
                temp_file.flush()
                os.fsync(temp_file.fileno())
            os.replace(temp_path, path)
        except BaseException:
            _unlink_quietly(temp_path)
            raise
        self._sync_directory()
        return path

    def sessions(self) -> Iterator[CachedSession]:
        """Every readable session file, in file-name order."""
        for path in self._session_files():
            session = self._read(path)
            if session is not None:
                yield session

    def damaged_files(self) -> List[str]:
        """Session files that cannot be read as a session (each is a cache miss)."""
        return [path for path in self._session_files() if self._read(path) is None]

    def _session_files(self) -> List[str]:
        try:
            names = sorted(os.listdir(self.directory))
        except OSError:
            return []
        return [
            os.path.join(self.directory, name) for name in names if name.endswith(".json") and not name.startswith(".")
        ]

    def _read(self, path: str) -> Optional[CachedSession]:
        try:
            with open(path, "rb") as cache_file:
                raw = cache_file.read(_MAX_FILE_BYTES + 1)
            if len(raw) > _MAX_FILE_BYTES:
                return None
            document = json.loads(raw)
        except (OSError, ValueError, RecursionError):
            return None
        if not isinstance(document, dict) or document.get("format") != _FORMAT:
            return None
        profile, serial = document.get("profile"), document.get("mfa_serial")
        duration, issued_at = document.get("duration"), document.get("issued_at")
        if not (isinstance(profile, str) and isinstance(serial, str)):
            return None
        if not isinstance(duration, int) or isinstance(duration, bool):
            return None
        if not isinstance(issued_at, (int, float)) or isinstance(issued_at, bool):
            return None
        credentials = Credentials.from_process_output(document.get("credentials"), document.get("expires_at"))
        if credentials is None:
            return None
        return CachedSession(profile, serial, duration, issued_at, credentials, path)

    def ensure_directory(self) -> None:
        """Create the cache folder private to this user (0700), tightening it if needed."""
        os.makedirs(self.directory, mode=0o700, exist_ok=True)
        if os.stat(self.directory).st_mode & 0o077:
            os.chmod(self.directory, 0o700)

    def _remove_stale_temp_files(self) -> None:
        """Temp files of writers killed mid-write; harmless, but they should not pile up."""
        cutoff = time.time() - _STALE_TEMP_SECONDS
        for name in os.listdir(self.directory):
            if name.startswith(".tmp-"):
                path = os.path.join(self.directory, name)
                try:
                    if os.stat(path).st_mtime < cutoff:
                        os.unlink(path)
                except OSError:
                    pass

    def _sync_directory(self) -> None:
        """Make the rename itself durable (POSIX; Windows has no directory handles to sync)."""
        if not hasattr(os, "O_DIRECTORY"):
            return
        try:
            fd = os.open(self.directory, os.O_RDONLY | os.O_DIRECTORY)
        except OSError:
            return
        try:
            os.fsync(fd)
        except OSError:
            pass
        finally:
            os.close(fd)


def _unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
