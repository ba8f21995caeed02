"""Red team, issue 10, second pass: the fixes of the first (bf338cd) and what they may have broken.

The keyring's sessions are cached under ``keyring:<mfa_key_id>``, a name the config file gives and
the keyring never confirms; rotate puts the old key back when its store "may have changed"; the
keyring's backends are checked member by member. Each attack drives mfa-process as a user would
(two terminals, a plugin run by an SDK at the same moment, a keyring backend that dies or locks),
and checks what matters afterwards: the stored key works at AWS, no session of a deleted key is
served, and mfa-process's own advice gets the user out. The secret guard reads every stderr.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any, Optional, Tuple

import boto3
import pytest
from aws_home import AwsHome
from processes import kill_group, popen
from secret_service import SecretService
from test_red_team_keys import (
    BACKENDS,
    SECRET,
    SERIAL,
    KeyringBackends,
    add_from_env,
    files_holding,
    local_environ,
)
from test_red_team_keys_rotate import keyring_entry, login, move_to_keyring, served_session_works
from test_rotate_e2e import OLD_KEY, second_key, stored_key, wait_until

from mfa_process.config.hit_settings import hit_session_key
from mfa_process.config.settings import resolve_settings
from mfa_process.errors import MfaProcessError

STEP_SECONDS = 60
SKEW_WINDOWS = 4  # codes of four 30 s windows either side: each run below takes its own


class Finding(AssertionError):
    """The fault a strict xfail names (``raises=Finding``): any other failure, a step that did not
    happen as planned, fails the test instead of passing for the expected one."""


def finding(holds: bool, message: str) -> None:
    if not holds:
        raise Finding(message)


def code(aws: AwsHome, offset: int) -> str:
    """A code the double accepts once; tests here use each offset once."""
    aws.sts.skew_windows = SKEW_WINDOWS
    return aws.code(offset)


def start(aws: AwsHome, *args: str, **extra_env: str) -> subprocess.Popen:
    """`mfa-process ARGS` in the background, no terminal, output captured (end it with kill_group)."""
    return popen(
        ["mfa-process", *args],
        env=dict(aws.env, **extra_env),
        cwd=aws.root,
        stdin=subprocess.DEVNULL,
        capture_output=True,
    )


def finish(aws: AwsHome, process: subprocess.Popen, what: str) -> Tuple[int, str, str]:
    """Wait for ``process``; its exit status and output, its stderr checked by the secret guard."""
    stdout, stderr = process.communicate(timeout=STEP_SECONDS)
    aws.guard.check(f"the stderr of {what}", stderr.decode())
    return process.returncode, stdout.decode(), stderr.decode()


def waits_on_a_lock(pid: int, cache_dir: Path) -> bool:
    """Whether process ``pid`` has a session lock file of ``cache_dir`` open (Linux: /proc)."""
    try:
        names = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for name in names:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{name}")
        except OSError:
            continue
        if target.startswith(str(cache_dir)) and target.endswith(".lock"):
            return True
    return False


def stored_key_id(aws: AwsHome, secret_service: Optional[SecretService]) -> Optional[str]:
    """The key ID the profile's store holds now: the credentials file's, or the keyring's."""
    if secret_service is None:
        return stored_key(aws)
    entry = keyring_entry(secret_service)
    return None if entry is None else str(entry["AccessKeyId"])


def iam_with_mfa(aws: AwsHome, access_key_id: str) -> Any:
    """IAM as the user at the console (an MFA session of ``access_key_id``): what mfa-process's
    advice sends them to do."""
    session = aws.sts.issue_session(access_key_id)
    return boto3.client(
        "iam",
        endpoint_url=aws.sts.url,
        region_name="us-east-1",
        aws_access_key_id=session.access_key_id,
        aws_secret_access_key=session.secret_access_key,
        aws_session_token=session.session_token,
    )


# --- 1. two rotates at once -----------------------------------------------------------------------


