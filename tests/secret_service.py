"""A real Secret Service for tests: gnome-keyring-daemon on a private D-Bus session bus.

mfa-process keeps long-term keys with the ``keyring`` library, whose Linux backend talks to the
Secret Service over the D-Bus session bus. ``SecretService`` gives a test its own: a
``dbus-daemon`` and a ``gnome-keyring-daemon --foreground --unlock --components=secrets``
(unlocked with ``TEST_PASSWORD`` on stdin), each in a process group of its own that is killed
whole at ``stop()``, with HOME and the XDG folders under the folder the test gives (the keyring
files land in ``<root>/.local/share/keyrings``, as with HOME=root). ``environ`` is what a child
process needs to reach it; the backend itself is left to keyring's default choice, as a user's.

The bus runs from a minimal configuration of our own, without the system's service files: the
only Secret Service on it is the one started here, and nothing is activated behind the test's
back (a second gnome-keyring, or a gcr-prompter window on the developer's display).

Locked keyring (``lock()``), measured here with gnome-keyring 42 and keyring 25: a
``keyring.get_password`` in a child with no display raises ``keyring.errors.KeyringLocked``
("Failed to unlock the collection!") within milliseconds. keyring asks the service to unlock the
collection; gnome-keyring cannot reach a prompter (``org.gnome.keyring.SystemPrompter`` is not on
this bus), so the prompt completes as dismissed. On a bus with the system's service files the
same happens a little later (about 50 ms): gcr-prompter is started, finds no display, exits 1.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from processes import isolated_env, kill_group, popen, run

TEST_PASSWORD = "mfa-process-test-keyring"  # unlocks the throwaway test keyring, guards nothing
START_SECONDS = 30.0  # a loaded CI machine; both daemons answer in well under a second here
CHILD_SECONDS = 30.0  # a child Python that imports keyring and asks the service once
CALL_SECONDS = 10.0  # one D-Bus call from the test process
BINARIES = ("dbus-daemon", "gnome-keyring-daemon")
INSTALL_HINT = "on Debian or Ubuntu: apt-get install --no-install-recommends gnome-keyring dbus"
SECRET_SERVICE_BACKEND = "keyring.backends.SecretService.Keyring"
# Longest socket we let gnome-keyring create: sun_path holds 108 bytes with its final NUL.
SOCKET_PATH_MAX = 100
# What a child must not inherit from the test's own session: another bus, keyring or display.
NOT_INHERITED = (
    "DISPLAY",
    "WAYLAND_DISPLAY",
    "GNOME_KEYRING_CONTROL",
    "PYTHON_KEYRING_BACKEND",
    "DBUS_SESSION_BUS_ADDRESS",
)

SERVICE_PATH = "/org/freedesktop/secrets"
SERVICE_NAME = "org.freedesktop.secrets"
# gnome-keyring's own interface for unlocking with the password: the standard Unlock needs a prompter.
GNOME_KEYRING_INTERNAL = "org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface"

# In the child: keyring's default choice (nothing forced), then one call; the answer as JSON on stdout.
CHILD = """
import json, sys
import keyring
backend = keyring.get_keyring()
answer = {"backend": f"{type(backend).__module__}.{type(backend).__qualname__}"}
if sys.argv[1:]:
    try:
        answer["value"] = keyring.get_password(sys.argv[1], sys.argv[2])
    except Exception as error:
        answer["error"] = f"{type(error).__module__}.{type(error).__qualname__}: {error}"
