"""`mfa-process exec`: run a command with the session's keys in its environment, or (with
--server) pointed at a local credentials server that renews them while it runs.

AWS_PROFILE, AWS_SECURITY_TOKEN and the other variables SDKs would read instead of (or together
with) the injected keys are removed (shell_env.CLEARED_VARIABLES). On POSIX the command replaces
mfa-process: signals reach it directly and its status is the exit status. With --server,
mfa-process stays as its parent to serve it, passes signals on and exits as it did.
"""

from __future__ import annotations

import argparse
from typing import List, Mapping, TextIO

from ..errors import ConfigError
from ..session.chain import build_provider
from ..session.shell_env import command_environment, container_environment
from ..system import run_command
from .common import (
    ArgumentParser,
    add_server_options,
    add_session_options,
    new_parser,
    open_server,
    session_settings,
    warner,
)

EXAMPLES = """\
examples:
  mfa-process exec --profile base -- aws s3 ls
  mfa-process exec --profile base -- terraform plan
  mfa-process exec --server --profile base -- python long_job.py     keys renewed while it runs
  mfa-process exec --server --profile base --role-profile admin -- terraform apply
  mfa-process exec --profile base -- docker run -e AWS_ACCESS_KEY_ID -e AWS_SECRET_ACCESS_KEY \\
      -e AWS_SESSION_TOKEN amazon/aws-cli sts get-caller-identity
"""


def build_parser() -> ArgumentParser:
    """The options, read by `run` and by the shell completion scripts (cli/completion_scripts)."""
    parser = new_parser(
        "mfa-process exec",
        "Run a command with an MFA session's keys in its environment; with --server, with a local\n"
        "credentials server (AWS_CONTAINER_CREDENTIALS_FULL_URI) that renews them while it runs.",
        EXAMPLES,
        usage="mfa-process exec --profile NAME [--server [server options]] [options] -- COMMAND [ARGS...]",
    )
    add_session_options(parser)
    parser.add_argument(
        "--server",
        action="store_true",
        help="serve the keys from a local container-credentials server that renews them, so a command that "
        "runs longer than a session keeps working",
    )
    add_server_options(parser)
    parser.add_argument("command", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    return parser


def run(argv: List[str], environ: Mapping[str, str], stdout: TextIO, stderr: TextIO) -> int:
    args = build_parser().parse(argv, stdout, stderr)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        raise ConfigError(f"no command to run; for example: mfa-process exec --profile {args.profile} -- aws s3 ls")
    if not command[0]:
        raise ConfigError("the command name is empty (''); put the program to run right after --")
    if not args.server:
        used = [
            flag
            for flag, value in (("--role-profile", args.role_profile), ("--bind", args.bind), ("--port", args.port))
            if value is not None
        ]
        if used:
            raise ConfigError(f"{', '.join(used)} only work with --server; add --server")
        settings = session_settings(args, environ)
        credentials = build_provider(settings, environ, warner(stderr)).retrieve()
        return run_command(command, command_environment(environ, credentials, settings.region, settings.profile))
    with open_server(args, environ, stderr) as server:
        server.begin(environ)
        return server.serve_command(command, container_environment(environ, server.url, server.token, server.region))
