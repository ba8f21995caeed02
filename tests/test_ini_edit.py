"""mfa_process.config.ini_edit: text edits of ~/.aws/config, each checked against botocore's reading.

After every edit the result is parsed by botocore (configloader.raw_config_parse, the parser the
SDK and the AWS CLI use) and compared with the parse of the original: exactly the edited value
differs, every other section and value is as it was.
"""

from __future__ import annotations

import copy
import itertools
import shlex
from pathlib import Path
from typing import Dict, Optional

import pytest
from botocore.configloader import build_profile_map, raw_config_parse
from botocore.exceptions import ConfigParseError

from mfa_process.config.ini_edit import (
    config_section_name,
    get_option,
    has_section,
    set_option,
)

ARN = "arn:aws:iam::123456789012:mfa/alice"
_counter = itertools.count()


@pytest.fixture
def botocore_view(tmp_path: Path):
    """botocore's parse of a config text: {section as written: {key: value}}."""

    def parse(text: str) -> Dict[str, Dict[str, object]]:
        path = tmp_path / f"config-{next(_counter)}"
        path.write_bytes(text.encode("utf-8"))  # bytes: CRLF stays CRLF
        return raw_config_parse(str(path))

    return parse


@pytest.fixture
def check_edit(botocore_view):
    """Parse before and after; assert botocore sees only ``section.key = value`` changed."""

    def check(before: str, after: str, raw_section: str, key: str, value: str) -> None:
        expected = copy.deepcopy(botocore_view(before)) if before.strip() else {}
        expected.setdefault(raw_section, {})[key] = value
        assert botocore_view(after) == expected

    return check


def profiles(botocore_view, text: str) -> Dict[str, Dict[str, object]]:
    return build_profile_map(botocore_view(text))["profiles"]


BASIC = """\
# my settings, keep me
[default]
region = eu-west-1

[profile base]
region = eu-central-1
mfa_serial = arn:aws:iam::123456789012:mfa/old
output = json

[profile other]
output = text
"""


# --- config_section_name / has_section / get_option ---------------------------------------------


def test_config_section_name() -> None:
    assert config_section_name("default") == "default"
    assert config_section_name("base") == "profile base"
    assert config_section_name("mfa") == "profile mfa"


def test_has_section() -> None:
    assert has_section(BASIC, "default")
    assert has_section(BASIC, "profile base")
    assert has_section(BASIC, "profile other")
    assert not has_section(BASIC, "profile mfa")
    assert not has_section(BASIC, "profile bas")
    assert not has_section(BASIC, "base")  # the credentials-file spelling is not a config section
    assert not has_section("", "default")
    assert has_section("[profile   base]\n", "profile base")
    assert has_section("[profile base]", "profile base")  # no trailing newline


def test_get_option() -> None:
    assert get_option(BASIC, "profile base", "mfa_serial") == "arn:aws:iam::123456789012:mfa/old"
    assert get_option(BASIC, "profile base", "region") == "eu-central-1"
    assert get_option(BASIC, "default", "region") == "eu-west-1"
    assert get_option(BASIC, "profile other", "region") is None  # not taken from another section
    assert get_option(BASIC, "profile other", "mfa_serial") is None
    assert get_option(BASIC, "profile mfa", "region") is None
    assert get_option("", "default", "region") is None


@pytest.mark.parametrize(
    "line",
    ["key=value", "key =value", "key= value", "key : value", "key:value", "key = value   ", "key\t=\tvalue\t"],
)
def test_get_option_separators_and_spacing(line: str, botocore_view) -> None:
    text = f"[profile base]\n{line}\n"

    assert get_option(text, "profile base", "key") == "value"
    assert botocore_view(text)["profile base"]["key"] == "value"


def test_get_option_is_case_insensitive_in_the_key_like_configparser(botocore_view) -> None:
    text = "[profile base]\nMFA_Serial = " + ARN + "\n"

    assert botocore_view(text)["profile base"] == {"mfa_serial": ARN}
    assert get_option(text, "profile base", "mfa_serial") == ARN


def test_get_option_ignores_comments_and_nested_lines() -> None:
    text = "[profile base]\n# mfa_serial = commented\n; region = commented\ns3 =\n    mfa_serial = nested\n"

    assert get_option(text, "profile base", "mfa_serial") is None
    assert get_option(text, "profile base", "region") is None
    assert get_option(text, "profile base", "s3") == "\nmfa_serial = nested"  # configparser's raw value


# --- set_option: replace --------------------------------------------------------------------------


