"""Session credentials as environment variables, for `env` (printed) and `exec` (passed on)."""

from __future__ import annotations

from typing import Dict, Mapping

from .credentials import Credentials

SHELLS = ("sh", "fish", "powershell")

# Removed for the command: with them set, SDKs would read the profile instead of our keys.
PROFILE_VARIABLES = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE")


def credential_variables(credentials: Credentials) -> Dict[str, str]:
    return {
        "AWS_ACCESS_KEY_ID": credentials.access_key_id,
        "AWS_SECRET_ACCESS_KEY": credentials.secret_access_key,
        "AWS_SESSION_TOKEN": credentials.session_token,
        "AWS_CREDENTIAL_EXPIRATION": credentials.expiration,
    }


def command_environment(environ: Mapping[str, str], credentials: Credentials) -> Dict[str, str]:
    """``environ`` with the session's keys in, and anything that would override them out."""
    child = {name: value for name, value in environ.items() if name not in PROFILE_VARIABLES}
    child.update(credential_variables(credentials))
    return child


def render(variables: Mapping[str, str], shell: str) -> str:
    """Lines that set ``variables`` in ``shell``, each value quoted for that shell."""
    if shell == "sh":
        lines = [f"export {name}={_sh_quote(value)}" for name, value in variables.items()]
    elif shell == "fish":
        lines = [f"set -gx {name} {_fish_quote(value)};" for name, value in variables.items()]
    elif shell == "powershell":
        lines = [f"$Env:{name} = {_powershell_quote(value)}" for name, value in variables.items()]
    else:
        raise ValueError(f"unknown shell {shell!r}")
    return "\n".join(lines) + "\n"


def _sh_quote(value: str) -> str:
    return "'" + value.replace("'", "'\"'\"'") + "'"


def _fish_quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _powershell_quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
