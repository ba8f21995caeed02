"""The real Secret Service the keyring tests use (tests/secret_service.py, the ``secret_service``
fixture): reached through keyring's default choice in child processes, private to each test,
locked on demand without hanging a reader, started and stopped without leaving anything behind."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import List, Set

import pytest
from processes import run
from secret_service import (
    INSTALL_HINT,
    SECRET_SERVICE_BACKEND,
    SOCKET_PATH_MAX,
    SecretService,
    SecretServiceError,
    SecretServiceUnavailable,
)

pytestmark = pytest.mark.e2e  # every test here starts daemons or child processes

SERVICE, USER = "mfa-process-test", "base"
# A value with the shape of an AWS secret access key; the guard needs none: it is only test data.
VALUE = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYTESTVALUE1"
SET_PASSWORD = "import keyring, sys; keyring.set_password(*sys.argv[1:])"


def set_in_child(service: SecretService, value: str, name: str = SERVICE, user: str = USER) -> None:
    """``keyring.set_password`` in a child process with the service's environment, as mfa-process would."""
    result = run(
        [sys.executable, "-I", "-c", SET_PASSWORD, name, user, value],
        timeout=30,
        env=service.child_env(),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


def with_runtime_dir(runtime: Path) -> Set[int]:
    """Live processes (zombies have no environment) whose environment points at ``runtime``: the
    daemons and anything they started, wherever its process group."""
    wanted = b"XDG_RUNTIME_DIR=" + os.fsencode(runtime)
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                environ = (entry / "environ").read_bytes()
            except OSError:  # gone meanwhile, or not ours to read
                continue
            if wanted in environ.split(b"\0"):
                found.add(int(entry.name))
    return found


def in_group(pgid: int) -> List[str]:
    """``pgrep -g``: the pids in a process group."""
    result = subprocess.run(["pgrep", "-g", str(pgid)], capture_output=True, text=True, timeout=30)
    assert result.returncode in (0, 1), result.stderr  # 1: no process matched
    return result.stdout.split()


def real(program: str) -> str:
    """A program's path; where it is missing the test skips, as the fixture does (fails on CI)."""
    found = shutil.which(program)
    if found is None:
        reason = f"{program} not found on PATH; {INSTALL_HINT}"
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the Secret Service tests: {reason}", pytrace=False)
        pytest.skip(reason)
    return found


def fake_bin(folder: Path, **scripts: str) -> Path:
    """A folder of executable shell scripts, name -> body."""
    folder.mkdir()
    for name, body in scripts.items():
        script = folder / name
        script.write_text("#!/bin/sh\n" + body + "\n")
        script.chmod(0o755)
    return folder


# --- reaching it ---------------------------------------------------------------------------------


def test_keyring_chooses_the_secret_service_by_itself_in_a_child(secret_service: SecretService) -> None:
    assert set(secret_service.environ) == {"DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR"}  # no backend forced
    assert "PYTHON_KEYRING_BACKEND" not in secret_service.child_env()

    assert secret_service.default_backend() == SECRET_SERVICE_BACKEND


def test_what_one_child_stores_another_reads_back_and_the_files_stay_under_the_test_home(
    secret_service: SecretService, tmp_path: Path
) -> None:
    assert secret_service.stored(SERVICE, USER) is None

    set_in_child(secret_service, VALUE)

    assert secret_service.stored(SERVICE, USER) == VALUE
    assert secret_service.stored(SERVICE, "other") is None
    keyring_file = tmp_path / ".local" / "share" / "keyrings" / "login.keyring"  # where HOME=tmp_path puts it
    assert keyring_file.is_file()
    assert VALUE.encode() not in keyring_file.read_bytes()  # encrypted with the test password
    assert stat.S_IMODE(secret_service.runtime_dir.stat().st_mode) == 0o700
    if len(os.fsencode(tmp_path / ".run" / "keyring" / "control")) <= SOCKET_PATH_MAX:  # else: the next test
        assert secret_service.runtime_dir == tmp_path / ".run"


def test_a_root_too_deep_for_socket_paths_gets_a_short_runtime_folder_removed_at_stop(tmp_path: Path) -> None:
    root = tmp_path / ("deep" * 30)
    real("dbus-daemon"), real("gnome-keyring-daemon")
    with SecretService(root) as service:
        runtime = service.runtime_dir
        assert not runtime.is_relative_to(root) and len(os.fsencode(runtime / "keyring" / "control")) <= SOCKET_PATH_MAX
        assert stat.S_IMODE(runtime.stat().st_mode) == 0o700
        set_in_child(service, VALUE)
        assert service.stored(SERVICE, USER) == VALUE
        assert (root / ".local" / "share" / "keyrings" / "login.keyring").is_file()  # the data, under root still

    assert not runtime.exists()


def test_two_services_do_not_see_each_other(secret_service: SecretService, tmp_path: Path) -> None:
    with SecretService(tmp_path / "other") as other:
        assert other.environ["DBUS_SESSION_BUS_ADDRESS"] != secret_service.environ["DBUS_SESSION_BUS_ADDRESS"]
        set_in_child(secret_service, VALUE)
        set_in_child(other, "a different value")
        set_in_child(other, VALUE, name="only-in-other")

        assert secret_service.stored(SERVICE, USER) == VALUE
        assert other.stored(SERVICE, USER) == "a different value"
        assert secret_service.stored("only-in-other", USER) is None
        assert other.stored("only-in-other", USER) == VALUE


# --- locked ----------------------------------------------------------------------------------------


def test_a_read_from_the_locked_keyring_fails_with_keyring_locked_and_does_not_hang(
    secret_service: SecretService,
) -> None:
    set_in_child(secret_service, VALUE)
    assert "DISPLAY" not in secret_service.child_env() and "WAYLAND_DISPLAY" not in secret_service.child_env()

    secret_service.lock()

    assert secret_service.is_locked()
    began = time.monotonic()
    # a hang would end in subprocess.TimeoutExpired at 20 s (the child killed with its group), failing the test
    with pytest.raises(SecretServiceError, match=r"keyring\.errors\.KeyringLocked: Failed to unlock the collection"):
        secret_service.stored(SERVICE, USER, timeout=20)
    assert time.monotonic() - began < 15  # a prompt that fails at once, not a wait for someone to answer

    secret_service.unlock()

    assert not secret_service.is_locked()
    assert secret_service.stored(SERVICE, USER) == VALUE


# --- nothing left behind ---------------------------------------------------------------------------


def test_stop_leaves_nothing_running(secret_service: SecretService) -> None:
    runtime, pids = secret_service.runtime_dir, secret_service.pids
    assert len(pids) == 2
    assert with_runtime_dir(runtime) == set(pids)
    assert all(in_group(pid) == [str(pid)] for pid in pids)  # each daemon leads a group of its own

    secret_service.stop()

    assert [in_group(pid) for pid in pids] == [[], []]
    assert with_runtime_dir(runtime) == set()
    assert secret_service.environ == {} and secret_service.pids == ()
    secret_service.stop()  # idempotent: the fixture stops it again


def test_a_service_that_never_answers_is_killed_with_the_bus_and_the_error_says_so(tmp_path: Path) -> None:
    programs = fake_bin(
        tmp_path / "bin", **{"gnome-keyring-daemon": f"exec '{sys.executable}' -c 'import time; time.sleep(300)'"}
    )
    (programs / "dbus-daemon").symlink_to(real("dbus-daemon"))
    service = SecretService(tmp_path / "home", path=str(programs), start_seconds=1)

    with pytest.raises(SecretServiceError, match=r"did not answer unlocked in 1 s \(no owner of org\.freedesktop"):
        service.start()

    assert service.pids == ()
    assert with_runtime_dir(service.runtime_dir) == set()


def test_a_daemon_that_exits_while_starting_fails_the_start_with_its_status_and_log(tmp_path: Path) -> None:
    crash = "echo 'cannot create the keyring folder' >&2; exit 3"
    programs = fake_bin(tmp_path / "bin", **{"gnome-keyring-daemon": crash})
    (programs / "dbus-daemon").symlink_to(real("dbus-daemon"))
    service = SecretService(tmp_path / "home", path=str(programs))

    with pytest.raises(SecretServiceError, match=r"exited with status 3.*cannot create the keyring folder"):
        service.start()

    assert service.pids == ()
    assert with_runtime_dir(service.runtime_dir) == set()


def test_missing_programs_are_named_before_anything_starts(tmp_path: Path) -> None:
    empty = fake_bin(tmp_path / "empty")
    with pytest.raises(SecretServiceUnavailable) as missing_both:
        SecretService(tmp_path / "home", path=str(empty)).start()
    assert "dbus-daemon and gnome-keyring-daemon not found on PATH" in str(missing_both.value)
    assert INSTALL_HINT in str(missing_both.value)

    marker = tmp_path / "dbus-daemon-ran"
    only_bus = fake_bin(tmp_path / "only-bus", **{"dbus-daemon": f"touch '{marker}'"})
    with pytest.raises(SecretServiceUnavailable, match=r"start a Secret Service: gnome-keyring-daemon not found"):
        SecretService(tmp_path / "home", path=str(only_bus)).start()

    assert not marker.exists() and not (tmp_path / "home").exists()


# --- the fixture: skipped where it cannot start, failed on CI ------------------------------------------

USES_THE_FIXTURE = "def test_uses_it(secret_service):\n    assert secret_service.environ\n"


@pytest.mark.parametrize("ci", [None, "true"])
def test_the_fixture_skips_without_the_programs_except_on_ci(tmp_path: Path, ci: str | None) -> None:
    (tmp_path / "test_inner.py").write_text(USES_THE_FIXTURE)
    (tmp_path / "home").mkdir()
    env = {
        "HOME": str(tmp_path / "home"),  # apart from --basetemp: the inner session checks its HOME is untouched
        "PATH": str(fake_bin(tmp_path / "empty")),  # neither daemon on it
        "PYTHONPATH": str(Path(__file__).parent),  # conftest.py, loaded as a plugin (-p conftest)
        "LANG": "C.UTF-8",
        **({"CI": ci} if ci else {}),
    }
    argv = [sys.executable, "-m", "pytest", "-p", "conftest", "-p", "no:cacheprovider", "-rsf", "test_inner.py"]
    argv += ["--basetemp", str(tmp_path / "inner")]

    result = run(argv, timeout=120, env=env, cwd=tmp_path, capture_output=True, text=True)

    if ci:
        assert result.returncode == 1, result.stdout + result.stderr
        assert "1 error" in result.stdout and "CI must run the Secret Service tests" in result.stdout
    else:
        assert result.returncode == 0, result.stdout + result.stderr
        assert "1 skipped" in result.stdout
    assert "dbus-daemon and gnome-keyring-daemon not found on PATH" in result.stdout
