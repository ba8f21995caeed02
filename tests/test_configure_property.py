"""`configure`'s plan, for arbitrary names, values and existing files: what it writes is read back
by botocore's own loader as exactly the intended profiles and keys, or it refuses and writes
nothing (issue 8). Hypothesis draws the names and values from an alphabet rich in what INI,
shlex and str.splitlines() treat specially."""

from __future__ import annotations

import itertools
import os
import shlex
import shutil
from pathlib import Path
from typing import Dict, List, Optional

from botocore.configloader import build_profile_map, raw_config_parse
from botocore.exceptions import ConfigParseError
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from mfa_process.config.configure import plan, write_with_backup
from mfa_process.errors import ConfigError

SETTINGS = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)

SAFE = "abcXYZ019-_.@+é"
SPECIAL = " '\"\\=:#;[]\t%$`"
BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029\x00\x1b\xa0\u3000"

safe_names = st.text(alphabet=SAFE + " '=:#;", min_size=1, max_size=8).filter(lambda name: name == name.strip())
any_names = st.one_of(
    st.sampled_from(["default", "base", "mfa", "profile", "-dash", "my base"]),
    safe_names,
    safe_names,  # twice: more plans that get as far as writing
    st.text(alphabet=SAFE + SPECIAL + BREAKS, max_size=8),
    st.text(max_size=4),  # anything at all, surrogates included (argv bytes that are not UTF-8)
)
safe_values = st.text(alphabet=SAFE + SPECIAL.replace("\t", ""), min_size=1, max_size=10).map(str.strip).filter(bool)
file_values = st.text(alphabet=SAFE + SPECIAL + BREAKS.replace("\n", "").replace("\r", ""), max_size=10)
any_values = st.one_of(safe_values, st.text(alphabet=SAFE + SPECIAL + BREAKS, max_size=10))
commands = st.one_of(
    st.sampled_from(["mfa-process", "/usr/bin/python3 -m mfa_process"]),
    st.text(alphabet=SAFE + SPECIAL + BREAKS, min_size=1, max_size=12).map(lambda path: shlex.quote("/opt/" + path)),
)
KEYS = ["mfa_serial", "MFA_Serial", "region", "credential_process", "output", "s3", "x"]


@st.composite
def scenarios(draw, names=any_names, values=file_values):
    """(config text, base, plugin): a file as people (and other programs) write them, with headers
    in every spelling botocore accepts, keys in any case and separator, continuations, comments,
    blank lines, any line end; the base and plugin profiles are often among its profiles."""
    pool = draw(st.lists(names, min_size=1, max_size=3))
    known = st.sampled_from(pool)
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    lines: List[str] = []
    for _ in range(draw(st.integers(0, 4))):
        name = draw(known | names)
        header = draw(
            st.sampled_from([f"profile {name}", f"profile   {name}", f"profile {shlex.quote(name)}", "default", name])
        )
        lines.append(draw(st.sampled_from(["", " ", "\t"])) + f"[{header}]")
        keys = draw(st.lists(st.sampled_from(KEYS), max_size=3, unique_by=str.lower))
        for key in keys:
            separator = draw(st.sampled_from([" = ", "=", " : ", "\t=\t"]))
            ours = known.map(lambda name: f"mfa-process --profile {shlex.quote(name)}")
            value = draw(ours | values if key == "credential_process" else values)
            lines.append(draw(st.sampled_from(["", "  "])) + key + separator + value)
            lines += [draw(st.sampled_from(["    ", "\t\t"])) + draw(values) for _ in range(draw(st.integers(0, 2)))]
            lines += draw(st.lists(st.sampled_from(["", "# comment", "  ; comment", "   "]), max_size=1))
    text = newline.join(lines)
    text = text + newline if draw(st.booleans()) else text
    base = draw(known | names)
    return text, base, draw((known | names).filter(lambda plugin: plugin != base))


