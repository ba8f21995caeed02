"""The installed `mfa-process` command against the STS double over real HTTP, no terminal."""

from __future__ import annotations

import os
import re
import socket
import stat
import time

import pytest
from aws_home import AwsHome, contract

EXPIRATION = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def test_token_code_gives_the_contract_json_and_caches_it(aws: AwsHome) -> None:
    result = aws.run(["--profile", "base", "--token-code", aws.code()])

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    data = contract(result.stdout)
    assert set(data) == {"Version", "AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration", "AccountId"}
    assert data["Version"] == 1
    assert data["AccessKeyId"].startswith("ASIA")
    assert data["AccountId"] == "123456789012"
    assert EXPIRATION.fullmatch(data["Expiration"])
    expires = time.mktime(time.strptime(data["Expiration"], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
    assert abs(expires - (time.time() + 43200)) < 120
    assert aws.sts.calls("GetSessionToken") == 1


def test_second_run_is_served_from_cache_without_sts(aws: AwsHome) -> None:
    first = contract(aws.run(["--profile", "base", "--token-code", aws.code()]).stdout)

    second = aws.run(["--profile", "base"])  # no code, no terminal: only the cache can answer

    assert second.returncode == 0, second.stderr
    assert contract(second.stdout) == first
    assert aws.sts.calls("GetSessionToken") == 1


def test_session_credentials_carry_mfa_context(aws: AwsHome) -> None:
    """The double denies AssumeRole to credentials without MFA, like the seed's policy."""
    import boto3

    aws.sts.add_role("arn:aws:iam::123456789012:role/admin")
    data = contract(aws.run(["--profile", "base", "--token-code", aws.code()]).stdout)
    client = boto3.client(
        "sts",
        region_name="us-east-1",
        endpoint_url=aws.sts.url,
        aws_access_key_id=data["AccessKeyId"],
        aws_secret_access_key=data["SecretAccessKey"],
        aws_session_token=data["SessionToken"],
    )
    role = client.assume_role(RoleArn="arn:aws:iam::123456789012:role/admin", RoleSessionName="tester")
    assert role["AssumedRoleUser"]["Arn"].endswith("assumed-role/admin/tester")


def test_cache_file_is_private(aws: AwsHome) -> None:
    aws.run(["--profile", "base", "--token-code", aws.code()])

    [cache_file] = aws.cache_files()
    assert stat.S_IMODE(os.stat(aws.cache_dir).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(cache_file).st_mode) == 0o600
    assert aws.user.access_key_id not in cache_file.name


def test_refresh_gets_a_new_session(aws: AwsHome) -> None:
    first = contract(aws.run(["--profile", "base", "--token-code", aws.code()]).stdout)

    result = aws.run(["--profile", "base", "--refresh", "--token-code", aws.code(1)])

    assert result.returncode == 0, result.stderr
    second = contract(result.stdout)
    assert second["AccessKeyId"] != first["AccessKeyId"]
    assert contract(aws.run(["--profile", "base"]).stdout) == second
    assert aws.sts.calls("GetSessionToken") == 2


def test_duration_from_profile_and_flag(aws: AwsHome) -> None:
    aws.write_config(f"[profile base]\nmfa_serial = {aws.user.mfa_serial}\nduration_seconds = 3600\n")
    aws.run(["--profile", "base", "--token-code", aws.code()])
    aws.run(["--profile", "base", "--duration", "7200", "--token-code", aws.code(1)])

    durations = [int(r["params"]["DurationSeconds"]) for r in aws.sts.requests if r["action"] == "GetSessionToken"]
    assert durations == [3600, 7200]
    assert len(aws.cache_files()) == 2  # one file per duration


def test_endpoint_url_in_the_base_profile(aws: AwsHome) -> None:
    del aws.env["AWS_ENDPOINT_URL_STS"]
    aws.write_config(f"[profile base]\nmfa_serial = {aws.user.mfa_serial}\nendpoint_url = {aws.sts.url}\n")

    result = aws.run(["--profile", "base", "--token-code", aws.code()])

    assert result.returncode == 0, result.stderr
    assert aws.sts.calls("GetSessionToken") == 1


def test_environment_credentials_do_not_override_the_named_profile(aws: AwsHome) -> None:
    aws.env.update(AWS_ACCESS_KEY_ID="AKIAENVIRONMENTKEY00", AWS_SECRET_ACCESS_KEY="from-the-environment")

    result = aws.run(["--profile", "base", "--token-code", aws.code()])

    assert result.returncode == 0, result.stderr
    assert [r["access_key_id"] for r in aws.sts.requests] == [aws.user.access_key_id]


def test_keys_from_config_file_only(aws: AwsHome) -> None:
    aws.write_credentials("")
    aws.write_config(
        f"[profile base]\nmfa_serial = {aws.user.mfa_serial}\naws_access_key_id = {aws.user.access_key_id}\n"
        f"aws_secret_access_key = {aws.user.secret_access_key}\n"
    )
    assert aws.run(["--profile", "base", "--token-code", aws.code()]).returncode == 0
    assert aws.run(["--profile", "base"]).returncode == 0
    assert aws.sts.calls("GetSessionToken") == 1


def test_keys_botocore_resolves_from_another_source(aws: AwsHome, tmp_path) -> None:
    """A base profile whose long-term keys come from a credential_process of its own."""
    helper = tmp_path / "keys.sh"
    helper.write_text(
        "#!/bin/sh\n"
        f'echo \'{{"Version": 1, "AccessKeyId": "{aws.user.access_key_id}", '
        f'"SecretAccessKey": "{aws.user.secret_access_key}"}}\'\n'
    )
    helper.chmod(0o755)
    aws.write_credentials("")
    aws.write_config(f"[profile base]\nmfa_serial = {aws.user.mfa_serial}\ncredential_process = {helper}\n")

    first = aws.run(["--profile", "base", "--token-code", aws.code()])
    second = aws.run(["--profile", "base"])

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert contract(second.stdout) == contract(first.stdout)
    assert aws.sts.calls("GetSessionToken") == 1


def test_corrupt_cache_file_is_a_miss_and_gets_replaced(aws: AwsHome) -> None:
    aws.run(["--profile", "base", "--token-code", aws.code()])
    [cache_file] = aws.cache_files()
    cache_file.write_text('{"format": 1, "credentials": {"Version": 1, "AccessKeyId": "ASIA')  # truncated

    assert aws.run(["--profile", "base"]).returncode != 0  # a miss: no terminal to ask on
    result = aws.run(["--profile", "base", "--token-code", aws.code(1)])

    assert result.returncode == 0, result.stderr
    assert contract(cache_file.read_text())["credentials"] == contract(result.stdout)


def test_session_near_expiry_is_not_served(aws: AwsHome) -> None:
    """Under the 15-minute margin botocore would run us before every call: get a new one."""
    import json

    aws.run(["--profile", "base", "--token-code", aws.code()])
    [cache_file] = aws.cache_files()
    document = json.loads(cache_file.read_text())
    document["expires_at"] = int(time.time()) + 14 * 60
    document["credentials"]["Expiration"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(document["expires_at"]))
    cache_file.write_text(json.dumps(document))

    stale = aws.run(["--profile", "base"])
    fresh = aws.run(["--profile", "base", "--token-code", aws.code(1)])

    assert stale.returncode != 0 and stale.stdout == ""
    assert fresh.returncode == 0
    assert aws.sts.calls("GetSessionToken") == 2


def test_python_dash_m_works_like_the_command(aws: AwsHome) -> None:
    import subprocess
    import sys

    from processes import run

    aws.run(["--profile", "base", "--token-code", aws.code()])
    result = run(
        [sys.executable, "-m", "mfa_process", "--profile", "base"],
        env=aws.env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    assert contract(result.stdout)["Version"] == 1


def test_version_and_help(aws: AwsHome) -> None:
    import mfa_process

    version = aws.run(["--version"])
    help_text = aws.run(["--help"])

    assert version.stdout.strip() == f"mfa-process {mfa_process.__version__}"
    assert "credential_process = mfa-process --profile base" in help_text.stdout
    assert help_text.returncode == 0


# --- bad input: a clear error, non-zero exit, nothing on stdout, no traceback -----------------


def assert_clean_failure(result, *fragments: str) -> None:
    assert result.returncode != 0
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert 1 <= len(lines) <= 2, result.stderr
    assert lines[-1].startswith("mfa-process: ") or lines[0].startswith("usage: "), result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr


def assert_no_secret_in(text: str, aws: AwsHome) -> None:
    assert aws.user.secret_access_key not in text


LOCAL_FAILURES = {
    "unknown profile": (["--profile", "nobody"], None, None, ["profile 'nobody'", "--profile"]),
    "no mfa_serial": (["--profile", "base"], "[profile base]\nregion = us-east-1\n", None, ["no mfa_serial"]),
    "u2f serial": (
        ["--profile", "base", "--mfa-serial", "arn:aws:iam::123456789012:u2f/user/alice/key-ABC"],
        None,
        None,
        ["FIDO"],
    ),
    "malformed serial": (["--profile", "base", "--mfa-serial", "not a serial"], None, None, ["mfa_serial"]),
    "short token code": (["--profile", "base", "--token-code", "12345"], None, None, ["6 digits"]),
    "letters in token code": (["--profile", "base", "--token-code", "12a456"], None, None, ["6 digits"]),
    "duration too long": (["--profile", "base", "--duration", "200000"], None, None, ["129600", "--duration"]),
    "duration within margin": (["--profile", "base", "--duration", "900"], None, None, ["margin"]),
    "duration not a number": (["--profile", "base", "--duration", "12h"], None, None, ["12h"]),
    "duration in profile": (
        ["--profile", "base"],
        "[profile base]\nmfa_serial = arn:aws:iam::123456789012:mfa/alice\nduration_seconds = 60\n",
        None,
        ["duration_seconds in profile 'base'"],
    ),
    "bad lock timeout": (["--profile", "base", "--lock-timeout", "-1"], None, None, ["lock timeout"]),
    "bad sts timeout": (["--profile", "base", "--sts-timeout", "0"], None, None, ["STS timeout", "--sts-timeout"]),
    "sts timeout in profile": (
        ["--profile", "base"],
        "[profile base]\nmfa_serial = arn:aws:iam::123456789012:mfa/alice\nmfa_sts_timeout = soon\n",
        None,
        ["mfa_sts_timeout in profile 'base'"],
    ),
    "broken config file": (["--profile", "base"], "[profile base\nmfa_serial = x\n", None, ["cannot parse"]),
    "self-referencing profile": (
        ["--profile", "base"],
        "[profile base]\nmfa_serial = arn:aws:iam::123456789012:mfa/alice\n"
        "credential_process = mfa-process --profile base\n",
        "",
        ["mfa-process itself"],
    ),
    "missing --profile": (["--duration", "3600"], None, None, ["the following arguments are required: --profile"]),
}


@pytest.mark.parametrize("case", sorted(LOCAL_FAILURES))
def test_bad_input_fails_before_any_sts_call(aws: AwsHome, case: str) -> None:
    args, config, credentials, fragments = LOCAL_FAILURES[case]
    if config is not None:
        aws.write_config(config)
    if credentials is not None:
        aws.write_credentials(credentials)

    result = aws.run(args)

    assert_clean_failure(result, *fragments)
    assert aws.sts.calls() == 0


def test_no_terminal_and_no_code_says_how_to_proceed(aws: AwsHome) -> None:
    result = aws.run(["--profile", "base"])  # start_new_session: no controlling terminal

    assert_clean_failure(result, "no terminal", "--token-code")
    assert aws.sts.calls("GetSessionToken") == 0


def test_wrong_token_code(aws: AwsHome) -> None:
    result = aws.run(["--profile", "base", "--token-code", aws.wrong_code()])

    assert_clean_failure(result, "rejected the MFA code")
    assert aws.cache_files() == []


def test_reused_token_code(aws: AwsHome) -> None:
    code = aws.code()
    aws.run(["--profile", "base", "--token-code", code])

    result = aws.run(["--profile", "base", "--refresh", "--token-code", code])

    assert_clean_failure(result, "already used")


def test_temporary_credentials_as_base_are_refused_locally(aws: AwsHome) -> None:
    aws.write_credentials(
        "[base]\naws_access_key_id = ASIAEXAMPLE000000000\naws_secret_access_key = s\naws_session_token = t\n"
    )

    result = aws.run(["--profile", "base", "--token-code", aws.code()])

    assert_clean_failure(result, "temporary credentials")
    assert aws.sts.calls() == 0


def test_session_credentials_as_base_rejected_by_sts(aws: AwsHome) -> None:
    """Keys that look long-term locally but are a session's: STS says so, and so do we."""
    import boto3

    client = boto3.client(
        "sts",
        region_name="us-east-1",
        endpoint_url=aws.sts.url,
        aws_access_key_id=aws.user.access_key_id,
        aws_secret_access_key=aws.user.secret_access_key,
    )
    session = client.get_session_token()["Credentials"]
    aws.write_credentials(
        f"[base]\naws_access_key_id = {session['AccessKeyId']}\naws_secret_access_key = {session['SecretAccessKey']}\n"
        f"aws_session_token = {session['SessionToken']}\n"
    )

    result = aws.run(["--profile", "base", "--token-code", aws.code()])

    assert_clean_failure(result, "temporary credentials")


def test_recursion_through_source_profile_stops(aws: AwsHome) -> None:
    """base -> source_profile mfa -> mfa-process --profile base: refused, never a loop."""
    aws.write_credentials("")
    aws.write_config(
        f"[profile base]\nmfa_serial = {aws.user.mfa_serial}\nrole_arn = arn:aws:iam::123456789012:role/x\n"
        "source_profile = mfa\n\n[profile mfa]\ncredential_process = mfa-process --profile base\n"
    )

    started = time.monotonic()
    result = aws.run(["--profile", "base", "--token-code", aws.code()], timeout=30)

    assert_clean_failure(result, "mfa-process itself")
    assert time.monotonic() - started < 20
    assert aws.sts.calls("GetSessionToken") == 0


def test_unreachable_endpoint(aws: AwsHome) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    aws.env["AWS_ENDPOINT_URL_STS"] = f"http://127.0.0.1:{closed_port}"

    result = aws.run(["--profile", "base", "--token-code", aws.code()], timeout=120)

    assert_clean_failure(result, "cannot reach STS", f"127.0.0.1:{closed_port}")


def test_verbose_shows_details(aws: AwsHome) -> None:
    result = aws.run(["--profile", "base", "--token-code", aws.wrong_code(), "--verbose"])

    assert result.returncode != 0 and result.stdout == ""
    assert "Traceback" in result.stderr
    assert_no_secret_in(result.stderr, aws)
