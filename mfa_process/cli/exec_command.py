"""`mfa-process exec`: run a command with the session's keys in its environment.

AWS_PROFILE, AWS_SECURITY_TOKEN and the other variables SDKs would read instead of (or together
with) the injected keys are removed (shell_env.CLEARED_VARIABLES). On POSIX
the command replaces mfa-process: signals reach it directly and its status is the exit status.
"""

from __future__ import annotations

import argparse
from typing import List, Mapping, TextIO

from ..errors import ConfigError
from ..session.chain import build_provider
from ..session.shell_env import command_environment
from ..system import run_command
from .common import add_session_options, new_parser, session_settings, warner

EXAMPLES = """\
examples:
  mfa-process exec --profile base -- aws s3 ls
  mfa-process exec --profile base -- terraform plan
  mfa-process exec --profile base -- docker run -e AWS_ACCESS_KEY_ID -e AWS_SECRET_ACCESS_KEY \\
      -e AWS_SESSION_TOKEN amazon/aws-cli sts get-caller-identity
"""


def run(argv: List[str], environ: Mapping[str, str], stdout: TextIO, stderr: TextIO) -> int:
    parser = new_parser(
        "mfa-process exec",
        "Run a command with an MFA session's keys in its environment.",
        EXAMPLES,
        usage="mfa-process exec --profile NAME [options] -- COMMAND [ARGS...]",
    )
    add_session_options(parser)
    parser.add_argument("command", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse(argv, stdout, stderr)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        raise ConfigError(f"no command to run; for example: mfa-process exec --profile {args.profile} -- aws s3 ls")
    if not command[0]:
        raise ConfigError("the command name is empty (''); put the program to run right after --")
    settings = session_settings(args, environ)
    credentials = build_provider(settings, environ, warner(stderr)).retrieve()
    return run_command(command, command_environment(environ, credentials, settings.region, settings.profile))
