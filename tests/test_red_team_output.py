"""Red team, issue 8: the hit path when whoever reads mfa-process's output is gone (an SDK that
gave up and closed its pipe, `mfa-process env ... | head -1`, `status | true`).

Found: "unexpected BrokenPipeError; run with --verbose for details and report it", then Python's
own "Exception ignored in: <_io.TextIOWrapper name='<stdout>'...> BrokenPipeError" lines at exit,
and status 120: a bug report asked for, and a traceback-like tail, for a caller that hung up.
"""

from __future__ import annotations

import os
import subprocess

import pytest
from aws_home import AwsHome


def run_with_stdout_closed(aws: AwsHome, args: list) -> subprocess.CompletedProcess:
    """mfa-process ARGS whose stdout is a pipe nobody reads any more (its read end is closed)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = subprocess.run(
            ["mfa-process", *args],
            env=aws.env,
            cwd=aws.root,
            stdin=subprocess.DEVNULL,
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            start_new_session=True,
        )
    finally:
        os.close(write_end)
    aws.guard.check(f"the stderr of mfa-process {args[0]}", result.stderr)
    return result


@pytest.mark.parametrize("args", [["--profile", "base"], ["env", "--profile", "base"], ["status"]], ids=" ".join)
def test_a_reader_that_hung_up_gets_one_line_not_a_bug_report(aws: AwsHome, args: list) -> None:
    assert aws.run(["login", "--profile", "base", "--token-code", aws.code()]).returncode == 0

    result = run_with_stdout_closed(aws, args)

    assert result.returncode == 1, result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith("mfa-process: ") and "broken pipe" in line
    assert "unexpected" not in line and "report it" not in line
