"""Red team of issue 13: `mfa-process doctor`, `mfa-process completion`, the command line's edge
(usage errors, unknown commands, help) and the demo, attacked by a hostile or careless neighbour
and by a user making mistakes.

The attacks: secrets and escape sequences reaching the terminal through doctor's report (key
files, the code command, credential_process lines, profile names, paths, a program's answer to
--version) and through usage errors; the commands a fix tells the user to paste; hostile
credential_process lines (shell words, programs that hang, flood, leave children, a wrapper);
FIFOs, huge files and untrusted cache folders; the clock check's one request and a hostile
endpoint's answer (not parsable, an impossible Date, a redirect, a trickle, a flood); profile
names that are shell code in bash, zsh and fish, code typed in the command word, the bash script
under `set -euo pipefail`; the demo with a person's own AWS files and variables set to trip it.

An attack that succeeds today is a strict xfail naming the file and the fix; a defended one is a
plain test. Every process started here is killed with its group at the end of its test.
"""

from __future__ import annotations

import os
import re
import resource
import shlex
import signal
import socket
import stat
import subprocess
import sys
import time
import unicodedata
from pathlib import Path
from typing import Callable, Iterator, List, Optional

import pytest
from fakes import wait_gone
from processes import default_signals, isolated_env, kill_group, popen, run
from secret_guard import SecretGuard
from sts_double import DEFAULT_USER
from test_completion_e2e import PROFILES as COMPLETION_PROFILES
from test_completion_e2e import Home as CompletionHome
from test_completion_e2e import need
from test_demo_e2e import (
    DENIED,
    LISTENER,
    Trap,
    finish,
    person_env,
    rest_of_the_demo,
    spawn_demo,
    transcript,
    type_the_shown_code,
)

pytestmark = pytest.mark.e2e

BIN_DIR = str(Path(sys.executable).parent)
MFA_PROCESS = os.path.join(BIN_DIR, "mfa-process")  # this checkout's console script
SERIAL = DEFAULT_USER.mfa_serial
KEY_ID = DEFAULT_USER.access_key_id
# The default user's secret key and TOTP seed: the secret guard knows them, they must never show
SECRET = DEFAULT_USER.secret_access_key
SEED = DEFAULT_USER.totp_secret
# Secrets no fixture knows, for the attacks that leak today: the assertions say so, not the guard
LOOSE_SECRET = "hJ3kQ9vLmN2pR5sT8wXyZ1aB4cD7eF0gH6iJ9kLm"  # 40 characters, as AWS issues them
LOOSE_KEY_ID = "AKIAZZZZLOOSEKEY0001"
CODE = "914207"
BASE = f"[profile base]\nmfa_serial = {SERIAL}\nregion = us-east-1\n"
PLUGIN = "[profile mfa]\ncredential_process = mfa-process --profile base\n"
KEYS = f"[base]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = {SECRET}\n"
ESCAPES = "\x1b]0;pwned\x07\x1b[2J\u202e"  # retitle the terminal, clear the screen, reverse the text
UNSAFE_CATEGORIES = ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")  # what redact.printable escapes
REPORT_LINE = re.compile(r"(ok {7}|warning {2}|FAIL {5}| {9}fix: )\S")
PROBE_TIMEOUT = 5.0  # doctor/plugin_lines.py VERSION_TIMEOUT
CLOCK_TIMEOUT = 5.0  # doctor/clock.py TIMEOUT


def unsafe(text: str, keep: str = "\n") -> List[str]:
    """The characters of ``text`` that would act on a terminal instead of being shown."""
    return [char for char in text if char not in keep and unicodedata.category(char) in UNSAFE_CATEGORIES]


