"""On-disk cache of MFA sessions: one JSON file per session key, replaced atomically.

A reader sees the old file or the new one, never half of either: writers go through a temp
file in the same folder, fsync, then ``os.replace``. Anything unreadable is a miss, so a
damaged file costs one prompt, never a crash.

Nothing is trusted that this user did not create (POSIX): a session is served only from a regular
file of ours with no group/other bits, in a folder of ours that nobody else can write, opened
without following links or blocking on a FIFO. Anything else is a miss and one warning, which
the caller collects with ``pop_warnings()``: the library never prints.
"""

from __future__ import annotations

import json
import os
import re
import stat
import time

from ..errors import UnsafeCacheError
from .credentials import Credentials
from .session_key import SessionKey

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing on the cache-hit path
if TYPE_CHECKING:
    from typing import Dict, Iterator, List, Optional, Tuple, Union

_FORMAT = 1
_MAX_FILE_BYTES = 64 * 1024
_STALE_TEMP_SECONDS = 600
_TEMP_PREFIX = ".tmp-"  # a writer's temporary file: hidden, never a session name
_SESSION_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,47}\.[0-9a-f]{24}\.json\Z")  # what file_stem gives
_POSIX = hasattr(os, "geteuid") and hasattr(os, "O_NOFOLLOW") and os.open in os.supports_dir_fd
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | _O_CLOEXEC
_DIRECTORY_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _O_CLOEXEC


class CachedSession:
    """A session as stored: what it was issued for, when, and where it lies."""

    __slots__ = ("profile", "mfa_serial", "duration", "issued_at", "credentials", "path", "mfa_authenticated_at")

    def __init__(
        self,
        profile: str,
        mfa_serial: str,
        duration: int,
        issued_at: float,
        credentials: Credentials,
        path: str,
        mfa_authenticated_at: Optional[float] = None,
    ) -> None:
        self.profile = profile
        self.mfa_serial = mfa_serial
        self.duration = duration
        self.issued_at = issued_at
        self.credentials = credentials
        self.path = path
        # when the code was sent (aws:MultiFactorAuthAge counts from there); files of older
        # versions have none: their issued time stands in
        self.mfa_authenticated_at = issued_at if mfa_authenticated_at is None else mfa_authenticated_at


