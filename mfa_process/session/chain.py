"""The provider chain for one base profile, built from its resolved Settings: the cache in
front of GetSessionToken in front of a code source (the --token-code, or the source mfa_prompt
picks), as botocore's create_credential_resolver and aws-vault's vault/ build theirs.

The CLI calls ``build_provider`` and formats what comes back; it builds nothing itself. Only
the cache is imported here: the STS call, the code sources and botocore load on a miss.
"""

from __future__ import annotations

from .cache import SessionCache
from .cache_dir import default_cache_dir
from .cached_provider import CachedSessionProvider

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing on the cache-hit path
if TYPE_CHECKING:
    from typing import Callable, Mapping, Optional

    from ..config.settings import Settings
    from ..prompt import CodeSource
    from ..watchdog import Watchdog
    from .cached_provider import Announce
    from .session_token import SessionTokenProvider


def session_cache(environ: Mapping[str, str]) -> SessionCache:
    """The cache every command reads and writes, in this user's cache folder."""
    return SessionCache(default_cache_dir(environ))


def build_provider(
    settings: Settings,
    environ: Mapping[str, str],
    warn: Callable[[str], None],
    still_wanted: Optional[Callable[[], bool]] = None,
) -> CachedSessionProvider:
    """The chain for ``settings``; ``warn`` hears what the cache did not trust.

    Every wait for a person (prompt, dialog, helper command) is bounded by the prompt timeout,
    the wait for another process's lock by the lock timeout, and each ends as soon as the
    program that started us is gone, or ``still_wanted()`` turns false (a server stopping)."""
    from ..system import CallerWatch

    watch = CallerWatch()  # first thing: it remembers our caller
    wanted = still_wanted or (lambda: True)
    miss = MissPath(settings, environ, lambda: watch.alive() and wanted())
    return CachedSessionProvider(session_cache(environ), settings, miss.open_upstream, miss.lock_watchdog, warn=warn)


class MissPath:
    """What only a miss uses, each part made when it is first needed."""

    def __init__(self, settings: Settings, environ: Mapping[str, str], caller_alive: Callable[[], bool]) -> None:
        self.settings = settings
        self.environ = environ
        self.caller_alive = caller_alive

    def lock_watchdog(self) -> Watchdog:
        from ..watchdog import Watchdog

        return Watchdog(self.settings.lock_timeout, self.caller_alive)

    def prompt_watchdog(self) -> Watchdog:
        from ..errors import login_hint
        from ..watchdog import Watchdog

        return Watchdog(self.settings.prompt_timeout, self.caller_alive, login_hint(self.settings.profile))

    def open_upstream(self, announce: Announce) -> SessionTokenProvider:
        """GetSessionToken with the base keys botocore resolves, or the keyring holds (the slow
        part of a miss: only the process that holds the lock reads the keyring)."""
        from .base_keys import open_base_session, open_keyring_session
        from .session_token import SessionTokenProvider

        settings = self.settings
        if settings.key_store:
            assert settings.known_base_access_key_id is not None  # set for every keyring profile
            cache_name = settings.known_base_access_key_id
            base = open_keyring_session(settings.profile, self.environ, settings.prompt_timeout, cache_name)
        else:
            base = open_base_session(settings.profile)
        return SessionTokenProvider(
            settings,
            base,
            self.code_source(announce),
            on_calling_sts=lambda endpoint: announce(
                f"waiting on STS at {endpoint} (for up to {settings.sts_timeout:g} s)"
            ),
        )

    def code_source(self, announce: Announce) -> CodeSource:
        if self.settings.token_code is not None:
            from ..prompt.token_code import TokenCode

            return TokenCode(self.settings.token_code)
        return ChosenWhenAsked(self.choose_code_source, announce, self.settings.profile)

    def choose_code_source(self) -> CodeSource:
        from ..prompt.choose import code_source

        settings = self.settings
        return code_source(
            settings.prompt,
            settings.profile,
            settings.mfa_process_command,
            settings.oath_account,
            self.prompt_watchdog,
            self.environ,
        )


class ChosenWhenAsked:
    """The code source, picked only when a code is needed: a waiter that finds the session
    cached after the lock must not fail for want of a terminal. Each time it asks, processes
    waiting on our lock hear that we are asking."""

    __slots__ = ("_choose", "_announce", "_profile", "_chosen")

    def __init__(self, choose: Callable[[], CodeSource], announce: Announce, profile: str) -> None:
        self._choose = choose
        self._announce = announce
        self._profile = profile
        self._chosen: Optional[CodeSource] = None

    def __call__(self, mfa_serial: str, notice: Optional[str]) -> str:
        from .lock import asking_for_code

        self._announce(asking_for_code(self._profile))
        if self._chosen is None:
            self._chosen = self._choose()
        return self._chosen(mfa_serial, notice)
