"""What an MFA serial tells us before any call: validity, account, partition, STS region."""

from __future__ import annotations

import re

from ..errors import InvalidMfaSerialError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing on the cache-hit path
if TYPE_CHECKING:
    from typing import Optional

# STS's own constraint on SerialNumber.
_SERIAL = re.compile(r"[\w+=/:,.@-]{9,256}", re.ASCII)
_DEVICE_ARN = re.compile(r"arn:(?P<partition>aws[a-z-]*):iam::(?P<account>[0-9]{12}):(?P<kind>mfa|u2f)/.+")

# A regional endpoint per partition: tokens from the global endpoint fail in opt-in regions.
_PARTITION_REGION = {
    "aws": "us-east-1",
    "aws-cn": "cn-north-1",
    "aws-us-gov": "us-gov-west-1",
    "aws-iso": "us-iso-east-1",
    "aws-iso-b": "us-isob-east-1",
}


class MfaDevice:
    """A validated MFA serial; ``account_id`` is None for hardware serials like GAHT12345678."""

    __slots__ = ("serial", "account_id", "partition")

    def __init__(self, serial: str, account_id: Optional[str], partition: str) -> None:
        self.serial = serial
        self.account_id = account_id
        self.partition = partition

    @property
    def default_region(self) -> str:
        return _PARTITION_REGION.get(self.partition, "us-east-1")


def parse_mfa_serial(serial: str) -> MfaDevice:
    """Validate ``serial`` the way STS will, and reject FIDO keys that STS cannot use."""
    if not _SERIAL.fullmatch(serial):
        raise InvalidMfaSerialError(
            f"mfa_serial '{serial}' is not an MFA device ARN (arn:aws:iam::ACCOUNT:mfa/NAME) "
            "or hardware serial; copy it from IAM > Users > Security credentials"
        )
    arn = _DEVICE_ARN.fullmatch(serial)
    if arn is None:
        if serial.startswith("arn:"):
            raise InvalidMfaSerialError(
                f"mfa_serial '{serial}' is not an IAM MFA device ARN (arn:aws:iam::ACCOUNT:mfa/NAME)"
            )
        return MfaDevice(serial, None, "aws")
    if arn.group("kind") == "u2f":
        raise InvalidMfaSerialError(
            f"mfa_serial '{serial}' is a FIDO security key, which AWS accepts only for console "
            "sign-in; register a virtual or hardware TOTP device for API use"
        )
    return MfaDevice(serial, arn.group("account"), arn.group("partition"))
