"""mfa_process.system.posix.run_command: what the OS refuses to run is a typed error, never a ValueError.

Only arguments that make os.execvpe fail before replacing the process are used here: a success
would replace pytest itself (successful runs are end to end, in test_commands_e2e.py)."""

from __future__ import annotations

import sys

import pytest

from mfa_process.errors import CommandNotFoundError, CommandNotRunnableError

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX exec")


@pytest.mark.parametrize("argv", [[""], ["", "arg"], ["sh", "-c", "echo a\0b"], ["s\0h"]], ids=repr)
def test_an_empty_name_or_a_nul_is_a_command_not_runnable_error(argv) -> None:
    from mfa_process.system.posix import run_command

    with pytest.raises(CommandNotRunnableError) as raised:
        run_command(argv, {"PATH": "/usr/bin:/bin"})

    assert raised.value.exit_code == 126
    assert "\0" not in str(raised.value)


def test_a_missing_command_is_command_not_found(tmp_path) -> None:
    from mfa_process.system.posix import run_command

    with pytest.raises(CommandNotFoundError, match="command not found: no-such-command"):
        run_command(["no-such-command"], {"PATH": str(tmp_path)})