@pytest.mark.parametrize("store", ["file", "keyring"])
def test_two_rotates_at_once_take_turns_and_never_leave_a_deleted_key_stored(
    aws: AwsHome, store: str, request: pytest.FixtureRequest
) -> None:
    """Two terminals: the late rotate waits on the session lock a plugin run holds (an SDK asking
    for a code); meanwhile the first rotate starts and waits for the late one (rotate's own lock).
    Then both run, one after the other: the store ends with a working key, the only one at AWS."""
    secret_service = request.getfixturevalue("secret_service") if store == "keyring" else None
    if secret_service is not None:
        move_to_keyring(aws, secret_service)
    aws.sts.propagation_delay = 0.2
    login(aws, 0)
    aws.sts.stall_before = "GetSessionToken"  # the plugin's call, signed by the old key, waits
    plugin = start(aws, "--profile", "base", "--refresh", "--token-code", code(aws, 1))
    late: Optional[subprocess.Popen] = None
    first: Optional[subprocess.Popen] = None
    try:
        assert wait_until(lambda: aws.sts.stalled() == ["GetSessionToken"] or plugin.poll() is not None)
        assert plugin.poll() is None, plugin.communicate()
        late = start(aws, "rotate", "--profile", "base", "--refresh", "--token-code", code(aws, 2), "--verbose")
        assert wait_until(lambda: waits_on_a_lock(late.pid, aws.cache_dir) or late.poll() is not None)
        assert late.poll() is None, late.communicate()  # it waits on the session lock
        first = start(aws, "rotate", "--profile", "base", "--token-code", code(aws, 3), "--verbose")
        assert wait_until(lambda: waits_on_a_lock(first.pid, aws.cache_dir) or first.poll() is not None)
        assert first.poll() is None, first.communicate()  # it waits for the late rotate
        aws.sts.stall_before = None
        finish(aws, plugin, "the plugin")
        late_status, _, late_stderr = finish(aws, late, "the late rotate")
        first_status, _, first_stderr = finish(aws, first, "the first rotate")
    finally:
        for process in (plugin, late, first):
            if process is not None:
                kill_group(process)

    assert (late_status, first_status) == (0, 0), (late_stderr, first_stderr)
    stored = stored_key_id(aws, secret_service)
    assert stored is not None and aws.sts.key_works(stored)
    assert [key["access_key_id"] for key in aws.sts.access_keys()] == [stored]


# --- 2. rotate cut short between the keyring's write and the config's record -------------------------

DYING_BACKEND = '''
import os
import signal

from redteam_keyring import FileBacked


class DiesAfterWrite(FileBacked):
    """Keeps what it is given, then the process is killed (kill -9) when $REDTEAM_DIE_AFTER_WRITE is set."""

    def set_password(self, service, username, password):
        super().set_password(service, username, password)
        if os.environ.get("REDTEAM_DIE_AFTER_WRITE"):
            os.kill(os.getpid(), signal.SIGKILL)
'''


@pytest.fixture
def dying_keyring(aws: AwsHome, tmp_path: Path) -> KeyringBackends:
    """A keyring (allowed by its owner) whose process dies right after a write, when asked to."""
    aws.write_credentials("")
    backends = KeyringBackends(tmp_path, aws)
    (backends.folder / "redteam_dying.py").write_text(DYING_BACKEND)
    backends.use("redteam_dying.DiesAfterWrite")
    return backends


def config_key_id(aws: AwsHome) -> Optional[str]:
    for line in aws.config_file.read_text().splitlines():
        if line.startswith("mfa_key_id"):
            return line.partition("=")[2].strip()
    return None


def keyring_key_id(backends: KeyringBackends) -> str:
    return str(json.loads(backends.entries()["mfa-process/base"])["AccessKeyId"])


def test_a_rotate_killed_after_the_keyring_write_is_recovered_by_following_its_advice(
    aws: AwsHome, dying_keyring: KeyringBackends
) -> None:
    """kill -9 right after the keyring took the new key (the process dies in the backend's write).
    The stored key works, but the user must then be able to follow what mfa-process says next."""
    added = add_from_env(aws)
    assert added.returncode == 0, added.stderr
    aws.sts.propagation_delay = 0.2
    killed = start(aws, "rotate", "--profile", "base", "--token-code", code(aws, 0), REDTEAM_DIE_AFTER_WRITE="1")
    try:
        status, _, _ = finish(aws, killed, "the rotate killed after the keyring's write")
    finally:
        kill_group(killed)
    assert status == -signal.SIGKILL
    ((new_key, _),) = aws.sts.created_keys()
    assert (keyring_key_id(dying_keyring), config_key_id(aws)) == (new_key, OLD_KEY)  # cut short right there

    at_limit = aws.run(["rotate", "--profile", "base", "--token-code", code(aws, 1)], timeout=STEP_SECONDS)
    assert at_limit.returncode == 1 and f"if nothing else uses {OLD_KEY}, delete it" in at_limit.stderr, at_limit.stderr
    iam_with_mfa(aws, OLD_KEY).delete_access_key(AccessKeyId=OLD_KEY)  # as told (console, or the command given)

    served = aws.run(["--profile", "base"], timeout=STEP_SECONDS)  # a hit, or nothing: no code, no terminal
    dead_session_served = served.returncode == 0 and not served_session_works(aws, served.stdout)  # checked now
    again = aws.run(["rotate", "--profile", "base", "--token-code", code(aws, 2)], timeout=STEP_SECONDS)

    finding(not dead_session_served, "the plugin serves a session of the deleted key")
    finding(again.returncode == 0, f"rotate does not recover: {again.stderr.splitlines()[-1:]}")
    assert aws.sts.key_works(keyring_key_id(dying_keyring))


