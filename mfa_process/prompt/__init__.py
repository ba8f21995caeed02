"""Ways of getting an MFA code from a person, each a function from MFA serial to code.

A code source is called as ``source(mfa_serial, notice)``; ``notice`` is a line to show first
(for example why the last code was rejected), or None. `choose.py` holds the rule that picks
one; every other module here is one source.
"""

# The names mfa_prompt / --prompt accept (read on the cache-hit path: no imports here).
PROMPTS = ("auto", "terminal", "command", "ykman", "zenity", "kdialog", "osascript", "windows-dialog")

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing on the cache-hit path
if TYPE_CHECKING:
    from typing import Callable, Optional

    CodeSource = Callable[[str, Optional[str]], str]
