"""`mfa-process logout`: remove cached sessions, and nothing else."""

from __future__ import annotations

from typing import List, Mapping, TextIO

from ..session.chain import session_cache
from .common import ArgumentParser, add_verbose_option, new_parser, warner

EXAMPLES = """\
examples:
  mfa-process logout --profile base    remove base's sessions: the next call prompts again
  mfa-process logout --all             remove every cached session
"""


def build_parser() -> ArgumentParser:
    """The options, read by `run` and by the shell completion scripts (cli/completion_scripts)."""
    parser = new_parser("mfa-process logout", "Remove cached MFA sessions.", EXAMPLES)
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--profile", metavar="NAME", help="remove the sessions of this base profile")
    which.add_argument("--all", action="store_true", help="remove every cached session, unreadable ones too")
    add_verbose_option(parser)
    return parser


def run(argv: List[str], environ: Mapping[str, str], stdout: TextIO, stderr: TextIO) -> int:
    args = build_parser().parse(argv, stdout, stderr)
    cache = session_cache(environ)
    removed = cache.remove_all() if args.all else cache.remove_profile(args.profile)
    for path in sorted(removed):
        stdout.write(f"removed {path}\n")
    if not removed:
        stdout.write("no cached sessions" + ("" if args.all else f" for profile {args.profile}") + "\n")
    warn = warner(stderr)
    for warning in cache.pop_warnings():  # what was left alone, and why
        warn(warning)
    return 0
