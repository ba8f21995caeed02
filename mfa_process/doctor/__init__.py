"""`mfa-process doctor`: every link from the AWS config files to STS checked in turn, each
finding with the fix for what is broken. One module per group of checks, ``report`` for what
they find and ``diagnose`` for the order they run in; the CLI only formats the report.

Nothing secret is ever put in a finding: keys are named by a masked key ID, files by their
path and line numbers, commands by their program.
"""
