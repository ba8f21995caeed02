"""The fake helper programs of tests/fakes.py do what the e2e tests rely on: record each call,
follow their steps in call order, hang until killed, and stand alone on an isolated PATH."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Dict, List

import pytest
from fakes import FakeBin, pid_gone, step, wait_gone
from processes import run, started


@pytest.fixture
def fake_bin(tmp_path: Path) -> FakeBin:
    return FakeBin(tmp_path)


def _env(fake_bin: FakeBin) -> Dict[str, str]:
    return {"PATH": fake_bin.isolated_path(), "HOME": str(fake_bin.root)}


def _run(fake_bin: FakeBin, argv: List[str], timeout: float = 10) -> subprocess.CompletedProcess:
    return run(argv, env=_env(fake_bin), capture_output=True, text=True, timeout=timeout)


def test_a_fake_records_its_argv_prints_and_exits_with_the_status(fake_bin: FakeBin) -> None:
    fake = fake_bin.add("zenity", stdout="123456\n", stderr="warning: no theme\n", status=3)

    result = _run(fake_bin, ["zenity", "--entry", "--text=a b"])

    assert (result.returncode, result.stdout, result.stderr) == (3, "123456\n", "warning: no theme\n")
    assert fake.calls() == [["--entry", "--text=a b"]]


def test_steps_follow_the_call_count_and_the_last_repeats(fake_bin: FakeBin) -> None:
    fake = fake_bin.add("op", step(stdout="first\n"), step(stdout="second\n", status=1))

    outputs = [_run(fake_bin, ["op", str(n)]) for n in range(3)]

    assert [(r.stdout, r.returncode) for r in outputs] == [("first\n", 0), ("second\n", 1), ("second\n", 1)]
    assert fake.calls() == [["0"], ["1"], ["2"]]


def test_a_hanging_fake_and_its_child_run_until_killed(fake_bin: FakeBin) -> None:
    fake = fake_bin.add("ykman", hang=True, child=True)
    with started(["ykman"], env=_env(fake_bin)) as process:
        with pytest.raises(subprocess.TimeoutExpired):
            process.wait(timeout=0.5)
        assert len(fake.wait_for_calls(1)) == 1
        pids = fake.pids()
        assert len(pids) == 2 and not any(pid_gone(pid) for pid in pids)
    assert wait_gone(pids, 3) == []  # killing its group ended the fake and its child


def test_the_isolated_path_holds_the_fakes_and_the_needed_tools_only(fake_bin: FakeBin) -> None:
    fake_bin.add("kdialog")
    path = fake_bin.isolated_path()

    assert shutil.which("kdialog", path=path) == str(fake_bin.directory / "kdialog")
    assert shutil.which("mfa-process", path=path) and shutil.which("sh", path=path)
    for absent in ("zenity", "ykman", "osascript", "powershell", "python3"):
        assert shutil.which(absent, path=path) is None
