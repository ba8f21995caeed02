"""Red team of issue 11 (MFA age, --min-remaining, chains of code sources).

The attacks: cache files edited by hand (MFA times in the future, negative, huge, not numbers,
duplicated, moved) read by the cache hit and the full path; max ages written oddly; an Expiration
later than MFA + max age on any path (plugin, login, env, exec, status); a clock set back; two
processes with different --min-remaining at once; status of a profile it cannot read; and the
chain: a helper that ignores signals, prints a code and fails, leaks a TOTP seed or an escape
sequence, times out, or is interrupted with Ctrl-C.

Each attack is a plain test: those that once succeeded were strict xfails naming the file, the line
and a fix, until the fix landed.
"""

from __future__ import annotations

import calendar
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional

import pexpect
import pytest
from aws_home import AwsHome, contract, spawn
from fakes import FakeBin, wait_gone
from processes import isolated_env, run, started
from test_clients_e2e import BOTO3_CALL

from mfa_process.cli.fast_hit import cached_output
from mfa_process.config.hit_settings import hit_session_key
from mfa_process.config.settings import resolve_settings
from mfa_process.errors import ConfigError
from mfa_process.session.cache import SessionCache, SessionKey
from mfa_process.session.cache_dir import default_cache_dir
from mfa_process.session.cached_provider import CachedSessionProvider
from mfa_process.session.credentials import Credentials

SERIAL = "arn:aws:iam::123456789012:mfa/alice"
BASE_KEY = "AKIABASEKEY000000001"
KEY = SessionKey("base", BASE_KEY, SERIAL, 43200)
PROMPT = f"Enter MFA code for {SERIAL}: "
ERASE = "\r\x1b[2K"  # the terminal prompt erasing itself when nobody answered
MFA_LINE = '  "mfa_authenticated_at": '
HOUR = 3600
# A TOTP seed no fixture knows: the secret guard does not fail the test at teardown when it leaks,
# the assertions below say so instead.
SEED = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"


def epoch(expiration: str) -> int:
    return calendar.timegm(time.strptime(expiration, "%Y-%m-%dT%H:%M:%SZ"))


# --- hostile cache files: the cache hit and the full path read them alike ------------------------------


