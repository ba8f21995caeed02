"""`python -m mfa_process`, the same as the `mfa-process` command."""

import sys

from .cli import main

sys.exit(main())
