"""Links 2 and 3: which base profiles to check, and each one's keys (keys.py), its mfa_serial
(shape, and a partition that agrees with the region its STS call goes to) and the rest of its
settings, read by the same resolve_settings every run uses."""

from __future__ import annotations

from typing import Iterable, List, Mapping, Optional, Tuple

from ..config.aws_files import merge_profile
from ..config.mfa_device import MfaDevice, parse_mfa_serial
from ..config.settings import Settings, resolve_settings
from ..errors import (
    ConfigError,
    ConfigFileError,
    InvalidMfaSerialError,
    KeyStoreConflictError,
    ProfileNotFoundError,
    RecursiveProfileError,
)
from .files import AwsFiles, Profiles
from .keys import check_keys
from .report import FAIL, OK, Finding, fail, from_message, ok

# A serial that passes every check: the rest of the settings are still read when mfa_serial is not.
_STAND_IN_SERIAL = "GAHT00000000"
SERIAL_FIX = "copy it from IAM > Users > Security credentials > Multi-factor authentication"
# A region's partition, by its name's prefix (longest first); any other region is in `aws`.
_REGION_PARTITIONS = (
    ("us-isob-", "aws-iso-b"),
    ("us-isof-", "aws-iso-f"),
    ("eu-isoe-", "aws-iso-e"),
    ("us-iso-", "aws-iso"),
    ("us-gov-", "aws-us-gov"),
    ("cn-", "aws-cn"),
)


def base_profile_names(profiles: Profiles, named: Optional[str], plugin_targets: Iterable[str]) -> List[str]:
    """``named`` (--profile) alone; else every profile with an mfa_serial or keys in the keyring
    that gets no credentials elsewhere (as `status` lists them), and every existing profile a
    credential_process line runs mfa-process for."""
    if named is not None:
        return [named]
    found = []
    for name, (from_config, from_credentials) in profiles.items():
        profile = merge_profile(from_config, from_credentials)
        if profile.get("credential_process") or profile.get("role_arn"):
            continue  # gets its keys elsewhere: an mfa-process profile itself, or a role
        if profile.get("mfa_serial") or profile.get("mfa_key_store"):
            found.append(name)
    found.extend(name for name in plugin_targets if name in profiles and name not in found)
    return found


class BaseProfile:
    """What the later checks need of a checked base profile: its settings as a run would resolve
    them (with a stand-in serial when its own is broken: the code source is still known), and its
    MFA device when the serial is good."""

    __slots__ = ("name", "settings", "device")

    def __init__(self, name: str, settings: Optional[Settings], device: Optional[MfaDevice]) -> None:
        self.name = name
        self.settings = settings
        self.device = device


def check_base_profile(name: str, files: AwsFiles, environ: Mapping[str, str]) -> Tuple[List[Finding], BaseProfile]:
    """The findings on one base profile: it exists, its keys, its mfa_serial, its other settings."""
    profiles = files.profiles or {}
    settings, error = _resolve(name, environ)
    if name not in profiles:
        message = str(error) if isinstance(error, ProfileNotFoundError) else f"profile '{name}' is in neither file"
        return [from_message(FAIL, "", message)], BaseProfile(name, None, None)
    from_config, from_credentials = profiles[name]
    profile = merge_profile(from_config, from_credentials)
    serial_finding = check_mfa_serial(name, profile, environ, files.config_path)
    findings = [check_keys(name, from_config, from_credentials, environ, error), serial_finding]
    if isinstance(error, InvalidMfaSerialError):  # said above: the rest is read as if it were right
        settings, error = _resolve(name, environ, _STAND_IN_SERIAL)
    said = (KeyStoreConflictError, RecursiveProfileError, InvalidMfaSerialError, ProfileNotFoundError, ConfigFileError)
    if error is None and settings is not None:
        findings.append(ok(f"profile {name}: settings: {describe(settings)}"))
    elif error is not None and not isinstance(error, said) and not _key_store_error(profile, error):
        findings.append(from_message(FAIL, f"profile {name}: settings", str(error)))
    device = settings.device if settings is not None and serial_finding.status == OK else None
    return findings, BaseProfile(name, settings, device)


def check_mfa_serial(name: str, profile: Mapping[str, str], environ: Mapping[str, str], config_path: str) -> Finding:
    subject = f"profile {name}: mfa_serial"
    serial = profile.get("mfa_serial")
    if not serial:
        return fail(
            f"{subject}: none",
            f"add `mfa_serial = arn:aws:iam::ACCOUNT:mfa/NAME` to [profile {name}] in {config_path}; {SERIAL_FIX}",
        )
    try:
        device = parse_mfa_serial(serial)
    except InvalidMfaSerialError as error:
        return from_message(FAIL, subject, str(error), fix=SERIAL_FIX)
    region, source = _region(profile, environ)
    if region and device.account_id is not None and region_partition(region) != device.partition:
        where = "AWS_DEFAULT_REGION" if source == "environment" else f"region in [profile {name}]"
        return fail(
            f"{subject}: {serial} is a device of partition {device.partition}, but {where} is {region}, in "
            f"{region_partition(region)}: STS there does not know it",
            f"set {where} to a region of {device.partition}, such as {device.default_region}",
        )
    return ok(f"{subject}: {serial} ({_device_facts(device)})")


def region_partition(region: str) -> str:
    return next((partition for prefix, partition in _REGION_PARTITIONS if region.startswith(prefix)), "aws")


def describe(settings: Settings) -> str:
    """What a run would do, in a few words: its session length, code source, MFA age limit."""
    parts = [f"sessions of {_duration(settings.duration)}", f"code from {settings.prompt}"]
    if settings.max_mfa_age is not None:
        parts.append(f"MFA max age {_duration(settings.max_mfa_age)}")
    return ", ".join(parts)


def _duration(seconds: int) -> str:
    """``12h``, ``90m`` or ``1000 s``: as the settings themselves may be written."""
    if seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    return f"{seconds // 60}m" if seconds % 60 == 0 else f"{seconds} s"


def _device_facts(device: MfaDevice) -> str:
    if device.account_id is None:
        return "a hardware device's serial"
    return f"account {device.account_id}, partition {device.partition}"


def _region(profile: Mapping[str, str], environ: Mapping[str, str]) -> Tuple[str, str]:
    """The region botocore gives the STS client, and where it comes from (it reads
    AWS_DEFAULT_REGION before the profile's region)."""
    if environ.get("AWS_DEFAULT_REGION"):
        return environ["AWS_DEFAULT_REGION"], "environment"
    return profile.get("region", ""), "profile"


def _resolve(
    name: str, environ: Mapping[str, str], mfa_serial: Optional[str] = None
) -> Tuple[Optional[Settings], Optional[ConfigError]]:
    try:
        return resolve_settings(name, environ, mfa_serial=mfa_serial), None
    except ConfigError as error:
        return None, error


def _key_store_error(profile: Mapping[str, str], error: ConfigError) -> bool:
    """A bad mfa_key_store value: the keys' finding says it."""
    return bool(profile.get("mfa_key_store")) and str(error).startswith("mfa_key_store")
