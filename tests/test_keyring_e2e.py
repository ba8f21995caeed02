"""Long-term keys in the OS keyring, end to end: `mfa-process add`, `remove` and `status`, the
plugin through boto3 and the AWS CLI in a real pseudo-terminal, against a real Secret Service
(gnome-keyring on a private D-Bus, tests/secret_service.py) and the STS double.

What a person sees is checked on the terminal (the secret typed without echo never shows), what
is stored through a separate keyring client, and what other tools make of the config file's new
keys by running them (botocore, the AWS CLI, the JS SDK)."""

from __future__ import annotations

import calendar
import configparser
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import pexpect
import pytest
from aws_home import AwsHome, contract, spawn
from processes import run
from secret_service import SecretService

SERVICE = "mfa-process"  # the keyring entry: service mfa-process, user name the base profile
PROMPT = "Enter MFA code for arn:aws:iam::123456789012:mfa/alice: "
KEY_ID_PROMPT = "AWS access key ID: "
SECRET_PROMPT = "AWS secret access key: "
ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
FACTS = ("mfa_key_store", "mfa_key_added", "mfa_key_created")
JS_DIR = Path(__file__).parent / "js"
STEP_SECONDS = 30  # one mfa-process run or client call; each answers in about a second here

needs_js = pytest.mark.skipif(
    not (JS_DIR / "node_modules" / "@aws-sdk" / "credential-providers").is_dir()
    or not (JS_DIR / "node_modules" / "@smithy" / "core").is_dir()
    or not shutil.which("node"),
    reason="needs node and `npm install --no-package-lock --prefix tests/js` (README, Running the tests)",
)


@pytest.fixture
def home(aws: AwsHome, secret_service: SecretService) -> AwsHome:
    """The AWS home whose every process (run, spawn) reaches the test's own Secret Service; the
    credentials file starts without the base keys, so that `add` may store them."""
    aws.env.update(secret_service.environ)
    aws.write_credentials("")
    return aws


# ---- helpers -------------------------------------------------------------------------------------
def entry(aws: AwsHome) -> Dict[str, object]:
    """The keyring entry mfa-process writes for the default user's key."""
    return {"Version": 1, "AccessKeyId": aws.user.access_key_id, "SecretAccessKey": aws.user.secret_access_key}


def stored(secret_service: SecretService, profile: str = "base") -> Optional[Dict[str, object]]:
    """The profile's entry, read back by a keyring client of its own (not mfa-process)."""
    text = secret_service.stored(SERVICE, profile)
    return None if text is None else json.loads(text)


def profile_options(aws: AwsHome, profile: str = "base") -> Dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(aws.config_file)
    return dict(parser[f"profile {profile}"])


def add_from_env(aws: AwsHome) -> subprocess.CompletedProcess:
    """`mfa-process add --profile base --from-env` with the default user's key, no terminal."""
    env = dict(aws.env)
    aws.env.update(AWS_ACCESS_KEY_ID=aws.user.access_key_id, AWS_SECRET_ACCESS_KEY=aws.user.secret_access_key)
    try:
        result = aws.run(["add", "--profile", "base", "--from-env"], timeout=STEP_SECONDS)
    finally:
        aws.env.clear()
        aws.env.update(env)
    assert result.returncode == 0, result.stderr
    return result


def files_under(root: Path) -> Dict[str, bytes]:
    """Every regular file under ``root`` (relative path -> content); sockets and links skipped."""
    found = {}
    for folder, _, names in os.walk(root):
        for name in names:
            path = Path(folder, name)
            if path.is_file() and not path.is_symlink():
                found[str(path.relative_to(root))] = path.read_bytes()
    return found


def plain_copies(files: Dict[str, bytes], secret: str) -> List[str]:
    """The files that hold ``secret`` as text (UTF-8, or UTF-16 either way round)."""
    forms = [secret.encode("utf-8"), secret.encode("utf-16-le"), secret.encode("utf-16-be")]
    return sorted(name for name, data in files.items() if any(form in data for form in forms))


