"""Secret values out of anything mfa-process writes to stderr (messages, --verbose tracebacks).

botocore puts whole response bodies in some exceptions, and a traceback can show a config line or
a dict: every value of a secret-looking field is replaced, whatever the form (XML, JSON, a Python
repr, ``name = value``). The field names stay, so a reader still sees what was there.
"""

from __future__ import annotations

import re

PLACEHOLDER = "[redacted]"

_NAMES = (
    r"(?:SecretAccessKey|SessionToken|Token|aws_secret_access_key|aws_session_token|aws_security_token"
    r"|secret_access_key|session_token|X-Amz-Security-Token)"
)
# <SecretAccessKey>value</SecretAccessKey>, or cut off before its end tag (up to the end of the line)
_XML = re.compile(rf"(<{_NAMES}>)[^<\n]*", re.IGNORECASE)
# "SecretAccessKey": "value" (JSON) and 'SecretAccessKey': 'value' (a Python repr), even cut off
_QUOTED = re.compile(rf"""(["']{_NAMES}["']\s*:\s*)(["'])(?:\\.|(?!\2).)*\2?""", re.IGNORECASE)
# aws_secret_access_key = value, AWS_SESSION_TOKEN=value, SessionToken='value', X-Amz-Security-Token: value
_ASSIGNED = re.compile(rf"""(\b{_NAMES}\s*[=:]\s*)("[^"\n]*"?|'[^'\n]*'?|[^\s&,;"'<>]+)""", re.IGNORECASE)

# scheme://user:password@host: botocore's connection errors print the endpoint URL whole
_USERINFO = re.compile(r"(\b[A-Za-z][A-Za-z0-9+.-]*://)[^\s/@]+@")
# Controls (C0, DEL, C1), format characters (bidi overrides), surrogates, private and unassigned
# code points, line and paragraph separators: none reaches a terminal from a message.
_UNSAFE_CATEGORIES = ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")
_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def redact(text: str) -> str:
    """``text`` with the value of every secret-looking field replaced by ``[redacted]``, and any
    user:password in a URL too."""
    text = _XML.sub(rf"\1{PLACEHOLDER}", text)
    text = _QUOTED.sub(rf"\1\2{PLACEHOLDER}\2", text)
    text = _USERINFO.sub(rf"\1{PLACEHOLDER}@", text)
    return _ASSIGNED.sub(rf"\1{PLACEHOLDER}", text)


def printable(text: str, keep: str = "") -> str:
    """``text`` as the terminal should get it: error texts come from the network and from files,
    and a line break would forge another "mfa-process:" line, an escape sequence retitle or clear
    the screen. Every unsafe character but those in ``keep`` is shown Python-style (\\n, \\x9b)."""
    import unicodedata

    return "".join(
        _escape(char) if char not in keep and unicodedata.category(char) in _UNSAFE_CATEGORIES else char
        for char in text
    )


def _escape(char: str) -> str:
    if char in _NAMED_ESCAPES:
        return _NAMED_ESCAPES[char]
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"
