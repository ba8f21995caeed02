"""The order the links are walked in, as a run meets them: the files, each base profile (keys,
mfa_serial, settings), the credential_process lines, the cache folder, the clock, the code
sources. A check that needs an earlier link that is broken is left out rather than failed again;
an unexpected error in one check is its finding, not the end of the report."""

from __future__ import annotations

import shlex
import sys
from typing import Any, Callable, List, Mapping, Optional, Tuple, TypeVar

from ..errors import MfaProcessError
from .cache_folder import check_cache_folder
from .clock import Target, check_clock
from .code_sources import Here, check_code_source, check_here
from .files import SETUP_FIX, Profiles, check_files
from .plugin_lines import (
    PluginLine,
    ThisProgram,
    VersionRunner,
    check_plugin_line,
    plugin_lines,
    probe_once,
    run_for_version,
)
from .profiles import BaseProfile, base_profile_names, check_base_profile
from .report import FAIL, Finding, Report, fail, from_message, ok, warning

T = TypeVar("T")
DEFAULT_REGION = "us-east-1"  # a hardware serial's, and botocore's when nothing names one


def diagnose(
    environ: Mapping[str, str],
    profile: Optional[str] = None,
    offline: bool = False,
    this: Optional[ThisProgram] = None,
    has_terminal: Optional[Callable[[], bool]] = None,
    run_version: Optional[VersionRunner] = None,
) -> Report:
    """Every check, for base profile ``profile`` (None: every base profile found). ``this``: the
    running mfa-process (default: as sys.argv[0] started it); ``has_terminal`` and
    ``run_version``: what tests put in place of this process's terminal and of running a program."""
    this = this or ThisProgram.started_as(sys.argv[0], sys.executable)
    report = Report()
    findings, files = check_files(environ)
    report.add(findings)
    bases: List[BaseProfile] = []
    if files.profiles is not None:
        profiles = files.profiles
        lines = plugin_lines(profiles)
        profile, pointed = _base_of(profile, lines, profiles)
        report.add(pointed)
        if profile is not None:
            lines = [line for line in lines if line.target == profile]
        names = base_profile_names(profiles, profile, [line.target for line in lines if line.target])
        if not names:
            report.add([fail("base profile: no profile has an mfa_serial", SETUP_FIX.replace("create it", "add one"))])
        for name in names:
            found, base = _guarded(f"profile {name}", check_base_profile, name, files, environ)
            report.add(found)
            if base is not None:
                bases.append(base)
        report.add(_plugin_findings(lines, profile, profiles, this, environ, run_version))
    report.add(_guarded("cache folder", _no_value(check_cache_folder), environ)[0])
    if offline:
        report.skipped.append("clock (--offline)")
    elif files.profiles is not None:  # botocore cannot read broken files either
        targets: List[Target] = [
            (base.name, base.device.default_region if base.device else DEFAULT_REGION) for base in bases
        ]
        report.add(_guarded("clock", _no_value(check_clock), targets or [(None, DEFAULT_REGION)])[0])
    here = Here(environ, has_terminal) if has_terminal is not None else Here(environ)
    report.add([check_here(here)])
    for base in bases:
        report.add(_guarded(f"profile {base.name}: code source", _code_source, base, here)[0])
    return report


def _base_of(
    profile: Optional[str], lines: List[PluginLine], profiles: Profiles
) -> Tuple[Optional[str], List[Finding]]:
    """--profile naming the profile SDKs use (its credential_process runs mfa-process for a base
    profile) means that base profile: it is the one with keys and mfa_serial to check."""
    line = next((line for line in lines if line.profile == profile), None)
    if line is None or line.target is None or line.target == profile or line.target not in profiles:
        return profile, []
    said = f"--profile {profile}: its credential_process runs mfa-process for profile '{line.target}': checking that"
    return line.target, [ok(said)]


def _code_source(base: BaseProfile, here: Here) -> Tuple[List[Finding], None]:
    finding = check_code_source(base, here)
    return ([finding] if finding is not None else []), None


def _plugin_findings(
    lines: List[PluginLine],
    profile: Optional[str],
    profiles: Profiles,
    this: ThisProgram,
    environ: Mapping[str, str],
    run_version: Optional[VersionRunner],
) -> List[Finding]:
    if not lines:
        which = f" for profile {profile}" if profile is not None else ""
        return [
            warning(
                f"credential_process: no profile runs mfa-process{which}, so SDKs never call it",
                f"add one with `mfa-process configure --profile {shlex.quote(profile or 'BASE')}`",
            )
        ]
    found: List[Finding] = []
    run_version = probe_once(run_version or run_for_version)
    for line in lines:
        subject = f"profile {line.profile}: credential_process"
        found.extend(_guarded(subject, _one(check_plugin_line), line, profiles, this, environ, run_version)[0])
    return found


def _no_value(check: Callable[..., List[Finding]]) -> Callable[..., Tuple[List[Finding], None]]:
    return lambda *args: (check(*args), None)


def _one(check: Callable[..., Finding]) -> Callable[..., Tuple[List[Finding], None]]:
    return lambda *args: ([check(*args)], None)


def _guarded(
    subject: str, check: Callable[..., Tuple[List[Finding], Optional[T]]], *args: Any
) -> Tuple[List[Finding], Optional[T]]:
    """``check(*args)``, or its failure as a finding: an error in one check must not hide the others."""
    try:
        return check(*args)
    except MfaProcessError as error:
        return [from_message(FAIL, subject, str(error))], None
    except Exception as error:
        return [fail(f"{subject}: could not be checked (unexpected {type(error).__name__})", "report it")], None
