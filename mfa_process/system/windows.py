"""Windows: no re-parenting, so ask the kernel whether the parent process has exited."""

from __future__ import annotations

import ctypes
import os
import subprocess

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing on the cache-hit path
if TYPE_CHECKING:
    from typing import Any, Dict

_SYNCHRONIZE = 0x00100000
_WAIT_OBJECT_0 = 0


class CallerWatch:
    def __init__(self) -> None:
        self._kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]
        self._handle = self._kernel32.OpenProcess(_SYNCHRONIZE, False, os.getppid())

    def alive(self) -> bool:
        if not self._handle:  # the parent could not be opened: assume it is there
            return True
        return self._kernel32.WaitForSingleObject(self._handle, 0) != _WAIT_OBJECT_0


def process_group_options() -> Dict[str, Any]:
    return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}  # type: ignore[attr-defined]


def kill_process_tree(process: subprocess.Popen[Any]) -> None:
    subprocess.run(["taskkill", "/T", "/F", "/PID", str(process.pid)], capture_output=True)
    process.kill()
