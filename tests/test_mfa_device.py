"""parse_mfa_serial: what is checked of an MFA device before any call to STS."""

from __future__ import annotations

import pytest

from mfa_process.config.mfa_device import parse_mfa_serial
from mfa_process.errors import EXIT_USAGE, InvalidMfaSerialError


def test_virtual_device_arn_gives_account_partition_and_region():
    device = parse_mfa_serial("arn:aws:iam::123456789012:mfa/alice")

    assert device.serial == "arn:aws:iam::123456789012:mfa/alice"
    assert device.account_id == "123456789012"
    assert device.partition == "aws"
    assert device.default_region == "us-east-1"


def test_virtual_device_arn_with_a_path_is_accepted():
    device = parse_mfa_serial("arn:aws:iam::123456789012:mfa/team/alice@example.com")

    assert device.account_id == "123456789012"


@pytest.mark.parametrize(
    "partition, region",
    [("aws-cn", "cn-north-1"), ("aws-us-gov", "us-gov-west-1")],
)
def test_other_partitions_map_to_their_regional_endpoint(partition, region):
    device = parse_mfa_serial(f"arn:{partition}:iam::123456789012:mfa/alice")

    assert device.partition == partition
    assert device.account_id == "123456789012"
    assert device.default_region == region


def test_hardware_serial_has_no_account():
    device = parse_mfa_serial("GAHT12345678")

    assert device.serial == "GAHT12345678"
    assert device.account_id is None
    assert device.partition == "aws"
    assert device.default_region == "us-east-1"


def test_serial_length_limits_are_those_of_sts():
    assert parse_mfa_serial("G" * 9).serial == "G" * 9
    assert parse_mfa_serial("G" * 256).serial == "G" * 256


def test_fido_key_is_rejected_with_the_reason():
    with pytest.raises(InvalidMfaSerialError) as caught:
        parse_mfa_serial("arn:aws:iam::123456789012:u2f/user/alice/yubikey-ABCDEFGHIJKLMNOP")

    message = str(caught.value)
    assert "FIDO" in message
    assert "console" in message
    assert "TOTP" in message
    assert caught.value.exit_code == EXIT_USAGE


@pytest.mark.parametrize(
    "serial",
    [
        pytest.param("GAHT1234", id="8-chars"),
        pytest.param("G" * 257, id="257-chars"),
        pytest.param("", id="empty"),
        pytest.param("arn:aws:iam::123456789012:mfa/al ice", id="space"),
        pytest.param("GAHT#12345678", id="hash"),
        pytest.param("GAHT12345678é", id="non-ascii-letter"),
        pytest.param("GAHT12345678\n", id="trailing-newline"),
    ],
)
def test_serial_with_bad_length_or_characters_is_rejected(serial):
    with pytest.raises(InvalidMfaSerialError) as caught:
        parse_mfa_serial(serial)

    assert "arn:aws:iam::ACCOUNT:mfa/NAME" in str(caught.value)


@pytest.mark.parametrize(
    "serial",
    [
        pytest.param("arn:aws:sts::123456789012:mfa/alice", id="sts-service"),
        pytest.param("arn:aws:iam::123456789012:user/alice", id="user-arn"),
        pytest.param("arn:aws:iam::12345678901:mfa/alice", id="11-digit-account"),
        pytest.param("arn:aws:iam:us-east-1:123456789012:mfa/alice", id="with-region"),
        pytest.param("arn:aws:iam::123456789012:mfa/", id="no-device-name"),
        pytest.param("arn:gcp:iam::123456789012:mfa/alice", id="not-an-aws-partition"),
    ],
)
def test_arn_that_is_not_an_iam_mfa_device_is_rejected(serial):
    with pytest.raises(InvalidMfaSerialError) as caught:
        parse_mfa_serial(serial)

    assert serial in str(caught.value)
    assert "arn:aws:iam::ACCOUNT:mfa/NAME" in str(caught.value)
