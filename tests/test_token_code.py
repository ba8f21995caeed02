"""TokenCode: --token-code as a code source, good for one code."""

from __future__ import annotations

import pytest

from mfa_process.errors import MfaCodeRejectedError
from mfa_process.prompt.token_code import TokenCode

SERIAL = "arn:aws:iam::123456789012:mfa/alice"


def test_gives_the_code_when_first_asked() -> None:
    assert TokenCode("123456")(SERIAL, None) == "123456"


def test_asked_again_says_to_pass_the_next_code() -> None:
    source = TokenCode("123456")
    source(SERIAL, None)

    with pytest.raises(MfaCodeRejectedError) as raised:
        source(SERIAL, "AWS rejected that code (wrong, or already used). Wait for the next code, then enter it.")

    assert str(raised.value) == (
        "AWS rejected the MFA code: it is wrong, or was already used; pass the next code your device shows"
    )
    assert raised.value.exit_code == 1


def test_stays_spent() -> None:
    source = TokenCode("123456")
    source(SERIAL, None)
    for _ in range(2):
        with pytest.raises(MfaCodeRejectedError):
            source(SERIAL, None)
