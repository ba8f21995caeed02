"""What names a cached session, shared by the cache and its read-only hit path.

Two sessions are interchangeable when they were issued for the same base profile and key, MFA
device and duration; the cache file's name is derived from exactly that.
"""

from __future__ import annotations

try:  # CPython's own SHA-256: hashlib would load OpenSSL first, ~3 ms on every cache hit
    from _sha256 import sha256  # Python < 3.12
except ImportError:
    try:
        from _sha2 import sha256  # Python >= 3.12
    except ImportError:
        from hashlib import sha256

_FILENAME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")


class SessionKey:
    """Same base profile and keys, device, duration: the same session."""

    __slots__ = ("profile", "base_access_key_id", "mfa_serial", "duration")

    def __init__(self, profile: str, base_access_key_id: str, mfa_serial: str, duration: int) -> None:
        self.profile = profile
        self.base_access_key_id = base_access_key_id
        self.mfa_serial = mfa_serial
        self.duration = duration

    @property
    def file_stem(self) -> str:
        """`<readable profile>.<24 hex digits>`: readable in a listing, unique by the hash."""
        identity = "\0".join((self.profile, self.base_access_key_id, self.mfa_serial, str(self.duration)))
        digest = sha256(identity.encode("utf-8")).hexdigest()[:24]
        readable = "".join(char if char in _FILENAME_CHARS else "_" for char in self.profile[:48])
        if readable.startswith("."):  # hidden files are temp files here, and not listed
            readable = "_" + readable[1:]
        return f"{readable}.{digest}"
