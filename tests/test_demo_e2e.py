"""examples/demo.py as a person runs it: in a terminal, typing the code the demo shows at
mfa-process's real prompt. The person's own HOME must come out untouched, no request may leave
127.0.0.1 (whatever proxy or endpoint variables are set), an `aws` on PATH is never run, and the
long-term key is said to be denied by the policy only when the demo's STS double answered
AccessDenied."""

from __future__ import annotations

import importlib.util
import io
import json
import os
import re
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Dict, Iterator, List, Optional

import pexpect
import pytest
from clock_shift import ClockShift
from processes import default_signals, kill_group, popen, run
from secret_guard import SecretGuard
from sts_double_process import StsDoubleProcess

DEMO = Path(__file__).resolve().parent.parent / "examples" / "demo.py"
PROMPT = "Enter MFA code for arn:aws:iam::123456789012:mfa/alice: "
CODE = r"\[virtual MFA device\] code (\d{6})"
REDRAWN_CODE = r"\r\x1b\[2K\[virtual MFA device\] code (\d{6})"  # the prompt line erased, the code on it
USER_ARN = "arn:aws:iam::123456789012:user/alice"
DENIED = "denied by the policy"
TERMINAL_SECONDS = 90

# Records every connection made to it (one line each in the file given), answers nothing: a proxy
# or endpoint that must never be used.
LISTENER = """
import socket, sys
server = socket.create_server(("127.0.0.1", 0))
print(server.getsockname()[1], flush=True)
while True:
    connection, _ = server.accept()
    with open(sys.argv[1], "a") as log:
        log.write("connection\\n")
    connection.close()
"""

FAKE_AWS = """#!/bin/sh
echo "$0 $*" >> "{marker}"
echo '{{"User": {{"UserName": "alice", "Arn": "{arn}"}}}}'
exit 0
"""


def load_demo() -> ModuleType:
    """examples/demo.py as a module: its call child and its judgement of step 0, tested directly."""
    spec = importlib.util.spec_from_file_location("mfa_process_demo", DEMO)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


demo = load_demo()


def snapshot(root: Path) -> Dict[str, bytes]:
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() else b"<dir>") for p in sorted(root.rglob("*"))}


@dataclass
class Trap:
    """A listener on loopback that records every connection to it: set as every proxy and endpoint
    the demo must not use."""

    url: str
    record: Path

    def connections(self) -> int:
        return len(self.record.read_text().splitlines())


@pytest.fixture
def trap(tmp_path: Path) -> Iterator[Trap]:
    record = tmp_path / "trap-connections"
    record.write_text("")
    listener = popen([sys.executable, "-c", LISTENER, str(record)], stdout=subprocess.PIPE, text=True)
    try:
        port = int(listener.stdout.readline())  # type: ignore[union-attr]
        yield Trap(f"http://127.0.0.1:{port}", record)
    finally:
        kill_group(listener)


def person_env(tmp_path: Path, path: Optional[str] = None, trap_url: Optional[str] = None) -> Dict[str, str]:
    """A person's environment: HOME with their own AWS files, a TMPDIR of its own; with ``trap_url``
    also proxies and AWS endpoints that point at the trap."""
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    (home / ".aws" / "config").write_text("[default]\nregion = sentinel-1\n")
    (home / ".aws" / "credentials").write_text("[default]\naws_access_key_id = AKIASENTINEL\n")
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MFA_PROCESS_", "XDG_"))}
    env.update(HOME=str(home), TMPDIR=str(tmpdir), TERM="dumb", LANG="C.UTF-8")
    if path is not None:
        env["PATH"] = path
    if trap_url:
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
            env[name] = env[name.lower()] = trap_url
        for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL_IAM"):
            env[name] = trap_url
    return env


def fake_aws(folder: Path) -> Path:
    """An `aws` that records being run and answers like a successful call; returns its record."""
    folder.mkdir()
    marker = folder / "aws-was-run"
    script = folder / "aws"
    script.write_text(FAKE_AWS.format(marker=marker, arn=USER_ARN))
    script.chmod(0o755)
    return marker


def spawn_demo(python: str, env: Dict[str, str], cwd: Path, *args: str) -> pexpect.spawn:
    child = pexpect.spawn(
        python,
        [str(DEMO), *args],
        env=env,
        cwd=str(cwd),
        timeout=TERMINAL_SECONDS,
        encoding="utf-8",
        preexec_fn=default_signals,
    )
    child.logfile_read = io.StringIO()
    return child


def transcript(child: pexpect.spawn) -> str:
    return child.logfile_read.getvalue()


def type_the_shown_code(child: pexpect.spawn) -> str:
    """Wait for the prompt; type the latest code the virtual device showed before it (it may turn meanwhile)."""
    code = None
    while child.expect([CODE, re.escape(PROMPT)]) == 0:
        code = child.match.group(1)
    assert code is not None
    child.sendline(code)
    return code