class Setup:
    """AWS files, a bin folder and a cache folder under ``root``, and the environment naming them;
    no proxy, and an STS endpoint where nothing listens unless a test names one."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.aws = root / ".aws"
        self.aws.mkdir(parents=True)
        self.config = self.aws / "config"
        self.credentials = self.aws / "credentials"
        self.bin = root / "bin"
        self.bin.mkdir()
        self.cache = root / ".cache" / "mfa-process"
        self.env = isolated_env(
            root,
            PATH=os.pathsep.join([str(self.bin), BIN_DIR, "/usr/bin", "/bin"]),
            AWS_CONFIG_FILE=str(self.config),
            AWS_SHARED_CREDENTIALS_FILE=str(self.credentials),
            XDG_CACHE_HOME=str(root / ".cache"),
            AWS_ENDPOINT_URL_STS=f"http://127.0.0.1:{closed_port()}",
            NO_PROXY="127.0.0.1,localhost",
            LANG="C.UTF-8",
            TERM="dumb",
        )
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
            self.env.pop(name, None)
            self.env.pop(name.lower(), None)

    def write(self, config: str = BASE + PLUGIN, credentials: Optional[str] = KEYS) -> "Setup":
        self.config.write_text(config)
        if credentials is not None:
            self.credentials.write_text(credentials)
            self.credentials.chmod(0o600)
        return self

    def program(self, relative: str, script: str) -> Path:
        """An executable sh script at ``root/relative``."""
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("#!/bin/sh\n" + script)
        path.chmod(0o755)
        return path

    def run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        """`mfa-process ARGS` with no terminal, as an IDE starts it; killed with its group at ``timeout``."""
        return run(
            [MFA_PROCESS, *args],
            env=self.env,
            cwd=self.root,
            capture_output=True,
            encoding="utf-8",
            errors="replace",
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )


def closed_port() -> int:
    """A loopback port nothing listens on (it was free a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def setup(tmp_path: Path) -> Setup:
    return Setup(tmp_path / "home").write()


def doctor(setup: Setup, guard: SecretGuard, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """`mfa-process doctor ARGS`; its stdout and stderr are the secret guard's to read too."""
    result = setup.run("doctor", *args, timeout=timeout)
    guard.check("the stdout of mfa-process doctor", result.stdout)
    guard.check("the stderr of mfa-process doctor", result.stderr)
    return result


def line(output: str, start: str) -> str:
    """The one line of ``output`` that starts with ``start``, with its fix line if it has one."""
    lines = output.splitlines()
    found = [index for index, text in enumerate(lines) if text.startswith(start)]
    assert len(found) == 1, output
    index = found[0]
    fix = lines[index + 1] if index + 1 < len(lines) and lines[index + 1].startswith(" " * 9 + "fix: ") else ""
    return lines[index] + ("\n" + fix if fix else "")


def read_pid(path: Path, timeout: float = 10.0) -> int:
    """The pid a fake program wrote to ``path``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = path.read_text().strip() if path.exists() else ""
        if text:
            return int(text)
        time.sleep(0.02)
    raise AssertionError(f"{path} was never written")


def kill_pids(pids: List[int]) -> None:
    """SIGKILL to each pid still running: what a test's programs left behind dies with the test."""
    for pid in wait_gone(pids, 0):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


# Peak memory of a program: run it as this script's child, then its maximum resident set size
# (KiB on Linux) is the last line of stderr. The limit on address space is inherited: a program
# that reads without bound fails instead of taking the machine's memory.
PEAK_MEMORY = """
import resource, subprocess, sys
completed = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
sys.stdout.buffer.write(completed.stdout)
sys.stderr.buffer.write(completed.stderr)
sys.stderr.write("\\n%d\\n" % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(completed.returncode)
"""
ADDRESS_SPACE_LIMIT = 3 << 30


def limited_memory() -> None:
    """A ``preexec_fn``: the default signal dispositions and at most 3 GiB of address space."""
    default_signals()
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE_LIMIT, ADDRESS_SPACE_LIMIT))


def peak_memory_kib(setup: Setup, argv: List[str], timeout: float = 120) -> int:
    measured = run(
        [sys.executable, "-c", PEAK_MEMORY, *argv],
        env=setup.env,
        cwd=setup.root,
        capture_output=True,
        encoding="utf-8",
        errors="replace",
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        preexec_fn=limited_memory,
    )
    return int(measured.stderr.strip().splitlines()[-1])


# --- the command line's edge ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["--profile", "base", f"--bogus={ESCAPES}"],
        ["status", ESCAPES],
        [f"--p={ESCAPES}"],  # ambiguous: --profile, --prompt, --prompt-timeout
        ["--profile", "base", "x\nmfa-process: all good"],
    ],
    ids=["unrecognized-option", "unrecognized-word", "ambiguous-option", "forged-line"],
)
def test_a_usage_error_reaches_the_terminal_escaped_in_one_line(setup: Setup, args: List[str]) -> None:
    result = setup.run(*args)

    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.count("\n") == 1, result.stderr
    assert not unsafe(result.stderr), result.stderr


@pytest.mark.parametrize(
    "args, option, secret",
    [
        (["--profile", "base", "--secret", LOOSE_KEY_ID, LOOSE_SECRET], "--secret", LOOSE_SECRET),
        (["--profile", "base", f"--aws-secret-access-key={LOOSE_SECRET}"], "--aws-secret-access-key", LOOSE_SECRET),
        (["status", f"--token-code={CODE}"], "--token-code", CODE),
        ([f"--p={LOOSE_SECRET}"], "--p", LOOSE_SECRET),
    ],
    ids=["bare-words", "option-value", "code-to-status", "ambiguous"],
)
def test_a_usage_error_names_the_option_never_its_value(
    setup: Setup, args: List[str], option: str, secret: str
) -> None:
    result = setup.run(*args)

    assert (result.returncode, result.stdout) == (2, "")
    assert option in result.stderr
    assert secret not in result.stderr and LOOSE_KEY_ID not in result.stderr, result.stderr