# --- 3. a rollback that itself fails: the keyring locks while rotate runs -----------------------------


def test_a_keyring_locked_after_create_access_key_leaves_the_old_key_and_a_way_out(
    aws: AwsHome, secret_service: SecretService
) -> None:
    """The screen locks between CreateAccessKey and the keyring's write: neither the new key nor
    the old one can be written, so the new key must stay at AWS (it may be stored) and be named;
    once unlocked, the next rotate names it with the command that deletes it, and then works."""
    move_to_keyring(aws, secret_service)
    aws.sts.propagation_delay = 0.2
    login(aws, 0)
    aws.sts.stall_after = "CreateAccessKey"
    process = start(aws, "rotate", "--profile", "base", "--verbose")
    try:
        assert wait_until(lambda: aws.sts.stalled() == ["CreateAccessKey"] or process.poll() is not None)
        secret_service.lock()
        aws.sts.stall_after = None
        status, _, stderr = finish(aws, process, "rotate")
    finally:
        kill_group(process)
    ((made, _),) = aws.sts.created_keys()
    secret_service.unlock()

    assert status == 1 and made in stderr.splitlines()[-1], stderr
    assert keyring_entry(secret_service) is not None and aws.sts.key_works(OLD_KEY)
    assert stored_key_id(aws, secret_service) == OLD_KEY
    at_limit = aws.run(["rotate", "--profile", "base", "--token-code", code(aws, 1)], timeout=STEP_SECONDS)
    command = f"aws iam delete-access-key --user-name alice --access-key-id {made}"
    assert at_limit.returncode == 1 and command in at_limit.stderr, at_limit.stderr
    iam_with_mfa(aws, OLD_KEY).delete_access_key(AccessKeyId=made)  # what that command does
    again = aws.run(["rotate", "--profile", "base", "--token-code", code(aws, 2)], timeout=STEP_SECONDS)
    assert again.returncode == 0, again.stderr
    assert aws.sts.key_works(str(stored_key_id(aws, secret_service)))


# --- 4. the hit and the full path name a keyring profile's sessions alike ----------------------------

KEY_ID_LINES = {
    "missing": "",
    "empty": "mfa_key_id =\n",
    "spaces around": f"mfa_key_id =    {OLD_KEY}   \n",
    "lower case": f"mfa_key_id = {OLD_KEY.lower()}\n",
    "an upper-case option name": f"MFA_KEY_ID = {OLD_KEY}\n",
    "a no-break space inside": f"mfa_key_id = AKIA\u00a0{OLD_KEY[4:]}\n",
    "full-width letters": "mfa_key_id = \uff21\uff2b\uff29\uff21" + OLD_KEY[4:] + "\n",
    "a comment after it": f"mfa_key_id = {OLD_KEY} # rotated in March\n",
    "continued": f"mfa_key_id =\n  {OLD_KEY}\n",
    "repeated": f"mfa_key_id = {OLD_KEY}\nmfa_key_id = AKIAZZZZEXAMPLEKEY22\n",
    "a colon": f"mfa_key_id: {OLD_KEY}\n",
}
ELSEWHERE = {
    "only in the config": ("", ""),
    "in the credentials file too": ("", "[base]\nmfa_key_id = AKIAZZZZEXAMPLEKEY22\n"),
    "in [DEFAULT] too": ("[DEFAULT]\nmfa_key_id = AKIAZZZZEXAMPLEKEY22\n\n", ""),
}


@pytest.mark.parametrize("where", sorted(ELSEWHERE))
@pytest.mark.parametrize("line", sorted(KEY_ID_LINES))
def test_the_hit_and_the_full_path_give_a_keyring_profile_one_cache_name(tmp_path: Path, line: str, where: str) -> None:
    """A different name on either side would serve what the full path would not (or ask for a code
    on every call): the hit's answer, when it gives one, must be the full path's."""
    environ = local_environ(tmp_path)
    before, credentials = ELSEWHERE[where]
    config = f"{before}[profile base]\nmfa_serial = {SERIAL}\nmfa_key_store = keyring\n{KEY_ID_LINES[line]}"
    (tmp_path / "config").write_text(config, encoding="utf-8")
    (tmp_path / "credentials").write_text(credentials, encoding="utf-8")

    hit = hit_session_key("base", environ)
    try:
        settings = resolve_settings("base", environ)
    except MfaProcessError:
        settings = None

    if hit is not None:
        assert settings is not None, "the hit would serve a profile the full path refuses"
        assert hit == (
            "base",
            settings.known_base_access_key_id,
            settings.device.serial,
            settings.duration,
            settings.max_mfa_age,
        )


