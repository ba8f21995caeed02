"""Edit an AWS config file as text, so nothing the person wrote is lost or moved.

configparser would drop comments and re-flow the file; here only the lines that change are
touched: a key's value is replaced in place, a missing key is added at the end of its
section, a missing section is appended at the end of the file. Lines are read the way
configparser (and so botocore) reads them: a line indented deeper than the key above it
continues that key's value; section names are compared as botocore splits them.
"""

from __future__ import annotations

import re
import shlex
from typing import List, Optional, Tuple

_SECTION = re.compile(r"^\[(?P<header>.+)\]")  # configparser's SECTCRE
_OPTION = re.compile(r"^(?P<key>[^=:#;\[][^=:]*?)\s*[=:]\s*(?P<value>.*?)\s*$")
_NEEDS_QUOTING = re.compile(r"[\s'\"\\]")

# (first line, line after its last continuation, key, value as botocore reads it)
Entry = Tuple[int, int, str, str]


def config_section_name(profile: str) -> str:
    """The config-file section of a profile: [default], [profile NAME], or [profile 'A NAME']
    for names botocore's shlex reading would otherwise split."""
    if profile == "default":
        return "default"
    return f"profile {shlex.quote(profile) if _NEEDS_QUOTING.search(profile) else profile}"


def get_option(text: str, section: str, key: str) -> Optional[str]:
    lines = text.splitlines(keepends=True)
    span = _section_span(lines, section)
    entry = _find_entry(lines, span, key) if span else None
    return None if entry is None else entry[3]


def has_section(text: str, section: str) -> bool:
    return _section_span(text.splitlines(keepends=True), section) is not None


def set_option(text: str, section: str, key: str, value: str) -> str:
    """``text`` with ``key = value`` in ``section``, creating either as needed."""
    lines = text.splitlines(keepends=True)
    newline = "\r\n" if lines and lines[0].endswith("\r\n") else "\n"
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += newline
    span = _section_span(lines, section)
    if span is None:
        if lines and lines[-1].strip():
            lines.append(newline)
        lines += [f"[{section}]{newline}", f"{key} = {value}{newline}"]
        return "".join(lines)
    entry = _find_entry(lines, span, key)
    if entry is not None:
        first, end, _, current = entry
        if current == value:
            return text
        indent = lines[first][: len(lines[first]) - len(lines[first].lstrip())]
        lines[first:end] = [f"{indent}{key} = {value}{newline}"]
        return "".join(lines)
    lines.insert(_end_of_content(lines, span), f"{key} = {value}{newline}")
    return "".join(lines)


def _section_span(lines: List[str], section: str) -> Optional[Tuple[int, int]]:
    """(first line after the header, line of the next header or end) of ``section``."""
    wanted = _as_botocore_reads(section)
    for index, line in enumerate(lines):
        match = _SECTION.match(line)
        if match and _as_botocore_reads(match.group("header")) == wanted:
            end = next((j for j in range(index + 1, len(lines)) if _SECTION.match(lines[j])), len(lines))
            return index + 1, end
    return None


def _as_botocore_reads(header: str) -> object:
    """A section header as botocore tells sections apart: `profile` headers by shlex words."""
    if header.startswith("profile"):
        try:
            return tuple(shlex.split(header))
        except ValueError:
            return header
    return header


def _entries(lines: List[str], span: Tuple[int, int]) -> List[Entry]:
    entries: List[Entry] = []
    current: Optional[List] = None
    key_indent = 0
    for index in range(*span):
        line = lines[index]
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", ";")):
            continue
        indent = len(line) - len(line.lstrip())
        if current is not None and indent > key_indent:  # a continuation of the key above
            current[1] = index + 1
            current[3] += "\n" + stripped
            continue
        match = _OPTION.match(stripped)
        if match is None:
            current = None
            continue
        current = [index, index + 1, match.group("key").strip().lower(), match.group("value")]
        key_indent = indent
        entries.append(current)  # type: ignore[arg-type]
    return [tuple(entry) for entry in entries]  # type: ignore[misc]


def _find_entry(lines: List[str], span: Tuple[int, int], key: str) -> Optional[Entry]:
    return next((entry for entry in _entries(lines, span) if entry[2] == key.lower()), None)


def _end_of_content(lines: List[str], span: Tuple[int, int]) -> int:
    """Just after the section's last key (with its continuations); comments and blank lines
    after it stay with whatever follows."""
    entries = _entries(lines, span)
    return entries[-1][1] if entries else span[0]
