"""What the checks find: one Finding per link, ``ok``, ``warning`` or ``FAIL``, and for what
is wrong the fix; and the Report that collects them in the order the chain is walked."""

from __future__ import annotations

from typing import Iterable, List, Optional, Tuple

OK = "ok"
WARNING = "warning"
FAIL = "FAIL"


class Finding:
    """One checked link: its status, what was found (short), and what to do about it."""

    __slots__ = ("status", "what", "fix")

    def __init__(self, status: str, what: str, fix: str = "") -> None:
        self.status = status
        self.what = what
        self.fix = fix

    def __repr__(self) -> str:
        return f"Finding({self.status!r}, {self.what!r}, {self.fix!r})"


def ok(what: str) -> Finding:
    return Finding(OK, what)


def warning(what: str, fix: str = "") -> Finding:
    return Finding(WARNING, what, fix)


def fail(what: str, fix: str) -> Finding:
    return Finding(FAIL, what, fix)


def from_message(status: str, subject: str, message: str, fix: str = "") -> Finding:
    """A finding from one of the library's messages, kept as written so that the doctor says
    what a run would say: what is wrong, then the fix (``fix`` when the message has none)."""
    what, its_fix = split_fix(message)
    return Finding(status, f"{subject}: {what}" if subject else what, its_fix or fix)


def split_fix(message: str) -> Tuple[str, str]:
    """(what, fix) of a message that says what is wrong, then after `; ` (or a sentence's end)
    what to do: `profile 'x' is not in ...; check the --profile name`. Separators inside
    parentheses or `code` do not count; ("message", "") when there is none."""
    for separator in ("; ", ". "):
        depth, quoted = 0, False
        for index, char in enumerate(message):
            if char == "`":
                quoted = not quoted
            elif char == "(" and not quoted:
                depth += 1
            elif char == ")" and not quoted:
                depth = max(0, depth - 1)
            elif not depth and not quoted and message.startswith(separator, index):
                return message[:index], message[index + len(separator) :]
    return message, ""


class Report:
    """Every finding, in the order the checks ran; ``skipped`` names checks not run, and why."""

    def __init__(self) -> None:
        self.findings: List[Finding] = []
        self.skipped: List[str] = []

    def add(self, findings: Iterable[Finding]) -> None:
        self.findings.extend(findings)

    def count(self, status: str) -> int:
        return sum(1 for finding in self.findings if finding.status == status)

    @property
    def broken(self) -> bool:
        return self.first_failure is not None

    @property
    def first_failure(self) -> Optional[Finding]:
        return next((finding for finding in self.findings if finding.status == FAIL), None)
