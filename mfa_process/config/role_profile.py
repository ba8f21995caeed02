"""A role profile for the server's `--role-profile`: the role to assume with the MFA session.

Read as botocore reads an assume-role profile (role_arn, external_id, role_session_name,
duration_seconds, region), every value checked before it goes to STS. The profile's own
source_profile and mfa_serial are not used: the server's source is always the MFA session of
`--profile`, which carries the MFA context the role's trust policy asks for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Mapping, Optional

from ..errors import RoleProfileError
from .aws_files import merge_profile, read_profile

# AWS caps a role session assumed with temporary credentials (role chaining) at one hour; a
# session from GetSessionToken is such a source.
ROLE_CHAINING_MAX_SECONDS = 3600
MIN_ROLE_SECONDS = 900
_ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::[0-9]{12}:role/[\w+=,.@/-]{1,512}")
_EXTERNAL_ID = re.compile(r"[\w+=,.@:/-]{2,1224}")
_SESSION_NAME = re.compile(r"[\w+=,.@-]{2,64}")
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]{1,2}")


@dataclass(frozen=True)
class RoleProfile:
    name: str
    role_arn: str
    external_id: Optional[str]
    session_name: Optional[str]
    duration: int
    region: Optional[str]

    @property
    def account_id(self) -> str:
        return self.role_arn.split(":")[4]


def read_role_profile(name: str, environ: Mapping[str, str], warn: Callable[[str], None]) -> RoleProfile:
    """Profile ``name`` as a role to assume, or RoleProfileError naming what to fix; ``warn``
    hears that a duration above the role-chaining cap is served at the cap."""
    profile = merge_profile(*read_profile(name, environ))
    role_arn = profile.get("role_arn", "")
    if not role_arn:
        raise RoleProfileError(
            f"profile '{name}' has no role_arn, so it is not a role profile; "
            "give --role-profile a profile with role_arn = arn:aws:iam::ACCOUNT:role/NAME"
        )
    if not _ROLE_ARN.fullmatch(role_arn):
        raise RoleProfileError(
            f"role_arn of profile '{name}' is not a role ARN ({_shown(role_arn)}); "
            "write it as arn:aws:iam::123456789012:role/NAME"
        )
    external_id = _optional(profile, "external_id", _EXTERNAL_ID, name, "2 to 1224 of letters, digits and +=,.@:/-")
    session_name = _optional(profile, "role_session_name", _SESSION_NAME, name, "2 to 64 of letters, digits and +=,.@-")
    region = _optional(profile, "region", _REGION, name, "a region name such as eu-west-1")
    return RoleProfile(name, role_arn, external_id, session_name, _duration(profile, name, warn), region)


def _optional(profile: Mapping[str, str], key: str, shape: "re.Pattern[str]", name: str, wanted: str) -> Optional[str]:
    value = profile.get(key)
    if value is None or value == "":
        return None
    if not shape.fullmatch(value):
        raise RoleProfileError(f"{key} of profile '{name}' is not valid ({_shown(value)}); it must be {wanted}")
    return value


def _duration(profile: Mapping[str, str], name: str, warn: Callable[[str], None]) -> int:
    text = profile.get("duration_seconds", "").strip()
    if not text:
        return ROLE_CHAINING_MAX_SECONDS
    if not text.isdigit() or not MIN_ROLE_SECONDS <= int(text) <= 43200:
        raise RoleProfileError(
            f"duration_seconds of profile '{name}' is {_shown(text)}; it must be a whole number of seconds, "
            f"{MIN_ROLE_SECONDS}..{ROLE_CHAINING_MAX_SECONDS} for a role assumed with an MFA session"
        )
    if int(text) > ROLE_CHAINING_MAX_SECONDS:
        warn(
            f"duration_seconds {text} of profile '{name}' is more than AWS allows a role assumed with an MFA "
            f"session (role chaining); its sessions last {ROLE_CHAINING_MAX_SECONDS} s and are renewed"
        )
        return ROLE_CHAINING_MAX_SECONDS
    return int(text)


def _shown(value: str) -> str:
    """A value from the file as it may be quoted in a message: bounded, one line."""
    return repr(value[:80] + ("..." if len(value) > 80 else ""))
