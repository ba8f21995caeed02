"""The recursion guard: refuse to run inside our own base-key resolution, and restore the environment."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from processes import run

from mfa_process.config.recursion_guard import (
    RESOLVING_ENV,
    Resolving,
    check_credential_process,
    check_not_resolving,
    is_recursion_report,
)
from mfa_process.errors import EXIT_USAGE, RecursiveProfileError


@pytest.mark.parametrize("environ", [{}, {RESOLVING_ENV: ""}, {"OTHER": "x"}])
def test_check_not_resolving_passes_outside_a_resolution(environ):
    check_not_resolving(environ)


def test_check_not_resolving_refuses_inside_a_resolution_and_names_the_outer_profile():
    with pytest.raises(RecursiveProfileError) as caught:
        check_not_resolving({RESOLVING_ENV: "outer"})

    assert "'outer'" in str(caught.value)
    assert is_recursion_report(str(caught.value))
    assert caught.value.exit_code == EXIT_USAGE


@pytest.mark.parametrize(
    "command",
    ["", "aws-vault export --format=json base", "/usr/local/bin/op plugin run -- aws"],
)
def test_check_credential_process_accepts_other_tools(command):
    check_credential_process("base", command)


@pytest.mark.parametrize(
    "command",
    ["mfa-process --profile other", "/home/u/.venv/bin/mfa-process --profile x", "python3 -m mfa_process --profile x"],
)
def test_check_credential_process_refuses_this_tool(command):
    with pytest.raises(RecursiveProfileError) as caught:
        check_credential_process("base", command)

    assert "'base'" in str(caught.value)
    assert is_recursion_report(str(caught.value))


def test_is_recursion_report_is_false_for_other_errors():
    assert not is_recursion_report("Error when retrieving credentials from custom-process: boom")


def test_resolving_sets_the_variable_and_removes_it_when_it_was_unset(monkeypatch):
    monkeypatch.delenv(RESOLVING_ENV, raising=False)

    with Resolving("base"):
        assert os.environ[RESOLVING_ENV] == "base"

    assert RESOLVING_ENV not in os.environ


def test_resolving_restores_a_previous_value(monkeypatch):
    monkeypatch.setenv(RESOLVING_ENV, "outer")

    with Resolving("inner"):
        assert os.environ[RESOLVING_ENV] == "inner"

    assert os.environ[RESOLVING_ENV] == "outer"


def test_resolving_restores_even_when_the_body_raises(monkeypatch):
    monkeypatch.delenv(RESOLVING_ENV, raising=False)

    with pytest.raises(KeyError):
        with Resolving("base"):
            raise KeyError("boom")

    assert RESOLVING_ENV not in os.environ


@pytest.mark.e2e
def test_resolving_is_inherited_by_child_processes(monkeypatch, tmp_path):
    monkeypatch.delenv(RESOLVING_ENV, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # the child inherits this environment: not the real HOME

    with Resolving("base"):
        seen = run(
            [sys.executable, "-c", f"import os; print(os.environ.get({RESOLVING_ENV!r}, ''))"],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
            stdin=subprocess.DEVNULL,
        ).stdout.strip()

    assert seen == "base"
