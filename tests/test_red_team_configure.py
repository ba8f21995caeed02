"""Red team, issue 8: `configure` as the other SDKs read its output, not only botocore.

The JS SDK v3 (@smithy's parseIni) starts a comment at `;` or `#` after white space or at the
start of a line. So a header written for `--as 'ci ;x'` ([profile 'ci ;x']) or `--as '#hash'`
([profile #hash]) was no header to it: the line was dropped and the keys under it landed in the
section above. The added credential_process silently repointed the previous profile (here `prod`)
for every JS program, which is what refusing INI injection and `--force` are there to prevent.
A base profile named 'ci ;x' gave it `--profile 'ci` (a shell syntax error). And a profile named
__proto__ makes the JS SDK throw on the whole file.
"""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from aws_home import AwsHome
from botocore.configloader import build_profile_map, raw_config_parse

JS_DIR = Path(__file__).parent / "js"
needs_js = pytest.mark.skipif(
    not shutil.which("node") or not (JS_DIR / "node_modules" / "@smithy" / "core").is_dir(),
    reason="needs node and `npm install --no-package-lock --prefix tests/js` (README, Running the tests)",
)
# The JS SDK's own reading of a config file (what fromIni and every client use).
JS_READ = (
    'require("@smithy/core/config").loadSharedConfigFiles({configFilepath: process.argv[1], filepath: "/dev/null"})'
    ".then((files) => console.log(JSON.stringify(files.configFile)))"
)
PROD = "[profile prod]\nregion = eu-west-1\n"


def js_profiles(config: Path) -> dict:
    result = subprocess.run(
        ["node", "-e", JS_READ, str(config)], cwd=JS_DIR, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def botocore_profiles(config: Path) -> dict:
    return build_profile_map(raw_config_parse(str(config)))["profiles"]


def start(aws: AwsHome) -> bytes:
    aws.write_config(f"[profile base]\nmfa_serial = {aws.user.mfa_serial}\n\n{PROD}")
    return aws.config_file.read_bytes()


@pytest.mark.parametrize("option", ["--as", "--profile"])
def test_a_profile_named_proto_which_the_js_sdk_refuses_the_whole_file_for_is_refused(
    aws: AwsHome, option: str
) -> None:
    before = start(aws)
    names = ["--profile", "base", "--as", "__proto__"] if option == "--as" else ["--profile", "__proto__"]
    if option == "--profile":  # the base profile exists: the name is the only thing wrong
        aws.write_credentials(aws.credentials_file.read_text().replace("[base]", "[__proto__]"))

    result = aws.run(["configure", *names, "--mfa-serial", aws.user.mfa_serial])

    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == "" and len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith(f"mfa-process: {option} '__proto__' cannot be a profile name")
    assert aws.config_file.read_bytes() == before


NAMES = ["ci ;x", "ci #x", "team\t#2", "x ;y #z", "#hash", ";semi", "a#b", "x;y", "o'brien ;"]


@needs_js
@pytest.mark.parametrize("name", NAMES, ids=ascii)
def test_a_new_profile_means_the_same_to_the_js_sdk_as_to_botocore(aws: AwsHome, name: str) -> None:
    start(aws)

    result = aws.run(["configure", "--profile", "base", "--as", name])

    assert result.returncode == 0, result.stderr
    line = botocore_profiles(aws.config_file)[name]["credential_process"]
    assert shlex.split(line) == ["mfa-process", "--profile", "base"]
    js = js_profiles(aws.config_file)
    assert js["prod"] == {"region": "eu-west-1"}  # not repointed
    assert js["base"] == {"mfa_serial": aws.user.mfa_serial}
    assert all(profile.get("credential_process") in (None, line) for profile in js.values())


@needs_js
@pytest.mark.parametrize("name", NAMES, ids=ascii)
def test_a_base_profile_name_reaches_mfa_process_whole_through_the_js_sdk(aws: AwsHome, name: str) -> None:
    start(aws)
    aws.write_credentials(aws.credentials_file.read_text().replace("[base]", f"[{name}]"))

    result = aws.run(["configure", "--profile", name, "--as", "x", "--mfa-serial", aws.user.mfa_serial])

    assert result.returncode == 0, result.stderr
    js = js_profiles(aws.config_file)
    assert js["prod"] == {"region": "eu-west-1"}
    line = js["x"]["credential_process"]  # what the JS SDK hands to sh
    assert line == botocore_profiles(aws.config_file)["x"]["credential_process"]
    said = subprocess.run(["sh", "-c", line.replace("mfa-process", "printf %s", 1)], capture_output=True, text=True)
    assert said.stdout == f"--profile{name}"


@needs_js
@pytest.mark.parametrize("folder", ["my #tools", "a ;b"])
def test_a_program_path_reaches_the_js_sdk_whole(aws: AwsHome, tmp_path: Path, folder: str) -> None:
    """The program path is an input too: installed under `~/my #tools/bin`, the JS SDK read the
    credential_process as `'/.../my` and its shell failed on the unmatched quote."""
    from aws_home import BIN_DIR
    from processes import default_signals

    elsewhere = tmp_path / folder / "bin"
    elsewhere.mkdir(parents=True)
    shutil.copy2(Path(BIN_DIR) / "mfa-process", elsewhere / "mfa-process")
    aws.env["PATH"] = "/usr/bin:/bin"
    start(aws)

    result = subprocess.run(
        [str(elsewhere / "mfa-process"), "configure", "--profile", "base"],
        env=aws.env,
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=default_signals,
    )

    assert result.returncode == 0, result.stderr
    line = js_profiles(aws.config_file)["mfa"]["credential_process"]
    assert line == botocore_profiles(aws.config_file)["mfa"]["credential_process"]
    assert shlex.split(line) == [str(elsewhere / "mfa-process"), "--profile", "base"]
