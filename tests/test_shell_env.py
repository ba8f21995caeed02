"""mfa_process.session.shell_env: the variables `env` prints and `exec` passes on, and their quoting.

Quoting is proven by round-tripping hostile values through real shells where they are
installed; fish and PowerShell, when absent, are checked against their documented quoting
rules (exact strings plus a decoder written from those rules).
"""

from __future__ import annotations

import calendar
import os
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Dict

import pytest
from processes import default_signals

from mfa_process.errors import UnprintableValueError
from mfa_process.session.credentials import Credentials
from mfa_process.session.shell_env import (
    CLEARED_VARIABLES,
    command_environment,
    credential_variables,
    render,
)

EXPIRES_AT = 1767268800  # 2026-01-01T12:00:00Z
CREDENTIALS = Credentials(
    "ASIAEXAMPLEKEY123456", "secret/with+chars=", "FwoGZXIvYXdzEJr//token==", EXPIRES_AT, "123456789012"
)

HOSTILE_VALUES = [
    "it's",
    'say "hi"',
    "back\\slash\\",
    "\\'",
    "$HOME",
    "${HOME}",
    "$(echo pwned)",
    "`echo pwned`",
    "a; echo pwned",
    "a && echo pwned | cat > /dev/null",
    "line one\nline two\n",
    "\n",
    "  spaces  around  ",
    "tab\there",
    "'\\''",
    "''",
    "%PATH% !x #not-a-comment * ? [a] ~",
    "(paren) {brace} <lt> >gt",
    "",
    "unicode: caf\u00e9 \u65e5\u672c",
    "all of it: '\"\\$HOME`x`;\n '\\'' end",
]


def _ids(values):
    return [repr(value)[:30] for value in values]


# --- credential_variables / command_environment -------------------------------------------------


def test_credential_variables_are_exactly_the_four_sdk_variables() -> None:
    assert credential_variables(CREDENTIALS) == {
        "AWS_ACCESS_KEY_ID": "ASIAEXAMPLEKEY123456",
        "AWS_SECRET_ACCESS_KEY": "secret/with+chars=",
        "AWS_SESSION_TOKEN": "FwoGZXIvYXdzEJr//token==",
        "AWS_CREDENTIAL_EXPIRATION": "2026-01-01T12:00:00Z",
    }


@pytest.mark.parametrize("expires_at", [0, 1, 951782400, 1767268800 + 59, 4102444799])
def test_credential_expiration_is_utc_with_z(expires_at: int) -> None:
    credentials = Credentials("ASIAX", "s", "t", expires_at)

    expiration = credential_variables(credentials)["AWS_CREDENTIAL_EXPIRATION"]

    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", expiration)
    assert calendar.timegm(time.strptime(expiration, "%Y-%m-%dT%H:%M:%SZ")) == expires_at


# What a stale shell can hold that SDKs would read instead of, or together with, the injected keys.
STALE_VARIABLES = {
    "AWS_SECURITY_TOKEN": "stale-token",  # botocore reads it before AWS_SESSION_TOKEN
    "AWS_PROFILE": "mfa",
    "AWS_DEFAULT_PROFILE": "mfa",
    "AWS_ACCOUNT_ID": "999999999999",
    "AWS_CREDENTIAL_SCOPE": "eu-west-9",
    "AWS_SECRET_KEY": "stale-secret",  # the Java SDK v1 reads it before AWS_SECRET_ACCESS_KEY
    "AWS_ACCESS_KEY": "AKIASTALE",
    "AWS_WEB_IDENTITY_TOKEN_FILE": "/var/run/secrets/token",  # the .NET SDK tries it before the keys
    "AWS_ROLE_ARN": "arn:aws:iam::999999999999:role/stale",
    "AWS_ROLE_SESSION_NAME": "stale",
}


