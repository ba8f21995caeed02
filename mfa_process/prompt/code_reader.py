"""Sources for programs that print the current code (ykman, 1Password's op, pass otp).

Such a program gives the same code until the next 30-second window, so after AWS rejected a
code as already used, it is asked again until the code changes.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Callable, List, Optional

from ..watchdog import Watchdog

if TYPE_CHECKING:
    from . import CodeSource

# How often to ask again for a code that differs from the ones already given.
NEW_CODE_POLL_SECONDS = 2.0

_CODE = re.compile(r"(?<![0-9])[0-9]{6}(?![0-9])")


def find_code(output: str) -> Optional[str]:
    """The first 6-digit number in a helper's output (ykman, op, pass print it alone or labelled)."""
    match = _CODE.search(output)
    return match.group(0) if match else None


def code_reader_source(
    read_code: Callable[[str, Watchdog], str],
    new_watchdog: Callable[[], Watchdog],
    waiting_for: str,
) -> CodeSource:
    """A code source around ``read_code(mfa_serial, watchdog)``; asked again after a rejected
    code (a notice), it waits for a code it has not given yet."""
    already_given: List[str] = []

    def ask(mfa_serial: str, notice: Optional[str]) -> str:
        watchdog = new_watchdog()
        while True:
            code = read_code(mfa_serial, watchdog)
            if notice is None or code not in already_given:
                already_given.append(code)
                return code
            pause_until = watchdog.clock() + NEW_CODE_POLL_SECONDS
            while watchdog.clock() < pause_until:
                watchdog.check(waiting_for)
                time.sleep(watchdog.next_wait())

    return ask
