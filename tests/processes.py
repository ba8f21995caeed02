"""Starting processes from tests as a person's shell would, whatever the shell that runs pytest.

A parent that ignores a signal (`(trap '' INT; pytest)`, nohup, some CI runners) passes the
ignoring on to every child: Python then installs no KeyboardInterrupt handler, Ctrl-C does not
reach the prompt, and SIGINT does not stop a server. Children get the default dispositions back.
"""

from __future__ import annotations

import signal

RESET_SIGNALS = (signal.SIGINT, signal.SIGQUIT, signal.SIGTERM, signal.SIGHUP, signal.SIGPIPE)


def default_signals() -> None:
    """A ``preexec_fn`` (it runs in the child between fork and exec): the default disposition
    for the signals a parent may have ignored, and nothing else."""
    for signum in RESET_SIGNALS:
        signal.signal(signum, signal.SIG_DFL)