def test_command_environment_drops_profiles_keeps_the_rest_and_overrides_stale_keys() -> None:
    environ = {
        "PATH": "/usr/bin:/bin",
        "HOME": "/home/alice",
        **STALE_VARIABLES,
        "AWS_ACCESS_KEY_ID": "AKIASTALE",
        "AWS_SECRET_ACCESS_KEY": "stale-secret",
        "AWS_SESSION_TOKEN": "stale-token",
        "AWS_CREDENTIAL_EXPIRATION": "2000-01-01T00:00:00Z",
        "AWS_REGION": "eu-west-1",
        "AWS_CONFIG_FILE": "/home/alice/.aws/config",
        "EMPTY": "",
    }
    before = dict(environ)

    child = command_environment(environ, CREDENTIALS)

    assert child == {
        "PATH": "/usr/bin:/bin",
        "HOME": "/home/alice",
        "AWS_REGION": "eu-west-1",
        "AWS_CONFIG_FILE": "/home/alice/.aws/config",
        "EMPTY": "",
        "AWS_ACCESS_KEY_ID": "ASIAEXAMPLEKEY123456",
        "AWS_SECRET_ACCESS_KEY": "secret/with+chars=",
        "AWS_SESSION_TOKEN": "FwoGZXIvYXdzEJr//token==",
        "AWS_CREDENTIAL_EXPIRATION": "2026-01-01T12:00:00Z",
    }
    assert environ == before  # the caller's mapping is not modified


def test_cleared_variables_are_exactly_the_stale_ones_and_never_a_credential_variable() -> None:
    assert set(CLEARED_VARIABLES) == set(STALE_VARIABLES)
    assert not set(CLEARED_VARIABLES) & set(credential_variables(CREDENTIALS, "eu-west-1"))


def test_command_environment_keeps_container_and_endpoint_settings() -> None:
    """Environment keys outrank container credentials in every SDK's chain; endpoints are not credentials."""
    environ = {
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:9911/creds",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN": "container-token",
        "AWS_ENDPOINT_URL_STS": "http://127.0.0.1:8080",
        "AWS_CONFIG_FILE": "/home/alice/.aws/config",
    }

    assert command_environment(environ, CREDENTIALS) == {**environ, **credential_variables(CREDENTIALS)}


def test_command_environment_from_an_empty_environment() -> None:
    assert command_environment({}, CREDENTIALS) == credential_variables(CREDENTIALS)


def test_credential_variables_with_a_region_add_both_region_variables() -> None:
    variables = credential_variables(CREDENTIALS, "eu-central-1")

    assert variables == {
        **credential_variables(CREDENTIALS),
        "AWS_REGION": "eu-central-1",
        "AWS_DEFAULT_REGION": "eu-central-1",
    }
    assert credential_variables(CREDENTIALS, "") == credential_variables(CREDENTIALS)


@pytest.mark.parametrize("name", ["AWS_REGION", "AWS_DEFAULT_REGION"])
def test_command_environment_keeps_a_region_already_set(name: str) -> None:
    child = command_environment({name: "us-west-2", "AWS_PROFILE": "mfa"}, CREDENTIALS, "eu-central-1")

    assert child == {name: "us-west-2", **credential_variables(CREDENTIALS)}


def test_command_environment_adds_the_profiles_region_when_none_is_set() -> None:
    child = command_environment({"PATH": "/bin", "AWS_REGION": ""}, CREDENTIALS, "eu-central-1")

    assert child == {"PATH": "/bin", **credential_variables(CREDENTIALS, "eu-central-1")}


# Each would break "one line, one statement" somewhere, or drive the terminal the output is shown on.
UNPRINTABLE_VALUES = [
    "line\nbreak",
    "carriage\rreturn",
    "\n",
    "nul\0byte",
    "tab\there",
    "esc\x1b[2J",
    "bell\x07",
    "del\x7f",
    "c1 csi\x9b31m",
    "nel\x85",
    "line separator\u2028x",
    "paragraph separator\u2029x",
    "vertical\x0btab",
    "form\x0cfeed",
    "caf\u00e9",
    "right-to-left\u202eoverride",
]


@pytest.mark.parametrize("field", ["access_key_id", "secret_access_key", "session_token"])
@pytest.mark.parametrize("value", UNPRINTABLE_VALUES, ids=_ids(UNPRINTABLE_VALUES))
def test_a_session_value_that_is_not_printable_ascii_is_refused(field: str, value: str) -> None:
    fields = {"access_key_id": "ASIAX", "secret_access_key": "s", "session_token": "t", field: value}
    credentials = Credentials(**fields, expires_at=EXPIRES_AT)
    name = {"access_key_id": "AWS_ACCESS_KEY_ID", "secret_access_key": "AWS_SECRET_ACCESS_KEY"}.get(
        field, "AWS_SESSION_TOKEN"
    )

    with pytest.raises(UnprintableValueError) as raised:
        credential_variables(credentials)
    with pytest.raises(UnprintableValueError):
        command_environment({"PATH": "/bin"}, credentials)

    message = str(raised.value)
    assert name in message and "logout" in message
    assert value not in message and "\n" not in message


