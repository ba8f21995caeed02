"""`configure`: the edits that make a profile use mfa-process, and writing them safely.

`configure` takes names and values from a command line and from files other programs wrote,
so nothing it writes may change the file's structure: names and values are checked first, and
every plan is read back as botocore reads it before anything is written.
"""

from __future__ import annotations

import configparser
import os
import re
import shlex
import shutil
import stat
from typing import TYPE_CHECKING, Dict, List, Mapping, Optional, Set, Tuple

from ..errors import ConfigError, ConfigFileError, ConfigWriteError, InvalidMfaSerialError, ProfileNotFoundError
from ..system.atomic_write import replace_atomically, set_mode
from .aws_files import (
    config_file_path,
    credentials_file_path,
    describe_parse_error,
    merge_profile,
    read_profile,
    static_access_key_id,
)
from .ini_edit import (
    RawConfig,
    config_section_name,
    get_option,
    has_section,
    profiles_of,
    quote_word,
    read_config,
    set_option,
)
from .mfa_device import parse_mfa_serial
from .settings import KEY_STORE_OPTION, KEYRING_STORE

if TYPE_CHECKING:
    from .aws_files import Profile

BACKUP_SUFFIX = ".mfa-process-backup"
MAX_LISTED = 20  # profile names listed when the base profile is in neither file
MAX_BACKUPS = 1000
_MAX_LINKS = 40  # as the kernel's ELOOP limit

# Line ends for configparser, str.splitlines() or a terminal (\n \r \v \f \x1c-\x1e \x85
# \u2028 \u2029), NUL and every other control character but tab, and lone surrogates (argv
# bytes that are not UTF-8): none of them belongs in a profile name or a value.
_UNSAFE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def shown(text: str) -> str:
    """``text`` quoted for a one-line message: escaped when it holds anything unprintable."""
    return f"'{text}'" if text.isprintable() else repr(text)


def check_profile_name(option: str, name: str) -> None:
    """Refuse a name that could end, open or blur a section header or the command line."""
    if not name:
        reason = "it is empty"
    elif _UNSAFE.search(name):
        reason = "it holds a line break or another control character"
    elif name != name.strip():
        reason = "it starts or ends with white space"
    elif "[" in name or "]" in name:
        reason = "[ and ] delimit section headers"
    elif name == "__proto__":
        reason = "the JS SDK refuses a whole config file that has a profile of that name"
    else:
        return
    raise ConfigError(f"{option} {shown(name)} cannot be a profile name: {reason}; use letters, digits and -_.@+=")


def check_value(what: str, value: str, fix: str) -> None:
    """Refuse a value that would not stay one `key = value` line that reads back as itself."""
    if not value or _UNSAFE.search(value) or value != value.strip():
        raise ConfigError(
            f"{what} {shown(value)} cannot be written as one line of the AWS config "
            f"(empty, a line break or control character, or white space at an end); {fix}"
        )


def credential_process_line(command: str, base_profile: str) -> str:
    """The credential_process value: a name starting with - is glued to its option
    (--profile=-name), or argparse would read it as an option of its own."""
    if base_profile.startswith("-"):
        return f"{command} --profile={quote_word(base_profile)}"
    return f"{command} --profile {quote_word(base_profile)}"


