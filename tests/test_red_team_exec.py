"""Red team, issue 8: what `exec` hands its command besides the environment variables.

Python ignores SIGPIPE and SIGXFSZ at start-up (it wants EPIPE/EFBIG as exceptions), and an
ignored signal stays ignored across exec(2). subprocess puts them back (restore_signals); os.exec*
does not, so without care every command started by `mfa-process exec` runs with SIGPIPE ignored:
`yes | head -n1` then ends with "yes: standard output: Broken pipe" and status 1, not 141.
"""

from __future__ import annotations

import signal

from aws_home import AwsHome

# The child reports its ignored-signal mask, then runs the classic pipeline.
SCRIPT = 'grep "^SigIgn:" /proc/self/status; yes | head -n1 >/dev/null; echo "yes=${PIPESTATUS[0]}"'


def ignored(status_line: str) -> set:
    mask = int(status_line.split()[1], 16)
    return {signum for signum in range(1, 64) if mask & (1 << (signum - 1))}


def test_exec_gives_its_command_the_default_sigpipe_and_sigxfsz(aws: AwsHome) -> None:
    assert aws.run(["login", "--profile", "base", "--token-code", aws.code()]).returncode == 0

    result = aws.run(["exec", "--profile", "base", "--", "bash", "-c", SCRIPT])

    assert result.returncode == 0, result.stderr
    mask_line, status_line = result.stdout.splitlines()
    assert signal.SIGPIPE not in ignored(mask_line)
    assert signal.SIGXFSZ not in ignored(mask_line)
    assert status_line == f"yes={128 + signal.SIGPIPE}"  # killed by SIGPIPE, as under a shell
    assert "Broken pipe" not in result.stderr
