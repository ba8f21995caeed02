"""Ways of getting an MFA code from a person, each a function from MFA serial to code.

A code source is called as ``source(mfa_serial, notice)``; ``notice`` is a line to show first
(for example why the last code was rejected), or None. `registry.py` names every source and
builds it, `choose.py` holds the rule that picks them, `source_chain.py` tries several in order;
every other module is one source or something sources share (`codes`, `code_reader`, `notify`,
`_dialog`, `_helper_process`).
"""

from .registry import PROMPTS  # read on the cache-hit path: registry imports nothing

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing on the cache-hit path
if TYPE_CHECKING:
    from typing import Callable, Optional

    CodeSource = Callable[[str, Optional[str]], str]

__all__ = ["PROMPTS"]
