"""Edit an AWS config file as text, so nothing the person wrote is lost or moved.

configparser would drop comments and re-flow the file; here only the lines that change are
touched: a key's value is replaced in place, a missing key is added at the end of its
section, a missing section is appended at the end of the file, a removed key takes only its
own lines.

Lines are read exactly the way configparser (and so botocore) reads a file: split where
Python's universal newlines split (\\n, \\r\\n, \\r, and nothing else: not at the other
characters str.splitlines() breaks on), a header or key counts wherever it is indented unless
it continues the key above, and a section is found under the name botocore gives it (the last
of several headers with that name wins, as in botocore's profile map). ``read_config`` gives
botocore's own view of a text, so callers can check that an edit reads back as intended.
"""

from __future__ import annotations

import configparser
import io
import re
import shlex
from typing import Dict, List, Optional, Tuple

_SECTION = configparser.RawConfigParser.SECTCRE
_OPTION = configparser.RawConfigParser.OPTCRE
_NONSPACE = configparser.RawConfigParser.NONSPACECRE
_LINES = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")  # lines as open() in text mode gives them
_NEEDS_QUOTING = re.compile(r"[\s'\"\\]|^[#;]")  # ^: the space after `profile` comes before it
# Where the JS SDK v3 (@smithy parseIni) starts a comment: `#` or `;` at the start or after white space.
_JS_COMMENT = re.compile(r"(?:^|\s)[#;]")
_JS_COMMENT_CHARS = re.compile(r"([#;])")
_LINE_BREAK = re.compile(r"[\r\n]")

# (first line, line after its last continuation, key, value as configparser reads it)
Entry = Tuple[int, int, str, str]
# (header, index of the header line, index after the section's last line, its entries)
Section = Tuple[str, int, int, List[Entry]]
RawConfig = Dict[str, Dict[str, str]]


def config_section_name(profile: str) -> str:
    """The config-file section of a profile: [default], [profile NAME], or [profile 'A NAME']
    for names botocore's shlex reading would otherwise split or the JS SDK read as a comment."""
    if profile == "default":
        return "default"
    return f"profile {quote_word(profile) if _NEEDS_QUOTING.search(profile) else profile}"


def quote_word(word: str) -> str:
    """shlex.quote, read back alike by shlex (botocore), sh (the SDKs that run credential_process)
    and the JS SDK's INI reader, which drops the rest of a line from a `#` or `;` after white space
    (`[profile 'ci ;x']` would be no header to it, and the keys below it another profile's).
    There, every `#` and `;` is written outside the quotes as `\\#` or `\\;`."""
    quoted = shlex.quote(word)
    if not _JS_COMMENT.search(quoted):
        return quoted
    return "".join(
        "\\" + part if part in ("#", ";") else shlex.quote(part) for part in _JS_COMMENT_CHARS.split(word) if part
    )


def profile_of_header(header: str) -> Optional[str]:
    """The profile botocore reads from a config-file header (configloader.build_profile_map):
    `default`, or the second of exactly two shlex words of a header starting with `profile`."""
    if header == "default":
        return "default"
    if not header.startswith("profile"):
        return None
    try:
        words = shlex.split(header)
    except ValueError:
        return None
    return words[1] if len(words) == 2 else None


def get_option(text: str, section: str, key: str) -> Optional[str]:
    lines = split_lines(text)
    found = _find_section(_sections(lines), section)
    entry = _find_entry(found, key) if found else None
    return None if entry is None else entry[3]


def has_section(text: str, section: str) -> bool:
    return _find_section(_sections(split_lines(text)), section) is not None


def set_option(text: str, section: str, key: str, value: str) -> str:
    """``text`` with ``key = value`` in ``section``, creating either as needed.

    Refuses (ValueError) a section, key or value that would not stay on its own line: the
    caller validates what it gets from people; this is the last line of defence.
    """
    for part in (section, key, value):
        if _LINE_BREAK.search(part):
            raise ValueError(f"a line break in {part!r} would change the file's structure")
    match = _SECTION.match(f"[{section}]")
    if match is None or match.group("header") != section or not _OPTION.match(f"{key} = {value}"):
        raise ValueError(f"[{section}] {key} = {value} would not read back as written")
    lines = split_lines(text)
    newline = _newline_of(lines)
    if lines and not lines[-1].endswith(("\n", "\r")):
        lines[-1] += newline
    found = _find_section(_sections(lines), section)
    if found is None:
        if lines and lines[-1].strip():
            lines.append(newline)
        lines += [f"[{section}]{newline}", f"{key} = {value}{newline}"]
        return "".join(lines)
    entry = _find_entry(found, key)
    if entry is not None:
        first, end, _, current = entry
        if current == value:
            return text
        lines[first:end] = [f"{_indent(lines[first])}{key} = {value}{newline}"]
        return "".join(lines)
    # The new line is indented like the key before it (or, first in its section, like the line
    # after it): less, and an indented line after it would become part of its value; more, and
    # it would become part of the value before it.
    entries = found[3]
    position = entries[-1][1] if entries else found[1] + 1
    model = lines[entries[-1][0]] if entries else _next_significant(lines, position)
    lines.insert(position, f"{_indent(model)}{key} = {value}{newline}")
    return "".join(lines)


