"""The cache hit's fast path (cli/fast_hit, config/hit_settings, config/ini_subset,
session/cache_hit): it serves exactly what the full path prints, or declines and lets the full
path run; and a hit imports nothing beyond the list below.

Hypothesis draws AWS files, settings and cache files rich in what configparser, json and the
trust checks treat specially; for each, the fast path either declines (None) or gives exactly
the full path's answer (aws_files.read_profile, resolve_settings, SessionCache.load and
Credentials.to_json). On plain files it must not decline what the full path serves.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mfa_process.cli import credential_process, main
from mfa_process.cli.fast_hit import cached_output, plain_profile_argument
from mfa_process.config import aws_files, hit_settings
from mfa_process.config import settings as full_settings
from mfa_process.config.hit_settings import hit_session_key, is_usable_mfa_serial
from mfa_process.config.ini_subset import read_profile_plainly
from mfa_process.config.mfa_device import parse_mfa_serial
from mfa_process.config.recursion_guard import check_not_resolving
from mfa_process.errors import MfaProcessError
from mfa_process.session import cache as full_cache
from mfa_process.session import cache_hit
from mfa_process.session.cache import SessionCache, SessionKey
from mfa_process.session.cache_dir import default_cache_dir
from mfa_process.session.credentials import REFRESH_MARGIN_SECONDS, Credentials, served_until

SERIAL = "arn:aws:iam::123456789012:mfa/alice"
BASE_KEY = "AKIABASEKEY000000001"
CONFIG = f"[profile base]\nmfa_serial = {SERIAL}\n"
CREDENTIALS = f"[base]\naws_access_key_id = {BASE_KEY}\naws_secret_access_key = base-secret\n"
PROPERTY = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


class Home:
    """The two AWS files and a cache folder under ``root``, and the environment naming them."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.config = root / "config"
        self.credentials = root / "credentials"
        self.cache = SessionCache(str(root / "cache" / "mfa-process"))
        self.env: Dict[str, str] = {
            "HOME": str(root),
            "AWS_CONFIG_FILE": str(self.config),
            "AWS_SHARED_CREDENTIALS_FILE": str(self.credentials),
            "XDG_CACHE_HOME": str(root / "cache"),
        }
        self.write(CONFIG, CREDENTIALS)

    def write(self, config: str, credentials: str) -> None:
        self.config.write_bytes(config.encode("utf-8"))
        self.credentials.write_bytes(credentials.encode("utf-8"))

    def store(
        self,
        credentials: Optional[Credentials] = None,
        duration: int = 43200,
        profile: str = "base",
        mfa_authenticated_at: Optional[float] = None,
    ) -> Credentials:
        credentials = credentials or session()
        key = SessionKey(profile, BASE_KEY, SERIAL, duration)
        self.cache.store(key, credentials, issued_at=time.time(), mfa_authenticated_at=mfa_authenticated_at)
        return credentials

    def session_file(self, duration: int = 43200) -> Path:
        return Path(self.cache.path_for(SessionKey("base", BASE_KEY, SERIAL, duration)))


def session(hours: float = 12, account_id: Optional[str] = "123456789012") -> Credentials:
    expires_at = int(time.time() + hours * 3600)
    return Credentials("ASIACACHED0000000001", "cached/secret+value", "cached-token==", expires_at, account_id)


def full_path_output(name: str, environ: Dict[str, str], now: float) -> Optional[str]:
    """What the full path prints for `--profile NAME` (without the newline), or None when it
    would not serve from the cache (an error, botocore needed, a miss)."""
    try:
        check_not_resolving(environ)
        resolved = full_settings.resolve_settings(name, environ)
    except MfaProcessError:
        return None
    if resolved.known_base_access_key_id is None:
        return None
    key = SessionKey(name, resolved.known_base_access_key_id, resolved.device.serial, resolved.duration)
    cache = SessionCache(default_cache_dir(environ))
    cached = cache.load(key)
    if cached is None:
        return None
    until = served_until(cached.credentials.expires_at, cached.mfa_authenticated_at, resolved.max_mfa_age)
    if until - now <= REFRESH_MARGIN_SECONDS:
        return None
    return cached.credentials.until(until).to_json()


@pytest.fixture
def home(tmp_path: Path) -> Home:
    return Home(tmp_path)


