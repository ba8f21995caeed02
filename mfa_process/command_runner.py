"""Run a command with session credentials in its environment (`mfa-process exec`).

On POSIX the command replaces this process (as aws-vault does), so signals reach it
directly and its exit status is the status; Windows has no such exec, so there the command
runs as a child and Ctrl-C, which the console sends to both, is waited out.
"""

from __future__ import annotations

import os

if os.name == "nt":
    from ._run_windows import run_command
else:
    from ._run_posix import run_command

__all__ = ["run_command"]
