"""The HTTP side: the container-credentials protocol on one loopback address, behind a token.

Each request must name this server in its Host header (a web page that rebinds a name of its
own to 127.0.0.1 sends that name) and carry the token in Authorization (compared in constant
time); only then is anything else about it looked at. The token is 256 random bits, made here,
and goes to the command in its environment, never on a command line.
"""

from __future__ import annotations

import errno
import hmac
import json
import secrets
import socket
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Tuple

from ..errors import ServerStartError, SessionUnavailableError
from ..session.credentials import Credentials
from .address import ListenAddress

PATH = "/"
REQUEST_READ_SECONDS = 5.0  # a client that sends nothing for this long is cut off
MAX_UNREAD = 64  # connections still sending their request; the oldest goes when one more comes


class Endpoint:
    """Listens on ``address`` as soon as it is made (ServerStartError if it cannot); serves
    ``current()`` once ``start()`` is called; ``log`` hears one line per request."""

    def __init__(self, address: ListenAddress, current: Callable[[], Credentials], log: Callable[[str], None]) -> None:
        self.token = secrets.token_urlsafe(32)  # 256 bits
        self._current = current
        self.log = log
        self._server = _listen(address, self)
        self.port = self._server.server_address[1]
        self.url = f"http://{address.url_host}:{self.port}{PATH}"
        hosts = [address.url_host] + (["localhost"] if address.loopback and not address.ipv6 else [])
        self._hosts = {f"{host}:{self.port}".lower() for host in hosts}

    def start(self) -> None:
        import threading

        self._server.serving = True  # before the thread: close() then waits for serve_forever to end
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.2}, name="mfa-process-server", daemon=True
        ).start()

    def close(self) -> None:
        """Stop answering and close the socket (a request being answered is cut off)."""
        if self._server.serving:
            self._server.shutdown()
        self._server.server_close()

    def respond(
        self, method: str, path: str, hosts: List[str], authorizations: List[str]
    ) -> Tuple[int, Dict[str, str]]:
        """(status, JSON body) for one request; nothing but the checks' outcome before the token."""
        if len(hosts) != 1 or hosts[0].strip().lower() not in self._hosts:
            return 403, _error("ForeignHost", "the Host header does not name this server's loopback address")
        if len(authorizations) != 1 or not hmac.compare_digest(_bytes(authorizations[0]), self.token.encode()):
            return 401, _error("Unauthorized", "the Authorization header does not hold this server's token")
        if method != "GET":
            return 405, _error("MethodNotAllowed", "only GET is served")
        if path != PATH:
            return 404, _error("NotFound", f"credentials are served at {PATH}")
        try:
            credentials = self._current()
        except SessionUnavailableError as error:
            return 503, _error("CredentialsUnavailable", f"mfa-process: {error}")
        return 200, credentials.container_output()


def _error(code: str, message: str) -> Dict[str, str]:
    return {"Code": code, "Message": message}


def _bytes(text: str) -> bytes:
    return text.strip().encode("utf-8", "surrogateescape")


class _Server(ThreadingHTTPServer):
    """One thread per connection; at most MAX_UNREAD connections whose request has not arrived
    whole: past that, the oldest of them is cut off. Loopback is open to every local user, and
    clients that send a byte now and then would otherwise hold a thread and a descriptor each
    until the process has none left for the SDK."""

    daemon_threads = True
    block_on_close = False
    # TIME_WAIT of answered connections must not keep a restarted `serve --port N` out of its own
    # port; POSIX still refuses a second listener with SO_REUSEADDR. Windows would let a second
    # socket take the port with it: there the port is held exclusively instead (server_bind).
    allow_reuse_address = not hasattr(socket, "SO_EXCLUSIVEADDRUSE")
    request_queue_size = socket.SOMAXCONN  # a burst of SDKs starting at once is queued, not dropped
    endpoint: Endpoint
    serving = False

    def __init__(self, address: Tuple[str, int], handler: Any) -> None:
        import threading

        self._unread: Dict[Any, float] = {}  # connection -> when it was accepted (monotonic)
        self._unread_lock = threading.Lock()
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        import time

        with self._unread_lock:
            if len(self._unread) >= MAX_UNREAD:
                oldest = min(self._unread, key=self._unread.__getitem__)
                del self._unread[oldest]
                _cut_off(oldest)
            self._unread[request] = time.monotonic()
        super().process_request(request, client_address)

    def request_read(self, request: Any) -> None:
        """The handler has the whole request: this connection is no longer a slow one."""
        with self._unread_lock:
            self._unread.pop(request, None)

    def shutdown_request(self, request: Any) -> None:
        self.request_read(request)
        super().shutdown_request(request)

    def server_bind(self) -> None:
        """Bind without HTTPServer's reverse DNS lookup of the address (socket.getfqdn)."""
        import socketserver

        exclusive = getattr(socket, "SO_EXCLUSIVEADDRUSE", None)
        if exclusive is not None:
            self.socket.setsockopt(socket.SOL_SOCKET, exclusive, 1)
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), int(self.server_address[1])

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client gone before its answer (an SDK that timed out): nothing to report."""


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = REQUEST_READ_SECONDS
    server_version = "mfa-process"
    sys_version = ""

    def _answer(self) -> None:
        self.server.request_read(self.request)
        endpoint = self.server.endpoint
        status, body = endpoint.respond(
            self.command, self.path, self.headers.get_all("Host") or [], self.headers.get_all("Authorization") or []
        )
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        endpoint.log(f"{self.command} {_shown(self.path)} from {self.client_address[0]}: {status}")

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _answer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's name
        """Silent: requests are logged by _answer, without anything a client sent but the path."""


def _shown(path: str) -> str:
    from ..redact import printable

    return printable(path[:100])


def _cut_off(connection: Any) -> None:
    """End a connection another thread is reading from: its read returns, its handler ends."""
    try:
        connection.shutdown(socket.SHUT_RDWR)
    except OSError:  # already gone
        pass


def _listen(address: ListenAddress, endpoint: Endpoint) -> _Server:
    family = socket.AF_INET6 if address.ipv6 else socket.AF_INET
    server_class = type("_Server", (_Server,), {"address_family": family})
    try:
        server = server_class((address.host, address.port), _Handler)
    except OSError as error:
        where = f"{address.url_host}:{address.port or '(a free port)'}"
        if error.errno == errno.EADDRINUSE:
            fix = "another program listens there: choose another --port, or leave --port out for a free one"
        elif error.errno == errno.EADDRNOTAVAIL:
            fix = "that address is not one of this machine's: use 127.0.0.1 (the default) or ::1"
        else:
            fix = "use 127.0.0.1 (the default) or ::1, and a port above 1023"
        raise ServerStartError(f"cannot listen on {where} ({error.strerror}); {fix}") from None
    server.endpoint = endpoint
    return server