@pytest.mark.parametrize("value", UNPRINTABLE_VALUES, ids=_ids(UNPRINTABLE_VALUES))
def test_a_region_that_is_not_printable_ascii_is_refused(value: str) -> None:
    with pytest.raises(UnprintableValueError, match="AWS_REGION.*region"):
        credential_variables(CREDENTIALS, value)


def test_every_printable_ascii_character_is_accepted() -> None:
    printable = "".join(chr(c) for c in range(0x20, 0x7F))
    credentials = Credentials(printable, printable, printable, EXPIRES_AT)

    variables = credential_variables(credentials, printable)

    assert variables["AWS_SESSION_TOKEN"] == variables["AWS_REGION"] == printable


# --- render: structure ---------------------------------------------------------------------------


def test_render_sh_exact() -> None:
    assert render({"A": "x", "B": "it's"}, "sh") == "export A='x'\nexport B='it'\"'\"'s'\n"


def test_render_keeps_the_order_and_one_line_per_variable() -> None:
    variables = credential_variables(CREDENTIALS)
    for shell in ("sh", "fish", "powershell"):
        rendered = render(variables, shell)
        assert rendered.endswith("\n") and not rendered.endswith("\n\n")
        lines = rendered.splitlines()
        assert len(lines) == 4
        for line, (name, value) in zip(lines, variables.items()):
            assert name in line and value in line


@pytest.mark.parametrize("shell", ["sh", "fish", "powershell"])
def test_render_unsets_first_then_sets(shell: str) -> None:
    rendered = render({"A": "x"}, shell, unset=["AWS_PROFILE", "AWS_SECURITY_TOKEN"])

    assert (
        rendered
        == {
            "sh": "unset AWS_PROFILE\nunset AWS_SECURITY_TOKEN\nexport A='x'\n",
            "fish": "set -e AWS_PROFILE;\nset -e AWS_SECURITY_TOKEN;\nset -gx A 'x';\n",
            "powershell": (
                "Remove-Item Env:AWS_PROFILE -ErrorAction SilentlyContinue\n"
                "Remove-Item Env:AWS_SECURITY_TOKEN -ErrorAction SilentlyContinue\n$Env:A = 'x'\n"
            ),
        }[shell]
    )


@pytest.mark.parametrize("shell", ["sh", "fish", "powershell"])
def test_render_refuses_a_nul_for_every_shell(shell: str) -> None:
    with pytest.raises(UnprintableValueError, match="MFA_TEST_VALUE"):
        render({"MFA_TEST_VALUE": "a\0b"}, shell)


@pytest.mark.parametrize("shell", ["sh", "fish", "powershell"])
@pytest.mark.parametrize("name", ["", "A B", "A;echo", "A\nB", "1A", "A-B", "A=B", "$A"])
def test_render_refuses_a_name_that_is_not_a_variable_name(shell: str, name: str) -> None:
    with pytest.raises(ValueError, match="variable name"):
        render({name: "x"}, shell)
    with pytest.raises(ValueError, match="variable name"):
        render({"A": "x"}, shell, unset=[name])


@pytest.mark.parametrize("shell", ["bash", "zsh", "cmd", "", "SH", "pwsh"])
def test_unknown_shell_raises_value_error(shell: str) -> None:
    with pytest.raises(ValueError, match="unknown shell"):
        render({"A": "x"}, shell)


# --- render sh: real shells ----------------------------------------------------------------------

POSIX_SHELLS = [name for name in ("sh", "bash", "dash") if shutil.which(name)]


def test_a_posix_shell_is_available() -> None:
    assert "sh" in POSIX_SHELLS  # the round trips below are not silently empty


@pytest.mark.e2e
@pytest.mark.parametrize("shell", POSIX_SHELLS)
@pytest.mark.parametrize("value", HOSTILE_VALUES, ids=_ids(HOSTILE_VALUES))
def test_sh_round_trip_through_a_real_shell(shell: str, value: str) -> None:
    script = render({"MFA_TEST_VALUE": value}, "sh")

    result = subprocess.run(
        [shell, "-c", 'eval "$1"; printf %s "$MFA_TEST_VALUE"', shell, script],
        capture_output=True,
        encoding="utf-8",
        env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent-home", "LANG": "C.UTF-8"},
        timeout=10,
        preexec_fn=default_signals,
    )

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout == value


