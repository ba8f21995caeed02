"""One STS AssumeRole of a role profile, signed with the MFA session (for the server's
`--role-profile`). The role session keeps the MFA context of its source, so a trust policy
that asks for MFA accepts it; AWS caps it at one hour (role chaining), and it is never served
longer than the MFA session it came from (a policy on aws:MultiFactorAuthAge counts from that
session's code)."""

from __future__ import annotations

import calendar
import time
from typing import Any, Callable, Optional

from ..config.role_profile import RoleProfile
from ..errors import AssumeRoleError, SessionExpiresTooSoonError
from .credentials import Credentials

# A role session with this little left on arrival is refused: STS's clock and ours disagree (a
# role lasts 900 s at least).
MIN_SECONDS_LEFT = 60


def _utc(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(epoch))


class AssumedRoleProvider:
    """Role sessions of ``role``, each signed with a session ``source(min_remaining)`` gives: one
    with more than ``min_remaining`` seconds left (None: as the command line asked)."""

    def __init__(
        self,
        role: RoleProfile,
        source: Callable[[Optional[int]], Credentials],
        base_profile: str,
        default_region: str,
        sts_timeout: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.role = role
        self.source = source
        self.base_profile = base_profile
        self.default_region = default_region
        self.sts_timeout = sts_timeout
        self.clock = clock

    def retrieve(self, min_remaining: Optional[int] = None) -> Credentials:
        source = self.source(min_remaining)
        credentials = self._credentials(self._assume_role(source))
        now = self.clock()
        if credentials.seconds_left(now) <= MIN_SECONDS_LEFT:
            raise SessionExpiresTooSoonError(
                f"STS returned a session of role {self.role.role_arn} that expires at {_utc(credentials.expires_at)}; "
                f"this machine's clock says {_utc(now)}: check the clock"
            )
        return credentials.until(min(credentials.expires_at, source.expires_at))

    def _credentials(self, response: Any) -> Credentials:
        """The role session in a parsed answer, or an error naming what is missing (never a value)."""
        issued = response.get("Credentials") if isinstance(response, dict) else None
        fields = ("AccessKeyId", "SecretAccessKey", "SessionToken")
        if not isinstance(issued, dict):
            missing = ["Credentials"]
        else:
            missing = [name for name in fields if not (isinstance(issued.get(name), str) and issued[name])]
            if not hasattr(issued.get("Expiration"), "utctimetuple"):
                missing.append("Expiration")
        if missing:
            raise AssumeRoleError(
                f"STS answered AssumeRole of {self.role.role_arn} without {', '.join(missing)}; "
                "check AWS_ENDPOINT_URL_STS / the profile's endpoint_url and any proxy"
            )
        assert isinstance(issued, dict)
        expires_at = calendar.timegm(issued["Expiration"].utctimetuple())
        return Credentials(
            issued["AccessKeyId"], issued["SecretAccessKey"], issued["SessionToken"], expires_at, self.role.account_id
        )

    def _assume_role(self, source: Credentials) -> Any:
        import boto3
        import botocore.exceptions
        from botocore.config import Config

        config = Config(
            connect_timeout=min(10.0, self.sts_timeout),
            read_timeout=min(20.0, self.sts_timeout),
            retries={"max_attempts": 2, "mode": "standard"},
        )
        client = boto3.Session(profile_name=self.base_profile).client(
            "sts",
            region_name=self.role.region or self.default_region,
            aws_access_key_id=source.access_key_id,
            aws_secret_access_key=source.secret_access_key,
            aws_session_token=source.session_token,
            config=config,
        )
        arguments = {
            "RoleArn": self.role.role_arn,
            "RoleSessionName": self.role.session_name or f"mfa-process-{int(self.clock())}",
            "DurationSeconds": self.role.duration,
        }
        if self.role.external_id:
            arguments["ExternalId"] = self.role.external_id
        try:
            return client.assume_role(**arguments)
        except botocore.exceptions.ClientError as error:
            details = error.response.get("Error", {})
            code, message = details.get("Code", "?"), details.get("Message", "")
            fix = (
                "check that the role's trust policy lets the IAM user of profile "
                f"'{self.base_profile}' assume it with MFA"
                if code == "AccessDenied"
                else "check the role profile"
            )
            raise AssumeRoleError(
                f"AssumeRole of {self.role.role_arn} (profile '{self.role.name}') failed: {code}: {message}; {fix}"
            ) from error
        except botocore.exceptions.BotoCoreError as error:
            raise AssumeRoleError(f"AssumeRole of {self.role.role_arn} failed: {error}") from error