def profile_env(tmp_path: Path, extra: str = "") -> Dict[str, str]:
    """An environment whose base profile has static keys (so the cache hit can answer) and ``extra``."""
    (tmp_path / "config").write_text(f"[profile base]\nmfa_serial = {SERIAL}\n{extra}", encoding="utf-8")
    (tmp_path / "credentials").write_text(f"[base]\naws_access_key_id = {BASE_KEY}\naws_secret_access_key = s\n")
    return {
        "HOME": str(tmp_path),
        "AWS_CONFIG_FILE": str(tmp_path / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
    }


def store_session(environ: Dict[str, str], now: float) -> Path:
    """A 12-hour session issued now, its MFA 30 minutes old, as mfa-process writes it."""
    credentials = Credentials("ASIAHOSTILE", "secret", "token", int(now) + 12 * HOUR, "123456789012")
    cache = SessionCache(default_cache_dir(environ))
    return Path(cache.store(KEY, credentials, issued_at=now, mfa_authenticated_at=now - 30 * 60))


def full_path(environ: Dict[str, str]) -> Optional[str]:
    """What `login` and the full plugin path would serve from the cache (no STS: a miss is None)."""
    settings = resolve_settings("base", environ)
    provider = CachedSessionProvider(SessionCache(default_cache_dir(environ)), settings, None, None)  # type: ignore[arg-type]
    session = provider.cached()
    return None if session is None else session.credentials.to_json()


Edit = Callable[[List[str], float], List[str]]


def mfa_value(value: Callable[[float], str]) -> Edit:
    """The MFA time's line with ``value(now)`` as its JSON text."""
    return lambda lines, now: [MFA_LINE + value(now) + "," if line.startswith(MFA_LINE) else line for line in lines]


def without_mfa_line(lines: List[str], now: float) -> List[str]:
    return [line for line in lines if not line.startswith(MFA_LINE)]


def second_mfa_line(first_ago: float, later_ago: float) -> Edit:
    """Two MFA times: ``first_ago`` seconds old where mfa-process writes it, ``later_ago`` after
    expires_at (json keeps the later one)."""

    def edit(lines: List[str], now: float) -> List[str]:
        edited = mfa_value(lambda now: f"{now - first_ago:.3f}")(lines, now)
        index = next(i for i, line in enumerate(edited) if line.startswith('  "expires_at": '))
        return [*edited[: index + 1], f"{MFA_LINE}{now - later_ago:.3f},", *edited[index + 1 :]]

    return edit


def mfa_in_credentials(lines: List[str], now: float) -> List[str]:
    """The MFA time moved inside the credentials object (two hours old there): not where it counts."""
    edited = without_mfa_line(lines, now)
    index = edited.index('    "Version": 1,')
    return [*edited[: index + 1], f'    "mfa_authenticated_at": {now - 2 * HOUR:.3f},', *edited[index + 1 :]]


def escaped_key(lines: List[str], now: float) -> List[str]:
    """The key written with a JSON escape (json reads it as the MFA time, two hours old)."""
    escaped = '  "mfa_authenticated\\u005fat": '
    return [f"{escaped}{now - 2 * HOUR:.3f}," if line.startswith(MFA_LINE) else line for line in lines]


# (edit, whether the cache hit answers, whether the full path serves; None: either, so long as they agree)
HOSTILE_FILES = {
    "as written": (lambda lines, now: lines, True, True),
    "an hour in the future": (mfa_value(lambda now: f"{now + HOUR:.3f}"), True, True),
    "a day in the future": (mfa_value(lambda now: f"{now + 24 * HOUR:.3f}"), None, None),
    "negative": (mfa_value(lambda now: "-5"), False, False),
    "zero": (mfa_value(lambda now: "0"), False, False),
    "with an exponent": (mfa_value(lambda now: f"{now - 1800:.10e}"), False, True),
    "with an exponent, too old": (mfa_value(lambda now: f"{now - 2 * HOUR:.10e}"), False, False),
    "NaN": (mfa_value(lambda now: "NaN"), False, False),
    "Infinity": (mfa_value(lambda now: "Infinity"), False, False),
    "-Infinity": (mfa_value(lambda now: "-Infinity"), False, False),
    "null": (mfa_value(lambda now: "null"), False, False),
    "true": (mfa_value(lambda now: "true"), False, False),
    "a string": (mfa_value(lambda now: f'"{int(now)}"'), False, False),
    "hexadecimal": (mfa_value(lambda now: "0x10"), False, False),
    "a leading zero": (mfa_value(lambda now: f"0{int(now)}"), False, False),
    "a plus sign": (mfa_value(lambda now: f"+{int(now)}"), False, False),
    "two dots": (mfa_value(lambda now: f"{int(now)}.5.5"), False, False),
    "Arabic-Indic digits": (
        mfa_value(lambda now: str(int(now)).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))),
        False,
        False,
    ),
    "32 digits": (mfa_value(lambda now: "1" + "0" * 31), None, None),
    "missing (a file of an older version)": (without_mfa_line, True, True),
    "twice, the later older": (second_mfa_line(30 * 60, 2 * HOUR), False, False),
    "twice, the later younger": (second_mfa_line(2 * HOUR, 30 * 60), False, True),
    "moved into the credentials": (mfa_in_credentials, False, True),
    "its key escaped": (escaped_key, False, False),
}


@pytest.mark.parametrize("edit, hit_answers, full_serves", list(HOSTILE_FILES.values()), ids=list(HOSTILE_FILES))
def test_a_hand_edited_mfa_time_is_read_alike_by_the_hit_and_the_full_path(
    tmp_path: Path, edit: Edit, hit_answers: Optional[bool], full_serves: Optional[bool]
) -> None:
    environ = profile_env(tmp_path, "mfa_max_age = 1h\n")
    now = time.time()
    path = store_session(environ, now)
    path.write_text("\n".join(edit(path.read_text().split("\n"), now)))

    hit = cached_output(["--profile", "base"], environ)
    full = full_path(environ)

    assert hit_answers is None or (hit is not None) == hit_answers
    assert full_serves is None or (full is not None) == full_serves
    assert hit is None or hit == full  # the hit answers only with what the full path would print
    if full is not None:  # and never later than the MFA time json reads, plus the max age
        document = json.loads(path.read_text())
        mfa_at = document.get("mfa_authenticated_at", document["issued_at"])
        assert epoch(json.loads(full)["Expiration"]) <= int(mfa_at) + HOUR


