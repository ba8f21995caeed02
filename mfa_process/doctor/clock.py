"""Link 6: this machine's clock against STS's. One unsigned GetCallerIdentity to the STS
endpoint a base profile's run would call (botocore resolves it: AWS_ENDPOINT_URL_STS, the
profile's endpoint_url, its region, else the MFA device's partition; the request is sent here,
under one deadline), its answer (an authentication error: nothing is signed, nothing sent but
the action's name) read only for its status line and Date header. Sessions are judged by this
machine's clock (the 15-minute refresh margin, the MFA age), and AWS refuses requests signed
15 minutes off: a clock more than a minute off deserves a look, more than five is broken. No
answer is no verdict: offline is not a broken setup."""

from __future__ import annotations

import base64
import os
import socket
import ssl
import time
import urllib.request
from datetime import timezone
from email.utils import parsedate_to_datetime
from typing import Any, Callable, Dict, List, Optional, Tuple
from urllib.parse import unquote, urlsplit

from .report import Finding, fail, ok, warning

TIMEOUT = 5.0
WARN_SKEW = 60.0
FAIL_SKEW = 300.0
CLOCK_FIX = "set this machine's clock right, and keep it so with network time (timedatectl set-ntp true on Linux)"
_WHY = {  # why a request got no answer, said plainly, by the step it failed at
    "connect": "could not connect",
    "proxy": "could not connect to the proxy",
    "tls": "TLS failed (a proxy's certificate? set AWS_CA_BUNDLE)",
}


class StsTime:
    """What an STS endpoint's Date said, and this machine's time halfway through the request."""

    __slots__ = ("endpoint", "server", "local")

    def __init__(self, endpoint: str, server: float, local: float) -> None:
        self.endpoint = endpoint
        self.server = server
        self.local = local

    @property
    def skew(self) -> float:
        """Seconds this machine is ahead (negative: behind). A Date is cut to the whole second:
        the middle of that second is the best guess."""
        return self.local - (self.server + 0.5)


class NoStsTime(Exception):
    """The endpoint gave no usable Date: ``str(error)`` says why, for the warning."""

    def __init__(self, endpoint: str, reason: str) -> None:
        super().__init__(reason)
        self.endpoint = endpoint


Target = Tuple[Optional[str], str]  # (profile, the region to use when it names none)


def check_clock(targets: List[Target], ask: Optional[Callable[[Any], StsTime]] = None) -> List[Finding]:
    """One finding per distinct STS endpoint of ``targets``."""
    clients: Dict[str, Any] = {}
    findings = []
    for profile, region in targets:
        try:
            client = sts_client(profile, region)
        except Exception as error:  # botocore's configuration errors: the files' checks say what is wrong
            findings.append(
                warning(f"clock: not checked: no STS client for profile {profile} ({type(error).__name__})")
            )
            continue
        clients.setdefault(client.meta.endpoint_url, client)
    for endpoint, client in clients.items():
        try:
            findings.append(judge((ask or ask_sts_time)(client)))
        except NoStsTime as error:
            findings.append(
                warning(
                    f"clock: not checked: STS at {error.endpoint} gave no time ({error})",
                    "nothing to do offline (--offline skips this); else check the network, any proxy and "
                    "AWS_ENDPOINT_URL_STS",
                )
            )
    return findings


def judge(answer: StsTime) -> Finding:
    skew = answer.skew
    if abs(skew) <= WARN_SKEW:
        return ok(f"clock: within {max(1, round(abs(skew)))} s of STS's ({answer.endpoint})")
    off = f"clock: {_amount(abs(skew))} {'ahead of' if skew > 0 else 'behind'} STS's ({answer.endpoint})"
    if abs(skew) <= FAIL_SKEW:
        return warning(off, CLOCK_FIX)
    return fail(f"{off}: sessions are judged by this clock, and AWS refuses requests signed 15 minutes off", CLOCK_FIX)


def sts_client(profile: Optional[str], region: str) -> Any:
    """An unsigned STS client for ``profile`` (None: botocore's default), with the endpoint and
    region a run would use: only its endpoint_url is used. No credentials are looked up."""
    import boto3
    import botocore
    import botocore.exceptions
    from botocore.config import Config

    try:
        session = boto3.Session(profile_name=profile)
    except botocore.exceptions.ProfileNotFound:
        session = boto3.Session()
    config = Config(
        signature_version=botocore.UNSIGNED,
        connect_timeout=TIMEOUT,
        read_timeout=TIMEOUT,
        retries={"total_max_attempts": 1, "mode": "standard"},
    )
    return session.client("sts", region_name=session.region_name or region, config=config)


def ask_sts_time(client: Any, clock: Callable[[], float] = time.time) -> StsTime:
    """POST the unsigned GetCallerIdentity to ``client``'s endpoint ourselves (botocore only
    resolved it): botocore bounds each read, not the answer, and reads the whole body, so a
    trickled or huge answer would hold doctor for minutes. Here the status line and headers are
    read under one deadline of TIMEOUT and at most MAX_HEAD bytes; the body is never read."""
    endpoint = client.meta.endpoint_url
    started = clock()
    head = _post_head(endpoint, time.monotonic() + TIMEOUT)
    ended = clock()
    date = _date_header(head)
    if not date:
        raise NoStsTime(endpoint, "its answer has no Date header")
    try:
        when = parsedate_to_datetime(date)
        if when.tzinfo is None:  # "-0000": UTC, no zone said
            when = when.replace(tzinfo=timezone.utc)
        server = when.timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):  # OverflowError: a zone offset out of range
        raise NoStsTime(endpoint, "its Date header is not a date") from None
    return StsTime(endpoint, server, (started + ended) / 2)


