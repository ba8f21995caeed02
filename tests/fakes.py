"""Fake helper programs (zenity, kdialog, osascript, powershell, ykman, an `op`-like command).

A fake is an executable script in a temporary bin folder that is put first on PATH. Every call
appends one JSON line to its log (its argv without the program name, its pid, and the pid of
the child it started, if asked to), then follows the step for that call: print a given stdout
and stderr and exit with a given status, after an optional delay, or hang until killed. Steps
are taken in call order (the log is the call counter); the last step repeats. A hanging fake prints its stdout and
stderr first, as a program stuck waiting (for a touch, an unlock) would have.

``FakeBin.isolated_path()`` builds a PATH of the fakes and a folder of links to the few real
tools the tests need (sh, sleep, stty, mfa-process), so a real zenity, kdialog or ykman on the
developer's machine can never stand in for a missing fake.

Their own checks: tests/test_fakes.py.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Dict, List

VENV_BIN = str(Path(sys.executable).parent)  # mfa-process and the interpreter the fakes run on
REAL_TOOLS = ("sh", "sleep", "stty", "cat", "echo", "true", "env")

_SCRIPT = """#!{python}
import json, os, subprocess, sys, time

SPEC = {spec!r}
with open(SPEC) as spec_file:
    spec = json.load(spec_file)
entry = {{"argv": sys.argv[1:], "pid": os.getpid()}}
with open(spec["log"], "a") as log:
    pass
with open(spec["log"]) as log:
    call = sum(1 for _ in log)
step = spec["steps"][min(call, len(spec["steps"]) - 1)]
if step["child"]:  # a child of its own, as a shell pipeline or a daemon-starting tool would have
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(1000)"])
    entry["child_pid"] = child.pid
with open(spec["log"], "a") as log:
    log.write(json.dumps(entry) + "\\n")
time.sleep(step["delay"])
sys.stdout.write(step["stdout"])
sys.stdout.flush()
sys.stderr.write(step["stderr"])
sys.stderr.flush()
while step["hang"]:  # what it printed stays printed; it just never exits
    time.sleep(1000)
sys.exit(step["status"])
"""


def step(
    stdout: str = "",
    status: int = 0,
    stderr: str = "",
    hang: bool = False,
    delay: float = 0.0,
    child: bool = False,
) -> Dict[str, object]:
    """What one call of a fake does."""
    return {"stdout": stdout, "status": status, "stderr": stderr, "hang": hang, "delay": delay, "child": child}


class Fake:
    """One fake program: where it is and what it was called with."""

    def __init__(self, name: str, path: Path, log: Path, spec: Path) -> None:
        self.name = name
        self.path = path
        self.log = log
        self.spec = spec

    def entries(self) -> List[Dict[str, object]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines() if line.strip()]

    def calls(self) -> List[List[str]]:
        """The argv of every call so far, without the program name."""
        return [entry["argv"] for entry in self.entries()]

    def pids(self) -> List[int]:
        """Every process this fake ran as, and the children it started."""
        found = []
        for entry in self.entries():
            found.append(entry["pid"])
            if "child_pid" in entry:
                found.append(entry["child_pid"])
        return found

    def wait_for_calls(self, count: int, timeout: float = 3.0) -> List[List[str]]:
        """The calls, once there are ``count`` of them (for fakes started in the background)."""
        deadline = time.monotonic() + timeout
        while len(self.calls()) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.calls()


class FakeBin:
    """A bin folder of fakes; ``add`` writes one."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.directory = root / "fake-bin"
        self.tools = root / "real-tools"
        self.directory.mkdir(parents=True, exist_ok=True)
        self.fakes: Dict[str, Fake] = {}

    def add(self, name: str, *steps: Dict[str, object], **one_step: object) -> Fake:
        """A fake ``name`` that follows ``steps`` (or the one step given as keywords)."""
        if steps and one_step:
            raise TypeError("give steps or one step's keywords, not both")
        chosen = list(steps) if steps else [step(**one_step)]  # type: ignore[arg-type]
        log = self.root / f"{name}.calls.jsonl"
        spec = self.root / f"{name}.spec.json"
        spec.write_text(json.dumps({"log": str(log), "steps": chosen}))
        path = self.directory / name
        path.write_text(_SCRIPT.format(python=sys.executable, spec=str(spec)))
        path.chmod(0o755)
        fake = Fake(name, path, log, spec)
        self.fakes[name] = fake
        return fake

    def remove(self, name: str) -> None:
        self.fakes.pop(name).path.unlink()

    def isolated_path(self) -> str:
        """The fakes first, then only links to the real tools the tests use and mfa-process."""
        self.tools.mkdir(exist_ok=True)
        wanted = {tool: shutil.which(tool) for tool in REAL_TOOLS}
        wanted["mfa-process"] = shutil.which("mfa-process", path=VENV_BIN)
        for tool, target in wanted.items():
            link = self.tools / tool
            if target and not link.exists():
                link.symlink_to(target)
        return os.pathsep.join([str(self.directory), str(self.tools)])

    def install(self, env: Dict[str, str]) -> None:
        """Put the fakes (and nothing but the needed real tools) on ``env``'s PATH."""
        env["PATH"] = self.isolated_path()


def pid_gone(pid: int) -> bool:
    """True once ``pid`` has exited (a zombie nobody reaped yet counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            state = stat.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state in ("Z", "X")


def wait_gone(pids: List[int], timeout: float) -> List[int]:
    """The pids still running after ``timeout`` seconds (an empty list is success)."""
    deadline = time.monotonic() + timeout
    while True:
        alive = [pid for pid in pids if not pid_gone(pid)]
        if not alive or time.monotonic() >= deadline:
            return alive
        time.sleep(0.02)
