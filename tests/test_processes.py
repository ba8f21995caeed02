"""The test suite's own hygiene: what tests start never outlives them or ignores Ctrl-C because
pytest's parent did, and no test writes outside its temporary folders (tests/processes.py and the
session fixtures at the end of tests/conftest.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Iterator

import pytest
from fakes import pid_gone, wait_gone
from processes import isolated_env, run, started

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent

FAMILY = """
import subprocess, sys, time
grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(1000)"])
with open(sys.argv[1], "w") as out:
    out.write(f"{grandchild.pid}\\n")
time.sleep(1000)
"""
LEAVER = FAMILY.rsplit("time.sleep(1000)", 1)[0]  # it exits at once; its grandchild stays


def read_pids(path: Path, count: int = 1, timeout: float = 10) -> list:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and len(path.read_text().split()) >= count:
            return [int(pid) for pid in path.read_text().split()]
        time.sleep(0.02)
    raise AssertionError(f"no pids in {path}")


def end(pids: list) -> None:
    """Kill what a failed check left behind, so this file never leaks what it tests for."""
    for pid in pids:
        if not pid_gone(pid):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture
def sigint_ignored() -> Iterator[None]:
    """This process ignores SIGINT, as under `(trap '' INT; pytest)`, nohup or some CI runners."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@pytest.mark.e2e
def test_run_gives_the_child_the_default_sigint_when_pytest_ignores_it(tmp_path: Path, sigint_ignored) -> None:
    report = "import signal; print(signal.getsignal(signal.SIGINT) is signal.default_int_handler)"

    result = run([sys.executable, "-c", report], timeout=30, capture_output=True, text=True, env=isolated_env(tmp_path))

    assert result.stdout == "True\n", result.stderr  # Ctrl-C raises KeyboardInterrupt in it, as in a shell


@pytest.mark.e2e
def test_run_past_its_timeout_kills_the_child_and_what_it_started(tmp_path: Path) -> None:
    out = tmp_path / "pids"
    started_at = time.monotonic()
    try:
        with pytest.raises(subprocess.TimeoutExpired):
            run([sys.executable, "-c", FAMILY, str(out)], timeout=2, capture_output=True, env=isolated_env(tmp_path))
        took = time.monotonic() - started_at
        pids = read_pids(out)
        assert wait_gone(pids, 3) == [], "the grandchild outlived the timeout"
        assert took < 10  # the grandchild's open pipes did not keep run() waiting
    finally:
        end(read_pids(out) if out.exists() else [])


@pytest.mark.e2e
def test_run_leaves_a_process_that_exited_in_time_and_its_group_alone(tmp_path: Path) -> None:
    """What a process left behind stays for the test to see (and end): run() hides no leak."""
    out = tmp_path / "pids"
    try:
        result = run([sys.executable, "-c", LEAVER, str(out)], timeout=30, env=isolated_env(tmp_path))
        assert result.returncode == 0
        assert wait_gone(read_pids(out), 0.3) != []
    finally:
        end(read_pids(out) if out.exists() else [])


@pytest.mark.e2e
def test_started_kills_the_group_when_the_block_fails(tmp_path: Path) -> None:
    out = tmp_path / "pids"
    try:
        with pytest.raises(RuntimeError):
            with started([sys.executable, "-c", FAMILY, str(out)], env=isolated_env(tmp_path)) as process:
                pids = [process.pid, *read_pids(out)]
                raise RuntimeError("the test failed here")
        assert wait_gone(pids, 3) == []
    finally:
        end(read_pids(out) if out.exists() else [])


# --- whole pytest sessions: a failed test's processes, the real HOME, the repository -------------

INNER_TESTS = """
import os
from pathlib import Path

from aws_home import spawn
from fakes import wait_gone
from hypothesis import given, strategies as st


def test_a_failure_with_a_spawned_child_running(aws):
    child = spawn("sleep", aws, args=["1000"])
    Path(os.environ["PIDFILE"]).write_text(str(child.pid))
    assert False, "fails on purpose, its child still running"


def test_the_child_is_gone_before_the_next_test():
    assert wait_gone([int(Path(os.environ["PIDFILE"]).read_text())], 3) == []


@given(st.text())
def test_hypothesis_with_text(text):
    assert text == text
"""

WRITES_HOME = """
import os
from pathlib import Path


def test_writes_to_home():
    (Path(os.environ["HOME"]) / ".aws").mkdir()
"""


def inner_session(tmp_path: Path, tests: str) -> subprocess.CompletedProcess:
    """A pytest session run as the lead runs the suite (setup.cfg, tests/conftest.py), on
    ``tests``, with a HOME of its own that its session guard watches."""
    (tmp_path / "home").mkdir()
    (tmp_path / "test_inner.py").write_text(textwrap.dedent(tests))
    env = isolated_env(tmp_path / "home", PYTHONPATH=str(TESTS), PIDFILE=str(tmp_path / "child.pid"))
    argv = [
        sys.executable,
        "-m",
        "pytest",
        "-c",
        str(REPO / "setup.cfg"),
        "--rootdir",
        str(tmp_path),
        "--confcutdir",
        str(tmp_path),
        "--basetemp",
        str(tmp_path / "basetemp"),
        "-p",
        "conftest",
        "-q",
        "-p",
        "no:randomly",
        "test_inner.py",
    ]
    return run(argv, timeout=120, capture_output=True, text=True, cwd=tmp_path, env=env)


@pytest.mark.e2e
def test_a_failed_test_leaves_no_process_and_the_session_no_files_outside_tmp(tmp_path: Path) -> None:
    result = inner_session(tmp_path, INNER_TESTS)
    pidfile = tmp_path / "child.pid"
    try:
        assert "1 failed, 2 passed" in result.stdout, result.stdout + result.stderr
        assert "fails on purpose" in result.stdout
        assert result.returncode == 1
        assert wait_gone([int(pidfile.read_text())], 3) == []
    finally:
        end([int(pidfile.read_text())] if pidfile.exists() and pidfile.read_text() else [])
    assert not (tmp_path / ".hypothesis").exists(), "hypothesis wrote in the working folder"
    assert not (tmp_path / ".pytest_cache").exists(), "pytest wrote its cache in the root folder"
    assert list((tmp_path / "home").iterdir()) == []


@pytest.mark.e2e
def test_a_session_whose_tests_wrote_in_home_fails_and_says_what_changed(tmp_path: Path) -> None:
    result = inner_session(tmp_path, WRITES_HOME)

    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 passed, 1 error" in result.stdout
    assert f"the tests changed the real HOME {tmp_path / 'home'}: ~/.aws (new)" in result.stdout
