"""What differs between POSIX and Windows for processes: noticing that the program that
started us is gone, starting and killing helper programs with their children, and running
the command of `exec`.

The one place that picks a platform; everything else calls these names.
"""

import sys

if sys.platform == "win32":
    from .windows import (
        CallerWatch,
        kill_process_tree,
        process_group_options,
        run_command,
    )
else:
    from .posix import (
        CallerWatch,
        kill_process_tree,
        process_group_options,
        run_command,
    )

__all__ = ["CallerWatch", "kill_process_tree", "process_group_options", "run_command"]