def test_set_option_replaces_the_value_on_the_same_line(check_edit) -> None:
    after = set_option(BASIC, "profile base", "mfa_serial", ARN)

    before_lines, after_lines = BASIC.splitlines(), after.splitlines()
    assert len(after_lines) == len(before_lines)
    changed = [index for index, (old, new) in enumerate(zip(before_lines, after_lines)) if old != new]
    assert changed == [before_lines.index("mfa_serial = arn:aws:iam::123456789012:mfa/old")]
    assert after_lines[changed[0]] == f"mfa_serial = {ARN}"
    check_edit(BASIC, after, "profile base", "mfa_serial", ARN)


@pytest.mark.parametrize("line", ["mfa_serial=old", "mfa_serial : old", "mfa_serial:old", "mfa_serial\t=  old  "])
def test_set_option_replaces_any_separator_style_in_place(line: str, check_edit) -> None:
    before = f"[profile base]\nregion = eu-west-1\n{line}\noutput = json\n"

    after = set_option(before, "profile base", "mfa_serial", ARN)

    assert after == f"[profile base]\nregion = eu-west-1\nmfa_serial = {ARN}\noutput = json\n"
    check_edit(before, after, "profile base", "mfa_serial", ARN)


def test_set_option_replaces_a_key_written_in_another_case(botocore_view) -> None:
    before = "[profile base]\nMFA_SERIAL = old\nregion = eu-west-1\n"

    after = set_option(before, "profile base", "mfa_serial", ARN)

    assert after.splitlines()[1].lower() == f"mfa_serial = {ARN}".lower()
    assert len(after.splitlines()) == 3  # replaced, not added (a second one is a configparser error)
    assert botocore_view(after) == {"profile base": {"mfa_serial": ARN, "region": "eu-west-1"}}


def test_set_option_does_not_touch_the_same_key_in_other_sections(check_edit) -> None:
    after = set_option(BASIC, "default", "region", "us-east-1")

    assert after == BASIC.replace("region = eu-west-1", "region = us-east-1")
    check_edit(BASIC, after, "default", "region", "us-east-1")


def test_set_option_with_the_same_value_returns_the_text_unchanged() -> None:
    same = set_option(BASIC, "profile base", "region", "eu-central-1")

    assert same is BASIC


@pytest.mark.parametrize(
    "section, key, value",
    [
        ("profile base", "mfa_serial", ARN),  # replace
        ("profile other", "region", "us-west-2"),  # add
        ("profile mfa", "credential_process", "mfa-process --profile base"),  # new section
    ],
)
def test_set_option_is_idempotent(section: str, key: str, value: str) -> None:
    once = set_option(BASIC, section, key, value)

    assert set_option(once, section, key, value) == once
    assert set_option(once, section, key, value) is once


# --- set_option: add a key ------------------------------------------------------------------------


def test_set_option_adds_after_the_last_option_before_the_next_sections_comments(check_edit) -> None:
    before = """\
[profile base]
region = eu-central-1
; a comment inside the section
output = json

# production, read-only
; (next section's comments)
[profile prod]
region = us-east-1
"""

    after = set_option(before, "profile base", "mfa_serial", ARN)

    assert after == before.replace("output = json\n", f"output = json\nmfa_serial = {ARN}\n")
    check_edit(before, after, "profile base", "mfa_serial", ARN)


def test_set_option_adds_to_the_last_section_before_trailing_comments(check_edit) -> None:
    before = "[default]\nregion = eu-west-1\n\n[profile base]\nregion = eu-central-1\n\n# the end\n\n"

    after = set_option(before, "profile base", "mfa_serial", ARN)

    assert (
        after == "[default]\nregion = eu-west-1\n\n[profile base]\nregion = eu-central-1\n"
        f"mfa_serial = {ARN}\n\n# the end\n\n"
    )
    check_edit(before, after, "profile base", "mfa_serial", ARN)


def test_set_option_adds_to_a_section_with_no_options(check_edit) -> None:
    before = "[profile base]\n\n[profile other]\noutput = text\n"

    after = set_option(before, "profile base", "mfa_serial", ARN)

    assert after == f"[profile base]\nmfa_serial = {ARN}\n\n[profile other]\noutput = text\n"
    check_edit(before, after, "profile base", "mfa_serial", ARN)


def test_set_option_adds_after_a_nested_block_not_inside_it(check_edit, botocore_view) -> None:
    before = """\
[profile base]
region = eu-central-1
s3 =
    max_concurrent_requests = 20
    mfa_serial = nested-not-a-key

[profile other]
output = text
"""

    after = set_option(before, "profile base", "mfa_serial", ARN)

    assert after == before.replace("nested-not-a-key\n", f"nested-not-a-key\nmfa_serial = {ARN}\n")
    check_edit(before, after, "profile base", "mfa_serial", ARN)
    assert botocore_view(after)["profile base"]["s3"] == {
        "max_concurrent_requests": "20",
        "mfa_serial": "nested-not-a-key",
    }


