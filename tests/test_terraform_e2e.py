"""terraform (its AWS provider, the Go SDK's process provider) running examples/terraform
against the STS double, in a real pseudo-terminal.

terraform and the provider cannot be downloaded here; these tests run where both are already
on the machine: `terraform` on PATH and the hashicorp/aws provider in a filesystem mirror
(TF_PLUGIN_MIRROR, default /opt/tf-plugins). Elsewhere they are skipped, and say why.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pexpect
import pytest
from aws_home import AwsHome, spawn
from processes import run

EXAMPLE = Path(__file__).parent.parent / "examples" / "terraform" / "main.tf"
MIRROR = Path(os.environ.get("TF_PLUGIN_MIRROR", "/opt/tf-plugins"))
PROMPT = "Enter MFA code for arn:aws:iam::123456789012:mfa/alice: "
PROD_ROLE = "arn:aws:iam::222222222222:role/admin"

pytestmark = pytest.mark.skipif(
    not shutil.which("terraform") or not (MIRROR / "registry.terraform.io" / "hashicorp" / "aws").is_dir(),
    reason=f"needs terraform on PATH and the hashicorp/aws provider mirrored in {MIRROR}",
)


@pytest.fixture
def workdir(aws: AwsHome, tmp_path: Path) -> Path:
    """examples/terraform, initialised from the local mirror, with the README's profiles."""
    work = tmp_path / "tf"
    work.mkdir()
    shutil.copy(EXAMPLE, work / "main.tf")
    cli_config = tmp_path / "terraformrc"
    cli_config.write_text(f'provider_installation {{\n  filesystem_mirror {{\n    path = "{MIRROR}"\n  }}\n}}\n')
    aws.env.update(TF_CLI_CONFIG_FILE=str(cli_config), TF_IN_AUTOMATION="1", CHECKPOINT_DISABLE="1")
    aws.sts.add_role(PROD_ROLE)
    aws.write_config(
        f"[profile base]\nmfa_serial = {aws.user.mfa_serial}\n\n"
        "[profile mfa]\ncredential_process = mfa-process --profile base\n\n"
        "[profile prod-admin]\nrole_arn = arn:aws:iam::222222222222:role/admin\nsource_profile = mfa\n"
    )
    init = run(
        ["terraform", "init", "-input=false", "-no-color"],
        cwd=work,
        env=aws.env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert init.returncode == 0, init.stdout + init.stderr
    return work


def test_two_providers_in_two_accounts_prompt_once(aws: AwsHome, workdir: Path) -> None:
    child = spawn("terraform", aws, timeout=120, args=[f"-chdir={workdir}", "plan", "-input=false", "-no-color"])
    child.expect_exact(PROMPT)
    child.sendline(aws.code())
    assert child.expect_exact([PROMPT, pexpect.EOF]) == 1  # the second provider did not ask
    child.close()

    assert child.exitstatus == 0, child.before
    assert 'identity_account = "arn:aws:iam::123456789012:user/alice"' in child.before
    assert 'prod_account     = "arn:aws:sts::222222222222:assumed-role/admin/' in child.before
    assert aws.sts.calls("GetSessionToken") == 1
    assumed = [r for r in aws.sts.requests if r["action"] == "AssumeRole"]
    assert assumed and all(r["access_key_id"].startswith("ASIA") for r in assumed)

    again = spawn("terraform", aws, timeout=120, args=[f"-chdir={workdir}", "plan", "-input=false", "-no-color"])
    assert again.expect_exact([PROMPT, pexpect.EOF]) == 1  # served from the cache
    again.close()
    assert again.exitstatus == 0, again.before
    assert aws.sts.calls("GetSessionToken") == 1


def test_terraform_giving_up_leaves_no_prompt_and_no_lock(aws: AwsHome, workdir: Path) -> None:
    """The Go SDK kills the `sh` it started after 60 s, not mfa-process: mfa-process must notice,
    erase its prompt and release the lock, so the next run prompts at once."""
    started = time.monotonic()
    child = spawn("terraform", aws, timeout=150, args=[f"-chdir={workdir}", "plan", "-input=false", "-no-color"])
    child.expect_exact(PROMPT)
    child.expect(pexpect.EOF)  # nobody answers
    child.close()
    waited = time.monotonic() - started

    assert child.exitstatus != 0
    assert "credential process timed out" in " ".join(child.before.split())  # terraform wraps lines
    assert "\x1b[2K" in child.before  # the prompt was erased
    assert waited < 100
    assert aws.sts.calls("GetSessionToken") == 0

    result = aws.run(["--profile", "base", "--token-code", aws.code(), "--lock-timeout", "5"])
    assert result.returncode == 0, result.stderr
