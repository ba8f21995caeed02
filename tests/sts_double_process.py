"""The STS double in a process of its own, driven from the test with StsDouble's API.

Why a process: pexpect forks a pseudo-terminal from the test process, and a server thread running
there makes that fork unsafe (Python 3.12+ warns "This process is multi-threaded, use of
forkpty() may lead to deadlocks in the child" at every spawn). So the double serves from a child
Python (tests/sts_double.py's ``main``, with ``--control``), and ``StsDoubleProcess`` talks to its
control path over loopback HTTP: no thread in the test process.

What a test reads (``calls``, ``requests``, ``users()``, ``issued_sessions()``, ``sessions()``,
``created_keys()``) is fetched when asked, and kept as it was at ``stop()``: the secret guard reads
the users, sessions and created keys after the fixture is gone. A ``rewrite`` crosses as a name and JSON-able arguments
(tests/sts_rewrites.py).
"""

from __future__ import annotations

import json
import select
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Tuple

from processes import kill_group, popen
from sts_double import DEFAULT_USER, IssuedSession, User
from sts_rewrites import Rewrite

# The double needs the standard library only (-I -S: no site, nothing from the environment), and
# is imported rather than run as a script so that its compiled form is cached: up in about 0.1 s.
START = "import sys; sys.path.insert(0, sys.argv.pop(1)); import sts_double; sts_double.main()"
START_SECONDS = 30.0  # a loaded CI machine; the double is up in well under a second here
CONTROL_SECONDS = 10.0
FINAL_RECORDS = ("requests", "users", "issued_sessions", "sessions", "created_keys")  # readable after stop()


