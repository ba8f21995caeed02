"""Link 4: each `credential_process` line that runs mfa-process. SDKs split it into words as
botocore does (shlex) and look its program up on the PATH of the program that runs them (a
non-login shell's: this environment's PATH, no login profile read). It must find this mfa-process
(the same file, or a copy of the same version), and name a base profile that exists; and no other
credential setting of its profile may come first (botocore uses keys in the credentials file, a
role or SSO before a credential_process)."""

from __future__ import annotations

import os
import re
import shlex
import shutil
from typing import IO, Callable, Dict, List, Mapping, Optional, Tuple, Union

from .. import __version__
from ..config.aws_files import credential_settings, merge_profile
from ..config.configure import credential_process_line, plugin_command, profile_argument
from ..config.recursion_guard import calls_mfa_process
from .files import Profiles
from .report import Finding, fail, ok, warning

VERSION_TIMEOUT = 5.0
_VERSION_LINE = re.compile(r"mfa-process (\S+)")
_SETTING = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")  # env's NAME=value words
_MAX_OUTPUT_BYTES = 64 * 1024

VersionRunner = Callable[[List[str]], Tuple[Optional[int], str]]


class ThisProgram:
    """This mfa-process: the real path of its console script (None when started as
    ``python -m mfa_process``), its version, and how a credential_process line should start it
    (as `configure` writes it)."""

    __slots__ = ("path", "version", "command")

    def __init__(self, path: Optional[str], command: str, version: str = __version__) -> None:
        self.path = path
        self.command = command
        self.version = version

    @classmethod
    def started_as(cls, argv0: str, executable: str) -> "ThisProgram":
        path = None
        if os.path.basename(argv0).startswith("mfa-process"):  # the console script
            found = argv0 if os.path.dirname(argv0) else shutil.which(argv0)
            path = os.path.realpath(found) if found else None
        return cls(path, plugin_command(argv0, executable))

    def shown(self) -> str:
        return f"{self.version} at {self.path}" if self.path else f"{self.version}, run as {self.command}"


class PluginLine:
    """A profile whose credential_process runs mfa-process: its words (None when its quotes do
    not pair up) and the base profile its --profile names (None: it names none)."""

    __slots__ = ("profile", "words", "target")

    def __init__(self, profile: str, line: str) -> None:
        self.profile = profile
        try:
            self.words: Optional[List[str]] = shlex.split(line)
        except ValueError:
            self.words = None
        self.target = profile_argument(self.words or [])


def plugin_lines(profiles: Profiles) -> List[PluginLine]:
    found = []
    for name, (from_config, from_credentials) in profiles.items():
        line = merge_profile(from_config, from_credentials).get("credential_process", "")
        if line and calls_mfa_process(line):
            found.append(PluginLine(name, line))
    return found


def check_plugin_line(
    line: PluginLine,
    profiles: Profiles,
    this: ThisProgram,
    environ: Mapping[str, str],
    run_version: Optional[VersionRunner] = None,
) -> Finding:
    subject = f"profile {line.profile}: credential_process"
    from_config, from_credentials = profiles[line.profile]
    # what botocore uses before a credential_process: a role, web identity or SSO; keys, but only
    # those of the credentials file
    settings = credential_settings(merge_profile(from_config, from_credentials))
    first = [key for key in settings if key not in ("aws_access_key_id", "credential_process")]
    if from_credentials.get("aws_access_key_id"):
        first.append("aws_access_key_id (in the credentials file)")
    if first:
        return fail(
            f"{subject}: never runs: SDKs use the profile's {first[0]} before it",
            f"remove {first[0].split()[0]} from [{line.profile}]",
        )
    if line.words is None:
        return fail(f"{subject}: its quotes do not pair up, so SDKs cannot split it into words", "fix its quoting")
    wanted = credential_process_line(this.command, line.target or "BASE")
    if line.target is None:
        return fail(
            f"{subject}: runs mfa-process with no --profile", f"name the base profile: credential_process = {wanted}"
        )
    if line.target not in profiles:
        return fail(
            f"{subject}: runs mfa-process for profile '{line.target}', which is in neither AWS file",
            "name a base profile that exists in --profile, or create that one "
            f"(mfa-process configure --profile {shlex.quote(line.target)} --mfa-serial ARN)",
        )
    if line.target == line.profile:
        return fail(
            f"{subject}: runs mfa-process for its own profile", "name the profile that holds the long-term keys"
        )
    program, module_words = _program(line.words)
    found = resolve_program(program, environ)
    if found is None:
        where = "does not exist or cannot be run" if os.path.dirname(program) else "is not on PATH"
        return fail(
            f"{subject}: runs {program}, which {where} (PATH: {environ.get('PATH', os.defpath)})",
            f"name this one by its path: credential_process = {wanted}",
        )
    return _same_program(subject, found, module_words, line.target, this, wanted, run_version or run_for_version)


