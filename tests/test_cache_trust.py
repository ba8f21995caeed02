"""The cache trusts nothing it did not create: files and folders another user planted or can change,
FIFOs and links at its paths, folders created under a permissive umask, `logout --all` in a
folder shared with other files.

These tests run as root here, so "another user" is simulated with os.chown(path, 12345, 12345).
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from aws_home import AwsHome, contract

from mfa_process.errors import UnsafeCacheError
from mfa_process.session.cache import SessionCache, SessionKey
from mfa_process.session.credentials import Credentials

BASE_KEY = "AKIABASEKEY000000001"
SERIAL = "arn:aws:iam::123456789012:mfa/alice"
FOREIGN = 12345
FAR_FUTURE = 4_000_000_000  # valid for decades: a planted session would be served at once

pytestmark = pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX ownership and modes")


def key(profile="base"):
    return SessionKey(profile, BASE_KEY, SERIAL, 43200)


def creds(access_key_id="ASIASESSION000000001"):
    return Credentials(access_key_id, "session-secret", "session-token", FAR_FUTURE, "123456789012")


def mode(path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


@pytest.fixture
def cache(tmp_path):
    return SessionCache(str(tmp_path / "cache"))


@pytest.fixture
def stored(cache):
    """A valid session of ours in a private folder."""
    return cache.store(key(), creds(), issued_at=1_700_000_000)


def warnings_about(cache: SessionCache, path) -> list:
    return [message for message in cache.pop_warnings() if str(path) in message]


# --- 1. files and folders of another user, or that others can change -------------------------


def test_session_file_owned_by_another_user_is_a_miss_with_one_warning(cache, stored):
    os.chown(stored, FOREIGN, FOREIGN)

    assert cache.load(key()) is None
    assert cache.load(key()) is None  # twice: still one warning
    [warning] = warnings_about(cache, stored)
    assert "uid 12345" in warning and f"rm {stored}" in warning
    assert "session-secret" not in warning and "session-token" not in warning


@pytest.mark.parametrize("bits", [0o640, 0o604, 0o660, 0o606, 0o700])
def test_session_file_with_group_or_other_bits_is_a_miss_with_a_warning(cache, stored, bits):
    os.chmod(stored, bits)

    session = cache.load(key())

    if bits == 0o700:  # the owner's own bits are not a danger
        assert session is not None
        assert cache.pop_warnings() == []
    else:
        assert session is None
        [warning] = warnings_about(cache, stored)
        assert f"{bits:04o}" in warning and f"rm {stored}" in warning


def test_session_file_that_is_a_symbolic_link_is_a_miss_with_a_warning(cache, stored, tmp_path):
    elsewhere = tmp_path / "elsewhere.json"
    os.replace(stored, elsewhere)
    os.symlink(elsewhere, stored)

    assert cache.load(key()) is None
    [warning] = warnings_about(cache, stored)
    assert "symbolic link" in warning


def test_folder_owned_by_another_user_is_a_miss_and_is_not_written(cache, stored):
    os.chown(cache.directory, FOREIGN, FOREIGN)

    assert cache.load(key()) is None
    assert list(cache.sessions()) == []
    with pytest.raises(UnsafeCacheError) as raised:
        cache.store(key(), creds("ASIASECOND0000000002"), issued_at=1_700_000_001)

    [warning] = cache.pop_warnings()
    assert cache.directory in warning and "uid 12345" in warning
    assert str(raised.value) == warning
    assert os.stat(cache.directory).st_uid == FOREIGN  # nothing "fixed" behind the owner's back
    with open(stored) as file:
        assert json.load(file)["credentials"]["AccessKeyId"] == "ASIASESSION000000001"


@pytest.mark.parametrize("bits", [0o770, 0o707, 0o777, 0o1777])
def test_folder_others_can_write_is_a_miss_until_made_private(cache, stored, bits):
    os.chmod(cache.directory, bits)

    assert cache.load(key()) is None
    [warning] = warnings_about(cache, cache.directory)
    assert f"chmod 700 {cache.directory}" in warning

    cache.store(key(), creds(), issued_at=1_700_000_000)  # our own real folder: made private

    assert mode(cache.directory) == 0o700
    assert cache.load(key()) is not None


def test_folder_that_others_can_only_read_is_served(cache, stored):
    os.chmod(cache.directory, 0o755)

    assert cache.load(key()) is not None
    assert cache.pop_warnings() == []


@pytest.fixture
def sticky_target(tmp_path):
    """A /tmp-like folder (1777) that the cache folder is a symbolic link to."""
    target = tmp_path / "shared-tmp"
    target.mkdir()
    os.chmod(target, 0o1777)
    return target


def test_symlinked_folder_to_a_sticky_shared_folder_is_never_chmod_ed(tmp_path, sticky_target):
    link = tmp_path / "cache"
    os.symlink(sticky_target, link)
    cache = SessionCache(str(link))
    planted = SessionCache(str(sticky_target))
    os.chmod(sticky_target, 0o700)
    planted.store(key(), creds("ASIAPLANTED000000001"), issued_at=1_700_000_000)
    os.chmod(sticky_target, 0o1777)

    assert cache.load(key()) is None
    with pytest.raises(UnsafeCacheError):
        cache.ensure_directory()
    with pytest.raises(UnsafeCacheError):
        cache.store(key(), creds(), issued_at=1_700_000_000)

    assert mode(sticky_target) == 0o1777
    [warning] = cache.pop_warnings()
    assert str(link) in warning and "symbolic link" in warning and f"rm {link}" in warning
    assert "chmod" not in warning  # chmod-ing a shared target like /tmp would be the wrong fix


def test_symlinked_folder_to_a_private_folder_of_ours_is_served_and_left_as_it_is(tmp_path):
    target = tmp_path / "elsewhere"
    target.mkdir()
    os.chmod(target, 0o750)
    link = tmp_path / "cache"
    os.symlink(target, link)
    cache = SessionCache(str(link))

    cache.store(key(), creds(), issued_at=1_700_000_000)

    assert cache.load(key()) is not None
    assert mode(target) == 0o750
    assert os.path.islink(link)
    assert cache.pop_warnings() == []


# --- 2. FIFOs and other special files never block ---------------------------------------------


def finishes(action, fifo: str, seconds: float = 10):
    """Run ``action`` in a thread; if it blocks on the FIFO, unblock it and fail."""
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("value", action()), daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))  # lets a blocked open() return
        thread.join(5)
        pytest.fail(f"{action} blocked on the FIFO {fifo}")
    return result["value"]


def test_fifo_at_the_session_path_is_a_miss_and_never_blocks(cache, stored):
    os.unlink(stored)
    os.mkfifo(stored, 0o600)

    assert finishes(lambda: cache.load(key()), stored) is None
    assert finishes(lambda: list(cache.sessions()), stored) == []
    assert finishes(cache.damaged_files, stored) == [stored]
    [warning] = warnings_about(cache, stored)
    assert "not a regular file" in warning


def test_file_of_a_session_named_folder_entry_that_is_a_directory_is_a_miss(cache, stored):
    os.unlink(stored)
    os.mkdir(stored, 0o700)

    assert cache.load(key()) is None


# --- 3. folders the tool creates are 0700 whatever the umask -----------------------------------


@pytest.mark.parametrize("umask", [0o000, 0o022, 0o077, 0o777])
def test_every_folder_created_is_0700_whatever_the_umask(tmp_path, umask):
    existing = tmp_path / "home"
    existing.mkdir()
    os.chmod(existing, 0o755)
    directory = existing / ".cache" / "deeper" / "mfa-process"
    cache = SessionCache(str(directory))
    previous = os.umask(umask)
    try:
        path = cache.store(key(), creds(), issued_at=1_700_000_000)
    finally:
        os.umask(previous)

    assert [mode(p) for p in (existing / ".cache", existing / ".cache" / "deeper", directory)] == [0o700] * 3
    assert mode(existing) == 0o755  # not ours to change: it was there before
    assert mode(path) == 0o600
    assert cache.load(key()) is not None


def test_cache_home_created_by_the_cli_under_umask_000_is_0700(aws: AwsHome):
    """The console script with umask 000: `~/.cache` itself came out 0777 (os.makedirs' mode
    does not apply to the intermediate folders)."""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import os, sys; os.umask(0); from mfa_process.cli import main; sys.exit(main())",
            "--profile",
            "base",
            "--token-code",
            aws.code(),
        ],
        env=aws.env,
        cwd=aws.root,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )

    assert result.returncode == 0, result.stderr
    assert mode(aws.root / ".cache") == 0o700
    assert mode(aws.cache_dir) == 0o700
    assert [mode(path) for path in aws.cache_dir.iterdir()] == [0o600] * len(list(aws.cache_dir.iterdir()))


# --- 5. removing sessions removes sessions, and nothing else -------------------------------------


def test_remove_all_removes_session_files_and_their_locks_and_nothing_else(cache, stored):
    from mfa_process.session.lock import session_lock
    from mfa_process.watchdog import no_watchdog

    with session_lock(cache.lock_path_for(key()), no_watchdog(1), "test"):
        pass
    damaged = os.path.join(cache.directory, "broken.0123456789abcdef01234567.json")
    orphan_lock = os.path.join(cache.directory, "gone.0123456789abcdef01234567.lock")
    others = {
        "package.json": '{"name": "project"}',
        "notes.json": "{}",
        "tsconfig.base.json": "{}",
        "x.0123456789ABCDEF01234567.json": "{}",  # upper-case hex: not a name the cache gives
        "x.0123456789abcdef0123456.json": "{}",  # 23 hex digits
        "README.lock": "",
    }
    for name, content in others.items():
        Path(cache.directory, name).write_text(content)
    Path(damaged).write_text("{")
    Path(orphan_lock).write_text("")

    removed = cache.remove_all()

    assert sorted(removed) == sorted([stored, damaged])
    assert sorted(os.listdir(cache.directory)) == sorted(others)


def test_remove_takes_the_session_and_its_lock_file(cache, stored):
    from mfa_process.session.lock import session_lock
    from mfa_process.watchdog import no_watchdog

    with session_lock(cache.lock_path_for(key()), no_watchdog(1), "test"):
        pass
    [session] = cache.sessions()

    assert cache.remove(session) is True
    assert cache.remove(session.path) is False  # already gone

    assert os.listdir(cache.directory) == []


def test_remove_leaves_a_lock_that_is_held(cache, stored):
    from mfa_process.session.lock import session_lock
    from mfa_process.watchdog import no_watchdog

    with session_lock(cache.lock_path_for(key()), no_watchdog(1), "test"):
        assert cache.remove(stored) is True
        assert os.path.exists(cache.lock_path_for(key()))  # someone is prompting: keep their lock


def test_remove_refuses_paths_outside_the_cache_or_not_named_like_a_session(cache, stored, tmp_path):
    outside = tmp_path / "base.0123456789abcdef01234567.json"
    outside.write_text("{}")
    inside = Path(cache.directory, "package.json")
    inside.write_text("{}")

    assert cache.remove(str(outside)) is False
    assert cache.remove(str(inside)) is False

    assert outside.exists() and inside.exists()


def test_remove_all_in_a_folder_others_can_write_removes_nothing(cache, stored):
    os.chmod(cache.directory, 0o777)

    assert cache.remove_all() == []

    assert os.path.exists(stored)
    assert warnings_about(cache, cache.directory)


# --- end to end ----------------------------------------------------------------------------------


def session_file(aws: AwsHome) -> Path:
    """Run once with a code, so the session file (and its lock) exist; return the session file."""
    result = aws.run(["--profile", "base", "--token-code", aws.code()])
    assert result.returncode == 0, result.stderr
    [path] = aws.cache_files()
    return path


def next_code(aws: AwsHome) -> str:
    return aws.code(aws.sts.calls("GetSessionToken"))  # a code the double has not seen used


def test_fifo_at_the_session_path_neither_hangs_the_plugin_nor_status(aws: AwsHome):
    path = session_file(aws)
    path.unlink()
    os.mkfifo(path, 0o600)

    status = aws.run(["status"], timeout=20)
    plugin = aws.run(["--profile", "base", "--token-code", next_code(aws)], timeout=20)

    assert status.returncode == 0, status.stderr
    assert plugin.returncode == 0, plugin.stderr
    assert contract(plugin.stdout)["AccessKeyId"].startswith("ASIA")
    assert [line for line in plugin.stderr.splitlines() if str(path) in line] == [
        f"mfa-process: warning: the cache file {path} is not a regular file, so it is not served; remove it (rm {path})"
    ]
    assert stat.S_ISREG(os.lstat(path).st_mode)  # the store replaced it with a real session file


def test_planted_session_of_another_user_is_not_served_by_the_plugin(aws: AwsHome):
    path = session_file(aws)
    document = json.loads(path.read_text())
    document["credentials"]["AccessKeyId"] = "ASIAPLANTED000000001"
    path.write_text(json.dumps(document))
    os.chown(path, FOREIGN, FOREIGN)

    result = aws.run(["--profile", "base", "--token-code", next_code(aws)])

    assert result.returncode == 0, result.stderr
    assert contract(result.stdout)["AccessKeyId"] != "ASIAPLANTED000000001"
    assert len([line for line in result.stderr.splitlines() if str(path) in line]) == 1
    assert "uid 12345" in result.stderr


def test_foreign_cache_folder_serves_uncached_with_one_warning(aws: AwsHome):
    session_file(aws)
    os.chown(aws.cache_dir, FOREIGN, FOREIGN)

    result = aws.run(["--profile", "base", "--token-code", next_code(aws)])

    assert result.returncode == 0, result.stderr
    contract(result.stdout)
    [line] = result.stderr.splitlines()
    assert str(aws.cache_dir) in line and "uid 12345" in line and "not cached" in line


def test_status_says_why_a_planted_file_and_an_open_folder_are_not_served(aws: AwsHome):
    path = session_file(aws)
    os.chmod(path, 0o666)

    planted = aws.run(["status"])
    os.chmod(path, 0o600)
    os.chmod(aws.cache_dir, 0o777)
    open_folder = aws.run(["status"])

    assert planted.returncode == 0 and open_folder.returncode == 0
    assert f"mfa-process: warning: the cache file {path}" in planted.stderr
    assert f"rm {path}" in planted.stderr
    assert "no cached sessions" in planted.stdout
    assert f"mfa-process: warning: the cache folder {aws.cache_dir}" in open_folder.stderr
    assert f"chmod 700 {aws.cache_dir}" in open_folder.stderr


def test_symlinked_lock_file_is_never_followed_and_the_run_still_serves(aws: AwsHome):
    path = session_file(aws)
    lock = path.with_suffix(".lock")
    aws.run(["logout", "--all"])
    victim = aws.root / "victim.txt"
    victim.write_text("precious\n")
    os.chmod(victim, 0o644)
    if lock.exists():
        lock.unlink()
    os.symlink(victim, lock)

    result = aws.run(["--profile", "base", "--token-code", next_code(aws)])

    assert result.returncode == 0, result.stderr
    contract(result.stdout)
    assert victim.read_text() == "precious\n" and mode(victim) == 0o644
    assert f"the lock file {lock} is a symbolic link; remove it" in result.stderr
    assert "cache folder" not in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_logout_all_through_a_symlinked_folder_keeps_the_projects_files(aws: AwsHome):
    project = aws.root / "project"
    project.mkdir()
    (project / "package.json").write_text('{"name": "project"}')
    (project / "tsconfig.json").write_text("{}")
    aws.cache_dir.parent.mkdir(mode=0o700, exist_ok=True)
    os.symlink(project, aws.cache_dir)
    assert aws.run(["--profile", "base", "--token-code", aws.code()]).returncode == 0
    assert len(os.listdir(project)) == 4  # package.json, tsconfig.json, the session and its lock file

    result = aws.run(["logout", "--all"])

    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 1 and result.stdout.startswith("removed ")
    assert sorted(os.listdir(project)) == ["package.json", "tsconfig.json"]
