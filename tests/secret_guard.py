"""One guard for the whole suite: no known secret in anything but the contract's stdout.

Every test gets a SecretGuard (tests/conftest.py, autouse). It knows the fixtures' secrets (the
default user's secret key and TOTP seed, the secret of every access key the test's STS double made
with IAM CreateAccessKey, and every session secret and token it issued) and fails the test when
one shows up in:

- what pytest captured during the test: stderr and log records;
- the text of every MfaProcessError raised in the test process (caught by pytest.raises or not);
- the stderr of every mfa-process run through ``AwsHome.run``, and the terminal transcript of
  every process started with ``spawn`` (long-term secrets only: the contract JSON is printed on
  that same terminal and legitimately holds the session's keys).
"""

from __future__ import annotations

from typing import Dict, Iterable, List, Protocol, Tuple, Union

from sts_double import DEFAULT_USER, StsDouble, User

# Shorter values (test placeholders such as "s") would match by accident.
_SHORTEST_SECRET = 16


def long_term_secrets(users: Iterable[User]) -> Dict[str, str]:
    """Secrets that must never appear anywhere: they are not even on the contract's stdout."""
    found: Dict[str, str] = {}
    for user in users:
        found[user.secret_access_key] = f"the secret access key of IAM user {user.name}"
        found[user.totp_secret] = f"the TOTP seed of IAM user {user.name}"
    return found


class Transcript(Protocol):
    """Output still being written (a pexpect child's log): read when the test ends."""

    def getvalue(self) -> str: ...


class SecretGuard:
    def __init__(self) -> None:
        self._texts: List[Tuple[str, Union[str, Transcript], bool]] = []  # (where, text, may hold session keys)
        self._doubles: List[StsDouble] = []
        self._users: List[User] = [DEFAULT_USER]

    def watch_double(self, double: StsDouble) -> None:
        """Also know every user, every access key and every session this double has."""
        self._doubles.append(double)

    def watch_user(self, user: User) -> None:
        self._users.append(user)

    def check(self, where: str, text: Union[None, str, Transcript], contract_channel: bool = False) -> None:
        """Record ``text`` to be checked at the end of the test. ``contract_channel``: the text
        may carry the contract JSON (a terminal), so only long-term secrets count there."""
        if text:
            self._texts.append((where, text, contract_channel))

    def secrets(self, contract_channel: bool = False) -> Dict[str, str]:
        users = list(self._users)
        for double in self._doubles:
            users.extend(double.users())
        found = long_term_secrets(users)
        for double in self._doubles:  # rotated-in keys are as long-lived as the users' own
            for access_key_id, secret in double.created_keys():
                found[secret] = f"the secret access key of {access_key_id} (made by CreateAccessKey)"
        if not contract_channel:
            for double in self._doubles:
                for access_key_id, secret, token in double.issued_sessions():
                    found[secret] = f"the secret key of session {access_key_id}"
                    found[token] = f"the session token of session {access_key_id}"
        return {secret: name for secret, name in found.items() if len(secret) >= _SHORTEST_SECRET}

    def leaks(self, extra: Iterable[Tuple[str, str]] = ()) -> List[str]:
        """One line per (place, secret) found; ``extra``: more (where, text) pairs to check."""
        everywhere, long_term = self.secrets(), self.secrets(contract_channel=True)
        found = []
        texts = [*self._texts, *((where, text, False) for where, text in extra)]
        for where, recorded, contract_channel in texts:
            text = recorded if isinstance(recorded, str) else recorded.getvalue()
            for secret, name in (long_term if contract_channel else everywhere).items():
                if secret in text:
                    found.append(f"{name} appears in {where}")
        return sorted(set(found))