def plan(
    text: str,
    base_profile: str,
    plugin_profile: str,
    mfa_serial: Optional[str],
    plugin_command: str,
    region: Optional[str],
    force: bool,
) -> Tuple[str, List[str]]:
    """The config file's new text and a line per change (none: already configured).

    Raises ConfigError, and so changes nothing, for names or values that could alter the
    file's structure, for an edit that would not read back as exactly the intended one, and
    for a credential_process (another tool's, or mfa-process for another profile) that only
    --force may replace.
    """
    check_profile_name("--profile", base_profile)
    check_profile_name("--as", plugin_profile)
    if plugin_profile == base_profile:
        raise ConfigError(f"--as must name a new profile, not the base profile {shown(base_profile)}")
    before = _parse(text)
    edits: Dict[str, Dict[str, str]] = {}
    changes: List[str] = []
    base_section = config_section_name(base_profile)
    if mfa_serial is not None and get_option(text, base_section, "mfa_serial") != mfa_serial:
        check_value("mfa_serial", mfa_serial, "pass the device ARN as IAM shows it")
        text = set_option(text, base_section, "mfa_serial", mfa_serial)
        edits[base_profile] = {"mfa_serial": mfa_serial}
        changes.append(f"set mfa_serial = {mfa_serial} in [{base_section}]")

    plugin_section = config_section_name(plugin_profile)
    wanted = credential_process_line(plugin_command, base_profile)
    check_value("the command", wanted, "install mfa-process in a folder whose path has no line break")
    current = get_option(text, plugin_section, "credential_process")
    if current is not None and not _same_call(current, wanted) and not force:
        _check_may_replace(current, plugin_section, base_profile)
    if current is None or not _same_call(current, wanted):
        is_new_section = not has_section(text, plugin_section)
        text = set_option(text, plugin_section, "credential_process", wanted)
        edits[plugin_profile] = {"credential_process": wanted}
        changes.append(f"set credential_process = {wanted} in [{plugin_section}]")
        if is_new_section and region:
            check_value(
                f"the region of profile {shown(base_profile)}", region, "write it on one line, as region = eu-west-1"
            )
            text = set_option(text, plugin_section, "region", region)
            edits[plugin_profile]["region"] = region
            changes.append(f"set region = {region} in [{plugin_section}]")
    if edits:
        _verify(before, text, edits)
    return text, changes


def _parse(text: str) -> Tuple[RawConfig, Dict[str, str]]:
    try:
        return read_config(text)
    except configparser.Error as error:
        raise ConfigFileError(
            f"cannot parse the AWS config file: {describe_parse_error(error)}; fix it, then run configure again"
        ) from None


def _verify(before: Tuple[RawConfig, Dict[str, str]], text: str, edits: Dict[str, Dict[str, str]]) -> None:
    """``text`` read as botocore reads it is ``before`` with exactly ``edits``: the edited
    profiles gained or changed those keys and nothing else, no other section changed."""
    raw_before, defaults = before
    try:
        raw_after, defaults_after = read_config(text)
    except configparser.Error:
        raw_after, defaults_after = {}, {"": "unreadable"}
    expected = {name: keys for name, (_, keys) in profiles_of(raw_before).items()}
    for name, keys in edits.items():
        expected[name] = {**expected.get(name, defaults), **keys}
    profiles_after = profiles_of(raw_after)
    edited = {profiles_after[name][0] for name in edits if name in profiles_after}
    if (
        {name: keys for name, (_, keys) in profiles_after.items()} != expected
        or defaults_after != defaults
        or any(raw_after.get(header) != keys and header not in edited for header, keys in raw_before.items())
        or not set(raw_after) - set(raw_before) <= edited
    ):
        raise ConfigError(
            "the edited AWS config would not read back as intended, so nothing was changed; "
            "edit it by hand and please report this"
        )


def _check_may_replace(current: str, section: str, base_profile: str) -> None:
    """Without --force, only mfa-process's own line for the same base profile is updated."""
    if _is_mfa_process(current):
        theirs = profile_argument(_split(current))
        if theirs == base_profile:
            return
        if theirs is not None:
            raise ConfigError(
                f"[{section}] already runs mfa-process for profile {shown(theirs)}; pass --force to point it "
                f"at {shown(base_profile)} instead, or choose another name with --as"
            )
    raise ConfigError(
        f"[{section}] already has credential_process = {shown(current)[1:-1]}; "
        "pass --force to replace it, or choose another name with --as"
    )


