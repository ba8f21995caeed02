"""Many processes on a cold cache at once: one prompt, one STS call, one session for all.

For each N (default 1, 8, 32, 64), in each round, alternated: a fresh isolated AWS home and a
fresh local STS double (tests/sts_double.py, 127.0.0.1 only); one shell in one pseudo-terminal
starts N `mfa-process --profile base` as background jobs and waits for them; the prompt is
answered once with the current code of the virtual MFA device. Reported per N:
  prompts      "Enter MFA code" seen on the terminal            target 1
  STS calls    GetSessionToken calls the double received         target 1
  valid JSON   processes that printed the credential_process JSON  target N
  keys         distinct AccessKeyIds among them                   target 1
  wall ms      from starting the shell to all N done (median of the rounds)
  prompt ms    from starting the shell to the prompt (median)
  CPU ms/proc   user + system CPU of the shell and its N processes, divided by N (median)
The counts are the worst of the rounds. Exit status 1 if any round missed a target.

    python benchmarks/cold_start.py [--counts 1,8,32,64] [--rounds 1]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import re
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List

import pexpect

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from hit_path import console_script  # noqa: E402  (this folder)
from sts_double import DEFAULT_USER, StsDouble  # noqa: E402
from totp import code as totp_code  # noqa: E402

USER = DEFAULT_USER
PROMPT = f"Enter MFA code for {USER.mfa_serial}: "
EXPIRATION = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
TIMEOUT = 120  # seconds, for the prompt and again for all processes to finish


def prepare(home: Path, sts_url: str) -> Dict[str, str]:
    """A throwaway AWS home (keys + mfa_serial in profile base) pointed at the double."""
    (home / ".aws").mkdir()
    (home / ".aws" / "config").write_text(f"[profile base]\nmfa_serial = {USER.mfa_serial}\n")
    (home / ".aws" / "credentials").write_text(
        f"[base]\naws_access_key_id = {USER.access_key_id}\naws_secret_access_key = {USER.secret_access_key}\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MFA_PROCESS_"))}
    env.update(
        HOME=str(home),
        AWS_CONFIG_FILE=str(home / ".aws" / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / ".aws" / "credentials"),
        XDG_CACHE_HOME=str(home / ".cache"),
        AWS_ENDPOINT_URL_STS=sts_url,
        NO_PROXY="127.0.0.1",
        no_proxy="127.0.0.1",
        TERM="dumb",
    )
    return env


def is_contract(text: str) -> bool:
    try:
        data = json.loads(text)
    except ValueError:
        return False
    return (
        isinstance(data, dict)
        and data.get("Version") == 1
        and all(isinstance(data.get(k), str) and data[k] for k in ("AccessKeyId", "SecretAccessKey", "SessionToken"))
        and EXPIRATION.fullmatch(str(data.get("Expiration", ""))) is not None
    )


def one_round(count: int, script_path: str) -> Dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="mfa-process-cold-") as tmp, StsDouble() as sts:
        home = Path(tmp)
        env = prepare(home, sts.url)
        script = home / "many.sh"
        script.write_text(
            f"i=0\nwhile [ $i -lt {count} ]; do\n  i=$((i + 1))\n"
            f"  '{script_path}' --profile base > out.$i 2> err.$i &\ndone\nwait\necho all-done\n"
        )
        transcript = io.StringIO()
        cpu_before = _children_cpu()
        started = time.perf_counter()
        child = pexpect.spawn("sh", [str(script)], env=env, cwd=str(home), timeout=TIMEOUT, encoding="utf-8")
        child.logfile_read = transcript
        prompt_ms = wall_ms = float("nan")
        try:
            if child.expect_exact([PROMPT, "all-done", pexpect.EOF]) == 0:
                prompt_ms = (time.perf_counter() - started) * 1000
                child.sendline(totp_code(USER.totp_secret))
                child.expect_exact(["all-done", pexpect.EOF])
            wall_ms = (time.perf_counter() - started) * 1000
            child.expect(pexpect.EOF)
        except pexpect.TIMEOUT:
            print(f"N={count}: gave up after {TIMEOUT} s", file=sys.stderr)
        finally:
            child.close(force=True)  # reaps the shell, which reaped the N processes
        cpu_ms = (_children_cpu() - cpu_before) * 1000 / count
        outputs = [_read(home / f"out.{i}") for i in range(1, count + 1)]
        valid = [json.loads(text) for text in outputs if is_contract(text)]
        if len(valid) < count:
            errors = {_read(home / f"err.{i}").strip() for i in range(1, count + 1)}
            print(f"N={count}: stderr of the failed processes: {sorted(errors - {''})}", file=sys.stderr)
        return {
            "prompts": transcript.getvalue().count("Enter MFA code"),
            "sts": sts.calls("GetSessionToken"),
            "valid": len(valid),
            "keys": len({data["AccessKeyId"] for data in valid}),
            "wall": wall_ms,
            "prompt": prompt_ms,
            "cpu": cpu_ms,
        }


def _read(path: Path) -> str:
    return path.read_text() if path.exists() else ""


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--counts", default="1,8,32,64", help="comma-separated process counts (default 1,8,32,64)")
    parser.add_argument("--rounds", type=int, default=1, help="rounds per count, alternated (default 1)")
    args = parser.parse_args()
    counts = [int(n) for n in args.counts.split(",") if n.strip()]
    script_path = console_script()

    results: Dict[int, List[Dict[str, float]]] = {n: [] for n in counts}
    for _ in range(args.rounds):
        for n in counts:
            results[n].append(one_round(n, script_path))

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}  ")
    print(f"python:  {sys.executable} ({platform.python_version()}), {args.rounds} round(s) per N, alternated")
    print("counts: the worst round; times: the median\n")
    print("| N | prompts | GetSessionToken calls | valid JSON | AccessKeyIds | wall ms | prompt ms | CPU ms/proc |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    missed = []
    for n in counts:
        rounds = results[n]
        worst = {
            "prompts": max(r["prompts"] for r in rounds),
            "sts": max(r["sts"] for r in rounds),
            "valid": min(r["valid"] for r in rounds),
            "keys": max(r["keys"] for r in rounds),
        }
        if any(r["prompts"] != 1 or r["sts"] != 1 or r["valid"] != n or r["keys"] != 1 for r in rounds):
            missed.append(n)
        wall = statistics.median(r["wall"] for r in rounds)
        prompt = statistics.median(r["prompt"] for r in rounds)
        cpu = statistics.median(r["cpu"] for r in rounds)
        print(
            f"| {n} | {worst['prompts']} | {worst['sts']} | {worst['valid']}/{n} | {worst['keys']} "
            f"| {wall:.0f} | {prompt:.0f} | {cpu:.0f} |"
        )
    print()
    if missed:
        missed_at = ", ".join(map(str, missed))
        print(f"targets missed at N = {missed_at}: one prompt, one STS call, every process served, one key")
        return 1
    print("targets met at every N: one prompt, one GetSessionToken call, every process served the same key")
    return 0


if __name__ == "__main__":
    sys.exit(main())
