"""SessionCache.entries (every session file read once, damaged ones as None) and remove_profile."""

from __future__ import annotations

import os
import time

from mfa_process.session.cache import SessionCache, SessionKey
from mfa_process.session.credentials import Credentials

SERIAL = "arn:aws:iam::123456789012:mfa/alice"


def store(cache: SessionCache, profile: str, duration: int = 43200) -> str:
    credentials = Credentials("ASIACACHED0000000001", "secret", "token", int(time.time()) + 7200)
    return cache.store(SessionKey(profile, "AKIAFILESKEY00000001", SERIAL, duration), credentials, time.time())


def test_entries_pairs_each_session_file_with_its_session_or_none_in_name_order(tmp_path):
    cache = SessionCache(str(tmp_path / "cache"))
    work = store(cache, "work")
    base = store(cache, "base")
    damaged = os.path.join(cache.directory, "base.0123456789abcdef01234567.json")
    with open(damaged, "w") as file:
        file.write("")
    os.chmod(damaged, 0o600)
    with open(os.path.join(cache.directory, "notes.txt"), "w") as file:  # not named like a session
        file.write("mine")

    entries = list(cache.entries())

    assert [path for path, _ in entries] == sorted([work, base, damaged])
    assert {path: session.profile if session else None for path, session in entries} == {
        work: "work",
        base: "base",
        damaged: None,
    }
    assert [session.path for session in cache.sessions()] == sorted([work, base])
    assert cache.damaged_files() == [damaged]


def test_entries_of_a_missing_folder_is_empty(tmp_path):
    assert list(SessionCache(str(tmp_path / "nothing")).entries()) == []


def test_remove_profile_removes_every_session_of_that_profile_only(tmp_path):
    cache = SessionCache(str(tmp_path / "cache"))
    short = store(cache, "base", duration=3600)
    long = store(cache, "base")
    other = store(cache, "base-2")

    removed = cache.remove_profile("base")

    assert sorted(removed) == sorted([short, long])
    assert os.listdir(cache.directory) == [os.path.basename(other)]
