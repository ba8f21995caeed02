"""Every setting, resolved once: flag > environment > base profile > default.

Reading the profile here uses the light INI reader, so the cache-hit path never needs
botocore. Values are checked before anything leaves the machine.
"""

from __future__ import annotations

from ..errors import ConfigError, InvalidDurationError, InvalidMfaSerialError, KeyStoreConflictError
from .aws_files import files_with_keys, merge_profile, read_profile, static_access_key_id
from .hit_settings import duration_seconds
from .mfa_device import parse_mfa_serial
from .recursion_guard import check_credential_process, check_not_resolving

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing on the cache-hit path
if TYPE_CHECKING:
    from typing import Mapping, Optional, Tuple, Union

    from .aws_files import Profile
    from .mfa_device import MfaDevice

DEFAULT_DURATION = 43200
MIN_DURATION, MAX_DURATION = 900, 129600  # what STS accepts for IAM users
DEFAULT_PROMPT = "auto"
DEFAULT_PROMPT_TIMEOUT = 60.0  # within the 60 s terraform's Go SDK gives a credential_process
DEFAULT_STS_TIMEOUT = 30.0  # the whole GetSessionToken call, retries included
LOCK_TIMEOUT_MARGIN = 5.0  # a waiter outlasts a holder that waits out both its prompt and STS
# botocore refreshes under 15 minutes left; serving less makes it run us before every call, so
# a session is served only with more left, and no duration may be that short.
REFRESH_MARGIN_SECONDS = 15 * 60
SHORTEST_DURATION = REFRESH_MARGIN_SECONDS + 1  # the one range every message and --help gives: 901..129600
# `mfa_key_store = keyring` in the base profile: its keys are in the OS keyring (keystore/). The
# cache names their sessions by `mfa_key_id`, the ID add and rotate record beside it, so that a
# hit needs no keyring; and a session signed by a key rotate replaced is never served again.
KEY_STORE_OPTION = "mfa_key_store"
KEY_ID_OPTION = "mfa_key_id"
KEYRING_STORE = "keyring"


# Where each setting comes from besides its flag, in precedence order after it: the environment
# variable and the base profile's key. `--help` is written from this table, so it never drifts.
SETTING_SOURCES = {
    "--mfa-serial": (None, "mfa_serial"),
    "--duration": ("MFA_PROCESS_DURATION", "duration_seconds"),
    "--max-mfa-age": ("MFA_PROCESS_MAX_MFA_AGE", "mfa_max_age"),
    "--prompt": ("MFA_PROCESS_PROMPT", "mfa_prompt"),
    "--prompt-timeout": ("MFA_PROCESS_PROMPT_TIMEOUT", "mfa_prompt_timeout"),
    "--sts-timeout": ("MFA_PROCESS_STS_TIMEOUT", "mfa_sts_timeout"),
    "--lock-timeout": ("MFA_PROCESS_LOCK_TIMEOUT", "mfa_lock_timeout"),
}


class Settings:
    """The resolved settings of one run (``known_base_access_key_id``: None means ask botocore)."""

    __slots__ = (
        "profile",
        "device",
        "duration",
        "lock_timeout",
        "known_base_access_key_id",
        "token_code",
        "refresh",
        "region",
        "prompt",
        "prompt_timeout",
        "sts_timeout",
        "mfa_process_command",
        "oath_account",
        "key_store",
        "max_mfa_age",
        "min_remaining",
    )

    def __init__(
        self,
        profile: str,
        device: MfaDevice,
        duration: int,
        lock_timeout: float,
        known_base_access_key_id: Optional[str],
        token_code: Optional[str],
        refresh: bool,
        region: Optional[str] = None,
        prompt: str = DEFAULT_PROMPT,
        prompt_timeout: float = DEFAULT_PROMPT_TIMEOUT,
        mfa_process_command: Optional[str] = None,
        oath_account: Optional[str] = None,
        sts_timeout: float = DEFAULT_STS_TIMEOUT,
        key_store: Optional[str] = None,
        max_mfa_age: Optional[int] = None,
        min_remaining: Optional[int] = None,
    ) -> None:
        self.profile = profile
        self.device = device
        self.duration = duration
        self.lock_timeout = lock_timeout
        self.known_base_access_key_id = known_base_access_key_id
        self.token_code = token_code
        self.refresh = refresh
        self.region = region  # the base profile's, for commands that pass it on (exec, env)
        self.prompt = prompt  # names from prompt.registry.PROMPTS, comma-separated: tried in order
        self.prompt_timeout = prompt_timeout
        self.sts_timeout = sts_timeout  # one deadline for the GetSessionToken call, retries included
        self.mfa_process_command = mfa_process_command  # `mfa_process` in the profile, as aws-vault
        self.oath_account = oath_account  # `mfa_oath_account`: the YubiKey OATH account for ykman
        self.key_store = key_store  # KEYRING_STORE, or None: the AWS files, as botocore reads them
        # aws:MultiFactorAuthAge a policy allows: a session is served only that long after its MFA
        self.max_mfa_age = max_mfa_age
        self.min_remaining = min_remaining  # --min-remaining: a session with less left is renewed now

    def replaced(self, **changes: object) -> "Settings":
        """A copy with ``changes`` (the server's renewals: no --refresh, no used --token-code)."""
        copy = Settings.__new__(Settings)
        for name in Settings.__slots__:
            setattr(copy, name, changes.pop(name) if name in changes else getattr(self, name))
        if changes:
            raise TypeError(f"no such settings: {', '.join(changes)}")
        return copy


