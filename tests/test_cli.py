"""The CLI edge: every failure is one stderr line and an exit code; stdout stays empty; the hit path stays light."""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from processes import isolated_env, run

from mfa_process import errors
from mfa_process.cli import credential_process, main
from mfa_process.session.cache import SessionCache, SessionKey
from mfa_process.session.credentials import Credentials

ARGV = ["--profile", "base"]
HEAVY_MODULES = ("boto3", "botocore", "filelock", "platformdirs", "dataclasses", "typing")

ERROR_CLASSES = sorted(
    (cls for cls in vars(errors).values() if inspect.isclass(cls) and issubclass(cls, errors.MfaProcessError)),
    key=lambda cls: cls.__name__,
)


def exit_status(argv) -> int:
    """main's exit status, whether it returns it or raises SystemExit (argparse does)."""
    try:
        return main(argv)
    except SystemExit as stop:
        return stop.code


@pytest.fixture
def run_raises(monkeypatch):
    """Make the credential_process command raise ``error``."""

    def install(error: BaseException) -> None:
        def run(argv, environ, stdout, stderr):
            raise error

        monkeypatch.setattr(credential_process, "run", run)

    return install


# --- MfaProcessError: one line, its exit code ----------------------------------------------------


def test_the_error_classes_are_all_found():
    names = {cls.__name__ for cls in ERROR_CLASSES}
    assert {"MfaProcessError", "ConfigError", "NoTerminalError", "MfaCodeRejectedError", "LockTimeoutError"} <= names


@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=lambda cls: cls.__name__)
def test_every_mfa_process_error_is_one_stderr_line_with_its_exit_code(cls, run_raises, capsys):
    message = f"{cls.__name__} went wrong; do this to fix it"
    run_raises(cls(message))

    status = main(list(ARGV))

    out, err = capsys.readouterr()
    assert status == cls.exit_code
    assert status != 0
    assert out == ""
    assert err == f"mfa-process: {message}\n"


@pytest.mark.parametrize(
    "cls, status",
    [
        (errors.ConfigError, 2),
        (errors.ProfileNotFoundError, 2),
        (errors.InvalidTokenCodeError, 2),
        (errors.TemporaryBaseCredentialsError, 2),
        (errors.NoTerminalError, 1),
        (errors.PromptAbortedError, 1),
        (errors.MfaCodeRejectedError, 1),
        (errors.StsUnreachableError, 1),
        (errors.LockTimeoutError, 1),
    ],
    ids=lambda value: value.__name__ if inspect.isclass(value) else str(value),
)
def test_exit_codes_bad_input_2_cannot_serve_1(cls, status, run_raises, capsys):
    run_raises(cls("x"))

    assert main(list(ARGV)) == status


def test_keyboard_interrupt_is_130_and_says_interrupted(run_raises, capsys):
    run_raises(KeyboardInterrupt())

    status = main(list(ARGV))

    out, err = capsys.readouterr()
    assert status == 130
    assert out == ""
    assert err.startswith("mfa-process: ")
    assert "interrupted" in err
    assert err.count("\n") == 1 and err.endswith("\n")


def test_unexpected_exception_names_its_type_suggests_verbose_and_hides_its_text(run_raises, capsys):
    run_raises(RuntimeError("secret-ish detail"))

    status = main(list(ARGV))

    out, err = capsys.readouterr()
    assert status == 1
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("mfa-process: ")
    assert "RuntimeError" in err
    assert "--verbose" in err
    assert "secret-ish detail" not in err


@pytest.mark.parametrize("flag", ["--verbose", "-v"])
def test_verbose_adds_a_traceback_before_the_one_line(flag, run_raises, capsys):
    run_raises(RuntimeError("secret-ish detail"))

    status = main([*ARGV, flag])

    out, err = capsys.readouterr()
    assert status == 1
    assert out == ""
    assert "Traceback (most recent call last)" in err
    assert "RuntimeError: secret-ish detail" in err
    assert err.splitlines()[-1].startswith("mfa-process: unexpected RuntimeError")


def test_verbose_mfa_process_error_keeps_its_message_as_the_last_line(run_raises, capsys):
    run_raises(errors.LockTimeoutError("waited 1 s"))

    status = main([*ARGV, "--verbose"])

    err = capsys.readouterr().err
    assert status == 1
    assert "Traceback (most recent call last)" in err
    assert err.splitlines()[-1] == "mfa-process: waited 1 s"


