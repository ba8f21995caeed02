"""mfa_process.cli.common: the time formatting the commands print, and one-line usage errors."""

from __future__ import annotations

import time
from typing import Iterator

import pytest

from mfa_process.cli.common import (
    ArgumentParser,
    add_session_options,
    local_time,
    new_parser,
    time_left,
)

# --- time_left ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "seconds, expected",
    [
        (0, "expired"),
        (0.0, "expired"),
        (-1, "expired"),
        (-3600, "expired"),
        (0.5, "0m"),
        (59, "0m"),
        (59.999, "0m"),
        (60, "1m"),
        (14 * 60, "14m"),
        (14 * 60 + 59, "14m"),
        (59 * 60 + 59, "59m"),
        (3600, "1h 00m"),
        (3600 + 5 * 60, "1h 05m"),
        (11 * 3600 + 59 * 60, "11h 59m"),
        (11 * 3600 + 59 * 60 + 59, "11h 59m"),
        (12 * 3600, "12h 00m"),
        (36 * 3600, "36h 00m"),
    ],
)
def test_time_left(seconds: float, expected: str) -> None:
    assert time_left(seconds) == expected


# --- local_time -----------------------------------------------------------------------------------


@pytest.fixture
def set_tz(monkeypatch) -> Iterator:
    """Set TZ for this process (POSIX rules, so no tz database is needed); restored after."""

    def set_to(zone: str) -> None:
        monkeypatch.setenv("TZ", zone)
        time.tzset()

    yield set_to
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize(
    "zone, epoch, expected",
    [
        ("UTC0", 0, "1970-01-01 00:00:00 UTC"),
        ("JST-9", 0, "1970-01-01 09:00:00 JST"),
        ("EST5", 0, "1969-12-31 19:00:00 EST"),
        ("JST-9", 1767268800, "2026-01-01 21:00:00 JST"),  # 2026-01-01T12:00:00Z
        # daylight saving follows the date, as the local zone does
        ("CET-1CEST,M3.5.0,M10.5.0/3", 1767268800, "2026-01-01 13:00:00 CET"),
        ("CET-1CEST,M3.5.0,M10.5.0/3", 1783080000, "2026-07-03 14:00:00 CEST"),  # 2026-07-03T12:00:00Z
    ],
)
def test_local_time_uses_the_local_zone(set_tz, zone: str, epoch: int, expected: str) -> None:
    set_tz(zone)

    assert local_time(epoch) == expected


def test_local_time_follows_a_change_of_zone(set_tz) -> None:
    set_tz("UTC0")
    in_utc = local_time(1767268800)
    set_tz("JST-9")

    assert (in_utc, local_time(1767268800)) == ("2026-01-01 12:00:00 UTC", "2026-01-01 21:00:00 JST")


def test_local_time_accepts_a_float(set_tz) -> None:
    set_tz("UTC0")

    assert local_time(1767268800.9) == "2026-01-01 12:00:00 UTC"


# --- ArgumentParser -------------------------------------------------------------------------------


def _parser() -> ArgumentParser:
    parser = new_parser("mfa-process env", "Print shell lines.", "examples:\n  mfa-process env --profile base\n")
    add_session_options(parser)
    parser.add_argument("--shell", choices=("sh", "fish", "powershell"), default="sh")
    return parser


def _usage_error(capsys, argv) -> str:
    with pytest.raises(SystemExit) as raised:
        _parser().parse_args(argv)
    out, err = capsys.readouterr()
    assert raised.value.code == 2
    assert out == ""
    assert err.endswith("\n") and err.count("\n") == 1, err  # one line
    assert "usage:" not in err
    return err


def test_missing_required_option_is_one_line(capsys) -> None:
    err = _usage_error(capsys, [])

    assert err == "mfa-process: the following arguments are required: --profile; see mfa-process env --help\n"


def test_unknown_option_is_one_line(capsys) -> None:
    err = _usage_error(capsys, ["--profile", "base", "--bogus"])

    assert err == "mfa-process: unrecognized arguments: --bogus; see mfa-process env --help\n"


def test_option_without_its_value_is_one_line(capsys) -> None:
    err = _usage_error(capsys, ["--profile"])

    assert err == "mfa-process: argument --profile: expected one argument; see mfa-process env --help\n"


def test_invalid_choice_is_one_line(capsys) -> None:
    err = _usage_error(capsys, ["--profile", "base", "--shell", "zsh"])

    assert err.startswith("mfa-process: argument --shell: invalid choice: ")
    assert "zsh" in err and "powershell" in err
    assert err.endswith("; see mfa-process env --help\n")


def test_error_called_directly(capsys) -> None:
    parser = ArgumentParser(prog="mfa-process status")

    with pytest.raises(SystemExit) as raised:
        parser.error("boom")

    assert raised.value.code == 2
    assert capsys.readouterr() == ("", "mfa-process: boom; see mfa-process status --help\n")


def test_valid_arguments_parse_without_output(capsys) -> None:
    args = _parser().parse_args(["--profile", "base", "--shell", "fish", "--refresh"])

    assert (args.profile, args.shell, args.refresh, args.token_code) == ("base", "fish", True, None)
    assert capsys.readouterr() == ("", "")


def test_every_session_option_says_every_way_to_set_it_and_its_default():
    """`--help` of each setting lists the flag, its environment variable and profile key
    (config.settings.SETTING_SOURCES, the table resolve_settings reads) and the default."""
    import argparse

    from mfa_process.cli.common import add_session_options
    from mfa_process.config.settings import SETTING_SOURCES

    parser = argparse.ArgumentParser()
    add_session_options(parser)
    helps = {flag: action.help or "" for action in parser._actions for flag in action.option_strings}
    for flag, (env_name, profile_key) in SETTING_SOURCES.items():
        text = " ".join(helps[flag].split())
        assert (env_name is None) or f"${env_name}" in text, flag
        assert f"{profile_key} in the base profile" in text, flag
        assert "default: " in text or "required" in text, flag
    for flag in ("--min-remaining", "--token-code", "--refresh"):  # the settings with no other source
        assert "flag only; default: " in " ".join(helps[flag].split()), flag