def rest_of_the_demo(child: pexpect.spawn) -> None:
    """After the code is typed: each step's output, to the end."""
    child.expect_exact(USER_ARN)  # the first call succeeded
    child.expect(r"GetSessionToken calls: (\d+)")
    assert child.match.group(1) == "1"
    child.expect_exact("2. ")
    child.expect(r"GetSessionToken calls: (\d+)")
    second_call = child.before
    assert child.match.group(1) == "1"
    assert USER_ARN in second_call
    assert "Enter MFA code" not in second_call  # served from the cache: no prompt
    child.expect_exact("3. mfa-process status")
    child.expect(r"base\s+arn:aws:iam::123456789012:mfa/alice\s+123456789012\s.*\syes")
    child.expect(r"Done in (\d+) s\.")
    assert int(child.match.group(1)) < 60
    child.expect(pexpect.EOF)


def finish(child: pexpect.spawn) -> None:
    child.close(force=True)  # the demo's STS double and children go with it (SIGHUP): nothing left running


def test_demo_prompts_once_serves_the_second_call_from_cache_and_leaves_home_alone(
    tmp_path: Path, trap: Trap, secret_guard: SecretGuard
) -> None:
    env = person_env(tmp_path, trap_url=trap.url)
    home, tmpdir = Path(env["HOME"]), Path(env["TMPDIR"])
    before = snapshot(home)

    child = spawn_demo(sys.executable, env, tmp_path)
    try:
        child.expect_exact("Four steps, under a minute")
        child.expect_exact(f"{DENIED}: the STS double answered AccessDenied (HTTP 403)")  # step 0: the key alone
        type_the_shown_code(child)
        rest_of_the_demo(child)
    finally:
        finish(child)
    secret_guard.check("the demo's terminal", transcript(child))

    assert child.exitstatus == 0, transcript(child)
    assert snapshot(home) == before
    assert not (home / ".cache" / "mfa-process").exists()
    assert list(tmpdir.iterdir()) == []  # the demo's temporary folder is gone
    assert trap.connections() == 0  # no proxy and no endpoint but the double was ever contacted


def test_demo_from_a_python_without_boto3_uses_mfa_process_python_never_an_aws_on_path(
    tmp_path: Path, trap: Trap
) -> None:
    """The pipx case: the demo is run by a Python without boto3 (a system python3), mfa-process is
    a link on PATH into an environment of its own, and an `aws` (Debian's old CLI) is on PATH."""
    bare = tmp_path / "bare"
    run([sys.executable, "-m", "venv", "--without-pip", str(bare)], timeout=120, check=True)
    bare_python = str(bare / "bin" / "python")
    assert run([bare_python, "-c", "import boto3"], timeout=60, capture_output=True).returncode != 0
    pipx_bin = tmp_path / "pipx-bin"
    pipx_bin.mkdir()
    mfa_process = Path(sys.executable).parent / "mfa-process"
    (pipx_bin / "mfa-process").symlink_to(mfa_process)
    marker = fake_aws(tmp_path / "fake-bin")
    path = os.pathsep.join([str(tmp_path / "fake-bin"), str(pipx_bin), "/usr/bin", "/bin"])
    env = person_env(tmp_path, path=path, trap_url=trap.url)

    child = spawn_demo(bare_python, env, tmp_path)
    try:
        child.expect(r"AWS calls\s+boto3 run by (\S+),")
        assert child.match.group(1) == mfa_process.read_text().splitlines()[0][2:].strip()  # its #! Python
        child.expect_exact(f"{DENIED}: the STS double answered AccessDenied (HTTP 403)")
        type_the_shown_code(child)
        rest_of_the_demo(child)
    finally:
        finish(child)

    assert child.exitstatus == 0, transcript(child)
    assert not marker.exists(), f"the demo ran the aws on PATH: {marker.read_text()}"
    assert trap.connections() == 0


def test_demo_with_a_double_that_allows_says_so_instead_of_claiming_a_denial(tmp_path: Path) -> None:
    env = person_env(tmp_path)
    child = spawn_demo(sys.executable, env, tmp_path, "--without-policy")
    try:
        child.expect_exact("not denied: the long-term key alone called IAM as " + USER_ARN)
        step_0 = child.before
        type_the_shown_code(child)
        rest_of_the_demo(child)
    finally:
        finish(child)

    assert child.exitstatus == 0, transcript(child)
    assert "0. IAM GetUser with [profile base]" in step_0
    assert DENIED not in transcript(child)


def test_demo_redraws_the_prompt_when_the_code_changes_while_it_waits(tmp_path: Path, clock_shift: ClockShift) -> None:
    offset = tmp_path / "clock-offset"
    env = clock_shift.movable_env(person_env(tmp_path), offset)
    child = spawn_demo(sys.executable, env, tmp_path)
    try:
        while child.expect([CODE, re.escape(PROMPT)]) == 0:
            pass
        ClockShift.move(offset, 30.0)  # the next 30-second window, while the prompt waits
        child.expect(REDRAWN_CODE)
        new_code = child.match.group(1)
        child.expect_exact(PROMPT)  # the prompt line again, below the new code
        redrawn = child.before
        child.sendline(new_code)
        rest_of_the_demo(child)
    finally:
        finish(child)

    assert child.exitstatus == 0, transcript(child)
    assert re.fullmatch(r" +\(new; [^\r\n]*\)\r?\n", redrawn), repr(redrawn)  # the code line, then the prompt
    # each code that came while the prompt waited was drawn over it, and the prompt written again once
    waiting = transcript(child).split("1. IAM GetUser")[1].split("UserName alice")[0]
    assert waiting.count(PROMPT) == 1 + len(re.findall(REDRAWN_CODE, waiting)) >= 2


