"""mfa-process against moto's STS server, a third-party emulator: the wire format works beyond
our own double. Moto does not check MFA codes or signatures, and its GetSessionToken always hands
out the same documentation example keys (AKIAIOSFODNN7EXAMPLE and a fixed token)."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Iterator

import boto3
import pytest
from aws_home import AwsHome, contract
from processes import isolated_env, kill_group, popen, run
from sts_double import DEFAULT_USER, User

MOTO_SESSION_KEY = "AKIAIOSFODNN7EXAMPLE"  # what moto's GetSessionToken returns, every time
MOTO_SESSION_ARN = "arn:aws:sts::123456789012:user/moto"  # moto's identity for keys it did not issue to a user


class Moto:
    """A `moto_server` process on a free loopback port; its request log counts the calls."""

    def __init__(self, log: Path) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self.log = log
        server = Path(sys.executable).with_name("moto_server")
        argv = [str(server)] if server.exists() else [sys.executable, "-m", "moto.server"]
        home = log.parent / "home"  # moto and the botocore in it read and write no real ~/.aws
        home.mkdir()
        with open(log, "wb") as out:  # default signals, a process group of its own (tests/processes.py)
            self.process = popen(
                argv + ["-H", "127.0.0.1", "-p", str(port)],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=isolated_env(home),
            )
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(self.url + "/moto-api/", timeout=1).close()
                break
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"moto_server did not start: {log.read_text()}")
                time.sleep(0.05)

    def api_calls(self) -> int:
        """API requests answered so far (werkzeug logs each one after answering it)."""
        return self.log.read_text().count('"POST / HTTP/1.1"')

    def wait_for_api_calls(self, expected: int, settle: float = 0.3) -> int:
        """The count once the log has caught up with ``expected`` (or after a few seconds), and a
        little longer, so that a late line is not mistaken for the next run's request."""
        deadline = time.monotonic() + 5
        while self.api_calls() < expected and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(settle)
        return self.api_calls()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        finally:
            kill_group(self.process)  # whatever it started too, and at once if SIGTERM did not end it


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Moto]:
    server = Moto(tmp_path_factory.mktemp("moto") / "moto.log")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def moto_aws(tmp_path: Path, moto: Moto) -> AwsHome:
    """An AWS home whose base profile holds the keys of an IAM user (alice-...) created in moto."""
    iam = boto3.client(
        "iam",
        endpoint_url=moto.url,
        region_name="us-east-1",
        aws_access_key_id="AKIAMOTOADMINEXAMPLE",
        aws_secret_access_key="x" * 40,
    )
    name = f"alice-{tmp_path.name}"[:64]
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    user = User(
        name,
        "123456789012",
        key["AccessKeyId"],
        key["SecretAccessKey"],
        DEFAULT_USER.mfa_serial,
        DEFAULT_USER.totp_secret,
    )
    return AwsHome(tmp_path, SimpleNamespace(url=moto.url), user)  # type: ignore[arg-type]


def test_contract_and_cache_hit_against_moto(moto_aws: AwsHome, moto: Moto) -> None:
    calls = moto.wait_for_api_calls(0)  # the fixture's IAM calls are in the log
    before = datetime.now(timezone.utc)

    first = moto_aws.run(["--profile", "base", "--token-code", "123456"])

    assert first.returncode == 0, first.stderr
    data = contract(first.stdout)
    assert type(data["Version"]) is int and data["Version"] == 1
    assert set(data) <= {"Version", "AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration", "AccountId"}
    # Real STS gives ASIA... session keys; moto gives its fixed example key, passed on as it came.
    assert re.fullmatch(r"A[SK]IA[A-Z0-9]{16}", data["AccessKeyId"])  # type: ignore[arg-type]
    assert data["AccessKeyId"] == MOTO_SESSION_KEY and data["AccessKeyId"] != moto_aws.user.access_key_id
    assert str(data["SessionToken"]).startswith("AQoEXAMPLE") and data["SecretAccessKey"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", data["Expiration"])  # type: ignore[arg-type]
    expires = datetime.strptime(str(data["Expiration"]), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    assert 43200 - 60 <= (expires - before).total_seconds() <= 43200 + 5  # the default duration, in the future
    assert moto.wait_for_api_calls(calls + 1) == calls + 1  # one GetSessionToken

    second = moto_aws.run(["--profile", "base", "--token-code", "123456"])

    assert second.returncode == 0, second.stderr
    assert contract(second.stdout) == data
    assert moto.wait_for_api_calls(calls + 1) == calls + 1  # a cache hit: moto heard nothing


def test_aws_cli_through_moto(moto_aws: AwsHome, moto: Moto) -> None:
    moto_aws.write_config(
        f"[profile base]\nmfa_serial = {moto_aws.user.mfa_serial}\nregion = us-east-1\n\n"
        "[profile mfa]\ncredential_process = mfa-process --profile base --token-code 123456\nregion = us-east-1\n"
    )

    def caller_identity(profile: str) -> dict:
        out = run(
            ["aws", "sts", "get-caller-identity", "--profile", profile, "--output", "json"],
            env=moto_aws.env,
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    # moto knows which keys belong to alice; the session's key is not hers, so it names its default user
    assert caller_identity("base")["Arn"] == moto_aws.user.arn
    via_plugin = caller_identity("mfa")

    assert via_plugin["Arn"] == MOTO_SESSION_ARN  # signed with the session mfa-process got from moto
    assert via_plugin["Account"] == "123456789012"
    assert len(moto_aws.cache_files()) == 1
