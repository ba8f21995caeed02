"""`mfa-process add`: put a base profile's long-term key into the OS keyring."""

from __future__ import annotations

from typing import List, Mapping, TextIO

from ..config.configure import check_profile_name
from ..errors import BaseCredentialsError
from ..keystore.credentials_file import CredentialsFileStore
from ..keystore.key_entry import key_from_environment, key_from_terminal
from ..keystore.keyring_moves import add_to_keyring
from ..keystore.keyring_store import DEFAULT_TIMEOUT
from ..redact import printable as shown
from .common import ArgumentParser, add_verbose_option, log_out_profile, new_parser, warner

EXAMPLES = """\
examples:
  mfa-process add --profile base                          asks for the key on the terminal
  mfa-process add --profile base --from-credentials-file  moves it out of ~/.aws/credentials
  mfa-process add --profile base --from-env               takes AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY
"""


def build_parser() -> ArgumentParser:
    """The options, read by `run` and by the shell completion scripts (cli/completion_scripts)."""
    parser = new_parser(
        "mfa-process add",
        "Store a base profile's long-term access key in the OS keyring, and record in ~/.aws/config "
        "that it is there (mfa_key_store = keyring). Cached sessions of the profile are logged out.",
        EXAMPLES,
    )
    parser.add_argument("--profile", required=True, metavar="NAME", help="the base profile the key belongs to")
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--from-env", action="store_true", help="take the key from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
    )
    source.add_argument(
        "--from-credentials-file",
        action="store_true",
        help="move the profile's key out of the AWS credentials file (no backup keeps it)",
    )
    add_verbose_option(parser)
    return parser


def run(argv: List[str], environ: Mapping[str, str], stdout: TextIO, stderr: TextIO) -> int:
    args = build_parser().parse(argv, stdout, stderr)
    check_profile_name("--profile", args.profile)
    file_store = CredentialsFileStore(args.profile, environ)
    if args.from_credentials_file:
        key = file_store.load()
        if key is None:
            raise BaseCredentialsError(f"profile '{args.profile}' has no keys in {file_store.path}; nothing to move")
    elif args.from_env:
        key = key_from_environment(environ)
    else:
        key = key_from_terminal(DEFAULT_TIMEOUT)
    added = add_to_keyring(args.profile, key, environ, move_from_file=args.from_credentials_file)
    stdout.write(f"stored key {key.access_key_id} of profile {shown(args.profile)} in {added.store.describe()}\n")
    if added.replaced:
        stdout.write(f"it replaced key {added.replaced}, which is still active at AWS until you delete it\n")
    if added.moved_from:
        stdout.write(f"removed the key from {added.moved_from}\n")
    if added.still_in:
        warner(stderr)(
            f"the secret of key {key.access_key_id} is still in {added.still_in} (another profile, or a comment): "
            "delete it there unless another tool needs it"
        )
    log_out_profile(args.profile, environ, stdout, stderr)
    return 0
