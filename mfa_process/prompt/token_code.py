"""`--token-code`: the code given on the command line, as a code source like the others.

A code works once, and a second one cannot come from the same command line: asked again
(after AWS rejected the code), the source says to pass the next code instead.
"""

from __future__ import annotations

from ..errors import MFA_CODE_REJECTED, MfaCodeRejectedError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing on the cache-hit path
if TYPE_CHECKING:
    from typing import Optional


class TokenCode:
    """A code source that gives ``code`` the first time it is asked (scripts, no prompt)."""

    __slots__ = ("_code",)

    def __init__(self, code: str) -> None:
        self._code: Optional[str] = code

    def __call__(self, mfa_serial: str, notice: Optional[str]) -> str:
        code, self._code = self._code, None
        if code is None:
            raise MfaCodeRejectedError(f"{MFA_CODE_REJECTED}; pass the next code your device shows")
        return code