class SessionCache:
    def __init__(self, directory: str) -> None:
        self.directory = directory
        self._noted: Dict[str, str] = {}  # path -> the one warning about it
        self._pending: List[str] = []

    def path_for(self, key: SessionKey) -> str:
        return os.path.join(self.directory, key.file_stem + ".json")

    def lock_path_for(self, key: SessionKey) -> str:
        return os.path.join(self.directory, key.file_stem + ".lock")

    def pop_warnings(self) -> List[str]:
        """What was not trusted since the last call, one message per path (each names the fix)."""
        pending, self._pending = self._pending, []
        return pending

    def load(self, key: SessionKey) -> Optional[CachedSession]:
        """The session stored for ``key``, or None when absent, damaged, untrusted or someone else's."""
        folder = self._open_folder()
        if folder is None:
            return None
        try:
            session = self._read(folder, key.file_stem + ".json")
        finally:
            _close(folder)
        if session is None or (session.profile, session.mfa_serial, session.duration) != (
            key.profile,
            key.mfa_serial,
            key.duration,
        ):
            return None
        return session

    def store(
        self, key: SessionKey, credentials: Credentials, issued_at: float, mfa_authenticated_at: Optional[float] = None
    ) -> str:
        """Write the session for ``key`` atomically (0600 file in a 0700 folder)."""
        from ..system.atomic_write import replace_atomically  # the miss path only

        self.ensure_directory()
        self._remove_stale_temp_files()
        document = {
            "format": _FORMAT,
            "profile": key.profile,
            "mfa_serial": key.mfa_serial,
            "duration": key.duration,
            "issued_at": round(issued_at, 3),
            "mfa_authenticated_at": round(issued_at if mfa_authenticated_at is None else mfa_authenticated_at, 3),
            "expires_at": credentials.expires_at,
            "credentials": credentials.process_output(),
        }
        path = self.path_for(key)
        data = json.dumps(document, indent=2).encode("utf-8")
        replace_atomically(path, data, 0o600, temp_prefix=_TEMP_PREFIX, temp_suffix=".json")
        return path

    def entries(self) -> Iterator[Tuple[str, Optional[CachedSession]]]:
        """Every file named like a session, in file-name order, each read once: its path, and its
        session, or None when it cannot be read as a session of ours (a cache miss)."""
        folder = self._open_folder()
        if folder is None:
            return
        try:
            for name in self._session_names(folder):
                yield os.path.join(self.directory, name), self._read(folder, name)
        finally:
            _close(folder)

    def sessions(self) -> Iterator[CachedSession]:
        """Every readable session file, in file-name order."""
        return (session for _, session in self.entries() if session is not None)

    def damaged_files(self) -> List[str]:
        """Session files that cannot be read as a session of ours (each is a cache miss)."""
        return [path for path, session in self.entries() if session is None]

    def remove(self, session_or_path: Union[CachedSession, str]) -> bool:
        """Remove one session file and its lock file; False if it was not there (or is not a
        session file of this cache: nothing else is ever removed)."""
        path = session_or_path.path if isinstance(session_or_path, CachedSession) else session_or_path
        name = os.path.basename(path)
        if os.path.join(self.directory, name) != path or not _SESSION_NAME.match(name):
            return False
        folder = self._open_folder()
        if folder is None:
            return False
        try:
            return self._remove(folder, name)
        finally:
            _close(folder)

    def remove_profile(self, profile: str) -> List[str]:
        """Remove the sessions of base profile ``profile`` (and their lock files): their paths."""
        return [session.path for session in self.sessions() if session.profile == profile and self.remove(session)]

    def remove_all(self) -> List[str]:
        """Remove every session file, damaged ones too, and the lock files of sessions: nothing
        else in the folder, which may be shared (a symbolic link to a project, say). A JSON
        document that is no session is left, though named like one (a fixture named after a
        24-hex-digit MongoDB ObjectId), with a warning."""
        folder = self._open_folder()
        if folder is None:
            return []
        try:
            removed = [
                os.path.join(self.directory, name)
                for name in self._session_names(folder)
                if self._is_session_or_damaged(folder, name) and self._remove(folder, name)
            ]
            for name in _list(folder, self.directory):  # lock files whose session is gone (a fetch that failed)
                if name.endswith(".lock") and _SESSION_NAME.match(name[: -len(".lock")] + ".json"):
                    self._remove_lock_file(folder, name)
            return removed
        finally:
            _close(folder)

    def ensure_directory(self) -> None:
        """Create the cache folder, each missing level 0700 whatever the umask, and make sure it
        can be trusted: ours, and writable by nobody else (a real folder of ours is tightened;
        a symbolic link is never chmod-ed through: its target may be /tmp)."""
        if not _POSIX:
            os.makedirs(self.directory, exist_ok=True)
            return
        _make_private_folders(self.directory)
        try:
            fd = os.open(self.directory, _DIRECTORY_FLAGS | os.O_NOFOLLOW)
        except OSError:
            if not os.path.islink(self.directory):
                raise
            status = os.stat(self.directory)  # a linked folder: judged by its target, never changed
            problem = _folder_problem(self.directory, status, linked=True)
            if problem:
                raise UnsafeCacheError(self._note(self.directory, problem)) from None
            return
        try:
            status = os.fstat(fd)
            problem = _folder_problem(self.directory, status, linked=False)
            if problem and status.st_uid != os.geteuid():  # not ours to fix; others' write bits are
                raise UnsafeCacheError(self._note(self.directory, problem))
            if stat.S_IMODE(status.st_mode) != 0o700:
                os.fchmod(fd, 0o700)  # our own folder: through the descriptor, so never through a link
        finally:
            os.close(fd)

    # --- reading without trusting ---------------------------------------------------------------

    def _note(self, path: str, problem: str) -> str:
        """Remember one warning per path (a folder is looked at several times in one run)."""
        if path not in self._noted:
            self._noted[path] = problem
            self._pending.append(problem)
        return self._noted[path]

    def _open_folder(self) -> Optional[int]:
        """A descriptor of the cache folder if it can be trusted (-1 where the platform has no
        owners to check), else None: the files are then opened relative to what was checked."""
        if not _POSIX:
            return -1 if os.path.isdir(self.directory) else None
        try:
            fd = os.open(self.directory, _DIRECTORY_FLAGS)
        except OSError:  # absent, or not a folder (a FIFO does not block: O_DIRECTORY fails first)
            return None
        problem = _folder_problem(self.directory, os.fstat(fd), None)
        if problem:
            os.close(fd)
            self._note(self.directory, problem)
            return None
        return fd

    def _session_names(self, folder: int) -> List[str]:
        return [name for name in _list(folder, self.directory) if _SESSION_NAME.match(name)]

    def _read(self, folder: int, name: str) -> Optional[CachedSession]:
        path = os.path.join(self.directory, name)
        raw = self._read_bytes(folder, name, path)
        if raw is None:
            return None
        try:
            document = json.loads(raw)
        except (ValueError, RecursionError):
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
        mfa_at = document.get("mfa_authenticated_at", issued_at)
        # between the epoch and the expiry, or the file is damaged (NaN, infinity and huge numbers included)
        if (
            not isinstance(mfa_at, (int, float))
            or isinstance(mfa_at, bool)
            or not 0 <= mfa_at <= credentials.expires_at
        ):
            return None
        return CachedSession(profile, serial, duration, issued_at, credentials, path, mfa_at)

    def _read_bytes(self, folder: int, name: str, path: str) -> Optional[bytes]:
        """The file's bytes if it is a regular file of ours, private and at most 64 KiB.

        Opened without following a link and without blocking (a FIFO would hang every SDK call),
        then judged by what was opened (fstat), not by a name that can change in between."""
        try:
            if folder < 0:
                fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
            else:
                fd = os.open(name, _READ_FLAGS, dir_fd=folder)
        except FileNotFoundError:
            return None
        except OSError:
            if folder >= 0 and _is_link(name, folder):
                self._note(
                    path, f"the cache file {path} is a symbolic link, so it is not served; remove it (rm {path})"
                )
            return None
        try:
            status = os.fstat(fd)
            if folder >= 0:
                problem = _file_problem(path, status)
                if problem:
                    self._note(path, problem)
                    return None
            if status.st_size > _MAX_FILE_BYTES:
                return None
            chunks = []
            size = 0
            while size <= _MAX_FILE_BYTES:
                chunk = os.read(fd, _MAX_FILE_BYTES + 1 - size)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
        except OSError:
            return None
        finally:
            os.close(fd)
        return None if size > _MAX_FILE_BYTES else b"".join(chunks)

    # --- removing -------------------------------------------------------------------------------

    def _remove(self, folder: int, name: str) -> bool:
        """Unlink a session file (unlink never follows a link) and its lock file."""
        try:
            if folder < 0:
                os.unlink(os.path.join(self.directory, name))
            else:
                os.unlink(name, dir_fd=folder)
        except FileNotFoundError:  # another logout got there first: fine
            removed = False
        except OSError:  # a folder under a session's name, say: not ours to remove
            return False
        else:
            removed = True
        self._remove_lock_file(folder, name[: -len(".json")] + ".lock")
        return removed

    def _is_session_or_damaged(self, folder: int, name: str) -> bool:
        """True for a session file (of any age or mode), or one that is not JSON at all (damaged);
        False for a JSON document of another shape, or anything too large to be a session."""
        path = os.path.join(self.directory, name)
        try:
            fd = os.open(path, os.O_RDONLY) if folder < 0 else os.open(name, _READ_FLAGS, dir_fd=folder)
        except OSError:  # a link (unlinking it touches nothing else) or gone
            return True
        try:
            status = os.fstat(fd)
            if not stat.S_ISREG(status.st_mode):
                return True
            raw = os.read(fd, _MAX_FILE_BYTES + 1) if status.st_size <= _MAX_FILE_BYTES else None
        except OSError:
            return True
        finally:
            os.close(fd)
        if raw is not None:
            try:
                document = json.loads(raw)
            except (ValueError, RecursionError):  # empty, cut off, not JSON: a damaged session
                return True
            if isinstance(document, dict) and document.get("format") == _FORMAT and "credentials" in document:
                return True
        self._note(path, f"{path} is named like a session but holds something else, so it was left alone")
        return False

    def _remove_lock_file(self, folder: int, name: str) -> None:
        """Unlink a lock file nobody holds (lock.remove_if_unheld); an entry planted under a lock's
        name that is no lock file of ours is removed as it is."""
        if folder < 0:
            _unlink_quietly(os.path.join(self.directory, name))
            return
        from .lock import remove_if_unheld

        if not remove_if_unheld(folder, name):  # a link or something else planted under a lock's name
            _unlink_quietly(name, folder)

    def _remove_stale_temp_files(self) -> None:
        """Temp files of writers killed mid-write; harmless, but they should not pile up."""
        cutoff = time.time() - _STALE_TEMP_SECONDS
        for name in os.listdir(self.directory):
            if name.startswith(_TEMP_PREFIX):
                path = os.path.join(self.directory, name)
                try:
                    if os.lstat(path).st_mtime < cutoff:
                        os.unlink(path)
                except OSError:
                    pass