def profile_argument(words: List[str]) -> Optional[str]:
    """The --profile an mfa-process command line names (the last one, as argparse takes it)."""
    found = None
    for index, word in enumerate(words):
        if word == "--profile" and index + 1 < len(words):
            found = words[index + 1]
        elif word.startswith("--profile="):
            found = word[len("--profile=") :]
    return found


def _is_mfa_process(command: str) -> bool:
    """An mfa-process line of our own making (another path, or `python -m`): ours to update."""
    words = _split(command)
    return bool(words) and (os.path.basename(words[0]) == "mfa-process" or words[1:3] == ["-m", "mfa_process"])


def _same_call(current: str, wanted: str) -> bool:
    """The same arguments, and a program that is the same file once PATH is applied."""
    have, want = _split(current), _split(wanted)
    if not have or not want or have[1:] != want[1:]:
        return False
    if have[0] == want[0]:
        return True
    have_path, want_path = shutil.which(have[0]), shutil.which(want[0])
    return (
        have_path is not None and want_path is not None and os.path.realpath(have_path) == os.path.realpath(want_path)
    )


def _split(command: str) -> List[str]:
    try:
        return shlex.split(command)
    except ValueError:
        return []


class Configured:
    """What `configure_profile` did: the config file, the changes made (none: it was already
    configured), where the old version was kept, and whether the base profile's keys will do."""

    __slots__ = ("path", "changes", "backup", "keys_report")

    def __init__(self, path: str, changes: List[str], backup: Optional[str], keys_report: str) -> None:
        self.path = path
        self.changes = changes
        self.backup = backup
        self.keys_report = keys_report


def configure_profile(
    base_profile: str,
    plugin_profile: str,
    mfa_serial: Optional[str],
    command: str,
    force: bool,
    environ: Mapping[str, str],
) -> Configured:
    """Make ``plugin_profile`` run ``command`` for ``base_profile`` (and set the base's
    mfa_serial when given), writing the config file only if something changes."""
    check_profile_name("--profile", base_profile)
    check_profile_name("--as", plugin_profile)
    path = config_file_path(environ)
    text = read_config_text(path)
    from_config, from_credentials = read_base_profile(base_profile, text, environ)
    base = merge_profile(from_config, from_credentials)
    if mfa_serial is not None:
        parse_mfa_serial(mfa_serial)
    elif not base.get("mfa_serial"):
        raise InvalidMfaSerialError(
            f"profile '{base_profile}' has no mfa_serial; pass --mfa-serial arn:aws:iam::ACCOUNT:mfa/NAME"
        )
    new_text, changes = plan(text, base_profile, plugin_profile, mfa_serial, command, base.get("region"), force)
    backup = None
    if changes:
        try:
            backup = write_with_backup(path, new_text, expected=text)
        except OSError as error:
            raise ConfigWriteError(f"cannot write {path}: {error.strerror or error}; it is unchanged") from None
    return Configured(path, changes, backup, keys_report(base_profile, from_config, from_credentials, environ))


