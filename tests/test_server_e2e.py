"""`mfa-process exec --server` and `mfa-process serve` end to end: the real server process, real
HTTP clients and botocore, against the STS double.

Who gets keys (the token, the Host header, the address it listens on), what the command gets
(its environment, its signals, its exit status), what `serve` prints, and what a request gets
while a renewal waits for a person: there the server's wall clock is moved while it runs
(libfaketime reading its offset from a file, tests/clock_shift.py), and the double's with it.
"""

from __future__ import annotations

import calendar
import http.client
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Tuple

import pexpect
import pytest
from aws_home import AwsHome, spawn
from clock_shift import ClockShift
from processes import kill_group, popen, run

PROMPT = "Enter MFA code for arn:aws:iam::123456789012:mfa/alice: "
URI = "AWS_CONTAINER_CREDENTIALS_FULL_URI"
TOKEN = "AWS_CONTAINER_AUTHORIZATION_TOKEN"
START_SECONDS = 30.0  # mfa-process up and its first session fetched; a second or two here
EXIT_SECONDS = 20.0

# botocore as a program under the server calls it: a new session each time (no credentials kept
# between calls), the default chain (which must reach the container endpoint).
BOTO3_CALLER = r"""
import json, sys
import boto3
session = boto3.Session()
try:
    arn = session.client("sts", region_name="us-east-1").get_caller_identity()["Arn"]
    print(json.dumps({"ok": True, "arn": arn, "key": session.get_credentials().access_key}))
except Exception as error:
    print(json.dumps({"ok": False, "error": f"{type(error).__name__}: {error}"}))
"""

# The command of `exec --server` in the tests that look at it while it runs: it says it is there
# (its pid, in a file), runs botocore in itself whenever a file call-N appears (the answer goes to
# result-N), and exits 0 when a file named stop appears, or after its time.
AGENT = r"""
import json, os, pathlib, sys, time
import boto3
here, lifetime = pathlib.Path(sys.argv[1]), float(sys.argv[2])

def write(name, text):
    (here / (name + ".partial")).write_text(text)
    os.replace(here / (name + ".partial"), here / name)

def call():
    session = boto3.Session()
    try:
        arn = session.client("sts", region_name="us-east-1").get_caller_identity()["Arn"]
        return {"ok": True, "arn": arn, "key": session.get_credentials().access_key}
    except Exception as error:
        return {"ok": False, "error": f"{type(error).__name__}: {error}"}

write("agent.pid", str(os.getpid()))
done, deadline = 0, time.monotonic() + lifetime
while not (here / "stop").exists() and time.monotonic() < deadline:
    if (here / f"call-{done + 1}").exists():
        done += 1
        write(f"result-{done}", json.dumps(call()))
    time.sleep(0.05)
"""


def wait_for(condition: Callable[[], object], timeout: float, what: str) -> object:
    """``condition()``'s first true value within ``timeout`` seconds, or a failure naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:g} s")
        time.sleep(0.05)


def request(
    url: str, token: Optional[str], host: Optional[str] = None, method: str = "GET", path: str = "/"
) -> Tuple[int, str]:
    """(status, body) of one request to the server; ``host`` replaces the Host header a client
    would send for ``url`` (a page that rebinds its own name to 127.0.0.1 sends that name), ""
    leaves it out."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.putrequest(method, path, skip_host=host is not None, skip_accept_encoding=True)
        if host:  # "": no Host header at all
            connection.putheader("Host", host)
        if token is not None:
            connection.putheader("Authorization", token)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def served(url: str, token: str) -> Dict[str, str]:
    status, body = request(url, token)
    assert status == 200, body
    return json.loads(body)


