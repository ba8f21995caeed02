"""`mfa-process doctor`: walk every link from the AWS files to STS and name the fix for what is
broken. The checks are the library's (doctor/); this only prints their report: one line per
finding, a fix under each one that is not ok, and a last line that sums up and names the first
fix. Exit status 1 when something is broken (warnings alone: 0). Nothing secret is printed."""

from __future__ import annotations

from typing import List, Mapping, TextIO

from ..doctor.diagnose import diagnose
from ..doctor.report import FAIL, OK, WARNING, Report
from ..errors import EXIT_FAILURE
from ..redact import printable, redact
from .common import ArgumentParser, add_verbose_option, new_parser

EXAMPLES = """\
examples:
  mfa-process doctor                   every base profile and every credential_process line
  mfa-process doctor --profile base    one base profile and the lines that run mfa-process for it
  mfa-process doctor --offline         without the clock check (no request to STS)
"""

DESCRIPTION = """\
Check the setup link by link: the AWS config and credentials files, the base profile's keys
(files or keyring) and mfa_serial, each credential_process line that runs mfa-process, the
cache folder, this machine's clock against STS's, and the code sources available here."""

_INDENT = " " * 9  # under the text of a line, past its status


def build_parser() -> ArgumentParser:
    """The options, read by `run` and by the shell completion scripts."""
    parser = new_parser("mfa-process doctor", DESCRIPTION, EXAMPLES)
    parser.add_argument("--profile", metavar="NAME", help="check this base profile (default: every one found)")
    parser.add_argument(
        "--offline", action="store_true", help="skip the clock check, the only one that sends a request (to STS)"
    )
    add_verbose_option(parser)
    return parser


def run(argv: List[str], environ: Mapping[str, str], stdout: TextIO, stderr: TextIO) -> int:
    args = build_parser().parse(argv, stdout, stderr)
    report = diagnose(environ, profile=args.profile, offline=args.offline)
    stdout.write(format_report(report))
    return EXIT_FAILURE if report.broken else 0


def format_report(report: Report) -> str:
    """The report as printed: every value passed through redact and printable, as every message
    is (paths and names come from files and the environment)."""
    lines = []
    for finding in report.findings:
        lines.append(f"{finding.status:<8} {finding.what}")
        if finding.fix and finding.status != OK:
            lines.append(f"{_INDENT}fix: {finding.fix}")
    lines.append(summary(report))
    return "".join(printable(redact(line)) + "\n" for line in lines)


def summary(report: Report) -> str:
    problems, warnings = report.count(FAIL), report.count(WARNING)
    counted = [_count(problems, "problem"), _count(warnings, "warning")]
    skipped = f"; not checked: {', '.join(report.skipped)}" if report.skipped else ""
    first = report.first_failure
    checked = f"{len(report.findings)} checks: {', '.join(counted)}{skipped}"
    return checked if first is None else f"{checked}; first fix: {first.fix or first.what}"


def _count(number: int, thing: str) -> str:
    return f"{number or 'no'} {thing}{'' if number == 1 else 's'}"
