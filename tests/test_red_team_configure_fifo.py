"""Red team, issue 8: `configure` and a config path that is no regular file. write_with_backup opens
the file without blocking and refuses anything but a regular file, but configure read it first with
a plain open(): a FIFO at ~/.aws/config (or AWS_CONFIG_FILE pointing at one) hung it for ever."""

from __future__ import annotations

import os

from aws_home import AwsHome


def test_configure_with_a_fifo_as_the_config_file_fails_at_once(aws: AwsHome) -> None:
    aws.config_file.unlink()
    os.mkfifo(aws.config_file, 0o600)

    result = aws.run(["configure", "--profile", "base", "--mfa-serial", aws.user.mfa_serial], timeout=20)

    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith(f"mfa-process: {aws.config_file}") or str(aws.config_file) in line
    assert "not a regular file" in line


def test_configure_for_an_unknown_profile_with_a_fifo_as_the_credentials_file_fails_at_once(aws: AwsHome) -> None:
    """Listing the profiles that do exist read the credentials file with a plain open() too."""
    aws.credentials_file.unlink()
    os.mkfifo(aws.credentials_file, 0o600)

    result = aws.run(["configure", "--profile", "nosuch", "--mfa-serial", aws.user.mfa_serial], timeout=20)

    assert result.returncode == 2, result.stderr
    assert "profile 'nosuch' is not in" in result.stderr