def read_config_text(path: str) -> str:
    """The config file's text ("" if there is none), read without blocking: a FIFO at the path
    would hang a plain open() for ever; configure edits only regular files."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        return ""
    except OSError as error:
        raise ConfigFileError(f"cannot read {path}: {error.strerror}") from None
    try:
        with os.fdopen(fd, "rb") as config_file:
            if not stat.S_ISREG(os.fstat(config_file.fileno()).st_mode):
                raise ConfigFileError(f"{path} is not a regular file; configure edits only regular files")
            data = config_file.read()
    except OSError as error:
        raise ConfigFileError(f"cannot read {path}: {error.strerror}") from None
    try:
        return data.decode("utf-8")  # newlines as they are: the editor keeps each line's own ending
    except UnicodeDecodeError as error:
        raise ConfigFileError(f"cannot read {path}: {error}") from None


def read_base_profile(profile: str, config_text: str, environ: Mapping[str, str]) -> Tuple[Profile, Profile]:
    """The base profile's two parts. One that exists in neither file is an error naming those
    that do: configure would otherwise write a profile with no keys behind it."""
    try:
        return read_profile(profile, environ)
    except ProfileNotFoundError as error:
        names = _profile_names(config_text, credentials_file_path(environ))
        listed = ", ".join(shown(name) for name in names[:MAX_LISTED])
        more = f" and {len(names) - MAX_LISTED} more" if len(names) > MAX_LISTED else ""
        there = f"the profiles there are {listed}{more}" if names else "they hold no profile yet"
        raise ProfileNotFoundError(
            f"profile {shown(profile)} is not in {config_file_path(environ)} or {credentials_file_path(environ)}; "
            f"{there}: check --profile, or add the base profile's keys first (aws configure --profile NAME)"
        ) from error


def _profile_names(config_text: str, credentials_path: str) -> List[str]:
    names: Set[str] = set()
    try:
        names.update(profiles_of(read_config(config_text)[0]))
    except configparser.Error:
        pass
    if not os.path.isfile(credentials_path):  # as aws_files reads it: a FIFO would block
        return sorted(names)
    parser = configparser.RawConfigParser()
    try:
        parser.read(credentials_path, encoding="utf-8")
        names.update(parser.sections())
    except (configparser.Error, OSError, UnicodeDecodeError):
        pass
    return sorted(names)


def keys_report(profile: str, from_config: Profile, from_credentials: Profile, environ: Mapping[str, str]) -> str:
    """One line: whether the base profile has the long-term keys GetSessionToken needs, and if
    not, what to add where."""
    merged = merge_profile(from_config, from_credentials)
    if merged.get(KEY_STORE_OPTION, "").strip() == KEYRING_STORE:
        return f"profile '{profile}' keeps its keys in the OS keyring ({KEY_STORE_OPTION} = {KEYRING_STORE}): ready\n"
    if static_access_key_id(merged, from_config, from_credentials):
        return f"profile '{profile}' has long-term access keys: ready\n"
    if merged.get("aws_session_token"):
        return (
            f"profile '{profile}' holds temporary keys (aws_session_token); GetSessionToken needs an IAM "
            f"user's long-term access keys in [{profile}] of {credentials_file_path(environ)}\n"
        )
    if any(merged.get(key) for key in ("credential_process", "role_arn", "sso_session", "sso_start_url")):
        return (
            f"profile '{profile}' gets its keys from another source; they must be an IAM user's "
            "long-term access keys (not a role or SSO session)\n"
        )
    missing = [key for key in ("aws_access_key_id", "aws_secret_access_key") if not merged.get(key)]
    return (
        f"profile '{profile}' is missing {' and '.join(missing)}: add them to [{profile}] in "
        f"{credentials_file_path(environ)} (aws configure --profile {profile}), or store them in the OS "
        f"keyring with `mfa-process add --profile {profile}`\n"
    )


def plugin_command(argv0: str, executable: str) -> str:
    """How credential_process should start this mfa-process: by name when PATH finds this
    very program, else by absolute path (or as `python -m mfa_process`)."""
    name = os.path.basename(argv0)
    if name.startswith("mfa-process"):  # the console script (mfa-process, mfa-process.exe)
        on_path = shutil.which("mfa-process")
        if on_path and os.path.realpath(on_path) == os.path.realpath(argv0):
            return "mfa-process"
        return quote_word(os.path.abspath(argv0))
    return f"{quote_word(executable)} -m mfa_process"


def write_with_backup(
    path: str, text: str, expected: Optional[str] = None, backup: bool = True, by: str = "configure"
) -> Optional[str]:
    """Replace ``path`` atomically with ``text``, first copying the old file aside.

    Returns the backup's path (None when there was no file). Backups never replace one
    another: the first is ``config.mfa-process-backup``, later ones ``.1``, ``.2``... A config
    that is a link of the user's own (dotfiles) is updated where it points; a link or file of
    another user is refused, and neither the backup nor the temporary file follows a link
    planted beside it. With ``expected``, a file that no longer holds it (another program
    wrote meanwhile) is refused too. The file keeps its mode; a new file, and a new ~/.aws
    folder, are private to the user. ``backup=False``: no copy (the old text holds a secret
    being moved out); ``by`` names the command in messages.
    """
    path = _write_target(path)
    folder = os.path.dirname(path)
    os.makedirs(folder, mode=0o700, exist_ok=True)
    old = _read_own_file(path)
    if expected is not None and (old.decode("utf-8", "replace") if old is not None else "") != expected:
        raise ConfigFileError(f"{path} changed while {by} was running; nothing was changed: run {by} again")
    copy = None if old is None or not backup else _write_backup(path, old)
    mode = 0o600 if old is None else stat.S_IMODE(os.stat(path, follow_symlinks=False).st_mode)

    def still_ours(fd: int, temp_path: str) -> None:
        if not os.path.samestat(os.fstat(fd), os.lstat(temp_path)):
            raise ConfigFileError(
                f"{temp_path} was replaced while {by} wrote it (another program in {folder}?); {path} is unchanged"
            )

    replace_atomically(path, text.encode("utf-8"), mode, temp_prefix=".config-", before_replace=still_ours)
    return copy


_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # a FIFO planted at the path must not hang us


def _write_target(path: str) -> str:
    """``path``, or the file that the user's own link at ``path`` points to (dotfiles)."""
    path = os.path.abspath(path)
    for _ in range(_MAX_LINKS):
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            break
        if not stat.S_ISLNK(info.st_mode):
            break
        _check_own(path, info, "is a symbolic link")
        path = os.path.join(os.path.dirname(path), os.readlink(path))
    else:
        raise ConfigFileError(f"{path}: too many levels of symbolic links; point the link at the file itself")
    return os.path.realpath(path)


