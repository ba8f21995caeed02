"""replace_atomically: the one way the cache and configure replace a file."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import List

import pytest

from mfa_process.system import atomic_write
from mfa_process.system.atomic_write import replace_atomically


def others(folder: Path, *keep: Path) -> List[str]:
    return sorted(path.name for path in folder.iterdir() if path not in keep)


def test_a_new_file_gets_the_data_and_the_mode(tmp_path: Path) -> None:
    target = tmp_path / "session.json"

    replace_atomically(str(target), b"new", 0o600)

    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert others(tmp_path, target) == []


def test_an_existing_file_is_replaced_not_written_through(tmp_path: Path) -> None:
    target = tmp_path / "config"
    target.write_bytes(b"old")
    before = target.stat().st_ino
    with open(target, "rb") as reader:  # a reader that opened the old file keeps reading it whole
        replace_atomically(str(target), b"new", 0o644, temp_prefix=".config-")
        assert reader.read() == b"old"

    assert target.read_bytes() == b"new"
    assert target.stat().st_ino != before
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


@pytest.mark.skipif(not hasattr(os, "umask"), reason="POSIX umask")
def test_the_mode_is_set_whatever_the_umask(tmp_path: Path) -> None:
    target = tmp_path / "session.json"
    previous = os.umask(0o277)  # mkstemp's 0600 would become 0400
    try:
        replace_atomically(str(target), b"x", 0o600)
    finally:
        os.umask(previous)

    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_the_temporary_file_is_named_as_asked_and_in_the_same_folder(tmp_path: Path) -> None:
    seen: List[str] = []

    replace_atomically(
        str(tmp_path / "a.json"), b"x", 0o600, ".tmp-", ".json", before_replace=lambda fd, path: seen.append(path)
    )

    assert len(seen) == 1
    assert os.path.dirname(seen[0]) == str(tmp_path)
    assert os.path.basename(seen[0]).startswith(".tmp-") and seen[0].endswith(".json")


def test_before_replace_can_refuse_and_nothing_changes(tmp_path: Path) -> None:
    target = tmp_path / "config"
    target.write_bytes(b"old")

    def refuse(fd: int, path: str) -> None:
        assert os.path.samestat(os.fstat(fd), os.lstat(path))  # handed the file being written
        raise RuntimeError("swapped")

    with pytest.raises(RuntimeError, match="swapped"):
        replace_atomically(str(target), b"new", 0o600, before_replace=refuse)

    assert target.read_bytes() == b"old"
    assert others(tmp_path, target) == []


@pytest.mark.parametrize("failing", ["replace", "fsync", "write"])
def test_a_failure_leaves_the_file_and_no_temporary_file(tmp_path: Path, monkeypatch, failing: str) -> None:
    target = tmp_path / "config"
    target.write_bytes(b"old")

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    if failing == "write":
        monkeypatch.setattr(atomic_write.os, "fdopen", lambda *a, **k: BrokenFile())
    else:
        monkeypatch.setattr(atomic_write.os, failing, broken)
    with pytest.raises(OSError, match="No space left"):
        replace_atomically(str(target), b"new", 0o600)
    monkeypatch.undo()

    assert target.read_bytes() == b"old"
    assert others(tmp_path, target) == []


class BrokenFile:
    def __enter__(self) -> "BrokenFile":
        return self

    def __exit__(self, *exc_info: object) -> None:
        pass

    def write(self, data: bytes) -> int:
        raise OSError(28, "No space left on device")


@pytest.mark.skipif(not hasattr(os, "O_DIRECTORY"), reason="POSIX folders can be synced")
def test_the_folder_is_synced_after_the_rename(tmp_path: Path, monkeypatch) -> None:
    synced: List[str] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append("folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file")
        real_fsync(fd)

    monkeypatch.setattr(atomic_write.os, "fsync", fsync)
    replace_atomically(str(tmp_path / "x"), b"x", 0o600)

    assert synced == ["file", "folder"]
