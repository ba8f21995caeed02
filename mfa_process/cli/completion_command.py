"""`mfa-process completion bash|zsh|fish`: print the shell's completion script.

The scripts run `mfa-process completion --profiles` (hidden) at TAB time for the profile names
of the AWS files: that path reads the files with the light reader and nothing else.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING: `--profiles` runs at every TAB, typing is not needed
if TYPE_CHECKING:
    from typing import List, Mapping, TextIO

    from .common import ArgumentParser

PROFILES_FLAG = "--profiles"

EXAMPLES = """\
install (then open a new shell):
  bash  echo 'eval "$(mfa-process completion bash)"' >> ~/.bashrc
  zsh   echo 'eval "$(mfa-process completion zsh)"' >> ~/.zshrc          after compinit
  fish  mfa-process completion fish > ~/.config/fish/completions/mfa-process.fish
"""


def build_parser() -> ArgumentParser:
    """The options, read by `run` and by the shell completion scripts (cli/completion_scripts)."""
    from .common import new_parser
    from .completion_scripts import SHELLS

    parser = new_parser(
        "mfa-process completion",
        "Print a shell completion script: commands, options, choices and the profile names of the AWS "
        "config and credentials files.",
        EXAMPLES,
    )
    parser.add_argument("shell", choices=SHELLS, help="the shell to complete in: " + ", ".join(SHELLS))
    return parser


def run(argv: List[str], environ: Mapping[str, str], stdout: TextIO, stderr: TextIO) -> int:
    if argv == [PROFILES_FLAG]:
        stdout.write("".join(f"{name}\n" for name in profile_names(environ)))
        return 0
    from .completion_scripts import commands, script

    args = build_parser().parse(argv, stdout, stderr)
    stdout.write(script(args.shell, commands()))
    return 0


def profile_names(environ: Mapping[str, str]) -> List[str]:
    """Every profile of the AWS config and credentials files, sorted; a name with a control
    character is left out: it cannot be typed, and would reach the terminal as it is."""
    from ..config.aws_files import all_profiles

    return [name for name in all_profiles(environ) if name.isprintable()]
