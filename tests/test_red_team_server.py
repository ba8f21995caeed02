"""Red team, issue 12: a hostile or careless neighbour against the credentials server
(`mfa-process serve`, `exec --server`).

Who attacks: a web page in the user's browser (DNS rebinding, cross-origin reads), another local
user (loopback is shared by every user of the machine: only the token stands between them and the
keys), a process of the same user started later (port hijack, a leftover client), and malformed or
merely numerous clients. Each attack is a test: a plain test where the server defends itself, a
strict xfail naming the fault where it does not.

Most tests talk raw HTTP over a socket to one `serve --verbose` shared by the module (its session
from a --token-code, its stderr in a file); the others start a server of their own.
"""

from __future__ import annotations

import base64
import errno
import json
import os
import re
import resource
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pexpect
import pytest
from aws_home import AwsHome, spawn
from processes import default_signals, kill_group, popen
from secret_guard import SecretGuard
from sts_double_process import StsDoubleProcess

pytestmark = pytest.mark.e2e

SERIAL_PROMPT = "Enter MFA code for arn:aws:iam::123456789012:mfa/alice"
ROLE_ARN = "arn:aws:iam::123456789012:role/Admin"
START_SECONDS = 30.0  # serve prints its variables in about a second here; a loaded CI machine is slower
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32): 256 bits
UNSAFE_ON_A_TERMINAL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")

Header = tuple[str, str | bytes]


# --- raw HTTP ----------------------------------------------------------------------------------


@dataclass
class Reply:
    raw: bytes
    status: int  # 0: no status line (an HTTP/0.9 answer, or nothing at all)
    headers: dict[str, list[str]] = field(default_factory=dict)  # lower-case names
    body: bytes = b""

    def json(self) -> dict[str, str]:
        return json.loads(self.body)

    def header_names(self) -> list[str]:
        return list(self.headers)


def exchange(port: int, data: bytes, timeout: float = 5.0, host: str = "127.0.0.1") -> bytes:
    """Send ``data`` on a new connection and read until the server closes it (or ``timeout``)."""
    with socket.create_connection((host, port), timeout=timeout) as connection:
        connection.sendall(data)
        received = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = connection.recv(65536)
            except TimeoutError:
                break
            except ConnectionResetError:
                break
            if not chunk:
                break
            received += chunk
        return received


def parse(raw: bytes) -> Reply:
    if not raw.startswith(b"HTTP/"):
        return Reply(raw, 0, {}, raw)
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers: dict[str, list[str]] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), []).append(value.strip())
    return Reply(raw, int(lines[0].split()[1]), headers, body)


def request_bytes(line: str | bytes, headers: Sequence[Header], body: bytes = b"") -> bytes:
    def encoded(value: str | bytes) -> bytes:
        return value if isinstance(value, bytes) else value.encode("utf-8")

    head = encoded(line) + b"\r\n" + b"".join(encoded(k) + b": " + encoded(v) + b"\r\n" for k, v in headers)
    return head + b"\r\n" + body


# --- a running `serve` ---------------------------------------------------------------------------


class Server:
    """A running `mfa-process serve`: its address, its token, what it wrote to stderr."""

    def __init__(self, process: subprocess.Popen, url: str, token: str, stderr_path: Path) -> None:
        self.process = process
        self.url = url
        self.token = token
        self.port = int(url.rstrip("/").rsplit(":", 1)[1])
        self.stderr_path = stderr_path

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def ask(
        self,
        headers: Sequence[Header] | None = None,
        line: str | bytes = "GET / HTTP/1.1",
        body: bytes = b"",
        timeout: float = 5.0,
    ) -> Reply:
        """One request; by default the one an SDK sends (the right Host and token)."""
        if headers is None:
            headers = [("Host", self.host), ("Authorization", self.token)]
        return parse(exchange(self.port, request_bytes(line, headers, body), timeout))

    def getvalue(self) -> str:  # what the secret guard reads at the end of a test
        return self.stderr_path.read_text(errors="replace")

    def stderr_lines(self) -> list[str]:
        return self.getvalue().splitlines()


def _read_variables(process: subprocess.Popen, stderr_path: Path, timeout: float) -> dict[str, str]:
    """The sh lines `serve` prints (``export NAME='value'``), once both endpoint variables are in."""
    variables: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    assert process.stdout is not None
    pending = b""
    while "AWS_CONTAINER_AUTHORIZATION_TOKEN" not in variables or "AWS_CONTAINER_CREDENTIALS_FULL_URI" not in variables:
        left = deadline - time.monotonic()
        if left <= 0 or process.poll() is not None and not select.select([process.stdout], [], [], 0)[0]:
            raise AssertionError(f"serve printed no endpoint: {stderr_path.read_text(errors='replace')}")
        if not select.select([process.stdout], [], [], min(left, 0.5))[0]:
            continue
        chunk = os.read(process.stdout.fileno(), 65536)
        if not chunk:
            raise AssertionError(f"serve printed no endpoint: {stderr_path.read_text(errors='replace')}")
        pending += chunk
        *lines, rest = pending.split(b"\n")
        pending = rest
        for line in lines:
            match = re.fullmatch(r"export (\w+)='([^']*)'", line.decode())
            if match:
                variables[match.group(1)] = match.group(2)
    return variables