def _folder_problem(path: str, status: os.stat_result, linked: Optional[bool]) -> Optional[str]:
    """Why the cache folder cannot be trusted, and the fix; None if it can.

    ``linked``: whether ``path`` is a symbolic link (None: find out, only when there is a problem)."""
    foreign = status.st_uid != os.geteuid()
    writable = status.st_mode & 0o022
    if not (foreign or writable):
        return None
    if linked is None:
        linked = os.path.islink(path)
    what = (
        f"belongs to uid {status.st_uid}, not to you"
        if foreign
        else (f"can be written by other users (mode {stat.S_IMODE(status.st_mode):04o})")
    )
    if linked:
        return (
            f"the cache folder {path} is a symbolic link to a folder that {what}, so its sessions are not "
            f"served; remove the link (rm {path}) and mfa-process creates a private folder"
        )
    if foreign:
        return f"the cache folder {path} {what}, so its sessions are not served; remove it (rm -r {path})"
    return f"the cache folder {path} {what}, so its sessions are not served; make it private: chmod 700 {path}"


def _file_problem(path: str, status: os.stat_result) -> Optional[str]:
    if not stat.S_ISREG(status.st_mode):
        what = "is not a regular file"
    elif status.st_uid != os.geteuid():
        what = f"belongs to uid {status.st_uid}, not to you"
    elif status.st_mode & 0o077:
        what = f"can be read or written by other users (mode {stat.S_IMODE(status.st_mode):04o})"
    else:
        return None
    return f"the cache file {path} {what}, so it is not served; remove it (rm {path})"


def _make_private_folders(directory: str) -> None:
    """Create each missing level of ``directory`` 0700: os.makedirs gives intermediate levels
    0777 & ~umask (0777 under umask 000). Only what is created here is changed."""
    missing = []
    path = directory
    while path:
        try:
            os.lstat(path)
            break
        except FileNotFoundError:
            missing.append(path)
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    for path in reversed(missing):
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:  # made meanwhile by someone else: not ours to change
            continue
        fd = os.open(path, _DIRECTORY_FLAGS | os.O_NOFOLLOW)
        try:
            os.fchmod(fd, 0o700)  # a umask such as 0o777 takes even the owner's bits away
        finally:
            os.close(fd)


def _list(folder: int, directory: str = "") -> List[str]:
    try:
        return sorted(os.listdir(directory if folder < 0 else folder))
    except OSError:
        return []


def _is_link(name: str, folder: int) -> bool:
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=folder, follow_symlinks=False).st_mode)
    except OSError:
        return False


def _close(folder: int) -> None:
    if folder >= 0:
        os.close(folder)


def _unlink_quietly(path: str, folder: Optional[int] = None) -> None:
    try:
        if folder is None:
            os.unlink(path)
        else:
            os.unlink(path, dir_fd=folder)
    except OSError:
        pass