def assert_one_line_error(stderr: str, *fragments: str) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mfa-process: "), stderr
    assert "Traceback" not in stderr
    for fragment in fragments:
        assert fragment in stderr, stderr


BOTO3_GET_USER = """
import json, sys
import boto3, botocore.exceptions
try:
    user = boto3.Session(profile_name=sys.argv[1]).client("iam", region_name="us-east-1").get_user()["User"]
except botocore.exceptions.ClientError as error:
    sys.exit(f"{error.response['Error']['Code']}: {error.response['Error']['Message']}")
print(json.dumps({"Arn": user["Arn"]}))
"""


def get_user_command(client: str) -> Tuple[str, List[str]]:
    """IAM GetUser (denied without MFA) as profile mfa, from ``client``."""
    if client == "aws-cli":
        return "aws", ["iam", "get-user", "--profile", "mfa", "--output", "json"]
    return sys.executable, ["-c", BOTO3_GET_USER, "mfa"]


def call_in_terminal(aws: AwsHome, client: str, code: Optional[str] = None) -> Tuple[int, str, int]:
    """One GetUser in a pseudo-terminal, ``code`` typed at every MFA prompt: (prompts, output after
    the last prompt, exit status)."""
    command, args = get_user_command(client)
    child = spawn(command, aws, timeout=STEP_SECONDS, args=args)
    prompts = 0
    while child.expect_exact([PROMPT, pexpect.EOF]) == 0:
        prompts += 1
        child.sendline(code or "")
    output = child.before
    child.close()
    return prompts, output, child.exitstatus


def arn_in(output: str) -> Optional[str]:
    found = re.search(r'"Arn":\s*"([^"]+)"', output)
    return found.group(1) if found else None


# ---- add on the terminal -------------------------------------------------------------------------
def test_add_on_a_terminal_echoes_the_key_id_hides_the_secret_and_stores_both(
    home: AwsHome, secret_service: SecretService
) -> None:
    key_id, secret = home.user.access_key_id, home.user.secret_access_key
    child = spawn("mfa-process", home, timeout=STEP_SECONDS, args=["add", "--profile", "base"])

    child.expect_exact(KEY_ID_PROMPT)
    child.sendline(key_id)
    child.expect_exact(SECRET_PROMPT)  # written once echo is off: what is typed from here is hidden
    child.sendline(secret)
    child.expect(pexpect.EOF)
    child.close()
    transcript = child.logfile_read.getvalue()

    assert child.exitstatus == 0, transcript
    assert transcript.startswith(f"{KEY_ID_PROMPT}{key_id}\r\n{SECRET_PROMPT}\r\n"), transcript
    assert secret not in transcript
    assert f"stored key {key_id} of profile base in the keyring" in transcript
    assert stored(secret_service) == entry(home)
    options = profile_options(home)
    assert options["mfa_key_store"] == "keyring"
    assert ISO_UTC.fullmatch(options["mfa_key_added"])
    added = calendar.timegm(time.strptime(options["mfa_key_added"], "%Y-%m-%dT%H:%M:%SZ"))
    assert abs(added - time.time()) < 300
    assert options["mfa_serial"] == home.user.mfa_serial  # the rest of the profile kept


