"""read_profile: the light INI reader must find the same profile, with the same values, as botocore."""

from __future__ import annotations

import botocore.exceptions
import botocore.session
import pytest

from mfa_process.config.aws_files import merge_profile, read_profile
from mfa_process.errors import EXIT_USAGE, ConfigFileError, ProfileNotFoundError


def load_profile(name, environ):
    """Profile ``name`` as botocore merges it: read_profile's two parts, credentials file winning."""
    return merge_profile(*read_profile(name, environ))


@pytest.fixture
def home(tmp_path, monkeypatch):
    """An empty HOME, so neither reader can see the real ~/.aws."""
    path = tmp_path / "home"
    path.mkdir()
    monkeypatch.setenv("HOME", str(path))
    for name in ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    return path


@pytest.fixture
def files(tmp_path, home):
    """Paths for a config and a credentials file (not created) and the environ naming them."""
    config = tmp_path / "config"
    credentials = tmp_path / "credentials"
    environ = {"AWS_CONFIG_FILE": str(config), "AWS_SHARED_CREDENTIALS_FILE": str(credentials)}
    return config, credentials, environ


def botocore_profile(name, environ, monkeypatch):
    """What botocore itself reads for profile ``name`` from the files named in ``environ``."""
    for key, value in environ.items():
        monkeypatch.setenv(key, value)
    return dict(botocore.session.Session(profile=name).get_scoped_config())


def test_profile_section_in_config_file(files):
    config, _, environ = files
    config.write_text("[profile base]\nmfa_serial = arn:aws:iam::123456789012:mfa/alice\nregion = eu-west-1\n")

    assert load_profile("base", environ) == {
        "mfa_serial": "arn:aws:iam::123456789012:mfa/alice",
        "region": "eu-west-1",
    }


def test_default_section_in_config_file_is_the_default_profile(files):
    config, _, environ = files
    config.write_text("[default]\nregion = us-west-2\n[profile other]\nregion = ap-northeast-1\n")

    assert load_profile("default", environ) == {"region": "us-west-2"}


def test_plain_section_in_credentials_file(files):
    _, credentials, environ = files
    credentials.write_text("[base]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = secret\n")

    assert load_profile("base", environ) == {"aws_access_key_id": "AKIAEXAMPLE", "aws_secret_access_key": "secret"}


def test_credentials_file_values_win_over_config_file_values(files, monkeypatch):
    config, credentials, environ = files
    config.write_text("[profile base]\nregion = eu-west-1\naws_access_key_id = AKIAFROMCONFIG\n")
    credentials.write_text("[base]\naws_access_key_id = AKIAFROMCREDENTIALS\naws_secret_access_key = s\n")

    profile = load_profile("base", environ)

    assert profile == {
        "region": "eu-west-1",
        "aws_access_key_id": "AKIAFROMCREDENTIALS",
        "aws_secret_access_key": "s",
    }
    assert profile == botocore_profile("base", environ, monkeypatch)


def test_environment_variables_name_the_files(tmp_path, home):
    config = tmp_path / "elsewhere" / "my-config"
    credentials = tmp_path / "elsewhere" / "my-credentials"
    config.parent.mkdir()
    config.write_text("[profile base]\nregion = eu-west-1\n")
    credentials.write_text("[base]\naws_access_key_id = AKIAEXAMPLE\n")
    # The default locations hold a different profile of the same name: they must be ignored.
    (home / ".aws").mkdir()
    (home / ".aws" / "config").write_text("[profile base]\nregion = us-east-1\n")
    (home / ".aws" / "credentials").write_text("[base]\naws_access_key_id = AKIAFROMHOME\n")

    profile = load_profile("base", {"AWS_CONFIG_FILE": str(config), "AWS_SHARED_CREDENTIALS_FILE": str(credentials)})

    assert profile == {"region": "eu-west-1", "aws_access_key_id": "AKIAEXAMPLE"}


def test_default_locations_under_home_without_environment_variables(home):
    (home / ".aws").mkdir()
    (home / ".aws" / "config").write_text("[profile base]\nregion = eu-west-1\n")
    (home / ".aws" / "credentials").write_text("[base]\naws_access_key_id = AKIAEXAMPLE\n")

    assert load_profile("base", {}) == {"region": "eu-west-1", "aws_access_key_id": "AKIAEXAMPLE"}


@pytest.mark.parametrize(
    "config_text, credentials_text",
    [
        pytest.param("[base]\nregion = eu-west-1\n", "", id="plain-section-in-config"),
        pytest.param("", "[profile base]\naws_access_key_id = AKIAEXAMPLE\n", id="profile-section-in-credentials"),
        pytest.param("[profilebase]\nregion = eu-west-1\n", "", id="no-space-after-profile"),
        pytest.param("[sso-session base]\nsso_region = eu-west-1\n", "", id="sso-session-section"),
    ],
)
def test_sections_that_are_not_the_profile_in_botocore_are_not_the_profile(
    files, monkeypatch, config_text, credentials_text
):
    config, credentials, environ = files
    config.write_text(config_text)
    credentials.write_text(credentials_text)

    with pytest.raises(ProfileNotFoundError):
        load_profile("base", environ)
    with pytest.raises(botocore.exceptions.ProfileNotFound):
        botocore_profile("base", environ, monkeypatch)


def test_missing_config_file_is_fine(files):
    _, credentials, environ = files
    credentials.write_text("[base]\naws_access_key_id = AKIAEXAMPLE\n")

    assert load_profile("base", environ) == {"aws_access_key_id": "AKIAEXAMPLE"}