@pytest.mark.e2e
@pytest.mark.parametrize("shell", POSIX_SHELLS)
def test_sh_all_values_at_once_are_exported(shell: str) -> None:
    variables = {f"MFA_TEST_{index}": value for index, value in enumerate(HOSTILE_VALUES)}
    script = render(variables, "sh")
    names = " ".join(variables)

    result = subprocess.run(
        [shell, "-c", f'eval "$1"; for n in {names}; do printenv "$n"; printf "\\0"; done', shell, script],
        capture_output=True,
        encoding="utf-8",
        env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent-home", "LANG": "C.UTF-8"},
        timeout=10,
        preexec_fn=default_signals,
    )

    assert result.returncode == 0, result.stderr
    # printenv adds a newline; exported, so a child process sees each value intact
    assert result.stdout.split("\0")[:-1] == [value + "\n" for value in HOSTILE_VALUES]


# --- render fish -----------------------------------------------------------------------------------


def _fish_unquote(text: str) -> str:
    """One fish single-quoted word, per fish's documented rules: inside single quotes the only
    escapes are \\' and \\\\; everything else (newlines, $, backslash before any other
    character) is literal. Fails on anything that is not exactly one such word."""
    assert text[:1] == "'", text
    out, index = [], 1
    while True:
        assert index < len(text), f"unterminated: {text!r}"
        char = text[index]
        if char == "\\" and index + 1 < len(text) and text[index + 1] in "\\'":
            out.append(text[index + 1])
            index += 2
        elif char == "'":
            assert index == len(text) - 1, f"the quoted word ends early: {text!r}"
            return "".join(out)
        else:
            out.append(char)
            index += 1


def _fish_parse(rendered: str) -> Dict[str, str]:
    """Statements `set -gx NAME 'VALUE';`, one per line (a value may hold newlines)."""
    statement = re.compile(r"set -gx (\w+) ('(?:[^'\\]|\\.)*');\n", re.S)
    parsed, index = {}, 0
    while index < len(rendered):
        match = statement.match(rendered, index)
        assert match, f"not a set statement at {rendered[index : index + 40]!r}"
        parsed[match.group(1)] = _fish_unquote(match.group(2))
        index = match.end()
    return parsed


def test_render_fish_exact() -> None:
    assert render({"A": "x", "B": "it's", "C": "a\\b", "D": "$HOME\n"}, "fish") == (
        "set -gx A 'x';\nset -gx B 'it\\'s';\nset -gx C 'a\\\\b';\nset -gx D '$HOME\n';\n"
    )


