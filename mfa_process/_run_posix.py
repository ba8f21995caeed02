"""`exec` on POSIX: replace this process with the command."""

from __future__ import annotations

import os
import sys
from typing import Dict, List

from .errors import CommandNotFoundError, CommandNotRunnableError


def run_command(argv: List[str], environ: Dict[str, str]) -> int:
    """Never returns on success: the command takes over this process, pid and all."""
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execvpe(argv[0], argv, environ)
    except FileNotFoundError:
        raise CommandNotFoundError(f"command not found: {argv[0]}; check its name and PATH") from None
    except OSError as error:
        raise CommandNotRunnableError(f"cannot run {argv[0]}: {error.strerror}") from None
    raise AssertionError("os.execvpe returned")  # pragma: no cover - exec does not return
