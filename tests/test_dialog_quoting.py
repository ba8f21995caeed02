"""The quoting of the dialog scripts that no shell is there to check: PowerShell (the Windows dialog)
and AppleScript (osascript) read back exactly the text they were given."""

from __future__ import annotations

import pytest

from mfa_process.prompt.osascript import applescript_string, osascript_argv
from mfa_process.prompt.windows_dialog import windows_dialog_argv
from mfa_process.system.powershell import powershell_quote as powershell_string


def _powershell_verbatim_value(literal: str) -> str:
    """What PowerShell reads from a '...' string: '' is one quote; a lone ' would end it."""
    assert literal.startswith("'") and literal.endswith("'") and len(literal) >= 2
    inner = literal[1:-1]
    assert "'" not in inner.replace("''", ""), f"a quote escapes the string: {literal}"
    return inner.replace("''", "'")


def _applescript_value(literal: str) -> str:
    """What AppleScript reads from a "..." string: backslash escapes the next character."""
    assert literal.startswith('"') and literal.endswith('"')
    value, chars = [], iter(literal[1:-1])
    for char in chars:
        assert char != '"', f"a quote escapes the string: {literal}"
        value.append(next(chars) if char == "\\" else char)
    return "".join(value)


TRICKY = [
    "it's",
    "''",
    "a'); Remove-Item C:\\ -Recurse; ('",
    'say "hi"',
    "back\\slash\\",
    'end \\" quote',
    "two\n\nlines",
]


def test_windows_dialog_argv_doubles_single_quotes() -> None:
    argv = windows_dialog_argv("Bob's code:")

    assert argv[:4] == ["powershell", "-NoProfile", "-NonInteractive", "-Command"]
    assert argv[4] == (
        "Add-Type -AssemblyName Microsoft.VisualBasic; "
        "[Microsoft.VisualBasic.Interaction]::InputBox('Bob''s code:', 'mfa-process')"
    )


@pytest.mark.parametrize("text", TRICKY)
def test_powershell_string_reads_back_as_the_text(text: str) -> None:
    assert _powershell_verbatim_value(powershell_string(text)) == text


def test_osascript_argv_escapes_quotes_and_backslashes() -> None:
    argv = osascript_argv('Type "the code" \\ now:')

    assert argv == [
        "osascript",
        "-e",
        'display dialog "Type \\"the code\\" \\\\ now:" default answer "" with hidden answer with title "mfa-process"',
        "-e",
        "text returned of result",
    ]


@pytest.mark.parametrize("text", TRICKY)
def test_applescript_string_reads_back_as_the_text(text: str) -> None:
    assert _applescript_value(applescript_string(text)) == text