MAX_HEAD = 64 << 10  # an STS answer's status line and headers are well under 1 KiB
BODY = b"Action=GetCallerIdentity&Version=2011-06-15"


class _Late(Exception):
    """The deadline passed."""


def _post_head(endpoint: str, deadline: float) -> bytes:
    """The status line and headers of the answer to one unsigned POST of BODY to ``endpoint``,
    through the proxy the environment names for it (HTTP CONNECT for https), TLS checked against
    AWS_CA_BUNDLE if set. Every failure is a NoStsTime that says it plainly."""
    url = urlsplit(endpoint)
    scheme, host = url.scheme.lower(), url.hostname or ""
    if scheme not in ("http", "https") or not host:
        raise NoStsTime(endpoint, "its URL is not http(s)")
    try:
        port = url.port or (443 if scheme == "https" else 80)
    except ValueError:
        raise NoStsTime(endpoint, "its URL's port is not a number") from None
    bare = f"[{host}]" if ":" in host else host
    authority = bare if url.port is None else f"{bare}:{port}"
    proxy = _proxy_for(endpoint, scheme, host)
    target = url.path or "/"
    if url.query:
        target += "?" + url.query
    step = "connect"
    try:
        if proxy is None:
            sock = _connect(host, port, deadline)
        else:
            step = "proxy"
            sock = _connect(proxy.hostname or "", proxy.port or 80, deadline)
        try:
            if proxy is not None and scheme == "https":
                tunnel = f"CONNECT {bare}:{port} HTTP/1.1\r\nHost: {bare}:{port}\r\n{_proxy_auth(proxy)}\r\n"
                sock.sendall(tunnel.encode("latin-1"))
                answer = _read_head(sock, deadline)
                if answer.split(b" ", 2)[1:2] != [b"200"]:
                    raise NoStsTime(endpoint, "could not connect through the proxy")
            elif proxy is not None:  # plain http through a proxy: the absolute URL
                target = f"http://{authority}{target}"
            step = "connect"
            if scheme == "https":
                sock.settimeout(max(0.01, deadline - time.monotonic()))
                context = ssl.create_default_context(cafile=os.environ.get("AWS_CA_BUNDLE") or None)
                sock = context.wrap_socket(sock, server_hostname=host)
            step = "answer"
            extra = _proxy_auth(proxy) if proxy is not None and scheme == "http" else ""
            sock.sendall(
                f"POST {target} HTTP/1.1\r\nHost: {authority}\r\n"
                "Content-Type: application/x-www-form-urlencoded; charset=utf-8\r\n"
                f"Content-Length: {len(BODY)}\r\nAccept-Encoding: identity\r\nConnection: close\r\n"
                f"{extra}\r\n".encode("latin-1")
                + BODY
            )
            return _read_head(sock, deadline)
        finally:
            sock.close()  # the body, if any, is never read
    except NoStsTime:
        raise
    except ssl.SSLError:
        raise NoStsTime(endpoint, _WHY["tls"]) from None
    except (_Late, socket.timeout):
        why = {"connect": f"no connection within {TIMEOUT:g} s", "answer": f"no answer within {TIMEOUT:g} s"}
        raise NoStsTime(endpoint, why.get(step, "no answer from the proxy")) from None
    except (OSError, UnicodeError, ValueError):
        raise NoStsTime(endpoint, _WHY["proxy" if step == "proxy" else "connect"]) from None


def _connect(host: str, port: int, deadline: float) -> socket.socket:
    left = deadline - time.monotonic()
    if left <= 0:
        raise _Late()
    return socket.create_connection((host, port), timeout=left)


def _read_head(sock: socket.socket, deadline: float) -> bytes:
    """Bytes up to the blank line after the headers: each read waits at most what is left of the deadline."""
    data = b""
    while b"\r\n\r\n" not in data:
        left = deadline - time.monotonic()
        if left <= 0:
            raise _Late()
        sock.settimeout(left)
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
        if len(data) > MAX_HEAD:
            break
    if not data.startswith(b"HTTP/"):
        raise OSError("not an HTTP answer")
    return data.split(b"\r\n\r\n", 1)[0][:MAX_HEAD]


def _date_header(head: bytes) -> Optional[str]:
    for text in head.split(b"\r\n")[1:]:
        name, _, value = text.partition(b":")
        if name.strip().lower() == b"date":
            return value.strip().decode("latin-1")
    return None


def _proxy_for(endpoint: str, scheme: str, host: str) -> Any:
    """The proxy URL the environment names for ``scheme``://``host`` (NO_PROXY honoured), else None."""
    proxies = urllib.request.getproxies()
    proxy = proxies.get(scheme)
    if not proxy or urllib.request.proxy_bypass(host):
        return None
    parsed = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    if parsed.scheme.lower() != "http":
        raise NoStsTime(endpoint, f"its proxy's scheme {parsed.scheme} is not supported here")
    return parsed


def _proxy_auth(proxy: Any) -> str:
    if proxy.username is None:
        return ""
    pair = f"{unquote(proxy.username)}:{unquote(proxy.password or '')}".encode()
    return f"Proxy-Authorization: Basic {base64.b64encode(pair).decode()}\r\n"


def _amount(seconds: float) -> str:
    return f"{round(seconds)} s" if seconds < 120 else f"{seconds / 60:.0f} min"