MALFORMED = {
    "short key ID": ("AKIA1234", None, "is not an IAM user's key"),
    "temporary key ID": ("ASIAIOSFODNN7EXAMPLE", None, "temporary"),
    "short secret": (None, "wJalrXUtnFEMI/K7MDENG", "is not 40 characters"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_add_refuses_a_malformed_key_with_one_line_and_stores_nothing(
    home: AwsHome, secret_service: SecretService, case: str
) -> None:
    bad_id, bad_secret, fragment = MALFORMED[case]
    config_before, credentials_before = home.config_file.read_bytes(), home.credentials_file.read_bytes()
    child = spawn("mfa-process", home, timeout=STEP_SECONDS, args=["add", "--profile", "base"])

    child.expect_exact(KEY_ID_PROMPT)
    child.sendline(bad_id or home.user.access_key_id)
    child.expect_exact(SECRET_PROMPT)
    child.sendline(bad_secret or home.user.secret_access_key)
    child.expect(pexpect.EOF)
    child.close()
    after_prompts = child.logfile_read.getvalue().split(SECRET_PROMPT, 1)[1]

    assert child.exitstatus not in (0, None), after_prompts
    assert_one_line_error(after_prompts, fragment)
    assert home.user.secret_access_key not in after_prompts
    assert bad_secret is None or bad_secret not in after_prompts  # a bad secret is not quoted either
    assert stored(secret_service) is None
    assert home.config_file.read_bytes() == config_before
    assert home.credentials_file.read_bytes() == credentials_before


# ---- add --from-env ------------------------------------------------------------------------------
def test_add_from_env_needs_no_terminal(home: AwsHome, secret_service: SecretService) -> None:
    result = add_from_env(home)

    assert result.stdout.startswith(
        f"stored key {home.user.access_key_id} of profile base in the keyring (service mfa-process, account base)\n"
    )
    assert result.stderr == ""
    assert stored(secret_service) == entry(home)
    assert profile_options(home)["mfa_key_store"] == "keyring"


# ---- add --from-credentials-file -----------------------------------------------------------------
CREDENTIALS_WITH_NEIGHBOURS = """\
# my keys; rotated by hand, keep this comment
[other]
aws_access_key_id = AKIAOTHEROTHEROTHER1
aws_secret_access_key = otherSecretOtherSecretOtherSecretOther12

[base]
; the base profile of mfa-process
aws_access_key_id = {key_id}
metadata_service_timeout = 3
aws_secret_access_key = {secret}
metadata_service_num_attempts = 2

# trailing comment
"""


def test_add_from_credentials_file_moves_the_keys_and_leaves_no_plain_copy(
    home: AwsHome, secret_service: SecretService, tmp_path: Path
) -> None:
    key_id, secret = home.user.access_key_id, home.user.secret_access_key
    original = CREDENTIALS_WITH_NEIGHBOURS.format(key_id=key_id, secret=secret)
    home.write_credentials(original)
    aws_files_before = sorted(p.name for p in home.config_file.parent.iterdir())
    files = files_under(tmp_path)
    keyrings_before = {name: data for name, data in files.items() if name.endswith(".keyring")}
    assert plain_copies(files, secret) == [".aws/credentials"]  # the search below finds a plain copy

    result = home.run(["add", "--profile", "base", "--from-credentials-file"], timeout=STEP_SECONDS)

    assert result.returncode == 0, result.stderr
    assert f"removed the key from {home.credentials_file}" in result.stdout
    assert stored(secret_service) == entry(home)
    expected = original.replace(f"aws_access_key_id = {key_id}\n", "")
    expected = expected.replace(f"aws_secret_access_key = {secret}\n", "")
    assert home.credentials_file.read_text() == expected  # everything else byte for byte
    assert profile_options(home)["mfa_key_store"] == "keyring"
    assert sorted(p.name for p in home.config_file.parent.iterdir()) == aws_files_before  # no backup
    files = files_under(tmp_path)
    keyrings = {name: data for name, data in files.items() if name.endswith(".keyring")}
    assert keyrings != keyrings_before, sorted(files)  # the entry went to disk, in the files searched below
    assert plain_copies(files, secret) == [], "files under the test HOME hold the secret in plain text"
    assert not [name for name in files if re.search(r"(~|\.bak|\.orig|\.old|\.tmp)$", name)], sorted(files)


# ---- the plugin with keys from the keyring -------------------------------------------------------
@pytest.mark.parametrize("client", ["boto3", "aws-cli"])
def test_client_prompts_once_then_hits_the_cache_without_the_keyring(
    home: AwsHome, secret_service: SecretService, client: str
) -> None:
    add_from_env(home)
    assert "aws_access_key_id" not in home.credentials_file.read_text()  # only the keyring has the key

    prompts, output, status = call_in_terminal(home, client, home.code())

    assert (prompts, status) == (1, 0), output
    assert arn_in(output) == home.user.arn
    [token_call] = [r for r in home.sts.requests if r["action"] == "GetSessionToken"]
    assert (token_call["access_key_id"], token_call["status"]) == (home.user.access_key_id, 200)

    secret_service.lock()  # a hit that read the keyring would fail now
    prompts, output, status = call_in_terminal(home, client)

    assert (prompts, status) == (0, 0), output
    assert arn_in(output) == home.user.arn
    assert home.sts.calls("GetSessionToken") == 1
    assert [r["status"] for r in home.sts.requests if r["action"] == "GetUser"] == [200, 200]
    assert secret_service.is_locked()


def test_sts_get_caller_identity_through_the_aws_cli(home: AwsHome, secret_service: SecretService) -> None:
    add_from_env(home)
    args = ["sts", "get-caller-identity", "--profile", "mfa", "--output", "json"]
    child = spawn("aws", home, timeout=STEP_SECONDS, args=args)

    child.expect_exact(PROMPT)
    child.sendline(home.code())
    child.expect(pexpect.EOF)
    child.close()

    assert child.exitstatus == 0, child.before
    assert f'"Arn": "{home.user.arn}"' in child.before
    assert home.sts.calls("GetSessionToken") == 1


# ---- a miss with the keyring locked --------------------------------------------------------------
def test_miss_with_a_locked_keyring_fails_clearly_and_quickly(home: AwsHome, secret_service: SecretService) -> None:
    add_from_env(home)
    secret_service.lock()

    started = time.monotonic()
    result = home.run(["--profile", "base", "--token-code", home.code()], timeout=STEP_SECONDS)
    elapsed = time.monotonic() - started

    assert result.returncode not in (0, None)
    assert result.stdout == ""
    assert_one_line_error(result.stderr, "keyring is locked", "unlock")
    assert elapsed < 15, elapsed  # keyring's answer from a Secret Service that cannot prompt is immediate
    assert home.sts.calls() == 0
    assert home.cache_files() == []


# ---- no keyring backend at all -------------------------------------------------------------------
@pytest.mark.parametrize("command", ["add", "plugin"])
def test_no_usable_keyring_names_the_fix_and_writes_nothing(aws: AwsHome, tmp_path: Path, command: str) -> None:
    """No D-Bus session bus: keyring finds no backend. Nothing falls back to a file; the plugin's
    miss leaves only its empty lock file, as every miss does."""
    aws.env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    aws.env.pop("PYTHON_KEYRING_BACKEND", None)
    aws.write_credentials("")
    if command == "add":
        aws.env.update(AWS_ACCESS_KEY_ID=aws.user.access_key_id, AWS_SECRET_ACCESS_KEY=aws.user.secret_access_key)
        args = ["add", "--profile", "base", "--from-env"]
    else:
        aws.write_config(
            aws.config_file.read_text().replace("[profile base]\n", "[profile base]\nmfa_key_store = keyring\n")
        )
        args = ["--profile", "base", "--token-code", aws.code()]
    before = files_under(tmp_path)

    result = aws.run(args, timeout=STEP_SECONDS)

    assert result.returncode not in (0, None)
    assert result.stdout == ""
    assert_one_line_error(result.stderr, "no usable OS keyring", "keyrings.cryptfile", "gnome-keyring-daemon")
    after = files_under(tmp_path)
    assert {name: data for name, data in after.items() if name in before} == before  # nothing changed
    new = {name: data for name, data in after.items() if name not in before}
    locks = {name for name, data in new.items() if re.fullmatch(r"\.cache/mfa-process/[^/]+\.lock", name) and not data}
    assert set(new) == (locks if command == "plugin" else set()), sorted(new)
    assert aws.sts.calls() == 0


# ---- keys in both places -------------------------------------------------------------------------
def test_keys_in_the_credentials_file_and_the_keyring_are_refused(home: AwsHome, secret_service: SecretService) -> None:
    add_from_env(home)
    home.write_credentials(
        f"[base]\naws_access_key_id = {home.user.access_key_id}\n"
        f"aws_secret_access_key = {home.user.secret_access_key}\n"
    )

    result = home.run(["--profile", "base", "--token-code", home.code()], timeout=STEP_SECONDS)

    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert_one_line_error(
        result.stderr,
        f"profile 'base' has keys in {home.credentials_file} and mfa_key_store = keyring",
        "mfa-process would use the keyring's, other tools the file's",
        "`mfa-process add --profile base --from-credentials-file`",
        "remove mfa_key_store",
    )
    assert home.sts.calls() == 0


# ---- remove --------------------------------------------------------------------------------------
def test_remove_asks_then_deletes_the_entry_the_facts_and_the_sessions(
    home: AwsHome, secret_service: SecretService
) -> None:
    add_from_env(home)
    served = home.run(["--profile", "base", "--token-code", home.code()], timeout=STEP_SECONDS)
    assert served.returncode == 0, served.stderr
    sessions = home.cache_files()
    assert sessions

    child = spawn("mfa-process", home, timeout=STEP_SECONDS, args=["remove", "--profile", "base"])
    child.expect_exact(f"Delete key {home.user.access_key_id} of profile base from the keyring? [y/N] ")
    child.sendline("n")
    child.expect(pexpect.EOF)
    child.close()

    assert child.exitstatus == 1, child.before
    assert "nothing was removed" in child.before
    assert stored(secret_service) == entry(home)
    assert profile_options(home)["mfa_key_store"] == "keyring"
    assert home.cache_files() == sessions

    removed = home.run(["remove", "--profile", "base", "--yes"], timeout=STEP_SECONDS)

    assert removed.returncode == 0, removed.stderr
    assert f"deleted key {home.user.access_key_id} of profile base" in removed.stdout
    assert stored(secret_service) is None
    assert not set(FACTS) & set(profile_options(home))
    assert profile_options(home)["mfa_serial"] == home.user.mfa_serial
    assert home.cache_files() == []
    assert not any(path.exists() for path in sessions)

    again = home.run(["remove", "--profile", "base", "--yes"], timeout=STEP_SECONDS)

    assert again.returncode == 1
    assert again.stdout == ""
    assert_one_line_error(again.stderr, "the keyring has no keys for profile 'base'")


# ---- other tools read the config with the mfa_key_* keys -----------------------------------------
BOTOCORE_READS = """
import json, logging, sys, warnings
logging.basicConfig(level=logging.WARNING, stream=sys.stderr)  # a warning of botocore's shows up
warnings.simplefilter("always")  # and every Python warning, on stderr
import boto3, botocore.session
config = botocore.session.Session(profile="base").get_scoped_config()
session = boto3.Session(profile_name="mfa")
frozen = session.get_credentials().get_frozen_credentials()
print(json.dumps({
    "store": config.get("mfa_key_store"),
    "region": botocore.session.Session(profile="mfa").get_config_variable("region"),
    "key": frozen.access_key[:4],
}))
"""


def logged_in(aws: AwsHome) -> None:
    """The base profile's keys in the keyring and one MFA session cached for it."""
    add_from_env(aws)
    served = aws.run(["--profile", "base", "--token-code", aws.code()], timeout=STEP_SECONDS)
    assert served.returncode == 0, served.stderr
    contract(served.stdout)


def test_botocore_reads_the_config_and_gets_credentials_without_a_warning(
    home: AwsHome, secret_service: SecretService
) -> None:
    logged_in(home)
    assert "mfa_key_added" in home.config_file.read_text()

    result = run(
        [sys.executable, "-c", BOTOCORE_READS],
        env=home.env,
        cwd=home.root,
        capture_output=True,
        text=True,
        timeout=STEP_SECONDS,
    )

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert json.loads(result.stdout) == {"store": "keyring", "region": "us-east-1", "key": "ASIA"}


def aws_cli_v2() -> Optional[str]:
    """An AWS CLI v2 installed on the system (Debian's package, or AWS's installer), if any."""
    for path in ("/usr/bin/aws", "/usr/local/bin/aws"):
        if os.access(path, os.X_OK):
            version = run([path, "--version"], capture_output=True, text=True, timeout=STEP_SECONDS)
            if version.stdout.startswith("aws-cli/2"):
                return path
    return None


@pytest.mark.parametrize("cli", ["aws", "v2"])
def test_the_aws_cli_lists_the_base_profile_without_a_word_on_stderr(
    home: AwsHome, secret_service: SecretService, cli: str
) -> None:
    command = "aws" if cli == "aws" else aws_cli_v2()
    if command is None:
        reason = "no AWS CLI v2 installed (/usr/bin/aws, /usr/local/bin/aws; Debian: apt-get install awscli)"
        if os.environ.get("CI"):  # .ci/run installs it: there, a missing CLI is a failure
            pytest.fail(reason)
        pytest.skip(reason + "; the venv's aws is checked")
    add_from_env(home)

    listed = run(
        [command, "configure", "list", "--profile", "base"],
        env=home.env,
        cwd=home.root,
        capture_output=True,
        text=True,
        timeout=STEP_SECONDS,
    )
    store = run(
        [command, "configure", "get", "mfa_key_store", "--profile", "base"],
        env=home.env,
        cwd=home.root,
        capture_output=True,
        text=True,
        timeout=STEP_SECONDS,
    )

    assert listed.returncode == 0, listed.stderr
    assert listed.stderr == ""
    assert "profile" in listed.stdout and "base" in listed.stdout
    assert (store.returncode, store.stdout, store.stderr) == (0, "keyring\n", "")


JS_READS = """
import { loadSharedConfigFiles } from "@smithy/core/config";
import { fromIni } from "@aws-sdk/credential-providers";
const files = await loadSharedConfigFiles();
const credentials = await fromIni({ profile: "mfa" })();
console.log(JSON.stringify({ store: files.configFile.base.mfa_key_store, key: credentials.accessKeyId.slice(0, 4) }));
"""


@needs_js
def test_the_js_sdk_loads_the_config_and_gets_credentials_without_a_warning(
    home: AwsHome, secret_service: SecretService
) -> None:
    logged_in(home)

    result = run(
        ["node", "--input-type=module", "-e", JS_READS],
        env=home.env,
        cwd=JS_DIR,  # node resolves the packages from here (tests/js/node_modules)
        capture_output=True,
        text=True,
        timeout=STEP_SECONDS,
    )

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert json.loads(result.stdout) == {"store": "keyring", "key": "ASIA"}


# ---- status: where the keys live, and how old they are -------------------------------------------
def key_rows(stdout: str) -> List[List[str]]:
    """The BASE PROFILE table's rows, split into cells."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("BASE PROFILE"))
    return [re.split(r"\s{2,}", line.strip()) for line in lines[start + 1 :] if line.strip()]


def test_status_shows_the_keyring_and_the_keys_age(home: AwsHome, secret_service: SecretService) -> None:
    add_from_env(home)

    result = home.run(["status"], timeout=STEP_SECONDS)

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert key_rows(result.stdout) == [["base", "keyring", ">=0d"]]


def test_status_warns_to_rotate_a_key_added_100_days_ago(aws: AwsHome) -> None:
    """Written by hand, and no keyring running: status reads only the files."""
    aws.write_credentials("")
    added = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 100 * 86400))
    aws.write_config(
        f"[profile base]\nmfa_serial = {aws.user.mfa_serial}\nmfa_key_store = keyring\nmfa_key_added = {added}\n\n"
        "[profile mfa]\ncredential_process = mfa-process --profile base\nregion = us-east-1\n"
    )

    result = aws.run(["status"], timeout=STEP_SECONDS)

    assert result.returncode == 0, result.stderr
    assert key_rows(result.stdout) == [["base", "keyring", ">=100d (rotate)"]]
    assert result.stderr.splitlines() == [
        "mfa-process: warning: the key of profile base is >=100d old; "
        "rotate it with `mfa-process rotate --profile base`"
    ]
