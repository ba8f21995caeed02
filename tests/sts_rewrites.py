"""Wrong answers the STS double can give instead of its own: what a proxy, a captive portal or a
broken STS-compatible endpoint sends back.

The double runs in a process of its own (tests/sts_double.py), so a test cannot hand it a lambda:
it names one of this module's functions and gives JSON-able arguments, ``Rewrite(page, 502,
"text/html", "<html>...")``, and the double's process calls ``function(status, content_type,
body, *args)`` on every answer. Each function returns the (status, content type, body) to send.
"""

from __future__ import annotations

import calendar
import re
import time
from typing import Any, Callable, Dict, Tuple

Answer = Tuple[int, str, str]  # (HTTP status, Content-Type, body)


def page(status: int, kind: str, body: str, new_status: int, content_type: str, text: str) -> Answer:
    """Whatever STS said, this page instead (a proxy's sign-in page, an empty answer)."""
    return new_status, content_type, text


def aws_error_instead_of_success(status: int, kind: str, body: str, code: str, message: str) -> Answer:
    """A success becomes a 403 AWS error document whose message is ``message``, unescaped."""
    if status != 200:
        return status, kind, body
    document = (
        f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
        f"<Message>{message}</Message></Error><RequestId>1</RequestId></ErrorResponse>"
    )
    return 403, "text/xml", document


def cut_end(status: int, kind: str, body: str, characters: int) -> Answer:
    """The answer without its last ``characters`` characters (a connection cut short)."""
    return status, kind, body[:-characters]


def cut_inside_session_token(status: int, kind: str, body: str, characters: int) -> Answer:
    """A success cut ``characters`` before the end of its SessionToken (a truncated document)."""
    return status, kind, body[: body.index("</SessionToken>") - characters] if status == 200 else body


def strip_field(status: int, kind: str, body: str, name: str) -> Answer:
    """The element ``name`` removed, with the white space before it."""
    return status, kind, re.sub(rf"\s*<{name}>.*?</{name}>", "", body, flags=re.S)


def empty_field(status: int, kind: str, body: str, name: str) -> Answer:
    """The element ``name`` kept, with nothing in it."""
    return status, kind, re.sub(rf"<{name}>.*?</{name}>", f"<{name}></{name}>", body, flags=re.S)


def replace_field_text(status: int, kind: str, body: str, name: str, text: str) -> Answer:
    """The text of the element ``name`` replaced by ``text`` (a garbled value)."""
    return status, kind, re.sub(rf"<{name}>.*?<", f"<{name}>{text}<", body, flags=re.S)


def pad_field(status: int, kind: str, body: str, name: str, filler: str, count: int) -> Answer:
    """``count`` times ``filler`` put in front of the element ``name``'s text (an oversized answer)."""
    return status, kind, body.replace(f"<{name}>", f"<{name}>{filler * count}")


def shift_expiration(status: int, kind: str, body: str, hours: float) -> Answer:
    """The Expiration moved ``hours`` later and written without a zone: an endpoint's local time,
    which botocore reads as UTC."""
    match = re.search(r"<Expiration>(.*?)Z</Expiration>", body)
    if not match:
        return status, kind, body
    epoch = calendar.timegm(time.strptime(match.group(1), "%Y-%m-%dT%H:%M:%S"))
    naive_local = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch + hours * 3600))
    return status, kind, body.replace(match.group(0), f"<Expiration>{naive_local}</Expiration>")


RewriteFunction = Callable[..., Answer]
CATALOG: Dict[str, RewriteFunction] = {
    function.__name__: function
    for function in (
        page,
        aws_error_instead_of_success,
        cut_end,
        cut_inside_session_token,
        strip_field,
        empty_field,
        replace_field_text,
        pad_field,
        shift_expiration,
    )
}


class Rewrite:
    """One of this module's functions and its arguments: a value that crosses to the double's
    process as JSON (``to_json``/``from_json``) and is called there on every answer."""

    def __init__(self, function: RewriteFunction | str, *args: Any) -> None:
        name = function if isinstance(function, str) else function.__name__
        if CATALOG.get(name) is None or (not isinstance(function, str) and CATALOG[name] is not function):
            raise ValueError(f"{name!r} is not a rewrite of tests/sts_rewrites.py (a test cannot send a lambda)")
        self.name = name
        self.args = args

    def __call__(self, status: int, kind: str, body: str) -> Answer:
        return CATALOG[self.name](status, kind, body, *self.args)

    def __repr__(self) -> str:
        return f"Rewrite({self.name}{''.join(', ' + repr(arg)[:40] for arg in self.args)})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Rewrite) and (self.name, self.args) == (other.name, other.args)

    def __hash__(self) -> int:
        return hash((self.name, self.args))

    def to_json(self) -> Dict[str, Any]:
        return {"name": self.name, "args": list(self.args)}

    @classmethod
    def from_json(cls, data: Dict[str, Any]) -> Rewrite:
        return cls(data["name"], *data["args"])
