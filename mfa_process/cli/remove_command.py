"""`mfa-process remove`: delete a base profile's key from the OS keyring, and its sessions."""

from __future__ import annotations

from typing import List, Mapping, TextIO

from ..config.configure import check_profile_name
from ..errors import KeyringEntryError, NoTerminalError, PromptAbortedError
from ..keystore.keyring_moves import remove_from_keyring
from ..keystore.keyring_store import DEFAULT_TIMEOUT, KeyringStore
from ..redact import printable as shown
from .common import ArgumentParser, add_verbose_option, log_out_profile, new_parser

EXAMPLES = """\
examples:
  mfa-process remove --profile base         asks first
  mfa-process remove --profile base --yes   for scripts
"""


def build_parser() -> ArgumentParser:
    """The options, read by `run` and by the shell completion scripts (cli/completion_scripts)."""
    parser = new_parser(
        "mfa-process remove",
        "Delete a base profile's access key from the OS keyring (not at AWS: the key stays active there "
        "until you delete or rotate it), and log out its cached sessions.",
        EXAMPLES,
    )
    parser.add_argument("--profile", required=True, metavar="NAME", help="the base profile whose key to delete")
    parser.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    add_verbose_option(parser)
    return parser


def run(argv: List[str], environ: Mapping[str, str], stdout: TextIO, stderr: TextIO) -> int:
    args = build_parser().parse(argv, stdout, stderr)
    check_profile_name("--profile", args.profile)
    store = KeyringStore(args.profile, environ)
    try:
        key = store.load()
        what = f"key {key.access_key_id}" if key is not None else ""
    except KeyringEntryError:  # an entry mfa-process cannot read: removable all the same
        what = "the unreadable keyring entry" if store.exists() else ""
    if not what:
        raise KeyringEntryError(f"the keyring has no keys for profile '{args.profile}'; nothing was removed")
    if not args.yes and not _confirmed(f"Delete {what} of profile {shown(args.profile)} from the keyring? [y/N] "):
        stdout.write("nothing was removed\n")
        return 1
    log_out_profile(args.profile, environ, stdout, stderr)  # first: whatever fails next, no session outlives the key
    remove_from_keyring(args.profile, environ)
    stdout.write(f"deleted {what} of profile {shown(args.profile)} from {store.describe()}\n")
    return 0


def _confirmed(question: str) -> bool:
    from ..system.console import Console
    from ..watchdog import Watchdog

    try:
        console = Console()
    except OSError:
        raise NoTerminalError("no terminal to confirm on; pass --yes to remove without asking") from None
    with console:
        answer = console.read_line(Watchdog(DEFAULT_TIMEOUT, lambda: True, "run remove again"), question)
    if answer is None:
        raise PromptAbortedError("no answer (end of input); nothing was removed")
    return answer.strip().lower() in ("y", "yes")