@pytest.fixture
def environ(home: Home, monkeypatch: pytest.MonkeyPatch) -> Home:
    """``home``, and os.environ naming only its files (for main())."""
    for name in list(os.environ):
        if name.startswith(("AWS_", "MFA_PROCESS_")):
            monkeypatch.delenv(name)
    for name, value in home.env.items():
        monkeypatch.setenv(name, value)
    return home


# --- the command line it takes -------------------------------------------------------------------


@pytest.mark.parametrize("argv", [["--profile", "base"], ["--profile=base"]])
def test_the_plain_form_names_the_profile(argv):
    assert plain_profile_argument(argv) == "base"


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["base"],
        ["--profile"],
        ["--profile="],
        ["--profile", ""],
        ["--profile", "-base"],  # argparse reads it as an option
        ["--profile=-base"],
        ["--prof", "base"],  # argparse's abbreviation: the full path takes it
        ["--profile", "base", "--refresh"],
        ["--profile", "base", "-v"],
        ["--profile", "base", "--token-code", "123456"],
        ["--duration", "3600", "--profile", "base"],
        ["--profile", "base", "--profile", "other"],
        ["login", "--profile", "base"],
        ["--help"],
        ["--version"],
    ],
)
def test_every_other_command_line_takes_the_full_path(argv):
    assert plain_profile_argument(argv) is None


# --- a hit through main(): the fast path serves, and prints what the full path prints ------------


@pytest.mark.parametrize("argv", [["--profile", "base"], ["--profile=base"]])
def test_a_hit_is_served_without_the_full_path(argv, environ, monkeypatch, capsys):
    stored = environ.store()

    def full_path(*args):
        raise AssertionError("the full path ran on a plain cache hit")

    monkeypatch.setattr(credential_process, "run", full_path)

    assert main(list(argv)) == 0

    out, err = capsys.readouterr()
    assert out == stored.to_json() + "\n"
    assert json.loads(out) == stored.process_output()
    assert err == ""


@pytest.mark.parametrize("account_id", ["123456789012", None])
def test_the_fast_path_prints_byte_for_byte_what_the_full_path_prints(account_id, environ, capsys):
    environ.store(session(account_id=account_id))

    assert main(["--profile", "base", "--verbose"]) == 0  # --verbose: the full path, same output
    full = capsys.readouterr()
    assert main(["--profile", "base"]) == 0
    fast = capsys.readouterr()

    assert fast == full
    assert ("AccountId" in fast.out) == (account_id is not None)


def test_a_setting_only_the_full_path_reads_is_still_served_alike(environ, monkeypatch, capsys):
    """Prompt, timeouts and a duration from the environment and the profile: checked, then served."""
    environ.write(
        CONFIG + "mfa_prompt = terminal\nmfa_prompt_timeout = 30\nmfa_sts_timeout = 10\nregion = eu-west-1\n",
        CREDENTIALS,
    )
    for name, value in {
        "MFA_PROCESS_DURATION": "3600",
        "MFA_PROCESS_LOCK_TIMEOUT": "90",
        "MFA_PROCESS_PROMPT": " auto ",
    }.items():
        monkeypatch.setenv(name, value)
    stored = environ.store(duration=3600)

    assert cached_output(["--profile", "base"], os.environ) == stored.to_json()
    assert main(["--profile", "base", "-v"]) == 0
    full = capsys.readouterr().out
    assert main(["--profile", "base"]) == 0
    assert capsys.readouterr().out == full == stored.to_json() + "\n"


def test_a_config_file_with_crlf_lines_comments_and_other_profiles_is_read_plainly(home):
    home.write(
        "# ~/.aws/config: コメント\r\n[default]\r\nregion = us-east-1\r\n\r\n; base\r\n"
        f"[profile base]\r\nMFA_Serial: {SERIAL}\r\n  # indented comment\r\n[profile mfa]\r\n"
        "credential_process = mfa-process --profile base\r\n",
        CREDENTIALS + "[other]\naws_access_key_id=AKIAOTHER\n",
    )
    stored = home.store()

    assert read_profile_plainly("base", home.env) == aws_files.read_profile("base", home.env)
    assert cached_output(["--profile", "base"], home.env) == stored.to_json()


# --- declining: whatever the full path would do otherwise, it does -----------------------------

