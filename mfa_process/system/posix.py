"""POSIX: a process whose parent dies is re-parented, so a changed parent pid means the caller
(an SDK, terraform's `sh`, an IDE) is gone; helpers get a process group of their own; `exec`
replaces this process."""

from __future__ import annotations

import os
import sys

from ..errors import CommandNotFoundError, CommandNotRunnableError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing on the cache-hit path
if TYPE_CHECKING:
    import subprocess
    from typing import Any, Dict, List


# What Python itself sets to SIG_IGN at start-up (subprocess restores exactly these in its children).
_PYTHON_IGNORED_SIGNALS = ("SIGPIPE", "SIGXFSZ")


class CallerWatch:
    """Created first thing, so it remembers the parent that started us."""

    def __init__(self) -> None:
        self._parent = os.getppid()

    def alive(self) -> bool:
        return os.getppid() == self._parent


def process_group_options() -> Dict[str, Any]:
    """Popen options that put a helper and its children in a group of their own."""
    return {"start_new_session": True}


def kill_process_tree(process: subprocess.Popen[Any]) -> None:
    import signal

    try:
        os.killpg(process.pid, signal.SIGKILL)
    except OSError:
        process.kill()


def run_command(argv: List[str], environ: Dict[str, str]) -> int:
    """`exec`: replace this process with the command (as aws-vault does), so signals reach it
    directly and its exit status is the status. Never returns on success.

    Python ignores SIGPIPE and SIGXFSZ for itself, and an ignored signal stays ignored across
    exec: they are put back to the default first, as subprocess does (restore_signals), or the
    command's `yes | head` would end in "Broken pipe" errors instead of quietly."""
    import signal

    sys.stdout.flush()
    sys.stderr.flush()
    restored = {
        signum: signal.signal(signum, signal.SIG_DFL)
        for signum in (getattr(signal, name, None) for name in _PYTHON_IGNORED_SIGNALS)
        if signum is not None
    }
    try:
        os.execvpe(argv[0], argv, environ)
    except FileNotFoundError:
        raise CommandNotFoundError(f"command not found: {argv[0]}; check its name and PATH") from None
    except OSError as error:
        raise CommandNotRunnableError(f"cannot run {argv[0]}: {error.strerror}") from None
    except ValueError:  # an empty name, or a NUL in an argument: nothing the OS could run
        raise CommandNotRunnableError(f"cannot run {argv[0]!r}: empty, or holds a NUL character") from None
    finally:  # reached only when nothing was run: this process goes on with Python's own dispositions
        for signum, previous in restored.items():
            signal.signal(signum, previous)
    raise AssertionError("os.execvpe returned")  # pragma: no cover - exec does not return
