"""The credentials server's parts, without processes: where it may listen (address), what it
answers whom (endpoint), when it renews and what a request gets meanwhile (renewal, with a fake
fetch and a fake wall clock), the role profile it may serve, and the environment its command gets."""

from __future__ import annotations

import base64
import re
import socket
import threading
import time
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional

import pytest

from mfa_process.config.role_profile import ROLE_CHAINING_MAX_SECONDS, read_role_profile
from mfa_process.config.settings import REFRESH_MARGIN_SECONDS
from mfa_process.errors import (
    EXIT_USAGE,
    BindAddressError,
    MfaProcessError,
    ProfileNotFoundError,
    RoleProfileError,
    SessionUnavailableError,
)
from mfa_process.server import renewal as renewal_module
from mfa_process.server.address import ListenAddress, listen_address
from mfa_process.server.endpoint import Endpoint
from mfa_process.server.renewal import RETRY_SECONDS, SERVE_FLOOR_SECONDS, Renewal, renew_at
from mfa_process.session.credentials import Credentials
from mfa_process.session.shell_env import OUTRANKING_CONTAINER_VARIABLES, container_environment

NOW = 1767268800.0  # 2026-01-01T12:00:00Z: the fake clock's start
HOUR = 3600


def session(number: int, expires_at: float, account_id: Optional[str] = "123456789012") -> Credentials:
    secret, token = f"secret-{number}-" + "s" * 24, f"token-{number}-" + "t" * 40
    return Credentials(f"ASIASESSION{number:09d}", secret, token, int(expires_at), account_id)


def ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
        return True
    except OSError:
        return False


# ---- address -----------------------------------------------------------------------------------


def test_the_default_is_127_0_0_1_on_a_free_port() -> None:
    assert listen_address(None, None) == ListenAddress("127.0.0.1", 0, ipv6=False, loopback=True)


@pytest.mark.parametrize("bind", ["localhost", "LocalHost", " localhost "])
def test_localhost_is_taken_as_127_0_0_1(bind: str) -> None:
    assert listen_address(bind, None).host == "127.0.0.1"


@pytest.mark.parametrize("bind", ["::1", "[::1]"])
def test_ipv6_loopback_is_taken_and_bracketed_in_urls(bind: str) -> None:
    address = listen_address(bind, "8080")
    assert (address.host, address.port, address.ipv6, address.loopback) == ("::1", 8080, True, True)
    assert address.url_host == "[::1]"


def test_another_loopback_address_is_loopback() -> None:
    assert listen_address("127.0.0.2", None).loopback


def test_a_non_loopback_address_is_taken_but_known_as_such() -> None:
    """The CLI warns about it (explicit --bind for a Docker bridge, say); it is not loopback."""
    assert listen_address("10.1.2.3", None).loopback is False


@pytest.mark.parametrize("bind", ["0.0.0.0", "::", "[::]", "0:0:0:0:0:0:0:0"])
def test_wildcards_are_refused(bind: str) -> None:
    with pytest.raises(BindAddressError, match="every interface") as raised:
        listen_address(bind, None)
    assert raised.value.exit_code == EXIT_USAGE


@pytest.mark.parametrize("bind", ["example.com", "localhost.localdomain", "my-laptop", "127.0.0.1.nip.io", ""])
def test_host_names_are_refused(bind: str) -> None:
    with pytest.raises(BindAddressError, match="not an IP address"):
        listen_address(bind, None)


def test_multicast_is_refused() -> None:
    with pytest.raises(BindAddressError, match="multicast"):
        listen_address("224.0.0.1", None)


@pytest.mark.parametrize("port", ["0", "65536", "-1", "http", "80a", "", "1e3", "99999999999", "\u00b2", "\u0663"])
def test_bad_ports_are_refused(port: str) -> None:
    with pytest.raises(BindAddressError, match="not a port number") as raised:
        listen_address(None, port)
    assert raised.value.exit_code == EXIT_USAGE


@pytest.mark.parametrize(("port", "number"), [("1", 1), ("8080", 8080), ("65535", 65535)])
def test_ports_in_range_are_taken(port: str, number: int) -> None:
    assert listen_address(None, port).port == number


# ---- endpoint ----------------------------------------------------------------------------------


