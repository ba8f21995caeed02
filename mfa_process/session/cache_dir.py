"""Where the session cache lives: platformdirs' per-user cache folder for this app.

On Linux and the BSDs the answer is the XDG rule, computed here directly: importing
platformdirs (pathlib and friends) would cost more than the rest of the cache-hit path.
A test checks that both give the same folder; every other platform asks platformdirs.
"""

from __future__ import annotations

import os
import sys

APP_NAME = "mfa-process"

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing on the cache-hit path
if TYPE_CHECKING:
    from typing import Mapping


def default_cache_dir(environ: Mapping[str, str] = os.environ) -> str:
    """``$XDG_CACHE_HOME/mfa-process`` (or ``~/.cache/...``) on Linux, the native place elsewhere."""
    if os.name == "posix" and sys.platform != "darwin":
        base = environ.get("XDG_CACHE_HOME", "")
        if not os.path.isabs(base):  # the XDG spec: relative values are ignored
            base = os.path.expanduser("~/.cache")
        return os.path.join(base, APP_NAME)
    import platformdirs

    return platformdirs.user_cache_dir(APP_NAME, appauthor=False)