def test_without_verbose_there_is_no_traceback(run_raises, capsys):
    run_raises(errors.StsError("GetSessionToken failed: X: y"))

    main(list(ARGV))

    assert "Traceback" not in capsys.readouterr().err


# --- argparse ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["--profile"],
        ["--profile", "base", "--bogus"],
        ["--profile", "base", "stray"],
        ["--profile", "base", "--duration"],
    ],
    ids=["profile-without-name", "unknown-flag", "stray-argument", "flag-without-value"],
)
def test_usage_errors_are_one_line_and_exit_2(argv, capsys):
    status = exit_status(argv)

    out, err = capsys.readouterr()
    assert status == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("mfa-process: ")
    assert err.endswith("; see mfa-process --help\n")


def test_bare_mfa_process_shows_the_usage_and_every_command_on_stderr(capsys):
    from mfa_process.cli import COMMANDS

    status = exit_status([])

    out, err = capsys.readouterr()
    assert status == 2
    assert out == ""  # whoever reads stdout (an SDK) gets nothing to misparse
    assert err.startswith("usage: mfa-process --profile NAME")
    for command in COMMANDS:
        assert f"\n  {command} " in err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["stauts"], "unknown command 'stauts' (did you mean 'status'?); see mfa-process help"),
        (["lgoin", "--profile", "base"], "unknown command 'lgoin' (did you mean 'login'?); see mfa-process help"),
        (["help", "stauts"], "unknown command 'stauts' (did you mean 'status'?); see mfa-process help"),
        (["--bogus"], "unrecognized arguments: --bogus; see mfa-process --help"),
        (
            ["--profile-name", "base"],
            "unrecognized arguments: --profile-name and 1 other word (not shown); see mfa-process --help",
        ),
        (["--prof", "base"], "unrecognized arguments: --prof and 1 other word (not shown); see mfa-process --help"),
        (["--profile", "base", "stray"], "unrecognized arguments: 1 word (not shown); see mfa-process --help"),
        (["status", "--bogus"], "unrecognized arguments: --bogus; see mfa-process status --help"),
    ],
)
def test_a_mistaken_word_is_named(argv, message, capsys):
    status = exit_status(argv)

    out, err = capsys.readouterr()
    assert (status, out, err) == (2, "", f"mfa-process: {message}\n")


def test_an_unknown_command_without_a_close_one_lists_the_commands(capsys):
    from mfa_process.cli import COMMANDS

    status = exit_status(["frobnicate"])

    out, err = capsys.readouterr()
    assert (status, out) == (2, "")
    assert err.startswith("mfa-process: unknown command 'frobnicate'; the commands are ")
    assert all(command in err for command in COMMANDS)
    assert "did you mean" not in err


def test_help_is_the_main_help_and_help_command_is_its_help(capsys):
    from mfa_process.cli.credential_process import build_parser

    assert exit_status(["help"]) == 0
    assert capsys.readouterr().out == build_parser().format_help()
    with pytest.raises(SystemExit) as exited:
        main(["help", "status"])
    assert exited.value.code == 0
    with pytest.raises(SystemExit):
        main(["status", "--help"])
    outs = capsys.readouterr().out.split("usage: mfa-process status")
    assert len(outs) == 3 and outs[1] == outs[2]  # the same text both ways


# --- the cache-hit path stays light ----------------------------------------------------------------


