"""What the server hands out: the MFA session of the base profile, through the plugin's own
cache, lock and code sources; or, with `--role-profile`, a role assumed with that session."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Optional

from ..config.aws_files import all_profiles, credential_settings, merge_profile
from ..config.role_profile import read_role_profile
from ..config.settings import Settings
from ..session.assumed_role import AssumedRoleProvider
from ..session.chain import build_provider
from ..session.credentials import Credentials


class MfaSession:
    """``(min_remaining)`` -> the session the plugin would serve, renewed when it has no more than
    ``min_remaining`` seconds left. A renewal neither forces a new session (a newer one another
    process cached is taken) nor reuses the command line's --token-code (used up by then)."""

    def __init__(
        self,
        settings: Settings,
        environ: Mapping[str, str],
        warn: Callable[[str], None],
        still_wanted: Callable[[], bool],
    ) -> None:
        self.settings = settings
        self.environ = environ
        self.warn = warn
        self.still_wanted = still_wanted

    def __call__(self, min_remaining: Optional[int]) -> Credentials:
        settings = self.settings
        if min_remaining is not None:
            settings = settings.replaced(refresh=False, token_code=None, min_remaining=min_remaining)
        return build_provider(settings, self.environ, self.warn, self.still_wanted).retrieve()


@dataclass(frozen=True)
class ServedCredentials:
    fetch: Callable[[Optional[int]], Credentials]
    label: str  # for messages: "profile 'base'", "role profile 'admin'"
    region: Optional[str]  # for the command's environment


def served_credentials(
    settings: Settings,
    environ: Mapping[str, str],
    warn: Callable[[str], None],
    still_wanted: Callable[[], bool],
    role_profile: Optional[str] = None,
) -> ServedCredentials:
    """The chain the server serves from, as build_provider is the plugin's."""
    session = MfaSession(settings, environ, warn, still_wanted)
    if role_profile is None:
        return ServedCredentials(session, f"profile '{settings.profile}'", settings.region)
    role = read_role_profile(role_profile, environ, warn)
    provider = AssumedRoleProvider(
        role, session, settings.profile, settings.region or settings.device.default_region, settings.sts_timeout
    )
    return ServedCredentials(provider.retrieve, f"role profile '{role_profile}'", role.region or settings.region)


def default_profile_shadow(environ: Mapping[str, str]) -> Optional[str]:
    """Why the SDKs in the command would not ask the server, if they would not: without
    AWS_PROFILE they read the default profile first, and credentials there come before the
    container endpoint in every SDK's chain."""
    parts = all_profiles(environ).get("default")
    found = credential_settings(merge_profile(*parts)) if parts else []
    if not found:
        return None
    return (
        f"the default profile has {', '.join(found)}: SDKs use that before the server's credentials; "
        "move them to a named profile"
    )
