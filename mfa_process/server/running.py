"""The server for the life of a command (`exec --server`), or until Ctrl-C (`serve`).

Listening comes first, so a taken port fails before anyone is asked for a code; then the first
session (from the cache, or one prompt); only then are requests answered. The renewals run in
the calling (main) thread, the requests and the wait for the command in threads of their own.
"""

from __future__ import annotations

import threading
from typing import Callable, List, Mapping, Optional

from ..config.settings import Settings
from ..session.credentials import Credentials
from ..system import exit_status, forwarding_signals, start_command, stopping_signals
from .address import ListenAddress
from .endpoint import Endpoint
from .renewal import Renewal
from .sources import ServedCredentials, default_profile_shadow, served_credentials


class CredentialServer:
    """Listens on ``address`` once made; ``begin()`` gets the first session and starts answering."""

    def __init__(
        self,
        settings: Settings,
        environ: Mapping[str, str],
        address: ListenAddress,
        warn: Callable[[str], None],
        log: Callable[[str], None],
        role_profile: Optional[str] = None,
    ) -> None:
        self._stopped = threading.Event()
        self.served: ServedCredentials = served_credentials(
            settings, environ, warn, lambda: not self._stopped.is_set(), role_profile
        )
        self._lead = settings.lock_timeout  # the longest a renewal may take: every code source, then STS
        self._warn = warn
        self._log = log
        self._renewal: Optional[Renewal] = None
        self.endpoint = Endpoint(address, self._current, log)

    @property
    def url(self) -> str:
        return self.endpoint.url

    @property
    def token(self) -> str:
        return self.endpoint.token

    @property
    def region(self) -> Optional[str]:
        return self.served.region

    def begin(self, environ: Mapping[str, str]) -> None:
        """The first session (one prompt at most), then answering; ``environ``: the clients'."""
        shadow = default_profile_shadow(environ)
        if shadow:
            self._warn(shadow)
        first = self.served.fetch(None)
        self._renewal = Renewal(self.served.fetch, first, self.served.label, self._lead, self._log, self._warn)
        self.endpoint.start()

    def stop(self) -> None:
        self._stopped.set()
        if self._renewal is not None:
            self._renewal.stop()

    def close(self) -> None:
        self.stop()
        self.endpoint.close()

    def __enter__(self) -> "CredentialServer":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def serve_command(self, command: List[str], environ: Mapping[str, str]) -> int:
        """Run ``command`` with ``environ``, renewing until it exits; its status is ours."""
        renewal = self._started()
        child = start_command(command, dict(environ))

        def wait_for_command() -> None:
            child.wait()
            self.stop()

        with forwarding_signals(child):
            threading.Thread(target=wait_for_command, name="mfa-process-command", daemon=True).start()
            renewal.run(interrupt_stops=False)
        self.endpoint.close()
        return exit_status(child.wait())

    def serve_until_stopped(self, ready: Callable[[], None]) -> None:
        """Call ``ready`` (to say where the server is), then renew until Ctrl-C, SIGTERM or SIGHUP;
        a stop that comes while ``ready`` runs is as good as one later."""
        renewal = self._started()
        with stopping_signals():
            try:
                ready()
                renewal.run(interrupt_stops=True)
            except KeyboardInterrupt:
                pass

    def _current(self) -> Credentials:
        return self._started().current()

    def _started(self) -> Renewal:
        if self._renewal is None:
            raise RuntimeError("begin() first")
        return self._renewal
