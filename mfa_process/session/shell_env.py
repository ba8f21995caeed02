"""Session credentials as environment variables, for `env` (printed) and `exec` (passed on)."""

from __future__ import annotations

import re
from typing import Dict, Iterable, List, Mapping, Optional

from ..errors import UnprintableValueError
from ..system.powershell import powershell_quote
from .credentials import Credentials

SHELLS = ("sh", "fish", "powershell")

# Removed from the command's environment (`exec`) and unset in the shell (`env`): each one would
# make some SDK read something else than the injected keys, or read it together with them.
# AWS_CREDENTIAL_EXPIRATION needs no entry: it is always set, to the session's.
CLEARED_VARIABLES = (
    # botocore's EnvProvider reads it before AWS_SESSION_TOKEN (TOKENS = [SECURITY, SESSION]):
    # a stale one goes out with our keys and STS answers InvalidClientTokenId.
    "AWS_SECURITY_TOKEN",
    # JS SDK v3 defaultProvider skips fromEnv whenever it is set; botocore fails when that profile
    # does not exist; everywhere it mixes in the profile's settings (region, endpoints, role_arn).
    "AWS_PROFILE",
    # botocore and Go SDK v2 (terraform) read it as the profile name too.
    "AWS_DEFAULT_PROFILE",
    # Read beside the keys by botocore, the JS SDK's fromEnv and Java v2: account-based endpoints
    # would be another account's.
    "AWS_ACCOUNT_ID",
    # The JS SDK's fromEnv attaches it to the keys as their credential scope (signing region).
    "AWS_CREDENTIAL_SCOPE",
    # Java SDK v1 reads AWS_SECRET_KEY before AWS_SECRET_ACCESS_KEY: a stale one pairs another
    # secret with our key id (SignatureDoesNotMatch).
    "AWS_SECRET_KEY",
    # Its partner (Java v1, Go SDKs: AWS_ACCESS_KEY_ID's fallback): a tool that knows only these
    # names would run with other, long-term keys.
    "AWS_ACCESS_KEY",
    # The .NET SDK's FallbackCredentialsFactory tries AssumeRoleWithWebIdentity from these three
    # before the environment keys: it would assume that role instead.
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
)
# Kept on purpose: AWS_CONTAINER_CREDENTIALS_* / AWS_CONTAINER_AUTHORIZATION_TOKEN* (every SDK's
# chain tries the environment keys first, FACTS.md), AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE,
# AWS_ENDPOINT_URL* and AWS_CA_BUNDLE (where and how to call, not whose keys; profiles named
# explicitly by the command still need them).

# Every value stays on one line and shows as itself: printable ASCII only, no control characters.
_PRINTABLE_ASCII = re.compile(r"[ -~]*")
_VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# str.splitlines() breaks at these; PowerShell's line reader at some of them.
_LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


def credential_variables(
    credentials: Credentials, region: Optional[str] = None, profile: str = "NAME"
) -> Dict[str, str]:
    """The session as SDK variables; with the base profile's region, as aws-vault does, since
    without AWS_PROFILE the SDKs no longer read the profile's region.

    Raises UnprintableValueError for a value that is not printable ASCII: `env` output is
    evaluated by a shell, PowerShell runs it line by line, and keys never hold anything else."""
    variables = {
        "AWS_ACCESS_KEY_ID": credentials.access_key_id,
        "AWS_SECRET_ACCESS_KEY": credentials.secret_access_key,
        "AWS_SESSION_TOKEN": credentials.session_token,
        "AWS_CREDENTIAL_EXPIRATION": credentials.expiration,
    }
    if region:
        variables.update(AWS_REGION=region, AWS_DEFAULT_REGION=region)
    _check_printable(variables, profile)
    return variables


def _check_printable(variables: Mapping[str, str], profile: str) -> None:
    for name, value in variables.items():
        if not _PRINTABLE_ASCII.fullmatch(value):
            fix = (
                f"fix region in profile {profile}"
                if name.endswith("REGION")
                else f"the cached session is damaged: run mfa-process logout --profile {profile}, then log in again"
            )
            raise UnprintableValueError(
                f"refusing to pass on {name}: it holds a line break, control or non-ASCII character; {fix}"
            )