def test_an_mfa_time_of_400_digits_is_a_damaged_file_not_a_crash(tmp_path: Path) -> None:
    environ = profile_env(tmp_path, "mfa_max_age = 1h\n")
    now = time.time()
    path = store_session(environ, now)
    path.write_text("\n".join(mfa_value(lambda now: "1" + "0" * 400)(path.read_text().split("\n"), now)))

    assert cached_output(["--profile", "base"], environ) is None  # too long for the hit: the full path decides
    assert full_path(environ) is None


# --- max ages written oddly ---------------------------------------------------------------------------------

MAX_AGES = {
    "1h": 3600,
    " 90m ": 5400,
    "01h": 3600,
    "16m": 960,
    "999999999h": 999999999 * 3600,
    "1H": None,
    "0x10": None,
    "١h": None,  # an Arabic-Indic digit one
    "１h": None,  # a fullwidth one
    "2 h": None,
    "+2h": None,
    "1e4": None,
    "3600.0": None,
    "1000000000h": None,  # ten digits
    "15m": None,  # not longer than the refresh margin
}


@pytest.mark.parametrize("where", ["profile", "environment"])
@pytest.mark.parametrize("text, seconds", list(MAX_AGES.items()), ids=[repr(text) for text in MAX_AGES])
def test_a_max_age_is_read_alike_by_the_hit_and_the_full_path(
    tmp_path: Path, text: str, seconds: Optional[int], where: str
) -> None:
    if where == "profile":
        environ = profile_env(tmp_path, f"mfa_max_age = {text}\n")
    else:
        environ = {**profile_env(tmp_path), "MFA_PROCESS_MAX_MFA_AGE": text}

    found = hit_session_key("base", environ)
    if seconds is None:
        assert found is None  # not sure: the full path says what is wrong
        with pytest.raises(ConfigError, match="MFA max age"):
            resolve_settings("base", environ)
    else:
        assert found is not None and found[4] == seconds
        assert resolve_settings("base", environ).max_mfa_age == seconds


# --- status: hostile MFA times, a profile it cannot read ----------------------------------------------------


