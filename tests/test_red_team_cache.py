"""Red team, issue 8: the cache and `logout --all` in a folder that is not only ours.

The issue asks `logout --all` to remove "only files that match the session naming and parse as
sessions". It removed every file *named* like a session: in a cache folder linked to a project,
a fixture named after a MongoDB ObjectId (24 hex digits, `user.507f1f77bcf86cd799439011.json`) was
deleted. A file that is not JSON at all is still removed (a damaged session: README, and
test_commands_e2e.py::test_logout_all_removes_damaged_files_too).
"""

from __future__ import annotations

import json
import os

from aws_home import AwsHome

FIXTURE = "user.507f1f77bcf86cd799439011.json"  # a MongoDB ObjectId is 24 hex digits


def test_logout_all_leaves_a_json_document_that_is_no_session_though_named_like_one(aws: AwsHome) -> None:
    project = aws.root / "project"
    project.mkdir()
    document = json.dumps({"_id": "507f1f77bcf86cd799439011", "name": "Ada"})
    (project / FIXTURE).write_text(document)
    aws.cache_dir.parent.mkdir(mode=0o700, exist_ok=True)
    os.symlink(project, aws.cache_dir)
    assert aws.run(["--profile", "base", "--token-code", aws.code()]).returncode == 0

    result = aws.run(["logout", "--all"])

    assert result.returncode == 0, result.stderr
    assert (project / FIXTURE).read_text() == document
    [removed] = result.stdout.splitlines()  # the session, and only it
    assert removed.startswith(f"removed {aws.cache_dir}/base.") and FIXTURE not in removed
    assert sorted(os.listdir(project)) == [FIXTURE]
    assert f"{aws.cache_dir / FIXTURE}" in result.stderr and "left" in result.stderr  # says why it stayed


def test_logout_all_still_removes_a_session_file_that_is_not_json(aws: AwsHome) -> None:
    """Control: a damaged session (not JSON at all) is still removed."""
    assert aws.run(["--profile", "base", "--token-code", aws.code()]).returncode == 0
    damaged = aws.cache_dir / "base.0123456789abcdef01234567.json"
    damaged.write_text('{"format": 1, "credentials": {')
    (aws.cache_dir / "base.0123456789abcdef01234568.json").write_text("")  # empty: damaged too

    result = aws.run(["logout", "--all"])

    assert result.returncode == 0, result.stderr
    assert aws.cache_files() == []
