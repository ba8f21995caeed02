"""Code sources tried in order: `mfa_prompt = ykman, zenity, terminal`, and `auto`.

One config serves machines that differ (a YubiKey at the desk, a dialog on the laptop, a
terminal over SSH), so a source that cannot ask here and now passes to the next: no terminal,
helper not installed, no YubiKey plugged in, no display, nobody answered in time. An answer
stops the chain, whatever it is: a cancelled dialog or closed input is the person's, a caller
that is gone needs no code any more, and a failing `mfa_process` command is the person's own
program, whose message says how to check it. A code AWS rejects is no reason to change source
either: once a source has given a code, every later question goes to it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, List, Optional, Sequence, Tuple

from ..errors import (
    CallerGoneError,
    CodeSourceUnavailableError,
    MfaProcessError,
    NoCodeSourceError,
    NoTerminalError,
    PromptTimeoutError,
    PromptUnavailableError,
)

if TYPE_CHECKING:
    from . import CodeSource

# What a source raises when it cannot ask here; anything else it raises ends the chain.
UNAVAILABLE = (NoTerminalError, PromptUnavailableError, PromptTimeoutError, CodeSourceUnavailableError)


def unavailable(error: BaseException) -> bool:
    """True when ``error`` says its source cannot ask here, so the next one may."""
    return isinstance(error, UNAVAILABLE) and not isinstance(error, CallerGoneError)


def what_it_said(error: BaseException) -> str:
    """``error``'s message without its fix, on one line: messages read `what happened; what to
    do`, and a `;` in parentheses (a helper's own words) belongs to what happened."""
    text = " ".join(str(error).split())
    depth = 0
    for index, char in enumerate(text):
        if char == "(":
            depth += 1
        elif char == ")" and depth:
            depth -= 1
        elif char == ";" and not depth:
            return text[:index].rstrip()
    return text


class SourceChain:
    """A code source that asks ``sources`` (name, source) in order until one gives a code.

    When none can ask, NoCodeSourceError says what each said, one clause each, then ``fix``."""

    __slots__ = ("_sources", "_fix", "_answering", "answered_by")

    def __init__(self, sources: Sequence[Tuple[str, CodeSource]], fix: str) -> None:
        if not sources:
            raise ValueError("a chain of code sources needs at least one source")
        self._sources = list(sources)
        self._fix = fix
        self._answering: Optional[CodeSource] = None
        self.answered_by: Optional[str] = None  # the name of the source that gave a code, once one has

    @property
    def names(self) -> List[str]:
        return [name for name, _ in self._sources]

    def __call__(self, mfa_serial: str, notice: Optional[str]) -> str:
        if self._answering is not None:  # asked again after AWS rejected its code: the same source
            return self._answering(mfa_serial, notice)
        said: List[str] = []
        last: Optional[MfaProcessError] = None
        for name, source in self._sources:
            try:
                code = source(mfa_serial, notice)
            except MfaProcessError as error:
                if not unavailable(error):
                    raise
                said.append(f"{name}: {what_it_said(error)}")
                last = error
                continue
            self._answering, self.answered_by = source, name
            return code
        raise NoCodeSourceError(f"no code source worked: {'; '.join(said)}; fix: {self._fix}") from last
