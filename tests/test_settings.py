"""resolve_settings: flag > environment > profile > default, checked before anything leaves the machine."""

from __future__ import annotations

import shlex
import sys

import botocore.session
import pytest

from mfa_process.config.settings import (
    DEFAULT_DURATION,
    DEFAULT_PROMPT_TIMEOUT,
    DEFAULT_STS_TIMEOUT,
    LOCK_TIMEOUT_MARGIN,
    resolve_settings,
)
from mfa_process.errors import (
    ConfigError,
    InvalidDurationError,
    InvalidMfaSerialError,
    InvalidTokenCodeError,
    RecursiveProfileError,
)

SERIAL = "arn:aws:iam::123456789012:mfa/alice"
BASE_KEY = "AKIABASEKEY000000001"
KEYS = f"aws_access_key_id = {BASE_KEY}\naws_secret_access_key = base-secret\n"


@pytest.fixture
def aws_files(tmp_path, monkeypatch):
    """write(config, credentials) -> the environ that names the two files."""
    monkeypatch.setenv("HOME", str(tmp_path))  # no real ~/.aws, for read_profile or botocore

    def write(config="", credentials=""):
        (tmp_path / "config").write_text(config)
        (tmp_path / "credentials").write_text(credentials)
        return {
            "AWS_CONFIG_FILE": str(tmp_path / "config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
        }

    return write


@pytest.fixture
def base(aws_files):
    """The usual setup: mfa_serial in config, long-term keys in credentials."""
    return aws_files(f"[profile base]\nmfa_serial = {SERIAL}\n", f"[base]\n{KEYS}")


def test_defaults(base):
    settings = resolve_settings("base", base)

    assert settings.profile == "base"
    assert settings.device.serial == SERIAL
    assert settings.device.account_id == "123456789012"
    assert settings.duration == DEFAULT_DURATION == 43200
    assert settings.sts_timeout == DEFAULT_STS_TIMEOUT == 30.0
    # a waiter outlives a holder that waits out both its prompt and STS
    assert settings.lock_timeout == DEFAULT_PROMPT_TIMEOUT + DEFAULT_STS_TIMEOUT + LOCK_TIMEOUT_MARGIN == 95.0
    assert settings.prompt == "auto" and settings.prompt_timeout == 60.0
    assert settings.known_base_access_key_id == BASE_KEY
    assert settings.token_code is None
    assert settings.refresh is False


@pytest.mark.parametrize(
    "flag, env, in_profile, expected",
    [
        pytest.param("3600", "7200", "10800", 3600, id="flag-wins"),
        pytest.param(3600, "7200", "10800", 3600, id="flag-as-int"),
        pytest.param(None, "7200", "10800", 7200, id="environment-beats-profile"),
        pytest.param(None, None, "10800", 10800, id="profile-beats-default"),
        pytest.param(None, "", "10800", 10800, id="empty-environment-is-unset"),
        pytest.param(None, None, None, 43200, id="default"),
    ],
)
def test_duration_precedence(aws_files, flag, env, in_profile, expected):
    profile_line = f"duration_seconds = {in_profile}\n" if in_profile else ""
    environ = aws_files(f"[profile base]\nmfa_serial = {SERIAL}\n{profile_line}", f"[base]\n{KEYS}")
    if env is not None:
        environ["MFA_PROCESS_DURATION"] = env

    assert resolve_settings("base", environ, duration=flag).duration == expected


@pytest.mark.parametrize(
    "flag, env, in_profile, expected",
    [
        pytest.param("5", "10", "15", 5.0, id="flag-wins"),
        pytest.param(0.5, "10", "15", 0.5, id="flag-as-float"),
        pytest.param(None, "10", "15", 10.0, id="environment-beats-profile"),
        pytest.param(None, None, "15", 15.0, id="profile-beats-default"),
        pytest.param(None, "", "15", 15.0, id="empty-environment-is-unset"),
        pytest.param(None, None, None, 95.0, id="default"),
    ],
)
def test_lock_timeout_precedence(aws_files, flag, env, in_profile, expected):
    profile_line = f"mfa_lock_timeout = {in_profile}\n" if in_profile else ""
    environ = aws_files(f"[profile base]\nmfa_serial = {SERIAL}\n{profile_line}", f"[base]\n{KEYS}")
    if env is not None:
        environ["MFA_PROCESS_LOCK_TIMEOUT"] = env

    assert resolve_settings("base", environ, lock_timeout=flag).lock_timeout == expected


def test_mfa_serial_flag_overrides_the_profile(base):
    settings = resolve_settings("base", base, mfa_serial="arn:aws-cn:iam::210987654321:mfa/bob")

    assert settings.device.serial == "arn:aws-cn:iam::210987654321:mfa/bob"
    assert settings.device.account_id == "210987654321"


def test_mfa_serial_from_credentials_file_is_used(aws_files):
    environ = aws_files("", f"[base]\n{KEYS}mfa_serial = GAHT12345678\n")

    assert resolve_settings("base", environ).device.serial == "GAHT12345678"


def test_missing_mfa_serial_names_the_profile_and_the_fix(aws_files):
    environ = aws_files("", f"[base]\n{KEYS}")

    with pytest.raises(InvalidMfaSerialError) as caught:
        resolve_settings("base", environ)

    message = str(caught.value)
    assert "'base'" in message
    assert "mfa_serial = " in message
    assert "--mfa-serial" in message


def test_invalid_mfa_serial_in_the_profile_is_rejected(aws_files):
    environ = aws_files(
        "[profile base]\nmfa_serial = arn:aws:iam::123456789012:u2f/user/alice/key\n", f"[base]\n{KEYS}"
    )

    with pytest.raises(InvalidMfaSerialError):
        resolve_settings("base", environ)


def duration_from(source, value, aws_files):
    """(environ, flag) that put ``value`` in ``source``."""
    profile_line = f"duration_seconds = {value}\n" if source == "profile" else ""
    environ = aws_files(f"[profile base]\nmfa_serial = {SERIAL}\n{profile_line}", f"[base]\n{KEYS}")
    if source == "environment":
        environ["MFA_PROCESS_DURATION"] = value
    return environ, (value if source == "flag" else None)


SOURCES = [
    ("flag", "--duration"),
    ("environment", "MFA_PROCESS_DURATION"),
    ("profile", "duration_seconds in profile 'base'"),
]


@pytest.mark.parametrize("source, named", SOURCES)
@pytest.mark.parametrize("value", ["899", "900", "129601", "0", "-3600"])
def test_duration_outside_the_usable_range_names_its_source_and_the_one_range(aws_files, source, named, value):
    environ, flag = duration_from(source, value, aws_files)

    with pytest.raises(InvalidDurationError) as caught:
        resolve_settings("base", environ, duration=flag)

    assert named in str(caught.value)
    assert "outside 901..129600" in str(caught.value)  # the range --help and README give


@pytest.mark.parametrize("source, named", SOURCES)
@pytest.mark.parametrize("value", ["abc", "3600.0", "1h"])
def test_non_numeric_duration_names_its_source(aws_files, source, named, value):
    environ, flag = duration_from(source, value, aws_files)

    with pytest.raises(InvalidDurationError) as caught:
        resolve_settings("base", environ, duration=flag)

    assert named in str(caught.value)
    assert f"'{value}'" in str(caught.value)


@pytest.mark.parametrize("source, named", SOURCES)
def test_duration_of_exactly_the_refresh_margin_is_rejected(aws_files, source, named):
    environ, flag = duration_from(source, "900", aws_files)

    with pytest.raises(InvalidDurationError) as caught:
        resolve_settings("base", environ, duration=flag)

    assert named in str(caught.value)
    assert "15-minute" in str(caught.value)


@pytest.mark.parametrize("value, expected", [("901", 901), ("129600", 129600), (" 3600 ", 3600)])
def test_duration_limits_that_are_accepted(base, value, expected):
    assert resolve_settings("base", base, duration=value).duration == expected


@pytest.mark.parametrize(
    "source, named",
    [
        ("flag", "--lock-timeout"),
        ("environment", "MFA_PROCESS_LOCK_TIMEOUT"),
        ("profile", "mfa_lock_timeout in profile 'base'"),
    ],
)
@pytest.mark.parametrize("value", ["0", "-1", "abc", "inf", "nan"])
def test_lock_timeout_must_be_positive_and_finite(aws_files, source, named, value):
    profile_line = f"mfa_lock_timeout = {value}\n" if source == "profile" else ""
    environ = aws_files(f"[profile base]\nmfa_serial = {SERIAL}\n{profile_line}", f"[base]\n{KEYS}")
    if source == "environment":
        environ["MFA_PROCESS_LOCK_TIMEOUT"] = value

    with pytest.raises(ConfigError) as caught:
        resolve_settings("base", environ, lock_timeout=value if source == "flag" else None)

    assert named in str(caught.value)


@pytest.mark.parametrize(
    "flag, env, in_profile, expected",
    [
        pytest.param("5", "10", "15", 5.0, id="flag-wins"),
        pytest.param(2.5, "10", "15", 2.5, id="flag-as-float"),
        pytest.param(None, "10", "15", 10.0, id="environment-beats-profile"),
        pytest.param(None, None, "15", 15.0, id="profile-beats-default"),
        pytest.param(None, "", "15", 15.0, id="empty-environment-is-unset"),
        pytest.param(None, None, None, 30.0, id="default"),
    ],
)
def test_sts_timeout_precedence(aws_files, flag, env, in_profile, expected):
    profile_line = f"mfa_sts_timeout = {in_profile}\n" if in_profile else ""
    environ = aws_files(f"[profile base]\nmfa_serial = {SERIAL}\n{profile_line}", f"[base]\n{KEYS}")
    if env is not None:
        environ["MFA_PROCESS_STS_TIMEOUT"] = env

    assert resolve_settings("base", environ, sts_timeout=flag).sts_timeout == expected


def test_the_default_lock_timeout_follows_the_prompt_and_sts_timeouts(aws_files):
    environ = aws_files(
        f"[profile base]\nmfa_serial = {SERIAL}\nmfa_prompt_timeout = 20\nmfa_sts_timeout = 10\n", f"[base]\n{KEYS}"
    )

    assert resolve_settings("base", environ).lock_timeout == 20 + 10 + LOCK_TIMEOUT_MARGIN
    assert resolve_settings("base", environ, lock_timeout="7").lock_timeout == 7.0


@pytest.mark.parametrize(
    "source, named",
    [
        ("flag", "--sts-timeout"),
        ("environment", "MFA_PROCESS_STS_TIMEOUT"),
        ("profile", "mfa_sts_timeout in profile 'base'"),
    ],
)
@pytest.mark.parametrize("value", ["0", "-1", "abc", "inf", "nan"])
def test_sts_timeout_must_be_positive_and_finite(aws_files, source, named, value):
    profile_line = f"mfa_sts_timeout = {value}\n" if source == "profile" else ""
    environ = aws_files(f"[profile base]\nmfa_serial = {SERIAL}\n{profile_line}", f"[base]\n{KEYS}")
    if source == "environment":
        environ["MFA_PROCESS_STS_TIMEOUT"] = value

    with pytest.raises(ConfigError) as caught:
        resolve_settings("base", environ, sts_timeout=value if source == "flag" else None)

    assert named in str(caught.value)
    assert "STS timeout" in str(caught.value)


def test_token_code_is_normalized(base):
    assert resolve_settings("base", base, token_code=" 123456\n").token_code == "123456"


@pytest.mark.parametrize("code", ["12345", "1234567", "12345a", "١٢٣٤٥٦", ""])
def test_malformed_token_code_is_rejected(base, code):
    with pytest.raises(InvalidTokenCodeError):
        resolve_settings("base", base, token_code=code)


def test_refresh_is_passed_through(base):
    assert resolve_settings("base", base, refresh=True).refresh is True


@pytest.mark.parametrize(
    "command",
    ["mfa-process --profile other", "/opt/venv/bin/python -m mfa_process --profile other"],
)
def test_profile_whose_credential_process_is_this_tool_is_recursive(aws_files, command):
    environ = aws_files(f"[profile base]\nmfa_serial = {SERIAL}\ncredential_process = {command}\n")

    with pytest.raises(RecursiveProfileError) as caught:
        resolve_settings("base", environ)

    assert "'base'" in str(caught.value)


@pytest.mark.parametrize(
    "config, credentials",
    [
        pytest.param(f"[profile base]\nmfa_serial = {SERIAL}\n", f"[base]\n{KEYS}", id="keys-in-credentials-file"),
        pytest.param(f"[profile base]\nmfa_serial = {SERIAL}\n{KEYS}", "", id="keys-in-config-file"),
    ],
)
def test_known_base_access_key_id_is_the_file_key_when_files_decide(aws_files, monkeypatch, config, credentials):
    environ = aws_files(config, credentials)

    assert resolve_settings("base", environ).known_base_access_key_id == BASE_KEY
    assert botocore_access_key("base", environ, monkeypatch) == BASE_KEY


@pytest.mark.parametrize(
    "config, credentials",
    [
        pytest.param(
            f"[profile base]\nmfa_serial = {SERIAL}\n", f"[base]\n{KEYS}aws_session_token = token\n", id="session-token"
        ),
        pytest.param(
            f"[profile base]\nmfa_serial = {SERIAL}\n"
            "role_arn = arn:aws:iam::123456789012:role/r\nsource_profile = src\n"
            f"[profile src]\n{KEYS}",
            f"[base]\n{KEYS}",
            id="role-arn",
        ),
        pytest.param(
            f"[profile base]\nmfa_serial = {SERIAL}\nsso_session = corp\nsso_account_id = 123456789012\n"
            "sso_role_name = Admin\n[sso-session corp]\nsso_region = us-east-1\n"
            "sso_start_url = https://example.awsapps.com/start\n",
            f"[base]\n{KEYS}",
            id="sso-session",
        ),
        pytest.param(
            f"[profile base]\nmfa_serial = {SERIAL}\ncredential_process = aws-vault export --format=json base\n",
            "",
            id="credential-process-only",
        ),
        pytest.param(
            f"[profile base]\nmfa_serial = {SERIAL}\n",
            f"[base]\naws_access_key_id = {BASE_KEY}\n",
            id="access-key-without-secret",
        ),
    ],
)
def test_known_base_access_key_id_is_none_when_files_do_not_decide(aws_files, config, credentials):
    environ = aws_files(config, credentials)

    assert resolve_settings("base", environ).known_base_access_key_id is None


def botocore_access_key(profile, environ, monkeypatch):
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    return botocore.session.Session(profile=profile).get_credentials().access_key


def process_printing_key(tmp_path, access_key_id):
    """A credential_process command line that prints static keys ``access_key_id``."""
    script = tmp_path / "print_keys.py"
    script.write_text(
        f'import json\nprint(json.dumps({{"Version": 1, "AccessKeyId": "{access_key_id}", "SecretAccessKey": "s"}}))\n'
    )
    return f"{shlex.quote(sys.executable)} {shlex.quote(str(script))}"


def test_credentials_file_keys_beat_a_credential_process_so_the_key_is_known(aws_files, tmp_path, monkeypatch):
    command = process_printing_key(tmp_path, "AKIAFROMPROCESS00001")
    environ = aws_files(f"[profile base]\nmfa_serial = {SERIAL}\ncredential_process = {command}\n", f"[base]\n{KEYS}")

    assert botocore_access_key("base", environ, monkeypatch) == BASE_KEY
    assert resolve_settings("base", environ).known_base_access_key_id == BASE_KEY


@pytest.mark.e2e
def test_config_file_keys_lose_to_a_credential_process_so_the_key_is_unknown(aws_files, tmp_path, monkeypatch):
    # botocore's chain: credentials file, then credential_process, then config-file keys.
    command = process_printing_key(tmp_path, "AKIAFROMPROCESS00001")
    environ = aws_files(f"[profile base]\nmfa_serial = {SERIAL}\ncredential_process = {command}\n{KEYS}")

    assert botocore_access_key("base", environ, monkeypatch) == "AKIAFROMPROCESS00001"
    assert resolve_settings("base", environ).known_base_access_key_id is None


def test_the_default_lock_wait_allows_one_prompt_per_code_source(base):
    one = resolve_settings("base", base, prompt_timeout="20", sts_timeout="10")
    chain = resolve_settings("base", base, prompt="ykman, zenity,terminal", prompt_timeout="20", sts_timeout="10")

    assert one.lock_timeout == 20 + 10 + LOCK_TIMEOUT_MARGIN
    assert chain.lock_timeout == 3 * 20 + 10 + LOCK_TIMEOUT_MARGIN
    assert chain.prompt == "ykman,zenity,terminal"
