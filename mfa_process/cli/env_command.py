"""`mfa-process env`: the session's keys as shell variable assignments, for `eval`.

For tools that do not read credential_process. The keys go to stdout (that is the point);
the prompt, if any, goes to the terminal as usual. Variables of an older session or profile
that SDKs would read instead of the keys (shell_env.CLEARED_VARIABLES) are unset first.
"""

from __future__ import annotations

from typing import List, Mapping, TextIO

from ..session.chain import build_provider
from ..session.shell_env import SHELLS, credential_variables, render, stale_variables
from .common import ArgumentParser, add_session_options, new_parser, session_settings, warner

EXAMPLES = """\
examples:
  eval "$(mfa-process env --profile base)"                      sh, bash, zsh
  mfa-process env --profile base --shell fish | source          fish
  mfa-process env --profile base --shell powershell | Invoke-Expression
"""


def build_parser() -> ArgumentParser:
    """The options, read by `run` and by the shell completion scripts (cli/completion_scripts)."""
    parser = new_parser(
        "mfa-process env", "Print shell lines that set AWS_ACCESS_KEY_ID and friends for an MFA session.", EXAMPLES
    )
    add_session_options(parser)
    parser.add_argument("--shell", choices=SHELLS, default="sh", help="quoting and syntax for this shell (default sh)")
    return parser


def run(argv: List[str], environ: Mapping[str, str], stdout: TextIO, stderr: TextIO) -> int:
    args = build_parser().parse(argv, stdout, stderr)
    settings = session_settings(args, environ)
    credentials = build_provider(settings, environ, warner(stderr)).retrieve()
    variables = credential_variables(credentials, settings.region, settings.profile)
    # this process inherited the shell's exported variables: unset the ones that would outrank the keys
    stdout.write(render(variables, args.shell, unset=stale_variables(environ)))
    stdout.flush()
    return 0
