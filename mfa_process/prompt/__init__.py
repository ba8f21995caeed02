"""Ways of getting an MFA code from a person, each a function from MFA serial to code.

A code source is called as ``source(mfa_serial, notice)``; ``notice`` is a line to show first
(for example why the last code was rejected), or None.
"""

from typing import Callable, Optional

CodeSource = Callable[[str, Optional[str]], str]
