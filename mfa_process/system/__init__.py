"""What differs between POSIX and Windows: noticing that the program that started us is gone,
starting and killing helper programs with their children, running the command of `exec` (and of
`exec --server`, with signals passed on) (here); the terminal a person looks at (`console`), a
platform's own dialog (`native_dialog`), replacing a file atomically (`atomic_write`) and
PowerShell quoting (`powershell`).

The one place that picks a platform; everything else calls these names. The modules named above
are imported only by those who need them: this package is on the cache-hit path.
"""

import sys

HAS_FLOCK = sys.platform != "win32"  # POSIX locks a file with flock(2); Windows with msvcrt, through filelock

if sys.platform == "win32":
    from .windows import (
        CallerWatch,
        exit_status,
        forwarding_signals,
        kill_process_tree,
        process_group_options,
        run_command,
        start_command,
        stopping_signals,
    )
else:
    from .posix import (
        CallerWatch,
        exit_status,
        forwarding_signals,
        kill_process_tree,
        process_group_options,
        run_command,
        start_command,
        stopping_signals,
    )

__all__ = [
    "HAS_FLOCK",
    "CallerWatch",
    "exit_status",
    "forwarding_signals",
    "kill_process_tree",
    "process_group_options",
    "run_command",
    "start_command",
    "stopping_signals",
]
