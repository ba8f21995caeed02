"""Replace a file so that a reader sees the old content or the new, never half of either.

The one way this package writes a file in place (the session cache, the AWS config): a
temporary file in the same folder (so the rename stays on one file system), its mode set
through the descriptor, its data on disk (fsync), then ``os.replace`` and, on POSIX, the
folder synced too so the rename itself survives a crash. Windows has no folder handles to sync.
"""

from __future__ import annotations

import os
import tempfile
from typing import Callable, Optional

# Called with the temporary file's descriptor and path, just before it replaces the target.
BeforeReplace = Callable[[int, str], None]


def replace_atomically(
    path: str,
    data: bytes,
    mode: int,
    temp_prefix: str = ".tmp-",
    temp_suffix: str = "",
    before_replace: Optional[BeforeReplace] = None,
) -> None:
    """Put ``data`` at ``path`` with permissions ``mode``; on any failure ``path`` is unchanged
    and the temporary file is gone.

    The temporary file is created as mkstemp does (O_EXCL, no link followed, private); the mode is
    set after it, so a umask cannot take the owner's own bits away. ``before_replace`` may raise to
    refuse the write (configure checks that nobody swapped the temporary file meanwhile).
    """
    folder = os.path.dirname(path) or "."
    fd, temp_path = tempfile.mkstemp(prefix=temp_prefix, suffix=temp_suffix, dir=folder)
    try:
        with os.fdopen(fd, "wb") as temp_file:
            temp_file.write(data)
            temp_file.flush()
            set_mode(temp_file.fileno(), temp_path, mode)
            os.fsync(temp_file.fileno())
            if before_replace is not None:
                before_replace(temp_file.fileno(), temp_path)
        os.replace(temp_path, path)  # replaces whatever is at path, never writes through it
    except BaseException:
        try:
            os.unlink(temp_path)
        except OSError:
            pass
        raise
    sync_folder(folder)


def set_mode(fd: int, path: str, mode: int) -> None:
    """Through the descriptor where the platform can (never through a link planted at ``path``)."""
    if hasattr(os, "fchmod"):
        os.fchmod(fd, mode)
    else:  # Windows before Python 3.13: the mode is only the read-only bit there
        os.chmod(path, mode)


def sync_folder(folder: str) -> None:
    """Make a rename in ``folder`` durable; best effort, and nothing to do on Windows."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
