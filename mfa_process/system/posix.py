"""POSIX: a process whose parent dies is re-parented, so a changed parent pid means the caller
(an SDK, terraform's `sh`, an IDE) is gone."""

from __future__ import annotations

import os

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing on the cache-hit path
if TYPE_CHECKING:
    import subprocess
    from typing import Any, Dict


class CallerWatch:
    """Created first thing, so it remembers the parent that started us."""

    def __init__(self) -> None:
        self._parent = os.getppid()

    def alive(self) -> bool:
        return os.getppid() == self._parent


def process_group_options() -> Dict[str, Any]:
    """Popen options that put a helper and its children in a group of their own."""
    return {"start_new_session": True}


def kill_process_tree(process: subprocess.Popen[Any]) -> None:
    import signal

    try:
        os.killpg(process.pid, signal.SIGKILL)
    except OSError:
        process.kill()
