"""MFA age (mfa_max_age, --max-mfa-age) and --min-remaining: read as settings, applied by the
provider and by the cache hit alike (end to end with moved clocks: tests/test_mfa_age_e2e.py)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from mfa_process.cli.fast_hit import cached_output
from mfa_process.config.hit_settings import duration_seconds
from mfa_process.config.settings import resolve_settings
from mfa_process.errors import ConfigError
from mfa_process.session.cache import SessionCache, SessionKey
from mfa_process.session.cache_dir import default_cache_dir
from mfa_process.session.cached_provider import CachedSessionProvider
from mfa_process.session.credentials import Credentials, served_until

SERIAL = "arn:aws:iam::123456789012:mfa/alice"
BASE_KEY = "AKIABASEKEY000000001"


def write(tmp_path: Path, extra: str = "") -> dict:
    (tmp_path / "config").write_text(f"[profile base]\nmfa_serial = {SERIAL}\n{extra}")
    (tmp_path / "credentials").write_text(f"[base]\naws_access_key_id = {BASE_KEY}\naws_secret_access_key = s\n")
    return {
        "HOME": str(tmp_path),
        "AWS_CONFIG_FILE": str(tmp_path / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
    }


@pytest.mark.parametrize(
    "text, seconds",
    [("3600", 3600), ("3600s", 3600), ("90m", 5400), ("1h", 3600), (" 2h ", 7200), ("1d", None), ("1.5h", None)],
)
def test_durations_read_as_seconds(text, seconds):
    assert duration_seconds(text) == seconds


def test_the_max_age_comes_from_flag_environment_or_profile(tmp_path):
    environ = write(tmp_path, "mfa_max_age = 1h\n")

    assert resolve_settings("base", environ).max_mfa_age == 3600
    assert resolve_settings("base", {**environ, "MFA_PROCESS_MAX_MFA_AGE": "90m"}).max_mfa_age == 5400
    assert resolve_settings("base", environ, max_mfa_age="2h").max_mfa_age == 7200
    assert resolve_settings("base", write(tmp_path)).max_mfa_age is None


@pytest.mark.parametrize(
    "value, says",
    [
        ("15m", "MFA max age 900 s (mfa_max_age in profile 'base') is not longer than the 15-minute refresh margin"),
        ("soon", "MFA max age 'soon' (mfa_max_age in profile 'base') is not a duration such as 3600, 90m or 1h"),
    ],
)
def test_a_max_age_no_session_could_be_served_under_is_refused(tmp_path, value, says):
    with pytest.raises(ConfigError, match=says.replace("(", r"\(").replace(")", r"\)")):
        resolve_settings("base", write(tmp_path, f"mfa_max_age = {value}\n"))


def test_a_min_remaining_a_new_session_cannot_give_is_refused_with_the_numbers(tmp_path):
    environ = write(tmp_path, "duration_seconds = 14400\n")

    assert resolve_settings("base", environ, min_remaining="3h").min_remaining == 10800
    with pytest.raises(
        ConfigError,
        match="--min-remaining 18000 s is not less than a new session gives: the session duration is 14400 s",
    ):
        resolve_settings("base", environ, min_remaining="5h")
    with pytest.raises(ConfigError, match="the MFA max age is 3600 s"):
        resolve_settings("base", environ, min_remaining="2h", max_mfa_age="1h")


def test_served_until_is_the_mfa_time_plus_the_max_age_when_sooner():
    assert served_until(10_000, 1000.9, None) == 10_000
    assert served_until(10_000, 1000.9, 3600) == 4600  # whole seconds, never later
    assert served_until(4000, 1000.0, 3600) == 4000


# --- the provider and the hit agree -------------------------------------------------------------------


def store(environ: dict, mfa_minutes_ago: float, keep_field: bool = True, hours_left: int = 12) -> Credentials:
    now = time.time()
    credentials = Credentials("ASIAHIT", "secret", "token", int(now) + hours_left * 3600, "123456789012")
    cache = SessionCache(default_cache_dir(environ))
    key = SessionKey("base", BASE_KEY, SERIAL, 43200)
    path = cache.store(key, credentials, issued_at=now, mfa_authenticated_at=now - mfa_minutes_ago * 60)
    if not keep_field:  # as a version before mfa_authenticated_at wrote it: the issued time stands in
        text = Path(path).read_text()
        Path(path).write_text("".join(line for line in text.splitlines(True) if "mfa_authenticated_at" not in line))
    return credentials


def full_path(environ: dict):
    settings = resolve_settings("base", environ)
    provider = CachedSessionProvider(SessionCache(default_cache_dir(environ)), settings, None, None)
    session = provider.cached()
    return None if session is None else session.credentials.to_json()


def test_a_session_is_served_until_its_mfa_is_max_age_minus_the_margin_old(tmp_path):
    environ = write(tmp_path, "mfa_max_age = 1h\n")
    stored = store(environ, mfa_minutes_ago=30)

    served = cached_output(["--profile", "base"], environ)

    assert served is not None and served == full_path(environ)
    expiration = json.loads(served)["Expiration"]
    assert expiration != stored.expiration  # brought forward from 12 h to MFA + 1 h
    (session_file,) = Path(default_cache_dir(environ)).glob("*.json")
    mfa_at = json.loads(session_file.read_text())["mfa_authenticated_at"]
    assert expiration == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(mfa_at) + 3600))


def test_a_session_whose_mfa_is_too_old_is_not_served_by_either_path(tmp_path):
    environ = write(tmp_path, "mfa_max_age = 1h\n")
    store(environ, mfa_minutes_ago=50)  # 10 minutes left under the policy: inside the margin

    assert cached_output(["--profile", "base"], environ) is None
    assert full_path(environ) is None
    assert full_path(write(tmp_path)) is not None  # without the policy it is fine


def test_a_file_without_the_mfa_time_counts_from_its_issue(tmp_path):
    environ = write(tmp_path, "mfa_max_age = 1h\n")
    store(environ, mfa_minutes_ago=50, keep_field=False)  # issued now: the MFA time is taken as now

    served = cached_output(["--profile", "base"], environ)

    assert served is not None and served == full_path(environ)


def test_min_remaining_turns_a_cached_session_with_less_left_into_a_miss(tmp_path):
    environ = write(tmp_path)
    store(environ, mfa_minutes_ago=0, hours_left=11)  # a 12-hour session issued an hour ago

    def cached(min_remaining: str):
        settings = resolve_settings("base", environ, min_remaining=min_remaining)
        return CachedSessionProvider(SessionCache(default_cache_dir(environ)), settings, None, None).cached()

    assert cached("10h") is not None
    assert cached("690m") is None  # 11 h 30 m, more than is left: a new session is due now