@pytest.mark.parametrize(
    "args",
    [
        [f"stauts{ESCAPES}"],
        ["help", f"stauts{ESCAPES}"],
        ["x" * 100_000],  # under Linux's 128 KiB limit on one argument
        ["completion", ESCAPES],  # argparse's invalid choice: shown with repr()
    ],
    ids=["unknown-command", "help-of-unknown", "huge-word", "invalid-choice"],
)
def test_an_unknown_word_is_one_short_escaped_line(setup: Setup, args: List[str]) -> None:
    started = time.monotonic()
    result = setup.run(*args)

    assert time.monotonic() - started < 10
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.count("\n") == 1 and len(result.stderr) < 400, result.stderr[:400]
    assert not unsafe(result.stderr), result.stderr


# --- doctor: nothing secret, nothing raw ---------------------------------------------------------------------


def test_doctor_shows_no_secret_and_runs_no_code_command(setup: Setup, secret_guard: SecretGuard) -> None:
    """Keys in the files and the environment, a TOTP seed in mfa_process, secrets and a code on
    credential_process lines: none is printed, and the code command is never run."""
    marker = setup.root / "code-command-ran"
    setup.program("bin/oathtool", f'touch "{marker}"\necho 000000\n')
    setup.write(
        config=f"{BASE}mfa_process = oathtool --totp -b {SEED}\n\n"
        f"[profile mfa]\ncredential_process = mfa-process --profile base --token-code {CODE}\n\n"
        f"[profile wrapped]\ncredential_process = env AWS_SECRET_ACCESS_KEY={SECRET} mfa-process --profile base\n",
    )
    setup.env.update(AWS_ACCESS_KEY_ID=KEY_ID, AWS_SECRET_ACCESS_KEY=SECRET, AWS_SESSION_TOKEN=LOOSE_SECRET)

    result = doctor(setup, secret_guard, "--offline")

    printed = result.stdout + result.stderr
    for secret in (SECRET, SEED, KEY_ID, LOOSE_SECRET, CODE):
        assert secret not in printed, secret
    assert "AKIA...MPLE" in printed  # the key named, masked
    assert "profile base: code source: command (mfa_prompt auto: command, terminal)" in printed  # named, not run
    assert not marker.exists(), "doctor ran the code command"


def test_a_secret_pasted_as_the_key_id_is_not_shown_even_in_part(setup: Setup, secret_guard: SecretGuard) -> None:
    setup.write(credentials=f"[base]\naws_access_key_id = {LOOSE_SECRET}\naws_secret_access_key = {LOOSE_KEY_ID}\n")

    result = doctor(setup, secret_guard, "--offline")

    assert "profile base: keys: in " in result.stdout  # still named as a problem with the keys
    assert LOOSE_SECRET[:4] not in result.stdout and LOOSE_SECRET[-4:] not in result.stdout, result.stdout


def test_names_paths_values_and_a_programs_answer_reach_the_terminal_escaped(
    tmp_path: Path, secret_guard: SecretGuard
) -> None:
    """Escape sequences and line breaks in the HOME path, the cache folder's path, a profile's name,
    an mfa_serial and what a credential_process program answers to --version: every report line is
    one line, and nothing reaches the terminal raw."""
    setup = Setup(tmp_path / f"home{ESCAPES}\nFAIL     forged")
    name = f"b{ESCAPES}"
    setup.program("bin/mfa-process", f"printf '{ESCAPES}mfa-process 9\\n'\n")  # first on PATH
    setup.write(
        config=f"[profile {name}]\nmfa_serial = arn:aws:iam::123456789012:mfa/{ESCAPES}\n\n"
        f"[profile mfa]\ncredential_process = mfa-process --profile {name}\n"
        f"[profile other]\ncredential_process = mfa-process --profile gone{ESCAPES}\n",
        credentials=f"[{name}]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = {SECRET}\n",
    )
    setup.cache.mkdir(parents=True)
    setup.cache.chmod(0o777)  # named in a FAIL, with its path

    result = doctor(setup, secret_guard, "--offline")

    assert result.returncode == 1 and result.stderr == ""
    assert not unsafe(result.stdout), result.stdout
    lines = result.stdout.splitlines()
    assert all(REPORT_LINE.match(text) for text in lines[:-1]), result.stdout
    assert re.match(r"\d+ checks: ", lines[-1])
    assert sum(text.startswith("FAIL     cache folder") for text in lines) == 1
    assert "\\x1b]0;pwned\\x07" in result.stdout  # shown, escaped


