"""The companion commands as the CLI calls them (argv, environ, stdout, stderr): they call the
library and format its answers; warnings go to the stderr they are given."""

from __future__ import annotations

import io
import json
import os
import time

import pytest

from mfa_process.cli import logout_command, status_command
from mfa_process.session.cache import SessionCache, SessionKey
from mfa_process.session.credentials import Credentials

SERIAL = "arn:aws:iam::123456789012:mfa/alice"


@pytest.fixture
def environ(tmp_path):
    return {"HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / "cache")}


@pytest.fixture
def cache(tmp_path) -> SessionCache:
    return SessionCache(str(tmp_path / "cache" / "mfa-process"))


def store(cache: SessionCache, profile: str) -> str:
    credentials = Credentials("ASIA" + profile.upper().ljust(16, "0"), "secret", "token", int(time.time()) + 7200)
    return cache.store(SessionKey(profile, "AKIAFILESKEY00000001", SERIAL, 43200), credentials, time.time())


def run(command, argv, environ):
    stdout, stderr = io.StringIO(), io.StringIO()
    status = command.run(argv, environ, stdout, stderr)
    return status, stdout.getvalue(), stderr.getvalue()


def test_status_reads_each_cache_file_once(cache, environ, monkeypatch):
    store(cache, "base")
    store(cache, "work")
    damaged = os.path.join(cache.directory, "old.0123456789abcdef01234567.json")
    with open(damaged, "w") as file:
        file.write("{not json")
    os.chmod(damaged, 0o600)
    reads = []
    real_read = SessionCache._read

    def counting_read(self, folder, name):
        reads.append(name)
        return real_read(self, folder, name)

    monkeypatch.setattr(SessionCache, "_read", counting_read)

    status, out, err = run(status_command, ["--json"], environ)

    assert status == 0
    assert sorted(session["profile"] for session in json.loads(out)) == ["base", "work"]
    assert f"1 unreadable cache file(s) ignored (they count as misses): {damaged}" in err
    assert sorted(reads) == sorted(set(reads)) and len(reads) == 3


def test_status_warnings_go_to_the_given_stderr(cache, environ):
    store(cache, "base")
    os.chmod(cache.directory, 0o777)

    status, out, err = run(status_command, [], environ)

    assert status == 0 and out == "no cached sessions\n"
    assert err.startswith("mfa-process: warning: ") and cache.directory in err


def test_logout_of_a_profile_removes_its_sessions_and_lock_files_only(cache, environ):
    base = store(cache, "base")
    work = store(cache, "work")
    lock = base[: -len(".json")] + ".lock"
    open(lock, "w").close()

    status, out, err = run(logout_command, ["--profile", "base"], environ)

    assert (status, out, err) == (0, f"removed {base}\n", "")
    assert not os.path.exists(base) and not os.path.exists(lock)
    assert os.path.exists(work)


def test_logout_with_nothing_cached_says_so(environ):
    assert run(logout_command, ["--profile", "base"], environ) == (0, "no cached sessions for profile base\n", "")


@pytest.mark.parametrize("command", [status_command, logout_command])
def test_help_goes_to_the_stdout_the_command_was_given(command, environ, capsys) -> None:
    stdout, stderr = io.StringIO(), io.StringIO()

    with pytest.raises(SystemExit) as exited:
        command.run(["--help"], environ, stdout, stderr)

    assert exited.value.code == 0
    assert stdout.getvalue().startswith("usage: mfa-process ")
    assert stderr.getvalue() == ""
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize("command", [status_command, logout_command])
def test_a_usage_error_goes_to_the_stderr_the_command_was_given(command, environ, capsys) -> None:
    stdout, stderr = io.StringIO(), io.StringIO()

    with pytest.raises(SystemExit) as exited:
        command.run(["--bogus"], environ, stdout, stderr)

    assert exited.value.code == 2
    assert stderr.getvalue().startswith("mfa-process: ") and "--help" in stderr.getvalue()
    assert stdout.getvalue() == ""
    assert capsys.readouterr() == ("", "")


def test_the_main_help_lists_every_command_and_each_has_help(capsys) -> None:
    from importlib import import_module

    from mfa_process.cli import COMMAND_MODULES
    from mfa_process.cli.credential_process import EXAMPLES, USAGE

    for name, module in COMMAND_MODULES.items():
        assert f"\n  {name} " in EXAMPLES and name in USAGE, name
        stdout, stderr = io.StringIO(), io.StringIO()
        with pytest.raises(SystemExit) as exited:
            import_module(module, "mfa_process.cli").run(["--help"], {}, stdout, stderr)
        assert exited.value.code == 0 and stdout.getvalue().startswith(f"usage: mfa-process {name}"), name
