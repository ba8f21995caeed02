"""`mfa_process = <command>`: a command that prints the code (ykman, 1Password's op, pass otp).

The same key aws-vault reads, so one config serves both. The command runs through the shell,
bounded by mfa_prompt_timeout, and the first 6-digit number it prints is the code.

Its arguments may hold a secret (`oathtool --totp -b SEED`), so messages name the program and
the profile key, never the command line, and scrub its arguments out of what it printed.
"""

from __future__ import annotations

import os
import shlex
from typing import TYPE_CHECKING, Callable, List

from ..errors import CodeCommandError, PromptTimeoutError
from ..watchdog import Watchdog
from ._helper_process import run_helper
from .code_reader import code_reader_source, find_code

if TYPE_CHECKING:
    from . import CodeSource

_SHORTEST_SCRUBBED_WORD = 8  # shorter arguments (-b, --otp, item) are options and words, not secrets


def command_source(
    command: str,
    new_watchdog: Callable[[], Watchdog],
    notify: Callable[[str], None] = lambda text: None,
    profile: str = "",
) -> CodeSource:
    """``notify`` tells the person when the command is slow: its own stderr (where ykman asks
    for a touch) is captured for error messages, so they would not see that."""
    return code_reader_source(
        lambda mfa_serial, watchdog: _run(command, profile, watchdog, notify), new_watchdog, "a new code"
    )


def program_word(command: str) -> str:
    """The program a shell command line runs, as written (`/usr/bin/oathtool`), without its
    arguments or any leading `NAME=value` assignments (of a word that holds the whole command,
    quoted in the profile, its first blank-separated part); "" for none."""
    words = _words(command)
    program = next((word for word in words if "=" not in word), words[0] if words else "")
    return program.split()[0] if program.split() else ""


def program_name(command: str) -> str:
    """The name of the program a shell command line runs (`oathtool`)."""
    return os.path.basename(program_word(command)) or "?"


def scrub(text: str, command: str) -> str:
    """``text`` with every longer part of ``command`` but its program's name replaced by `...`:
    the shell's words, their blank-separated parts, the values after `=` and the ends of options
    a secret is attached to (`-bSEED`)."""
    program = program_name(command)
    for part in sorted(_secret_candidates(command), key=len, reverse=True):
        if len(part) >= _SHORTEST_SCRUBBED_WORD and os.path.basename(part) != program:
            text = text.replace(part, "...")
    return text


def _secret_candidates(command: str) -> List[str]:
    parts: List[str] = []
    for word in _words(command):
        for token in [word, *word.split()]:
            parts.append(token)
            parts.extend(token.split("=", 1)[1:])  # --secret=SEED or NAME=SEED: the value alone too
            if token.startswith("-") and not token.startswith("--") and len(token) > 2:
                parts.append(token[2:])  # -bSEED: the seed alone too
    return parts


def _words(command: str) -> List[str]:
    try:
        return shlex.split(command)
    except ValueError:  # unbalanced quotes: the shell will say so; split on blanks for names
        return command.split()


def _run(command: str, profile: str, watchdog: Watchdog, notify: Callable[[str], None]) -> str:
    program = program_name(command)
    described = "the mfa_process command"
    by_hand = f"run it by hand to check: {program} ... (the mfa_process line of profile '{profile}')"
    try:
        result = run_helper(
            command,
            watchdog,
            described,
            shell=True,
            on_slow=lambda: notify(f"Waiting for `{program}` to print the MFA code (touch your key if it asks)"),
            slow_after=1.0,
        )
    except OSError as error:
        raise CodeCommandError(f"cannot run {described} ({program}): {error.strerror}") from error
    said = scrub(result.last_error_line, command)
    if result.timed_out:  # unavailable, not broken: a chain passes to its next source
        raise PromptTimeoutError(f"{described} gave no code within {watchdog.timeout:g} s ({said}); {by_hand}")
    if result.returncode != 0:
        raise CodeCommandError(f"{described} failed with exit status {result.returncode} ({said}); {by_hand}")
    code = find_code(result.stdout)
    if code is None:
        raise CodeCommandError(f"{described} printed no 6-digit code ({said}); {by_hand}")
    return code