def botocore_reading(path: Path) -> Optional[Dict[str, Dict[str, str]]]:
    """botocore's raw view (nested blocks left as text: their parsing is a function of it)."""
    try:
        return raw_config_parse(str(path), parse_subsections=False)
    except ConfigParseError:
        return None


def program_matches(have: str, want: str) -> bool:
    return have == want or (
        shutil.which(have) is not None and os.path.realpath(shutil.which(have)) == os.path.realpath(shutil.which(want))
    )


_counter = itertools.count()


def check_configure(
    folder: Path, text: str, base: str, plugin: str, serial: Optional[str], command: str, region, force: bool
) -> bool:
    """Run plan and write as `configure` does; True if it wrote, False if it refused."""
    config = folder / f"config-{next(_counter)}"
    config.write_bytes(text.encode("utf-8"))
    before_raw = botocore_reading(config)
    try:
        new_text, changes = plan(text, base, plugin, serial, command, region, force)
    except ConfigError as error:
        assert config.read_bytes() == text.encode("utf-8")
        event(f"refused: {type(error).__name__}")
        return False
    assert before_raw is not None, "planned an edit of a file botocore cannot read"
    event("wrote" if changes else "nothing to change")
    if changes:
        write_with_backup(str(config), new_text)
    else:
        assert new_text == text
    after_raw = botocore_reading(config)
    assert after_raw is not None, f"botocore cannot read what configure wrote:\n{new_text!r}"

    before = build_profile_map(before_raw)["profiles"]
    after = build_profile_map(after_raw)["profiles"]
    words = shlex.split(after[plugin]["credential_process"])
    wanted = shlex.split(command)
    profile_words = [f"--profile={base}"] if base.startswith("-") else ["--profile", base]
    assert words[len(wanted) :] == profile_words and words[1 : len(wanted)] == wanted[1:]
    assert program_matches(words[0], wanted[0])
    if serial is not None:
        assert after[base]["mfa_serial"] == serial
    others = lambda keys, *edited: {k: v for k, v in (keys or {}).items() if k not in edited}  # noqa: E731
    assert others(after.get(base), "mfa_serial") == others(before.get(base), "mfa_serial")
    assert others(after[plugin], "credential_process", "region") == others(
        before.get(plugin), "credential_process", "region"
    )
    if plugin in before:
        assert after[plugin].get("region") == before[plugin].get("region")
    else:
        assert after[plugin].get("region") == (region or None)
    for name in (set(before) | set(after)) - {base, plugin}:
        assert after.get(name) == before.get(name), name
    # no section but the two botocore reads for base and plugin (the last header of each) changed
    read_from = {}
    for header in after_raw:
        read_from.update({name: header for name in build_profile_map({header: {}})["profiles"]})
    edited = {read_from.get(base), read_from[plugin]}
    assert {h: k for h, k in after_raw.items() if h not in edited} == {
        h: k for h, k in before_raw.items() if h not in edited
    }
    return True


@SETTINGS
@given(
    scenario=scenarios(),
    serial=st.none() | any_values,
    command=commands,
    region=st.none() | any_values,
    force=st.booleans(),
)
def test_configure_writes_exactly_the_intended_profiles_or_refuses(
    tmp_path: Path, scenario, serial, command: str, region, force: bool
) -> None:
    text, base, plugin = scenario
    check_configure(tmp_path, text, base, plugin, serial, command, region, force)


@SETTINGS
@given(
    scenario=scenarios(names=safe_names, values=safe_values),
    serial=st.none() | safe_values,
    region=st.none() | safe_values,
)
def test_configure_refuses_nothing_that_is_safe(tmp_path: Path, scenario, serial, region) -> None:
    """The property above must not hold by refusing: safe names and values in a file botocore
    reads are always written (--force for another tool's credential_process)."""
    text, base, plugin = scenario
    assume(base != plugin)
    probe = tmp_path / f"probe-{next(_counter)}"
    probe.write_bytes(text.encode("utf-8"))
    assume(botocore_reading(probe) is not None)

    assert check_configure(tmp_path, text, base, plugin, serial, "mfa-process", region, True)