DECLINED_FILES = {
    "continuation line": (CONFIG + "region = eu-west-1\n  eu-west-2\n", CREDENTIALS),
    "indented key": (CONFIG + "  region = eu-west-1\n", CREDENTIALS),
    "DEFAULT section": ("[DEFAULT]\nregion = x\n" + CONFIG, CREDENTIALS),
    "repeated section": (CONFIG + "[profile base]\nregion = x\n", CREDENTIALS),
    "repeated key": (CONFIG + "MFA_SERIAL = x\n", CREDENTIALS),
    "key before any section": ("region = x\n" + CONFIG, CREDENTIALS),
    "line without =": (CONFIG + "region\n", CREDENTIALS),
    "quoted profile name": (CONFIG + "[profile 'other']\nregion = x\n", CREDENTIALS),
    "header with text after it": ("[profile base] # mine\n" + CONFIG[len("[profile base]\n") :], CREDENTIALS),
    "byte order mark": ("\ufeff" + CONFIG, CREDENTIALS),
    "no-break space": (CONFIG + "region =\xa0x\n", CREDENTIALS),
    "no mfa_serial": ("[profile base]\nregion = x\n", CREDENTIALS),
    "FIDO key": (f"[profile base]\nmfa_serial = {SERIAL.replace(':mfa/', ':u2f/')}\n", CREDENTIALS),
    "serial too short": ("[profile base]\nmfa_serial = GAHT1\n", CREDENTIALS),
    "role_arn: botocore decides": (CONFIG + "role_arn = arn:aws:iam::123456789012:role/r\n", CREDENTIALS),
    "temporary keys": (CONFIG, CREDENTIALS + "aws_session_token = t\n"),
    "no keys in the files": (CONFIG, ""),
    "keys through credential_process": (CONFIG + "credential_process = other-tool\n", ""),
    "recursion": (CONFIG + "credential_process = mfa-process --profile base\n", CREDENTIALS),
    "duration too short": (CONFIG + "duration_seconds = 900\n", CREDENTIALS),
    "duration not a number": (CONFIG + "duration_seconds = 1h\n", CREDENTIALS),
    "prompt timeout zero": (CONFIG + "mfa_prompt_timeout = 0\n", CREDENTIALS),
    "lock timeout infinite": (CONFIG + "mfa_lock_timeout = inf\n", CREDENTIALS),
    "unknown prompt": (CONFIG + "mfa_prompt = carrier-pigeon\n", CREDENTIALS),
    "profile absent": ("[profile other]\nmfa_serial = x\n", "[other]\n"),
}


@pytest.mark.parametrize("config, credentials", DECLINED_FILES.values(), ids=DECLINED_FILES.keys())
def test_files_it_is_not_sure_of_or_the_full_path_refuses_are_declined(config, credentials, home):
    home.write(config, credentials)
    home.store()

    assert cached_output(["--profile", "base"], home.env) is None


DECLINED_ENVIRONMENTS = {
    "inside mfa-process's own base-key resolution": {"MFA_PROCESS_RESOLVING_PROFILE": "base"},
    "duration not a number": {"MFA_PROCESS_DURATION": "forever"},
    "duration of another session": {"MFA_PROCESS_DURATION": "3600"},
    "prompt timeout negative": {"MFA_PROCESS_PROMPT_TIMEOUT": "-1"},
    "STS timeout not a number": {"MFA_PROCESS_STS_TIMEOUT": "nan"},
    "unknown prompt": {"MFA_PROCESS_PROMPT": "nope"},
    "config file unreadable as a file": {"AWS_CONFIG_FILE": "/dev/null/x"},  # no profile: an error
}


@pytest.mark.parametrize("extra", DECLINED_ENVIRONMENTS.values(), ids=DECLINED_ENVIRONMENTS.keys())
def test_an_environment_the_full_path_refuses_or_treats_otherwise_is_declined(extra, home):
    home.store()

    assert cached_output(["--profile", "base"], {**home.env, **extra}) is None


def plant_link(home: Home) -> None:
    path = home.session_file()
    path.rename(path.with_suffix(".real"))
    path.symlink_to(path.with_suffix(".real"))


def plant_fifo(home: Home) -> None:
    path = home.session_file()
    path.unlink()
    os.mkfifo(path, 0o600)


def plant_folder(home: Home) -> None:
    path = home.session_file()
    path.unlink()
    path.mkdir()


def add_newline(home: Home) -> None:
    with home.session_file().open("a") as file:
        file.write("\n")


def reindent(home: Home) -> None:
    path = home.session_file()
    path.write_text(json.dumps(json.loads(path.read_text()), indent=4))


