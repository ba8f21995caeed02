"""`mfa-process serve`: the credentials server of `exec --server` on its own, until Ctrl-C.

For several programs, or a container run by hand: it prints the two variables that point an
SDK at it (with the lines that unset what would outrank them), for the shell to take, then
renews the session ahead of the SDKs, asking on this terminal when a code is needed.
"""

from __future__ import annotations

from typing import List, Mapping, TextIO

from ..session.shell_env import SHELLS, container_stale_variables, container_variables, render
from .common import ArgumentParser, add_server_options, add_session_options, new_parser, open_server

EXAMPLES = """\
examples:
  mfa-process serve --profile base                 then paste the printed lines in another shell
  mfa-process serve --profile base --role-profile admin --port 9911
  docker run --network host -e AWS_CONTAINER_CREDENTIALS_FULL_URI -e AWS_CONTAINER_AUTHORIZATION_TOKEN \\
      amazon/aws-cli sts get-caller-identity        with those variables exported in that shell
"""


def build_parser() -> ArgumentParser:
    """The options, read by `run` and by the shell completion scripts (cli/completion_scripts)."""
    parser = new_parser(
        "mfa-process serve",
        "Serve an MFA session (renewed ahead of expiry) to SDKs through a local container-credentials\n"
        "endpoint, until Ctrl-C; prints the variables that point an SDK at it.",
        EXAMPLES,
    )
    add_session_options(parser)
    add_server_options(parser)
    parser.add_argument("--shell", choices=SHELLS, default="sh", help="syntax of the printed lines (default sh)")
    return parser


def run(argv: List[str], environ: Mapping[str, str], stdout: TextIO, stderr: TextIO) -> int:
    args = build_parser().parse(argv, stdout, stderr)
    with open_server(args, environ, stderr) as server:
        server.begin(environ)
        variables = container_variables(server.url, server.token, server.region, args.profile)

        def ready() -> None:
            stdout.write(render(variables, args.shell, unset=container_stale_variables()))
            stdout.flush()
            print(f"mfa-process: serving {server.served.label} at {server.url} until Ctrl-C", file=stderr, flush=True)

        server.serve_until_stopped(ready)
    print("mfa-process: server stopped", file=stderr, flush=True)
    return 0
