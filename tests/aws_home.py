"""What end-to-end tests drive mfa-process with: an isolated AWS home pointed at the STS double
(``AwsHome``), a process in a real pseudo-terminal (``spawn``) and botocore's reading of its stdout
(``contract``). Tests import these; conftest.py holds the fixtures that hand them out."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

import totp
from secret_guard import SecretGuard
from sts_double import DEFAULT_USER, StsDouble, User

BIN_DIR = str(Path(sys.executable).parent)  # mfa-process, aws: the console scripts of this environment


class AwsHome:
    """A throwaway HOME with AWS config files, a private cache and the STS double's endpoint."""

    def __init__(
        self, root: Path, sts: StsDouble, user: User = DEFAULT_USER, guard: Optional[SecretGuard] = None
    ) -> None:
        self.root = root
        self.sts = sts
        self.user = user
        self.guard = guard or SecretGuard()  # checks the stderr of every run, the transcript of every spawn
        self.guard.watch_user(user)
        self.config_file = root / ".aws" / "config"
        self.credentials_file = root / ".aws" / "credentials"
        self.cache_dir = root / ".cache" / "mfa-process"
        self.children: List[Any] = []  # every spawn(...) here; the aws fixture closes those left open
        self.config_file.parent.mkdir(parents=True)
        self.env: Dict[str, str] = {
            "HOME": str(root),
            "PATH": BIN_DIR + os.pathsep + os.environ.get("PATH", "/usr/bin:/bin"),
            "AWS_CONFIG_FILE": str(self.config_file),
            "AWS_SHARED_CREDENTIALS_FILE": str(self.credentials_file),
            "AWS_ENDPOINT_URL_STS": sts.url,
            "AWS_ENDPOINT_URL_IAM": sts.url,  # the double answers IAM GetUser too: the call that needs MFA
            "XDG_CACHE_HOME": str(root / ".cache"),
            "LANG": "C.UTF-8",
            "TERM": "dumb",
        }
        self.write_credentials(
            f"[base]\naws_access_key_id = {user.access_key_id}\naws_secret_access_key = {user.secret_access_key}\n"
        )
        self.write_config(
            f"[profile base]\nmfa_serial = {user.mfa_serial}\n\n"
            "[profile mfa]\ncredential_process = mfa-process --profile base\nregion = us-east-1\n"
        )

    def write_config(self, text: str) -> None:
        self.config_file.write_text(text)

    def write_credentials(self, text: str) -> None:
        self.credentials_file.write_text(text)

    def code(self, offset: int = 0) -> str:
        """A code the double accepts (once): the current window's, or a neighbour's."""
        return totp.code(self.user.totp_secret, offset)

    def wrong_code(self) -> str:
        valid = {totp.code(self.user.totp_secret, offset) for offset in range(-3, 4)}
        return next(code for code in ("000000", "111111", "222222", "333333") if code not in valid)

    def run(self, args: List[str], timeout: float = 60, **kwargs) -> subprocess.CompletedProcess:
        """`mfa-process ARGS` with no terminal (a new session), as an IDE or CI would start it.
        Default signal dispositions whatever pytest's parent ignores; killed at the timeout with
        everything it started (tests/processes.py)."""
        from processes import run

        result = run(
            ["mfa-process", *args],
            env=self.env,
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            **kwargs,
        )
        self.guard.check(f"the stderr of mfa-process {' '.join(args[:1])}", result.stderr)
        return result

    def cache_files(self) -> List[Path]:
        return sorted(self.cache_dir.glob("*.json")) if self.cache_dir.exists() else []


def contract(stdout: str) -> Dict[str, object]:
    """Parse stdout as botocore does: it must be exactly one JSON object."""
    data = json.loads(stdout)
    assert isinstance(data, dict)
    return data


def spawn(command: str, aws: AwsHome, timeout: float = 60, args: Optional[List[str]] = None):
    """A process in a real pseudo-terminal (its controlling terminal), as a person runs it, with
    the default signal dispositions whatever pytest's parent ignores (tests/processes.py)."""
    import pexpect
    from processes import default_signals

    child = pexpect.spawn(
        command,
        args or [],
        env=aws.env,
        cwd=str(aws.root),
        timeout=timeout,
        encoding="utf-8",
        preexec_fn=default_signals,
    )
    aws.children.append(child)  # closed by the aws fixture if the test does not get that far
    child.logfile_read = io.StringIO()
    aws.guard.check(f"the terminal of {command}", child.logfile_read, contract_channel=True)
    return child
