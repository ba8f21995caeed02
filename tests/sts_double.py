"""A local AWS STS double over real HTTP (query protocol, SigV4-verified), for tests and demos.

Clients reach it with ``AWS_ENDPOINT_URL_STS=<double.url>`` (and ``AWS_ENDPOINT_URL_IAM``). It
models the seed's setup: IAM users with long-term keys and one virtual MFA device each, under a
policy that denies everything except GetSessionToken/GetCallerIdentity to credentials without
MFA context. Actions: STS GetSessionToken, GetCallerIdentity and AssumeRole, and IAM GetUser
(the test suite's "call that needs MFA": AWS lets GetSessionToken sessions call IAM only when
they were obtained with MFA), CreateAccessKey, DeleteAccessKey and ListAccessKeys (key rotation:
at most two keys per user, a new key signs only after a propagation delay, a deleted key and the
GetSessionToken sessions made with it stop working).

Recent MFA: every session issued with MFA carries the time of its MFA authentication (a role
session made with MFA credentials carries its source's), and ``max_mfa_age`` puts a policy on
``aws:MultiFactorAuthAge`` over GetUser. Moved clocks: ``clock_offset`` moves the double's now
(expiry, Expiration, MFA age, key propagation), so a test sees a session an hour older without
waiting; TOTP codes stay checked against real time, the time of the test's authenticator.

Run standalone: ``python tests/sts_double.py [--port N]`` prints one JSON line (url and the
default user's keys, MFA serial and TOTP secret) and serves until Ctrl-C. With ``--control`` it
also serves its test controls under a secret path (the line gives it as ``control``): that is how
the test suite drives it in a process of its own (tests/sts_double_process.py).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import re
import secrets
import sys
import threading
import time
import uuid
from base64 import b32encode, b64encode
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterable
from urllib.parse import parse_qsl, quote, unquote

try:
    from .sts_rewrites import Rewrite
    from .totp import counter_at, hotp
except ImportError:  # run as a script, or imported with tests/ on sys.path
    from sts_rewrites import Rewrite  # type: ignore[no-redef]
    from totp import counter_at, hotp  # type: ignore[no-redef]

NAMESPACE = "https://sts.amazonaws.com/doc/2011-06-15/"
IAM_NAMESPACE = "https://iam.amazonaws.com/doc/2010-05-08/"
API_VERSION = "2011-06-15"
SESSION_LIMITS = (900, 129600)  # GetSessionToken DurationSeconds for IAM users
ROLE_LIMITS = (900, 43200)  # AssumeRole DurationSeconds
CHAINED_ROLE_MAX = 3600  # AssumeRole with temporary credentials (role chaining)

MSG_INVALID_TOKEN = "The security token included in the request is invalid."
MSG_EXPIRED_TOKEN = "The security token included in the request is expired"
MSG_BAD_SIGNATURE = (
    "The request signature we calculated does not match the signature you provided. Check your "
    "AWS Secret Access Key and signing method. Consult the service documentation for details."
)
MSG_SESSION_GST = "Cannot call GetSessionToken with session credentials"
MSG_MFA_SERIAL = (
    "MultiFactorAuthentication failed, unable to validate MFA code. Please verify your MFA "
    "serial number is valid and associated with this user."
)
MSG_MFA_CODE = "MultiFactorAuthentication failed with invalid MFA one time pass code. "
MSG_ROLE_CHAINING = "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."
MSG_ROLE_MAX = "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
ACCESS_KEYS_PER_USER = 2  # IAM's quota
INITIAL_KEY_DATE = 1704067200.0  # 2024-01-01T00:00:00Z: when each User's own key was made
USER_NAME_RULE = ("UserName", str, (1, 128), r"[\w+=,.@-]+", False)


@dataclass(frozen=True)
class User:
    """An IAM user with long-term access keys and one virtual MFA device."""

    name: str
    account: str
    access_key_id: str
    secret_access_key: str
    mfa_serial: str
    totp_secret: str  # base32

    @property
    def arn(self) -> str:
        return f"arn:{_partition(self.mfa_serial)}:iam::{self.account}:user/{self.name}"

    @property
    def user_id(self) -> str:
        return "AIDA" + _stable_id(self.arn)


DEFAULT_USER = User(
    name="alice",
    account="123456789012",
    access_key_id="AKIAIOSFODNN7EXAMPLE",
    secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",  # 40 characters, as AWS issues
    mfa_serial="arn:aws:iam::123456789012:mfa/alice",
    totp_secret="JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
)


@dataclass(frozen=True)
class _AccessKey:
    """A long-term access key at IAM: whose it is, since when, and from when it can sign (IAM
    takes a while to propagate a new key)."""

    access_key_id: str
    secret_access_key: str
    user: User
    create_date: float  # epoch seconds, whole (IAM answers CreateDate in seconds)
    usable_from: float  # epoch seconds

    def usable(self, now: float) -> bool:
        return now >= self.usable_from

    def public(self, now: float) -> dict[str, Any]:
        """What a test may see of the key (JSON-able, no secret)."""
        return {
            "access_key_id": self.access_key_id,
            "status": "Active",
            "create_date": self.create_date,
            "usable": self.usable(now),
        }


@dataclass(frozen=True)
class _Role:
    arn: str
    require_mfa: bool
    max_session_duration: int


@dataclass(frozen=True)
class _Caller:
    """Who signed a request: long-term keys, a GetSessionToken session or a role session."""

    user: User
    temporary: bool = False
    mfa: bool = False
    role_arn: str | None = None
    session_name: str | None = None
    key_id: str | None = None  # the long-term key that signed, if one did
    mfa_time: float | None = None  # when its MFA authentication was (the double's clock), if it had one

    def mfa_age(self, now: float) -> float | None:
        """aws:MultiFactorAuthAge: seconds since the MFA authentication, None (absent) without MFA."""
        return None if self.mfa_time is None else now - self.mfa_time

    @property
    def account(self) -> str:
        return self.role_arn.split(":")[4] if self.role_arn else self.user.account

    @property
    def arn(self) -> str:
        if not self.role_arn:
            return self.user.arn
        part = self.role_arn.split(":")[1]
        return f"arn:{part}:sts::{self.account}:assumed-role/{_role_name(self.role_arn)}/{self.session_name}"

    @property
    def user_id(self) -> str:
        if not self.role_arn:
            return self.user.user_id
        return f"AROA{_stable_id(self.role_arn)}:{self.session_name}"


@dataclass(frozen=True)
class _Session:
    caller: _Caller
    secret_access_key: str
    session_token: str
    expires: float
    source_key: str | None = None  # GetSessionToken: the long-term key it was made with (it dies with it)

    def public(self, access_key_id: str) -> IssuedSession:
        """What a test may see of this session (tests/sts_double_process.py sends it as JSON)."""
        secret, token, caller = self.secret_access_key, self.session_token, self.caller
        return IssuedSession(
            access_key_id, secret, token, self.expires, caller.account, caller.mfa, caller.role_arn, caller.mfa_time
        )


@dataclass(frozen=True)
class IssuedSession:
    """A session the double issued, as a test may inspect it (JSON-able: it crosses processes)."""

    access_key_id: str
    secret_access_key: str
    session_token: str
    expires: float  # epoch seconds; the answer's Expiration is this, in whole seconds
    account: str
    mfa: bool
    role_arn: str | None
    mfa_authenticated_at: float | None = None  # epoch seconds (the double's clock); None without MFA


class _Dropped(Exception):
    """The double stopped while a request was stalled: the request ends unanswered."""


class StsError(Exception):
    """An STS error answer: HTTP status, error code and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.status, self.code, self.message = status, code, message