def _read_own_file(path: str) -> Optional[bytes]:
    """The file's bytes, None if there is none; refuses a link, a non-file or another's file."""
    try:
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW | _CLOEXEC | _NONBLOCK)
    except FileNotFoundError:
        return None
    except OSError as error:
        if os.path.islink(path):
            raise ConfigFileError(f"{path} became a symbolic link while configure ran; nothing was changed") from None
        raise error
    with os.fdopen(fd, "rb") as config_file:
        info = os.fstat(config_file.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ConfigFileError(f"{path} is not a regular file; configure edits only regular files")
        _check_own(path, info, "is a file")
        return config_file.read()


def _write_backup(path: str, data: bytes) -> str:
    """A new backup file (0600), never following or replacing anything already there."""
    for number in range(MAX_BACKUPS):
        backup = path + BACKUP_SUFFIX + (f".{number}" if number else "")
        try:
            fd = os.open(backup, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC, 0o600)
        except FileExistsError:
            info = os.lstat(backup)
            if stat.S_ISLNK(info.st_mode) or not stat.S_ISREG(info.st_mode):
                raise ConfigFileError(
                    f"{backup} is not a backup of mfa-process's (a link or not a file); remove it if you did not "
                    "make it, then run configure again"
                ) from None
            _check_own(backup, info, "is a file")
            continue
        try:
            with os.fdopen(fd, "wb") as backup_file:
                backup_file.write(data)
                backup_file.flush()
                set_mode(backup_file.fileno(), backup, 0o600)
                os.fsync(backup_file.fileno())
        except BaseException:
            os.unlink(backup)
            raise
        return backup
    raise ConfigFileError(
        f"{path} already has {MAX_BACKUPS} backups ({path}{BACKUP_SUFFIX}.*); delete old ones, then run configure again"
    )


def _check_own(path: str, info: os.stat_result, what: str) -> None:
    """Refuse what another user owns: it was not put there by the person running configure."""
    euid = getattr(os, "geteuid", None)
    if euid is not None and info.st_uid != euid():
        raise ConfigFileError(
            f"{path} {what} owned by another user (uid {info.st_uid}); configure writes only through links "
            "and files you own: check it, or run configure as its owner"
        )
