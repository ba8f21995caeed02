"""Quoting for PowerShell, which both `env --shell powershell` and the Windows input box speak."""

# PowerShell ends a single-quoted string at any of these, and doubles each to escape it.
_POWERSHELL_QUOTES = ("'", "\u2018", "\u2019", "\u201a", "\u201b")


def powershell_quote(value: str) -> str:
    """``value`` as a single-quoted PowerShell string literal: nothing in it is expanded."""
    for quote in _POWERSHELL_QUOTES:
        value = value.replace(quote, quote * 2)
    return "'" + value + "'"