CACHE_PROBLEMS = {
    "no session": lambda home: home.session_file().unlink(),
    "file readable by others": lambda home: home.session_file().chmod(0o644),
    "file writable by the group": lambda home: home.session_file().chmod(0o620),
    "folder writable by others": lambda home: Path(home.cache.directory).chmod(0o777),
    "folder writable by the group": lambda home: Path(home.cache.directory).chmod(0o770),
    "symbolic link": plant_link,
    "FIFO": plant_fifo,
    "folder at the file's name": plant_folder,
    "newline at the end": add_newline,
    "other indentation": reindent,
    "damaged": lambda home: home.session_file().write_text("{"),
    "too large": lambda home: home.session_file().write_text(" " * (64 * 1024 + 1)),
}


@pytest.mark.parametrize("problem", CACHE_PROBLEMS.values(), ids=CACHE_PROBLEMS.keys())
def test_a_cache_file_not_exactly_as_stored_and_trusted_is_declined(problem, home):
    home.store()
    problem(home)

    assert cached_output(["--profile", "base"], home.env) is None


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="giving a file away needs root")
@pytest.mark.parametrize("what", ["file", "folder"])
def test_a_cache_file_or_folder_of_another_user_is_declined(what, home):
    home.store()
    os.chown(home.session_file() if what == "file" else home.cache.directory, 1, 1)

    assert cached_output(["--profile", "base"], home.env) is None
    assert full_path_output("base", home.env, time.time()) is None


@pytest.mark.parametrize("hours", [-1, 0, 0.25])
def test_a_session_inside_the_refresh_margin_is_declined(hours, home):
    home.store(session(hours=hours))

    assert cached_output(["--profile", "base"], home.env) is None


def test_a_session_just_outside_the_refresh_margin_is_served(home):
    stored = home.store(session(hours=0.27))

    assert cached_output(["--profile", "base"], home.env) == stored.to_json()


def test_values_json_would_escape_are_left_to_json(home):
    home.store(Credentials("ASIA\u00e9", 'se"cr\\et', "tok\u2028en", int(time.time()) + 7200, "1234"))

    assert cached_output(["--profile", "base"], home.env) is None
    assert full_path_output("base", home.env, time.time()) is not None


def test_an_exception_anywhere_is_a_decline(home, monkeypatch):
    home.store()
    monkeypatch.setattr(cache_hit, "_read_trusted", lambda directory, name: 1 / 0)

    assert cached_output(["--profile", "base"], home.env) is None


# --- the duplicated knowledge stays equal to the full path's --------------------------------------


def test_the_constants_are_the_full_paths():
    assert hit_settings.DEFAULT_DURATION == full_settings.DEFAULT_DURATION
    assert (hit_settings.MIN_DURATION, hit_settings.MAX_DURATION) == (
        full_settings.MIN_DURATION,
        full_settings.MAX_DURATION,
    )
    assert (
        hit_settings.REFRESH_MARGIN_SECONDS == cache_hit._REFRESH_MARGIN_SECONDS == full_settings.REFRESH_MARGIN_SECONDS
    )
    assert (hit_settings.KEY_STORE_OPTION, hit_settings.KEY_ID_OPTION, hit_settings.KEYRING_STORE) == (
        full_settings.KEY_STORE_OPTION,
        full_settings.KEY_ID_OPTION,
        full_settings.KEYRING_STORE,
    )
    assert cache_hit._MAX_FILE_BYTES == full_cache._MAX_FILE_BYTES
    assert cache_hit._READ_FLAGS == full_cache._READ_FLAGS
    assert cache_hit._DIRECTORY_FLAGS == full_cache._DIRECTORY_FLAGS


SERIAL_CHARS = "ABCXYZabcxyz0129_+=/:,.@-"
serials = st.one_of(
    st.text(alphabet=SERIAL_CHARS + " é\n", max_size=40),
    st.builds(
        "arn:{}:{}::{}:{}/{}".format,
        st.sampled_from(["aws", "aws-cn", "aws-us-gov", "awsx", "aw", "AWS", "aws1", "aws:"]),
        st.sampled_from(["iam", "sts", "IAM", ""]),
        st.sampled_from(["123456789012", "12345678901", "1234567890123", "12345678901x", "١٢٣٤٥٦٧٨٩٠١٢"]),
        st.sampled_from(["mfa", "u2f", "MFA", "mfax", ""]),
        st.text(alphabet=SERIAL_CHARS + "é", max_size=12),
    ),
    st.sampled_from([SERIAL, "GAHT12345678", "arn:aws:iam::123456789012:mfa/", "x" * 256, "x" * 257, "12345678"]),
)


