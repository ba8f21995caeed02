"""The OS keyring, through the ``keyring`` library: macOS Keychain, Windows Credential Manager,
the Secret Service on Linux (GNOME Keyring, KeePassXC, KWallet).

Only a miss, and the key commands, come here: ``keyring`` is imported by the first call. Only
backends that encrypt are used (ALLOWED_BACKENDS); one that stores in plain text, or none at
all, is refused with the fix: the point of the keyring is that no file holds the secret. Every
call is bounded in time, because a locked keyring may wait for a person at an unlock dialog.
"""

from __future__ import annotations

import json
import threading
from typing import AbstractSet, Any, Callable, List, Mapping, Optional, TypeVar

from ..errors import KeyringEntryError, KeyringError
from .access_key import AccessKey, parse_access_key

SERVICE = "mfa-process"  # the keyring's service name; the entry's user name is the base profile
ENTRY_VERSION = 1
DEFAULT_TIMEOUT = 60.0  # an unlock dialog is a prompt: as long as the default prompt timeout

# The backends that keep secrets encrypted or in the OS's own store. Any other is refused: some
# keep them in a plain file (keyrings.alt's and keyrings.cryptfile's PlaintextKeyring), some are
# no keyring at all (fail, null), some ask for a password on stdin, which an SDK owns.
ALLOWED_BACKENDS = frozenset(
    {
        "keyring.backends.macOS.Keyring",
        "keyring.backends.Windows.WinVaultKeyring",
        "keyring.backends.SecretService.Keyring",
        "keyring.backends.libsecret.Keyring",
        "keyring.backends.kwallet.DBusKeyring",
        "keyring.backends.kwallet.DBusKeyringKWallet4",
        "keyrings.cryptfile.cryptfile.CryptFileKeyring",
    }
)
EXTRA_BACKENDS_VARIABLE = "MFA_PROCESS_KEYRING_BACKENDS"  # module.Class, comma-separated
HEADLESS_FIX = (
    "on a Linux machine without a desktop, run a Secret Service (gnome-keyring-daemon in "
    "dbus-run-session) or `pip install keyrings.cryptfile` and set "
    "PYTHON_KEYRING_BACKEND=keyrings.cryptfile.cryptfile.CryptFileKeyring"
)

T = TypeVar("T")


class KeyringStore:
    """One base profile's key in the OS keyring: service ``mfa-process``, user name the profile."""

    def __init__(self, profile: str, environ: Mapping[str, str], timeout: float = DEFAULT_TIMEOUT) -> None:
        self.profile = profile
        self.timeout = timeout
        # another backend that encrypts (a password manager's plugin), allowed by its owner
        self.allowed = ALLOWED_BACKENDS | {
            name.strip() for name in environ.get(EXTRA_BACKENDS_VARIABLE, "").split(",") if name.strip()
        }

    def describe(self) -> str:
        return f"the keyring (service {SERVICE}, account {self.profile})"

    def load(self) -> Optional[AccessKey]:
        """The stored key, None when there is no entry."""
        text = self._call("read", lambda backend: backend.get_password(SERVICE, self.profile))
        if text is None:
            return None
        return _parse_entry(text, self.profile)

    def require(self) -> AccessKey:
        key = self.load()
        if key is None:
            raise KeyringEntryError(
                f"the keyring has no keys for profile '{self.profile}'; store them with "
                f"`mfa-process add --profile {self.profile}`"
            )
        return key

    def save(self, key: AccessKey, replacing: Optional[AccessKey] = None) -> None:
        """Store ``key`` and read it back: a backend that drops or alters it is an error, before
        anything else relies on it. With ``replacing``, only over that key (rotate)."""
        if replacing is not None and self.load() != replacing:
            raise KeyringEntryError(
                f"the keyring entry of profile '{self.profile}' is no longer key {replacing.access_key_id} (another "
                "program changed it meanwhile); nothing was written"
            )
        entry = json.dumps(
            {"Version": ENTRY_VERSION, "AccessKeyId": key.access_key_id, "SecretAccessKey": key.secret_access_key}
        )
        self._call("write", lambda backend: backend.set_password(SERVICE, self.profile, entry))
        if self.load() != key:
            raise KeyringError(
                f"the keyring did not keep the keys of profile '{self.profile}' (read back differently); "
                f"{self._backend_hint()}"
            )

    def exists(self) -> bool:
        """Whether there is an entry, readable or not."""
        return self._call("read", lambda backend: backend.get_password(SERVICE, self.profile)) is not None

    def delete(self) -> bool:
        """Remove the entry, whatever it holds; False when there was none."""
        if not self.exists():
            return False
        self._call("delete", lambda backend: backend.delete_password(SERVICE, self.profile))
        return True

    def _call(self, doing: str, operation: Callable[[Any], T]) -> T:
        backend = usable_backend(self.allowed)
        try:
            return _bounded(lambda: operation(backend), self.timeout, doing, self.profile)
        except KeyringError:
            raise
        except Exception as error:  # keyring's errors, and its backends' own (D-Bus, Keychain, ...)
            # from None: a backend's error may quote what it was given (the entry, secret included)
            raise KeyringError(_failure_message(doing, self.profile, error)) from None

    def _backend_hint(self) -> str:
        return f"the backend is {_backend_name(usable_backend(self.allowed))}"