def resolve_settings(
    profile_name: str,
    environ: Mapping[str, str],
    mfa_serial: Optional[str] = None,
    duration: Optional[Union[int, str]] = None,
    token_code: Optional[str] = None,
    lock_timeout: Optional[Union[float, str]] = None,
    refresh: bool = False,
    prompt: Optional[str] = None,
    prompt_timeout: Optional[Union[float, str]] = None,
    sts_timeout: Optional[Union[float, str]] = None,
    max_mfa_age: Optional[str] = None,
    min_remaining: Optional[str] = None,
) -> Settings:
    check_not_resolving(environ)  # first: inside our own base-key resolution, nothing else matters
    from_config, from_credentials = read_profile(profile_name, environ)
    profile = merge_profile(from_config, from_credentials)
    check_credential_process(profile_name, profile.get("credential_process", ""))
    key_store = _key_store(profile_name, profile, from_config, from_credentials, environ)

    def pick(flag_value: object, flag: str) -> Tuple[object, str]:
        env_name, profile_key = SETTING_SOURCES[flag]
        return _pick(flag_value, flag, env_name, environ, profile_key, profile_name, profile)

    serial, _ = pick(mfa_serial, "--mfa-serial")
    if not serial:
        raise InvalidMfaSerialError(
            f"profile '{profile_name}' has no mfa_serial; add `mfa_serial = arn:aws:iam::ACCOUNT:mfa/NAME` "
            "to it, or pass --mfa-serial"
        )
    waited = _seconds(
        *pick(prompt_timeout, "--prompt-timeout"),
        what="prompt timeout",
        default=DEFAULT_PROMPT_TIMEOUT,
    )
    sts_waited = _seconds(
        *pick(sts_timeout, "--sts-timeout"),
        what="STS timeout",
        default=DEFAULT_STS_TIMEOUT,
    )
    code_sources = _prompt(*pick(prompt, "--prompt"))
    # a chain may wait out the prompt timeout once per source before one answers
    asking = waited * _source_count(code_sources, profile.get("mfa_process") or None, environ)
    session_duration = _duration(*pick(duration, "--duration"))
    mfa_age = _max_mfa_age(*pick(max_mfa_age, "--max-mfa-age"))
    return Settings(
        profile=profile_name,
        device=parse_mfa_serial(str(serial)),
        duration=session_duration,
        lock_timeout=_seconds(
            *pick(lock_timeout, "--lock-timeout"),
            what="lock timeout",
            default=asking + sts_waited + LOCK_TIMEOUT_MARGIN,
        ),
        known_base_access_key_id=(
            keyring_cache_name(profile) if key_store else static_access_key_id(profile, from_config, from_credentials)
        ),
        token_code=_token_code(token_code),
        refresh=refresh,
        region=profile.get("region") or None,
        prompt=code_sources,
        prompt_timeout=waited,
        mfa_process_command=profile.get("mfa_process") or None,
        oath_account=profile.get("mfa_oath_account") or None,
        sts_timeout=sts_waited,
        key_store=key_store,
        max_mfa_age=mfa_age,
        min_remaining=_min_remaining(min_remaining, session_duration, mfa_age),
    )


def keyring_cache_name(profile: Profile) -> str:
    """The name a keyring profile's sessions are cached under: `keyring:<its key ID>`."""
    return f"{KEYRING_STORE}:{profile.get(KEY_ID_OPTION, '')}"


def max_mfa_age_of(profile_name: str, environ: Mapping[str, str]) -> Optional[int]:
    """The MFA max age a run for ``profile_name`` would use without flags (for `status`); None
    when there is none. Raises ConfigError as a run would (a malformed value, an unreadable file)."""
    from_config, from_credentials = read_profile(profile_name, environ)
    profile = merge_profile(from_config, from_credentials)
    env_name, profile_key = SETTING_SOURCES["--max-mfa-age"]
    return _max_mfa_age(*_pick(None, "", env_name, environ, profile_key, profile_name, profile))


def _key_store(
    profile_name: str, profile: Profile, from_config: Profile, from_credentials: Profile, environ: Mapping[str, str]
) -> Optional[str]:
    """Where the base keys are: KEYRING_STORE, or None for the files. Keys in both is an error:
    mfa-process would use the keyring's, every SDK the file's."""
    value = profile.get(KEY_STORE_OPTION)
    if not value:
        return None
    if value.strip() != KEYRING_STORE:
        raise ConfigError(
            f"{KEY_STORE_OPTION} '{value}' in profile '{profile_name}' is not '{KEYRING_STORE}'; "
            f"set it to {KEYRING_STORE}, or remove it to read the keys from the AWS credentials file"
        )
    in_files = files_with_keys(from_config, from_credentials, environ)
    if in_files or profile.get("credential_process"):
        where = in_files[0] if in_files else "its credential_process"
        raise KeyStoreConflictError(
            f"profile '{profile_name}' has keys in {where} and {KEY_STORE_OPTION} = {KEYRING_STORE}: mfa-process "
            "would use the keyring's, other tools the file's. Move them into the keyring with "
            f"`mfa-process add --profile {profile_name} --from-credentials-file`, or remove {KEY_STORE_OPTION} "
            "to use the file's"
        )
    return KEYRING_STORE


