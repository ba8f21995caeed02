"""A YubiKey's OATH code through `ykman oath accounts code --single ACCOUNT`.

The account is `mfa_oath_account` if set, else the MFA serial (as aws-vault names it). When
ykman waits for a touch, the person is told where they can see it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Callable, Optional

from ..errors import CodeCommandError, CodeSourceUnavailableError, PromptTimeoutError, PromptUnavailableError
from ..watchdog import Watchdog
from ._helper_process import run_helper
from .code_reader import code_reader_source, find_code

if TYPE_CHECKING:
    from . import CodeSource

# How ykman says no key is plugged in: `ERROR: No YubiKey detected!` (5.x; `Error:` before),
# `No YubiKey found on external reader.`, `No YubiKey found with the given interface(s)`.
_NO_YUBIKEY = re.compile(r"no yubikey (detected|found)", re.IGNORECASE)


def ykman_source(
    oath_account: Optional[str],
    new_watchdog: Callable[[], Watchdog],
    notify: Callable[[str], None],
) -> CodeSource:
    def read(mfa_serial: str, watchdog: Watchdog) -> str:
        return _read_code(oath_account or mfa_serial, watchdog, notify)

    return code_reader_source(read, new_watchdog, "a new code from the YubiKey")


def _read_code(account: str, watchdog: Watchdog, notify: Callable[[str], None]) -> str:
    argv = ["ykman", "oath", "accounts", "code", "--single", account]
    try:
        result = run_helper(
            argv, watchdog, "the YubiKey", on_slow=lambda: notify(f"Touch your YubiKey to get the MFA code ({account})")
        )
    except FileNotFoundError as error:
        raise PromptUnavailableError(
            "ykman is not installed (pip install yubikey-manager), or not on PATH; or choose another mfa_prompt"
        ) from error
    if result.timed_out:
        raise PromptTimeoutError(
            f"the YubiKey gave no code within {watchdog.timeout:g} s (not touched, or not plugged in?)"
        )
    if result.returncode != 0 and _NO_YUBIKEY.search(result.stderr):
        raise CodeSourceUnavailableError(
            f"no YubiKey found ({result.last_error_line}); plug in the YubiKey that holds OATH account "
            f"'{account}' (mfa_oath_account, else the MFA serial)"
        )
    code = find_code(result.stdout) if result.returncode == 0 else None
    if code is None:
        raise CodeCommandError(
            f"ykman gave no code for OATH account '{account}' ({result.last_error_line}); "
            "list the accounts with `ykman oath accounts list` and set mfa_oath_account to the right one"
        )
    return code