print(json.dumps(answer))
"""


class SecretServiceError(RuntimeError):
    """The Secret Service did not start or did not answer as expected: a failure, never a skip."""


class SecretServiceUnavailable(SecretServiceError):
    """This machine cannot run one (a program or Python package missing): tests skip, except on CI."""


class SecretService:
    """A private D-Bus session bus with gnome-keyring's Secret Service on it, its files under ``root``.

    ``with SecretService(tmp_path) as service:`` starts both daemons and waits until the default
    collection answers unlocked; leaving the block kills them. ``path`` is the PATH the daemons are
    looked up in (default: this process's).
    """

    def __init__(self, root: Path, *, path: Optional[str] = None, start_seconds: float = START_SECONDS) -> None:
        self.root = root
        self.data_home = root / ".local" / "share"
        self.config_home = root / ".config"
        self.cache_home = root / ".cache"
        self.log_dir = root / ".local" / "state" / "secret-service"  # the daemons' stderr, for failures
        self.runtime_dir = root / ".run"  # sockets only; _runtime_dir() picks another for a root too deep
        # set by start(): what a child needs to reach the service, to add to its environment
        # ({**aws.env, **service.environ}); no backend is forced: keyring finds the Secret Service itself
        self.environ: Dict[str, str] = {}
        self.address = ""
        self._path = path if path is not None else os.environ.get("PATH", os.defpath)
        self._start_seconds = start_seconds
        self._processes: List[subprocess.Popen] = []
        self._own_runtime: Optional[str] = None  # a short folder we made and remove at stop()

    # ---- lifecycle -------------------------------------------------------------------------
    def start(self) -> SecretService:
        """Start the bus, then gnome-keyring on it, and wait (bounded) for an unlocked default collection.
        Raises SecretServiceUnavailable before starting anything if a program is missing; on any
        other failure everything started is killed before the error propagates."""
        if self._processes:
            raise RuntimeError("already started")
        programs = self._programs()
        try:
            self._start(*programs)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Kill both process groups (gnome-keyring first) and reap them; idempotent."""
        processes, self._processes = self._processes, []
        errors = []
        for process in reversed(processes):
            try:
                kill_group(process)
            except Exception as error:  # one that cannot be reaped must not keep the other alive
                errors.append(f"{process.args[0]} (pid {process.pid}): {error}")
        if self._own_runtime is not None:
            shutil.rmtree(self._own_runtime, ignore_errors=True)
            self._own_runtime = None
        self.environ, self.address = {}, ""
        if errors:
            raise SecretServiceError("could not stop: " + "; ".join(errors))

    def __enter__(self) -> SecretService:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def pids(self) -> Tuple[int, ...]:
        """The daemons' pids, each also the id of its process group: the bus's, then gnome-keyring's."""
        return tuple(process.pid for process in self._processes)

    # ---- what tests use ------------------------------------------------------------------------
    def stored(self, service: str, username: str, *, timeout: float = CHILD_SECONDS) -> Optional[str]:
        """``keyring.get_password(service, username)`` in a child process with ``environ``, through
        keyring's default backend (which must be the Secret Service). A keyring error in the child
        (KeyringLocked, ...) raises SecretServiceError naming it; a child that outlives ``timeout``
        is killed with its group and raises subprocess.TimeoutExpired."""
        answer = self._child([service, username], timeout)
        if answer["backend"] != SECRET_SERVICE_BACKEND:
            raise SecretServiceError(f"keyring chose {answer['backend']}, not {SECRET_SERVICE_BACKEND}")
        if "error" in answer:
            raise SecretServiceError(f"keyring.get_password in a child failed: {answer['error']}")
        return answer["value"]

    def default_backend(self, *, timeout: float = CHILD_SECONDS) -> str:
        """The class (module.qualname) that ``keyring.get_keyring()`` picks in a child with ``environ``."""
        return self._child([], timeout)["backend"]

    def child_env(self) -> Dict[str, str]:
        """An environment for a child Python: this one's, HOME at ``root``, no XDG_*, AWS_* or
        session of the test's own (display, bus, keyring backend override), plus ``environ``."""
        env = {name: value for name, value in isolated_env(self.root).items() if name not in NOT_INHERITED}
        env.update(self.environ)
        return env

    def lock(self) -> None:
        """Lock the default collection, as a screen lock or ``secret-tool lock`` would."""
        with self._connect() as connection:
            collection = self._default_collection(connection)
            _locked, prompt = self._call(connection, SERVICE_PATH, "Service", "Lock", "ao", [collection])
            if prompt != "/":
                raise SecretServiceError(f"locking asked for a prompt ({prompt})")
            if not self._is_locked(connection, collection):
                raise SecretServiceError("the default collection is still unlocked after Lock")

    def unlock(self) -> None:
        """Unlock the default collection with TEST_PASSWORD, through gnome-keyring's own interface
        (the standard Unlock would need a prompter, which this bus does not have)."""
        with self._connect() as connection:
            collection = self._default_collection(connection)
            _output, session = self._call(connection, SERVICE_PATH, "Service", "OpenSession", "sv", "plain", ("s", ""))
            secret = (session, b"", TEST_PASSWORD.encode(), "text/plain")
            unlock = "UnlockWithMasterPassword"
            self._call(connection, SERVICE_PATH, GNOME_KEYRING_INTERNAL, unlock, "o(oayays)", collection, secret)
            if self._is_locked(connection, collection):
                raise SecretServiceError("the default collection is still locked after unlocking")

    def is_locked(self) -> bool:
        """Whether the default collection is locked now."""
        with self._connect() as connection:
            return self._is_locked(connection, self._default_collection(connection))

    # ---- starting ------------------------------------------------------------------------------
    def _programs(self) -> Tuple[str, str]:
        """The two daemons' paths; SecretServiceUnavailable naming what is missing, before anything starts."""
        found = {name: shutil.which(name, path=self._path) for name in BINARIES}
        missing = [name for name, where in found.items() if where is None]
        if missing:
            raise SecretServiceUnavailable(
                f"cannot start a Secret Service: {' and '.join(missing)} not found on PATH ({self._path}); "
                + INSTALL_HINT
            )
        try:
            import jeepney  # noqa: F401  # keyring's D-Bus library on Linux; the readiness checks use it
        except ImportError:
            raise SecretServiceUnavailable(
                "cannot check a Secret Service: the Python package jeepney (installed with keyring) is missing"
            ) from None
        return found["dbus-daemon"], found["gnome-keyring-daemon"]  # type: ignore[return-value]

    def _start(self, dbus_daemon: str, keyring_daemon: str) -> None:
        deadline = time.monotonic() + self._start_seconds
        runtime = self._runtime_dir()
        for folder in (self.data_home, self.config_home, self.cache_home, self.log_dir):
            folder.mkdir(parents=True, exist_ok=True)
        env = {
            "PATH": self._path,
            "HOME": str(self.root),
            "XDG_DATA_HOME": str(self.data_home),
            "XDG_CONFIG_HOME": str(self.config_home),
            "XDG_CACHE_HOME": str(self.cache_home),
            "XDG_RUNTIME_DIR": str(runtime),
            "LANG": "C.UTF-8",
        }
        config = runtime / "bus.conf"
        config.write_text(_bus_config(runtime / "bus"))

        with open(self.log_dir / "dbus-daemon.log", "ab") as log:
            bus = popen(
                [dbus_daemon, f"--config-file={config}", "--nofork", "--print-address=1"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log,
                env=env,
            )
        self._processes.append(bus)
        self.address = self._address(bus, deadline)
        env["DBUS_SESSION_BUS_ADDRESS"] = self.address

        with open(self.log_dir / "gnome-keyring-daemon.log", "ab") as log:
            keyring = popen(
                [keyring_daemon, "--foreground", "--unlock", "--components=secrets"],
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=log,
                env=env,
            )
        self._processes.append(keyring)
        try:
            keyring.stdin.write(TEST_PASSWORD.encode())  # type: ignore[union-attr] # read up to end of input
            keyring.stdin.close()  # type: ignore[union-attr]
        except BrokenPipeError:  # it exited before reading: the wait below reports its status and log
            pass

        self.environ = {"DBUS_SESSION_BUS_ADDRESS": self.address, "XDG_RUNTIME_DIR": str(runtime)}
        self._wait_until_unlocked(deadline)

    def _runtime_dir(self) -> Path:
        """``root/.run`` (mode 0700, as XDG requires), unless gnome-keyring's control socket would not
        fit in a socket address there: then a short private folder from tempfile, removed at stop()."""
        runtime = self.root / ".run"
        if len(os.fsencode(runtime / "keyring" / "control")) > SOCKET_PATH_MAX:
            self._own_runtime = tempfile.mkdtemp(prefix="secret-service-")
            runtime = Path(self._own_runtime)
        self.runtime_dir = runtime
        runtime.mkdir(parents=True, exist_ok=True)
        runtime.chmod(0o700)
        return runtime

    def _address(self, bus: subprocess.Popen, deadline: float) -> str:
        """The line dbus-daemon prints once it listens (--print-address), read within the deadline."""
        fd = bus.stdout.fileno()  # type: ignore[union-attr]
        line = b""
        while not line.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise SecretServiceError(f"dbus-daemon printed no address in {self._start_seconds:g} s{self._logs()}")
            if select.select([fd], [], [], remaining)[0]:
                chunk = os.read(fd, 4096)
                if not chunk:
                    bus.wait(CALL_SECONDS)
                    raise SecretServiceError(f"dbus-daemon exited with status {bus.returncode}{self._logs()}")
                line += chunk
        return line.decode().strip()

    def _wait_until_unlocked(self, deadline: float) -> None:
        """Poll (bounded) until gnome-keyring owns the Secret Service name and its default collection
        exists unlocked; fail at once if a daemon exits."""
        last = "nothing asked yet"
        while True:
            for process in self._processes:
                if process.poll() is not None:
                    raise SecretServiceError(f"{process.args[0]} exited with status {process.returncode}{self._logs()}")
            try:
                with self._connect() as connection:
                    if not self._has_owner(connection, SERVICE_NAME):
                        last = f"no owner of {SERVICE_NAME} on the bus"
                    elif self._alias(connection) == "/":
                        last = "no default collection"
                    elif self._is_locked(connection, self._alias(connection)):
                        last = "the default collection is locked"
                    else:
                        return
            except (OSError, SecretServiceError) as error:
                last = f"{type(error).__name__}: {error}"
            if time.monotonic() > deadline:
                raise SecretServiceError(
                    f"the Secret Service did not answer unlocked in {self._start_seconds:g} s ({last}){self._logs()}"
                )
            time.sleep(0.02)

    def _logs(self) -> str:
        """The end of each daemon's log, for an error message (they hold no secret: the password
        goes to gnome-keyring on stdin and is never printed)."""
        parts = []
        for name in BINARIES:
            try:
                text = (self.log_dir / f"{name}.log").read_text(errors="replace").strip()
            except OSError:
                continue
            if text:
                parts.append(f"{name}: {text[-1500:]}")
        return ("; logs in " + str(self.log_dir) + ": " + " | ".join(parts)) if parts else ""

    # ---- D-Bus, from the test process ------------------------------------------------------------
    def _connect(self) -> Any:
        """A blocking jeepney connection to our bus (no thread: pexpect may still fork this process)."""
        from jeepney.io.blocking import open_dbus_connection

        if not self.address:
            raise SecretServiceError("not started")
        return closing(open_dbus_connection(bus=self.address, auth_timeout=CALL_SECONDS))

    def _call(self, connection: Any, path: str, interface: str, method: str, signature: str, *body: Any) -> Any:
        """One method call on the Secret Service; its reply's body, or SecretServiceError with the D-Bus error."""
        from jeepney import DBusAddress, DBusErrorResponse, new_method_call
        from jeepney.wrappers import unwrap_msg

        if "." not in interface:
            interface = "org.freedesktop.Secret." + interface
        target = DBusAddress(path, bus_name=SERVICE_NAME, interface=interface)
        reply = connection.send_and_get_reply(new_method_call(target, method, signature, body), timeout=CALL_SECONDS)
        try:
            return unwrap_msg(reply)
        except DBusErrorResponse as error:
            raise SecretServiceError(f"{method}: {error.name}: {error.data}") from None

    def _has_owner(self, connection: Any, name: str) -> bool:
        from jeepney.bus_messages import message_bus

        return bool(connection.send_and_get_reply(message_bus.NameHasOwner(name), timeout=CALL_SECONDS).body[0])

    def _alias(self, connection: Any) -> str:
        return self._call(connection, SERVICE_PATH, "Service", "ReadAlias", "s", "default")[0]

    def _default_collection(self, connection: Any) -> str:
        collection = self._alias(connection)
        if collection == "/":
            raise SecretServiceError("the Secret Service has no default collection")
        return collection

    def _is_locked(self, connection: Any, collection: str) -> bool:
        properties, interface = "org.freedesktop.DBus.Properties", "org.freedesktop.Secret.Collection"
        [(_signature, value)] = self._call(connection, collection, properties, "Get", "ss", interface, "Locked")
        return bool(value)

    # ---- children --------------------------------------------------------------------------------
    def _child(self, args: List[str], timeout: float) -> Dict[str, Any]:
        """Run CHILD with ``args`` in this Python (where keyring is installed) and ``child_env()``."""
        if not self.environ:
            raise SecretServiceError("not started")
        result = run(
            [sys.executable, "-I", "-c", CHILD, *args],
            timeout=timeout,
            env=self.child_env(),
            cwd=self.root,
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            tail = result.stderr.strip().splitlines()[-1:] or ["(no output)"]
            raise SecretServiceError(f"the keyring child exited with status {result.returncode}: {tail[0]}")
        return json.loads(result.stdout)


def _bus_config(socket: Path) -> str:
    """A session bus listening on ``socket`` alone, anyone (this user) may own any name, and no
    service files: nothing is activated on demand."""
    # D-Bus address syntax: every byte but a few safe ones %-escaped (which also keeps XML's <&> out)
    safe = frozenset(b"-_/.\\*0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
    path = "".join(chr(byte) if byte in safe else f"%{byte:02x}" for byte in os.fsencode(socket))
    return f"""<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={path}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""
