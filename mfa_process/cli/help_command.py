"""`mfa-process help [COMMAND]`: the same text as `mfa-process [COMMAND] --help`."""

from __future__ import annotations

from typing import List, Mapping, TextIO

from .common import new_parser

EXAMPLES = """\
examples:
  mfa-process help             the plugin form's options and every command
  mfa-process help exec        the same as mfa-process exec --help
"""


def run(argv: List[str], environ: Mapping[str, str], stdout: TextIO, stderr: TextIO) -> int:
    from . import COMMANDS, _command, unknown_command

    parser = new_parser("mfa-process help", "Show the help of mfa-process, or of one of its commands.", EXAMPLES)
    parser.add_argument("command", nargs="?", metavar="COMMAND", help="a command: " + ", ".join(COMMANDS))
    args = parser.parse(argv, stdout, stderr)
    if args.command is None:
        from .credential_process import build_parser

        stdout.write(build_parser().format_help())
        return 0
    if args.command not in COMMANDS:
        raise unknown_command(args.command)
    return _command(args.command)(["--help"], environ, stdout, stderr)
