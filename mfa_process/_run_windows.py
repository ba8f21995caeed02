"""`exec` on Windows: run the command as a child and return its exit status."""

from __future__ import annotations

import subprocess
from typing import Dict, List

from .errors import CommandNotFoundError, CommandNotRunnableError


def run_command(argv: List[str], environ: Dict[str, str]) -> int:
    try:
        child = subprocess.Popen(argv, env=environ)
    except FileNotFoundError:
        raise CommandNotFoundError(f"command not found: {argv[0]}; check its name and PATH") from None
    except OSError as error:
        raise CommandNotRunnableError(f"cannot run {argv[0]}: {error.strerror}") from None
    while True:
        try:
            return child.wait()
        except KeyboardInterrupt:  # the console sent Ctrl-C to the child as well: let it decide
            continue