class Served:
    """What ``current`` gives the endpoint, and how often it was asked."""

    def __init__(self) -> None:
        self.calls = 0
        self.answer: Callable[[], Credentials] = lambda: session(1, NOW + HOUR)

    def __call__(self) -> Credentials:
        self.calls += 1
        return self.answer()


@pytest.fixture
def served() -> Served:
    return Served()


@pytest.fixture
def endpoint(served: Served) -> Iterator[Endpoint]:
    made = Endpoint(listen_address(None, None), served, lambda line: None)
    try:
        yield made
    finally:
        made.close()


def host(endpoint: Endpoint) -> str:
    return f"127.0.0.1:{endpoint.port}"


def test_a_good_request_gets_the_session_in_the_container_format(endpoint: Endpoint, served: Served) -> None:
    status, body = endpoint.respond("GET", "/", [host(endpoint)], [endpoint.token])

    assert status == 200
    assert body == {
        "AccessKeyId": "ASIASESSION000000001",
        "SecretAccessKey": "secret-1-" + "s" * 24,
        "Token": "token-1-" + "t" * 40,
        "Expiration": "2026-01-01T13:00:00Z",
        "AccountId": "123456789012",
    }


def test_no_account_id_no_field(endpoint: Endpoint, served: Served) -> None:
    served.answer = lambda: session(1, NOW + HOUR, account_id=None)
    status, body = endpoint.respond("GET", "/", [host(endpoint)], [endpoint.token])
    assert status == 200 and "AccountId" not in body


@pytest.mark.parametrize("name", ["localhost", "LOCALHOST", "127.0.0.1"])
def test_the_loopback_names_of_this_server_are_its_hosts(endpoint: Endpoint, name: str) -> None:
    assert endpoint.respond("GET", "/", [f"{name}:{endpoint.port}"], [endpoint.token])[0] == 200


def test_the_url_names_the_address_and_port(endpoint: Endpoint) -> None:
    assert endpoint.url == f"http://127.0.0.1:{endpoint.port}/"
    assert endpoint.port > 0


@pytest.mark.parametrize(
    "authorizations",
    [
        pytest.param([], id="missing"),
        pytest.param(["wrong"], id="wrong"),
        pytest.param([""], id="empty"),
        pytest.param(["TOKEN", "TOKEN"], id="duplicate"),
        pytest.param(["Bearer TOKEN"], id="with-a-scheme"),
        pytest.param(["TOKENx"], id="longer"),
        pytest.param(["SHORTER"], id="shorter"),
    ],
)
def test_without_exactly_the_token_401_and_nothing_else_looked_at(
    endpoint: Endpoint, served: Served, authorizations: List[str]
) -> None:
    given = [value.replace("SHORTER", endpoint.token[:-1]).replace("TOKEN", endpoint.token) for value in authorizations]
    status, body = endpoint.respond("GET", "/", [host(endpoint)], given)

    assert status == 401 and body["Code"] == "Unauthorized"
    assert "AccessKeyId" not in body and served.calls == 0


def test_a_token_of_another_case_is_wrong(endpoint: Endpoint) -> None:
    other = endpoint.token.swapcase()
    assert other != endpoint.token
    assert endpoint.respond("GET", "/", [host(endpoint)], [other])[0] == 401


@pytest.mark.parametrize(
    "hosts",
    [
        pytest.param([], id="missing"),
        pytest.param(["attacker.example:PORT"], id="rebinding-name"),
        pytest.param(["attacker.example"], id="name-without-port"),
        pytest.param(["127.0.0.1"], id="without-port"),
        pytest.param(["127.0.0.1:1"], id="another-port"),
        pytest.param(["[::1]:PORT"], id="another-address"),
        pytest.param(["127.0.0.1:PORT", "127.0.0.1:PORT"], id="duplicate"),
        pytest.param(["127.0.0.1:PORT", "attacker.example:PORT"], id="two-different"),
        pytest.param(["169.254.170.2:PORT"], id="ecs-address"),
    ],
)
def test_a_host_header_not_naming_this_server_is_403_before_the_token(
    endpoint: Endpoint, served: Served, hosts: List[str]
) -> None:
    given = [value.replace("PORT", str(endpoint.port)) for value in hosts]
    status, body = endpoint.respond("GET", "/", given, [endpoint.token])  # the right token: still refused

    assert status == 403 and body["Code"] == "ForeignHost"
    assert "AccessKeyId" not in body and served.calls == 0