def loaded_modules_after(code: str, cwd, env=None) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter (cwd elsewhere: -c puts it first on sys.path), with
    HOME there too unless ``env`` is given."""
    env = isolated_env(Path(cwd)) if env is None else env
    return run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30, cwd=cwd, env=env)


REPORT_HEAVY = f"""
import json, sys
heavy = [name for name in {HEAVY_MODULES!r} if name in sys.modules]
sys.stderr.write("HEAVY=" + json.dumps(heavy) + "\\n")
"""


def heavy_modules(stderr: str):
    line = [line for line in stderr.splitlines() if line.startswith("HEAVY=")]
    assert line, stderr
    return json.loads(line[-1][len("HEAVY=") :])


def heavy_modules_python_loads_itself(cwd, env=None):
    """The baseline: what the interpreter (site, .pth files) loads before any of our code runs.
    On some installs (Python 3.9 with an editable install) that includes typing."""
    return set(heavy_modules(loaded_modules_after(REPORT_HEAVY, cwd, env=env).stderr))


@pytest.mark.e2e
def test_the_baseline_is_measured_in_a_fresh_interpreter(tmp_path):
    """The checks below compare against this: none of boto3, botocore or filelock is there."""
    assert not heavy_modules_python_loads_itself(tmp_path) & {"boto3", "botocore", "filelock", "platformdirs"}


@pytest.mark.e2e
@pytest.mark.parametrize("module", ["mfa_process.cli", "mfa_process.cli.credential_process"])
def test_importing_the_cli_loads_no_heavy_module(module, tmp_path):
    result = loaded_modules_after(f"import {module}\n" + REPORT_HEAVY, tmp_path)

    assert result.returncode == 0, result.stderr
    assert set(heavy_modules(result.stderr)) - heavy_modules_python_loads_itself(tmp_path) == set()


@pytest.mark.e2e
def test_a_cache_hit_run_loads_no_heavy_module(tmp_path):
    base_key = "AKIAFILESKEY00000001"
    serial = "arn:aws:iam::123456789012:mfa/alice"
    (tmp_path / "config").write_text(f"[profile base]\nmfa_serial = {serial}\n")
    (tmp_path / "credentials").write_text(f"[base]\naws_access_key_id = {base_key}\naws_secret_access_key = not-used\n")
    cache = SessionCache(str(tmp_path / "cache" / "mfa-process"))
    stored = Credentials(
        "ASIACACHED0000000001", "cached-secret", "cached-token", int(time.time()) + 7200, "123456789012"
    )
    cache.store(SessionKey("base", base_key, serial, 43200), stored, issued_at=time.time())
    env = {
        "HOME": str(tmp_path),
        "PATH": "/usr/bin:/bin",
        "AWS_CONFIG_FILE": str(tmp_path / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "AWS_ENDPOINT_URL_STS": "http://127.0.0.1:9",  # nothing listens: a miss would fail
    }
    if "PYTHONPATH" in os.environ:  # the same mfa_process as this test process
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    code = (
        "import sys\nfrom mfa_process.cli import main\nstatus = main(['--profile', 'base'])\n"
        + REPORT_HEAVY
        + ("sys.exit(status)\n")
    )

    result = loaded_modules_after(code, tmp_path, env=env)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == stored.process_output()
    assert set(heavy_modules(result.stderr)) - heavy_modules_python_loads_itself(tmp_path, env) == set()


# --- nothing secret on stderr, --verbose included (issue 8) ----------------------------------------

SECRET = "not/a+real/secret+but/shaped+like/one0000"  # the suite's guard knows the real ones


def test_an_error_message_holding_a_secret_is_redacted(run_raises, capsys):
    run_raises(errors.StsError(f"GetSessionToken failed: X: aws_secret_access_key = {SECRET}"))

    main(list(ARGV))

    err = capsys.readouterr().err
    assert SECRET not in err
    assert err == "mfa-process: GetSessionToken failed: X: aws_secret_access_key = [redacted]\n"


@pytest.mark.parametrize("flag", ["--verbose", "-v"])
def test_verbose_tracebacks_are_redacted(flag, run_raises, capsys):
    body = f"<Credentials><SecretAccessKey>{SECRET}</SecretAccessKey><SessionToken>{SECRET}"
    try:
        raise ValueError(f"Unable to parse response:\n{body.encode()!r}")
    except ValueError as cause:
        error = errors.StsAnswerError("the STS endpoint answered HTTP 200 with text/xml")
        error.__cause__ = cause
    run_raises(error)

    main([*ARGV, flag])

    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "ValueError: Unable to parse response" in err
    assert SECRET not in err
    assert "<SecretAccessKey>[redacted]</SecretAccessKey>" in err
    assert err.splitlines()[-1] == "mfa-process: the STS endpoint answered HTTP 200 with text/xml"


def test_help_names_the_sts_timeout_flag_environment_profile_key_and_default(capsys):
    assert exit_status(["--help"]) == 0

    help_text = " ".join(capsys.readouterr().out.split())
    option = help_text[help_text.index("--sts-timeout SECONDS") :]
    option = option[: option.index(" --lock-timeout")]
    for fragment in ("retries included", "$MFA_PROCESS_STS_TIMEOUT", "mfa_sts_timeout", "30)"):
        assert fragment in option
