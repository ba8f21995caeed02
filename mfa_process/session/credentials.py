"""MFA session credentials and the credential_process JSON contract."""

from __future__ import annotations

import json
import time

from ..config.settings import REFRESH_MARGIN_SECONDS

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing on the cache-hit path
if TYPE_CHECKING:
    from typing import Any, Dict, Optional

__all__ = ["REFRESH_MARGIN_SECONDS", "Credentials", "served_until"]


def served_until(expires_at: int, mfa_authenticated_at: float, max_mfa_age: Optional[int]) -> int:
    """When a session stops being usable under a policy on aws:MultiFactorAuthAge: its
    expiration, or its MFA time plus the max age (in whole seconds, never later), if sooner."""
    if max_mfa_age is None:
        return expires_at
    return min(expires_at, int(mfa_authenticated_at) + max_mfa_age)


class Credentials:
    """Session keys; ``expires_at`` is Unix time in seconds.

    A plain class, not a dataclass: this module is on the cache-hit path, and importing
    dataclasses costs more than reading the cache.
    """

    __slots__ = ("access_key_id", "secret_access_key", "session_token", "expires_at", "account_id")

    def __init__(
        self,
        access_key_id: str,
        secret_access_key: str,
        session_token: str,
        expires_at: int,
        account_id: Optional[str] = None,
    ) -> None:
        self.access_key_id = access_key_id
        self.secret_access_key = secret_access_key
        self.session_token = session_token
        self.expires_at = expires_at
        self.account_id = account_id

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Credentials) and all(
            getattr(self, name) == getattr(other, name) for name in self.__slots__
        )

    def __repr__(self) -> str:  # never the secret or the token
        return f"Credentials({self.access_key_id}, expires {self.expiration})"

    def seconds_left(self, now: float) -> float:
        return self.expires_at - now

    def is_servable(self, now: float) -> bool:
        """True while an SDK given these keys will not ask for new ones straight away."""
        return self.seconds_left(now) > REFRESH_MARGIN_SECONDS

    def until(self, expires_at: int) -> "Credentials":
        """The same keys, said to expire at ``expires_at`` (the MFA max age cuts their life short:
        the SDKs then come back in time)."""
        if expires_at == self.expires_at:
            return self
        return Credentials(self.access_key_id, self.secret_access_key, self.session_token, expires_at, self.account_id)

    @property
    def expiration(self) -> str:
        """UTC in the one form every SDK parses alike."""
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.expires_at))

    def process_output(self) -> Dict[str, Any]:
        """The credential_process object: Version 1 and the five (or six) fields SDKs read."""
        output: Dict[str, Any] = {
            "Version": 1,
            "AccessKeyId": self.access_key_id,
            "SecretAccessKey": self.secret_access_key,
            "SessionToken": self.session_token,
            "Expiration": self.expiration,
        }
        if self.account_id:
            output["AccountId"] = self.account_id
        return output

    def container_output(self) -> Dict[str, Any]:
        """The container-credentials (ECS) answer: the same keys, as `Token`."""
        output = {
            "AccessKeyId": self.access_key_id,
            "SecretAccessKey": self.secret_access_key,
            "Token": self.session_token,
            "Expiration": self.expiration,
        }
        if self.account_id:
            output["AccountId"] = self.account_id
        return output

    def to_json(self) -> str:
        return json.dumps(self.process_output(), indent=2)

    @classmethod
    def from_process_output(cls, data: Any, expires_at: Any) -> Optional["Credentials"]:
        """Rebuild from a stored contract object; None if anything is missing or mistyped."""
        if not isinstance(data, dict) or type(data.get("Version")) is not int or data["Version"] != 1:
            return None
        access_key_id, secret_access_key, session_token = (
            data.get("AccessKeyId"),
            data.get("SecretAccessKey"),
            data.get("SessionToken"),
        )
        if not (
            isinstance(access_key_id, str) and isinstance(secret_access_key, str) and isinstance(session_token, str)
        ):
            return None
        if not (access_key_id and secret_access_key and session_token):
            return None
        if not isinstance(expires_at, int) or isinstance(expires_at, bool):
            return None
        account_id = data.get("AccountId")
        credentials = cls(
            access_key_id, secret_access_key, session_token, expires_at, account_id if _text(account_id) else None
        )
        try:
            consistent = credentials.expiration == data.get("Expiration")
        except (OverflowError, ValueError, OSError):  # expires_at beyond what the platform's time holds
            return None
        return credentials if consistent else None


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value)
