"""Writers killed with SIGKILL at random moments while readers run: every reader gets whole
JSON, and the next run works. The cache file is only ever the old one or the new one."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import List

import processes
from aws_home import AwsHome
from sts_double import StsDouble

WRITER = """
import sys, time
from mfa_process.session.cache import SessionCache, SessionKey
from mfa_process.session.credentials import Credentials
cache = SessionCache(sys.argv[1])
key = SessionKey("base", sys.argv[2], sys.argv[3], 43200)
n = 0
while True:
    n += 1
    padding = "x" * (n % 4000)  # files of changing size make torn writes visible
    session = Credentials("ASIAWRITER%010d" % n, "secret" + padding, "token" + padding, int(time.time()) + 40000)
    cache.store(key, session, time.time())
"""


def run_readers(aws: AwsHome, stop: threading.Event, results: List[subprocess.CompletedProcess]) -> None:
    while not stop.is_set():
        results.append(aws.run(["--profile", "base"], timeout=30))


def start_readers(aws: AwsHome, count: int, results: List[subprocess.CompletedProcess]):
    stop = threading.Event()
    threads = [threading.Thread(target=run_readers, args=(aws, stop, results)) for _ in range(count)]
    for thread in threads:
        thread.start()
    return stop, threads


def assert_every_read_whole(results: List[subprocess.CompletedProcess]) -> None:
    assert results, "no reader ran"
    for result in results:
        assert result.returncode == 0, result.stderr
        data = json.loads(result.stdout)  # whole JSON, or this raises
        assert set(data) >= {"Version", "AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"}


def test_cache_writers_killed_at_random_never_tear_a_file(aws: AwsHome) -> None:
    serial = aws.user.mfa_serial
    writer = [sys.executable, "-c", WRITER, str(aws.cache_dir), aws.user.access_key_id, serial]
    one_write = WRITER.replace("while True", "for _ in range(1)")
    processes.run([*writer[:2], one_write, *writer[3:]], env=aws.env, check=True, timeout=60)
    results: List[subprocess.CompletedProcess] = []
    stop, threads = start_readers(aws, 2, results)
    rng = random.Random(2026)
    kills = 0
    deadline = time.monotonic() + 8
    try:
        while time.monotonic() < deadline:
            with processes.started(writer, env=aws.env) as process:  # killed even if this loop fails
                time.sleep(rng.uniform(0.05, 0.4))
                process.send_signal(signal.SIGKILL)
                process.wait()
            kills += 1
    finally:
        stop.set()
        for thread in threads:
            thread.join()

    assert kills >= 10
    assert len(results) >= 20
    assert_every_read_whole(results)
    served = {json.loads(r.stdout)["AccessKeyId"] for r in results}
    assert len(served) > 1  # readers really saw the file being replaced
    assert aws.run(["--profile", "base"]).returncode == 0


def test_plugins_killed_mid_refresh_leave_a_working_cache(tmp_path: Path) -> None:
    """Real `mfa-process --refresh` runs, killed while they call STS or write the cache."""
    with StsDouble(skew_windows=15) as sts:
        sts.delay = 0.15
        aws = AwsHome(tmp_path, sts)
        started = time.monotonic()
        first = aws.run(["--profile", "base", "--refresh", "--token-code", aws.code(-15)])
        one_refresh = time.monotonic() - started  # kill times scale with this machine's speed
        assert first.returncode == 0, first.stderr
        results: List[subprocess.CompletedProcess] = []
        stop, threads = start_readers(aws, 2, results)
        rng = random.Random(7)
        try:
            for offset in range(-14, 15):
                argv = ["mfa-process", "--profile", "base", "--refresh", "--token-code", aws.code(offset)]
                quiet = dict(stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                with processes.started(argv, env=aws.env, start_new_session=True, **quiet) as process:
                    time.sleep(rng.uniform(0.2, 1.2) * one_refresh)
                    process.send_signal(signal.SIGKILL)
                    process.wait()
        finally:
            stop.set()
            for thread in threads:
                thread.join()

        assert_every_read_whole(results)
        after = aws.run(["--profile", "base"])
        assert after.returncode == 0, after.stderr
        assert json.loads(after.stdout)["AccessKeyId"].startswith("ASIA")
        assert 1 < sts.calls("GetSessionToken")  # some refreshes got as far as STS