@pytest.mark.parametrize("name", ["ci bot", "$(touch PWNED)"])
def test_a_command_in_a_fix_names_the_profile_as_one_shell_word(
    setup: Setup, secret_guard: SecretGuard, name: str
) -> None:
    setup.write(config=f'[profile "{name}"]\nmfa_serial = {SERIAL}\n', credentials=None)

    result = doctor(setup, secret_guard, "--offline")

    commands = re.findall(r"`(mfa-process [^`]*--profile[^`]*)`", result.stdout)
    assert commands, result.stdout
    for command in commands:
        words = shlex.split(command)
        named = words[words.index("--profile") + 1]
        assert named == name or named == "BASE", command  # BASE: a placeholder


# --- doctor: the programs credential_process lines name -----------------------------------------------------


def test_doctor_runs_a_lines_program_with_version_alone_never_a_shell(setup: Setup, secret_guard: SecretGuard) -> None:
    """Shell syntax on a credential_process line is words to botocore, and to doctor: the program
    is run with --version and nothing else of the line."""
    argv_file = setup.root / "argv"
    recorder = setup.program("other/mfa-process", f'printf "%s\\n" "$@" > "{argv_file}"\necho "mfa-process 0.0.1"\n')
    pwned = setup.root / "PWNED"
    setup.write(
        config=BASE + f"[profile mfa]\ncredential_process = {recorder} --profile base ; touch {pwned} "
        f"$(touch {pwned}) `touch {pwned}` && touch {pwned} | touch {pwned}\n"
    )

    doctor(setup, secret_guard, "--offline")

    assert argv_file.read_text() == "--version\n"
    assert not pwned.exists()


def test_a_version_probe_that_hangs_is_killed_with_what_it_started(setup: Setup, secret_guard: SecretGuard) -> None:
    pid_file, child_file = setup.root / "probe.pid", setup.root / "child.pid"
    hanging = setup.program(
        "other/mfa-process", f'sleep 300 &\necho $! > "{child_file}"\necho $$ > "{pid_file}"\nexec sleep 300\n'
    )
    setup.write(config=BASE + f"[profile mfa]\ncredential_process = {hanging} --profile base\n")
    started = time.monotonic()
    try:
        result = doctor(setup, secret_guard, "--offline")
        elapsed = time.monotonic() - started

        assert PROBE_TIMEOUT <= elapsed < PROBE_TIMEOUT + 20
        assert "did not answer within 5 s" in line(result.stdout, "FAIL     profile mfa: credential_process")
        assert wait_gone([read_pid(pid_file), read_pid(child_file)], 5) == []
    finally:
        kill_pids([read_pid(path) for path in (pid_file, child_file) if path.exists()])


def test_a_version_probe_leaves_nothing_running(setup: Setup, secret_guard: SecretGuard) -> None:
    child_file = setup.root / "child.pid"
    leaving = setup.program("other/mfa-process", f'sleep 300 &\necho $! > "{child_file}"\necho "mfa-process 0.0.1"\n')
    setup.write(config=BASE + f"[profile mfa]\ncredential_process = {leaving} --profile base\n")
    try:
        doctor(setup, secret_guard, "--offline")

        assert wait_gone([read_pid(child_file)], 3) == [], "the probe's child still runs"
    finally:
        kill_pids([read_pid(child_file)] if child_file.exists() else [])


def test_a_version_probe_that_floods_is_read_in_part_and_escaped(setup: Setup, secret_guard: SecretGuard) -> None:
    flooding = setup.program("other/mfa-process", "head -c 20000000 /dev/zero | tr '\\000' '\\033'\necho\n")
    setup.write(config=BASE + f"[profile mfa]\ncredential_process = {flooding} --profile base\n")

    result = doctor(setup, secret_guard, "--offline")

    found = line(result.stdout, "FAIL     profile mfa: credential_process")
    assert "which is not mfa-process" in found and "\\x1b\\x1b" in found
    assert len(result.stdout) < 4000 and not unsafe(result.stdout)


def test_lines_naming_one_hanging_program_cost_one_timeout(setup: Setup, secret_guard: SecretGuard) -> None:
    pid_file = setup.root / "probes"
    hanging = setup.program("other/mfa-process", f'echo $$ >> "{pid_file}"\nexec sleep 300\n')
    roles = "".join(f"[profile role{n}]\ncredential_process = {hanging} --profile base\n" for n in range(3))
    setup.write(config=BASE + roles)
    started = time.monotonic()
    try:
        result = doctor(setup, secret_guard, "--offline")
        elapsed = time.monotonic() - started

        assert result.stdout.count("did not answer within 5 s") == 3
        assert elapsed < 2 * PROBE_TIMEOUT + 2, f"{elapsed:.1f} s"
    finally:
        kill_pids([int(pid) for pid in pid_file.read_text().split()] if pid_file.exists() else [])


def test_a_line_run_through_env_is_judged_by_the_program_env_runs(setup: Setup, secret_guard: SecretGuard) -> None:
    setup.write(
        config=BASE + "[profile mfa]\ncredential_process = env MFA_PROCESS_PROMPT=terminal mfa-process --profile base\n"
    )

    result = doctor(setup, secret_guard, "--offline")

    assert result.returncode == 0, result.stdout
    assert "FAIL     profile mfa: credential_process" not in result.stdout


