"""`mfa-process configure`: set up ~/.aws/config so that a profile uses mfa-process.

It edits the file as text (comments, order and spacing stay as they are), writes it
atomically after keeping a backup, changes nothing when nothing needs changing, and then
says whether the base profile has the long-term keys it needs.
"""

from __future__ import annotations

import shlex
import sys
from typing import List, Mapping, TextIO

from ..config.configure import configure_profile, plugin_command
from .common import ArgumentParser, add_profile_option, add_verbose_option, new_parser

EXAMPLES = """\
examples:
  mfa-process configure --profile base --mfa-serial arn:aws:iam::123456789012:mfa/alice
  mfa-process configure --profile base --as work-mfa    name the new profile work-mfa
  aws sts get-caller-identity --profile mfa             then use it
"""


def build_parser() -> ArgumentParser:
    """The options, read by `run` and by the shell completion scripts (cli/completion_scripts)."""
    parser = new_parser(
        "mfa-process configure",
        "Add a profile that runs mfa-process for a base profile, and set the base's mfa_serial.",
        EXAMPLES,
    )
    add_profile_option(parser)
    parser.add_argument("--mfa-serial", metavar="ARN", help="the MFA device to set as the base profile's mfa_serial")
    parser.add_argument(
        "--as", dest="plugin_profile", default="mfa", metavar="NEW_PROFILE", help="the profile to add (default mfa)"
    )
    parser.add_argument("--force", action="store_true", help="replace a different credential_process in NEW_PROFILE")
    add_verbose_option(parser)
    return parser


def run(argv: List[str], environ: Mapping[str, str], stdout: TextIO, stderr: TextIO) -> int:
    args = build_parser().parse(argv, stdout, stderr)

    done = configure_profile(
        args.profile,
        args.plugin_profile,
        args.mfa_serial,
        plugin_command(sys.argv[0], sys.executable),
        args.force,
        environ,
    )
    for change in done.changes:
        stdout.write(f"{done.path}: {change}\n")
    if done.backup:
        stdout.write(f"previous version kept as {done.backup}\n")
    if not done.changes:
        stdout.write(f"{done.path}: already configured, nothing changed\n")
    stdout.write(done.keys_report)
    glue = "=" if args.plugin_profile.startswith("-") else " "
    stdout.write(f"try it: aws sts get-caller-identity --profile{glue}{shlex.quote(args.plugin_profile)}\n")
    return 0
