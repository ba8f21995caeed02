"""Cache-hit cost of `mfa-process --profile NAME`, measured against Python's own start-up.

Runs, alternated in one loop so machine load hits all alike:
  hit      the installed `mfa-process` console script serving a cached session
  keyring  the same for a base profile whose keys are in the OS keyring (`mfa_key_store =
           keyring`): the hit must not import keyring nor open it, so it costs what `hit` does
  pass     `python -c pass` with the same interpreter
  wrapper  what pip's console-script wrapper does before calling us (it imports re): the floor
  boto3    `python -c "import boto3"` (what a plugin that imports boto3 pays before any work)
and prints the median of each and the ratios. Target: hit <= 2x pass (the wrapper alone is
about 1.6x). Install the package as users do (`pip install .`, or `tox -e bench`): an editable
install's import hook costs more than the whole hit.

    python benchmarks/hit_path.py [--runs 40]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mfa_process.session.cache import SessionCache, SessionKey
from mfa_process.session.cache_dir import default_cache_dir
from mfa_process.session.credentials import Credentials

PROFILE = "base"
KEYRING_PROFILE = "vault"  # keys in the OS keyring: its sessions are cached under "keyring:<mfa_key_id>"
TARGET = 2.0  # hit / pass
# pip's console script, minus the import of our main: the floor no console script goes below
WRAPPER = "import re, sys; sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])"
ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
MFA_SERIAL = "arn:aws:iam::123456789012:mfa/alice"


def console_script() -> str:
    beside_python = Path(sys.executable).with_name("mfa-process")
    found = str(beside_python) if beside_python.exists() else shutil.which("mfa-process")
    if not found:
        sys.exit("mfa-process is not installed in this environment: pip install .")
    return found


def prepare(home: Path) -> dict:
    """A throwaway AWS config and a cache holding a valid session for it."""
    (home / "config").write_text(
        f"[profile {PROFILE}]\nmfa_serial = {MFA_SERIAL}\n\n"
        f"[profile {KEYRING_PROFILE}]\nmfa_serial = {MFA_SERIAL}\nmfa_key_store = keyring\n"
        f"mfa_key_id = {ACCESS_KEY_ID}\n"
    )
    (home / "credentials").write_text(
        f"[{PROFILE}]\naws_access_key_id = {ACCESS_KEY_ID}\naws_secret_access_key = benchmark-secret\n"
    )
    env = dict(
        os.environ,
        HOME=str(home),
        AWS_CONFIG_FILE=str(home / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / "credentials"),
        XDG_CACHE_HOME=str(home / "cache"),
    )
    session = Credentials("ASIABENCHMARK", "secret", "token", int(time.time()) + 12 * 3600, "123456789012")
    cache = SessionCache(default_cache_dir(env))
    cache.store(SessionKey(PROFILE, ACCESS_KEY_ID, MFA_SERIAL, 43200), session, int(time.time()))
    cache.store(SessionKey(KEYRING_PROFILE, f"keyring:{ACCESS_KEY_ID}", MFA_SERIAL, 43200), session, int(time.time()))
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)  # a keyring the hit tried to open would fail it
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    return env


def compared_commands() -> dict:
    """A cache hit of the console script, Python's own start-up, and importing boto3."""
    return {
        "hit": [console_script(), "--profile", PROFILE],
        "keyring": [console_script(), "--profile", KEYRING_PROFILE],
        "pass": [sys.executable, "-c", "pass"],
        "boto3": [sys.executable, "-c", "import boto3"],
    }


def served_from_cache(command: list, env: dict) -> bool:
    """True when ``command`` printed the cached session (no terminal: a miss fails, never prompts)."""
    result = subprocess.run(
        command, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, start_new_session=True
    )
    return result.returncode == 0 and '"AccessKeyId": "ASIABENCHMARK"' in result.stdout


def time_once(command: list, env: dict) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=env, stdout=subprocess.DEVNULL, check=True)
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=40)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as home:
        env = prepare(Path(home))
        compared = list(compared_commands().items())
        commands = dict([*compared[:3], ("wrapper", [sys.executable, "-c", WRAPPER]), *compared[3:]])
        for name in ("hit", "keyring"):
            if not served_from_cache(commands[name], env):
                sys.exit(f"the {name} command was not served from the cache")
        for command in commands.values():  # warm the page cache and .pyc files
            time_once(command, env)
        samples: dict = {name: [] for name in commands}
        for _ in range(runs):
            for name, command in commands.items():
                samples[name].append(time_once(command, env))
    median = {name: statistics.median(values) for name, values in samples.items()}
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}")
    print(f"python:  {sys.executable} ({platform.python_version()}), {runs} runs each, alternated")
    labels = {
        "hit": f"mfa-process --profile {PROFILE}",
        "keyring": f"mfa-process --profile {KEYRING_PROFILE}, keys in the keyring",
        "wrapper": "the console-script wrapper alone",
    }
    for name, command in commands.items():
        print(f"{name:7s} median {median[name]:7.1f} ms   ({labels.get(name, command[-1])})")
    ratio = median["hit"] / median["pass"]
    print(f"hit / pass     = {ratio:.2f}x   (target <= {TARGET:g}x: {'met' if ratio <= TARGET else 'MISSED'})")
    print(f"keyring / hit  = {median['keyring'] / median['hit']:.2f}x   (keys in the keyring cost nothing on a hit)")
    print(f"wrapper / pass = {median['wrapper'] / median['pass']:.2f}x   (the floor)")
    print(f"hit / boto3    = {median['hit'] / median['boto3']:.2f}x")


if __name__ == "__main__":
    main()