def isolated_environment(tmp_path: Path) -> Dict[str, str]:
    """For a real shell: fish and PowerShell write their history, variables and module caches
    under HOME and the XDG folders even with --no-config / -NoProfile, so those are throwaway."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_STATE_HOME": str(home / ".local" / "state"),
        "XDG_RUNTIME_DIR": str(home / "run"),
        "TMPDIR": str(tmp_path),
        "LANG": "C.UTF-8",
    }


@pytest.mark.e2e
@pytest.mark.parametrize("value", HOSTILE_VALUES, ids=_ids(HOSTILE_VALUES))
def test_fish_round_trip(value: str, tmp_path: Path) -> None:
    rendered = render({"MFA_TEST_VALUE": value}, "fish")
    if shutil.which("fish"):
        result = subprocess.run(
            ["fish", "--no-config", "-c", rendered + 'printf %s "$MFA_TEST_VALUE"'],
            capture_output=True,
            encoding="utf-8",
            env=isolated_environment(tmp_path),
            timeout=20,
            preexec_fn=default_signals,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout == value
    else:  # fish is not installed: its documented quoting rules instead
        prefix = "set -gx MFA_TEST_VALUE "
        assert rendered.startswith(prefix) and rendered.endswith(";\n")
        assert _fish_unquote(rendered[len(prefix) : -2]) == value


def test_fish_all_values_at_once() -> None:
    variables = {f"MFA_TEST_{index}": value for index, value in enumerate(HOSTILE_VALUES)}
    assert _fish_parse(render(variables, "fish")) == variables


# --- render powershell -----------------------------------------------------------------------------

# PowerShell ends a single-quoted (verbatim) string on any of these, and reads two in a row as
# one literal (the tokenizer's CharExtensions.IsSingleQuote; PowerShell's own
# CodeGeneration.EscapeSingleQuotedStringContent doubles all five).
POWERSHELL_SINGLE_QUOTES = "'\u2018\u2019\u201a\u201b"


def _powershell_unquote(text: str) -> str:
    """One PowerShell verbatim string: starts and ends with a single-quote character; inside,
    nothing expands ($, backtick, double quotes, newlines are literal) and two single-quote
    characters in a row stand for the second one."""
    assert text[:1] in POWERSHELL_SINGLE_QUOTES, text
    out, index = [], 1
    while True:
        assert index < len(text), f"unterminated: {text!r}"
        char = text[index]
        if char in POWERSHELL_SINGLE_QUOTES:
            if index + 1 < len(text) and text[index + 1] in POWERSHELL_SINGLE_QUOTES:
                out.append(text[index + 1])
                index += 2
                continue
            assert index == len(text) - 1, f"the string ends early: {text!r}"
            return "".join(out)
        out.append(char)
        index += 1


def test_render_powershell_exact() -> None:
    assert render({"A": "x", "B": "it's", "C": '$Env:HOME `n "q"'}, "powershell") == (
        "$Env:A = 'x'\n$Env:B = 'it''s'\n$Env:C = '$Env:HOME `n \"q\"'\n"
    )


# `... | Invoke-Expression` runs each line it is piped on its own: a value that spans two lines
# would end the first statement unterminated and run the rest of the value as a second one.
POWERSHELL_LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


@pytest.mark.parametrize(
    "value",
    [v for v in HOSTILE_VALUES if set(v) & set(POWERSHELL_LINE_BREAKS)]
    + ["a\rb", "a\x85b", "a\u2028b", "a\u2029b", "a\x0bb", "a\x0cb", "x'\nRemove-Item -Recurse ~ #"],
    ids=repr,
)
def test_powershell_refuses_a_value_that_spans_lines(value: str) -> None:
    with pytest.raises(UnprintableValueError, match="MFA_TEST_VALUE"):
        render({"MFA_TEST_VALUE": value}, "powershell")


POWERSHELL_VALUES = [v for v in HOSTILE_VALUES if not set(v) & set(POWERSHELL_LINE_BREAKS)] + [
    "it\u2019s",  # typographic apostrophe, as word processors and phones type it
    "\u2018quoted\u2019",
    "low\u201a and reversed\u201b",
    "\u2019; Remove-Item -Recurse ~ #",
]


@pytest.mark.e2e
@pytest.mark.parametrize("value", POWERSHELL_VALUES, ids=_ids(POWERSHELL_VALUES))
def test_powershell_round_trip(value: str, tmp_path: Path) -> None:
    rendered = render({"MFA_TEST_VALUE": value}, "powershell")
    pwsh = shutil.which("pwsh") or shutil.which("powershell")
    if pwsh:
        result = subprocess.run(
            [pwsh, "-NoLogo", "-NoProfile", "-NonInteractive", "-Command", "-"],
            input=rendered + "[Console]::Out.Write($Env:MFA_TEST_VALUE)\n",
            capture_output=True,
            encoding="utf-8",
            env=isolated_environment(tmp_path),
            timeout=60,
            preexec_fn=default_signals,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout == value
    else:  # PowerShell is not installed: its documented quoting rules instead
        prefix = "$Env:MFA_TEST_VALUE = "
        assert rendered.startswith(prefix) and rendered.endswith("\n")
        assert _powershell_unquote(rendered[len(prefix) : -1]) == value


# --- real shells leave the person's HOME alone ------------------------------------------------------


@pytest.mark.parametrize("test, shell", [(test_fish_round_trip, "fish"), (test_powershell_round_trip, "pwsh")])
def test_real_shells_get_a_home_under_the_tests_temporary_folder(test, shell, tmp_path, monkeypatch) -> None:
    """fish writes ~/.config/fish and ~/.local/share/fish at start, pwsh ~/.cache/powershell: with
    the shell installed, the round trips must hand it a throwaway HOME and XDG folders."""
    started = []

    def fake_run(argv, **options):
        started.append(options.get("env"))
        return subprocess.CompletedProcess(argv, 0, stdout="x", stderr="")

    monkeypatch.setattr(shutil, "which", lambda name: f"/usr/bin/{name}" if name == shell else None)
    monkeypatch.setattr(subprocess, "run", fake_run)

    test("x", tmp_path)

    [env] = started
    assert env is not None
    for name in ("HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        assert Path(env[name]).is_relative_to(tmp_path), name
