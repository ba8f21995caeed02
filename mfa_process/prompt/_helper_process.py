"""Run a helper program (a dialog, ykman, the mfa_process command) under a watchdog.

The helper gets no stdin (an SDK's stdin may be a pipe that never closes), runs in a process
group of its own, and is killed with its children when the watchdog fires, so nothing is left
behind when our caller gives up.
"""

from __future__ import annotations

import re
import subprocess
import time
from typing import TYPE_CHECKING, Callable, List, Optional, Union

from ..errors import PromptTimeoutError
from ..system import kill_process_tree, process_group_options
from ..watchdog import Watchdog

if TYPE_CHECKING:
    from . import CodeSource

_CODE = re.compile(r"(?<![0-9])[0-9]{6}(?![0-9])")


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
    """
    process = subprocess.Popen(
        command,
        shell=shell,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        **process_group_options(),
    )
    started = time.monotonic()
    try:
        while True:
            try:
                stdout, stderr = process.communicate(timeout=watchdog.next_wait())
                return HelperResult(process.returncode, stdout, stderr)
            except subprocess.TimeoutExpired:
                if on_slow is not None and time.monotonic() - started >= slow_after:
                    on_slow()
                    on_slow = None
                watchdog.check(waiting_for)
    except PromptTimeoutError:
        kill_process_tree(process)
        stdout, stderr = process.communicate()
        return HelperResult(process.returncode, stdout, stderr, timed_out=True)
    except BaseException:
        kill_process_tree(process)
        process.communicate()
        raise


def find_code(output: str) -> Optional[str]:
    """The first 6-digit number in a helper's output (ykman, op, pass print it alone or labelled)."""
    match = _CODE.search(output)
    return match.group(0) if match else None


# After AWS rejected a code as already used, a program that prints the current code gives
# the same one until the next 30-second window: ask it again this often until it changes.
NEW_CODE_POLL_SECONDS = 2.0


def code_reader_source(
    read_code: Callable[[str, Watchdog], str],
    new_watchdog: Callable[[], Watchdog],
    waiting_for: str,
) -> CodeSource:
    """A code source for a program that prints the current code (ykman, op, pass)."""
    already_given: List[str] = []

    def ask(mfa_serial: str, notice: Optional[str]) -> str:
        watchdog = new_watchdog()
        while True:
            code = read_code(mfa_serial, watchdog)
            if notice is None or code not in already_given:
                already_given.append(code)
                return code
            time.sleep(min(NEW_CODE_POLL_SECONDS, max(watchdog.remaining(), 0.0)))
            watchdog.check(waiting_for)

    return ask
