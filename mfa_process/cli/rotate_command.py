"""`mfa-process rotate`: a new access key for the base profile, the old one deleted at AWS."""

from __future__ import annotations

from typing import List, Mapping, TextIO

from ..redact import printable as shown
from ..session.key_rotation import PROPAGATION_TIMEOUT, KeyRotation
from .common import ArgumentParser, add_session_options, new_parser, session_settings, warner

EXAMPLES = """\
examples:
  mfa-process rotate --profile base                      uses the cached MFA session, or asks for a code
  mfa-process rotate --profile base --token-code 123456
"""


def build_parser() -> ArgumentParser:
    """The options, read by `run` and by the shell completion scripts (cli/completion_scripts)."""
    parser = new_parser(
        "mfa-process rotate",
        "Replace the base profile's access key: create a new one with the MFA session, store it where the old "
        f"one was (keyring or credentials file), check that AWS accepts it (up to {PROPAGATION_TIMEOUT:g} s), "
        "then delete the old one at AWS and log out the sessions it signed. Every step is safe to interrupt.",
        EXAMPLES,
    )
    add_session_options(parser)
    return parser


def run(argv: List[str], environ: Mapping[str, str], stdout: TextIO, stderr: TextIO) -> int:
    args = build_parser().parse(argv, stdout, stderr)
    settings = session_settings(args, environ)

    def report(step: str) -> None:
        stdout.write(f"{step}\n")
        stdout.flush()

    rotated = KeyRotation(settings, environ, report, warner(stderr)).run()
    for path in sorted(rotated.logged_out):
        stdout.write(f"logged out {path}\n")
    stdout.write(
        f"rotated profile {shown(settings.profile)}: key {rotated.new_key_id} is stored in {rotated.store}; "
        f"the old key {rotated.old_key_id} is deleted at AWS\n"
    )
    return 0