@given(serials)
def test_the_mfa_serial_check_is_parse_mfa_serials(serial):
    try:
        parse_mfa_serial(serial)
        accepted = True
    except MfaProcessError:
        accepted = False
    assert is_usable_mfa_serial(serial) == accepted


# --- hypothesis: AWS files -------------------------------------------------------------------------

NAMES = ["base", "default", "Base", "profile", "other"]
HEADERS = [
    "default", "DEFAULT", "base", "Base", "other", "profile base", "profile  base", "profile\tbase", "profilebase",
    "profiles base", "profile base x", " profile base", "profile base ", "profile 'base'", 'profile "base"',
    "profile b\\ase", "profile", "pro]file base", "[profile base", "profile default", "profile other",
]  # fmt: skip
USUAL_HEADERS = ["default", "profile base", "base", "profile other", "other", "profile default"]
KEYS = [
    "mfa_serial", "MFA_Serial", "aws_access_key_id", "aws_secret_access_key", "aws_session_token", "region",
    "credential_process", "role_arn", "duration_seconds", "mfa_prompt", "a b", "x",
]  # fmt: skip
TEXT = "abAZ09 _-./+é日\t=:#;[]'\"\\%"
ODD = "\x0b\x0c\x1c\x85\xa0\u2028\u3000\ufeff\x00\x7f"
values = st.one_of(st.sampled_from([SERIAL, BASE_KEY, "3600", ""]), st.text(alphabet=TEXT, max_size=8))
indents = st.sampled_from([" ", "\t", "  "])
rarely = st.integers(0, 99).map(lambda percent: percent >= 85)  # 15 times in 100 (never once shrunk)
delimiters = st.sampled_from(["=", " = ", " = ", ":", " : ", "= ", " =", "=="])


@st.composite
def header_lines(draw, header: str, odd: bool = True) -> str:
    """``[header]``; in an odd file, now and then indented or with something after it."""
    indent = draw(indents) if odd and draw(rarely) else ""
    suffix = draw(st.sampled_from([" ", " ;c", "]", " x"])) if odd and draw(rarely) else ""
    return f"{indent}[{header}]{suffix}"


@st.composite
def key_lines(draw, key: str, odd: bool = True) -> str:
    """``key = value`` with any delimiter; in an odd file, now and then indented."""
    indent = draw(indents) if odd and draw(rarely) else ""
    return indent + key + draw(delimiters) + draw(values)


@st.composite
def other_lines(draw) -> str:
    """A comment, a blank, a continuation, junk, a repeated key or header, odd characters."""
    kind = draw(st.sampled_from(["comment", "blank", "junk", "key", "header", "odd"]))
    if kind == "comment":
        indent = draw(indents) if draw(rarely) else ""
        return indent + draw(st.sampled_from(["#", ";"])) + draw(st.text(alphabet=TEXT, max_size=6))
    if kind == "blank":
        return draw(st.sampled_from(["", " ", "\t"]))
    if kind == "junk":
        return draw(st.sampled_from(["x", "= x", "[", "[]", "]", "[x", ": y", "  continued", "\tcontinued"]))
    if kind == "key":
        return draw(key_lines(draw(st.sampled_from(KEYS))))
    if kind == "header":
        return draw(header_lines(draw(st.sampled_from(HEADERS))))
    return draw(st.text(alphabet=TEXT + ODD, max_size=10))


@st.composite
def ini_files(draw) -> bytes:
    """Sections of key lines as people write them (each header once, each key once per section),
    with now and then a line of another kind anywhere, any line end, rarely not UTF-8."""
    lines: List[str] = []
    odd = draw(rarely)
    headers = st.sampled_from(HEADERS) if draw(rarely) else st.sampled_from(USUAL_HEADERS)
    for header in draw(st.lists(headers, max_size=4, unique=True)):
        lines.append(draw(header_lines(header, odd)))
        for key in draw(st.lists(st.sampled_from(KEYS), max_size=4, unique_by=str.lower)):
            lines.append(draw(key_lines(key, odd)))
    for _ in range(draw(st.integers(1, 3)) if odd else 0):
        lines.insert(draw(st.integers(0, len(lines))), draw(other_lines()))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = newline.join(lines) + draw(st.sampled_from(["", newline]))
    return text.encode("utf-8") + (b"\xff" if draw(rarely) and draw(rarely) else b"")  # rarely not UTF-8


