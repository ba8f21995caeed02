"""The suite's secret guard finds what it is there to find."""

from __future__ import annotations

import pytest
from secret_guard import SecretGuard
from sts_double import DEFAULT_USER, StsDouble

from mfa_process.errors import ConfigError


def test_a_long_term_secret_in_recorded_stderr_is_a_leak() -> None:
    guard = SecretGuard()
    guard.check("stderr of mfa-process", f"mfa-process: bad key {DEFAULT_USER.secret_access_key}")

    assert guard.leaks() == ["the secret access key of IAM user alice appears in stderr of mfa-process"]


def test_a_totp_seed_on_a_terminal_is_a_leak_even_there() -> None:
    guard = SecretGuard()
    guard.check("the terminal", f"seed {DEFAULT_USER.totp_secret}", contract_channel=True)

    assert guard.leaks() == ["the TOTP seed of IAM user alice appears in the terminal"]


def test_session_keys_count_on_stderr_but_not_on_the_terminal_that_shows_the_contract() -> None:
    with StsDouble() as double:
        guard = SecretGuard()
        guard.watch_double(double)
        double.issue_session(DEFAULT_USER.access_key_id, 3600)  # one session, as GetSessionToken would
        ((akid, secret, token),) = double.issued_sessions()
        guard.check("the terminal", f'{{"SecretAccessKey": "{secret}"}}', contract_channel=True)
        assert guard.leaks() == []

        guard.check("stderr", f"token {token}")
        assert guard.leaks() == [f"the session token of session {akid} appears in stderr"]


def test_captured_sections_given_at_the_end_are_checked() -> None:
    guard = SecretGuard()

    assert guard.leaks([("Captured stderr call", DEFAULT_USER.secret_access_key)]) == [
        "the secret access key of IAM user alice appears in Captured stderr call"
    ]
    assert guard.leaks([("Captured stderr call", "nothing secret")]) == []


def test_the_autouse_guard_records_every_mfa_process_error(secret_guard: SecretGuard) -> None:
    with pytest.raises(ConfigError):
        raise ConfigError("profile 'base' is broken")
    assert secret_guard.leaks() == []

    error = ConfigError(f"leaked {DEFAULT_USER.totp_secret}")
    assert "TOTP seed" in secret_guard.leaks()[0]
    secret_guard._texts.clear()  # this test's own leak was on purpose
    del error
