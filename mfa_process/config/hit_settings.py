"""The four settings a cache hit needs, without settings.py's imports: the session key.

``settings.resolve_settings`` reads the profile with configparser, checks the MFA serial with
regular expressions and names its errors; a cache hit needs only the key of the session to
serve. ``hit_session_key`` gives that key exactly as ``resolve_settings`` would (flag >
environment > profile > default; the plain form has no flags), or None whenever
``resolve_settings`` would fail, would need botocore to learn the base key, or the files are
not plain enough to be sure (see ini_subset). None sends the caller down the full path, which
then says what is wrong. Tests hold it to resolve_settings' answers.
"""

from __future__ import annotations

from .aws_files import merge_profile, static_access_key_id
from .ini_subset import read_profile_plainly
from .recursion_guard import calls_mfa_process, resolving_profile

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing on the cache-hit path
if TYPE_CHECKING:
    from typing import Dict, Mapping, Optional, Tuple

    Profile = Dict[str, str]

# settings.py's values (a test keeps them equal): the default and the durations it accepts.
DEFAULT_DURATION = 43200
MIN_DURATION, MAX_DURATION = 900, 129600
REFRESH_MARGIN_SECONDS = 15 * 60
KEY_STORE_OPTION, KEY_ID_OPTION, KEYRING_STORE = "mfa_key_store", "mfa_key_id", "keyring"
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "": 1}

# Settings a hit does not use but resolve_settings checks: (environment variable, profile key).
_TIMEOUTS = (
    ("MFA_PROCESS_PROMPT_TIMEOUT", "mfa_prompt_timeout"),
    ("MFA_PROCESS_STS_TIMEOUT", "mfa_sts_timeout"),
    ("MFA_PROCESS_LOCK_TIMEOUT", "mfa_lock_timeout"),
)
_SERIAL_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_+=/:,.@-")
_PARTITION_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz-")


def hit_session_key(
    profile_name: str, environ: Mapping[str, str]
) -> Optional[Tuple[str, str, str, int, Optional[int]]]:
    """(profile, base access key id, MFA serial, duration, MFA max age): the session key
    resolve_settings would give for ``profile_name``, and how long after its MFA a session may
    be served (None: no limit); or None (not sure)."""
    if resolving_profile(environ):
        return None
    parts = read_profile_plainly(profile_name, environ)
    if parts is None:
        return None
    from_config, from_credentials = parts
    profile = merge_profile(from_config, from_credentials)
    if calls_mfa_process(profile.get("credential_process", "")):
        return None
    serial = profile.get("mfa_serial")
    if not serial or not is_usable_mfa_serial(serial):
        return None
    duration = _duration(_pick(environ, profile, "MFA_PROCESS_DURATION", "duration_seconds"))
    if duration is None:
        return None
    if not all(_is_seconds(_pick(environ, profile, env_name, key)) for env_name, key in _TIMEOUTS):
        return None
    if not _is_prompt_name(_pick(environ, profile, "MFA_PROCESS_PROMPT", "mfa_prompt")):
        return None
    max_age_text = _pick(environ, profile, "MFA_PROCESS_MAX_MFA_AGE", "mfa_max_age")
    max_age = None if max_age_text is None else duration_seconds(max_age_text)
    if max_age_text is not None and (max_age is None or max_age <= REFRESH_MARGIN_SECONDS):
        return None
    if profile.get(KEY_STORE_OPTION):
        base_access_key_id = _keyring_identity(profile, from_config, from_credentials)
    else:
        base_access_key_id = static_access_key_id(profile, from_config, from_credentials)
    if base_access_key_id is None:  # botocore decides, or something is wrong: the full path says
        return None
    return profile_name, base_access_key_id, serial, duration, max_age


def duration_seconds(text: str) -> Optional[int]:
    """Seconds of ``3600``, ``3600s``, ``90m`` or ``1h``; None for anything else. settings.py
    reads durations with this function too, so both paths agree."""
    text = text.strip()
    unit = text[-1:] if text[-1:] in _UNIT_SECONDS else ""
    number = text[: len(text) - len(unit)]
    if not (0 < len(number) <= 9 and number.isascii() and number.isdigit()):
        return None
    return int(number) * _UNIT_SECONDS[unit]


def _keyring_identity(profile: Profile, from_config: Profile, from_credentials: Profile) -> Optional[str]:
    """The keyring cache name, when resolve_settings would accept this profile's keys as the keyring's."""
    if profile[KEY_STORE_OPTION].strip() != KEYRING_STORE or profile.get("credential_process"):
        return None
    for part in (from_config, from_credentials):
        if part.get("aws_access_key_id") or part.get("aws_secret_access_key"):
            return None
    return f"{KEYRING_STORE}:{profile.get(KEY_ID_OPTION, '')}"  # settings.keyring_cache_name


def is_usable_mfa_serial(serial: str) -> bool:
    """True when mfa_device.parse_mfa_serial accepts ``serial`` (without its regular expressions)."""
    if not 9 <= len(serial) <= 256 or not _SERIAL_CHARS.issuperset(serial):
        return False
    if not serial.startswith("arn:"):
        return True  # a hardware serial
    partition, _, rest = serial[4:].partition(":")  # arn:PARTITION:iam::ACCOUNT:mfa/NAME
    if not (partition.startswith("aws") and _PARTITION_CHARS.issuperset(partition[3:])):
        return False
    if not rest.startswith("iam::"):
        return False
    account, kind = rest[5:17], rest[17:22]
    return len(account) == 12 and account.isdigit() and account.isascii() and kind == ":mfa/" and len(rest) > 22


def _pick(environ: Mapping[str, str], profile: Profile, env_name: str, profile_key: str) -> Optional[str]:
    """settings._pick without a flag: a non-empty environment value, else a non-empty profile one."""
    if environ.get(env_name):
        return environ[env_name]
    return profile.get(profile_key) or None


def _duration(value: Optional[str]) -> Optional[int]:
    if value is None:
        return DEFAULT_DURATION
    try:
        seconds = int(value.strip())
    except ValueError:
        return None
    if not MIN_DURATION <= seconds <= MAX_DURATION or seconds <= REFRESH_MARGIN_SECONDS:
        return None
    return seconds


def _is_seconds(value: Optional[str]) -> bool:
    if value is None:
        return True
    try:
        seconds = float(value.strip())
    except ValueError:
        return False
    return 0 < seconds < float("inf")


def _is_prompt_name(value: Optional[str]) -> bool:
    if value is None:
        return True
    from ..prompt import PROMPTS  # only when a prompt is named: the names, nothing else

    return all(name.strip() in PROMPTS for name in value.split(","))