def test_the_checks_come_before_method_and_path(endpoint: Endpoint, served: Served) -> None:
    assert endpoint.respond("POST", "/nowhere", ["attacker.example"], [])[0] == 403
    assert endpoint.respond("POST", "/nowhere", [host(endpoint)], ["wrong"])[0] == 401
    assert served.calls == 0


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "HEAD", "OPTIONS"])
def test_other_methods_405(endpoint: Endpoint, served: Served, method: str) -> None:
    status, body = endpoint.respond(method, "/", [host(endpoint)], [endpoint.token])
    assert (status, body["Code"]) == (405, "MethodNotAllowed") and served.calls == 0


@pytest.mark.parametrize("path", ["/creds", "//", "/?role=admin", "/latest/meta-data/", "*"])
def test_other_paths_404(endpoint: Endpoint, served: Served, path: str) -> None:
    status, body = endpoint.respond("GET", path, [host(endpoint)], [endpoint.token])
    assert (status, body["Code"]) == (404, "NotFound") and served.calls == 0


def test_nothing_to_serve_is_503_with_the_reason(endpoint: Endpoint, served: Served) -> None:
    def unavailable() -> Credentials:
        raise SessionUnavailableError("the session of profile 'base' has ended; the last try failed: no code")

    served.answer = unavailable
    status, body = endpoint.respond("GET", "/", [host(endpoint)], [endpoint.token])

    assert status == 503
    assert body == {
        "Code": "CredentialsUnavailable",
        "Message": "mfa-process: the session of profile 'base' has ended; the last try failed: no code",
    }


def test_the_token_is_256_random_bits_in_43_urlsafe_characters(served: Served) -> None:
    tokens = []
    for _ in range(3):
        made = Endpoint(listen_address(None, None), served, lambda line: None)
        made.close()
        tokens.append(made.token)

    for token in tokens:
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token), token
        assert len(base64.urlsafe_b64decode(token + "=")) == 32
    assert len(set(tokens)) == 3


@pytest.mark.skipif(not ipv6_loopback(), reason="this machine has no IPv6 loopback (::1)")
def test_on_ipv6_loopback_the_bracketed_address_is_the_host(served: Served) -> None:
    made = Endpoint(listen_address("::1", None), served, lambda line: None)
    try:
        assert made.url == f"http://[::1]:{made.port}/"
        assert made.respond("GET", "/", [f"[::1]:{made.port}"], [made.token])[0] == 200
        assert made.respond("GET", "/", [f"127.0.0.1:{made.port}"], [made.token])[0] == 403
    finally:
        made.close()


def test_over_http_the_answer_is_json_not_cached_and_logged_without_the_token(served: Served) -> None:
    import http.client
    import json

    lines: List[str] = []
    made = Endpoint(listen_address(None, None), served, lines.append)
    made.start()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", made.port, timeout=5)
        connection.request("GET", "/", headers={"Authorization": made.token})
        response = connection.getresponse()
        body = json.loads(response.read())
        connection.close()
    finally:
        made.close()

    assert response.status == 200 and body["AccessKeyId"] == "ASIASESSION000000001"
    assert response.getheader("Content-Type") == "application/json"
    assert response.getheader("Cache-Control") == "no-store"
    assert lines == ["GET / from 127.0.0.1: 200"]
    with pytest.raises(ConnectionRefusedError):  # closed: the port no longer answers
        socket.create_connection(("127.0.0.1", made.port), timeout=2).close()


# ---- renewal -----------------------------------------------------------------------------------