class _Setting:
    """A setting of the double in the child process (hang, delay, stall_before, ...): read and set there."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, double: Optional[StsDoubleProcess], owner: type) -> Any:
        if double is None:
            return self
        value = double._call("get", self.name)
        return Rewrite.from_json(value) if self.name == "rewrite" and value is not None else value

    def __set__(self, double: StsDoubleProcess, value: Any) -> None:
        if self.name == "rewrite":
            if value is not None and not isinstance(value, Rewrite):
                raise TypeError("the double runs in another process: set rewrite to an sts_rewrites.Rewrite")
            value = value.to_json() if value is not None else None
        double._call("set", self.name, value)


class StsDoubleProcess:
    """``StsDouble``'s test API for a double serving from a child process (its own process group,
    killed whole at ``stop()``)."""

    hang = _Setting()
    delay = _Setting()
    throttle = _Setting()
    expiry_offset = _Setting()
    deny_without_mfa = _Setting()
    skew_windows = _Setting()
    rewrite = _Setting()
    propagation_delay = _Setting()
    clock_offset = _Setting()
    max_mfa_age = _Setting()
    stall_before = _Setting()
    stall_after = _Setting()

    def __init__(
        self,
        users: Iterable[User] = (DEFAULT_USER,),
        skew_windows: int = 1,
        *,
        deny_without_mfa: bool = True,
        propagation_delay: float = 1.0,
        clock_offset: float = 0.0,
        max_mfa_age: Optional[float] = None,
    ) -> None:
        self._users = list(users)
        self._argv = [sys.executable, "-I", "-S", "-c", START, str(Path(__file__).parent)]
        self._argv += ["--control", "--users-from-stdin", "--skew-windows", str(skew_windows)]
        self._argv += ["--propagation-delay", repr(float(propagation_delay))]
        self._argv += ["--clock-offset", repr(float(clock_offset))]
        if max_mfa_age is not None:
            self._argv += ["--max-mfa-age", repr(float(max_mfa_age))]
        if not deny_without_mfa:
            self._argv.append("--allow-without-mfa")
        self._process: Optional[subprocess.Popen] = None
        self._final: Optional[Dict[str, Any]] = None  # what the double held when it stopped
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never a proxy
        self.url = ""
        self.control_url = ""

    # ---- lifecycle -------------------------------------------------------------------------
    def start(self) -> StsDoubleProcess:
        """Start the child and wait for the line that says where it serves; sets ``url``."""
        if self._process is not None:
            raise RuntimeError("already started")
        process = popen(self._argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self._process = process
        try:
            process.stdin.write(json.dumps([asdict(user) for user in self._users]))  # type: ignore[union-attr]
            process.stdin.close()  # type: ignore[union-attr]
            info = json.loads(self._first_line(process))
        except BaseException:
            kill_group(process)
            raise
        self.url, self.control_url = info["url"], info["control"]
        return self

    def stop(self) -> None:
        """Keep what the double holds, then kill it and everything it started (idempotent)."""
        process, self._process = self._process, None
        if process is None:
            return
        try:
            self._final = {what: self._post(what) for what in FINAL_RECORDS}
        finally:
            kill_group(process)

    def __enter__(self) -> StsDoubleProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- StsDouble's test API ----------------------------------------------------------------
    def add_role(self, arn: str, require_mfa: bool = True, max_session_duration: int = 3600) -> None:
        self._call("add_role", arn, require_mfa, max_session_duration)

    def calls(self, action: Optional[str] = None) -> int:
        return sum(1 for r in self.requests if action is None or r["action"] == action)

    def key_facts(self, access_key_id: str) -> Optional[Dict[str, Any]]:
        return self._call("key_facts", access_key_id)

    @property
    def requests(self) -> List[Dict[str, Any]]:
        return self._read("requests")

    def users(self) -> List[User]:
        return [User(**user) for user in self._read("users")]

    def issued_sessions(self) -> List[Tuple[str, str, str]]:
        return [(akid, secret, token) for akid, secret, token in self._read("issued_sessions")]

    def sessions(self) -> List[IssuedSession]:
        return [IssuedSession(**session) for session in self._read("sessions")]

    def issue_session(self, access_key_id: str, duration: int = 3600) -> IssuedSession:
        return IssuedSession(**self._call("issue_session", access_key_id, duration))

    def access_keys(self, user_name: Optional[str] = None) -> List[Dict[str, Any]]:
        return self._call("access_keys", user_name)

    def created_keys(self) -> List[Tuple[str, str]]:
        return [(akid, secret) for akid, secret in self._read("created_keys")]

    def key_works(self, access_key_id: str) -> bool:
        return self._call("key_works", access_key_id)

    def release(self) -> None:
        self._call("release")

    def stalled(self) -> List[str]:
        return self._call("stalled")

    def now(self) -> float:
        """The double's time (real time moved by ``clock_offset``), read in its process."""
        return self._call("now")

    # ---- the control channel -----------------------------------------------------------------
    def _read(self, what: str) -> Any:
        """A record, from the live double or, once stopped, from what it held then."""
        if self._process is None and self._final is not None:
            return self._final[what]
        return self._call(what)

    def _call(self, operation: str, *args: Any) -> Any:
        if self._process is None:
            raise RuntimeError(f"the STS double is not running ({operation})")
        return self._post(operation, *args)

    def _post(self, operation: str, *args: Any) -> Any:
        """One control operation: POST its JSON arguments, return its JSON result."""
        request = urllib.request.Request(
            f"{self.control_url}/{operation}", data=json.dumps(args).encode(), method="POST"
        )
        try:
            with self._opener.open(request, timeout=CONTROL_SECONDS) as answer:
                return json.loads(answer.read())["result"]
        except urllib.error.HTTPError as error:
            raise RuntimeError(f"the STS double refused {operation}: {json.loads(error.read())['error']}") from None

    @staticmethod
    def _first_line(process: subprocess.Popen) -> str:
        """The child's first stdout line, or an error if it exits or says nothing in time."""
        deadline = time.monotonic() + START_SECONDS
        stdout = process.stdout
        assert stdout is not None
        while time.monotonic() < deadline:
            ready, _, _ = select.select([stdout], [], [], max(0.0, deadline - time.monotonic()))
            if ready:
                line = stdout.readline()
                if not line:
                    raise RuntimeError(f"the STS double exited at start (status {process.wait()}); see its stderr")
                return line
        raise RuntimeError(f"the STS double said nothing within {START_SECONDS:.0f} s")
