"""The command line: parse, run one command, and turn every error into a message and exit code.

This is the only place that writes to stderr or decides an exit status.
"""

from __future__ import annotations

import os
import sys
TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing on the cache-hit path

from ..errors import EXIT_FAILURE, EXIT_INTERRUPTED, MfaProcessError
from . import credential_process

if TYPE_CHECKING:
    from typing import List, Optional, TextIO


def main(argv: Optional[List[str]] = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    verbose = "--verbose" in args or "-v" in args
    try:
        return credential_process.run(args, os.environ, sys.stdout)
    except MfaProcessError as error:
        return _fail(str(error), error.exit_code, verbose, sys.stderr)
    except KeyboardInterrupt:
        return _fail("interrupted; no credentials were issued", EXIT_INTERRUPTED, verbose, sys.stderr)
    except Exception as error:  # a bug, not bad input: say so, details only with --verbose
        return _fail(
            f"unexpected {type(error).__name__}; run with --verbose for details and report it",
            EXIT_FAILURE,
            verbose,
            sys.stderr,
        )


def _fail(message: str, exit_code: int, verbose: bool, stderr: TextIO) -> int:
    if verbose:
        import traceback

        traceback.print_exc(file=stderr)
    stderr.write(f"mfa-process: {message}\n")
    stderr.flush()
    return exit_code