def test_doctor_given_the_plugin_profile_points_at_its_base_profile(setup: Setup, secret_guard: SecretGuard) -> None:
    result = doctor(setup, secret_guard, "--offline", "--profile", "mfa")

    assert "to [profile mfa]" not in result.stdout, result.stdout
    assert "--profile base" in result.stdout or "profile base: keys" in result.stdout, result.stdout


def test_doctor_exits_2_on_a_usage_error_with_nothing_on_stdout(setup: Setup) -> None:
    for args in (["doctor", "--bogus"], ["doctor", "--profile"], ["doctor", "extra"]):
        result = setup.run(*args)

        assert (result.returncode, result.stdout) == (2, ""), args
        assert result.stderr.startswith("mfa-process: ") and result.stderr.count("\n") == 1


# --- doctor: FIFOs, huge files, untrusted cache folders -----------------------------------------------------


def test_fifos_for_the_aws_files_and_the_cache_folder_are_named_never_waited_on(
    setup: Setup, secret_guard: SecretGuard
) -> None:
    for path in (setup.config, setup.credentials):
        path.unlink()
        os.mkfifo(path)
    setup.cache.parent.mkdir()
    os.mkfifo(setup.cache)

    result = doctor(setup, secret_guard, timeout=30)
    listed = setup.run("completion", "--profiles", timeout=30)

    assert result.returncode == 1
    assert line(result.stdout, "FAIL     config file").startswith(f"FAIL     config file {setup.config} (from")
    assert ": not a file" in line(result.stdout, "FAIL     credentials file")
    assert f"cache folder {setup.cache}: not a folder" in line(result.stdout, "FAIL     cache folder")
    assert (listed.returncode, listed.stdout, listed.stderr) == (0, "", "")


def test_a_fifo_named_like_a_session_is_named_never_waited_on(setup: Setup, secret_guard: SecretGuard) -> None:
    setup.cache.mkdir(parents=True, mode=0o700)
    fifo = setup.cache / "base.0123456789abcdef01234567.json"
    os.mkfifo(fifo, 0o600)

    result = doctor(setup, secret_guard, "--offline", timeout=30)

    assert result.returncode == 0, result.stdout
    assert f"{fifo} is not a regular file" in line(result.stdout, "warning  cache folder")


@pytest.mark.parametrize("owner", ["another user", "everyone can write"])
def test_a_cache_folder_linked_to_a_folder_that_is_not_private_is_a_failure(
    setup: Setup, secret_guard: SecretGuard, owner: str
) -> None:
    target = setup.root / "shared"
    target.mkdir(mode=0o700)
    if owner == "another user":
        if os.geteuid() != 0:
            pytest.skip("giving a folder to another user needs root")
        os.chown(target, 65534, 65534)
        what = "belongs to uid 65534, not to you"
    else:
        target.chmod(0o777)
        what = "can be written by other users (mode 0777)"
    setup.cache.parent.mkdir()
    setup.cache.symlink_to(target)

    result = doctor(setup, secret_guard, "--offline")

    assert result.returncode == 1
    assert line(result.stdout, "FAIL     cache folder") == (
        f"FAIL     cache folder: the cache folder {setup.cache} is a symbolic link to a folder that {what}, so its "
        "sessions are not served\n"
        f"         fix: remove the link (rm {setup.cache}) and mfa-process creates a private folder"
    )
    assert stat.S_IMODE(target.stat().st_mode) == (0o700 if owner == "another user" else 0o777)  # never changed


def test_a_huge_file_named_as_the_config_is_refused_without_reading_it(setup: Setup) -> None:
    huge = setup.root / "disk.img"
    with open(huge, "wb") as file:
        file.truncate(64 << 20)  # sparse: no disk used
    setup.env["AWS_CONFIG_FILE"] = str(huge)

    peak = peak_memory_kib(setup, [MFA_PROCESS, "completion", "--profiles"])

    assert peak < 48 << 10, f"{peak >> 10} MiB"


# --- doctor: the clock check and a hostile STS endpoint -----------------------------------------------------