def profile_parts(name: str, environ: Dict[str, str]):
    try:
        return aws_files.read_profile(name, environ)
    except MfaProcessError:
        return None


@PROPERTY
@given(config=ini_files(), credentials=ini_files())
def test_the_plain_reader_declines_or_reads_what_aws_files_reads(config, credentials):
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        (home / "config").write_bytes(config)
        (home / "credentials").write_bytes(credentials)
        env = {"AWS_CONFIG_FILE": str(home / "config"), "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials")}
        for name in NAMES:
            plain = read_profile_plainly(name, env)
            if plain is not None:
                assert plain == profile_parts(name, env), name


@PROPERTY
@given(st.lists(st.tuples(st.sampled_from(KEYS), values.filter(lambda v: v == v.strip())), max_size=8))
def test_plain_files_are_never_declined(pairs):
    """Headers and `key = value` lines only: the fast path's everyday input is read, never declined."""
    by_key = {key.lower(): f"{key} = {value}\n" for key, value in pairs}  # configparser refuses a repeated key
    config = "[default]\nregion = x\n[profile base]\n" + "".join(by_key.values())
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        (home / "config").write_text(config, encoding="utf-8")
        env = {"AWS_CONFIG_FILE": str(home / "config"), "AWS_SHARED_CREDENTIALS_FILE": str(home / "none")}
        assert read_profile_plainly("base", env) == aws_files.read_profile("base", env)


# --- hypothesis: settings --------------------------------------------------------------------------

DURATIONS = ["3600", "901", "900", "129600", "129601", " 7200 ", "+3600", "3_600", "3600.0", "1h", "", "٣٦٠٠"]
SECONDS = ["1", "0", "-1", "inf", "nan", "1e3", " 5 ", "x", "", "1_0"]
PROMPT_NAMES = [
    "auto",
    "terminal",
    " zenity ",
    "nope",
    "",
    "AUTO",
    "ykman, zenity,terminal",
    "ykman,,terminal",
    "terminal,",
]
SETTING_VALUES = {
    "mfa_serial": [SERIAL, "GAHT12345678", SERIAL.replace("mfa/", "u2f/"), "arn:aws:iam::1:mfa/x", "short", ""],
    "duration_seconds": DURATIONS,
    "mfa_prompt_timeout": SECONDS,
    "mfa_sts_timeout": SECONDS,
    "mfa_lock_timeout": SECONDS,
    "mfa_prompt": PROMPT_NAMES,
    "credential_process": ["", "other-tool", "mfa-process --profile x", "python -m mfa_process"],
    "role_arn": ["", "arn:aws:iam::123456789012:role/r"],
    "sso_session": ["", "s"],
    "aws_access_key_id": ["", BASE_KEY, "AKIACONFIG"],
    "aws_secret_access_key": ["", "secret"],
    "aws_session_token": ["", "token"],
    "region": ["", "eu-west-1"],
    "mfa_key_store": ["", "keyring", " keyring", "file", "KEYRING"],
    "mfa_key_id": ["", BASE_KEY, "AKIAOTHER"],
    "mfa_max_age": ["", "3600", "1h", "90m", "900", "901", "15m", "x", "1d", "3600s", " 2h "],
}
ENV_VALUES = {
    "MFA_PROCESS_DURATION": DURATIONS,
    "MFA_PROCESS_PROMPT_TIMEOUT": SECONDS,
    "MFA_PROCESS_STS_TIMEOUT": SECONDS,
    "MFA_PROCESS_LOCK_TIMEOUT": SECONDS,
    "MFA_PROCESS_PROMPT": PROMPT_NAMES,
    "MFA_PROCESS_RESOLVING_PROFILE": ["", "base"],
    "MFA_PROCESS_MAX_MFA_AGE": ["", "2h", "60", "0"],
}


def some_of(choices: Dict[str, List[str]], usual: Optional[Dict[str, str]] = None):
    """``usual`` with up to three names set to one of their values (valid ones or not)."""
    one = st.sampled_from(sorted(choices)).flatmap(
        lambda name: st.tuples(st.just(name), st.sampled_from(choices[name]))
    )
    return st.lists(one, max_size=3).map(lambda pairs: {**(usual or {}), **dict(pairs)})


