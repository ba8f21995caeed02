"""Where `add` gets a key from: the person at the terminal (the secret typed without echo), or
the environment's AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY."""

from __future__ import annotations

from typing import Mapping

from ..errors import InvalidKeyError, NoTerminalError, PromptAbortedError
from ..watchdog import Watchdog
from .access_key import AccessKey, parse_access_key


def key_from_terminal(timeout: float) -> AccessKey:
    """Ask on the terminal (/dev/tty or the console), never on stdin or stdout."""
    from ..system.console import Console

    try:
        console = Console()
    except OSError:
        raise NoTerminalError(
            "no terminal to ask for the keys on; run add in a terminal, or pass --from-env with "
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY set"
        ) from None
    with console:
        watchdog = Watchdog(timeout, lambda: True, "run add again")
        key_id = console.read_line(watchdog, "AWS access key ID: ")
        if key_id is None:
            raise PromptAbortedError("no access key ID was entered (end of input); nothing was stored")
        secret = console.read_secret_line(watchdog, "AWS secret access key: ")
        if secret is None:
            raise PromptAbortedError("no secret access key was entered (end of input); nothing was stored")
    return parse_access_key(key_id, secret, "the terminal")


def key_from_environment(environ: Mapping[str, str]) -> AccessKey:
    if environ.get("AWS_SESSION_TOKEN"):
        raise InvalidKeyError(
            "AWS_SESSION_TOKEN is set: the environment holds temporary credentials; store the long-term "
            "key of an IAM user (AKIA...)"
        )
    return parse_access_key(
        environ.get("AWS_ACCESS_KEY_ID"),
        environ.get("AWS_SECRET_ACCESS_KEY"),
        "the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)",
    )