# --- 5. `add` while a plugin miss holds the session lock ----------------------------------------------


def test_add_while_a_plugin_holds_the_lock_neither_waits_nor_lets_the_replaced_key_serve(
    aws: AwsHome, secret_service: SecretService
) -> None:
    """A plugin run (an SDK) has read the keyring's key and waits on STS, holding the lock, when the
    user adds a new key. add must not wait for it; the session that run caches, signed by the key
    add replaced, must not be served, also once the user deletes that key as add says."""
    move_to_keyring(aws, secret_service)
    aws.sts.propagation_delay = 0.2
    new_key = second_key(aws)
    ((_, new_secret),) = aws.sts.created_keys()
    aws.sts.stall_after = "GetSessionToken"  # issued with the old key; the answer waits
    plugin = start(aws, "--profile", "base", "--refresh", "--token-code", code(aws, 0))
    try:
        assert wait_until(lambda: aws.sts.stalled() == ["GetSessionToken"] or plugin.poll() is not None)
        began = time.monotonic()
        added = add_from_env(aws, key_id=new_key, secret=new_secret)
        took = time.monotonic() - began
        aws.sts.stall_after = None
        plugin_status, _, _ = finish(aws, plugin, "the plugin")
    finally:
        kill_group(plugin)
    assert added.returncode == 0 and f"it replaced key {OLD_KEY}" in added.stdout, added.stderr
    assert took < 20 and plugin_status == 0
    iam_with_mfa(aws, OLD_KEY).delete_access_key(AccessKeyId=OLD_KEY)  # as add says

    served = aws.run(["--profile", "base"], timeout=STEP_SECONDS)  # a hit, or nothing: no code, no terminal
    fresh = aws.run(["--profile", "base", "--token-code", code(aws, 1)], timeout=STEP_SECONDS)

    dead_session_served = served.returncode == 0 and not served_session_works(aws, served.stdout)
    assert not dead_session_served
    assert fresh.returncode == 0 and served_session_works(aws, fresh.stdout), fresh.stderr


# --- 6. a chained keyring: the Secret Service and a plain-text backend, both installed -------------

PLAIN_BACKEND = '''
from redteam_keyring import FileBacked


class PlaintextKeyring(FileBacked):
    """As keyrings.alt's: entries in a plain file ($REDTEAM_STORE), a low priority."""

    priority = 0.5
'''


@pytest.fixture
def chained(aws: AwsHome, secret_service: SecretService, tmp_path: Path) -> Path:
    """The Secret Service, and keyrings.alt's plain-text backend installed as a package registers
    it (an entry point): keyring then picks its ChainerBackend over both. The plain store's path."""
    site = tmp_path / "site"
    (site / "keyrings" / "alt").mkdir(parents=True)
    (site / "keyrings" / "alt" / "file.py").write_text(PLAIN_BACKEND)
    (site / "redteam_keyring.py").write_text(BACKENDS)
    info = site / "redteam_plain-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: redteam-plain\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[keyring.backends]\nplain = keyrings.alt.file\n")
    store = tmp_path / "plain-keyring.json"
    aws.env.update(secret_service.environ, PYTHONPATH=str(site), REDTEAM_STORE=str(store))
    aws.write_credentials("")
    return store


def test_a_chain_with_a_plain_text_member_never_gets_the_secret(
    aws: AwsHome, secret_service: SecretService, chained: Path
) -> None:
    """The chain is used through its allowed member alone: the plain one is never written or read."""
    result = add_from_env(aws)
    served = aws.run(["--profile", "base", "--token-code", code(aws, 0)], timeout=STEP_SECONDS)

    assert result.returncode == 0, result.stderr
    assert served.returncode == 0, served.stderr
    assert not chained.exists() and files_holding(aws.root, SECRET) == []


def test_a_chain_with_a_plain_text_member_uses_the_secret_service_or_says_how(
    aws: AwsHome, secret_service: SecretService, chained: Path
) -> None:
    result = add_from_env(aws)

    stored_there = result.returncode == 0 and secret_service.stored("mfa-process", "base") is not None
    told_how = "PYTHON_KEYRING_BACKEND=keyring.backends.SecretService.Keyring" in result.stderr
    finding(stored_there or told_how, f"neither stored nor told how: {result.stderr}")
    finding(
        "chose keyrings.alt.file.PlaintextKeyring" not in result.stderr, "it names a backend keyring did not choose"
    )
