"""What an MFA code is (six ASCII digits), and asking until an answer is one.

Every source that lets a person type (the terminal, the dialogs) asks the same way: at most
MAX_MALFORMED_ANSWERS answers, each malformed one followed by a word on what a code looks like.
"""

from __future__ import annotations

import re

from ..errors import InvalidTokenCodeError, PromptAbortedError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing where this is cheap to load
if TYPE_CHECKING:
    from typing import Callable, Optional

MAX_MALFORMED_ANSWERS = 3
WHAT_A_CODE_IS = "An MFA code is the 6 digits your device shows"

_TOKEN_CODE = re.compile(r"[0-9]{6}")


def normalize_token_code(text: str) -> Optional[str]:
    """The six-digit code in ``text`` (surrounding spaces ignored), or None if malformed."""
    code = text.strip()
    return code if _TOKEN_CODE.fullmatch(code) else None


def require_token_code(text: str) -> str:
    """``--token-code``'s value as a code, or a usage error (exit status 2)."""
    code = normalize_token_code(text)
    if code is None:
        raise InvalidTokenCodeError("--token-code must be the 6 digits your MFA device shows now (for example 123456)")
    return code


def ask_until_well_formed(ask: Callable[[], str], explain: Callable[[], None]) -> str:
    """The code in the first well-formed answer ``ask`` returns; after each malformed one,
    ``explain`` tells the person what a code looks like (the next question shows it).

    Raises PromptAbortedError after MAX_MALFORMED_ANSWERS malformed answers: a person who keeps
    typing something else is better told to start again than asked for ever."""
    for _ in range(MAX_MALFORMED_ANSWERS):
        code = normalize_token_code(ask())
        if code is not None:
            return code
        explain()
    raise PromptAbortedError(f"no 6-digit MFA code after {MAX_MALFORMED_ANSWERS} answers; run the command again")