def run_cli(environ: Dict[str, str], *args: str) -> subprocess.CompletedProcess:
    """`python -m mfa_process ARGS` with ``environ``'s files and cache, no terminal."""
    env = isolated_env(Path(environ["HOME"]), **{k: v for k, v in environ.items() if k != "HOME"})
    return run(
        [sys.executable, "-m", "mfa_process", *args],
        env=env,
        cwd=environ["HOME"],
        timeout=60,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.e2e
@pytest.mark.parametrize(
    "value",
    [
        pytest.param(lambda now: f"{now + 24 * HOUR:.3f}", id="a day in the future"),
        pytest.param(lambda now: "-5", id="negative"),
        pytest.param(lambda now: "-" + "1" * 12, id="12 digits before 1970"),
        pytest.param(lambda now: "1" + "0" * 17, id="18 digits"),
        pytest.param(lambda now: "1" + "0" * 31, id="32 digits"),
        pytest.param(
            lambda now: "1" + "0" * 400,
            id="400 digits",
        ),
    ],
)
def test_status_lists_a_session_with_a_hand_edited_mfa_time_or_calls_it_unreadable(
    tmp_path: Path, value: Callable[[float], str]
) -> None:
    environ = profile_env(tmp_path, "mfa_max_age = 1h\n")
    now = time.time()
    path = store_session(environ, now)
    path.write_text("\n".join(mfa_value(value)(path.read_text().split("\n"), now)))

    table = run_cli(environ, "status")
    as_json = run_cli(environ, "status", "--json")

    for result in (table, as_json):
        assert result.returncode == 0, result.stderr
        assert "unexpected" not in result.stderr
    listed = json.loads(as_json.stdout)
    assert len(listed) == 1 or "1 unreadable cache file(s)" in as_json.stderr


@pytest.mark.e2e
def test_a_damaged_mfa_time_does_not_stop_the_plugin_or_logout(tmp_path: Path) -> None:
    """A file that cannot be a session costs a prompt (here: no terminal, so that error), and
    `logout` gets past it, as it gets past every other damaged file."""
    environ = profile_env(tmp_path, "mfa_max_age = 1h\n")
    now = time.time()
    path = store_session(environ, now)
    path.write_text("\n".join(mfa_value(lambda now: "1" + "0" * 400)(path.read_text().split("\n"), now)))

    plugin = run_cli(environ, "--profile", "base")
    logout = run_cli(environ, "logout", "--profile", "base")

    assert "unexpected" not in plugin.stderr and "no terminal" in plugin.stderr, plugin.stderr
    assert logout.returncode == 0 and "unexpected" not in logout.stderr, logout.stderr
    assert run_cli(environ, "logout", "--all").returncode == 0  # damaged files go with --all
    assert not path.exists()


@pytest.mark.e2e
@pytest.mark.parametrize(
    "config_text, says",
    [
        pytest.param(
            f"[profile base]\nmfa_serial = {SERIAL}\nmfa_max_age = 1H\n",
            "1H",
            id="mfa_max_age unreadable",
        ),
        pytest.param(
            b"[profile base]\nmfa_serial = " + SERIAL.encode() + b"\nmfa_max_age = 1h\n# \xff\xfe\n",
            "not UTF-8",
            id="config file not UTF-8",
        ),
    ],
)
def test_status_says_when_it_cannot_read_a_sessions_profile(tmp_path: Path, config_text: object, says: str) -> None:
    environ = profile_env(tmp_path)
    store_session(environ, time.time())
    config = Path(environ["AWS_CONFIG_FILE"])
    if isinstance(config_text, bytes):
        config.write_bytes(config_text)
    else:
        config.write_text(str(config_text))

    result = run_cli(environ, "status")

    assert result.returncode == 0, result.stderr
    assert "base" in result.stdout  # the session is listed all the same
    assert says in result.stderr  # and what could not be read is said


# --- the Expiration on every path -------------------------------------------------------------------------


def with_max_age(aws: AwsHome) -> None:
    aws.write_config(aws.config_file.read_text().replace("[profile base]\n", "[profile base]\nmfa_max_age = 1h\n"))


def last_mfa_time(aws: AwsHome) -> float:
    mfa_at = aws.sts.sessions()[-1].mfa_authenticated_at
    assert mfa_at is not None
    return mfa_at


def exported(output: str, name: str) -> str:
    """The value of ``export NAME='value'`` in `env`'s sh output (or NAME=value in `env`'s own)."""
    for line in output.splitlines():
        for prefix in (f"export {name}=", f"{name}="):
            if line.startswith(prefix):
                return line[len(prefix) :].strip("'")
    raise AssertionError(f"{name} not in the output")


def test_no_path_prints_an_expiration_past_mfa_plus_the_max_age(aws: AwsHome) -> None:
    with_max_age(aws)
    seen: Dict[str, tuple] = {}  # path -> (Expiration, the double's MFA time of that session)

    fetched = aws.run(["exec", "--profile", "base", "--token-code", aws.code(-1), "--", "env"])
    assert fetched.returncode == 0, fetched.stderr
    mfa_at = last_mfa_time(aws)
    seen["exec, a new session"] = (exported(fetched.stdout, "AWS_CREDENTIAL_EXPIRATION"), mfa_at)
    env = aws.run(["env", "--profile", "base"])
    seen["env, from the cache"] = (exported(env.stdout, "AWS_CREDENTIAL_EXPIRATION"), mfa_at)
    seen["plugin, cache hit"] = (contract(aws.run(["--profile", "base"]).stdout)["Expiration"], mfa_at)
    full = aws.run(["--profile", "base", "--max-mfa-age", "1h"])  # a flag: the full path's lookup
    seen["plugin, full path"] = (contract(full.stdout)["Expiration"], mfa_at)
    [row] = json.loads(aws.run(["status", "--json"]).stdout)
    seen["status, served_until"] = (row["served_until"], mfa_at)
    login = aws.run(["login", "--profile", "base"])
    left = re.search(r"\(((\d+)h )?(\d+)m left\)", login.stderr)
    assert "already logged in" in login.stderr and left is not None, login.stderr
    assert int(left.group(2) or 0) * 60 + int(left.group(3)) <= 60  # login's report: the same cut

    refreshed = aws.run(["--profile", "base", "--refresh", "--token-code", aws.code(0)])
    seen["plugin, --refresh"] = (contract(refreshed.stdout)["Expiration"], last_mfa_time(aws))
    aws.env["XDG_CACHE_HOME"] = str(aws.root / "not-a-folder")
    (aws.root / "not-a-folder").write_text("")
    uncached = aws.run(["--profile", "base", "--token-code", aws.code(1)])
    assert "this session is not cached" in uncached.stderr
    seen["plugin, no usable cache"] = (contract(uncached.stdout)["Expiration"], last_mfa_time(aws))

    assert aws.sts.calls("GetSessionToken") == 3
    for path, (expiration, mfa_at) in seen.items():
        assert epoch(expiration) <= mfa_at + HOUR, path  # the sessions themselves last 12 hours
        assert epoch(expiration) >= mfa_at + HOUR - 5, path  # cut to the policy, not shorter


def get_user(aws: AwsHome, code: str) -> tuple:
    """boto3 in a pseudo-terminal, IAM GetUser as profile mfa; answers a prompt with ``code``.
    (exit status, prompts seen, output)."""
    child = spawn(sys.executable, aws, args=["-c", BOTO3_CALL, "mfa", "GetUser"], timeout=60)
    prompts = 0
    while child.expect_exact([PROMPT, pexpect.EOF]) == 0:
        prompts += 1
        child.sendline(code)
    output = child.before
    child.close()
    return child.exitstatus, prompts, output


def test_a_clock_set_back_after_the_session_was_issued_never_serves_it_past_the_policy(
    aws: AwsHome, clock_shift
) -> None:
    """mfa-process ran 5 minutes fast (as far as SigV4 lets a clock be off) when it recorded the
    MFA time, then the clock was set right: the recorded MFA time is 5 minutes late. The refresh
    margin absorbs that: every call is either served while IAM still allows it, or prompts."""
    with_max_age(aws)
    aws.sts.max_mfa_age = HOUR
    real_env = dict(aws.env)
    aws.env = clock_shift(real_env, 5 * 60)
    assert aws.run(["login", "--profile", "base", "--token-code", aws.code()]).returncode == 0

    aws.sts.clock_offset = 46 * 60
    aws.env = clock_shift(real_env, 46 * 60)  # the clock set right, 46 minutes after the MFA
    assert get_user(aws, aws.code(1))[:2] == (0, 0)  # 19 minutes left by the late MFA time: served

    aws.sts.clock_offset = 58 * 60
    aws.env = clock_shift(real_env, 58 * 60)
    status, prompts, output = get_user(aws, aws.code(1))
    assert (status, prompts) == (0, 1), output  # 7 minutes left by it: asked again, not denied
    assert aws.sts.calls("GetSessionToken") == 2


# --- --min-remaining with --refresh, two processes at once ----------------------------------------------------


def holds_a_lock_file_open(pid: int) -> bool:
    try:
        return any(os.readlink(fd).endswith(".lock") for fd in Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False


def test_refresh_and_a_long_min_remaining_at_once_ask_once(aws: AwsHome) -> None:
    with_max_age(aws)
    aws.sts.delay = 1.5  # a slow network: STS answers after 1.5 s
    first = spawn("mfa-process login --profile base --refresh", aws)
    first.expect_exact(PROMPT)
    second = spawn("mfa-process login --profile base --min-remaining 3599", aws)
    deadline = time.monotonic() + 15
    while not holds_a_lock_file_open(second.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert holds_a_lock_file_open(second.pid), "the second login never reached the lock"

    first.sendline(aws.code())
    first.expect(pexpect.EOF)
    first.close()
    asked_again = second.expect_exact([PROMPT, pexpect.EOF], timeout=30) == 0
    second.close(force=True)

    assert first.exitstatus == 0, first.before
    assert not asked_again, "the second login asked for another code"
    assert second.exitstatus == 0
    assert aws.sts.calls("GetSessionToken") == 1


# --- the chain of code sources ----------------------------------------------------------------------------


@pytest.fixture
def fakes(aws: AwsHome) -> FakeBin:
    fake_bin = FakeBin(aws.root / "fakes")
    fake_bin.install(aws.env)
    return fake_bin


def base_profile(aws: AwsHome, *lines: str, prompt: Optional[str] = None) -> None:
    extra = "".join(line + "\n" for line in lines) + (f"mfa_prompt = {prompt}\n" if prompt else "")
    aws.write_config(f"[profile base]\nmfa_serial = {SERIAL}\n{extra}")


def codes_sent(aws: AwsHome) -> List[str]:
    return [r["params"].get("TokenCode") for r in aws.sts.requests if r["action"] == "GetSessionToken"]


def test_escape_sequences_in_what_helpers_said_reach_the_terminal_escaped(aws: AwsHome, fakes: FakeBin) -> None:
    fakes.add("ykman", status=1, stderr="\x1b]0;owned\x07\x1b[2JERROR: No YubiKey detected!\n")
    fakes.add("zenity", status=1, stderr="\x1b[31m(zenity:7): Gtk-WARNING **: cannot open display: :0\x1b[0m\x9b2J\n")
    aws.env["DISPLAY"] = ":0"
    base_profile(aws, prompt="ykman, zenity, terminal")

    for args in (["--profile", "base"], ["--profile", "base", "--verbose"]):
        result = aws.run(args)

        assert result.returncode == 1
        assert "no code source worked: ykman: no YubiKey found" in result.stderr
        assert not {"\x1b", "\x07", "\x9b", "\r"} & set(result.stderr), repr(result.stderr)
        assert "\\x1b]0;owned\\x07" in result.stderr  # shown, harmless
        if "--verbose" not in args:
            assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "helper, fake_step, passes_on",
    [
        pytest.param("ykman", dict(status=1, stderr="ERROR: No YubiKey detected!\n"), True, id="ykman, no YubiKey"),
        pytest.param("ykman", dict(status=2, stderr="ERROR: Failed to connect\n"), False, id="ykman, other failure"),
        pytest.param("zenity", dict(status=1), False, id="zenity, cancelled"),
        pytest.param("zenity", dict(status=5, stderr="Gtk-CRITICAL\n"), False, id="zenity, crashed"),
        pytest.param("op", dict(status=1, stderr="op: session expired\n"), False, id="mfa_process command"),
    ],
)
def test_a_code_printed_by_a_helper_that_failed_is_never_sent(
    aws: AwsHome, fakes: FakeBin, helper: str, fake_step: dict, passes_on: bool
) -> None:
    printed, good = aws.wrong_code(), aws.code()
    fakes.add(helper, stdout=f"{printed}\n", **fake_step)
    kdialog = fakes.add("kdialog", stdout=f"{good}\n")  # the next source: answers with a good code
    aws.env["DISPLAY"] = ":0"
    chain = {"ykman": "ykman, kdialog", "zenity": "zenity, kdialog", "op": "command, kdialog"}[helper]
    base_profile(aws, "mfa_process = op item get aws --otp", prompt=chain)

    result = aws.run(["--profile", "base"])

    assert printed not in codes_sent(aws)
    if passes_on:
        assert result.returncode == 0, result.stderr
        assert codes_sent(aws) == [good] and len(kdialog.calls()) == 1
    else:
        assert result.returncode == 1 and result.stdout == ""
        assert codes_sent(aws) == [] and kdialog.calls() == []


SIGNAL_PROOF = """#!{python}
import os, signal, sys, time
for name in ("SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGPIPE"):
    signal.signal(getattr(signal, name), signal.SIG_IGN)
with open({pid_file!r}, "w") as pid_file:
    pid_file.write(str(os.getpid()))
sys.stderr.write("Touch your YubiKey...\\n")
sys.stderr.flush()
while True:
    time.sleep(1000)
"""


def test_a_helper_that_ignores_every_signal_it_can_is_killed_at_its_timeout(aws: AwsHome, fakes: FakeBin) -> None:
    pid_file = aws.root / "ykman.pid"
    ykman = fakes.directory / "ykman"
    ykman.write_text(SIGNAL_PROOF.format(python=sys.executable, pid_file=str(pid_file)))
    ykman.chmod(0o755)
    fakes.add("zenity", stdout=f"{aws.code()}\n")
    aws.env["DISPLAY"] = ":0"
    base_profile(aws, "mfa_prompt_timeout = 1", prompt="ykman, zenity")

    started_at = time.monotonic()
    result = aws.run(["--profile", "base"], timeout=30)

    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started_at < 8
    assert wait_gone([int(pid_file.read_text())], 2) == []


def test_ctrl_c_while_the_second_source_asks_ends_the_chain_and_its_helper(aws: AwsHome, fakes: FakeBin) -> None:
    zenity = fakes.add("zenity", hang=True, child=True)  # ykman is not installed: zenity is the second source
    aws.env["DISPLAY"] = ":0"
    base_profile(aws, prompt="ykman, zenity, terminal")

    child = spawn("mfa-process --profile base", aws, timeout=30)
    assert len(zenity.wait_for_calls(1, timeout=15)) == 1
    child.sendintr()
    child.expect(pexpect.EOF)
    child.close()
    shown = child.logfile_read.getvalue()

    assert child.exitstatus == 130, shown
    assert "interrupted; no credentials were issued" in shown
    assert PROMPT not in shown  # the terminal, the third source, was not asked
    assert "no code source worked" not in shown
    assert wait_gone(zenity.pids(), 3) == []
    assert aws.sts.calls() == 0


@pytest.mark.parametrize(
    "command, echoed",
    [
        pytest.param(f'"oathtool --totp -b {SEED}"', None, id="the whole command quoted"),
        pytest.param(f"oathtool --totp -b{SEED}", f"oathtool: cannot decode {SEED}\n", id="seed attached to -b"),
    ],
)
def test_the_chains_last_word_never_shows_a_seed_from_the_command_line(
    aws: AwsHome, fakes: FakeBin, command: str, echoed: Optional[str]
) -> None:
    if echoed is not None:
        fakes.add("oathtool", status=1, stderr=echoed)
    base_profile(aws, f"mfa_process = {command}", prompt="command, terminal")

    result = aws.run(["--profile", "base"])

    assert result.returncode == 1 and "mfa_process command failed" in result.stderr
    assert SEED not in result.stderr and SEED[:8] not in result.stderr, result.stderr


def test_an_mfa_process_command_that_times_out_passes_auto_to_the_terminal(aws: AwsHome, fakes: FakeBin) -> None:
    op = fakes.add("op", hang=True, stderr="op: waiting for the 1Password app to unlock\n")
    base_profile(aws, "mfa_process = op item get aws --otp", "mfa_prompt_timeout = 1")  # mfa_prompt: auto

    child = spawn("mfa-process --profile base", aws, timeout=30)
    asked = child.expect_exact([PROMPT, pexpect.EOF], timeout=15) == 0
    if asked:
        child.sendline(aws.code())
        child.expect(pexpect.EOF)
    child.close()

    assert len(op.calls()) == 1
    assert asked, child.logfile_read.getvalue()
    assert child.exitstatus == 0
    assert aws.sts.calls("GetSessionToken") == 1


def test_a_waiter_outlasts_auto_asking_the_terminal_then_a_dialog(aws: AwsHome, fakes: FakeBin) -> None:
    """The person is at a desktop, away from the terminal: the terminal's question times out, zenity
    asks, the person answers it. A second SDK process started meanwhile must get that session."""
    prompt_timeout, sts_timeout = 12, 2  # a waiter gives up after 12 + 2 + 5 = 19 s
    zenity = fakes.add("zenity", stdout=f"{aws.code()}\n", delay=9)  # answered 9 s after it shows
    aws.env.update(
        DISPLAY=":0", MFA_PROCESS_PROMPT_TIMEOUT=str(prompt_timeout), MFA_PROCESS_STS_TIMEOUT=str(sts_timeout)
    )

    holder = spawn("mfa-process --profile base", aws, timeout=60)
    holder.expect_exact(PROMPT)
    with started(
        ["mfa-process", "--profile", "base"],
        env=aws.env,
        cwd=aws.root,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
    ) as waiter:
        holder.expect_exact(ERASE, timeout=prompt_timeout + 5)  # nobody answered at the terminal
        assert len(zenity.wait_for_calls(1, timeout=10)) == 1
        holder.expect(pexpect.EOF, timeout=30)
        holder.close()
        out, err = waiter.communicate(timeout=30)
    aws.guard.check("the waiter's stderr", err)

    assert holder.exitstatus == 0, holder.logfile_read.getvalue()
    assert waiter.returncode == 0, err
    held = json.loads(holder.before[holder.before.index("{") :])
    assert contract(out)["AccessKeyId"] == held["AccessKeyId"]
    assert aws.sts.calls("GetSessionToken") == 1
