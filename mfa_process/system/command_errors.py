"""Why a command could not be started, in the words of a shell (both platforms' `exec`)."""

from __future__ import annotations

from ..errors import CommandNotFoundError, CommandNotRunnableError, MfaProcessError


def start_error(program: str, error: Exception) -> MfaProcessError:
    """The message for ``error`` from starting ``program`` (FileNotFoundError, OSError, ValueError)."""
    if isinstance(error, FileNotFoundError):
        return CommandNotFoundError(f"command not found: {program}; check its name and PATH")
    if isinstance(error, OSError):
        return CommandNotRunnableError(f"cannot run {program}: {error.strerror}")
    return CommandNotRunnableError(f"cannot run {program!r}: empty, or holds a NUL character")
