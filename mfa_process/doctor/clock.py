"""Link 6: this machine's clock against STS's. One unsigned GetCallerIdentity to the STS
endpoint a base profile's run would call (botocore resolves it: AWS_ENDPOINT_URL_STS, the
profile's endpoint_url, its region, else the MFA device's partition), its answer (an
authentication error: nothing is signed, nothing sent but the action's name) read only for its
Date header. Sessions are judged by this machine's clock (the 15-minute refresh margin, the MFA
age), and AWS refuses requests signed 15 minutes off: a clock more than a minute off deserves a
look, more than five is broken. No answer is no verdict: offline is not a broken setup."""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime
from typing import Any, Callable, Dict, List, Optional, Tuple

from .report import Finding, fail, ok, warning

TIMEOUT = 5.0
WARN_SKEW = 60.0
FAIL_SKEW = 300.0
CLOCK_FIX = "set this machine's clock right, and keep it so with network time (timedatectl set-ntp true on Linux)"
_WHY = {  # botocore's error for a request that got no answer, said plainly
    "EndpointConnectionError": "could not connect",
    "ConnectTimeoutError": f"no connection within {TIMEOUT:g} s",
    "ReadTimeoutError": f"no answer within {TIMEOUT:g} s",
    "ProxyConnectionError": "could not connect to the proxy",
    "SSLError": "TLS failed (a proxy's certificate? set AWS_CA_BUNDLE)",
}


class StsTime:
    """What an STS endpoint's Date said, and this machine's time halfway through the request."""

    __slots__ = ("endpoint", "server", "local")

    def __init__(self, endpoint: str, server: float, local: float) -> None:
        self.endpoint = endpoint
        self.server = server
        self.local = local

    @property
    def skew(self) -> float:
        """Seconds this machine is ahead (negative: behind). A Date is cut to the whole second:
        the middle of that second is the best guess."""
        return self.local - (self.server + 0.5)


class NoStsTime(Exception):
    """The endpoint gave no usable Date: ``str(error)`` says why, for the warning."""

    def __init__(self, endpoint: str, reason: str) -> None:
        super().__init__(reason)
        self.endpoint = endpoint


Target = Tuple[Optional[str], str]  # (profile, the region to use when it names none)


def check_clock(targets: List[Target], ask: Optional[Callable[[Any], StsTime]] = None) -> List[Finding]:
    """One finding per distinct STS endpoint of ``targets``."""
    clients: Dict[str, Any] = {}
    findings = []
    for profile, region in targets:
        try:
            client = sts_client(profile, region)
        except Exception as error:  # botocore's configuration errors: the files' checks say what is wrong
            findings.append(
                warning(f"clock: not checked: no STS client for profile {profile} ({type(error).__name__})")
            )
            continue
        clients.setdefault(client.meta.endpoint_url, client)
    for endpoint, client in clients.items():
        try:
            findings.append(judge((ask or ask_sts_time)(client)))
        except NoStsTime as error:
            findings.append(
                warning(
                    f"clock: not checked: STS at {error.endpoint} gave no time ({error})",
                    "nothing to do offline (--offline skips this); else check the network, any proxy and "
                    "AWS_ENDPOINT_URL_STS",
                )
            )
    return findings


def judge(answer: StsTime) -> Finding:
    skew = answer.skew
    if abs(skew) <= WARN_SKEW:
        return ok(f"clock: within {max(1, round(abs(skew)))} s of STS's ({answer.endpoint})")
    off = f"clock: {_amount(abs(skew))} {'ahead of' if skew > 0 else 'behind'} STS's ({answer.endpoint})"
    if abs(skew) <= FAIL_SKEW:
        return warning(off, CLOCK_FIX)
    return fail(f"{off}: sessions are judged by this clock, and AWS refuses requests signed 15 minutes off", CLOCK_FIX)


def sts_client(profile: Optional[str], region: str) -> Any:
    """An unsigned STS client for ``profile`` (None: botocore's default), with the endpoint and
    region a run would use, one attempt and short timeouts. No credentials are looked up."""
    import boto3
    import botocore
    import botocore.exceptions
    from botocore.config import Config

    try:
        session = boto3.Session(profile_name=profile)
    except botocore.exceptions.ProfileNotFound:
        session = boto3.Session()
    config = Config(
        signature_version=botocore.UNSIGNED,
        connect_timeout=TIMEOUT,
        read_timeout=TIMEOUT,
        retries={"total_max_attempts": 1, "mode": "standard"},
    )
    return session.client("sts", region_name=session.region_name or region, config=config)


def ask_sts_time(client: Any, clock: Callable[[], float] = time.time) -> StsTime:
    import botocore.exceptions

    endpoint = client.meta.endpoint_url
    headers: Dict[str, str] = {}

    def note(response_dict: Dict[str, Any], **kwargs: Any) -> None:
        headers.update({str(k).lower(): str(v) for k, v in (response_dict.get("headers") or {}).items()})

    client.meta.events.register("before-parse.sts.GetCallerIdentity", note)
    started = clock()
    try:
        client.get_caller_identity()
    except botocore.exceptions.ClientError:  # the answer expected: the request is not signed
        pass
    except botocore.exceptions.BotoCoreError as error:
        if not headers:  # an answer that does not parse still has its Date
            raise NoStsTime(endpoint, _WHY.get(type(error).__name__, type(error).__name__)) from None
    ended = clock()
    date = headers.get("date")
    if not date:
        raise NoStsTime(endpoint, "its answer has no Date header")
    try:
        server = parsedate_to_datetime(date).timestamp()
    except (TypeError, ValueError, IndexError):
        raise NoStsTime(endpoint, "its Date header is not a date") from None
    return StsTime(endpoint, server, (started + ended) / 2)


def _amount(seconds: float) -> str:
    return f"{round(seconds)} s" if seconds < 120 else f"{seconds / 60:.0f} min"