# An STS endpoint that records each request (length-prefixed, in the file argv[2]) and answers as
# argv[1] says: sts (an AWS error), text (a proxy's plain-text 403), date:VALUE, redirect:URL,
# trickle (a byte a second), huge:BYTES.
HOSTILE_STS = r"""
import socket, sys, threading, time
mode, log_path = sys.argv[1], sys.argv[2]
kind, _, value = mode.partition(":")
server = socket.create_server(("127.0.0.1", 0))
print(server.getsockname()[1], flush=True)
ERROR = (b"<ErrorResponse><Error><Type>Sender</Type><Code>MissingAuthenticationToken</Code>"
         b"<Message>Request is missing Authentication Token</Message></Error></ErrorResponse>")


def now():
    return time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime()).encode()


def answer(status, headers, body=b""):
    lines = [b"HTTP/1.1 " + status] + [name + b": " + text for name, text in headers]
    lines += [b"Content-Length: " + str(len(body)).encode(), b"Connection: close"]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def serve(connection):
    with connection:
        connection.settimeout(10)
        request = b""
        while b"\r\n\r\n" not in request:
            chunk = connection.recv(65536)
            if not chunk:
                return
            request += chunk
        head = request.split(b"\r\n\r\n", 1)[0]
        length = 0
        for header in head.split(b"\r\n")[1:]:
            if header.lower().startswith(b"content-length:"):
                length = int(header.split(b":", 1)[1])
        while len(request) < len(head) + 4 + length:
            chunk = connection.recv(65536)
            if not chunk:
                break
            request += chunk
        with open(log_path, "ab") as log:
            log.write(len(request).to_bytes(8, "big") + request)
        if kind == "sts":
            connection.sendall(answer(b"403 Forbidden", [(b"Date", now()), (b"Content-Type", b"text/xml")], ERROR))
        elif kind == "text":
            connection.sendall(answer(b"403 Forbidden", [(b"Date", now()), (b"Content-Type", b"text/plain")], b"No"))
        elif kind == "date":
            connection.sendall(answer(b"403 Forbidden", [(b"Date", value.encode())], ERROR))
        elif kind == "redirect":
            connection.sendall(answer(b"307 Temporary Redirect", [(b"Date", now()), (b"Location", value.encode())]))
        elif kind == "trickle":
            for byte in b"HTTP/1.1 403 Forbidden\r\nDate: " + now() + b"\r\nX-Slow: " + b"." * 600:
                connection.sendall(bytes([byte]))
                time.sleep(1)
        elif kind == "huge":
            size = int(value)
            connection.sendall(b"HTTP/1.1 403 Forbidden\r\nDate: " + now() + b"\r\nContent-Length: "
                               + str(size).encode() + b"\r\n\r\n")
            block = b"<" * (1 << 20)
            while size > 0:
                connection.sendall(block[:size])
                size -= len(block)


while True:
    connection, _ = server.accept()
    threading.Thread(target=serve, args=(connection,), daemon=True).start()
"""


class Endpoint:
    """A hostile STS endpoint's URL, and the requests it was sent."""

    def __init__(self, url: str, log: Path) -> None:
        self.url = url
        self.log = log

    def requests(self) -> List[bytes]:
        data, found = self.log.read_bytes(), []
        while data:
            size = int.from_bytes(data[:8], "big")
            found.append(data[8 : 8 + size])
            data = data[8 + size :]
        return found


