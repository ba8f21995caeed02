"""Peak memory of a cache hit of `mfa-process --profile NAME`, against Python's own start-up.

Runs, alternated in one loop so machine load hits all alike, each as a child whose peak resident
set size (ru_maxrss) is read with os.wait4:
  hit    the installed `mfa-process` console script serving a cached session (as hit_path.py)
  pass   `python -c pass` with the same interpreter
  boto3  `python -c "import boto3"` (what a plugin that imports boto3 holds before any work)
and prints the median of each in MiB and the ratios.

A child's ru_maxrss also counts the memory of the process it was started from (Linux keeps the
larger of the two when the child calls exec), so the children are not started from this script
(14 MiB here, more than `python -c pass` itself) but from a small launcher, `python -I -S`,
which waits for each with os.wait4 and reports. Its own peak is printed: a median at that floor
would be an upper bound, not a measurement.

    python benchmarks/memory.py [--runs 20]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from hit_path import (  # this folder: the same cached session
    PROFILE,
    compared_commands,
    prepare,
)

# ru_maxrss is in kibibytes on Linux and the BSDs, in bytes on macOS
MAXRSS_UNIT = 1 if sys.platform == "darwin" else 1024


# The launcher: reads NUL-separated argv lines, runs each with stdout to /dev/null, answers
# "<exit status> <ru_maxrss>". Only builtins, so its own peak stays below Python's normal start-up.
LAUNCHER = r"""
import os, sys
for line in sys.stdin.buffer:
    if line == b"floor\n":  # this process's own peak (not its ru_maxrss, which counts its parent's)
        try:
            with open("/proc/self/status") as status:
                print(0, [l.split()[1] for l in status if l.startswith("VmHWM:")][0], flush=True)
        except OSError:
            import resource
            print(0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, flush=True)
        continue
    argv = line.rstrip(b"\n").split(b"\0")
    out = [(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0)]
    pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=out)
    _, status, usage = os.wait4(pid, 0)
    print(os.waitstatus_to_exitcode(status), usage.ru_maxrss, flush=True)
"""


class Launcher:
    def __init__(self, env: dict) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", LAUNCHER], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )

    def _ask(self, line: bytes) -> int:
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(line + b"\n")
        self.process.stdin.flush()
        status, maxrss = self.process.stdout.readline().split()
        if int(status) != 0:
            sys.exit(f"{line.decode(errors='replace')!r} failed (exit status {int(status)})")
        return int(maxrss) * MAXRSS_UNIT

    def peak_rss(self, command: list) -> int:
        """Run `command` (stdout to /dev/null) from the launcher; its peak RSS in bytes."""
        return self._ask(b"\0".join(os.fsencode(part) for part in command))

    def floor(self) -> int:
        """The launcher's own peak RSS in bytes: no child can read lower than this."""
        return self._ask(b"floor")

    def close(self) -> None:
        assert self.process.stdin
        self.process.stdin.close()
        self.process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as home:
        env = prepare(Path(home))
        commands = compared_commands()
        served = subprocess.run(  # no terminal: a miss would fail here rather than prompt
            commands["hit"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        ).stdout
        if json.loads(served).get("AccessKeyId") != "ASIABENCHMARK":  # a hit, not a prompt or an STS call
            sys.exit("the hit command was not served from the cache")
        launcher = Launcher(env)
        try:
            for command in commands.values():  # warm the page cache and .pyc files
                launcher.peak_rss(command)
            samples: dict = {name: [] for name in commands}
            for _ in range(runs):
                for name, command in commands.items():
                    samples[name].append(launcher.peak_rss(command))
            floor = launcher.floor() / 2**20
        finally:
            launcher.close()
    mib = {name: statistics.median(values) / 2**20 for name, values in samples.items()}
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}  ")
    print(f"python:  {sys.executable} ({platform.python_version()}), {runs} runs each, alternated\n")
    print("| command | peak RSS, MiB (median) | min | max |")
    print("|---|---:|---:|---:|")
    for name, command in commands.items():
        label = f"mfa-process --profile {PROFILE} (cache hit)" if name == "hit" else f'python -c "{command[-1]}"'
        low, high = min(samples[name]) / 2**20, max(samples[name]) / 2**20
        print(f"| {label.replace('|', '/')} | {mib[name]:.1f} | {low:.1f} | {high:.1f} |")
    print()
    print(f"hit / pass  = {mib['hit'] / mib['pass']:.2f}x")
    print(f"hit / boto3 = {mib['hit'] / mib['boto3']:.2f}x")
    print(f"launcher floor {floor:.1f} MiB", end="")
    at_floor = [name for name in commands if mib[name] <= floor + 0.05]
    print(f": {', '.join(at_floor)} at the floor, an upper bound only" if at_floor else " (every median above it)")


if __name__ == "__main__":
    main()
