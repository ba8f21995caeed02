"""Link 5: the session cache folder, judged by the cache's own trust checks (session/cache.py:
owner, mode, links, each file of it too), read exactly as a run reads it. What the cache does not
trust is never served: a folder it distrusts means a prompt on every call."""

from __future__ import annotations

import os
from typing import List, Mapping

from ..session.cache import SessionCache
from ..session.cache_dir import default_cache_dir
from .report import FAIL, WARNING, Finding, fail, from_message, ok, warning

_FOLDER_PROBLEM = "the cache folder "


def check_cache_folder(environ: Mapping[str, str]) -> List[Finding]:
    directory = default_cache_dir(environ)
    subject = "cache folder"
    if not os.path.lexists(directory):
        return [ok(f"{subject} {directory}: not made yet (the first session makes it, private)")]
    if not os.path.isdir(directory):
        return [
            fail(f"{subject} {directory}: not a folder", f"remove it (rm {directory}); mfa-process makes the folder")
        ]
    cache = SessionCache(directory)
    entries = list(cache.entries())  # every file read as a run reads it: what it distrusts is noted
    problems = cache.pop_warnings()
    findings = [
        from_message(FAIL if problem.startswith(_FOLDER_PROBLEM) else WARNING, subject, problem) for problem in problems
    ]
    if not any(finding.status == FAIL for finding in findings):
        sessions = sum(1 for _, session in entries if session is not None)
        findings.insert(0, ok(f"{subject} {directory}: private, {sessions} session{'' if sessions == 1 else 's'}"))
    damaged = [path for path, session in entries if session is None and not any(path in p for p in problems)]
    if damaged:
        findings.append(
            warning(
                f"{subject}: {len(damaged)} file(s) named like sessions cannot be read as one (each is a miss)",
                "mfa-process logout --all removes them with every session",
            )
        )
    return findings