def resolve_program(program: str, environ: Mapping[str, str]) -> Optional[str]:
    """Where ``program`` is: itself when it names a path, else its place on this PATH."""
    if os.path.dirname(program):
        return program if os.path.isfile(program) and os.access(program, os.X_OK) else None
    return shutil.which(program, path=environ.get("PATH", os.defpath))


def run_for_version(argv: List[str]) -> Tuple[Optional[int], str]:
    """``argv`` run with no stdin, for at most VERSION_TIMEOUT: its exit status (None: timed out)
    and the first line it printed. Its process group is killed once it has answered too: a
    program that is not mfa-process may leave a child running, and doctor must leave nothing."""
    import subprocess
    import tempfile

    from ..system import kill_process_tree, process_group_options

    with tempfile.TemporaryFile() as stdout_file, tempfile.TemporaryFile() as stderr_file:
        process = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=stdout_file, stderr=stderr_file, **process_group_options()
        )
        try:
            status: Optional[int] = process.wait(timeout=VERSION_TIMEOUT)
        except subprocess.TimeoutExpired:
            status = None
        finally:
            kill_process_tree(process)  # the group outlives its leader: its children are killed too
            process.wait()
        printed = (_first_bytes(stdout_file).strip() or _first_bytes(stderr_file).strip()).splitlines()
    return status, (printed[0][:80] if printed else "")


def probe_once(run_version: VersionRunner) -> VersionRunner:
    """``run_version`` asked once per program (path and -m words) in a run: lines naming one
    program that hangs cost one timeout, not one each. OSError is remembered too."""
    answers: Dict[Tuple[str, ...], Union[Tuple[Optional[int], str], OSError]] = {}

    def run(argv: List[str]) -> Tuple[Optional[int], str]:
        key = tuple(argv)
        if key not in answers:
            try:
                answers[key] = run_version(argv)
            except OSError as error:
                answers[key] = error
        answer = answers[key]
        if isinstance(answer, OSError):
            raise answer
        return answer

    return run


def _first_bytes(output_file: IO[bytes]) -> str:
    output_file.seek(0)
    return output_file.read(_MAX_OUTPUT_BYTES).decode("utf-8", "replace")


def _program(words: List[str]) -> Tuple[str, List[str]]:
    """The program a line runs, and the words that make it mfa-process (`-m mfa_process`). A line
    run through `env NAME=value ...` is judged by the program env runs, as SDKs run it."""
    if words and os.path.basename(words[0]) == "env":
        rest = words[1:]
        while rest and _SETTING.match(rest[0]):
            rest = rest[1:]
        if rest:
            words = rest
    if words[1:3] == ["-m", "mfa_process"]:
        return words[0], words[1:3]
    return words[0], []


def _same_program(
    subject: str,
    found: str,
    module_words: List[str],
    target: str,
    this: ThisProgram,
    wanted: str,
    run_version: VersionRunner,
) -> Finding:
    shown = " ".join([found, *module_words])
    if not module_words and this.path is not None and os.path.realpath(found) == this.path:
        return ok(f"{subject}: runs this mfa-process ({found}) for profile '{target}'")
    try:
        status, printed = run_version([found, *module_words, "--version"])
    except OSError as error:
        return fail(f"{subject}: {shown} cannot be run ({error.strerror})", f"credential_process = {wanted}")
    version = _VERSION_LINE.fullmatch(printed.strip())
    if status != 0 or version is None:
        said = "did not answer within {:g} s".format(VERSION_TIMEOUT) if status is None else f"printed '{printed}'"
        return fail(
            f"{subject}: runs {shown}, which is not mfa-process (asked for --version, it {said})",
            f"credential_process = {wanted}",
        )
    if version.group(1) != this.version:
        return fail(
            f"{subject}: runs mfa-process {version.group(1)} ({shown}), not this one ({this.shown()})",
            f"credential_process = {wanted}",
        )
    if this.path is None:
        return ok(f"{subject}: runs mfa-process {this.version} ({shown}) for profile '{target}'")
    return warning(
        f"{subject}: runs another copy of mfa-process {this.version} ({shown}); this one is {this.path}",
        f"to have it follow this one's upgrades: credential_process = {wanted}",
    )
