"""What the mfa_process command's messages may say about it: the program, never its arguments."""

from __future__ import annotations

import pytest

from mfa_process.prompt.command import program_name, scrub

SEED = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


@pytest.mark.parametrize(
    "command, program",
    [
        ("oathtool --totp -b SEED", "oathtool"),
        ("/usr/local/bin/ykman oath accounts code -s aws", "ykman"),
        (f"SEED={SEED} oathtool --totp -b $SEED", "oathtool"),
        ("op item get 'AWS alice' --otp", "op"),
        ("oathtool 'unbalanced", "oathtool"),
        ("", "?"),
    ],
)
def test_program_name_is_the_program_without_arguments_or_assignments(command: str, program: str) -> None:
    assert program_name(command) == program
    assert SEED not in program_name(command)


@pytest.mark.parametrize(
    "command",
    [
        f"oathtool --totp -b {SEED}",
        f"oathtool --totp --base32={SEED}",
        f"SEED={SEED} oathtool --totp -b $SEED",
        f"oathtool --totp -b '{SEED}'",
    ],
)
def test_scrub_removes_every_long_argument_and_assignment_value(command: str) -> None:
    said = scrub(f"oathtool: cannot decode {SEED}: invalid base32", command)

    assert SEED not in said
    assert said.startswith("oathtool: cannot decode ...")


def test_scrub_keeps_short_words_that_are_options_and_prose() -> None:
    assert scrub("op: item not found", "op item get aws --otp") == "op: item not found"