def remove_option(text: str, section: str, key: str) -> str:
    """``text`` without ``key`` (and its continuation lines) in ``section``; a section left with
    no keys, comments or other lines loses its header too. Everything else stays byte for byte."""
    lines = split_lines(text)
    found = _find_section(_sections(lines), section)
    entry = _find_entry(found, key) if found else None
    if found is None or entry is None:
        return text
    del lines[entry[0] : entry[1]]
    header_line, end = found[1], found[2] - (entry[1] - entry[0])
    if not any(line.strip() for line in lines[header_line + 1 : end]):
        del lines[header_line:end]
        if header_line > 0 and header_line == len(lines) and not lines[header_line - 1].strip():
            del lines[header_line - 1]  # the blank line that only separated the section removed
    return "".join(lines)


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _next_significant(lines: List[str], start: int) -> str:
    """The next line that is neither blank nor a comment ("" at the end of the file)."""
    return next((line for line in lines[start:] if line.strip() and not line.strip().startswith(("#", ";"))), "")


def read_config(text: str) -> Tuple[RawConfig, Dict[str, str]]:
    """botocore's raw reading of a config text (configloader.raw_config_parse without the
    nested-block step) and the [DEFAULT] keys every section inherits. Raises configparser.Error."""
    parser = configparser.RawConfigParser()
    parser.read_file(io.StringIO(text, newline=None))  # universal newlines, as botocore's open()
    raw = {section: {key: parser.get(section, key) for key in parser.options(section)} for section in parser.sections()}
    return raw, dict(parser.defaults())


def profiles_of(raw: RawConfig) -> Dict[str, Tuple[str, Dict[str, str]]]:
    """{profile: (the header botocore takes it from, its keys)}: the last header wins."""
    profiles: Dict[str, Tuple[str, Dict[str, str]]] = {}
    for header, keys in raw.items():
        name = profile_of_header(header)
        if name is not None:
            profiles[name] = (header, keys)
    return profiles


def split_lines(text: str) -> List[str]:
    """Lines with their endings, split only where configparser's file reading splits."""
    return _LINES.findall(text)


def _newline_of(lines: List[str]) -> str:
    if not lines:
        return "\n"
    first = lines[0]
    return "\r\n" if first.endswith("\r\n") else "\r" if first.endswith("\r") else "\n"


def _sections(lines: List[str]) -> List[Section]:
    """The file as configparser._read walks it: headers, keys, continuations; comments and
    blank lines never end a value (empty_lines_in_values) and never reset the indent."""
    sections: List[Section] = []
    header: Optional[str] = None
    header_line = 0
    entries: List[Entry] = []
    current: Optional[List] = None  # [first, end, key, parts] of the key being read
    indent_level = 0

    def close(end: int) -> None:
        if header is not None:
            sections.append((header, header_line, end, entries))

    for index, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith(("#", ";")):
            continue
        if not stripped:
            if current is not None:
                current[3].append("")
            continue
        first_nonspace = _NONSPACE.search(line)
        indent = first_nonspace.start() if first_nonspace else 0
        if current is not None and indent > indent_level:  # a continuation of the key above
            current[1] = index + 1
            current[3].append(stripped)
            entries[-1] = _entry(current)
            continue
        indent_level = indent
        section = _SECTION.match(stripped)
        if section:
            close(index)
            header, header_line, entries, current = (section.group("header"), index, [], None)
            continue
        option = _OPTION.match(stripped)
        if header is None or option is None or not option.group("option").rstrip():
            continue  # not valid INI: configparser refuses the file, read_config says where
        current = [index, index + 1, option.group("option").rstrip().lower(), [option.group("value").strip()]]
        entries.append(_entry(current))
    close(len(lines))
    return sections


def _entry(current: List) -> Entry:
    return (current[0], current[1], current[2], "\n".join(current[3]).rstrip())


def _find_section(sections: List[Section], section: str) -> Optional[Section]:
    """The section botocore reads for ``section``'s profile (the last header naming it), or the
    last header written exactly so for sections that are not profiles."""
    wanted = profile_of_header(section)
    found = None
    for candidate in sections:
        if (profile_of_header(candidate[0]) == wanted) if wanted is not None else (candidate[0] == section):
            found = candidate
    return found


def _find_entry(section: Section, key: str) -> Optional[Entry]:
    return next((entry for entry in section[3] if entry[2] == key.lower()), None)
