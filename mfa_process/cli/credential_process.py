"""`mfa-process --profile NAME`: print the credential_process JSON for an MFA session."""

from __future__ import annotations

from .. import __version__
from ..session.chain import build_provider
from .common import add_session_options, new_parser, session_settings, warner

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing on the cache-hit path
if TYPE_CHECKING:
    from typing import List, Mapping, TextIO

    from .common import ArgumentParser

USAGE = """\
mfa-process --profile NAME [options]      print credential_process JSON
       mfa-process COMMAND [options]            login, status, logout, env, exec, serve,
                                                configure, add, remove, rotate, doctor,
                                                completion, help"""

DESCRIPTION = """\
AWS credential_process plugin: MFA-backed session credentials from STS GetSessionToken,
asked for on the terminal once and cached until 15 minutes before they expire."""

EXAMPLES = """\
examples:
  # ~/.aws/config: the AWS CLI and every SDK run this and read its JSON
  [profile mfa]
  credential_process = mfa-process --profile base

  aws s3 ls --profile mfa                          what you normally run: prompts once
  mfa-process --profile base --refresh             print a new session's JSON now
  mfa-process --profile base --token-code 123456   no prompt (scripts)

commands (mfa-process COMMAND --help for each):
  login      mfa-process login --profile base            prompt now; every process gets the session
  status     mfa-process status                          cached sessions and the time they have left
  logout     mfa-process logout --profile base           remove cached sessions (--all for every one)
  env        eval "$(mfa-process env --profile base)"    the session's keys in this shell
  exec       mfa-process exec --profile base -- CMD      run CMD with the session's keys
             mfa-process exec --server --profile base -- CMD
                                                         ... served by a local endpoint that renews them
  serve      mfa-process serve --profile base            that endpoint on its own, until Ctrl-C
  configure  mfa-process configure --profile base --mfa-serial ARN
                                                         set up ~/.aws/config for a profile
  add        mfa-process add --profile base              store the base keys in the OS keyring
  remove     mfa-process remove --profile base           delete them from the keyring
  rotate     mfa-process rotate --profile base           a new access key; the old one deleted at AWS
  doctor     mfa-process doctor --profile base           check every link of the setup; name the fix
  completion eval "$(mfa-process completion bash)"       TAB-complete in bash (or zsh, fish)
  help       mfa-process help exec                       the same as mfa-process exec --help
"""


def usage_with_commands() -> str:
    """What a bare `mfa-process` prints: the usage and the commands, without every option."""
    commands = EXAMPLES[EXAMPLES.index("commands (") :]
    return f"usage: {USAGE}\n\n{DESCRIPTION}\n\n{commands}\nmfa-process --help for the plugin's options\n"


def build_parser() -> ArgumentParser:
    parser = new_parser("mfa-process", DESCRIPTION, EXAMPLES, usage=USAGE)
    add_session_options(parser)
    parser.add_argument("--version", action="version", version=f"mfa-process {__version__}")
    return parser


def run(argv: List[str], environ: Mapping[str, str], stdout: TextIO, stderr: TextIO) -> int:
    args = build_parser().parse(argv, stdout, stderr)
    credentials = build_provider(session_settings(args, environ), environ, warner(stderr)).retrieve()
    stdout.write(credentials.to_json() + "\n")
    stdout.flush()
    return 0
