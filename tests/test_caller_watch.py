"""The POSIX caller watch: re-parenting means the caller is gone."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from processes import isolated_env, started

from mfa_process.system.posix import CallerWatch

INTERMEDIATE = """
import subprocess, sys
subprocess.Popen([sys.executable, "-c", sys.argv[1], sys.argv[2]])  # stdout: the test's pipe
sys.stdin.readline()  # exit when the test says so
"""

WATCHER = """
import os, sys, time
from mfa_process.system.posix import CallerWatch
watch = CallerWatch()
print(os.getppid(), watch.alive(), flush=True)
deadline = time.monotonic() + 10
while not os.path.exists(sys.argv[1]) and time.monotonic() < deadline:
    time.sleep(0.01)
print(os.getppid(), watch.alive(), flush=True)
"""


@pytest.mark.e2e
def test_caller_watch_notices_that_its_parent_exited(tmp_path: Path) -> None:
    go = tmp_path / "parent-gone"
    argv = [sys.executable, "-c", INTERMEDIATE, WATCHER, str(go)]
    pipes = dict(stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=isolated_env(tmp_path))
    with started(argv, **pipes) as parent:  # killed with the watcher whatever fails
        before = parent.stdout.readline().split()
        assert before == [str(parent.pid), "True"]

        parent.stdin.close()  # the parent exits; the watcher is re-parented
        parent.wait(10)
        go.touch()
        after = parent.stdout.readline().split()

    assert after[0] != str(parent.pid)
    assert after[1] == "False"


def test_caller_watch_in_this_process_sees_its_parent_alive() -> None:
    watch = CallerWatch()

    assert watch.alive() and watch.alive()