@contextmanager
def serving(
    aws: AwsHome, *args: str, preexec_fn: Callable[[], None] = default_signals, name: str = "serve"
) -> Iterator[Server]:
    """`mfa-process serve --profile base ARGS` until the block ends (then it and its group are killed)."""
    stderr_path = aws.root / f"{name}.stderr"
    with open(stderr_path, "wb") as stderr:
        process = popen(
            ["mfa-process", "serve", "--profile", "base", *args],
            env=aws.env,
            cwd=aws.root,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
            preexec_fn=preexec_fn,
        )
    try:
        variables = _read_variables(process, stderr_path, START_SECONDS)
        server = Server(
            process,
            variables["AWS_CONTAINER_CREDENTIALS_FULL_URI"],
            variables["AWS_CONTAINER_AUTHORIZATION_TOKEN"],
            stderr_path,
        )
        aws.guard.check(f"the stderr of mfa-process serve ({name})", server)
        yield server
    finally:
        kill_group(process)


@dataclass
class Target:
    aws: AwsHome
    sts: StsDoubleProcess
    server: Server
    keys: dict[str, str]  # what the server hands an SDK: no attack may see any of it

    def leaked(self, reply: Reply | bytes) -> list[str]:
        raw = reply.raw if isinstance(reply, Reply) else reply
        text = raw.decode("latin-1")
        found = [name for name in ("AccessKeyId", "SecretAccessKey", "Token", "Expiration") if name in text]
        found += [name for name in ("AccessKeyId", "SecretAccessKey", "Token") if self.keys[name] in text]
        return found