def refuses_connections(url: str) -> bool:
    parts = urllib.parse.urlsplit(url)
    try:
        socket.create_connection((parts.hostname, parts.port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


def epoch(expiration: str) -> int:
    return calendar.timegm(time.strptime(expiration, "%Y-%m-%dT%H:%M:%SZ"))


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


def environment_of(pid: int) -> Dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().decode("utf-8", "surrogateescape")
    return dict(entry.split("=", 1) for entry in raw.split("\0") if "=" in entry)


def argv_of(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().decode("utf-8", "surrogateescape").replace("\0", " ")


def run_python(aws: AwsHome, code: str, env: Dict[str, str], timeout: float = 60) -> Dict[str, object]:
    """``code`` (which prints one JSON line) in a Python of its own with ``env``."""
    result = run([sys.executable, "-c", code], env=env, cwd=aws.root, capture_output=True, text=True, timeout=timeout)
    aws.guard.check("the stderr of a boto3 caller", result.stderr)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def caller_env(aws: AwsHome, **variables: str) -> Dict[str, str]:
    """aws.env for a program that only has the server (no profile, no keys) to get credentials from."""
    return {**aws.env, **variables}


def last_call(aws: AwsHome, action: str) -> Dict[str, object]:
    return [record for record in aws.sts.requests if record["action"] == action][-1]


def ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
        return True
    except OSError:
        return False


# ---- `serve` ----------------------------------------------------------------------------------


class Serve:
    """`mfa-process serve` running with no terminal, its stdout and stderr in files."""

    def __init__(self, aws: AwsHome, process: subprocess.Popen, stdout: Path, stderr: Path) -> None:
        self.aws = aws
        self.process = process
        self.stdout = stdout
        self.stderr = stderr

    def printed(self) -> str:
        return self.stdout.read_text()

    def errors(self) -> str:
        return self.stderr.read_text()

    def wait_serving(self) -> None:
        wait_for(
            lambda: "until Ctrl-C" in self.errors() or self.process.poll() is not None,
            START_SECONDS,
            "serve saying it serves",
        )
        assert self.process.poll() is None, self.errors()

    def exports(self) -> Dict[str, str]:
        """The sh lines' variables: NAME -> value."""
        found = {}
        for line in self.printed().splitlines():
            words = shlex.split(line)
            if words[0] == "export":
                name, value = words[1].split("=", 1)
                found[name] = value
        return found

    def stop(self, signum: int) -> int:
        self.process.send_signal(signum)
        return self.process.wait(EXIT_SECONDS)


@contextmanager
def serving(aws: AwsHome, *args: str) -> Iterator[Serve]:
    stdout, stderr = aws.root / "serve.out", aws.root / "serve.err"
    argv = ["mfa-process", "serve", "--profile", "base", "--token-code", aws.code(), *args]
    with stdout.open("w") as out, stderr.open("w") as err:
        process = popen(argv, env=aws.env, cwd=aws.root, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
    server = Serve(aws, process, stdout, stderr)
    try:
        yield server
    finally:
        kill_group(process)
        aws.guard.check("the stderr of mfa-process serve", server.errors())


def test_serve_prints_the_lines_that_point_a_separate_boto3_process_at_it(aws: AwsHome) -> None:
    with serving(aws) as server:
        server.wait_serving()
        printed = server.printed()
        exports = server.exports()
        key = served(exports[URI], exports[TOKEN])["AccessKeyId"]
        (aws.root / "exports.sh").write_text(printed)
        result = run(
            ["sh", "-c", '. ./exports.sh && exec "$0" -c "$1"', sys.executable, BOTO3_CALLER],
            env=caller_env(aws, AWS_ACCESS_KEY_ID="AKIASTALEPARENTKEY00", AWS_PROFILE="nosuch"),
            cwd=aws.root,
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer == {"ok": True, "arn": "arn:aws:iam::123456789012:user/alice", "key": key}
    assert last_call(aws, "GetCallerIdentity")["access_key_id"] == key
    assert "unset AWS_ACCESS_KEY_ID\n" in printed and "unset AWS_PROFILE\n" in printed  # the pasted-into shell's
    assert exports[URI].startswith("http://127.0.0.1:") and exports[URI].endswith("/")
    assert "mfa-process: serving profile 'base' at " + exports[URI] + " until Ctrl-C" in server.errors()


def fish_pair(line: str) -> Optional[List[str]]:
    """``set -gx NAME 'value';`` -> [NAME, value] (fish's single quotes escape only \\ and ')."""
    return shlex.split(line.rstrip(";"))[2:4] if line.startswith("set -gx ") else None


def powershell_pair(line: str) -> Optional[List[str]]:
    """``$Env:NAME = 'value'`` -> [NAME, value] (the values here hold no quote to double)."""
    if not line.startswith("$Env:"):
        return None
    name, value = line[len("$Env:") :].split(" = ", 1)
    return [name, value[1:-1]]


@pytest.mark.parametrize(
    ("shell", "unset", "parse"),
    [
        ("fish", "set -e AWS_PROFILE;", fish_pair),
        ("powershell", "Remove-Item Env:AWS_PROFILE -ErrorAction SilentlyContinue", powershell_pair),
    ],
    ids=["fish", "powershell"],
)
def test_serve_prints_fish_and_powershell_lines_whose_values_work(
    aws: AwsHome, shell: str, unset: str, parse: Callable[[str], Optional[List[str]]]
) -> None:
    with serving(aws, "--shell", shell) as server:
        server.wait_serving()
        printed = server.printed()
        variables = dict(pair for pair in map(parse, printed.splitlines()) if pair)
        status, body = request(variables[URI], variables[TOKEN])

    assert status == 200 and json.loads(body)["AccessKeyId"].startswith("ASIA")
    assert set(variables) == {URI, TOKEN}
    assert unset in printed.splitlines()
    assert "export " not in printed


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_serve_stops_cleanly_on_ctrl_c_and_sigterm_and_closes_its_port(aws: AwsHome, signum: int) -> None:
    with serving(aws) as server:
        server.wait_serving()
        url = server.exports()[URI]
        assert not refuses_connections(url)
        status = server.stop(signum)

        assert status == 0, server.errors()
        assert server.errors().endswith("mfa-process: server stopped\n")
        assert refuses_connections(url)


# ---- who gets keys ---------------------------------------------------------------------------


def test_only_a_request_with_the_token_and_the_servers_host_gets_keys(aws: AwsHome) -> None:
    with serving(aws) as server:
        server.wait_serving()
        exports = server.exports()
        url, token = exports[URI], exports[TOKEN]
        port = urllib.parse.urlsplit(url).port
        answers = {
            "no token": request(url, None),
            "a wrong token": request(url, "x" * 43),
            "the token but its last character": request(url, token[:-1] + ("B" if token.endswith("A") else "A")),
            "a foreign Host": request(url, token, host=f"attacker.example:{port}"),
            "a foreign Host, no token": request(url, None, host=f"attacker.example:{port}"),
            "no Host header": request(url, token, host=""),
        }
        wrong_token_sdk = run_python(aws, BOTO3_CALLER, caller_env(aws, **{URI: url, TOKEN: "x" * 43}))
        good = request(url, token, host=f"localhost:{port}")

    assert good[0] == 200 and json.loads(good[1])["AccessKeyId"].startswith("ASIA")  # the control
    expected = {
        "no token": 401,
        "a wrong token": 401,
        "the token but its last character": 401,
        "a foreign Host": 403,
        "a foreign Host, no token": 403,
        "no Host header": 403,
    }
    assert {what: status for what, (status, _) in answers.items()} == expected
    issued = aws.sts.sessions()
    assert issued
    for what, (_, body) in answers.items():
        assert "AccessKeyId" not in body and json.loads(body)["Code"] in ("Unauthorized", "ForeignHost"), what
        for session in issued:
            assert session.access_key_id not in body and session.secret_access_key not in body, what
    assert wrong_token_sdk["ok"] is False
    assert "Received non 200 response 401" in str(wrong_token_sdk["error"])


@pytest.mark.parametrize("bind", ["0.0.0.0", "::", "example.com"])
def test_serve_refuses_a_bind_that_is_not_one_loopback_address(aws: AwsHome, bind: str) -> None:
    result = aws.run(["serve", "--profile", "base", "--bind", bind])

    assert result.returncode == 2
    line = one_line(result.stderr)
    assert line.startswith("mfa-process: --bind ") and bind in line
    assert result.stdout == ""


def test_exec_server_refuses_a_wildcard_bind_and_runs_nothing(aws: AwsHome) -> None:
    result = aws.run(["exec", "--server", "--profile", "base", "--bind", "0.0.0.0", "--", "touch", "ran"])

    assert result.returncode == 2
    assert "every interface" in one_line(result.stderr)
    assert not (aws.root / "ran").exists()


def in_terminal(aws: AwsHome, command: str, timeout: float = 20) -> Tuple[int, str, str]:
    """``command`` (mfa-process ... ) in a pseudo-terminal with its stderr to a file: (exit status,
    what reached the terminal, stderr). A prompt showing fails the test at once."""
    child = spawn("sh", aws, args=["-c", f"{command} 2>err.txt; echo status=$?"], timeout=timeout)
    assert child.expect_exact(["status=", PROMPT]) == 0, f"a prompt: {child.before}"
    terminal = child.before
    child.expect(pexpect.EOF)
    status = int(child.before.strip())
    child.close()
    stderr = (aws.root / "err.txt").read_text()
    aws.guard.check(f"the stderr of {command}", stderr)
    return status, terminal, stderr


def test_a_port_already_taken_is_one_line_exit_1_before_any_prompt(aws: AwsHome) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        status, terminal, stderr = in_terminal(aws, f"mfa-process serve --profile base --port {port}")

    assert status == 1
    assert terminal.strip() == ""  # nothing on stdout, no prompt
    line = one_line(stderr)
    assert f"cannot listen on 127.0.0.1:{port}" in line and "another program listens there" in line


def test_exec_server_on_a_port_already_taken_runs_nothing(aws: AwsHome) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        result = aws.run(["exec", "--server", "--profile", "base", "--port", port, "--", "touch", "ran"])

    assert result.returncode == 1
    assert "cannot listen on" in one_line(result.stderr)
    assert result.stdout == "" and not (aws.root / "ran").exists()


@pytest.mark.skipif(not ipv6_loopback(), reason="this machine has no IPv6 loopback (::1)")
def test_bind_ipv6_loopback_serves_boto3(aws: AwsHome) -> None:
    with serving(aws, "--bind", "::1") as server:
        server.wait_serving()
        exports = server.exports()
        answer = run_python(aws, BOTO3_CALLER, caller_env(aws, **{URI: exports[URI], TOKEN: exports[TOKEN]}))

    assert exports[URI].startswith("http://[::1]:")
    assert answer["ok"] is True, answer
    assert answer["arn"] == "arn:aws:iam::123456789012:user/alice"


# ---- exec --server: the command ------------------------------------------------------------


def exec_server(aws: AwsHome, *command: str, options: Tuple[str, ...] = ()) -> List[str]:
    """The argv of `mfa-process exec --server` for ``command``, its first session from a code."""
    session = ["--profile", "base", "--token-code", aws.code()]
    return ["mfa-process", "exec", "--server", *session, *options, "--", *command]


@contextmanager
def running(aws: AwsHome, argv: List[str]) -> Iterator[subprocess.Popen]:
    """mfa-process with no terminal (its own process group), killed with its command at the end."""
    stderr = aws.root / "exec.err"
    with stderr.open("w") as err:
        process = popen(
            argv, env=aws.env, cwd=aws.root, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err
        )
    try:
        yield process
    finally:
        kill_group(process)
        aws.guard.check("the stderr of mfa-process exec --server", stderr.read_text())


def agent_pid(aws: AwsHome, timeout: float = START_SECONDS) -> int:
    def written() -> Optional[int]:
        try:
            return int((aws.root / "agent.pid").read_text())
        except (FileNotFoundError, ValueError):
            return None

    return int(wait_for(written, timeout, "the command started"))  # type: ignore[arg-type]


def test_the_token_is_in_the_commands_environment_only_never_in_an_argv(aws: AwsHome) -> None:
    with running(aws, exec_server(aws, sys.executable, "-c", AGENT, str(aws.root), "60")) as process:
        pid = agent_pid(aws)
        environment = environment_of(pid)
        token = environment[TOKEN]
        server_argv, command_argv = argv_of(process.pid), argv_of(pid)
        server_environment = environment_of(process.pid)
        works = request(environment[URI], token)[0]
        (aws.root / "stop").touch()
        status = process.wait(EXIT_SECONDS)

    assert works == 200 and status == 0
    assert "mfa-process exec --server" in server_argv and "-c" in command_argv  # the processes meant
    assert token not in server_argv and token not in command_argv
    assert token not in json.dumps(server_environment)


def test_the_commands_exit_status_is_passed_through(aws: AwsHome) -> None:
    result = aws.run(exec_server(aws, sys.executable, "-c", "raise SystemExit(3)")[1:])
    assert result.returncode == 3, result.stderr


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_a_command_killed_by_a_signal_takes_mfa_process_with_it(aws: AwsHome, signum: int) -> None:
    suicide = f"import os; os.kill(os.getpid(), {int(signum)})"
    result = aws.run(exec_server(aws, sys.executable, "-c", suicide)[1:])
    assert result.returncode == -signum, result.stderr


TRAP_TERM = r"""
import os, pathlib, signal, sys, time
here = pathlib.Path(sys.argv[1])
def stopped(signum, frame):
    (here / "got").write_text(signal.Signals(signum).name)
    sys.exit(5)
signal.signal(signal.SIGTERM, stopped)
(here / "agent.pid").write_text(str(os.getpid()))
time.sleep(30)
"""


def test_sigterm_to_mfa_process_reaches_the_command(aws: AwsHome) -> None:
    with running(aws, exec_server(aws, sys.executable, "-c", TRAP_TERM, str(aws.root))) as process:
        agent_pid(aws)
        os.kill(process.pid, signal.SIGTERM)  # mfa-process alone, as a supervisor would
        status = process.wait(EXIT_SECONDS)

    assert (aws.root / "got").read_text() == "SIGTERM"
    assert status == 5  # the command's exit, not mfa-process's death by SIGTERM


# Counts the SIGINTs delivered to it, each one (the wakeup fd gets one byte per delivery, where
# a Python handler runs once for several that arrive together), for 1.5 s after the first.
COUNT_INTERRUPTS = r"""
import pathlib, signal, socket, sys, time
here = pathlib.Path(sys.argv[1])
reader, writer = socket.socketpair()
writer.setblocking(False)
signal.set_wakeup_fd(writer.fileno())
signal.signal(signal.SIGINT, lambda signum, frame: None)
print("ready", flush=True)
reader.settimeout(30)
got = reader.recv(64)
time.sleep(1.5)
reader.setblocking(False)
try:
    got += reader.recv(64)
except BlockingIOError:
    pass
(here / "interrupts").write_text(str(got.count(signal.SIGINT)))
sys.exit(4)
"""


def test_ctrl_c_reaches_the_command_once_and_mfa_process_waits_for_it(aws: AwsHome) -> None:
    child = spawn("mfa-process", aws, args=exec_server(aws, sys.executable, "-c", COUNT_INTERRUPTS, str(aws.root))[1:])
    child.expect_exact("ready", timeout=START_SECONDS)
    child.sendintr()  # the terminal's Ctrl-C: SIGINT to the foreground group, mfa-process and the command
    child.expect(pexpect.EOF, timeout=EXIT_SECONDS)
    child.close()

    assert (aws.root / "interrupts").read_text() == "1"
    assert child.exitstatus == 4, child.before


def test_the_server_stops_when_the_command_exits(aws: AwsHome) -> None:
    report = "import os, sys; open(sys.argv[1], 'w').write(os.environ['AWS_CONTAINER_CREDENTIALS_FULL_URI'])"
    started = time.monotonic()
    result = aws.run(exec_server(aws, sys.executable, "-c", report, str(aws.root / "url"))[1:])
    took = time.monotonic() - started

    assert result.returncode == 0, result.stderr
    url = (aws.root / "url").read_text()
    assert url.startswith("http://127.0.0.1:")
    assert refuses_connections(url)
    assert took < 10  # not a renewal loop left polling


def test_a_command_not_found_is_127_and_one_line(aws: AwsHome) -> None:
    result = aws.run(exec_server(aws, "no-such-command-for-mfa-process")[1:])

    assert result.returncode == 127
    assert "command not found: no-such-command-for-mfa-process" in one_line(result.stderr)


DUMP_ENVIRONMENT = "import json, os, sys; json.dump(dict(os.environ), open(sys.argv[1], 'w'))"

OUTRANKING = {
    "AWS_ACCESS_KEY_ID": "AKIAPARENTSTALEKEY00",
    "AWS_SECRET_ACCESS_KEY": "parent-stale-secret",
    "AWS_SESSION_TOKEN": "parent-stale-token",
    "AWS_SECURITY_TOKEN": "parent-stale-token",
    "AWS_PROFILE": "mfa",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/parent",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN": "parent-stale-server-token",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:9/",
}


def command_environment(aws: AwsHome, server: bool, **parent: str) -> Dict[str, str]:
    """The environment the command of `exec` (or `exec --server`) gets from a parent with ``parent`` set."""
    dump = aws.root / ("server-env.json" if server else "env.json")
    argv = ["exec", *(["--server"] if server else []), "--profile", "base", "--token-code", aws.code(server)]
    original = aws.env
    aws.env = {**original, **parent}
    try:
        result = aws.run([*argv, "--", sys.executable, "-c", DUMP_ENVIRONMENT, str(dump)])
    finally:
        aws.env = original
    assert result.returncode == 0, result.stderr
    return json.loads(dump.read_text())


def with_base_region(aws: AwsHome, region: str) -> None:
    aws.write_config(aws.config_file.read_text().replace("[profile base]\n", f"[profile base]\nregion = {region}\n"))


def test_the_command_gets_the_server_and_nothing_that_outranks_it(aws: AwsHome) -> None:
    with_base_region(aws, "eu-west-2")
    environment = command_environment(aws, True, **OUTRANKING)

    assert environment[URI].startswith("http://127.0.0.1:") and environment[URI] != OUTRANKING[URI]
    assert len(environment[TOKEN]) == 43 and environment[TOKEN] != OUTRANKING[TOKEN]
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        assert name not in environment, name
    assert "AWS_PROFILE" not in environment
    assert "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI" not in environment
    assert (environment["AWS_REGION"], environment["AWS_DEFAULT_REGION"]) == ("eu-west-2", "eu-west-2")
    assert environment["HOME"] == str(aws.root)  # the rest is passed on


@pytest.mark.parametrize(
    "parent",
    [{}, {"AWS_REGION": "ap-south-1"}, {"AWS_DEFAULT_REGION": "ap-south-1"}],
    ids=["none", "AWS_REGION", "AWS_DEFAULT_REGION"],
)
def test_the_region_is_passed_as_exec_passes_it(aws: AwsHome, parent: Dict[str, str]) -> None:
    with_base_region(aws, "eu-west-2")
    regions = ("AWS_REGION", "AWS_DEFAULT_REGION")
    plain = command_environment(aws, False, **parent)
    server = command_environment(aws, True, **parent)

    assert {name: server.get(name) for name in regions} == {name: plain.get(name) for name in regions}
    assert any(server.get(name) for name in regions)


# ---- --role-profile errors ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role_profile", "message"),
    [("norole", "profile 'norole' has no role_arn"), ("nosuch", "profile 'nosuch' is not in")],
    ids=["without-role_arn", "unknown"],
)
@pytest.mark.parametrize("command", ["serve", "exec --server"])
def test_a_role_profile_error_is_one_line_exit_2_before_any_prompt(
    aws: AwsHome, command: str, role_profile: str, message: str
) -> None:
    aws.write_config(aws.config_file.read_text() + "\n[profile norole]\nregion = eu-west-1\n")
    tail = " -- touch ran" if command.startswith("exec") else ""
    status, terminal, stderr = in_terminal(
        aws, f"mfa-process {command} --profile base --role-profile {role_profile}{tail}"
    )

    assert status == 2
    assert terminal.strip() == ""
    assert message in one_line(stderr)
    assert not (aws.root / "ran").exists()


# ---- a request while the renewal waits for a person ------------------------------------------


class MovedServer:
    """`exec --server` in a pseudo-terminal, its wall clock (and the command's) movable while it
    runs, the STS double's moved alike; the command is AGENT."""

    def __init__(self, aws: AwsHome, clock_shift: ClockShift, *options: str) -> None:
        self.aws = aws
        self.clock_file = aws.root / "clock-offset"
        aws.env = clock_shift.movable_env(aws.env, self.clock_file)
        argv = exec_server(aws, sys.executable, "-c", AGENT, str(aws.root), "80", options=options)
        self.child = spawn("mfa-process", aws, args=argv[1:], timeout=30)
        pid = agent_pid(aws)
        self.agent = pid
        environment = environment_of(pid)
        self.url, self.token = environment[URI], environment[TOKEN]
        self.calls = 0

    def move_to(self, left: float, expiration: str) -> None:
        """Every clock to where the session ending at ``expiration`` has ``left`` seconds left."""
        offset = epoch(expiration) - time.time() - left
        ClockShift.move(self.clock_file, offset)
        self.aws.sts.clock_offset = offset

    def timed_request(self) -> Tuple[int, Dict[str, str], float]:
        started = time.monotonic()
        status, body = request(self.url, self.token)
        return status, json.loads(body), time.monotonic() - started

    def sdk_call(self) -> Dict[str, object]:
        """botocore inside the command, once."""
        self.calls += 1
        (self.aws.root / f"call-{self.calls}").touch()
        result = self.aws.root / f"result-{self.calls}"
        wait_for(result.exists, 30, "botocore in the command answered")
        return json.loads(result.read_text())

    def new_key(self, old: str) -> Optional[str]:
        """The key served now if it is not ``old`` (None for that, or for a 503)."""
        status, body = request(self.url, self.token)
        key = json.loads(body)["AccessKeyId"] if status == 200 else None
        return key if key != old else None

    def finish(self) -> int:
        (self.aws.root / "stop").touch()
        self.child.expect(pexpect.EOF, timeout=EXIT_SECONDS)
        self.child.close()
        return self.child.exitstatus


def test_a_request_while_the_renewal_prompt_is_pending_gets_a_quick_503_the_sdk_reports(
    aws: AwsHome, clock_shift: ClockShift
) -> None:
    server = MovedServer(aws, clock_shift)
    first = served(server.url, server.token)

    server.move_to(120, first["Expiration"])  # still served, but the renewal is due: it asks at once
    server.child.expect_exact(PROMPT)
    assert served(server.url, server.token)["AccessKeyId"] == first["AccessKeyId"]
    server.move_to(30, first["Expiration"])  # now under the floor: nothing may be handed out
    status, body, waited = server.timed_request()
    inside = server.sdk_call()

    assert status == 503 and body["Code"] == "CredentialsUnavailable"
    assert body["Message"] == (
        f"mfa-process: the session of profile 'base' has ended ({first['Expiration']}); "
        "mfa-process is renewing it (on its terminal, if it needs an MFA code): try again"
    )
    assert 0.5 < waited < 1.0  # it waited for the renewal, within the JS SDK's 1 s per attempt
    assert inside["ok"] is False
    assert "Received non 200 response 503" in str(inside["error"]) and body["Message"] in str(inside["error"])

    server.child.sendline(aws.code(1))
    renewed = wait_for(lambda: server.new_key(first["AccessKeyId"]), 15, "the new session served")
    after = server.sdk_call()
    newest = served(server.url, server.token)

    assert after == {"ok": True, "arn": "arn:aws:iam::123456789012:user/alice", "key": renewed}
    assert epoch(newest["Expiration"]) > epoch(first["Expiration"])
    assert aws.sts.calls("GetSessionToken") == 2
    assert last_call(aws, "GetCallerIdentity")["mfa_age"] is not None
    assert server.finish() == 0


def test_a_prompt_nobody_answers_leaves_the_server_running_and_503_names_the_failure(
    aws: AwsHome, clock_shift: ClockShift
) -> None:
    server = MovedServer(aws, clock_shift, "--prompt-timeout", "2")
    first = served(server.url, server.token)
    server.move_to(30, first["Expiration"])

    asked = server.timed_request()  # this request starts the renewal
    server.child.expect_exact(PROMPT)
    failure = "no code source worked: terminal: no answer within 2 s while waiting for the MFA code"
    server.child.expect_exact(f"could not renew the session of profile 'base': {failure}", timeout=15)
    status, body, waited = server.timed_request()

    assert asked[0] == 503 and "mfa-process is renewing it" in asked[1]["Message"]
    assert status == 503 and body["Code"] == "CredentialsUnavailable"
    assert f"the last try failed: {failure}" in body["Message"]
    assert waited < 1.0
    assert server.child.isalive() and Path(f"/proc/{server.agent}").exists()

    # still running: a later request asks again, and the code typed then is taken
    def asks_again() -> bool:
        server.timed_request()
        try:
            server.child.expect_exact(PROMPT, timeout=1)
        except pexpect.TIMEOUT:
            return False
        return True

    wait_for(asks_again, 20, "a later request asking for the code again")
    server.child.sendline(aws.code(1))
    wait_for(lambda: server.new_key(first["AccessKeyId"]), 15, "the new session served")
    assert server.finish() == 0
