"""normalize_token_code, require_token_code: what an MFA code must look like before it is sent."""

from __future__ import annotations

import pytest

from mfa_process.errors import EXIT_USAGE, InvalidTokenCodeError
from mfa_process.prompt.codes import normalize_token_code, require_token_code


@pytest.mark.parametrize("text", ["123456", " 123456", "123456 ", "\t123456\n", "000000"])
def test_normalize_token_code_accepts_six_digits_and_strips_surrounding_spaces(text):
    assert normalize_token_code(text) == text.strip()


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("12345", id="5-digits"),
        pytest.param("1234567", id="7-digits"),
        pytest.param("12345a", id="letter"),
        pytest.param("abcdef", id="letters"),
        pytest.param("", id="empty"),
        pytest.param("      ", id="spaces-only"),
        pytest.param("١٢٣٤٥٦", id="arabic-indic-digits"),
        pytest.param("１２３４５６", id="fullwidth-digits"),
        pytest.param("123-456", id="dash"),
        pytest.param("+12345", id="sign"),
    ],
)
def test_normalize_token_code_rejects_anything_but_six_ascii_digits(text):
    assert normalize_token_code(text) is None


def test_require_token_code_returns_the_normalized_code():
    assert require_token_code(" 654321\n") == "654321"


@pytest.mark.parametrize("text", ["12345", "١٢٣٤٥٦", "abcdef"])
def test_require_token_code_rejects_a_malformed_code_with_usage_error(text):
    with pytest.raises(InvalidTokenCodeError) as caught:
        require_token_code(text)

    assert "--token-code" in str(caught.value)
    assert "6 digits" in str(caught.value)
    assert caught.value.exit_code == EXIT_USAGE
