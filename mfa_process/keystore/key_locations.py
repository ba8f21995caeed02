"""Where each base profile's key lives and how old it is, from the AWS files alone (for
`status`: the keyring itself is not opened, so nothing asks to unlock it)."""

from __future__ import annotations

from typing import List, Mapping, Optional

from ..config.aws_files import all_profiles, files_with_keys, merge_profile
from .key_facts import KeyAge, in_keyring, key_age


class KeyLocation:
    __slots__ = ("profile", "where", "age")

    def __init__(self, profile: str, where: str, age: Optional[KeyAge]) -> None:
        self.profile = profile
        self.where = where  # "keyring", a file's path, or "nowhere"
        self.age = age


def key_locations(environ: Mapping[str, str]) -> List[KeyLocation]:
    """Every base profile: one with an mfa_serial, or whose keys are in the keyring."""
    found = []
    for name, (from_config, from_credentials) in all_profiles(environ).items():
        profile = merge_profile(from_config, from_credentials)
        if not profile.get("mfa_serial") and not in_keyring(profile):
            continue
        if profile.get("credential_process") or profile.get("role_arn"):
            continue  # a profile that gets its keys elsewhere (an mfa-process profile itself)
        found.append(KeyLocation(name, _where(profile, from_config, from_credentials, environ), key_age(profile)))
    return found


def _where(
    profile: Mapping[str, str],
    from_config: Mapping[str, str],
    from_credentials: Mapping[str, str],
    environ: Mapping[str, str],
) -> str:
    if in_keyring(profile):
        return "keyring"
    files = files_with_keys(dict(from_config), dict(from_credentials), environ)
    return files[0] if files else "nowhere"
