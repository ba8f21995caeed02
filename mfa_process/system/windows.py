"""Windows: no re-parenting, so ask the kernel whether the caller's process has exited.

The caller is not always our parent: the `mfa-process.exe` console-script launcher (and a
venv's python.exe redirector) start the real interpreter as a child and wait for it, so the
watch looks past them to the process that started `mfa-process.exe`.
"""

from __future__ import annotations

import os
import subprocess

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing on the cache-hit path
if TYPE_CHECKING:
    from typing import Any, Callable, ContextManager, Dict, Iterator, List, Optional, Tuple

    ProcessTable = Dict[int, Tuple[int, str]]  # pid -> (parent pid, image name)

_SYNCHRONIZE = 0x00100000
_WAIT_OBJECT_0 = 0
_TH32CS_SNAPPROCESS = 0x00000002
_LAUNCHER = "mfa-process.exe"
_LAUNCHER_DEPTH = 3  # us <- (venv python.exe redirector) <- mfa-process.exe <- the caller


class CallerWatch:
    def __init__(self, process_table: Optional[Callable[[], ProcessTable]] = None) -> None:
        import ctypes

        self._kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]
        table = (process_table or self._process_table)()
        self._handle = self._kernel32.OpenProcess(_SYNCHRONIZE, False, caller_pid(os.getppid(), table))

    def alive(self) -> bool:
        if not self._handle:  # the caller could not be opened: assume it is there
            return True
        return self._kernel32.WaitForSingleObject(self._handle, 0) != _WAIT_OBJECT_0

    def _process_table(self) -> ProcessTable:
        """Every process's parent and image name, from a Toolhelp snapshot ({} if unavailable)."""
        import ctypes

        class ProcessEntry(ctypes.Structure):  # PROCESSENTRY32W
            _fields_ = [
                ("dwSize", ctypes.c_ulong),
                ("cntUsage", ctypes.c_ulong),
                ("th32ProcessID", ctypes.c_ulong),
                ("th32DefaultHeapID", ctypes.c_size_t),
                ("th32ModuleID", ctypes.c_ulong),
                ("cntThreads", ctypes.c_ulong),
                ("th32ParentProcessID", ctypes.c_ulong),
                ("pcPriClassBase", ctypes.c_long),
                ("dwFlags", ctypes.c_ulong),
                ("szExeFile", ctypes.c_wchar * 260),
            ]

        table: ProcessTable = {}
        try:
            kernel32 = self._kernel32
            kernel32.CreateToolhelp32Snapshot.restype = ctypes.c_void_p
            snapshot = kernel32.CreateToolhelp32Snapshot(_TH32CS_SNAPPROCESS, 0)
            if not snapshot or snapshot == ctypes.c_void_p(-1).value:
                return table
            try:
                entry = ProcessEntry()
                entry.dwSize = ctypes.sizeof(ProcessEntry)
                more = kernel32.Process32FirstW(ctypes.c_void_p(snapshot), ctypes.byref(entry))
                while more:
                    table[entry.th32ProcessID] = (entry.th32ParentProcessID, entry.szExeFile)
                    more = kernel32.Process32NextW(ctypes.c_void_p(snapshot), ctypes.byref(entry))
            finally:
                kernel32.CloseHandle(ctypes.c_void_p(snapshot))
        except (AttributeError, OSError):
            return {}
        return table


def caller_pid(parent: int, table: ProcessTable) -> int:
    """The process that started mfa-process.exe, if a launcher stands between it and us;
    else our parent (run as `python -m mfa_process`, or no table)."""
    pid = parent
    for _ in range(_LAUNCHER_DEPTH):
        entry = table.get(pid)
        if entry is None:
            break
        grandparent, image = entry
        if image.lower() == _LAUNCHER:
            return grandparent
        pid = grandparent
    return parent


def process_group_options() -> Dict[str, Any]:
    return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}  # type: ignore[attr-defined]


def kill_process_tree(process: subprocess.Popen[Any]) -> None:
    subprocess.run(["taskkill", "/T", "/F", "/PID", str(process.pid)], capture_output=True)
    process.kill()


def start_command(argv: List[str], environ: Dict[str, str]) -> subprocess.Popen[bytes]:
    try:
        return subprocess.Popen(argv, env=environ)
    except (OSError, ValueError) as error:
        from .command_errors import start_error

        raise start_error(argv[0], error) from None


def run_command(argv: List[str], environ: Dict[str, str]) -> int:
    """`exec` where there is no exec: run the command as a child and return its exit status.
    Ctrl-C reaches the child too (same console): wait for it to decide."""
    child = start_command(argv, environ)
    while True:
        try:
            return child.wait()
        except KeyboardInterrupt:
            continue


def forwarding_signals(process: subprocess.Popen[bytes]) -> ContextManager[None]:
    """Ctrl-C reaches the command too (one console): it decides; we wait for it."""
    import signal
    from contextlib import contextmanager

    @contextmanager
    def installed() -> Iterator[None]:
        previous = signal.signal(signal.SIGINT, lambda signum, frame: None)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)

    return installed()


def stopping_signals() -> ContextManager[None]:
    """Ctrl-C already stops `serve` (KeyboardInterrupt); Windows sends nothing else."""
    from contextlib import nullcontext

    return nullcontext()


def exit_status(returncode: int) -> int:
    return returncode
