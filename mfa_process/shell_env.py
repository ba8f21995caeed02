"""Session credentials as environment variables, for `env` (printed) and `exec` (passed on)."""

from __future__ import annotations

from typing import Dict, Mapping, Optional

from .credentials import Credentials

SHELLS = ("sh", "fish", "powershell")

# Removed for the command: with them set, SDKs would read the profile instead of our keys.
PROFILE_VARIABLES = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE")


def credential_variables(credentials: Credentials, region: Optional[str] = None) -> Dict[str, str]:
    """The session as SDK variables; with the base profile's region, as aws-vault does, since
    without AWS_PROFILE the SDKs no longer read the profile's region."""
    variables = {
        "AWS_ACCESS_KEY_ID": credentials.access_key_id,
        "AWS_SECRET_ACCESS_KEY": credentials.secret_access_key,
        "AWS_SESSION_TOKEN": credentials.session_token,
        "AWS_CREDENTIAL_EXPIRATION": credentials.expiration,
    }
    if region:
        variables.update(AWS_REGION=region, AWS_DEFAULT_REGION=region)
    return variables


def command_environment(
    environ: Mapping[str, str], credentials: Credentials, region: Optional[str] = None
) -> Dict[str, str]:
    """``environ`` with the session's keys in, and anything that would override them out.
    A region already in the environment is kept."""
    child = {name: value for name, value in environ.items() if name not in PROFILE_VARIABLES}
    has_region = bool(environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION"))
    child.update(credential_variables(credentials, None if has_region else region))
    return child


def render(variables: Mapping[str, str], shell: str) -> str:
    """Lines that set ``variables`` in ``shell``, each value quoted for that shell."""
    if shell == "sh":
        lines = [f"export {name}={_sh_quote(value)}" for name, value in variables.items()]
    elif shell == "fish":
        lines = [f"set -gx {name} {_fish_quote(value)};" for name, value in variables.items()]
    elif shell == "powershell":
        lines = [f"$Env:{name} = {powershell_quote(value)}" for name, value in variables.items()]
    else:
        raise ValueError(f"unknown shell {shell!r}")
    return "\n".join(lines) + "\n"


def _sh_quote(value: str) -> str:
    return "'" + value.replace("'", "'\"'\"'") + "'"


def _fish_quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


# PowerShell ends a single-quoted string at any of these, and doubles each to escape it.
_POWERSHELL_QUOTES = ("'", "\u2018", "\u2019", "\u201a", "\u201b")


def powershell_quote(value: str) -> str:
    for quote in _POWERSHELL_QUOTES:
        value = value.replace(quote, quote * 2)
    return "'" + value + "'"
