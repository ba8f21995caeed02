"""Red team, issue 8: --verbose and the AWS files. "A credentials-file parse error quotes the
offending line, secret included": the message was fixed to name the file and line number, but with
--verbose the traceback still showed configparser's own error, chained below ours, and it quotes
the line: `[line  3]: 'aws_secret_access_key wJalr...'`. One missing `=` (a common typo) put the
long-term secret key on stderr, which botocore then shows inside its own error."""

from __future__ import annotations

import pytest
from aws_home import AwsHome


@pytest.mark.parametrize("which", ["credentials", "config"])
@pytest.mark.parametrize("verbose", [[], ["--verbose"]], ids=["plain", "verbose"])
def test_a_malformed_line_holding_a_secret_never_reaches_stderr(aws: AwsHome, which: str, verbose: list) -> None:
    secret = aws.user.secret_access_key
    broken = f"[base]\naws_access_key_id = {aws.user.access_key_id}\naws_secret_access_key {secret}\n"
    if which == "credentials":
        aws.write_credentials(broken)
    else:
        aws.write_config(broken.replace("[base]", f"[profile base]\nmfa_serial = {aws.user.mfa_serial}"))

    result = aws.run(["--profile", "base", *verbose])

    assert result.returncode == 2 and result.stdout == ""
    assert secret not in result.stderr
    assert secret[:16] not in result.stderr and "wJalr" not in result.stderr
    assert result.stderr.splitlines()[-1].startswith("mfa-process: cannot parse ")
    assert "is not `key = value`" in result.stderr