class StsDouble:
    """A threaded HTTP server on 127.0.0.1 that answers like AWS STS (query protocol)."""

    def __init__(
        self,
        users: Iterable[User] = (DEFAULT_USER,),
        skew_windows: int = 1,
        *,
        port: int = 0,
        deny_without_mfa: bool = True,
        control: bool = False,
        propagation_delay: float = 1.0,
        clock_offset: float = 0.0,
        max_mfa_age: float | None = None,
    ) -> None:
        """`skew_windows`: TOTP windows accepted either side of now. `deny_without_mfa`: the
        seed's identity policy (deny all but GetSessionToken/GetCallerIdentity without MFA).
        `control`: also serve the test controls over HTTP, under a secret path (`control_url`).
        `propagation_delay`: seconds before a key made by CreateAccessKey can sign.
        `clock_offset`: seconds added to the real time to make the double's now.
        `max_mfa_age`: GetUser is denied once the caller's MFA is this many seconds old."""
        self._users = list(users)
        self._keys = {
            u.access_key_id: _AccessKey(u.access_key_id, u.secret_access_key, u, INITIAL_KEY_DATE, 0.0)
            for u in self._users
        }
        self._created: list[tuple[str, str]] = []  # (id, secret) of every key CreateAccessKey made
        self.propagation_delay = propagation_delay
        self.skew_windows = skew_windows
        self.deny_without_mfa = deny_without_mfa
        # The double's clock is the real one moved by clock_offset (seconds), everywhere but in
        # TOTP: codes come from the test's authenticator, on real time (see _check_mfa).
        self.clock_offset: float = clock_offset
        # An identity policy on IAM GetUser, the complement of the usual Allow condition
        # {"NumericLessThan": {"aws:MultiFactorAuthAge": max_mfa_age}}: Deny when
        # {"NumericGreaterThanEquals": {"aws:MultiFactorAuthAge": max_mfa_age}}. A caller without MFA
        # has no such key and is left to deny_without_mfa, as the condition would leave it in AWS.
        self.max_mfa_age: float | None = max_mfa_age
        self.delay: float = 0.0
        self.throttle: bool = False
        # Failure modes, for the answers a real endpoint (or a proxy in front of it) can give:
        self.expiry_offset: float = 0.0  # seconds added to the Expiration of every session issued
        self.rewrite: Callable[[int, str, str], tuple[int, str, str]] | None = None  # (status, type, body)
        self.hang: bool = False  # read each request, record it, never answer (until stop())
        # Hold requests of one Action (before processing it, or after, before answering) until
        # release(), until the setting changes or until stop(): a test kills a client between calls.
        self.stall_before: str | None = None
        self.stall_after: str | None = None
        self._stall = threading.Condition()
        self._stalled: list[str] = []
        self._releases = 0
        self._released = threading.Event()
        self.url: str = ""
        self.control_url: str = ""
        self._control = control
        self._port = port
        self._lock = threading.Lock()
        self._sessions: dict[str, _Session] = {}
        self._roles: dict[str, _Role] = {}
        self._used_codes: set[tuple[str, int]] = set()
        self._requests: list[dict[str, Any]] = []
        self._server: ThreadingHTTPServer | None = None

    # ---- lifecycle -------------------------------------------------------------------------
    def start(self) -> StsDouble:
        """Bind a port and serve in a background thread; sets `url`."""
        if self._server:
            raise RuntimeError("already started")
        server = _Server(("127.0.0.1", self._port), _Handler)
        server.double = self
        server.control = _Control(self) if self._control else None
        self._released.clear()
        self._server = server
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        self.control_url = self.url + server.control.prefix.rstrip("/") if server.control else ""
        threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True, name="sts-double"
        ).start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket (idempotent)."""
        server, self._server = self._server, None
        self._released.set()  # hung and stalled handlers end: their clients see the connection close
        with self._stall:
            self._stall.notify_all()
        if server:
            server.shutdown()
            server.server_close()

    def __enter__(self) -> StsDouble:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- test controls and records ---------------------------------------------------------
    def now(self) -> float:
        """The double's time: epoch seconds, the real time moved by ``clock_offset``."""
        return time.time() + self.clock_offset

    def add_role(self, arn: str, require_mfa: bool = True, max_session_duration: int = 3600) -> None:
        """Register a role for AssumeRole (its trust policy may require MFA)."""
        with self._lock:
            self._roles[arn] = _Role(arn, require_mfa, max_session_duration)

    def calls(self, action: str | None = None) -> int:
        """Number of requests received (all, or for one Action), failed ones included."""
        with self._lock:
            return sum(1 for r in self._requests if action is None or r["action"] == action)

    def key_facts(self, access_key_id: str) -> dict[str, Any] | None:
        """What the double knows of a key it issued or holds: account, temporary, mfa, role_arn."""
        caller = self._key_owner(access_key_id)
        if caller is None:
            return None
        return {
            "account": caller.account,
            "temporary": caller.temporary,
            "mfa": caller.mfa,
            "role_arn": caller.role_arn,
        }

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Snapshot of requests: action, access_key_id, params, then status, code (error code or None)
        and mfa_age (the caller's aws:MultiFactorAuthAge in seconds, None without MFA)."""
        with self._lock:
            return [dict(r, params=dict(r["params"])) for r in self._requests]

    def users(self) -> list[User]:
        """The IAM users the double knows (their secrets must never be printed)."""
        with self._lock:
            return list(self._users)

    def access_keys(self, user_name: str | None = None) -> list[dict[str, Any]]:
        """The access keys a user has now (the first user if None): id, status, create_date
        (epoch), usable (can sign now). No secrets: a test may print this."""
        with self._lock:
            user = next((u for u in self._users if user_name in (None, u.name)), None)
            if user is None:
                raise KeyError(f"no IAM user {user_name!r}")
            now = self.now()
            return [key.public(now) for key in self._keys.values() if key.user == user]

    def created_keys(self) -> list[tuple[str, str]]:
        """(access key id, secret key) of every key CreateAccessKey made, deleted ones too: long-term
        secrets, which the secret guard must know."""
        with self._lock:
            return list(self._created)

    def key_works(self, access_key_id: str) -> bool:
        """Whether this long-term key exists (not deleted) and can sign now."""
        with self._lock:
            key = self._keys.get(access_key_id)
        return key is not None and key.usable(self.now())

    def release(self) -> None:
        """Let every request stalled now (stall_before/stall_after) go on."""
        with self._stall:
            self._releases += 1
            self._stall.notify_all()

    def stalled(self) -> list[str]:
        """The Actions of the requests stalled right now, so a test can wait until a client is held."""
        with self._stall:
            return list(self._stalled)

    def issued_sessions(self) -> list[tuple[str, str, str]]:
        """(access key id, secret key, session token) of every session issued so far."""
        with self._lock:
            return [(akid, s.secret_access_key, s.session_token) for akid, s in self._sessions.items()]

    def sessions(self) -> list[IssuedSession]:
        """Every session issued so far, in order, with its expiry and who it was issued to."""
        with self._lock:
            return [session.public(akid) for akid, session in self._sessions.items()]

    def issue_session(self, access_key_id: str, duration: int = 3600) -> IssuedSession:
        """Issue an MFA session to a user's key directly, as GetSessionToken with a good code would."""
        with self._lock:
            key = self._keys.get(access_key_id)
        if key is None or not key.usable(self.now()):
            raise KeyError(f"no usable access key {access_key_id}")
        caller = _Caller(key.user, temporary=True, mfa=True, mfa_time=self.now())
        self._issue(caller, duration, source_key=access_key_id)
        return self.sessions()[-1]

    def _hold(self, setting: str, action: str) -> None:
        """Wait while ``setting`` (stall_before/stall_after) names this action, until release() or stop()."""
        if not action or getattr(self, setting) != action:
            return
        with self._stall:
            releases = self._releases
            self._stalled.append(action)
            try:
                while getattr(self, setting) == action and self._releases == releases and not self._released.is_set():
                    self._stall.wait(0.05)  # a setting changed by assignment is seen within this
            finally:
                self._stalled.remove(action)
        if self._released.is_set():
            raise _Dropped

    # ---- request processing (called from handler threads) ---------------------------------
    def _answer(self, method: str, target: str, headers: Any, body: bytes) -> tuple[int, str, str]:
        path, _, query = target.partition("?")
        params = dict(parse_qsl(query, keep_blank_values=True))
        if method == "POST":
            params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        action = params.get("Action", "")
        m = re.search(r"Credential=([^/,\s]*)(?:/\d{8}/([^/,\s]+)/)?", headers.get("Authorization", ""))
        record: dict[str, Any] = {
            "action": action,
            "access_key_id": m.group(1) if m else None,
            "region": m.group(2) if m else None,  # of the SigV4 credential scope the client signed for
            "params": params,
            "status": None,
            "code": None,
            "mfa_age": None,  # aws:MultiFactorAuthAge of the caller, seconds; None: no MFA (or unauthenticated)
        }
        with self._lock:
            self._requests.append(record)
        self._hold("stall_before", action)
        if self.delay:
            time.sleep(self.delay)
        request_id = str(uuid.uuid4())
        scope = re.search(r"Credential=[^/]+/\d{8}/[^/]+/(iam)/", headers.get("Authorization", ""))
        service = scope.group(1) if scope else "sts"
        namespace = IAM_NAMESPACE if service == "iam" else NAMESPACE
        try:
            caller = self._authenticate(method, path, query, headers, body)
            with self._lock:
                record["mfa_age"] = caller.mfa_age(self.now())
            if self.throttle:
                raise StsError(400, "Throttling", "Rate exceeded")
            operations: dict[str, Callable[[_Caller, dict[str, str]], str | None]] = (
                {
                    "GetUser": self._get_user,
                    "CreateAccessKey": self._create_access_key,
                    "DeleteAccessKey": self._delete_access_key,
                    "ListAccessKeys": self._list_access_keys,
                }
                if service == "iam"
                else {
                    "GetSessionToken": self._get_session_token,
                    "GetCallerIdentity": self._get_caller_identity,
                    "AssumeRole": self._assume_role,
                }
            )
            operation = operations.get(action)
            if operation is None:
                raise StsError(400, "InvalidAction", f"Could not find operation {action} for version {API_VERSION}")
            result = operation(caller, params)
            status, code = 200, None
            wrapped = "" if result is None else f"  <{action}Result>\n{result}  </{action}Result>\n"
            xml = (
                f'<{action}Response xmlns="{namespace}">\n{wrapped}'
                f"  <ResponseMetadata>\n    <RequestId>{request_id}</RequestId>\n  </ResponseMetadata>\n"
                f"</{action}Response>\n"
            )
        except StsError as e:
            status, code = e.status, e.code
            kind = "Sender" if e.status < 500 else "Receiver"
            xml = (
                f'<ErrorResponse xmlns="{namespace}">\n  <Error>\n    <Type>{kind}</Type>\n'
                f"    <Code>{_esc(e.code)}</Code>\n    <Message>{_esc(e.message)}</Message>\n  </Error>\n"
                f"  <RequestId>{request_id}</RequestId>\n</ErrorResponse>\n"
            )
        with self._lock:
            record.update(status=status, code=code)
        self._hold("stall_after", action)
        return status, xml, request_id

    def _authenticate(self, method: str, path: str, query: str, headers: Any, body: bytes) -> _Caller:
        """Verify the SigV4 Authorization header against the caller's secret; return the caller."""
        auth = headers.get("Authorization")
        if not auth:
            raise StsError(403, "MissingAuthenticationToken", "Request is missing Authentication Token")
        m = re.fullmatch(
            r"AWS4-HMAC-SHA256\s+Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request,\s*"
            r"SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})\s*",
            auth,
        )
        amz_date = headers.get("X-Amz-Date", "")
        if not m or not amz_date.startswith(m.group(2)):
            raise StsError(400, "IncompleteSignature", f"Malformed AWS4-HMAC-SHA256 Authorization header: {auth}")
        akid, date, region, service, signed, signature = m.groups()

        caller, secret = self._credentials(akid, headers.get("X-Amz-Security-Token"))

        signed_names = signed.split(";")
        canonical_headers = "".join(
            f"{name}:{','.join(' '.join(v.split()) for v in headers.get_all(name, []))}\n" for name in signed_names
        )
        canonical_query = "&".join(
            sorted(
                f"{quote(unquote(k), safe='-_.~')}={quote(unquote(v), safe='-_.~')}"
                for k, _, v in (p.partition("=") for p in query.split("&") if p)
            )
        )
        canonical_request = "\n".join(
            [
                method,
                quote(path or "/", safe="/~"),
                canonical_query,
                canonical_headers,
                signed,
                hashlib.sha256(body).hexdigest(),
            ]
        )
        scope = f"{date}/{region}/{service}/aws4_request"
        string_to_sign = "\n".join(
            ["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical_request.encode()).hexdigest()]
        )
        key = ("AWS4" + secret).encode()
        for part in (date, region, service, "aws4_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        expected = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
        if service not in ("sts", "iam") or "host" not in signed_names or not hmac.compare_digest(expected, signature):
            raise StsError(403, "SignatureDoesNotMatch", MSG_BAD_SIGNATURE)
        return caller

    def _credentials(self, akid: str, token: str | None) -> tuple[_Caller, str]:
        """The caller and secret key for an access key id (and session token, if temporary). A key
        not yet propagated, a deleted one and the sessions made with a deleted one are unknown to AWS."""
        with self._lock:
            key = self._keys.get(akid)
            session = self._sessions.get(akid)
            source_gone = session is not None and session.source_key not in (None, *self._keys)
        if key:
            if not key.usable(self.now()):
                raise StsError(403, "InvalidClientTokenId", MSG_INVALID_TOKEN)
            return _Caller(key.user, key_id=akid), key.secret_access_key
        if not session or token is None or not hmac.compare_digest(token, session.session_token) or source_gone:
            raise StsError(403, "InvalidClientTokenId", MSG_INVALID_TOKEN)
        if self.now() >= session.expires:
            raise StsError(400, "ExpiredToken", MSG_EXPIRED_TOKEN)
        return session.caller, session.secret_access_key

    def _key_owner(self, akid: str) -> _Caller | None:
        """Whose key this is (a user's long-term key or a session the double issued), or None."""
        with self._lock:
            key = self._keys.get(akid)
            session = self._sessions.get(akid)
        if key:
            return _Caller(key.user)
        return session.caller if session else None

    def _check_mfa(self, user: User, serial: str | None, token_code: str | None) -> None:
        """Accept a code of the user's device within +/- skew_windows, once per device and window.
        On real time, not the double's: the code comes from the test's authenticator (totp.code()),
        which knows nothing of clock_offset; a moved double still takes the code of the moment."""
        if serial != user.mfa_serial:
            raise StsError(403, "AccessDenied", MSG_MFA_SERIAL)
        now = counter_at()
        windows = [
            c
            for c in range(now - self.skew_windows, now + self.skew_windows + 1)
            if token_code is not None and hmac.compare_digest(hotp(user.totp_secret, c), token_code)
        ]
        with self._lock:
            fresh = [c for c in windows if (serial, c) not in self._used_codes]
            if not fresh:
                raise StsError(403, "AccessDenied", MSG_MFA_CODE)
            self._used_codes.add((serial, fresh[0]))

    def _issue(self, caller: _Caller, duration: int, source_key: str | None = None) -> str:
        """Create and remember temporary credentials; return their <Credentials> XML. ``source_key``:
        the long-term key they stand for (GetSessionToken), which they do not outlive."""
        akid = "ASIA" + _key_tail()
        session = _Session(
            caller,
            b64encode(secrets.token_bytes(30)).decode(),
            b64encode(secrets.token_bytes(264)).decode(),
            self.now() + duration + self.expiry_offset,
            source_key,
        )
        with self._lock:
            self._sessions[akid] = session
        expiration = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(session.expires))
        return (
            f"    <Credentials>\n      <AccessKeyId>{akid}</AccessKeyId>\n"
            f"      <SecretAccessKey>{session.secret_access_key}</SecretAccessKey>\n"
            f"      <SessionToken>{session.session_token}</SessionToken>\n"
            f"      <Expiration>{expiration}</Expiration>\n    </Credentials>\n"
        )

    # ---- operations --------------------------------------------------------------------------
    def _get_session_token(self, caller: _Caller, p: dict[str, str]) -> str:
        _validate(
            p,
            [
                ("DurationSeconds", int, SESSION_LIMITS, None, False),
                ("SerialNumber", str, (9, 256), r"[\w+=/:,.@-]*", False),
                ("TokenCode", str, (6, 6), r"[\d]*", False),
            ],
        )
        if caller.temporary:
            raise StsError(403, "AccessDenied", MSG_SESSION_GST)
        mfa = "SerialNumber" in p or "TokenCode" in p
        if mfa:
            self._check_mfa(caller.user, p.get("SerialNumber"), p.get("TokenCode"))
        new = _Caller(caller.user, temporary=True, mfa=mfa, mfa_time=self.now() if mfa else None)
        return self._issue(new, int(p.get("DurationSeconds", 43200)), source_key=caller.key_id)

    def _get_caller_identity(self, caller: _Caller, p: dict[str, str]) -> str:
        return (
            f"    <Arn>{_esc(caller.arn)}</Arn>\n    <UserId>{caller.user_id}</UserId>\n"
            f"    <Account>{caller.account}</Account>\n"
        )

    def _assume_role(self, caller: _Caller, p: dict[str, str]) -> str:
        _validate(
            p,
            [
                ("RoleArn", str, (20, 2048), None, True),
                ("RoleSessionName", str, (2, 64), r"[\w+=,.@-]*", True),
                ("DurationSeconds", int, ROLE_LIMITS, None, False),
                ("SerialNumber", str, (9, 256), r"[\w+=/:,.@-]*", False),
                ("TokenCode", str, (6, 6), r"[\d]*", False),
            ],
        )
        arn, duration = p["RoleArn"], int(p.get("DurationSeconds", 3600))
        if caller.temporary and duration > CHAINED_ROLE_MAX:
            raise StsError(400, "ValidationError", MSG_ROLE_CHAINING)
        mfa, mfa_time = caller.mfa, caller.mfa_time  # a role session keeps its source's MFA time
        if "SerialNumber" in p or "TokenCode" in p:
            self._check_mfa(caller.user, p.get("SerialNumber"), p.get("TokenCode"))
            mfa, mfa_time = True, self.now()
        denied = f"User: {caller.arn} is not authorized to perform: sts:AssumeRole on resource: {arn}"
        if self.deny_without_mfa and not mfa:
            raise StsError(403, "AccessDenied", denied + " with an explicit deny in an identity-based policy")
        with self._lock:
            role = self._roles.get(arn)
        if role is None or (role.require_mfa and not mfa):
            raise StsError(403, "AccessDenied", denied)
        if duration > role.max_session_duration:
            raise StsError(400, "ValidationError", MSG_ROLE_MAX)
        new = _Caller(
            caller.user, temporary=True, mfa=mfa, role_arn=arn, session_name=p["RoleSessionName"], mfa_time=mfa_time
        )
        return self._issue(new, duration) + (
            f"    <AssumedRoleUser>\n      <AssumedRoleId>{_esc(new.user_id)}</AssumedRoleId>\n"
            f"      <Arn>{_esc(new.arn)}</Arn>\n    </AssumedRoleUser>\n"
        )

    def _iam_user(self, caller: _Caller, p: dict[str, str], action: str) -> User:
        """The user an IAM action on users acts on, if the caller may: what AWS allows to
        MFA-backed credentials only.

        Long-term keys meet the seed's deny-without-MFA policy; a GetSessionToken session made
        without MFA is refused by IAM itself, as AWS does; a role session must name a user.
        """
        if caller.role_arn and not p.get("UserName"):
            raise StsError(400, "ValidationError", "Must specify userName when calling with non-User credentials")
        if p.get("UserName", caller.user.name) != caller.user.name:  # the double knows its caller only
            raise StsError(404, "NoSuchEntity", f"The user with name {p['UserName']} cannot be found.")
        if caller.temporary and not caller.mfa:
            raise StsError(403, "InvalidClientTokenId", MSG_INVALID_TOKEN)
        if self.deny_without_mfa and not caller.mfa:
            raise StsError(
                403,
                "AccessDenied",
                f"User: {caller.arn} is not authorized to perform: iam:{action} on resource: user "
                f"{caller.user.name} with an explicit deny in an identity-based policy",
            )
        return caller.user

    def _create_access_key(self, caller: _Caller, p: dict[str, str]) -> str:
        """IAM CreateAccessKey: a new key for the user, within the two-key quota; it signs only
        after ``propagation_delay``."""
        _validate(p, [USER_NAME_RULE])
        user = self._iam_user(caller, p, "CreateAccessKey")
        now = self.now()
        secret = b64encode(secrets.token_bytes(30)).decode()
        key = _AccessKey("AKIA" + _key_tail(), secret, user, float(int(now)), now + self.propagation_delay)
        with self._lock:
            if sum(1 for k in self._keys.values() if k.user == user) >= ACCESS_KEYS_PER_USER:
                quota = f"Cannot exceed quota for AccessKeysPerUser: {ACCESS_KEYS_PER_USER}"
                raise StsError(409, "LimitExceeded", quota)
            self._keys[key.access_key_id] = key
            self._created.append((key.access_key_id, key.secret_access_key))
        return (
            f"    <AccessKey>\n      <UserName>{_esc(user.name)}</UserName>\n"
            f"      <AccessKeyId>{key.access_key_id}</AccessKeyId>\n      <Status>Active</Status>\n"
            f"      <SecretAccessKey>{key.secret_access_key}</SecretAccessKey>\n"
            f"      <CreateDate>{_iso(key.create_date)}</CreateDate>\n    </AccessKey>\n"
        )

    def _delete_access_key(self, caller: _Caller, p: dict[str, str]) -> None:
        """IAM DeleteAccessKey: the key stops signing at once, and so do the sessions made with it."""
        _validate(p, [("AccessKeyId", str, (16, 128), r"[\w]+", True), USER_NAME_RULE])
        user = self._iam_user(caller, p, "DeleteAccessKey")
        akid = p["AccessKeyId"]
        with self._lock:
            key = self._keys.get(akid)
            if key is None or key.user != user:
                raise StsError(404, "NoSuchEntity", f"The Access Key with id {akid} cannot be found.")
            del self._keys[akid]

    def _list_access_keys(self, caller: _Caller, p: dict[str, str]) -> str:
        """IAM ListAccessKeys: the user's keys, with no secret (one page: a user has two at most)."""
        _validate(p, [USER_NAME_RULE])
        user = self._iam_user(caller, p, "ListAccessKeys")
        with self._lock:
            keys = [k for k in self._keys.values() if k.user == user]
        members = "".join(
            f"      <member>\n        <UserName>{_esc(user.name)}</UserName>\n"
            f"        <AccessKeyId>{k.access_key_id}</AccessKeyId>\n        <Status>Active</Status>\n"
            f"        <CreateDate>{_iso(k.create_date)}</CreateDate>\n      </member>\n"
            for k in keys
        )
        return f"    <AccessKeyMetadata>\n{members}    </AccessKeyMetadata>\n    <IsTruncated>false</IsTruncated>\n"

    def _get_user(self, caller: _Caller, p: dict[str, str]) -> str:
        """IAM GetUser for the caller (the test suite's call that needs MFA), under the
        ``max_mfa_age`` policy when one is set."""
        user = self._iam_user(caller, p, "GetUser")
        age = caller.mfa_age(self.now())
        if self.max_mfa_age is not None and age is not None and age >= self.max_mfa_age:
            raise StsError(
                403,
                "AccessDenied",
                f"User: {caller.arn} is not authorized to perform: iam:GetUser on resource: user "
                f"{user.name} with an explicit deny in an identity-based policy",
            )
        return (
            f"    <User>\n      <Path>/</Path>\n      <UserName>{_esc(user.name)}</UserName>\n"
            f"      <UserId>{_esc(user.user_id)}</UserId>\n      <Arn>{_esc(user.arn)}</Arn>\n"
            "      <CreateDate>2024-01-01T00:00:00Z</CreateDate>\n    </User>\n"
        )


class _Control:
    """The test controls over HTTP: ``POST <control_url>/<operation>`` with a JSON list of
    arguments answers ``{"result": ...}``. The path holds a secret, so no other local process can
    drive the double (the STS API itself takes any signed request, as a real endpoint would)."""

    SETTINGS = (
        "hang",
        "delay",
        "throttle",
        "expiry_offset",
        "deny_without_mfa",
        "skew_windows",
        "rewrite",
        "propagation_delay",
        "clock_offset",
        "max_mfa_age",
        "stall_before",
        "stall_after",
    )

    def __init__(self, double: StsDouble) -> None:
        self.double = double
        self.prefix = f"/control-{secrets.token_hex(16)}/"

    def handles(self, path: str) -> bool:
        return hmac.compare_digest(path[: len(self.prefix)].encode("utf-8", "replace"), self.prefix.encode())

    def answer(self, path: str, body: bytes) -> tuple[int, bytes]:
        operation = path[len(self.prefix) :]
        try:
            args = json.loads(body or b"[]")
            result = self._run(operation, args)
        except Exception as error:  # the test sees what it asked wrong, the double keeps serving
            return 400, json.dumps({"error": f"{type(error).__name__}: {error}"}).encode()
        return 200, json.dumps({"result": result}).encode()

    def _run(self, operation: str, args: list[Any]) -> Any:
        double = self.double
        if operation == "get" and args[0] in self.SETTINGS:
            value = getattr(double, args[0])
            return value.to_json() if isinstance(value, Rewrite) else value
        if operation == "set" and args[0] in self.SETTINGS:
            name, value = args
            if name == "rewrite":
                value = None if value is None else Rewrite.from_json(value)
            setattr(double, name, value)
            return None
        queries: dict[str, Callable[..., Any]] = {
            "add_role": double.add_role,
            "calls": double.calls,
            "key_facts": double.key_facts,
            "requests": lambda: double.requests,
            "users": lambda: [asdict(user) for user in double.users()],
            "issued_sessions": double.issued_sessions,
            "sessions": lambda: [asdict(session) for session in double.sessions()],
            "issue_session": lambda *a: asdict(double.issue_session(*a)),
            "access_keys": double.access_keys,
            "created_keys": double.created_keys,
            "key_works": double.key_works,
            "release": double.release,
            "stalled": double.stalled,
            "now": double.now,
        }
        if operation not in queries:
            raise ValueError(f"no control {operation!r} {args!r:.60}")
        return queries[operation](*args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    double: StsDouble
    control: _Control | None

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet when a client goes away mid-answer; report real bugs."""
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def _serve(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        double = self.server.double
        control = self.server.control
        if control is not None and control.handles(self.path):  # never recorded, delayed or hung
            self.close_connection = True
            status, data = control.answer(self.path, body)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(data)
            return
        self.close_connection = True  # a stopped double must not keep answering on kept-alive sockets
        try:
            status, xml, request_id = double._answer(self.command, self.path, self.headers, body)
        except _Dropped:  # stopped while stalled: the client sees the connection close
            return
        if double.hang:
            double._released.wait()
            return
        content_type = "text/xml"
        if double.rewrite is not None:
            status, content_type, xml = double.rewrite(status, content_type, xml)
        data = xml.encode()
        self.send_response(status)
        self.send_header("x-amzn-RequestId", request_id)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    do_POST = do_GET = _serve

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        pass


# ---- helpers -------------------------------------------------------------------------------------
def _validate(p: dict[str, str], rules: list[tuple[str, type, tuple[int, int], str | None, bool]]) -> None:
    """Check parameters like STS does: (name, int or str, (min, max), regex or None, required)."""
    errors = []
    for name, kind, (lo, hi), pattern, required in rules:
        field = name[0].lower() + name[1:]
        value = p.get(name)
        if value is None:
            if required:
                errors.append(f"Value null at '{field}' failed to satisfy constraint: Member must not be null")
            continue
        where = f"Value '{value}' at '{field}' failed to satisfy constraint: Member must"
        if kind is int:
            if not re.fullmatch(r"-?\d+", value):
                errors.append(f"{where} be a number")  # wording not taken from AWS
            elif int(value) < lo:
                errors.append(f"{where} have value greater than or equal to {lo}")
            elif int(value) > hi:
                errors.append(f"{where} have value less than or equal to {hi}")
            continue
        if len(value) < lo:
            errors.append(f"{where} have length greater than or equal to {lo}")
        if len(value) > hi:
            errors.append(f"{where} have length less than or equal to {hi}")
        if pattern and not re.fullmatch(pattern, value, re.ASCII):
            errors.append(f"{where} satisfy regular expression pattern: {pattern}")
    if errors:
        n = len(errors)
        summary = f"{n} validation error{'s' if n > 1 else ''} detected: "
        raise StsError(400, "ValidationError", summary + "; ".join(errors))


def _key_tail() -> str:
    """16 random characters of base32's alphabet, the part of an AKIA/ASIA key id after its prefix."""
    return "".join(secrets.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16))


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _partition(arn: str) -> str:
    return arn.split(":")[1] if arn.startswith("arn:") and arn.count(":") >= 5 else "aws"


def _role_name(role_arn: str) -> str:
    return role_arn.rsplit("/", 1)[-1]


def _stable_id(seed: str) -> str:
    """17 upper-case characters derived from `seed`, like the tail of AIDA/AROA unique ids."""
    return b32encode(hashlib.sha256(seed.encode()).digest()).decode()[:17]


def main(argv: list[str] | None = None) -> None:
    """Serve in the foreground; print one JSON line with the url and the (first) user."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--skew-windows", type=int, default=1, help="TOTP windows accepted either side of now")
    parser.add_argument("--allow-without-mfa", action="store_true", help="no deny-without-MFA identity policy")
    parser.add_argument("--users-from-stdin", action="store_true", help="the IAM users: a JSON list on stdin")
    parser.add_argument("--control", action="store_true", help="serve the test controls under a secret path")
    parser.add_argument(
        "--propagation-delay", type=float, default=1.0, help="seconds before a key made by CreateAccessKey signs"
    )
    parser.add_argument("--clock-offset", type=float, default=0.0, help="seconds the double's clock is ahead")
    parser.add_argument(
        "--max-mfa-age", type=float, default=None, help="deny GetUser once the caller's MFA is this many seconds old"
    )
    args = parser.parse_args(argv)
    users = [User(**user) for user in json.load(sys.stdin)] if args.users_from_stdin else [DEFAULT_USER]
    double = StsDouble(
        users,
        args.skew_windows,
        port=args.port,
        deny_without_mfa=not args.allow_without_mfa,
        control=args.control,
        propagation_delay=args.propagation_delay,
        clock_offset=args.clock_offset,
        max_mfa_age=args.max_mfa_age,
    ).start()
    control = {"control": double.control_url} if args.control else {}
    print(json.dumps({"url": double.url, **asdict(users[0]), **control}), flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        double.stop()


if __name__ == "__main__":
    main()