def usable_backend(allowed: AbstractSet[str]) -> Any:
    """The backend to use: the one the keyring library chose when it is ``allowed``; of a chain
    (keyring chains the backends it finds), its first allowed member, alone."""
    try:
        import keyring
        import keyring.backend
    except ImportError as error:  # pragma: no cover - a dependency, always installed with us
        raise KeyringError(f"the Python package keyring is not installed ({error}); pip install keyring") from None
    try:
        backend = keyring.get_keyring()
    except Exception as error:
        raise KeyringError(f"the keyring library could not choose a backend ({type(error).__name__})") from None
    members = getattr(backend, "backends", None)
    candidates = list(members) if members is not None else [backend]
    for candidate in candidates:
        if _backend_name(candidate) in allowed:
            return candidate
    found = ", ".join(_viable_backends(keyring)) or "none"
    chosen = _backend_name(backend)
    if members is not None:
        chosen += f" of {', '.join(_backend_name(member) for member in members) or 'no backend'}"
    raise KeyringError(
        f"no usable OS keyring: the keyring library chose {chosen}, which mfa-process does not use (it keeps "
        f"secrets only in an encrypted store; backends found: {found}); " + HEADLESS_FIX + f" (another backend "
        f"that encrypts can be allowed with {EXTRA_BACKENDS_VARIABLE}=module.Class)"
    )


def _viable_backends(keyring: Any) -> List[str]:
    try:
        return sorted(_backend_name(backend) for backend in keyring.backend.get_all_keyring())
    except Exception:
        return []


def _backend_name(backend: Any) -> str:
    kind = type(backend)
    return f"{kind.__module__}.{kind.__qualname__}"


def _bounded(operation: Callable[[], T], timeout: float, doing: str, profile: str) -> T:
    """``operation()`` in a daemon thread: a keyring waiting on an unlock dialog nobody answers
    must not hang an SDK for ever."""
    result: List[T] = []
    failure: List[BaseException] = []

    def work() -> None:
        try:
            result.append(operation())
        except BaseException as error:
            failure.append(error)

    worker = threading.Thread(target=work, name="keyring", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise KeyringError(
            f"the keyring did not answer within {timeout:g} s (to {doing} the keys of profile '{profile}'); "
            "unlock it (log in to the desktop session, or unlock the keyring), then try again"
        )
    if failure:
        raise failure[0]
    return result[0]


def _failure_message(doing: str, profile: str, error: Exception) -> str:
    kind = type(error).__name__
    if kind in ("KeyringLocked", "LockedException") or "lock" in str(error).lower():
        return (
            f"the keyring is locked, and could not be unlocked here (to {doing} the keys of profile '{profile}'); "
            "unlock it (log in to the desktop, or `gnome-keyring-daemon --unlock`), then try again"
        )
    if kind == "NoKeyringError":
        return f"no usable OS keyring ({kind}); {HEADLESS_FIX}"
    # The error's own text may quote what was being written: only its type is shown.
    return (
        f"the keyring failed to {doing} the keys of profile '{profile}' ({kind}); check that the keyring runs and "
        "is unlocked, or choose another backend with PYTHON_KEYRING_BACKEND"
    )


def _parse_entry(text: str, profile: str) -> AccessKey:
    """The entry mfa-process wrote; anything else is refused without quoting it."""
    try:
        entry = json.loads(text)
    except ValueError:
        entry = None
    if not isinstance(entry, dict) or entry.get("Version") != ENTRY_VERSION:
        raise KeyringEntryError(
            f"the keyring entry of profile '{profile}' (service {SERVICE}) was not written by mfa-process; "
            f"replace it with `mfa-process add --profile {profile}`"
        )
    try:
        return parse_access_key(
            entry.get("AccessKeyId"), entry.get("SecretAccessKey"), f"the keyring entry of '{profile}'"
        )
    except Exception as error:
        raise KeyringEntryError(f"{error}; replace it with `mfa-process add --profile {profile}`") from None
