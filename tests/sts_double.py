"""A local AWS STS double over real HTTP (query protocol, SigV4-verified), for tests and demos.

Clients reach it with ``AWS_ENDPOINT_URL_STS=<double.url>`` (and ``AWS_ENDPOINT_URL_IAM``). It
models the seed's setup: IAM users with long-term keys and one virtual MFA device each, under a
policy that denies everything except GetSessionToken/GetCallerIdentity to credentials without
MFA context. Actions: STS GetSessionToken, GetCallerIdentity and AssumeRole, and IAM GetUser
(the test suite's "call that needs MFA": AWS lets GetSessionToken sessions call IAM only when
they were obtained with MFA).

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
    secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY",
    mfa_serial="arn:aws:iam::123456789012:mfa/alice",
    totp_secret="JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
)


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

    def public(self, access_key_id: str) -> IssuedSession:
        """What a test may see of this session (tests/sts_double_process.py sends it as JSON)."""
        secret, token, caller = self.secret_access_key, self.session_token, self.caller
        return IssuedSession(access_key_id, secret, token, self.expires, caller.account, caller.mfa, caller.role_arn)


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
    ) -> None:
        """`skew_windows`: TOTP windows accepted either side of now. `deny_without_mfa`: the
        seed's identity policy (deny all but GetSessionToken/GetCallerIdentity without MFA).
        `control`: also serve the test controls over HTTP, under a secret path (`control_url`)."""
        self._users = {u.access_key_id: u for u in users}
        self.skew_windows = skew_windows
        self.deny_without_mfa = deny_without_mfa
        self.delay: float = 0.0
        self.throttle: bool = False
        # Failure modes, for the answers a real endpoint (or a proxy in front of it) can give:
        self.expiry_offset: float = 0.0  # seconds added to the Expiration of every session issued
        self.rewrite: Callable[[int, str, str], tuple[int, str, str]] | None = None  # (status, type, body)
        self.hang: bool = False  # read each request, record it, never answer (until stop())
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
        self._released.set()  # hung handlers end: their clients see the connection close
        if server:
            server.shutdown()
            server.server_close()

    def __enter__(self) -> StsDouble:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- test controls and records ---------------------------------------------------------
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
        """Snapshot of requests: action, access_key_id, params, then status and code (error code or None)."""
        with self._lock:
            return [dict(r, params=dict(r["params"])) for r in self._requests]

    def users(self) -> list[User]:
        """The IAM users the double knows (their secrets must never be printed)."""
        with self._lock:
            return list(self._users.values())

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
        user = self._users[access_key_id]
        self._issue(_Caller(user, temporary=True, mfa=True), duration)
        return self.sessions()[-1]

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
        }
        with self._lock:
            self._requests.append(record)
        if self.delay:
            time.sleep(self.delay)
        request_id = str(uuid.uuid4())
        scope = re.search(r"Credential=[^/]+/\d{8}/[^/]+/(iam)/", headers.get("Authorization", ""))
        service = scope.group(1) if scope else "sts"
        namespace = IAM_NAMESPACE if service == "iam" else NAMESPACE
        try:
            caller = self._authenticate(method, path, query, headers, body)
            if self.throttle:
                raise StsError(400, "Throttling", "Rate exceeded")
            operations: dict[str, Callable[[_Caller, dict[str, str]], str]] = (
                {"GetUser": self._get_user}
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
            xml = (
                f'<{action}Response xmlns="{namespace}">\n  <{action}Result>\n{result}  </{action}Result>\n'
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
        """The caller and secret key for an access key id (and session token, if temporary)."""
        user = self._users.get(akid)
        if user:
            return _Caller(user), user.secret_access_key
        with self._lock:
            session = self._sessions.get(akid)
        if not session or token is None or not hmac.compare_digest(token, session.session_token):
            raise StsError(403, "InvalidClientTokenId", MSG_INVALID_TOKEN)
        if time.time() >= session.expires:
            raise StsError(400, "ExpiredToken", MSG_EXPIRED_TOKEN)
        return session.caller, session.secret_access_key

    def _key_owner(self, akid: str) -> _Caller | None:
        """Whose key this is (a user's long-term key or a session the double issued), or None."""
        user = self._users.get(akid)
        if user:
            return _Caller(user)
        with self._lock:
            session = self._sessions.get(akid)
        return session.caller if session else None

    def _check_mfa(self, user: User, serial: str | None, token_code: str | None) -> None:
        """Accept a code of the user's device within +/- skew_windows, once per device and window."""
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

    def _issue(self, caller: _Caller, duration: int) -> str:
        """Create and remember temporary credentials; return their <Credentials> XML."""
        akid = "ASIA" + "".join(secrets.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16))
        session = _Session(
            caller,
            b64encode(secrets.token_bytes(30)).decode(),
            b64encode(secrets.token_bytes(264)).decode(),
            time.time() + duration + self.expiry_offset,
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
        return self._issue(_Caller(caller.user, temporary=True, mfa=mfa), int(p.get("DurationSeconds", 43200)))

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
        mfa = caller.mfa
        if "SerialNumber" in p or "TokenCode" in p:
            self._check_mfa(caller.user, p.get("SerialNumber"), p.get("TokenCode"))
            mfa = True
        denied = f"User: {caller.arn} is not authorized to perform: sts:AssumeRole on resource: {arn}"
        if self.deny_without_mfa and not mfa:
            raise StsError(403, "AccessDenied", denied + " with an explicit deny in an identity-based policy")
        with self._lock:
            role = self._roles.get(arn)
        if role is None or (role.require_mfa and not mfa):
            raise StsError(403, "AccessDenied", denied)
        if duration > role.max_session_duration:
            raise StsError(400, "ValidationError", MSG_ROLE_MAX)
        new = _Caller(caller.user, temporary=True, mfa=mfa, role_arn=arn, session_name=p["RoleSessionName"])
        return self._issue(new, duration) + (
            f"    <AssumedRoleUser>\n      <AssumedRoleId>{_esc(new.user_id)}</AssumedRoleId>\n"
            f"      <Arn>{_esc(new.arn)}</Arn>\n    </AssumedRoleUser>\n"
        )

    def _get_user(self, caller: _Caller, p: dict[str, str]) -> str:
        """IAM GetUser for the caller: what AWS allows to MFA-backed credentials only.

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
                f"User: {caller.arn} is not authorized to perform: iam:GetUser on resource: user "
                f"{caller.user.name} with an explicit deny in an identity-based policy",
            )
        user = caller.user
        return (
            f"    <User>\n      <Path>/</Path>\n      <UserName>{_esc(user.name)}</UserName>\n"
            f"      <UserId>{_esc(user.user_id)}</UserId>\n      <Arn>{_esc(user.arn)}</Arn>\n"
            "      <CreateDate>2024-01-01T00:00:00Z</CreateDate>\n    </User>\n"
        )


class _Control:
    """The test controls over HTTP: ``POST <control_url>/<operation>`` with a JSON list of
    arguments answers ``{"result": ...}``. The path holds a secret, so no other local process can
    drive the double (the STS API itself takes any signed request, as a real endpoint would)."""

    SETTINGS = ("hang", "delay", "throttle", "expiry_offset", "deny_without_mfa", "skew_windows", "rewrite")

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
        status, xml, request_id = double._answer(self.command, self.path, self.headers, body)
        self.close_connection = True  # a stopped double must not keep answering on kept-alive sockets
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
    args = parser.parse_args(argv)
    users = [User(**user) for user in json.load(sys.stdin)] if args.users_from_stdin else [DEFAULT_USER]
    double = StsDouble(
        users, args.skew_windows, port=args.port, deny_without_mfa=not args.allow_without_mfa, control=args.control
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