def _pick(
    flag_value: object,
    flag: str,
    env_name: Optional[str],
    environ: Mapping[str, str],
    profile_key: str,
    profile_name: str,
    profile: Profile,
) -> Tuple[object, str]:
    """The first value set, in precedence order, with where it came from (for error messages)."""
    if flag_value is not None:
        return flag_value, flag
    if env_name and environ.get(env_name):
        return environ[env_name], env_name
    if profile.get(profile_key):
        return profile[profile_key], f"{profile_key} in profile '{profile_name}'"
    return None, "default"


def _duration(value: object, source: str) -> int:
    if value is None:
        return DEFAULT_DURATION
    try:
        seconds = int(str(value).strip())
    except ValueError:
        raise InvalidDurationError(f"duration '{value}' ({source}) is not a whole number of seconds") from None
    if not SHORTEST_DURATION <= seconds <= MAX_DURATION:
        raise InvalidDurationError(
            f"duration {seconds} s ({source}) is outside {SHORTEST_DURATION}..{MAX_DURATION}: STS accepts at most "
            f"{MAX_DURATION}, and a session must outlast the {REFRESH_MARGIN_SECONDS // 60}-minute refresh margin "
            "or every SDK call would prompt again; for example 3600"
        )
    return seconds


def _source_count(prompt: str, mfa_process_command: Optional[str], environ: Mapping[str, str]) -> int:
    """How many code sources ``prompt`` stands for here (`auto` as many as it would try)."""
    if "auto" not in prompt.split(","):
        return len(prompt.split(","))
    from ..prompt.choose import source_names

    try:
        return max(1, len(source_names(prompt, mfa_process_command, environ)))
    except Exception:  # what it finds is the code source's to report, when a code is asked for
        return len(prompt.split(","))


def _max_mfa_age(value: object, source: str) -> Optional[int]:
    if value is None:
        return None
    seconds = duration_seconds(str(value))
    if seconds is None:
        raise ConfigError(f"MFA max age '{value}' ({source}) is not a duration such as 3600, 90m or 1h")
    if seconds <= REFRESH_MARGIN_SECONDS:
        raise ConfigError(
            f"MFA max age {seconds} s ({source}) is not longer than the {REFRESH_MARGIN_SECONDS // 60}-minute refresh "
            "margin: no session could be served; use the age your policy allows, for example 1h"
        )
    return seconds


def _min_remaining(value: Optional[str], duration: int, max_mfa_age: Optional[int]) -> Optional[int]:
    """--min-remaining, checked against what a new session can give: its duration, or its MFA
    max age when that is shorter."""
    if value is None:
        return None
    seconds = duration_seconds(value)
    if seconds is None:
        raise ConfigError(f"--min-remaining '{value}' is not a duration such as 4h, 90m or 3600")
    can_give, limit = duration, f"the session duration is {duration} s"
    fix = "ask for less, or raise duration_seconds (up to 129600)"
    if max_mfa_age is not None and max_mfa_age < duration:
        can_give, limit = max_mfa_age, f"the MFA max age is {max_mfa_age} s"
        fix = "ask for less: no session is served longer after its MFA than mfa_max_age allows"
    if seconds >= can_give:
        raise ConfigError(f"--min-remaining {seconds} s is not less than a new session gives: {limit}; {fix}")
    return seconds


def _seconds(value: object, source: str, what: str, default: float) -> float:
    if value is None:
        return default
    try:
        seconds = float(str(value).strip())
    except ValueError:
        seconds = -1.0
    if not 0 < seconds < float("inf"):
        raise ConfigError(f"{what} '{value}' ({source}) must be a positive number of seconds")
    return seconds


def _token_code(value: Optional[str]) -> Optional[str]:
    if value is None:
        return None
    from ..prompt.codes import require_token_code  # only with --token-code: off the cache-hit path

    return require_token_code(value)


def _prompt(value: object, source: str) -> str:
    """One code source, or a comma-separated chain of them tried in order (`ykman, terminal`),
    normalized to names joined by commas."""
    from ..prompt.registry import PROMPTS

    if value is None:
        return DEFAULT_PROMPT
    names = [name.strip() for name in str(value).split(",")]
    unknown = [name for name in names if name not in PROMPTS]
    if unknown:
        shown = ", ".join(f"'{name}'" for name in unknown)
        raise ConfigError(
            f"mfa_prompt {shown} ({source}) is not one of: {', '.join(PROMPTS)} (or several of them, comma-separated)"
        )
    return ",".join(names)
