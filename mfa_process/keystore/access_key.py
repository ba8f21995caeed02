"""An IAM user's long-term access key, checked for shape before it is stored anywhere."""

from __future__ import annotations

import re
from typing import Optional

from ..errors import InvalidKeyError

# IAM user keys: AKIA + 16 of A-Z and 2-7 (AWS's own base32); the secret: 40 of base64's alphabet.
KEY_ID_SHAPE = r"AKIA[A-Z0-9]{16}"
_KEY_ID = re.compile(KEY_ID_SHAPE)
_SECRET = re.compile(r"[A-Za-z0-9/+]{40}")


class AccessKey:
    """An access key ID and its secret. The secret never appears in ``repr`` or ``str``."""

    __slots__ = ("access_key_id", "secret_access_key")

    def __init__(self, access_key_id: str, secret_access_key: str) -> None:
        self.access_key_id = access_key_id
        self.secret_access_key = secret_access_key

    def __repr__(self) -> str:
        return f"AccessKey({self.access_key_id!r}, <secret>)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, AccessKey)
            and other.access_key_id == self.access_key_id
            and other.secret_access_key == self.secret_access_key
        )

    def __hash__(self) -> int:
        return hash(self.access_key_id)


def parse_access_key(access_key_id: Optional[str], secret_access_key: Optional[str], source: str) -> AccessKey:
    """The key, or InvalidKeyError saying what is wrong with it (never quoting the secret).

    ``source`` says where the values came from, for the message ("the terminal", "the environment").
    """
    key_id = (access_key_id or "").strip()
    secret = (secret_access_key or "").strip()
    if not key_id or not secret:
        missing = "access key ID" if not key_id else "secret access key"
        raise InvalidKeyError(f"no {missing} in {source}")
    if key_id.startswith("ASIA"):
        raise InvalidKeyError(
            f"the access key ID from {source} starts with ASIA: it is temporary; store the long-term "
            "key of an IAM user (AKIA...)"
        )
    if not _KEY_ID.fullmatch(key_id):
        shown = key_id if key_id.isascii() and key_id.isprintable() and len(key_id) <= 32 else "(not shown)"
        raise InvalidKeyError(
            f"the access key ID from {source} ({shown}) is not an IAM user's key: 20 characters, AKIA "
            "followed by capital letters and digits"
        )
    if not _SECRET.fullmatch(secret):
        raise InvalidKeyError(
            f"the secret access key from {source} is not 40 characters of letters, digits, / and + "
            f"(it has {len(secret)}); copy it again"
        )
    return AccessKey(key_id, secret)