def test_missing_credentials_file_is_fine(files):
    config, _, environ = files
    config.write_text("[profile base]\nregion = eu-west-1\n")

    assert load_profile("base", environ) == {"region": "eu-west-1"}


def test_unknown_profile_error_names_both_files(files):
    config, credentials, environ = files
    config.write_text("[profile other]\nregion = eu-west-1\n")
    credentials.write_text("[other]\naws_access_key_id = AKIAEXAMPLE\n")

    with pytest.raises(ProfileNotFoundError) as caught:
        load_profile("base", environ)

    message = str(caught.value)
    assert "'base'" in message
    assert str(config) in message
    assert str(credentials) in message
    assert caught.value.exit_code == EXIT_USAGE


def test_unknown_profile_when_neither_file_exists(files):
    _, _, environ = files

    with pytest.raises(ProfileNotFoundError):
        load_profile("base", environ)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("aws_access_key_id = AKIAEXAMPLE\n[profile base]\nregion = x\n", id="no-section-header"),
        pytest.param("[profile base]\nregion = x\n[profile base]\nregion = y\n", id="duplicate-section"),
        pytest.param("[profile base]\nregion = x\nregion = y\n", id="duplicate-option"),
        pytest.param("[profile base]\nthis line has no delimiter\n", id="line-without-equals"),
    ],
)
def test_malformed_config_file_is_config_file_error_without_traceback(files, monkeypatch, text):
    config, _, environ = files
    config.write_text(text)

    with pytest.raises(ConfigFileError) as caught:
        load_profile("base", environ)

    message = str(caught.value)
    assert str(config) in message
    assert "Traceback" not in message
    assert "\n" not in message
    assert caught.value.exit_code == EXIT_USAGE
    # botocore refuses the same file.
    with pytest.raises(botocore.exceptions.ConfigParseError):
        botocore_profile("base", environ, monkeypatch)


def test_malformed_credentials_file_is_config_file_error(files):
    config, credentials, environ = files
    config.write_text("[profile base]\nregion = eu-west-1\n")
    credentials.write_text("aws_access_key_id = AKIAEXAMPLE\n")

    with pytest.raises(ConfigFileError) as caught:
        load_profile("base", environ)

    assert str(credentials) in str(caught.value)
    assert "\n" not in str(caught.value)


SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


@pytest.mark.parametrize(
    "text, line",
    [
        pytest.param(f"aws_secret_access_key = {SECRET}\n[base]\n", 1, id="no-section-header"),
        pytest.param(f"[base]\naws_access_key_id = AKIAEXAMPLE\n{SECRET}\n", 3, id="line-without-equals"),
        pytest.param(
            f"[base]\naws_secret_access_key = {SECRET}\naws_secret_access_key = {SECRET}x\n", 3, id="duplicate-key"
        ),
        pytest.param(f"[base]\nx = 1\n[base]\naws_secret_access_key = {SECRET}\n", 3, id="duplicate-section"),
    ],
)
def test_credentials_parse_error_names_file_and_line_never_its_text(files, text, line):
    config, credentials, environ = files
    credentials.write_text(text)

    with pytest.raises(ConfigFileError) as caught:
        load_profile("base", environ)

    message = str(caught.value)
    assert f"{credentials}: line {line} " in message
    assert SECRET not in message
    assert SECRET[:8] not in message


def test_file_that_is_not_utf8_is_config_file_error(files):
    config, _, environ = files
    config.write_bytes(b"[profile base]\nregion = \xff\xfe\n")

    with pytest.raises(ConfigFileError) as caught:
        load_profile("base", environ)

    assert str(config) in str(caught.value)
    assert "\n" not in str(caught.value)


ODD_CONFIG = """\
# a comment line
; another comment line

[default]
region=us-west-2

[profile   spaced]
region    =     eu-west-1
output: json
mfa_serial   =arn:aws:iam::123456789012:mfa/alice
# commented_out = yes
    ; indented comment

[profile "quoted"]
region = ap-northeast-1
"""

ODD_CREDENTIALS = """\
# keys
[spaced]
aws_access_key_id=AKIAEXAMPLE
aws_secret_access_key    =    secret value with spaces
"""


@pytest.mark.parametrize(
    "name, expected",
    [
        (
            "spaced",
            {
                "region": "eu-west-1",
                "output": "json",
                "mfa_serial": "arn:aws:iam::123456789012:mfa/alice",
                "aws_access_key_id": "AKIAEXAMPLE",
                "aws_secret_access_key": "secret value with spaces",
            },
        ),
        ("quoted", {"region": "ap-northeast-1"}),
        ("default", {"region": "us-west-2"}),
    ],
)
def test_comments_and_odd_spacing_are_read_like_botocore(files, monkeypatch, name, expected):
    config, credentials, environ = files
    config.write_text(ODD_CONFIG)
    credentials.write_text(ODD_CREDENTIALS)

    profile = load_profile(name, environ)

    assert profile == expected
    assert profile == botocore_profile(name, environ, monkeypatch)


def test_quoted_profile_name_with_a_space_is_found_like_botocore(files, monkeypatch):
    # botocore splits section names with shlex: [profile "my base"] is the profile `my base`.
    config, _, environ = files
    config.write_text('[profile "my base"]\nregion = eu-west-1\n')

    assert botocore_profile("my base", environ, monkeypatch) == {"region": "eu-west-1"}
    assert load_profile("my base", environ) == {"region": "eu-west-1"}
