"""Edit an AWS config file as text, so nothing the person wrote is lost or moved.

configparser would drop comments and re-flow the file; here only the lines that change are
touched: a key's value is replaced in place, a missing key is added at the end of its
section, a missing section is appended at the end of the file.
"""

from __future__ import annotations

import re
from typing import List, Optional, Tuple

_SECTION = re.compile(r"^\s*\[([^\]]*)\]")
_OPTION = re.compile(r"^(?P<key>[^\s=:#;\[][^=:]*?)\s*[=:]\s*(?P<value>.*?)\s*$")


def config_section_name(profile: str) -> str:
    """The section a profile has in the config file: [default] or [profile NAME]."""
    return "default" if profile == "default" else f"profile {profile}"


def get_option(text: str, section: str, key: str) -> Optional[str]:
    lines = text.splitlines(keepends=True)
    span = _section_span(lines, section)
    if span is None:
        return None
    found = _find_option(lines, span, key)
    return None if found is None else found[1]


def has_section(text: str, section: str) -> bool:
    return _section_span(text.splitlines(keepends=True), section) is not None


def set_option(text: str, section: str, key: str, value: str) -> str:
    """``text`` with ``key = value`` in ``section``, creating either as needed."""
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    span = _section_span(lines, section)
    if span is None:
        if lines and lines[-1].strip():
            lines.append("\n")
        lines += [f"[{section}]\n", f"{key} = {value}\n"]
        return "".join(lines)
    found = _find_option(lines, span, key)
    if found is not None:
        index, current = found
        if current == value:
            return text
        lines[index] = f"{key} = {value}\n"
        return "".join(lines)
    insert_at = _end_of_content(lines, span)
    lines.insert(insert_at, f"{key} = {value}\n")
    return "".join(lines)


def _section_span(lines: List[str], section: str) -> Optional[Tuple[int, int]]:
    """(first line after the header, line of the next header or end) of ``section``."""
    wanted = " ".join(section.split())
    for index, line in enumerate(lines):
        match = _SECTION.match(line)
        if match and " ".join(match.group(1).split()) == wanted:
            end = next((j for j in range(index + 1, len(lines)) if _SECTION.match(lines[j])), len(lines))
            return index + 1, end
    return None


def _find_option(lines: List[str], span: Tuple[int, int], key: str) -> Optional[Tuple[int, str]]:
    for index in range(*span):
        line = lines[index]
        if line[:1].isspace():  # a continuation or nested (s3 = ...) line, not a key of ours
            continue
        match = _OPTION.match(line)
        if match and match.group("key").strip().lower() == key:
            return index, match.group("value")
    return None


def _end_of_content(lines: List[str], span: Tuple[int, int]) -> int:
    """Just after the section's last non-blank, non-comment line (comments stay with the next section)."""
    start, end = span
    last = start
    for index in range(start, end):
        stripped = lines[index].strip()
        if stripped and not stripped.startswith(("#", ";")):
            last = index + 1
    return last