class FakeClock:
    """A wall clock the test moves; the renewal's waits stay on the real monotonic clock."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class FakeFetch:
    """Hands out the sessions (or raises the errors) it is given, in order; records each call's
    min_remaining; blocks while ``gate`` is closed (a prompt nobody has answered yet)."""

    def __init__(self, *outcomes: object) -> None:
        self.outcomes = list(outcomes)
        self.calls: List[Optional[int]] = []
        self.gate = threading.Event()
        self.gate.set()
        self.called = threading.Event()

    def __call__(self, min_remaining: Optional[int]) -> Credentials:
        self.calls.append(min_remaining)
        self.called.set()
        self.gate.wait(10)
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        assert isinstance(outcome, Credentials)
        return outcome


class Running:
    """A Renewal with run() in a thread (the main thread's job in mfa-process), its messages kept."""

    def __init__(self, fetch: FakeFetch, first: Credentials, clock: FakeClock, lead: float = 300.0) -> None:
        self.fetch = fetch
        self.clock = clock
        self.logged: List[str] = []
        self.warned: List[str] = []
        self.renewal = Renewal(fetch, first, "profile 'base'", lead, self.logged.append, self.warned.append, clock)
        self.thread = threading.Thread(target=self.renewal.run, args=(False,), daemon=True)

    def start(self) -> Running:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.renewal.stop()
        self.fetch.gate.set()
        self.thread.join(5)


@pytest.fixture(autouse=True)
def quick_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    """The run loop looks at the (fake) clock every 10 ms instead of every second."""
    monkeypatch.setattr(renewal_module, "POLL_SECONDS", 0.01)


@pytest.fixture
def running() -> Iterator[Callable[..., Running]]:
    made: List[Running] = []

    def make(fetch: FakeFetch, first: Credentials, clock: FakeClock, lead: float = 300.0) -> Running:
        made.append(Running(fetch, first, clock, lead).start())
        return made[-1]

    yield make
    for each in made:
        each.stop()


def eventually(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def served_key(renewal: Renewal) -> Optional[str]:
    """The key a request would get now, None for a 503."""
    try:
        return renewal.current(wait=0).access_key_id
    except SessionUnavailableError:
        return None


def settle() -> None:
    """Long enough for the run loop to have looked at the clock many times (it polls every 10 ms)."""
    time.sleep(0.3)


@pytest.mark.parametrize(
    ("expires", "obtained", "lead", "expected"),
    [
        pytest.param(NOW + 12 * HOUR, NOW, 300, NOW + 12 * HOUR - REFRESH_MARGIN_SECONDS - 300, id="long-session"),
        pytest.param(NOW + 930, NOW, 300, NOW + 15, id="just-above-the-margin"),
        pytest.param(NOW + HOUR, NOW, 0, NOW + HOUR - REFRESH_MARGIN_SECONDS, id="no-lead"),
        pytest.param(NOW + HOUR, NOW, 2000, NOW + (HOUR - REFRESH_MARGIN_SECONDS) / 2, id="lead-longer-than-half"),
        pytest.param(NOW + 900, NOW, 300, NOW, id="at-the-margin"),
    ],
)
def test_renew_at(expires: float, obtained: float, lead: float, expected: float) -> None:
    assert renew_at(expires, obtained, lead) == expected


def test_no_renewal_before_it_is_due_and_one_when_it_is(running: Callable[..., Running]) -> None:
    clock = FakeClock()
    first, second = session(1, NOW + HOUR), session(2, NOW + 2 * HOUR)
    fetch = FakeFetch(second)
    server = running(fetch, first, clock, lead=300)
    due = renew_at(first.expires_at, NOW, 300)

    clock.now = due - 1
    settle()
    assert fetch.calls == [] and server.renewal.current() is first

    clock.now = due
    assert eventually(lambda: server.renewal.current() is second)
    assert fetch.calls == [int(first.expires_at - due) + 1]  # a session newer than the one held
    assert any("renewed the session of profile 'base': ASIA...0002" in line for line in server.logged)
    assert server.warned == []


def test_after_a_renewal_the_next_one_is_planned_from_the_new_session(running: Callable[..., Running]) -> None:
    clock = FakeClock()
    first, second, third = session(1, NOW + HOUR), session(2, NOW + 2 * HOUR), session(3, NOW + 3 * HOUR)
    fetch = FakeFetch(second, third)
    server = running(fetch, first, clock, lead=0)

    clock.now = renew_at(first.expires_at, NOW, 0)
    assert eventually(lambda: server.renewal.current() is second)
    renewed_at = clock.now
    clock.now = renew_at(second.expires_at, renewed_at, 0) - 1
    settle()
    assert len(fetch.calls) == 1
    clock.now += 1
    assert eventually(lambda: server.renewal.current() is third)


def test_a_failed_renewal_keeps_serving_and_retries_after_retry_seconds(running: Callable[..., Running]) -> None:
    clock = FakeClock()
    first, second = session(1, NOW + HOUR), session(2, NOW + 2 * HOUR)
    fetch = FakeFetch(MfaProcessError("no answer within 60 s while waiting for the MFA code"), second)
    server = running(fetch, first, clock)

    clock.now = renew_at(first.expires_at, NOW, 300)
    failed_at = clock.now
    assert eventually(lambda: len(server.warned) == 1)
    assert server.renewal.current() is first
    assert server.warned == [
        "could not renew the session of profile 'base': no answer within 60 s while waiting for the MFA code; "
        f"serving the current one until {first.expiration}; trying again in {RETRY_SECONDS:g} s"
    ]

    clock.now = failed_at + RETRY_SECONDS - 1
    settle()
    assert len(fetch.calls) == 1
    clock.now = failed_at + RETRY_SECONDS
    assert eventually(lambda: server.renewal.current() is second)
    assert len(fetch.calls) == 2


def test_nothing_servable_a_request_waits_then_gets_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    """No run loop: the renewal the request asks for never comes, so the request waits its whole
    wait and then hears why."""
    clock = FakeClock(NOW + HOUR - SERVE_FLOOR_SECONDS)  # exactly the floor left: not handed out
    renewal = Renewal(FakeFetch(), session(1, NOW + HOUR), "profile 'base'", 300, print, print, clock)

    started = time.monotonic()
    with pytest.raises(SessionUnavailableError) as raised:
        renewal.current(wait=0.3)
    waited = time.monotonic() - started

    assert 0.3 <= waited < 1.0
    assert str(raised.value) == (
        "the session of profile 'base' has ended (2026-01-01T13:00:00Z); mfa-process is renewing it "
        "(on its terminal, if it needs an MFA code): try again"
    )


def test_just_above_the_floor_is_still_served() -> None:
    clock = FakeClock(NOW + HOUR - SERVE_FLOOR_SECONDS - 1)
    first = session(1, NOW + HOUR)
    renewal = Renewal(FakeFetch(), first, "profile 'base'", 300, print, print, clock)
    assert renewal.current(wait=0) is first


def test_under_the_floor_nothing_renews_until_a_request_asks(running: Callable[..., Running]) -> None:
    """A laptop that slept past the session: no prompt until a program needs credentials; then
    the request that asked gets the new session if it comes within its wait."""
    clock = FakeClock()
    first, second = session(1, NOW + HOUR), session(2, NOW + 2 * HOUR)
    fetch = FakeFetch(second)
    server = running(fetch, first, clock)
    clock.now = NOW + HOUR - 30
    settle()
    assert fetch.calls == []

    assert server.renewal.current(wait=5) is second
    assert fetch.calls == [31]


def test_a_request_during_a_pending_prompt_gets_503_naming_the_renewal(running: Callable[..., Running]) -> None:
    clock = FakeClock(NOW + HOUR - 30)
    fetch = FakeFetch(session(2, NOW + 2 * HOUR))
    fetch.gate.clear()  # the prompt: nobody types
    server = running(fetch, session(1, NOW + HOUR), clock)

    with pytest.raises(SessionUnavailableError, match="mfa-process is renewing it .on its terminal"):
        server.renewal.current(wait=0.3)
    assert fetch.called.wait(5)  # the request started it

    fetch.gate.set()  # the code is typed
    assert eventually(lambda: served_key(server.renewal) == "ASIASESSION000000002")


def test_a_failure_while_nothing_is_servable_is_named_to_the_next_request(
    running: Callable[..., Running], monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock(NOW + HOUR - 30)
    fetch = FakeFetch(MfaProcessError("no answer within 2 s while waiting for the MFA code"))
    server = running(fetch, session(1, NOW + HOUR), clock)

    started = time.monotonic()
    with pytest.raises(SessionUnavailableError) as raised:
        server.renewal.current(wait=5)  # the renewal it asked for ends, failed, within the wait

    assert time.monotonic() - started < 4  # answered when the renewal failed, not at the end of the wait
    assert str(raised.value) == (
        "the session of profile 'base' has ended (2026-01-01T13:00:00Z); mfa-process is renewing it, "
        "the last try failed: no answer within 2 s while waiting for the MFA code"
    )
    assert server.warned == [
        "could not renew the session of profile 'base': no answer within 2 s while waiting for the MFA code; "
        "the next request tries again"
    ]
    with pytest.raises(SessionUnavailableError, match="the last try failed: no answer within 2 s"):
        server.renewal.current(wait=0.1)  # asks again, within WANTED_RETRY_SECONDS: no new try yet
    assert len(fetch.calls) == 1


def test_a_request_after_the_wanted_retry_gap_starts_another_try(
    running: Callable[..., Running], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(renewal_module, "WANTED_RETRY_SECONDS", 0.2)
    clock = FakeClock(NOW + HOUR - 30)
    second = session(2, NOW + 2 * HOUR)
    fetch = FakeFetch(MfaProcessError("no answer within 2 s while waiting for the MFA code"), second)
    server = running(fetch, session(1, NOW + HOUR), clock)
    with pytest.raises(SessionUnavailableError):
        server.renewal.current(wait=5)

    time.sleep(0.3)
    assert server.renewal.current(wait=5) is second
    assert len(fetch.calls) == 2


def test_a_fetch_with_no_newer_session_is_a_failure(running: Callable[..., Running]) -> None:
    clock = FakeClock()
    first = session(1, NOW + HOUR)
    fetch = FakeFetch(session(2, NOW + HOUR))  # another key, the same end
    server = running(fetch, first, clock)

    clock.now = renew_at(first.expires_at, NOW, 300)
    assert eventually(lambda: len(server.warned) == 1)
    assert server.renewal.current() is first
    assert "the new session ends at 2026-01-01T13:00:00Z, no later than the one held" in server.warned[0]


def test_an_unexpected_error_is_a_failure_with_its_traceback_in_the_log(running: Callable[..., Running]) -> None:
    clock = FakeClock()
    first = session(1, NOW + HOUR)
    server = running(FakeFetch(ValueError("a bug")), first, clock)

    clock.now = renew_at(first.expires_at, NOW, 300)
    assert eventually(lambda: len(server.warned) == 1)
    assert "unexpected ValueError; run with --verbose for details and report it" in server.warned[0]
    assert eventually(lambda: any("Traceback" in line and "ValueError: a bug" in line for line in server.logged))
    assert server.renewal.current() is first


def test_ctrl_c_at_a_prompt_of_exec_fails_that_renewal_only(running: Callable[..., Running]) -> None:
    clock = FakeClock()
    first = session(1, NOW + HOUR)
    server = running(FakeFetch(KeyboardInterrupt()), first, clock)

    clock.now = renew_at(first.expires_at, NOW, 300)
    assert eventually(lambda: len(server.warned) == 1)
    assert "interrupted at the prompt" in server.warned[0]
    assert server.thread.is_alive()


def test_ctrl_c_at_a_prompt_of_serve_ends_run() -> None:
    clock = FakeClock()
    first = session(1, NOW + HOUR)
    fetch = FakeFetch(KeyboardInterrupt())
    renewal = Renewal(fetch, first, "profile 'base'", 300, print, print, clock)
    clock.now = renew_at(first.expires_at, NOW, 300)
    guard = threading.Timer(5, renewal.stop)  # if the renewal never came: DID NOT RAISE, not a hang
    guard.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            renewal.run(interrupt_stops=True)
    finally:
        guard.cancel()
    assert len(fetch.calls) == 1  # the interrupt came from the prompt, not from outside


def test_stop_ends_run_even_during_a_renewal(running: Callable[..., Running]) -> None:
    clock = FakeClock()
    idle = running(FakeFetch(), session(1, NOW + HOUR), clock)
    idle.renewal.stop()
    idle.thread.join(2)
    assert not idle.thread.is_alive()

    fetch = FakeFetch(session(3, NOW + 2 * HOUR))
    fetch.gate.clear()
    busy = running(fetch, session(2, NOW + HOUR), FakeClock(NOW + HOUR - 100))
    assert fetch.called.wait(5)
    busy.renewal.stop()
    assert busy.renewal.stopping()
    fetch.gate.set()
    busy.thread.join(2)
    assert not busy.thread.is_alive()


def test_a_request_after_stop_is_told_mfa_process_is_stopping() -> None:
    clock = FakeClock(NOW + HOUR - 30)
    renewal = Renewal(FakeFetch(), session(1, NOW + HOUR), "profile 'base'", 300, print, print, clock)
    renewal.stop()
    started = time.monotonic()
    with pytest.raises(SessionUnavailableError, match="and mfa-process is stopping"):
        renewal.current(wait=5)
    assert time.monotonic() - started < 1  # no wait: nothing will come


# ---- role profile ------------------------------------------------------------------------------

ROLE_ARN = "arn:aws:iam::210987654321:role/Admin"


@pytest.fixture
def config(tmp_path: Path) -> Callable[[str], Dict[str, str]]:
    """``config(text)``: an environ whose AWS config file holds ``text``."""

    def write(text: str) -> Dict[str, str]:
        (tmp_path / "config").write_text(text)
        (tmp_path / "credentials").write_text("")
        return {
            "HOME": str(tmp_path),
            "AWS_CONFIG_FILE": str(tmp_path / "config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
        }

    return write


def read(environ: Dict[str, str], name: str = "admin") -> tuple:
    warned: List[str] = []
    role = read_role_profile(name, environ, warned.append)
    return role, warned


def test_a_role_profile_is_read_whole(config: Callable[[str], Dict[str, str]]) -> None:
    environ = config(
        f"[profile admin]\nrole_arn = {ROLE_ARN}\nsource_profile = mfa\nexternal_id = ext-123\n"
        "role_session_name = alice@laptop\nduration_seconds = 1800\nregion = eu-west-1\n"
    )
    role, warned = read(environ)

    assert (role.name, role.role_arn, role.external_id, role.session_name) == (
        "admin",
        ROLE_ARN,
        "ext-123",
        "alice@laptop",
    )
    assert (role.duration, role.region, role.account_id, warned) == (1800, "eu-west-1", "210987654321", [])


def test_without_a_duration_the_role_chaining_cap(config: Callable[[str], Dict[str, str]]) -> None:
    role, warned = read(config(f"[profile admin]\nrole_arn = {ROLE_ARN}\n"))
    assert (role.duration, role.external_id, role.session_name, role.region) == (3600, None, None, None)


def test_a_profile_without_role_arn_is_not_a_role_profile(config: Callable[[str], Dict[str, str]]) -> None:
    with pytest.raises(RoleProfileError, match="profile 'admin' has no role_arn") as raised:
        read(config("[profile admin]\nregion = eu-west-1\n"))
    assert raised.value.exit_code == EXIT_USAGE


def test_an_unknown_profile_is_a_usage_error(config: Callable[[str], Dict[str, str]]) -> None:
    with pytest.raises(ProfileNotFoundError, match="profile 'nosuch' is not in") as raised:
        read(config(f"[profile admin]\nrole_arn = {ROLE_ARN}\n"), "nosuch")
    assert raised.value.exit_code == EXIT_USAGE


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:iam::123:role/Admin",
        "arn:aws:iam::123456789012:user/alice",
        "arn:aws:sts::123456789012:assumed-role/Admin/s",
        "Admin",
        "arn:aws:iam::123456789012:role/Ad min",
        "arn:aws:iam::123456789012:role/",
    ],
)
def test_a_role_arn_that_is_not_one_is_refused(config: Callable[[str], Dict[str, str]], arn: str) -> None:
    with pytest.raises(RoleProfileError, match="role_arn of profile 'admin' is not a role ARN"):
        read(config(f"[profile admin]\nrole_arn = {arn}\n"))


def test_china_and_govcloud_role_arns_are_taken(config: Callable[[str], Dict[str, str]]) -> None:
    for partition in ("aws-cn", "aws-us-gov"):
        role, _ = read(config(f"[profile admin]\nrole_arn = arn:{partition}:iam::123456789012:role/path/Admin\n"))
        assert role.account_id == "123456789012"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("external_id", "x"),
        ("external_id", "has space"),
        ("external_id", "a" * 1225),
        ("role_session_name", "has space"),
        ("role_session_name", "x"),
        ("role_session_name", "a" * 65),
        ("role_session_name", "semi;colon"),
        ("region", "Mars"),
        ("region", "eu-west-1; rm -rf"),
        ("region", "eu_west_1"),
    ],
)
def test_bad_values_are_refused_naming_the_key(config: Callable[[str], Dict[str, str]], key: str, value: str) -> None:
    with pytest.raises(RoleProfileError, match=f"{key} of profile 'admin' is not valid") as raised:
        read(config(f"[profile admin]\nrole_arn = {ROLE_ARN}\n{key} = {value}\n"))
    assert raised.value.exit_code == EXIT_USAGE
    assert len(str(raised.value)) < 400  # a long value is quoted cut short


def test_a_duration_above_the_role_chaining_cap_is_capped_with_a_warning(
    config: Callable[[str], Dict[str, str]],
) -> None:
    role, warned = read(config(f"[profile admin]\nrole_arn = {ROLE_ARN}\nduration_seconds = 43200\n"))
    assert role.duration == ROLE_CHAINING_MAX_SECONDS == 3600
    assert len(warned) == 1 and "duration_seconds 43200 of profile 'admin'" in warned[0]
    assert "its sessions last 3600 s and are renewed" in warned[0]


@pytest.mark.parametrize("duration", ["899", "0", "43201", "1h", "-900", "900.5"])
def test_a_duration_out_of_range_is_refused(config: Callable[[str], Dict[str, str]], duration: str) -> None:
    with pytest.raises(RoleProfileError, match="duration_seconds of profile 'admin' is"):
        read(config(f"[profile admin]\nrole_arn = {ROLE_ARN}\nduration_seconds = {duration}\n"))


def test_the_shortest_duration_is_taken(config: Callable[[str], Dict[str, str]]) -> None:
    role, warned = read(config(f"[profile admin]\nrole_arn = {ROLE_ARN}\nduration_seconds = 900\n"))
    assert (role.duration, warned) == (900, [])


# ---- the command's environment -----------------------------------------------------------------

URL = "http://127.0.0.1:49152/"
TOKEN = "T" * 43

PARENT = {
    "PATH": "/usr/bin:/bin",
    "HOME": "/home/alice",
    "AWS_CONFIG_FILE": "/home/alice/.aws/config",
    "AWS_ACCESS_KEY_ID": "AKIAPARENTKEY0000000",
    "AWS_SECRET_ACCESS_KEY": "parent-secret",
    "AWS_SESSION_TOKEN": "parent-token",
    "AWS_SECURITY_TOKEN": "parent-token",
    "AWS_CREDENTIAL_EXPIRATION": "2026-01-01T00:00:00Z",
    "AWS_PROFILE": "other",
    "AWS_DEFAULT_PROFILE": "other",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/abc",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": "/var/run/token",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://169.254.170.23/v1/credentials",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN": "stale",
}


def test_the_command_is_pointed_at_the_server_and_nothing_outranks_it() -> None:
    child = container_environment(PARENT, URL, TOKEN, "eu-west-2")

    assert child == {
        "PATH": "/usr/bin:/bin",
        "HOME": "/home/alice",
        "AWS_CONFIG_FILE": "/home/alice/.aws/config",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": URL,
        "AWS_CONTAINER_AUTHORIZATION_TOKEN": TOKEN,
        "AWS_REGION": "eu-west-2",
        "AWS_DEFAULT_REGION": "eu-west-2",
    }
    assert PARENT["AWS_PROFILE"] == "other"  # the parent's mapping is left as it was


def test_every_outranking_variable_is_removed() -> None:
    parent = {name: "x" for name in OUTRANKING_CONTAINER_VARIABLES}
    assert set(container_environment(parent, URL, TOKEN)) == {
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    }


@pytest.mark.parametrize("name", ["AWS_REGION", "AWS_DEFAULT_REGION"])
def test_a_region_already_in_the_environment_is_kept(name: str) -> None:
    child = container_environment({name: "ap-south-1"}, URL, TOKEN, "eu-west-2")
    assert child[name] == "ap-south-1"
    assert "eu-west-2" not in child.values()


def test_without_a_region_none_is_set() -> None:
    child = container_environment({}, URL, TOKEN, None)
    assert "AWS_REGION" not in child and "AWS_DEFAULT_REGION" not in child