def stale_variables(environ: Mapping[str, str]) -> List[str]:
    """The CLEARED_VARIABLES that ``environ`` holds (for `env`, the shell's exported ones)."""
    return [name for name in CLEARED_VARIABLES if name in environ]


def command_environment(
    environ: Mapping[str, str], credentials: Credentials, region: Optional[str] = None, profile: str = "NAME"
) -> Dict[str, str]:
    """``environ`` with the session's keys in, and anything that would override them out.
    A region already in the environment is kept."""
    child = {name: value for name, value in environ.items() if name not in CLEARED_VARIABLES}
    has_region = bool(environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION"))
    child.update(credential_variables(credentials, None if has_region else region, profile))
    return child


# What would outrank a container-credentials endpoint, besides CLEARED_VARIABLES: keys in the
# environment come first in every SDK's chain, and botocore reads the relative URI (ECS's own)
# and a token file before the full URI and the token it is given.
OUTRANKING_CONTAINER_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
)


def container_variables(url: str, token: str, region: Optional[str] = None, profile: str = "NAME") -> Dict[str, str]:
    """The variables that point every SDK at a container-credentials endpoint (and the region)."""
    variables = {"AWS_CONTAINER_CREDENTIALS_FULL_URI": url, "AWS_CONTAINER_AUTHORIZATION_TOKEN": token}
    if region:
        variables.update(AWS_REGION=region, AWS_DEFAULT_REGION=region)
    _check_printable(variables, profile)
    return variables


def container_stale_variables() -> List[str]:
    """Every variable to unset in a shell before it uses the endpoint (`serve` prints them all:
    the shell it is pasted into is not the one it runs in)."""
    return [*OUTRANKING_CONTAINER_VARIABLES, *CLEARED_VARIABLES]


def container_environment(
    environ: Mapping[str, str], url: str, token: str, region: Optional[str] = None, profile: str = "NAME"
) -> Dict[str, str]:
    """``environ`` pointed at the endpoint, with everything that would outrank it out. A region
    already in the environment is kept."""
    removed = set(container_stale_variables())
    child = {name: value for name, value in environ.items() if name not in removed}
    has_region = bool(environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION"))
    child.update(container_variables(url, token, None if has_region else region, profile))
    return child


def render(variables: Mapping[str, str], shell: str, unset: Iterable[str] = ()) -> str:
    """Lines that remove ``unset``, then set ``variables``, in ``shell``; each value quoted for
    that shell. One statement per line: PowerShell's `| Invoke-Expression` runs each line alone,
    so there a value that spans lines is refused; a NUL is refused everywhere (shells drop it)."""
    if shell not in SHELLS:
        raise ValueError(f"unknown shell {shell!r}")
    names = list(unset)
    for name in [*names, *variables]:
        if not _VARIABLE_NAME.fullmatch(name):
            raise ValueError(f"not a variable name: {name!r}")
    for name, value in variables.items():
        if "\0" in value or (shell == "powershell" and any(char in _LINE_BREAKS for char in value)):
            raise UnprintableValueError(f"refusing to print {name} for {shell}: its value holds a NUL or line break")
    if shell == "sh":
        lines = [f"unset {name}" for name in names]
        lines += [f"export {name}={_sh_quote(value)}" for name, value in variables.items()]
    elif shell == "fish":
        lines = [f"set -e {name};" for name in names]
        lines += [f"set -gx {name} {_fish_quote(value)};" for name, value in variables.items()]
    else:
        lines = [f"Remove-Item Env:{name} -ErrorAction SilentlyContinue" for name in names]
        lines += [f"$Env:{name} = {powershell_quote(value)}" for name, value in variables.items()]
    return "\n".join(lines) + "\n"


def _sh_quote(value: str) -> str:
    return "'" + value.replace("'", "'\"'\"'") + "'"


def _fish_quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