def ini(header: str, pairs: Dict[str, str]) -> str:
    return f"[{header}]\n" + "".join(f"{key} = {value}\n" for key, value in pairs.items())


@PROPERTY
@given(
    config=some_of(SETTING_VALUES, {"mfa_serial": SERIAL}),
    credentials=some_of(SETTING_VALUES, {"aws_access_key_id": BASE_KEY, "aws_secret_access_key": "base-secret"}),
    extra_env=some_of(ENV_VALUES),
)
def test_the_session_key_is_resolve_settings_or_declined(config, credentials, extra_env):
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        (home / "config").write_text(ini("profile base", config), encoding="utf-8")
        (home / "credentials").write_text(ini("base", credentials), encoding="utf-8")
        env = {"AWS_CONFIG_FILE": str(home / "config"), "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials")}
        env.update(extra_env)
        key = hit_session_key("base", env)
        try:
            check_not_resolving(env)
            resolved = full_settings.resolve_settings("base", env)
        except MfaProcessError:
            assert key is None
            return
        if resolved.known_base_access_key_id is None:
            assert key is None
            return
        assert key is not None, "a plain profile the full path serves from the cache was declined"
        assert key == (
            resolved.profile,
            resolved.known_base_access_key_id,
            resolved.device.serial,
            resolved.duration,
            resolved.max_mfa_age,
        )


# --- hypothesis: cache files -----------------------------------------------------------------------

CACHE_TEXT = 'AZaz09/+=-_.:@ é"\\\u2028\x7f'
cache_strings = st.one_of(
    st.sampled_from(["ASIAX", "secret/+=", "token=="]),
    st.text(alphabet=CACHE_TEXT[:20], min_size=1, max_size=6),  # what json writes as it is
    st.text(alphabet=CACHE_TEXT, max_size=6),
)
MUTATIONS = ['"', "\\", " ", "\n", "0", "1", ".", "e", "-", "x", "}", ",", "é", ""]


@st.composite
def cache_files(draw):
    """(stored session, mutation): what SessionCache.store writes, sometimes changed by a character."""
    now = time.time()
    expires_at = int(now) + draw(st.sampled_from([-60, 0, 899, 901, 905, 3600, 43200, 10**12, 10**17]))
    credentials = Credentials(
        draw(cache_strings), draw(cache_strings), draw(cache_strings), expires_at, draw(st.none() | cache_strings)
    )
    mutation = draw(st.none() | st.tuples(st.integers(0, 10_000), st.sampled_from(MUTATIONS)))
    mfa_age = draw(st.sampled_from([None, 0, 1800.5, 3000, 40000]))  # seconds before now; None: an older file
    max_age = draw(st.sampled_from([None, "1h", "3600", "12h"]))
    return credentials, draw(st.sampled_from([43200, 3600])), mutation, mfa_age, max_age


@settings(PROPERTY, max_examples=80)
@given(cache_files())
def test_the_cache_reader_declines_or_serves_what_the_full_path_serves(case):
    credentials, duration, mutation, mfa_age, max_age = case
    with tempfile.TemporaryDirectory() as folder, mock.patch("os.fsync"):  # durability is not in question here
        home = Home(Path(folder))
        if max_age is not None:
            home.env["MFA_PROCESS_MAX_MFA_AGE"] = max_age
        mfa_at = None if mfa_age is None else time.time() - mfa_age
        try:
            home.store(credentials, duration=duration, mfa_authenticated_at=mfa_at)
        except (ValueError, OverflowError, OSError):  # an expiry beyond what gmtime holds: not storable
            return
        path = home.session_file(duration)
        if mfa_at is None:  # as a version before mfa_authenticated_at wrote it
            text = path.read_text(encoding="utf-8")
            path.write_text("".join(line for line in text.splitlines(True) if "mfa_authenticated_at" not in line))
        if mutation is not None:
            text = path.read_text(encoding="utf-8")
            index, replacement = mutation
            index %= len(text)
            path.write_bytes((text[:index] + replacement + text[index + 1 :]).encode("utf-8"))
            path.chmod(0o600)
        now = time.time()
        fast = cached_output(["--profile", "base"], home.env)
        full = full_path_output("base", home.env, now)
        if fast is not None:
            assert fast == full
        elif mutation is None and full is not None and credentials.seconds_left(now) > 901:
            # declined as stored (and not at the margin, which the fast path checks a moment later):
            # only for values json escapes
            values = [credentials.access_key_id, credentials.secret_access_key, credentials.session_token]
            assert not all(json_writes_as_is(value) for value in [*values, credentials.account_id or ""])


