"""Starting processes from tests as a person's shell would, whatever the shell that runs pytest.

A parent that ignores a signal (`(trap '' INT; pytest)`, nohup, some CI runners) passes the
ignoring on to every child: Python then installs no KeyboardInterrupt handler, Ctrl-C does not
reach the prompt, and SIGINT does not stop a server. Children get the default dispositions back.

A test that fails or times out must not leave anything running: ``run`` and ``started`` put the
child in a process group of its own (a new session: no terminal, as an IDE or CI starts it) and
kill the whole group, grandchildren included, on timeout or when the test is done with it.
"""

from __future__ import annotations

import os
import signal
import site
import subprocess
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Dict, Iterator, Optional, Sequence, Union

RESET_SIGNALS = (signal.SIGINT, signal.SIGQUIT, signal.SIGTERM, signal.SIGHUP, signal.SIGPIPE)
REAP_SECONDS = 10.0  # a SIGKILLed process is gone long before this; only a wedged kernel waits longer

Argv = Sequence[Union[str, "os.PathLike[str]"]]


def default_signals() -> None:
    """A ``preexec_fn`` (it runs in the child between fork and exec): the default disposition
    for the signals a parent may have ignored, and nothing else."""
    for signum in RESET_SIGNALS:
        signal.signal(signum, signal.SIG_DFL)


def isolated_env(home: Path, **extra: str) -> Dict[str, str]:
    """This environment with ``home`` as HOME and nothing that points elsewhere (AWS_*, MFA_PROCESS_*,
    XDG_*): a child that writes "in the user's home" writes under the test's temporary folder."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MFA_PROCESS_", "XDG_"))}
    # programs installed with `pip install --user` still find their packages under the new HOME
    env.update(HOME=str(home), PYTHONUSERBASE=os.environ.get("PYTHONUSERBASE") or site.getuserbase(), **extra)
    return env


def popen(argv: Argv, **kwargs: Any) -> subprocess.Popen:
    """``subprocess.Popen`` with default signal dispositions, in a session (and process group) of its
    own unless ``start_new_session=False`` is given. End it with ``kill_group``, or use ``started``.
    ``capture_output=True`` means stdout and stderr pipes, as for ``subprocess.run``."""
    if kwargs.pop("capture_output", False):
        kwargs.update(stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    kwargs.setdefault("start_new_session", True)
    kwargs.setdefault("preexec_fn", default_signals)
    process = subprocess.Popen(argv, **kwargs)
    process.own_group = bool(kwargs["start_new_session"])  # type: ignore[attr-defined]
    return process


def kill_group(process: subprocess.Popen) -> None:
    """SIGKILL to the process and, if it leads a group of its own, to everything in that group;
    then reap it and close its pipes. Harmless on a process that already exited."""
    _kill(process)
    try:
        process.wait(REAP_SECONDS)
    finally:
        for stream in (process.stdin, process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def _kill(process: subprocess.Popen) -> None:
    if getattr(process, "own_group", False):
        try:
            # Safe even after the leader was reaped: while members remain the kernel keeps its pid
            # (the group id) from being reused; once none remain this finds nobody.
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    if process.poll() is None:
        process.kill()


@contextmanager
def started(argv: Argv, **kwargs: Any) -> Iterator[subprocess.Popen]:
    """``popen`` for the length of a ``with`` block: the process and its group are killed when the
    block ends, passed or failed. Assert that something exited by itself inside the block."""
    process = popen(argv, **kwargs)
    try:
        yield process
    finally:
        kill_group(process)


def run(
    argv: Argv,
    *,
    timeout: float,
    input: Optional[Union[str, bytes]] = None,
    check: bool = False,
    **kwargs: Any,
) -> subprocess.CompletedProcess:
    """``subprocess.run`` that never outlives its timeout: past it, the whole process group is
    killed (subprocess.run kills the child alone, leaving what it started running and holding the
    pipes open). A process that exits in time is left as it is: its group is not touched, so a
    test can still see what it left behind."""
    if input is not None:
        kwargs["stdin"] = subprocess.PIPE
    process = popen(argv, **kwargs)
    try:
        stdout, stderr = process.communicate(input, timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(process)  # the pipes stay open: what it printed is read below
        try:
            stdout, stderr = process.communicate(timeout=REAP_SECONDS)  # what it printed before
        except subprocess.TimeoutExpired:  # something that left the group holds the pipes
            stdout = stderr = None
        kill_group(process)
        raise subprocess.TimeoutExpired(process.args, timeout, stdout, stderr) from None
    except BaseException:  # KeyboardInterrupt, or an error writing the input: nothing stays behind
        kill_group(process)
        raise
    result = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    if check:
        result.check_returncode()
    return result
