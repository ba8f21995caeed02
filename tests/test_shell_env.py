"""mfa_process.shell_env: the variables `env` prints and `exec` passes on, and their quoting.

Quoting is proven by round-tripping hostile values through real shells where they are
installed; fish and PowerShell, when absent, are checked against their documented quoting
rules (exact strings plus a decoder written from those rules).
"""

from __future__ import annotations

import calendar
import re
import shutil
import subprocess
import time
from typing import Dict

import pytest

from mfa_process.credentials import Credentials
from mfa_process.shell_env import command_environment, credential_variables, render

EXPIRES_AT = 1767268800  # 2026-01-01T12:00:00Z
CREDENTIALS = Credentials("ASIAEXAMPLEKEY123456", "secret/with+chars=", "FwoGZXIvYXdzEJr//token==", EXPIRES_AT, "123456789012")

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


def test_command_environment_drops_profiles_keeps_the_rest_and_overrides_stale_keys() -> None:
    environ = {
        "PATH": "/usr/bin:/bin",
        "HOME": "/home/alice",
        "AWS_PROFILE": "mfa",
        "AWS_DEFAULT_PROFILE": "mfa",
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


@pytest.mark.parametrize("shell", ["bash", "zsh", "cmd", "", "SH", "pwsh"])
def test_unknown_shell_raises_value_error(shell: str) -> None:
    with pytest.raises(ValueError, match="unknown shell"):
        render({"A": "x"}, shell)


# --- render sh: real shells ----------------------------------------------------------------------

POSIX_SHELLS = [name for name in ("sh", "bash", "dash") if shutil.which(name)]


def test_a_posix_shell_is_available() -> None:
    assert "sh" in POSIX_SHELLS  # the round trips below are not silently empty


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
    )

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout == value


@pytest.mark.parametrize("shell", POSIX_SHELLS)
def test_sh_all_values_at_once_are_exported(shell: str) -> None:
    variables = {f"MFA_TEST_{index}": value for index, value in enumerate(HOSTILE_VALUES)}
    script = render(variables, "sh")
    names = " ".join(variables)

    result = subprocess.run(
        [shell, "-c", f'eval "$1"; for n in {names}; do printenv "$n"; printf "\\0"; done', shell, script],
        capture_output=True,
        encoding="utf-8",
        env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
        timeout=10,
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
        assert match, f"not a set statement at {rendered[index:index + 40]!r}"
        parsed[match.group(1)] = _fish_unquote(match.group(2))
        index = match.end()
    return parsed


def test_render_fish_exact() -> None:
    assert render({"A": "x", "B": "it's", "C": "a\\b", "D": "$HOME\n"}, "fish") == (
        "set -gx A 'x';\nset -gx B 'it\\'s';\nset -gx C 'a\\\\b';\nset -gx D '$HOME\n';\n"
    )


@pytest.mark.parametrize("value", HOSTILE_VALUES, ids=_ids(HOSTILE_VALUES))
def test_fish_round_trip(value: str) -> None:
    rendered = render({"MFA_TEST_VALUE": value}, "fish")
    if shutil.which("fish"):
        result = subprocess.run(
            ["fish", "--no-config", "-c", rendered + 'printf %s "$MFA_TEST_VALUE"'],
            capture_output=True,
            encoding="utf-8",
            timeout=20,
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
    assert render({"A": "x", "B": "it's", "C": "$Env:HOME `n \"q\"\n"}, "powershell") == (
        "$Env:A = 'x'\n$Env:B = 'it''s'\n$Env:C = '$Env:HOME `n \"q\"\n'\n"
    )


POWERSHELL_VALUES = HOSTILE_VALUES + [
    "it\u2019s",  # typographic apostrophe, as word processors and phones type it
    "\u2018quoted\u2019",
    "low\u201a and reversed\u201b",
    "\u2019; Remove-Item -Recurse ~ #",
]


@pytest.mark.parametrize("value", POWERSHELL_VALUES, ids=_ids(POWERSHELL_VALUES))
def test_powershell_round_trip(value: str) -> None:
    rendered = render({"MFA_TEST_VALUE": value}, "powershell")
    pwsh = shutil.which("pwsh") or shutil.which("powershell")
    if pwsh:
        result = subprocess.run(
            [pwsh, "-NoLogo", "-NoProfile", "-NonInteractive", "-Command", "-"],
            input=rendered + "[Console]::Out.Write($Env:MFA_TEST_VALUE)\n",
            capture_output=True,
            encoding="utf-8",
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout == value
    else:  # PowerShell is not installed: its documented quoting rules instead
        prefix = "$Env:MFA_TEST_VALUE = "
        assert rendered.startswith(prefix) and rendered.endswith("\n")
        assert _powershell_unquote(rendered[len(prefix) : -1]) == value
