"""Run a helper program (a dialog, ykman, the mfa_process command) under a watchdog.

The helper gets no stdin (an SDK's stdin may be a pipe that never closes), runs in a process
group of its own, and is killed with its children when the watchdog fires, so nothing is left
behind when our caller gives up.
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from typing import IO, Callable, List, Optional, Union

from ..errors import PromptTimeoutError
from ..system import kill_process_tree, process_group_options
from ..watchdog import Watchdog

_MAX_OUTPUT_BYTES = 64 * 1024


class HelperResult:
    __slots__ = ("returncode", "stdout", "stderr", "timed_out")

    def __init__(self, returncode: Optional[int], stdout: str, stderr: str, timed_out: bool = False) -> None:
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.timed_out = timed_out

    @property
    def last_error_line(self) -> str:
        lines = [line.strip() for line in self.stderr.splitlines() if line.strip()]
        return lines[-1] if lines else "no error output"


def run_helper(
    command: Union[List[str], str],
    watchdog: Watchdog,
    waiting_for: str,
    shell: bool = False,
    on_slow: Optional[Callable[[], None]] = None,
    slow_after: float = 0.5,
) -> HelperResult:
    """Run ``command`` to the end, or until the watchdog fires.

    Past the deadline the helper is killed and a result with ``timed_out`` is returned (its
    output so far included); when our caller is gone, it is killed and CallerGoneError raised.
    Raises OSError (FileNotFoundError) when the program cannot be started.

    Output goes to temporary files, not pipes: a process the helper leaves behind (an agent
    it started) may keep a pipe open for ever, but it cannot keep us waiting on a file.
    """
    with tempfile.TemporaryFile() as stdout_file, tempfile.TemporaryFile() as stderr_file:
        process = subprocess.Popen(
            command,
            shell=shell,
            stdin=subprocess.DEVNULL,
            stdout=stdout_file,
            stderr=stderr_file,
            **process_group_options(),
        )
        started = time.monotonic()
        timed_out = False
        try:
            while process.poll() is None:
                try:
                    process.wait(timeout=watchdog.next_wait())
                except subprocess.TimeoutExpired:
                    if on_slow is not None and time.monotonic() - started >= slow_after:
                        on_slow()
                        on_slow = None
                    watchdog.check(waiting_for)
        except PromptTimeoutError:
            timed_out = True
        except BaseException:
            kill_process_tree(process)
            process.wait()
            raise
        if timed_out:
            kill_process_tree(process)
            process.wait()
        return HelperResult(process.returncode, _text(stdout_file), _text(stderr_file), timed_out=timed_out)


def _text(output_file: IO[bytes]) -> str:
    output_file.seek(0)
    return output_file.read(_MAX_OUTPUT_BYTES).decode("utf-8", "replace")