def test_set_option_does_not_mistake_a_nested_line_for_the_key(check_edit) -> None:
    before = "[profile base]\ns3 =\n    region = nested\nregion = eu-central-1\n"

    after = set_option(before, "profile base", "region", "us-east-1")

    assert after == "[profile base]\ns3 =\n    region = nested\nregion = us-east-1\n"
    check_edit(before, after, "profile base", "region", "us-east-1")


def test_set_option_keys_indented_under_the_header_are_keys_too(botocore_view) -> None:
    """configparser (so botocore) reads an indented line as a key of its own unless it follows
    an option line indented less; people who indent their sections get keys like these. The
    editor must replace such a key, not add a second one (a DuplicateOptionError for botocore:
    every AWS command would fail with "Unable to parse config file")."""
    before = "[profile base]\n  region = eu-central-1\n  mfa_serial = arn:aws:iam::123456789012:mfa/old\n"
    assert botocore_view(before) == {
        "profile base": {"region": "eu-central-1", "mfa_serial": "arn:aws:iam::123456789012:mfa/old"}
    }

    after = set_option(before, "profile base", "mfa_serial", ARN)

    try:
        seen = botocore_view(after)
    except ConfigParseError as error:
        pytest.fail(f"botocore cannot parse the edited file ({error}):\n{after}")
    assert seen == {"profile base": {"region": "eu-central-1", "mfa_serial": ARN}}
    assert get_option(before, "profile base", "mfa_serial") == "arn:aws:iam::123456789012:mfa/old"


def test_set_option_replaces_a_value_with_its_continuation_lines(botocore_view) -> None:
    """A value continued on indented lines is one value for botocore; replacing the key must
    replace all of it, or the old continuation becomes part of the new value."""
    before = "[profile mfa]\ncredential_process = /old/bin/mfa-process\n    --profile base\nregion = eu-west-1\n"
    assert botocore_view(before)["profile mfa"]["credential_process"] == "/old/bin/mfa-process\n--profile base"

    after = set_option(before, "profile mfa", "credential_process", "mfa-process --profile base")

    assert botocore_view(after) == {
        "profile mfa": {"credential_process": "mfa-process --profile base", "region": "eu-west-1"}
    }


# --- set_option: add a section --------------------------------------------------------------------


def test_set_option_appends_a_new_section_after_one_blank_line(check_edit) -> None:
    after = set_option(BASIC, "profile mfa", "credential_process", "mfa-process --profile base")

    assert after == BASIC + "\n[profile mfa]\ncredential_process = mfa-process --profile base\n"
    check_edit(BASIC, after, "profile mfa", "credential_process", "mfa-process --profile base")


def test_set_option_appends_after_a_trailing_comment(check_edit) -> None:
    before = "[profile base]\nregion = eu-west-1\n# the end\n"

    after = set_option(before, "profile mfa", "region", "us-east-1")

    assert after == before + "\n[profile mfa]\nregion = us-east-1\n"
    check_edit(before, after, "profile mfa", "region", "us-east-1")


def test_set_option_in_an_empty_file(check_edit) -> None:
    after = set_option("", "profile mfa", "credential_process", "mfa-process --profile base")

    assert after == "[profile mfa]\ncredential_process = mfa-process --profile base\n"
    check_edit("", after, "profile mfa", "credential_process", "mfa-process --profile base")


def test_set_option_default_section(botocore_view) -> None:
    after = set_option("[profile base]\nregion = x\n", config_section_name("default"), "region", "eu-west-1")

    assert after == "[profile base]\nregion = x\n\n[default]\nregion = eu-west-1\n"
    assert profiles(botocore_view, after)["default"] == {"region": "eu-west-1"}


# --- files without a trailing newline -------------------------------------------------------------


@pytest.mark.parametrize(
    "before, section, key, expected",
    [
        (
            "[profile base]\nregion = x",
            "profile base",
            "mfa_serial",
            f"[profile base]\nregion = x\nmfa_serial = {ARN}\n",
        ),
        ("[profile base]\nmfa_serial = old", "profile base", "mfa_serial", f"[profile base]\nmfa_serial = {ARN}\n"),
        ("[profile base]", "profile base", "mfa_serial", f"[profile base]\nmfa_serial = {ARN}\n"),
        (
            "[default]\nregion = x",
            "profile base",
            "mfa_serial",
            f"[default]\nregion = x\n\n[profile base]\nmfa_serial = {ARN}\n",
        ),
        ("# only a comment", "profile base", "mfa_serial", f"# only a comment\n\n[profile base]\nmfa_serial = {ARN}\n"),
    ],
)
def test_set_option_without_a_trailing_newline(before: str, section: str, key: str, expected: str, check_edit) -> None:
    after = set_option(before, section, key, ARN)

    assert after == expected
    check_edit(before, after, section, key, ARN)


