"""Where the server may listen: an IP literal, loopback unless asked otherwise in so many words.

SDKs take a plain-http credentials endpoint only on a loopback address (botocore, the JS SDK) or
ECS's link-local ones; anything else can be reached by other machines or containers, which then
need only the token. Wildcards are never taken, nor host names (what they resolve to can change).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Optional

from ..errors import BindAddressError

DEFAULT_HOST = "127.0.0.1"
_PORT = re.compile(r"[0-9]{1,5}")  # ASCII digits only: str.isdigit() takes '²' and '٣' too


@dataclass(frozen=True)
class ListenAddress:
    host: str  # the IP literal, as the socket takes it
    port: int  # 0: any free port
    ipv6: bool
    loopback: bool

    @property
    def url_host(self) -> str:
        return f"[{self.host}]" if self.ipv6 else self.host


def listen_address(bind: Optional[str], port: Optional[str]) -> ListenAddress:
    """The address ``--bind`` and ``--port`` ask for (default: 127.0.0.1, a free port)."""
    text = DEFAULT_HOST if bind is None else bind.strip()
    if text.lower() == "localhost":
        text = DEFAULT_HOST
    try:
        ip = ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        raise BindAddressError(f"--bind {bind!r} is not an IP address; use 127.0.0.1 (the default) or ::1") from None
    if ip.is_unspecified:
        raise BindAddressError(
            f"--bind {bind} would listen on every interface; use 127.0.0.1 (the default), ::1, "
            "or one address that only the intended clients can reach"
        )
    if ip.is_multicast:
        raise BindAddressError(f"--bind {bind} is a multicast address; use 127.0.0.1 (the default) or ::1")
    return ListenAddress(str(ip), _port(port), ip.version == 6, ip.is_loopback)


def _port(text: Optional[str]) -> int:
    if text is None:
        return 0
    if not _PORT.fullmatch(text) or not 1 <= int(text) <= 65535:
        raise BindAddressError(f"--port {text!r} is not a port number (1..65535); leave it out for a free port")
    return int(text)
