"""examples/demo.py as a person runs it: in a terminal, typing the code the demo shows at
mfa-process's real prompt. The person's own HOME must come out untouched."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict

import pexpect
import pytest
from processes import default_signals, run

DEMO = Path(__file__).resolve().parent.parent / "examples" / "demo.py"
PROMPT = "Enter MFA code for arn:aws:iam::123456789012:mfa/alice: "
CODE = r"\[virtual MFA device\] code (\d{6})"
USER_ARN = "arn:aws:iam::123456789012:user/alice"

needs_aws_cli = pytest.mark.skipif(
    not (Path(sys.executable).parent / "aws").exists() and not shutil.which("aws"),
    reason="the demo runs the AWS CLI (pip install awscli)",
)


def snapshot(root: Path) -> Dict[str, bytes]:
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() else b"<dir>") for p in sorted(root.rglob("*"))}


@needs_aws_cli
def test_demo_prompts_once_serves_the_second_call_from_cache_and_leaves_home_alone(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    (home / ".aws" / "config").write_text("[default]\nregion = sentinel-1\n")
    (home / ".aws" / "credentials").write_text("[default]\naws_access_key_id = AKIASENTINEL\n")
    before = snapshot(home)
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MFA_PROCESS_", "XDG_"))}
    env.update(HOME=str(home), TMPDIR=str(tmpdir), TERM="dumb", LANG="C.UTF-8")

    terminal = dict(env=env, cwd=str(tmp_path), timeout=90, encoding="utf-8", preexec_fn=default_signals)
    child = pexpect.spawn(sys.executable, [str(DEMO)], **terminal)
    try:
        demo_in_a_terminal(child)
    finally:
        child.close(force=True)  # the demo's STS double and AWS CLI go with it (SIGHUP): nothing left running

    assert child.exitstatus == 0, child.before
    assert snapshot(home) == before
    assert not (home / ".cache" / "mfa-process").exists()
    assert list(tmpdir.iterdir()) == []  # the demo's temporary folder is gone


def demo_in_a_terminal(child: pexpect.spawn) -> None:
    """Type the code the demo shows at the prompt; check each step's output, to the end."""
    # the latest code the virtual device showed before the prompt (it may turn meanwhile)
    code = None
    child.expect_exact("(AccessDenied) when calling the GetUser operation")  # step 0: the key alone
    while child.expect([CODE, re.escape(PROMPT)]) == 0:
        code = child.match.group(1)
    assert code is not None
    child.sendline(code)

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
    child.expect(pexpect.EOF)


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
