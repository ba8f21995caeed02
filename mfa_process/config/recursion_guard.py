"""Stop mfa-process from calling itself to get its own base keys.

While botocore resolves the base keys, an environment variable names the profile. A
credential_process that botocore starts inherits it; if that process is mfa-process again
(directly or through source_profile chains), it stops at once instead of recursing.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing on the cache-hit path
if TYPE_CHECKING:
    from typing import Mapping, Optional

RESOLVING_ENV = "MFA_PROCESS_RESOLVING_PROFILE"
_MARK = "gets its base keys through mfa-process itself"


def resolving_profile(environ: Mapping[str, str]) -> Optional[str]:
    """The profile whose base keys another mfa-process is resolving, if we run inside that."""
    return environ.get(RESOLVING_ENV) or None


def calls_mfa_process(credential_process: str) -> bool:
    """True when a profile's own credential_process is mfa-process."""
    return "mfa-process" in credential_process or "mfa_process" in credential_process


def check_not_resolving(environ: Mapping[str, str]) -> None:
    """Refuse to run inside another mfa-process's base-key resolution."""
    outer = resolving_profile(environ)
    if outer:
        from ..errors import RecursiveProfileError  # here: the cache hit imports no error classes

        raise RecursiveProfileError(recursion_message(outer))


def check_credential_process(profile_name: str, credential_process: str) -> None:
    """Refuse a base profile whose own credential_process is mfa-process."""
    if calls_mfa_process(credential_process):
        from ..errors import RecursiveProfileError

        raise RecursiveProfileError(recursion_message(profile_name))


def is_recursion_report(text: str) -> bool:
    """True when ``text`` (a failed child's stderr, as botocore reports it) is our refusal."""
    return _MARK in text


def recursion_message(profile_name: str) -> str:
    return (
        f"profile '{profile_name}' {_MARK}; --profile must name a profile with long-term access keys, "
        "not one whose credential_process or source_profile leads back to mfa-process"
    )


class Resolving:
    """Context manager: mark this process (and its children) as resolving a profile's base keys.

    A class rather than @contextmanager, to keep contextlib off the cache-hit path.
    """

    def __init__(self, profile_name: str) -> None:
        self.profile_name = profile_name
        self.previous: Optional[str] = None

    def __enter__(self) -> None:
        self.previous = os.environ.get(RESOLVING_ENV)
        os.environ[RESOLVING_ENV] = self.profile_name

    def __exit__(self, *exc_info: object) -> None:
        if self.previous is None:
            os.environ.pop(RESOLVING_ENV, None)
        else:
            os.environ[RESOLVING_ENV] = self.previous