def json_writes_as_is(value: str) -> bool:
    return value.isascii() and value.isprintable() and '"' not in value and "\\" not in value


# --- what a hit imports ----------------------------------------------------------------------------

SHA256_MODULE = "_sha256" if sys.version_info < (3, 12) else "_sha2"
# The standard-library modules a hit may import beyond what the console-script wrapper (`import re,
# sys`) has loaded: __future__ (our modules' annotations), time (the clock) and CPython's own
# SHA-256 (the cache file's name). Anything else is a new import on every SDK call.
HIT_STDLIB_MODULES = {"__future__", "time", SHA256_MODULE}
HIT_OWN_MODULES = {
    "mfa_process",
    "mfa_process.cli",
    "mfa_process.cli.fast_hit",
    "mfa_process.config",
    "mfa_process.config.aws_files",
    "mfa_process.config.hit_settings",
    "mfa_process.config.ini_subset",
    "mfa_process.config.recursion_guard",
    "mfa_process.session",
    "mfa_process.session.cache_dir",
    "mfa_process.session.cache_hit",
    "mfa_process.session.session_key",
}
HIT_RUN = """
import re, sys
wrapper = set(sys.modules)  # what the console script's wrapper has loaded before our code
sys.argv = ["mfa-process", "--profile", "base"]
from mfa_process.cli import main
status = main()
sys.stderr.write("LOADED=" + ",".join(sorted(set(sys.modules) - wrapper)) + "\\n")
sys.exit(status)
"""


@pytest.mark.e2e  # starts a Python process: a fresh interpreter's modules
def test_a_hit_imports_exactly_these_modules(home):
    from processes import run

    stored = home.store()
    env = {**home.env, "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "AWS_ENDPOINT_URL_STS": "http://127.0.0.1:9"}
    if "PYTHONPATH" in os.environ:  # the same mfa_process as this test process
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]

    result = run([sys.executable, "-c", HIT_RUN], env=env, cwd=home.root, capture_output=True, text=True, timeout=60)

    assert result.returncode == 0, result.stderr
    assert result.stdout == stored.to_json() + "\n"
    loaded = set(result.stderr.strip().split("LOADED=")[-1].split(","))
    own = {name for name in loaded if name.split(".")[0] == "mfa_process"}
    assert own == HIT_OWN_MODULES
    assert loaded - own <= HIT_STDLIB_MODULES, "a new import on the cache-hit path"


@pytest.mark.e2e  # starts a Python process: a fresh interpreter's modules
def test_a_hit_for_keys_in_the_keyring_neither_imports_keyring_nor_reads_it(home):
    """The session of a keyring profile is cached under `keyring:<mfa_key_id>`: served from the files alone."""
    from processes import run

    keyring_facts = f"[profile base]\nmfa_key_store = keyring\nmfa_key_id = {BASE_KEY}\n"
    home.write(CONFIG.replace("[profile base]\n", keyring_facts), "")
    stored = session()
    home.cache.store(SessionKey("base", f"keyring:{BASE_KEY}", SERIAL, 43200), stored, issued_at=time.time())
    env = {**home.env, "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHON_KEYRING_BACKEND": "no.such.Backend"}
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    if "PYTHONPATH" in os.environ:
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]

    result = run([sys.executable, "-c", HIT_RUN], env=env, cwd=home.root, capture_output=True, text=True, timeout=60)

    assert result.returncode == 0, result.stderr
    assert result.stdout == stored.to_json() + "\n"
    loaded = set(result.stderr.strip().split("LOADED=")[-1].split(","))
    assert not {name for name in loaded if name.split(".")[0] in ("keyring", "secretstorage", "jeepney")}
    assert {name for name in loaded if name.split(".")[0] == "mfa_process"} == HIT_OWN_MODULES


def test_the_cache_file_mode_checks_match_the_caches(home):
    """The trust checks, file by file: what the cache warns about, the fast path declines."""
    home.store()
    path = home.session_file()
    for mode in (0o600, 0o400, 0o640, 0o604, 0o700, 0o610):
        path.chmod(mode)
        full = full_path_output("base", home.env, time.time())
        fast = cached_output(["--profile", "base"], home.env)
        assert (fast is not None) == (full is not None) == (stat.S_IMODE(mode) & 0o077 == 0), oct(mode)
