"""RFC 6238 TOTP codes (HMAC-SHA1, 30-second step, 6 digits), as virtual MFA apps make them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import time

STEP = 30
DIGITS = 6


def _key(secret_b32: str) -> bytes:
    """Decode a base32 secret the way authenticator apps do (case, spaces and padding ignored)."""
    s = secret_b32.replace(" ", "").upper().rstrip("=")
    return base64.b32decode(s + "=" * (-len(s) % 8))


def hotp(secret_b32: str, counter: int) -> str:
    """RFC 4226 HOTP code for one counter value."""
    mac = hmac.new(_key(secret_b32), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**DIGITS).zfill(DIGITS)


def counter_at(at: float | None = None) -> int:
    """Index of the 30-second window that holds time `at` (default: now)."""
    return int((time.time() if at is None else at) // STEP)


def totp(secret_b32: str, at: float | None = None) -> str:
    """TOTP code valid at Unix time `at` (default: now)."""
    return hotp(secret_b32, counter_at(at))


def code(secret_b32: str, offset: int = 0) -> str:
    """Code of the current 30-second window moved by `offset` windows (-1 = previous)."""
    return hotp(secret_b32, counter_at() + offset)