@pytest.fixture
def endpoint(tmp_path: Path) -> Iterator[Callable[[str], Endpoint]]:
    """``endpoint(mode)``: a hostile STS endpoint started for this test, killed at its end."""
    processes: List[subprocess.Popen] = []

    def start(mode: str) -> Endpoint:
        log = tmp_path / f"endpoint-{len(processes)}.log"
        log.write_bytes(b"")
        process = popen(
            [sys.executable, "-c", HOSTILE_STS, mode, str(log)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        processes.append(process)
        return Endpoint(f"http://127.0.0.1:{int(process.stdout.readline())}", log)  # type: ignore[union-attr]

    try:
        yield start
    finally:
        for process in processes:
            kill_group(process)


def test_the_clock_check_is_one_unsigned_request_with_nothing_secret(
    setup: Setup, secret_guard: SecretGuard, endpoint: Callable[[str], Endpoint]
) -> None:
    sts = endpoint("sts")
    setup.write(config=f"{BASE}mfa_process = oathtool --totp -b {SEED}\n\n{PLUGIN}")
    setup.env.update(
        AWS_ENDPOINT_URL_STS=sts.url,
        AWS_ACCESS_KEY_ID=LOOSE_KEY_ID,
        AWS_SECRET_ACCESS_KEY=LOOSE_SECRET,
        AWS_SESSION_TOKEN=LOOSE_SECRET[::-1],
    )

    result = doctor(setup, secret_guard)

    assert line(result.stdout, "ok       clock").startswith("ok       clock: within ")
    requests = sts.requests()
    assert len(requests) == 1
    request = requests[0]
    for secret in (KEY_ID, SECRET, SEED, LOOSE_KEY_ID, LOOSE_SECRET, LOOSE_SECRET[::-1]):
        assert secret.encode() not in request, secret
    head, body = request.split(b"\r\n\r\n", 1)
    names = {header.split(b":", 1)[0].strip().lower() for header in head.split(b"\r\n")[1:]}
    assert not names & {b"authorization", b"x-amz-security-token", b"x-amz-date", b"cookie"}, names
    assert body == b"Action=GetCallerIdentity&Version=2011-06-15"


def test_the_clock_check_follows_no_redirect(
    setup: Setup, secret_guard: SecretGuard, endpoint: Callable[[str], Endpoint]
) -> None:
    elsewhere = endpoint("sts")
    redirecting = endpoint(f"redirect:{elsewhere.url}/")
    setup.env["AWS_ENDPOINT_URL_STS"] = redirecting.url

    doctor(setup, secret_guard)

    assert len(redirecting.requests()) == 1
    assert elsewhere.requests() == []


def test_an_endpoint_s_password_is_not_shown(setup: Setup, secret_guard: SecretGuard) -> None:
    setup.env["AWS_ENDPOINT_URL_STS"] = f"http://alice:{LOOSE_SECRET}@127.0.0.1:{closed_port()}"

    result = doctor(setup, secret_guard)

    assert "gave no time (could not connect)" in line(result.stdout, "warning  clock")
    assert LOOSE_SECRET not in result.stdout + result.stderr


def test_an_answer_that_does_not_parse_is_judged_by_its_date(
    setup: Setup, secret_guard: SecretGuard, endpoint: Callable[[str], Endpoint]
) -> None:
    setup.env["AWS_ENDPOINT_URL_STS"] = endpoint("text").url

    result = doctor(setup, secret_guard)

    assert result.returncode == 0, result.stdout
    assert line(result.stdout, "ok       clock").startswith("ok       clock: within ")


def test_a_date_with_an_impossible_zone_is_no_verdict(
    setup: Setup, secret_guard: SecretGuard, endpoint: Callable[[str], Endpoint]
) -> None:
    setup.env["AWS_ENDPOINT_URL_STS"] = endpoint("date:Mon, 01 Jan 2024 00:00:00 +99999999999999999999").url

    result = doctor(setup, secret_guard)

    assert result.returncode == 0, result.stdout
    assert "gave no time (its Date header is not a date)" in line(result.stdout, "warning  clock")


def test_a_trickled_answer_is_given_up_in_bounded_time(
    setup: Setup, secret_guard: SecretGuard, endpoint: Callable[[str], Endpoint]
) -> None:
    setup.env["AWS_ENDPOINT_URL_STS"] = endpoint("trickle").url
    started = time.monotonic()

    try:
        result = doctor(setup, secret_guard, timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail("doctor was still waiting for the answer after 30 s")

    assert time.monotonic() - started < 4 * CLOCK_TIMEOUT
    assert "warning  clock: not checked" in result.stdout


def test_a_huge_answer_is_not_read_whole(setup: Setup, endpoint: Callable[[str], Endpoint]) -> None:
    setup.env["AWS_ENDPOINT_URL_STS"] = endpoint(f"huge:{256 << 20}").url

    peak = peak_memory_kib(setup, [MFA_PROCESS, "doctor"])

    assert peak < 160 << 10, f"{peak >> 10} MiB"


# --- completion: profile names, the command word, strict shells, broken files ------------------------------

SHELL_CODE_PROFILES = (
    "a'b",
    'a"b',
    "a\\b",
    "a!b",
    "*",
    "{a,b}",
    "$HOME",
    "~root",
    "-n",
    "%s%n",
    "a;b|c&d",
    "<x >y",
    "a b",
    "$(touch PWNED)",
    "`touch PWNED`",
    "${IFS}x",
)
# Each candidate bash would insert, read back as bash reads a command line: how many words, the first.
BASH_REREAD = 'for candidate in "$@"; do eval "words=($candidate)"; printf "%s\\0" "${#words[@]}:${words[0]-}"; done'


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_a_profile_name_that_is_shell_code_is_offered_as_one_word_never_run(tmp_path: Path, shell: str) -> None:
    need(shell)
    home = CompletionHome(tmp_path, credentials="".join(f"[{name}]\nregion = x\n" for name in SHELL_CODE_PROFILES))

    offered = home.complete(shell, "mfa-process --profile ")

    if shell == "bash":  # inserted as typed words: each must read back as the name, one word
        reread = run(
            ["bash", "--norc", "--noprofile", "-c", BASH_REREAD, "bash", *offered],
            env=home.env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        offered = [word.split(":", 1)[1] for word in reread.stdout.split("\0") if word.startswith("1:")]
    assert not list(tmp_path.rglob("PWNED")), "a profile name was run as a command"
    assert set(offered) == COMPLETION_PROFILES - {"ci bot"} | set(SHELL_CODE_PROFILES)


@pytest.mark.parametrize(
    "shell",
    [
        "bash",
        "zsh",
        "fish",
    ],
)
def test_code_typed_in_the_command_word_is_never_run_at_tab(tmp_path: Path, shell: str) -> None:
    need(shell)
    home = CompletionHome(tmp_path)

    home.complete(shell, "$(touch PWNED)/mfa-process --profile ")

    assert not list(tmp_path.rglob("PWNED")), "TAB ran what was typed"


BASH_STRICT = """\
set -euo pipefail
shopt -s failglob extglob
cur=mine prev=mine word=mine i=mine head=mine name=mine quoted=mine option=mine prefix=mine command=mine program=mine
eval "$(mfa-process completion bash)"
complete_line() {
    COMP_WORDS=("$@")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMP_LINE="$*"
    COMP_POINT=${#COMP_LINE}
    COMPREPLY=()
    _mfa_process
    printf '%s\\n' "${COMPREPLY[@]+"${COMPREPLY[@]}"}"
}
complete_line mfa-process st
complete_line mfa-process login --profile ""
complete_line mfa-process login --prompt terminal,z
complete_line mfa-process --profile = b
complete_line mfa-process exec --profile base -- ech
complete_line mfa-process login --duration ""
complete_line mfa-process login --bogus=x
echo "still here: $cur $prev $word $i $head $name $quoted $option $prefix $command $program"
"""


def test_the_bash_script_keeps_a_strict_shell_alive_and_its_variables_alone(tmp_path: Path) -> None:
    need("bash")
    home = CompletionHome(tmp_path)

    result = run(
        ["bash", "--norc", "--noprofile", "-c", BASH_STRICT],
        env=home.env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert (result.returncode, result.stderr) == (0, ""), result.stderr
    offered = result.stdout.splitlines()
    assert offered[-1] == "still here: " + " ".join(["mine"] * 11)
    assert {"status", "base", "terminal,zenity", "echo"} <= set(offered)


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_a_broken_credentials_file_offers_nothing_and_says_nothing_at_tab(tmp_path: Path, shell: str) -> None:
    need(shell)
    home = CompletionHome(tmp_path, credentials=f"[ci]\n{SECRET}\n")

    offered = home.complete(shell, "mfa-process --profile ")  # asserts an empty stderr and exit status 0

    assert offered == []


# --- the demo -----------------------------------------------------------------------------------------------


@pytest.fixture
def trap(tmp_path: Path) -> Iterator[Trap]:
    """A listener on loopback that records every connection: the proxy and endpoints the demo must not use."""
    record = tmp_path / "trap-connections"
    record.write_text("")
    listener = popen([sys.executable, "-c", LISTENER, str(record)], stdout=subprocess.PIPE, text=True)
    try:
        yield Trap(f"http://127.0.0.1:{int(listener.stdout.readline())}", record)  # type: ignore[union-attr]
    finally:
        kill_group(listener)


def test_the_demo_reads_none_of_the_persons_aws_files_nor_runs_their_commands(
    tmp_path: Path, trap: Trap, secret_guard: SecretGuard
) -> None:
    """A person's ~/.aws, and the files AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE name, hold
    the demo's own profile names, each running a command; AWS_PROFILE, keys and MFA_PROCESS_*
    variables are set: the demo uses none of them."""
    env = person_env(tmp_path, trap_url=trap.url)
    home = Path(env["HOME"])
    markers = tmp_path / "markers"
    markers.mkdir()

    def hostile(where: str) -> str:
        return "".join(
            f"[{section}]\ncredential_process = sh -c 'touch {markers}/{where}-{profile}'\n"
            f"mfa_serial = arn:aws:iam::999999999999:mfa/mallory\nregion = us-west-2\n\n"
            for section, profile in (("default", "default"), ("profile base", "base"), ("profile mfa", "mfa"))
        )

    (home / ".aws" / "config").write_text(hostile("home-config"))
    (home / ".aws" / "credentials").write_text(hostile("home-credentials").replace("profile ", ""))
    (tmp_path / "elsewhere-config").write_text(hostile("env-config"))
    env.update(
        AWS_CONFIG_FILE=str(tmp_path / "elsewhere-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "elsewhere-config"),
        AWS_PROFILE="mfa",
        AWS_ACCESS_KEY_ID=LOOSE_KEY_ID,
        AWS_SECRET_ACCESS_KEY=LOOSE_SECRET,
        MFA_PROCESS_PROMPT="command",  # no mfa_process in the demo's profile: a run would fail
        MFA_PROCESS_RESOLVING_PROFILE="base",  # a run would refuse, taking itself for a recursion
    )

    child = spawn_demo(sys.executable, env, tmp_path)
    try:
        child.expect_exact(f"{DENIED}: the STS double answered AccessDenied (HTTP 403)")
        type_the_shown_code(child)
        rest_of_the_demo(child)
    finally:
        finish(child)
    secret_guard.check("the demo's terminal", transcript(child))

    assert child.exitstatus == 0, transcript(child)
    assert sorted(path.name for path in markers.iterdir()) == []
    assert LOOSE_SECRET not in transcript(child) and LOOSE_KEY_ID not in transcript(child)
    assert trap.connections() == 0
