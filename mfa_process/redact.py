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


def redact(text: str) -> str:
    """``text`` with the value of every secret-looking field replaced by ``[redacted]``."""
    text = _XML.sub(rf"\1{PLACEHOLDER}", text)
    text = _QUOTED.sub(rf"\1\2{PLACEHOLDER}\2", text)
    return _ASSIGNED.sub(rf"\1{PLACEHOLDER}", text)