# --- section headers with extra spaces ------------------------------------------------------------


def test_set_option_finds_a_header_with_extra_spaces(check_edit, botocore_view) -> None:
    before = (
        "[default]\nregion = eu-west-1\n\n[profile   base]\nregion = eu-central-1\n\n[profile other]\noutput = json\n"
    )
    assert profiles(botocore_view, before)["base"] == {"region": "eu-central-1"}

    after = set_option(before, config_section_name("base"), "mfa_serial", ARN)

    assert after == before.replace("eu-central-1\n", f"eu-central-1\nmfa_serial = {ARN}\n")
    assert after.count("base]") == 1  # no second [profile base]
    check_edit(before, after, "profile   base", "mfa_serial", ARN)
    assert profiles(botocore_view, after)["base"] == {"region": "eu-central-1", "mfa_serial": ARN}


def test_set_option_does_not_match_a_longer_profile_name() -> None:
    before = "[profile base-dev]\nregion = x\n"

    after = set_option(before, "profile base", "region", "y")

    assert after == "[profile base-dev]\nregion = x\n\n[profile base]\nregion = y\n"


# --- CRLF -----------------------------------------------------------------------------------------

CRLF = BASIC.replace("\n", "\r\n")


@pytest.mark.parametrize(
    "section, key, value, raw_section",
    [
        ("profile base", "mfa_serial", ARN, "profile base"),  # replace
        ("profile other", "region", "us-west-2", "profile other"),  # add
        ("profile mfa", "credential_process", "mfa-process --profile base", "profile mfa"),  # new section
    ],
)
def test_set_option_on_a_crlf_file(section: str, key: str, value: str, raw_section: str, check_edit) -> None:
    after = set_option(CRLF, section, key, value)

    check_edit(CRLF, after, raw_section, key, value)
    kept = [line for line in CRLF.splitlines(keepends=True) if line in after.splitlines(keepends=True)]
    assert len(kept) >= len(CRLF.splitlines()) - 1  # every other line kept as it was, CRLF included
    assert get_option(after, section, key) == value
    assert set_option(after, section, key, value) == after


def test_get_option_on_a_crlf_file() -> None:
    assert get_option(CRLF, "profile base", "mfa_serial") == "arn:aws:iam::123456789012:mfa/old"
    assert has_section(CRLF, "profile other")
    assert set_option(CRLF, "profile base", "region", "eu-central-1") is CRLF


# --- values botocore reads back exactly -----------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "mfa-process --profile base",
        "/opt/my tools/mfa-process --profile 'it'\"'\"'s'",
        "GAHT12345678",
        "value with = and : inside",
        "value ; not a comment # either",
    ],
)
def test_botocore_reads_back_the_value_set(value: str, check_edit) -> None:
    after = set_option(BASIC, "profile base", "credential_process", value)

    check_edit(BASIC, after, "profile base", "credential_process", value)
    assert get_option(after, "profile base", "credential_process") == value


def test_a_quoted_credential_process_reaches_botocore_intact(botocore_view) -> None:
    command = f"mfa-process --profile {shlex.quote('my base')}"

    after = set_option("", "profile mfa", "credential_process", command)

    read: Optional[object] = profiles(botocore_view, after)["mfa"]["credential_process"]
    assert isinstance(read, str) and shlex.split(read) == ["mfa-process", "--profile", "my base"]


# --- profile names with spaces --------------------------------------------------------------------


def test_a_profile_name_with_a_space_edits_the_section_botocore_reads(botocore_view) -> None:
    """botocore takes a profile's name from its header with shlex.split, so a name with a space
    must be quoted in the header: `aws configure --profile "my base"` writes
    [profile 'my base'] (awscli profile_to_section); [profile my base] is three words and
    botocore ignores the section."""
    before = "[profile 'my base']\nregion = eu-central-1\n"
    assert profiles(botocore_view, before) == {"my base": {"region": "eu-central-1"}}

    after = set_option(before, config_section_name("my base"), "mfa_serial", ARN)

    assert profiles(botocore_view, after) == {"my base": {"region": "eu-central-1", "mfa_serial": ARN}}
    assert get_option(after, config_section_name("my base"), "mfa_serial") == ARN
