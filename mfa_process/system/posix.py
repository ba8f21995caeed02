"""POSIX: a process whose parent dies is re-parented, so a changed parent pid means the caller
(an SDK, terraform's `sh`, an IDE) is gone; helpers get a process group of their own; `exec`
replaces this process."""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing on the cache-hit path
if TYPE_CHECKING:
    import subprocess
    from typing import Any, ContextManager, Dict, List


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
    except (OSError, ValueError) as error:  # ValueError: an empty name, or a NUL in an argument
        from .command_errors import start_error

        raise start_error(argv[0], error) from None
    finally:  # reached only when nothing was run: this process goes on with Python's own dispositions
        for signum, previous in restored.items():
            signal.signal(signum, previous)
    raise AssertionError("os.execvpe returned")  # pragma: no cover - exec does not return


# Sent to mfa-process alone (a supervisor, `kill`, a closed terminal's shell): passed on to the
# command. SIGINT and SIGQUIT are not: the terminal sends Ctrl-C and Ctrl-\ to the command itself
# (one foreground group), and passing them on would deliver each twice.
_FORWARDED_SIGNALS = ("SIGTERM", "SIGHUP", "SIGUSR1", "SIGUSR2")
_TERMINAL_SIGNALS = ("SIGINT", "SIGQUIT")


def start_command(argv: List[str], environ: Dict[str, str]) -> subprocess.Popen[bytes]:
    """`exec --server`: the command as a child (mfa-process stays, to serve it), with Python's
    ignored signals put back to their defaults (subprocess's restore_signals)."""
    import subprocess

    try:
        return subprocess.Popen(argv, env=environ)
    except (OSError, ValueError) as error:
        from .command_errors import start_error

        raise start_error(argv[0], error) from None


def forwarding_signals(process: subprocess.Popen[bytes]) -> ContextManager[None]:
    """While the command runs: the signals sent to us alone go on to it, and Ctrl-C and Ctrl-\\
    leave us to the command's decision (it got them from the terminal). A signal our parent
    ignores stays ignored, for us and for the command."""
    import signal

    def forward(signum: int, frame: object) -> None:
        if process.returncode is None:
            try:
                process.send_signal(signum)
            except OSError:  # gone meanwhile
                pass

    def leave_to_command(signum: int, frame: object) -> None:
        pass

    handlers = {getattr(signal, name): forward for name in _FORWARDED_SIGNALS if hasattr(signal, name)}
    handlers.update({getattr(signal, name): leave_to_command for name in _TERMINAL_SIGNALS})
    return _handled(handlers)


def stopping_signals() -> ContextManager[None]:
    """`serve`: SIGTERM and SIGHUP stop it as Ctrl-C does (KeyboardInterrupt), so it closes cleanly."""
    import signal

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    return _handled({signal.SIGTERM: interrupt, signal.SIGHUP: interrupt})


def exit_status(returncode: int) -> int:
    """The command's status as ours: its exit code, or death by the same signal that ended it
    (so a shell or supervisor sees what they would without mfa-process in between)."""
    import signal

    if returncode >= 0:
        return returncode
    signum = -returncode
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        signal.signal(signum, signal.SIG_DFL)  # SIGKILL and SIGSTOP have no disposition to set
    except (OSError, ValueError):
        pass
    try:
        os.kill(os.getpid(), signum)
    except OSError:
        pass
    return 128 + signum  # a signal whose default is to be ignored (SIGWINCH, SIGCHLD) left us here


def _handled(handlers: Dict[int, Any]) -> ContextManager[None]:
    """Install ``handlers`` for the duration, except over a signal set to SIG_IGN."""
    import signal
    from contextlib import contextmanager

    @contextmanager
    def installed() -> Any:
        previous = {}
        try:
            for signum, handler in handlers.items():
                current = signal.getsignal(signum)
                if current is signal.SIG_IGN or current is None:
                    continue
                previous[signum] = signal.signal(signum, handler)
            yield
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    return installed()