@pytest.fixture(scope="module")
def neighbourhood(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    """One `serve --verbose` for the module, from a session got with --token-code."""
    root = tmp_path_factory.mktemp("red-team-server")
    with StsDoubleProcess() as sts:
        aws = AwsHome(root, sts, guard=SecretGuard())
        with serving(aws, "--token-code", aws.code(), "--verbose") as server:
            reply = server.ask()
            assert reply.status == 200, reply.raw
            yield Target(aws, sts, server, reply.json())


@pytest.fixture
def target(neighbourhood: Target, secret_guard: SecretGuard) -> Target:
    """The module's server, its stderr and its double's sessions watched by this test's guard."""
    secret_guard.watch_double(neighbourhood.sts)  # type: ignore[arg-type] # the same API over loopback
    secret_guard.check("the stderr of mfa-process serve --verbose", neighbourhood.server)
    return neighbourhood


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


# --- DNS rebinding: the Host header -----------------------------------------------------------

# Host values a page on a name of its own (rebound to 127.0.0.1) or a confused client sends.
FOREIGN_HOSTS = [
    "attacker.example:{port}",
    "127.0.0.1.nip.io:{port}",
    "localtest.me:{port}",
    "localhost.:{port}",
    "evil.localhost:{port}",
    "127.0.0.1",
    "localhost",
    "127.0.0.1:{other}",
    "127.0.0.1:0{port}",
    "127.0.0.1:{port}@attacker.example",
    "attacker.example@127.0.0.1:{port}",
    "[::ffff:127.0.0.1]:{port}",
    "2130706433:{port}",
    "127.1:{port}",
    "0x7f.0.0.1:{port}",
    "127.0.0.1:{port}.attacker.example",
    "127.0.0.1:{port}\x00.attacker.example",
    "",
]


@pytest.mark.parametrize("host", FOREIGN_HOSTS)
def test_a_host_header_that_does_not_name_the_server_gets_403_and_no_key(target: Target, host: str) -> None:
    server = target.server
    reply = server.ask(
        [("Host", host.format(port=server.port, other=server.port + 1)), ("Authorization", server.token)]
    )

    assert reply.status == 403
    assert reply.json()["Code"] == "ForeignHost"
    assert target.leaked(reply) == []


@pytest.mark.parametrize(
    "case", ["missing", "foreign then ours", "ours then foreign", "ours twice", "missing, HTTP/1.0", "folded"]
)
def test_a_missing_doubled_or_folded_host_header_gets_403_and_no_key(target: Target, case: str) -> None:
    server = target.server
    ours, foreign = ("Host", server.host), ("Host", f"attacker.example:{server.port}")
    token = ("Authorization", server.token)
    line = "GET / HTTP/1.0" if case == "missing, HTTP/1.0" else "GET / HTTP/1.1"
    headers = {
        "missing": [token],
        "foreign then ours": [foreign, ours, token],
        "ours then foreign": [ours, foreign, token],
        "ours twice": [ours, ours, token],
        "missing, HTTP/1.0": [token],
        "folded": [("Host", f"attacker.example:{server.port}\r\n 127.0.0.1:{server.port}"), token],
    }[case]

    reply = server.ask(headers, line=line)

    assert reply.status == 403
    assert target.leaked(reply) == []


def test_an_http_0_9_request_names_no_host_and_gets_no_key(target: Target) -> None:
    raw = exchange(target.server.port, b"GET /\r\n\r\n")

    assert b"ForeignHost" in raw
    assert target.leaked(raw) == []


@pytest.mark.parametrize(
    "spelling", ["127.0.0.1:{port}", "localhost:{port}", "LOCALHOST:{port}", " 127.0.0.1:{port}\t"]
)
def test_the_loopback_spellings_of_the_server_itself_are_served(target: Target, spelling: str) -> None:
    """What is accepted: this server's own address (a page can only send it when loaded from this
    very server, which serves no pages), in any case, with spaces around."""
    server = target.server
    reply = server.ask([("Host", spelling.format(port=server.port)), ("Authorization", server.token)])

    assert reply.status == 200
    assert reply.json()["AccessKeyId"] == target.keys["AccessKeyId"]


@pytest.mark.parametrize(
    "request_target", ["http://attacker.example/", "http://attacker.example:{port}/", "//attacker.example/", "*"]
)
def test_an_absolute_or_odd_request_target_gets_no_key(target: Target, request_target: str) -> None:
    server = target.server
    reply = server.ask(line=f"GET {request_target.format(port=server.port)} HTTP/1.1")

    assert reply.status == 404
    assert target.leaked(reply) == []


# --- the token ------------------------------------------------------------------------------------

# Tricks with the Authorization header: each gets 401, nothing else.
TOKEN_TRICKS: list[tuple[str, Callable[[str], Sequence[Header]]]] = [
    ("no header", lambda t: []),
    ("empty", lambda t: [("Authorization", "")]),
    ("Bearer prefix", lambda t: [("Authorization", f"Bearer {t}")]),
    ("Basic", lambda t: [("Authorization", "Basic " + base64.b64encode(f"x:{t}".encode()).decode())]),
    ("trailing NUL", lambda t: [("Authorization", t.encode() + b"\x00")]),
    ("NUL inside", lambda t: [("Authorization", t[:20].encode() + b"\x00" + t[20:].encode())]),
    ("trailing non-ASCII", lambda t: [("Authorization", t + "\u00e9")]),
    ("one character as its fullwidth twin", lambda t: [("Authorization", chr(ord(t[0]) + 0xFEE0) + t[1:])]),
    ("swapped case", lambda t: [("Authorization", t.swapcase())]),
    ("one character short", lambda t: [("Authorization", t[:-1])]),
    ("one character long", lambda t: [("Authorization", t + "A")]),
    ("twice", lambda t: [("Authorization", t + t)]),
    ("prefix only", lambda t: [("Authorization", t[:8])]),
    ("folded over two lines", lambda t: [("Authorization", f"{t[:20]}\r\n {t[20:]}")]),
    ("ours then a wrong one", lambda t: [("Authorization", t), ("Authorization", "wrong")]),
    ("a wrong one then ours", lambda t: [("Authorization", "wrong"), ("Authorization", t)]),
    ("ours twice", lambda t: [("Authorization", t), ("Authorization", t)]),
    ("in Proxy-Authorization", lambda t: [("Proxy-Authorization", t)]),
    ("in a cookie", lambda t: [("Cookie", f"token={t}")]),
    ("in the IMDS header", lambda t: [("X-aws-ec2-metadata-token", t)]),
]


@pytest.mark.parametrize("name,headers", TOKEN_TRICKS, ids=[name for name, _ in TOKEN_TRICKS])
def test_a_token_trick_gets_401_and_no_key(
    target: Target, name: str, headers: Callable[[str], Sequence[Header]]
) -> None:
    server = target.server
    reply = server.ask([("Host", server.host), *headers(server.token)])

    assert reply.status == 401
    assert reply.json()["Code"] == "Unauthorized"
    assert target.leaked(reply) == []


def test_the_token_in_the_query_string_gets_401_and_no_key(target: Target) -> None:
    server = target.server
    reply = server.ask([("Host", server.host)], line=f"GET /?token={server.token} HTTP/1.1")

    assert reply.status == 401
    assert target.leaked(reply) == []


def test_the_token_with_spaces_around_it_is_the_token(target: Target) -> None:
    """Accepted, harmlessly: whitespace around a header value is not part of it (RFC 9110)."""
    server = target.server
    reply = server.ask([("Host", server.host), ("Authorization", f" \t{server.token} ")])

    assert reply.status == 200


def test_the_token_is_compared_in_constant_time_over_its_whole_length(monkeypatch: pytest.MonkeyPatch) -> None:
    """A byte-by-byte comparison that stops at the first difference lets a neighbour guess the
    token a character at a time from the answers' timing: the comparison must be hmac's."""
    from mfa_process.server import endpoint as endpoint_module
    from mfa_process.server.address import listen_address

    compared: list[tuple[bytes, bytes]] = []
    real = endpoint_module.hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(endpoint_module.hmac, "compare_digest", spy)
    endpoint = endpoint_module.Endpoint(listen_address(None, None), lambda: None, lambda line: None)  # type: ignore[arg-type,return-value]
    try:
        host = f"127.0.0.1:{endpoint.port}"
        guess = endpoint.token[:-1] + ("A" if endpoint.token[-1] != "A" else "B")
        status, _ = endpoint.respond("GET", "/", [host], [guess])
    finally:
        endpoint.close()

    assert status == 401
    assert compared == [(guess.encode(), endpoint.token.encode())]


def test_a_token_opens_only_its_own_server_even_on_the_same_port_later(target: Target) -> None:
    """A leftover client of a stopped server (or whoever got its token) asks whatever listens on
    that port next: a new server there, from the same home and cache, must not take it."""
    aws, first, port = target.aws, target.server, free_port()
    with serving(aws, "--port", str(port), name="second") as second:  # asked nothing: see the next test
        stale = second.token
        second.process.send_signal(signal.SIGINT)
        assert second.process.wait(20) == 0
    assert refused(port)

    with serving(aws, "--port", str(port), name="third") as third:
        tokens = [first.token, stale, third.token]
        assert all(TOKEN_SHAPE.fullmatch(token) for token in tokens)
        assert len(set(tokens)) == 3
        replies = [
            third.ask([("Host", third.host), ("Authorization", stale)]),
            third.ask([("Host", third.host), ("Authorization", first.token)]),
            first.ask([("Host", first.host), ("Authorization", third.token)]),
        ]
        assert [reply.status for reply in replies] == [401, 401, 401]
        assert [target.leaked(reply) for reply in replies] == [[], [], []]
        assert third.ask().status == 200


def test_a_server_restarted_on_its_port_after_answering_starts_at_once(aws: AwsHome) -> None:
    """`serve --port N` (the Docker recipe's fixed port) stopped and started again: the connections
    it answered linger in TIME_WAIT on that port for a minute, but nobody listens there, so the new
    server must start, not blame another program."""
    port = free_port()
    with serving(aws, "--token-code", aws.code(), "--port", str(port), name="before") as before:
        assert before.ask().status == 200
        before.process.send_signal(signal.SIGINT)
        assert before.process.wait(20) == 0

    with serving(aws, "--port", str(port), name="after") as after:  # fails if it cannot listen there
        assert after.port == port
        assert after.ask().status == 200


# --- browsers: CORS ------------------------------------------------------------------------------


def test_a_browser_preflight_is_never_allowed(target: Target) -> None:
    server = target.server
    reply = server.ask(
        [
            ("Host", server.host),
            ("Origin", "https://attacker.example"),
            ("Access-Control-Request-Method", "GET"),
            ("Access-Control-Request-Headers", "authorization"),
        ],
        line="OPTIONS / HTTP/1.1",
    )

    assert reply.status >= 400
    assert [name for name in reply.header_names() if name.startswith("access-control-")] == []
    assert target.leaked(reply) == []


def test_an_answer_carries_no_cors_grant_and_is_not_cached(target: Target) -> None:
    """Even with the token (a page could only have it by other means) the answer gives no
    Origin leave to read it, and nothing on the way may keep it."""
    server = target.server
    reply = server.ask([("Host", server.host), ("Authorization", server.token), ("Origin", "https://attacker.example")])

    assert reply.status == 200
    assert [name for name in reply.header_names() if name.startswith("access-control-")] == []
    assert reply.headers["cache-control"] == ["no-store"]


@pytest.mark.parametrize(
    "method", ["POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "CONNECT", "PROPFIND"]
)
def test_another_method_gets_no_key_and_trace_echoes_nothing(target: Target, method: str) -> None:
    server = target.server
    reply = server.ask(line=f"{method} / HTTP/1.1")

    assert reply.status in (405, 501)
    assert target.leaked(reply) == []
    assert server.token.encode() not in reply.raw  # TRACE would echo the Authorization header


# --- smuggling and oversized requests ---------------------------------------------------------


def test_requests_riding_on_one_connection_get_one_answer(target: Target) -> None:
    """Pipelined, in a body of Content-Length, or in a chunked body: only the first request is
    read (HTTP/1.0, one request per connection), and it has the wrong token."""
    server = target.server
    good = request_bytes("GET / HTTP/1.1", [("Host", server.host), ("Authorization", server.token)])
    wrong = [("Host", server.host), ("Authorization", "wrong")]
    attempts = [
        request_bytes("GET / HTTP/1.1", wrong) + good,
        request_bytes("GET / HTTP/1.1", [*wrong, ("Content-Length", str(len(good)))], good),
        request_bytes("GET / HTTP/1.1", [*wrong, ("Transfer-Encoding", "chunked")], b"0\r\n\r\n" + good),
        request_bytes(
            "GET / HTTP/1.1", [*wrong, ("Content-Length", "0"), ("Transfer-Encoding", "chunked")], b"0\r\n\r\n" + good
        ),
    ]
    for attempt in attempts:
        raw = exchange(server.port, attempt)
        assert raw.count(b"HTTP/1.") == 1, raw
        assert parse(raw).status == 401
        assert target.leaked(raw) == []


@pytest.mark.parametrize(
    "make,status",
    [
        (lambda host: b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n", 414),
        (lambda host: b"GET / HTTP/1.1\r\nHost: " + host + b"\r\nX: " + b"a" * 70000 + b"\r\n\r\n", 431),
        (lambda host: b"GET / HTTP/1.1\r\n" + b"X: a\r\n" * 200 + b"\r\n", 431),
    ],
    ids=["request line", "header line", "header count"],
)
def test_an_oversized_request_is_refused_and_the_server_goes_on(
    target: Target, make: Callable[[bytes], bytes], status: int
) -> None:
    server = target.server
    reply = parse(exchange(server.port, make(server.host.encode())))

    assert reply.status == status
    assert target.leaked(reply) == []
    assert server.ask(timeout=2).status == 200


# --- slow and numerous clients ------------------------------------------------------------------


def test_clients_that_never_finish_their_request_do_not_delay_an_sdk(target: Target) -> None:
    server = target.server
    stalled = []
    try:
        for _ in range(20):
            connection = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            connection.sendall(b"GET / HTTP/1.1\r\nHost: ")
            stalled.append(connection)
            time.sleep(0.02)  # paced: this test is about stalled requests, not a burst of connects
        started = time.monotonic()
        reply = server.ask(timeout=2)
        assert reply.status == 200
        assert time.monotonic() - started < 2
        # ... and a stalled one is cut off after the server's read timeout (5 s), not kept forever
        stalled[0].settimeout(10)
        started = time.monotonic()
        assert stalled[0].recv(100) == b""
        assert time.monotonic() - started < 8
    finally:
        for connection in stalled:
            connection.close()


DESCRIPTOR_LIMIT = 256  # macOS's default soft limit (a Linux desktop session's is 1024)


def _nofile_limit() -> None:
    default_signals()
    resource.setrlimit(resource.RLIMIT_NOFILE, (DESCRIPTOR_LIMIT, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))


def _served_within(server: Server, seconds: float, attempts: int) -> bool:
    """As botocore asks: ``attempts`` tries of ``seconds`` each."""
    for _ in range(attempts):
        try:
            if server.ask(timeout=seconds).status == 200:
                return True
        except OSError:
            pass
    return False


def test_slow_clients_cannot_take_every_descriptor_from_the_sdk(aws: AwsHome) -> None:
    """Loopback is open to every user of the machine: any of them can open connections to the
    server and send a byte every few seconds. With a thread and a descriptor per connection and no
    limit, the process's descriptors (256 here) run out, accept() fails, and the SDK's connection
    is never taken: slow clients must be cut off before that."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 2 * DESCRIPTOR_LIMIT:
        pytest.skip(f"this process may open only {hard} descriptors")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 2 * DESCRIPTOR_LIMIT), hard))
    attackers: list[socket.socket] = []
    stop = threading.Event()

    def dribble() -> None:  # one byte per connection every second: under the server's 5 s read timeout
        while not stop.wait(1.0):
            for connection in attackers[:]:  # a copy: the test adds to it meanwhile
                try:
                    connection.send(b"X", socket.MSG_DONTWAIT)
                except OSError:
                    pass

    try:
        with serving(aws, "--token-code", aws.code(), preexec_fn=_nofile_limit) as server:
            assert server.ask().status == 200
            threading.Thread(target=dribble, daemon=True).start()
            deadline = time.monotonic() + 40
            while len(attackers) < DESCRIPTOR_LIMIT + 8 and time.monotonic() < deadline:
                connection = socket.socket()
                connection.settimeout(3)
                try:
                    connection.connect(("127.0.0.1", server.port))
                    connection.sendall(b"GET / HTTP/1.1\r\n")
                except OSError:  # refused or never accepted: the server takes no more connections
                    connection.close()
                    break
                attackers.append(connection)
                time.sleep(0.01)

            assert len(attackers) > DESCRIPTOR_LIMIT - 16  # the attack as described: about one per descriptor
            assert _served_within(server, seconds=2, attempts=3)
    finally:
        stop.set()
        for connection in attackers:
            connection.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_a_burst_of_clients_is_answered_within_the_js_sdks_timeout(target: Target) -> None:
    """Thirty-two programs (`xargs -P 32 aws ...`, a thread pool of boto3 sessions) that ask at
    the same moment, or a neighbour that keeps the accept queue full: every request must be
    answered within the JS SDK's 1 s (botocore's is 2 s). A listen backlog of 5 (socketserver's
    default) drops the connects beyond it, and the kernel tries those again only after 1 s."""
    server = target.server
    clients = 32
    barrier = threading.Barrier(clients)
    seconds: list[float] = []

    def ask() -> None:
        barrier.wait()
        started = time.monotonic()
        try:
            ok = server.ask(timeout=5).status == 200
        except OSError:
            ok = False
        seconds.append(time.monotonic() - started if ok else float("inf"))

    for _ in range(2):
        threads = [threading.Thread(target=ask) for _ in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(20)
        barrier.reset()

    assert len(seconds) == 2 * clients
    assert max(seconds) < 1.0, sorted(seconds)[-5:]


# --- what reaches the user's terminal, argv and files ---------------------------------------------


def test_escape_sequences_in_a_request_reach_the_verbose_log_escaped(target: Target) -> None:
    server = target.server
    before = len(server.stderr_lines())
    path = b"/\x1b]0;pwned\x07\x1b[2J\x9b31m\x7f\xe2\x80\xae\xc2\x9b" + b"x" * 200  # no \x85 (NEL): whitespace, a 400
    reply = server.ask([("Host", server.host)], line=b"GET " + path + b" HTTP/1.1")
    assert reply.status == 401
    time.sleep(0.2)  # the log line is written after the answer

    new = server.stderr_lines()[before:]
    assert len(new) == 1, new
    assert new[0].startswith("mfa-process: GET /\\x1b]0;pwned\\x07\\x1b[2J\\x9b31m"), new
    assert UNSAFE_ON_A_TERMINAL.search(new[0]) is None, repr(new[0])
    assert len(new[0]) < 250  # the path is cut: a neighbour cannot flood a line


def test_a_strangers_request_puts_none_of_its_headers_in_the_log(target: Target) -> None:
    server = target.server
    before = len(server.stderr_lines())
    marker = "Zq7hostmarker"
    reply = server.ask([("Host", f"{marker}.example:{server.port}"), ("Authorization", f"{marker}-token")])
    assert reply.status == 403
    reply = server.ask([("Host", server.host), ("Authorization", f"{marker}-token"), ("User-Agent", marker)])
    assert reply.status == 401
    time.sleep(0.2)

    new = server.stderr_lines()[before:]
    assert len(new) == 2, new
    assert marker not in "\n".join(new)
    assert server.token not in server.getvalue()


def test_without_verbose_a_neighbours_requests_write_nothing_on_the_terminal(aws: AwsHome) -> None:
    with serving(aws, "--token-code", aws.code()) as server:
        server.ask([("Host", "attacker.example"), ("Authorization", "x")])
        server.ask([("Host", server.host), ("Authorization", "\x1b[2J")])
        server.ask(line=b"\x1b[2JFOO / HTTP/1.1")
        server.ask(line=b"GET /\x1b[2J HTTP/1.1")
        server.ask()
        time.sleep(0.2)
        lines = server.stderr_lines()

    assert lines == [f"mfa-process: serving profile 'base' at {server.url} until Ctrl-C"]


def test_the_token_is_in_no_argv_and_no_file(target: Target) -> None:
    """The process table is readable by every user; files outlive the server."""
    server = target.server
    token = server.token.encode()

    assert token not in Path(f"/proc/{server.process.pid}/cmdline").read_bytes()
    holding = [
        str(path.relative_to(target.aws.root))
        for path in target.aws.root.rglob("*")
        if path.is_file() and token in path.read_bytes()
    ]
    assert holding == []
    # the session's secret: in the plugin's cache (as for credential_process), nowhere else
    secret = target.keys["SecretAccessKey"].encode()
    outside_cache = [
        str(path.relative_to(target.aws.root))
        for path in target.aws.root.rglob("*")
        if path.is_file() and target.aws.cache_dir not in path.parents and secret in path.read_bytes()
    ]
    assert outside_cache == []


def test_the_listening_socket_is_bound_to_loopback_only(target: Target) -> None:
    """What another machine, or a container on a bridge network, can reach: nothing; the kernel's
    table of listening sockets has this port on 127.0.0.1 alone."""
    port = f"{target.server.port:04X}"
    listening = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, local_port = fields[1].split(":")
            if local_port == port and fields[3] == "0A":  # LISTEN
                listening.append((table, address))

    assert listening == [("/proc/net/tcp", "0100007F")]


# --- another user of the machine ---------------------------------------------------------------

OTHER_USER_PROBE = r"""
import json, socket, sys
port, token_pid, token = int(sys.argv[1]), sys.argv[2:-1], sys.argv[-1]
found = {}
with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
    c.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % port)
    found["status"] = c.recv(100).split(b" ")[1].decode()
for pid in token_pid:
    try:
        open(f"/proc/{pid}/environ", "rb").read()
        found[f"environ {pid}"] = "read"
    except PermissionError:
        found[f"environ {pid}"] = "denied"
    found[f"cmdline {pid} has token"] = token.encode() in open(f"/proc/{pid}/cmdline", "rb").read()
print(json.dumps(found))
"""


def test_another_user_reaches_the_port_but_not_the_token(aws: AwsHome, tmp_path: Path) -> None:
    """Loopback is the whole machine's: a process of another user connects as easily as the SDK.
    What it cannot get is the token: not from the process table (argv), not from the command's
    environment (the kernel keeps /proc/PID/environ to its owner)."""
    system_python = Path("/usr/bin/python3")
    if os.geteuid() != 0 or not system_python.exists():
        pytest.skip("running as another user needs root here (and /usr/bin/python3 to run as that user)")
    ready = tmp_path / "ready"
    script = f"import os, time; open({str(ready)!r}, 'w').close(); time.sleep(60)"
    command = ["mfa-process", "exec", "--server", "--profile", "base", "--token-code", aws.code()]
    with open(tmp_path / "exec.stderr", "wb") as stderr:
        process = popen(
            [*command, "--", sys.executable, "-c", script],
            env=aws.env,
            cwd=aws.root,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        deadline = time.monotonic() + START_SECONDS
        while not ready.exists():
            assert process.poll() is None and time.monotonic() < deadline, (tmp_path / "exec.stderr").read_text()
            time.sleep(0.1)
        command_pid = str(children_of(process.pid)[0])
        environ = Path(f"/proc/{command_pid}/environ").read_bytes().split(b"\0")
        variables = dict(entry.decode().split("=", 1) for entry in environ if b"=" in entry)
        url = variables["AWS_CONTAINER_CREDENTIALS_FULL_URI"]
        token = variables["AWS_CONTAINER_AUTHORIZATION_TOKEN"]
        port = url.rstrip("/").rsplit(":", 1)[1]

        probe = subprocess.run(
            [str(system_python), "-I", "-c", OTHER_USER_PROBE, port, str(process.pid), command_pid, token],
            capture_output=True,
            check=False,
            text=True,
            timeout=20,
            user=65534,
            group=65534,
            extra_groups=[],
            cwd="/",
            env={"PATH": "/usr/bin:/bin"},
            preexec_fn=default_signals,
        )
    finally:
        kill_group(process)
    aws.guard.check("the stderr of mfa-process exec --server", (tmp_path / "exec.stderr").read_text())

    assert probe.returncode == 0, probe.stderr
    assert json.loads(probe.stdout) == {
        "status": "401",
        f"environ {process.pid}": "denied",
        f"cmdline {process.pid} has token": False,
        f"environ {command_pid}": "denied",
        f"cmdline {command_pid} has token": False,
    }


# --- port hijack ---------------------------------------------------------------------------------


def _listener(kind: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if kind.startswith("[::]") else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if "reuseport" in kind:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    if family == socket.AF_INET6:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1 if "v6only" in kind else 0)
    host = {"127.0.0.1": "127.0.0.1", "0.0.0.0": "0.0.0.0"}.get(kind.split()[0], "::")
    sock.bind((host, port))
    sock.listen(8)
    return sock


@pytest.mark.parametrize("kind", ["127.0.0.1 reuseport", "0.0.0.0 reuseport", "[::] dual-stack"])
def test_a_port_a_neighbour_listens_on_first_is_refused_before_any_prompt(aws: AwsHome, kind: str) -> None:
    """A neighbour that listens on the port first (with SO_REUSEPORT, hoping to share it, or on
    the wildcard) would get the SDK's requests and token: the server must not start there."""
    if kind.startswith("[::]") and not socket.has_ipv6:
        pytest.skip("no IPv6 here")
    port = free_port()
    with _listener(kind, port):
        result = aws.run(["serve", "--profile", "base", "--port", str(port)], timeout=30)

    assert result.returncode == 1
    assert result.stdout == ""  # no token printed
    assert "Enter MFA code" not in result.stderr
    assert result.stderr.startswith(f"mfa-process: cannot listen on 127.0.0.1:{port}")
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_a_neighbour_on_the_ipv6_wildcard_only_gets_nothing_of_the_sdks(aws: AwsHome) -> None:
    """[::] with IPV6_V6ONLY does not hold 127.0.0.1: the server starts, and the URL it prints
    reaches the server, never the neighbour."""
    if not socket.has_ipv6:
        pytest.skip("no IPv6 here")
    port = free_port()
    with _listener("[::] v6only reuseport", port) as neighbour:
        neighbour.settimeout(0.5)
        with serving(aws, "--token-code", aws.code(), "--port", str(port)) as server:
            assert server.url == f"http://127.0.0.1:{port}/"
            assert server.ask().status == 200
            with pytest.raises(socket.timeout):
                neighbour.accept()


@pytest.mark.parametrize("kind", ["127.0.0.1", "127.0.0.1 reuseport", "0.0.0.0 reuseport", "[::] dual-stack"])
def test_a_neighbour_cannot_listen_on_the_port_while_the_server_does(target: Target, kind: str) -> None:
    with pytest.raises(OSError) as raised:
        _listener(kind, target.server.port).close()

    assert raised.value.errno == errno.EADDRINUSE
    assert target.server.ask(timeout=2).status == 200


# --- the command's side (exec --server) -------------------------------------------------------------

INHERITED_PROBE = r"""
import json, os
port = "%04X" % int(os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"].rstrip("/").rsplit(":", 1)[1])
inodes = set()
for line in open("/proc/net/tcp").read().splitlines()[1:]:
    fields = line.split()
    if fields[1].endswith(":" + port) and fields[3] == "0A":
        inodes.add(fields[9])
mine = set()
for fd in os.listdir("/proc/self/fd"):
    try:
        mine.add(os.readlink(f"/proc/self/fd/{fd}"))
    except OSError:
        pass
token = os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"]
print(json.dumps({"listening": sorted(inodes), "inherited": sorted(i for i in inodes if f"socket:[{i}]" in mine),
                  "token_in_argv": token in open("/proc/self/cmdline").read()}))
"""


def test_the_command_does_not_inherit_the_listening_socket_or_see_the_token_in_argv(aws: AwsHome) -> None:
    """An inherited listening socket would outlive mfa-process in whatever the command leaves
    running: a port that accepts and never answers, held by a process nobody thinks of."""
    server = ["exec", "--server", "--profile", "base", "--token-code", aws.code()]
    result = aws.run([*server, "--", sys.executable, "-c", INHERITED_PROBE], timeout=60)

    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert len(found["listening"]) == 1
    assert found["inherited"] == []
    assert found["token_in_argv"] is False


def test_the_server_stops_with_its_command_though_a_grandchild_lives_on(aws: AwsHome, tmp_path: Path) -> None:
    script = 'sleep 60 </dev/null >/dev/null 2>&1 & echo "$!"; echo "$AWS_CONTAINER_CREDENTIALS_FULL_URI"; exit 0'
    command = ["mfa-process", "exec", "--server", "--profile", "base", "--token-code", aws.code()]
    with open(tmp_path / "exec.stderr", "wb") as stderr:
        process = popen(
            [*command, "--", "sh", "-c", script],
            env=aws.env,
            cwd=aws.root,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
        )
    try:
        stdout, _ = process.communicate(timeout=30)
        grandchild, url = stdout.decode().split()
        port = int(url.rstrip("/").rsplit(":", 1)[1])

        assert process.returncode == 0, (tmp_path / "exec.stderr").read_text()
        assert Path(f"/proc/{grandchild}").exists()  # still running, with the token in its environment
        assert refused(port)  # but nothing answers it any more
    finally:
        kill_group(process)  # the grandchild is in the same process group
        aws.guard.check("the stderr of mfa-process exec --server", (tmp_path / "exec.stderr").read_text())


PROXY_PROBE = "import boto3; print(boto3.Session().get_credentials().get_frozen_credentials().access_key[:4])"


def test_a_proxy_in_the_environment_does_not_divert_the_sdks_request(aws: AwsHome) -> None:
    """A proxy variable (a debugging proxy, or one a neighbour talked the user into) would receive
    the token and the keys if the SDK sent its container request through it: botocore does not."""
    with socket.socket() as proxy:
        proxy.bind(("127.0.0.1", 0))
        proxy.listen(8)
        proxy.settimeout(0.5)
        url = f"http://127.0.0.1:{proxy.getsockname()[1]}"
        proxies = [f"{name}={url}" for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY")]
        result = aws.run(
            ["exec", "--server", "--profile", "base", "--token-code", aws.code(), "--"]
            + ["env", *proxies, sys.executable, "-c", PROXY_PROBE],
            timeout=60,
        )
        with pytest.raises(socket.timeout):
            proxy.accept()

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ASIA"


@pytest.mark.parametrize("where", ["--role-profile", "command"])
def test_escape_sequences_in_a_name_reach_the_terminal_escaped(aws: AwsHome, where: str) -> None:
    name = "\x1b]0;pwned\x07\x1b[2J\u202e"
    args = ["exec", "--server", "--profile", "base", "--token-code", aws.code()]
    if where == "--role-profile":
        args += ["--role-profile", name, "--", "true"]
    else:
        args += ["--", name]

    result = aws.run(args, timeout=60)

    assert result.returncode in (2, 127), result.stderr
    assert "\\x1b]0;pwned\\x07\\x1b[2J\\u202e" in result.stderr
    assert UNSAFE_ON_A_TERMINAL.search(result.stderr) is None, repr(result.stderr)


# --- an expired session -------------------------------------------------------------------------------


def test_a_session_that_ends_too_soon_is_refused_before_anything_is_served(aws: AwsHome) -> None:
    """STS's clock behind ours by 890 s: the 930-s session has 40 s left when it arrives."""
    aws.sts.clock_offset = -890

    result = aws.run(["serve", "--profile", "base", "--token-code", aws.code(), "--duration", "930"], timeout=30)

    assert result.returncode == 1
    assert result.stdout == ""
    assert "check the clock" in result.stderr


def test_a_role_session_that_ends_before_it_is_served_stops_serve_naming_the_clock(aws: AwsHome) -> None:
    """The MFA session arrives with 1000 s left (STS's clock 2600 s behind), the 900-s role session
    assumed with it ended 1700 s ago. As for the MFA session: a server that could only ever answer
    503 says why at once, and does not start."""
    aws.sts.clock_offset = -2600
    aws.sts.add_role(ROLE_ARN)
    aws.write_config(
        aws.config_file.read_text() + f"\n[profile admin]\nrole_arn = {ROLE_ARN}\nduration_seconds = 900\n"
    )
    try:
        result = aws.run(
            ["serve", "--profile", "base", "--token-code", aws.code(), "--role-profile", "admin"], timeout=10
        )
    except subprocess.TimeoutExpired:
        pytest.fail("serve started (printed its variables, went on serving) with a role session that had ended")

    assert result.returncode == 1
    assert result.stdout == ""
    assert "check the clock" in result.stderr


# --- signals at the first prompt ---------------------------------------------------------------------


@pytest.mark.parametrize("how", ["Ctrl-C", "SIGTERM", "SIGHUP"])
def test_a_signal_at_the_first_prompt_ends_it_with_no_command_and_no_listener(
    aws: AwsHome, tmp_path: Path, how: str
) -> None:
    """While the first code is asked for the port is already held (so nobody can take it), but
    nothing is served from it; a stop there ends everything and the command never starts."""
    port = free_port()
    ran = tmp_path / "ran"
    child = spawn(
        "mfa-process",
        aws,
        timeout=20,
        args=["exec", "--server", "--profile", "base", "--port", str(port), "--", "touch", str(ran)],
    )
    child.expect(SERIAL_PROMPT)

    raw = b""
    try:
        raw = exchange(port, request_bytes("GET / HTTP/1.1", [("Host", f"127.0.0.1:{port}")]), timeout=1.5)
    except OSError:
        pass
    assert b"HTTP/" not in raw  # held, not answering

    if how == "Ctrl-C":
        child.sendintr()
    else:
        child.kill(getattr(signal, how))
    child.expect(pexpect.EOF)
    child.close()

    assert child.signalstatus is not None or child.exitstatus not in (0, None)
    assert not ran.exists()
    assert refused(port)


# --- command line ---------------------------------------------------------------------------------


def test_a_non_loopback_bind_warns_and_still_checks_host_and_token(aws: AwsHome) -> None:
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outgoing address
            address = probe.getsockname()[0]
    except OSError:
        address = ""
    if not address or address.startswith("127."):
        pytest.skip("this machine has no non-loopback IPv4 address")

    with serving(aws, "--token-code", aws.code(), "--bind", address) as server:
        here = f"{address}:{server.port}"

        def ask(host: str, token: str) -> int:
            request = request_bytes("GET / HTTP/1.1", [("Host", host), ("Authorization", token)])
            return parse(exchange(server.port, request, host=address)).status

        statuses = {
            "no token": ask(here, ""),
            "loopback Host": ask(f"127.0.0.1:{server.port}", server.token),
            "localhost Host": ask(f"localhost:{server.port}", server.token),
            "its own address": ask(here, server.token),
        }
        assert refused(server.port)  # not on 127.0.0.1 as well
        stderr = server.getvalue()

    assert statuses == {"no token": 401, "loopback Host": 403, "localhost Host": 403, "its own address": 200}
    assert f"warning: listening on {address}, not on loopback" in stderr


@pytest.mark.parametrize("port", ["\u00b2", "\u2460", "\u0663"])
def test_a_port_of_non_ascii_digits_is_refused_in_one_line(aws: AwsHome, port: str) -> None:
    """str.isdigit() takes them all; int() then fails on '²' and '①', and reads '٣' as port 3."""
    result = aws.run(["serve", "--profile", "base", "--port", port], timeout=30)

    assert result.returncode == 2
    assert "is not a port number" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