# ---- step 0's judgement: the child that makes the call, against real doubles -----------------------


def call(profile: str, endpoint: str, home: Path) -> Any:
    """The demo's call child (boto3, as ``python examples/demo.py --call``) in the demo's environment."""
    env = demo.isolated_env(home, endpoint, str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"])
    argv = [sys.executable, str(DEMO), "--call", profile, "--endpoint", endpoint]
    result = run(argv, env=env, cwd=str(home), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return demo.CallResult(**json.loads(result.stdout.strip().splitlines()[-1]))


@pytest.fixture
def demo_home(tmp_path: Path) -> Path:
    home = tmp_path / "demo-home"
    home.mkdir()
    demo.write_aws_files(home)
    return home


def test_access_denied_from_the_double_is_the_policy_s_denial(sts: StsDoubleProcess, demo_home: Path) -> None:
    before = len(sts.requests)
    verdict = demo.judge_long_term_key(call("base", sts.url, demo_home), sts, before)
    assert verdict.kind == "denied"
    assert verdict.text.startswith(f"{DENIED}: the STS double answered AccessDenied (HTTP 403)")


def test_the_double_allowing_the_key_is_said_as_allowed(sts: StsDoubleProcess, demo_home: Path) -> None:
    sts.deny_without_mfa = False
    verdict = demo.judge_long_term_key(call("base", sts.url, demo_home), sts, len(sts.requests))
    assert verdict == ("allowed", f"not denied: the long-term key alone called IAM as {USER_ARN}")


def test_another_error_from_the_double_is_reported_as_what_it_is(sts: StsDoubleProcess, demo_home: Path) -> None:
    sts.throttle = True
    verdict = demo.judge_long_term_key(call("base", sts.url, demo_home), sts, len(sts.requests))
    assert verdict == ("failed", "the call failed with Throttling (HTTP 400): Rate exceeded")


def test_access_denied_from_an_endpoint_other_than_the_double_is_not_the_policy_s_denial(
    sts: StsDoubleProcess, demo_home: Path
) -> None:
    with StsDoubleProcess() as elsewhere:
        result = call("base", elsewhere.url, demo_home)
    assert result.code == "AccessDenied"  # a real denial, from the wrong place
    verdict = demo.judge_long_term_key(result, sts, len(sts.requests))
    assert verdict.kind == "failed"
    assert f"not from the demo's STS double at {sts.url} (sent to {elsewhere.url}/)" in verdict.text
    assert not verdict.text.startswith(DENIED)


def test_no_answer_at_all_is_reported_as_no_answer(sts: StsDoubleProcess, demo_home: Path) -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    endpoint = f"http://127.0.0.1:{port}"
    verdict = demo.judge_long_term_key(call("base", endpoint, demo_home), sts, len(sts.requests))
    assert verdict.kind == "failed"
    assert verdict.text.startswith("the call failed without an answer from AWS: Could not connect")
    assert endpoint in verdict.text


# ---- which Python makes the calls ------------------------------------------------------------------


@pytest.mark.parametrize(
    "folder, first_lines",
    [
        ("bin", "#!{python}\n"),
        ("a folder with spaces", "#!/bin/sh\n'''exec' \"{python}\" \"$0\" \"$@\"\n' '''\n"),  # pip's, for such paths
        ("bin", "#!/usr/bin/env mypython\n"),  # the one on PATH
    ],
)
def test_the_python_a_console_script_runs_on(tmp_path: Path, folder: str, first_lines: str) -> None:
    python = tmp_path / folder / "mypython"
    python.parent.mkdir()
    python.write_text("")
    python.chmod(0o755)
    script = tmp_path / "scripts" / "mfa-process"
    script.parent.mkdir()
    script.write_text(first_lines.format(python=python) + "import sys\n")
    found: List[str] = demo.script_pythons(str(script), str(python.parent))
    assert found == [str(python)]


def test_the_python_beside_a_console_script_when_its_first_line_names_none(tmp_path: Path) -> None:
    """A Windows launcher (an .exe: no #! line to read) sits beside its environment's Python."""
    script = tmp_path / "Scripts" / "mfa-process"
    script.parent.mkdir()
    script.write_bytes(b"MZ\x90\x00 not a script")
    python = script.parent / ("python.exe" if os.name == "nt" else "python")
    python.write_text("")
    assert demo.script_pythons(str(script), "") == [str(python)]


def test_demo_without_a_terminal_says_so_and_exits_2(tmp_path: Path) -> None:
    env = dict(os.environ, HOME=str(tmp_path))
    result = run(
        [sys.executable, str(DEMO)],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        start_new_session=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "needs a terminal" in result.stderr
    assert list(tmp_path.iterdir()) == []
