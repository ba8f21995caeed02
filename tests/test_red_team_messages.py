"""Red team, issue 8: what mfa-process writes on stderr when the text comes from elsewhere.

Found: an error text from the network (a proxy, a wrong AWS_ENDPOINT_URL) went to the terminal as
it was: a line break forged a second "mfa-process:" line, C1 control sequences and bidi overrides
reached the terminal; and a password in the endpoint URL was printed by botocore's connection
error, although mfa-process itself takes care to show the endpoint without it.
"""

from __future__ import annotations

import unicodedata

from aws_home import AwsHome
from sts_rewrites import Rewrite, aws_error_instead_of_success
from test_red_team_sts import assert_one_clean_line


def terminal_safe(text: str, keep: str = "") -> bool:
    """No control, format (bidi) or separator character but those in ``keep``."""
    return all(char in keep or unicodedata.category(char) not in ("Cc", "Cf", "Zl", "Zp") for char in text)


# --- 1. text from the network reaches the terminal only as one printable line -------------------

HOSTILE_MESSAGE = "Denied\nmfa-process: logged in, all fine \u009b2J\u202eevil\u2028x&#13;y\tz"


HOSTILE_ERROR = Rewrite(aws_error_instead_of_success, "AccessDenied", HOSTILE_MESSAGE)  # in a 403 AWS error


def test_an_error_message_from_the_network_cannot_forge_lines_or_drive_the_terminal(aws: AwsHome) -> None:
    aws.sts.rewrite = HOSTILE_ERROR

    result = aws.run(["--profile", "base", "--token-code", aws.code()])

    line = assert_one_clean_line(result, "AccessDenied", "Denied")
    assert terminal_safe(result.stderr, keep="\n")
    assert "\\n" in line and "\\x9b" in line and "\\u202e" in line  # shown, escaped, not obeyed


def test_verbose_keeps_the_traceback_lines_but_no_control_character(aws: AwsHome) -> None:
    aws.sts.rewrite = HOSTILE_ERROR

    result = aws.run(["--profile", "base", "--token-code", aws.code(), "--verbose"])

    assert result.returncode == 1 and result.stdout == ""
    assert "Traceback" in result.stderr
    assert terminal_safe(result.stderr, keep="\n")
    # The traceback keeps its lines (an exception's text may span several); the verdict is the last.
    assert result.stderr.splitlines()[-1].startswith("mfa-process: GetSessionToken failed: AccessDenied: Denied\\n")


# --- 2. a password in the endpoint URL ----------------------------------------------------------


def test_a_password_in_the_endpoint_url_is_not_printed(aws: AwsHome) -> None:
    aws.env["AWS_ENDPOINT_URL_STS"] = "http://proxyuser:Pr0xyPassw0rd-42@127.0.0.1:9/"

    for extra in ([], ["--verbose"]):
        result = aws.run(["--profile", "base", "--token-code", aws.code(), "--sts-timeout", "5", *extra])

        assert result.returncode == 1 and result.stdout == ""
        assert "Pr0xyPassw0rd-42" not in result.stderr
        assert "127.0.0.1:9" in result.stderr  # still says where


def test_redact_and_printable_units() -> None:
    from mfa_process.redact import printable, redact

    assert redact('Could not connect to "https://me:pw%40x@proxy:8443/sts"') == (
        'Could not connect to "https://[redacted]@proxy:8443/sts"'
    )
    assert redact("no answer from STS at http://127.0.0.1:8080 within 30 s") == (
        "no answer from STS at http://127.0.0.1:8080 within 30 s"
    )
    assert printable("a\nb\x1b[2J\u202ec\td é") == "a\\nb\\x1b[2J\\u202ec\\td é"
    assert printable("line\nnext\x07", keep="\n") == "line\nnext\\x07"
    # redacted before escaped: a tab around `=` must not hide the secret from redact
    assert "SECRETVALUE" not in printable(redact("aws_secret_access_key\t=\tSECRETVALUE"))
