"""Try mfa-process in one minute, without an AWS account.

    python examples/demo.py          (or: tox -e demo)

A local stand-in for AWS STS (tests/sts_double.py) runs on 127.0.0.1 with one IAM user, a
virtual MFA device and the deny-without-MFA policy. The demo writes a throwaway AWS config in a
temporary folder (your ~/.aws and your cache are never read or written), then runs the real AWS
CLI through `credential_process = mfa-process --profile base`: you type the code the virtual
device shows at mfa-process's real prompt, a second call is served from the cache, and
`mfa-process status` shows the session. Nothing leaves this machine.

Exit status: 0 done, 1 a step failed or a program is missing, 2 no terminal, 130 Ctrl-C.
"""

from __future__ import annotations

import os
import shutil
import signal
import site
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))  # the STS double and the TOTP helper live with the tests

from sts_double import DEFAULT_USER, StsDouble  # noqa: E402
from totp import counter_at, hotp  # noqa: E402

USER = DEFAULT_USER
# IAM GetUser: AWS allows it to MFA-backed credentials only (the double applies the policy)
CALL = ["aws", "iam", "get-user", "--profile", "mfa", "--output", "table"]
WITHOUT_MFA = ["aws", "iam", "get-user", "--profile", "base", "--output", "table"]

_print_lock = threading.Lock()


def say(text: str = "") -> None:
    with _print_lock:
        print(text, flush=True)


def has_terminal() -> bool:
    """True when this process has a terminal mfa-process can prompt on."""
    name = "CONIN$" if os.name == "nt" else "/dev/tty"
    try:
        fd = os.open(name, os.O_RDWR | getattr(os, "O_NOCTTY", 0))
    except OSError:
        return False
    os.close(fd)
    return True


class VirtualMfaDevice(threading.Thread):
    """Shows the device's code, and each new one when the 30-second window turns."""

    def __init__(self, secret: str) -> None:
        super().__init__(daemon=True, name="virtual-mfa-device")
        self.secret = secret
        self.window = counter_at()
        self.stopped = threading.Event()

    def show_first(self) -> None:
        left = 30 - int(time.time()) % 30
        say(f"[virtual MFA device] code {hotp(self.secret, self.window)}   (a new one every 30 s; {left} s left)")

    def run(self) -> None:
        while not self.stopped.wait(0.2):
            window = counter_at()
            if window != self.window:
                self.window = window
                # a line of its own, even when the prompt is waiting on the line above
                say(f"\n[virtual MFA device] code {hotp(self.secret, window)}")

    def stop(self) -> None:
        self.stopped.set()
        if self.is_alive():
            self.join()


def isolated_env(home: Path, sts_url: str, path: str) -> dict:
    """The environment for every program the demo runs: only the throwaway home counts."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MFA_PROCESS_"))}
    no_proxy = ",".join(filter(None, [os.environ.get("NO_PROXY", ""), "127.0.0.1,localhost"]))
    env.update(
        HOME=str(home),
        PATH=path,
        AWS_CONFIG_FILE=str(home / ".aws" / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / ".aws" / "credentials"),
        XDG_CACHE_HOME=str(home / ".cache"),
        AWS_ENDPOINT_URL_STS=sts_url,
        AWS_ENDPOINT_URL_IAM=sts_url,
        AWS_PAGER="",
        NO_PROXY=no_proxy,  # a proxy in your environment must not get the loopback calls
        no_proxy=no_proxy,
        # programs installed with `pip install --user` still find their packages under the new HOME
        PYTHONUSERBASE=os.environ.get("PYTHONUSERBASE") or site.getuserbase(),
    )
    return env


def write_aws_files(home: Path) -> None:
    aws_dir = home / ".aws"
    aws_dir.mkdir(mode=0o700)
    (aws_dir / "credentials").write_text(
        f"[base]\naws_access_key_id = {USER.access_key_id}\naws_secret_access_key = {USER.secret_access_key}\n"
    )
    (aws_dir / "config").write_text(
        f"[profile base]\nmfa_serial = {USER.mfa_serial}\nregion = us-east-1\n\n"
        "[profile mfa]\ncredential_process = mfa-process --profile base\nregion = us-east-1\n"
    )


def run(command: list, env: dict, cwd: Path) -> int:
    """Run with this terminal's stdin, stdout and stderr, so prompts and output are the real ones."""
    sys.stdout.flush()
    return subprocess.run(command, env=env, cwd=str(cwd)).returncode


def demo(bin_dir: str) -> int:
    path = bin_dir + os.pathsep + os.environ.get("PATH", os.defpath)
    if not shutil.which("aws", path=path):
        say("The demo runs the AWS CLI, which is not installed in this environment: pip install awscli")
        return 1
    if not shutil.which("mfa-process", path=path):
        say(f"mfa-process is not installed in this environment: pip install {REPO}")
        return 1

    with tempfile.TemporaryDirectory(prefix="mfa-process-demo-") as tmp, StsDouble(deny_without_mfa=True) as sts:
        home = Path(tmp)
        write_aws_files(home)
        env = isolated_env(home, sts.url, path)
        say("mfa-process demo: a local STS double, a virtual MFA device and a throwaway AWS config.")
        say(f"  STS double   {sts.url}   (denies every request made without MFA, like the policy)")
        say(f"  AWS home     {home}   (your ~/.aws and cache are not touched)")
        say("  ~/.aws/config: [profile mfa] credential_process = mfa-process --profile base")
        say()

        say(f"0. {' '.join(WITHOUT_MFA)}")
        say("   The long-term access key alone, as a thief would use it: denied by the policy.")
        if run(WITHOUT_MFA, env, home) == 0:
            say("\nThe long-term key was not denied: the STS double is not applying the policy.")
            return 1
        say()

        device = VirtualMfaDevice(USER.totp_secret)
        device.show_first()
        device.start()
        try:
            say(f"\n1. {' '.join(CALL)}")
            say("   mfa-process asks for the code on your terminal: type the code shown above and press")
            say("   Enter (typing is hidden, as with a password).")
            status = run(CALL, env, home)
        finally:
            device.stop()
        if status != 0:
            say(f"\nThe call failed (exit status {status}); the message above says why.")
            return 1
        say(f"   GetSessionToken calls: {sts.calls('GetSessionToken')}")

        say("\n2. The same command again: served from mfa-process's cache, no prompt.")
        status = run(CALL, env, home)
        if status != 0:
            say(f"\nThe second call failed (exit status {status}).")
            return 1
        keys = {r["access_key_id"] for r in sts.requests if r["action"] == "GetUser" and r["status"] == 200}
        say(f"   GetSessionToken calls: {sts.calls('GetSessionToken')}   (still one: no new prompt, no new STS call)")
        say(f"   Both calls were signed with the MFA session key {', '.join(sorted(keys))},")
        say(f"   never with the long-term key {USER.access_key_id}.")

        say("\n3. mfa-process status")
        status = run(["mfa-process", "status"], env, home)
        if status != 0:
            return 1

        say("\nDone. To use it with your own account: README.md, sections Install and Configure")
        say("(or `mfa-process configure --profile base --mfa-serial ARN`).")
    return 0


def main() -> int:
    if not has_terminal():
        print(
            "The demo needs a terminal: mfa-process asks for the MFA code there. "
            "Run `python examples/demo.py` in a terminal window.",
            file=sys.stderr,
        )
        return 2
    tty_state = _save_terminal()
    # SIGTERM cleans up like Ctrl-C does (temporary folder, STS double)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        return demo(str(Path(sys.executable).parent))
    except KeyboardInterrupt:
        say("\nInterrupted; the temporary folder is removed and the STS double stopped.")
        return 130
    finally:
        _restore_terminal(tty_state)


def _save_terminal():
    """The terminal's modes, so an interrupted prompt can never leave echo off."""
    try:
        import termios

        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except (ImportError, OSError):
        return None
    try:
        return fd, termios.tcgetattr(fd)
    except termios.error:
        os.close(fd)
        return None


def _restore_terminal(state) -> None:
    if state is None:
        return
    import termios

    fd, modes = state
    try:
        termios.tcsetattr(fd, termios.TCSADRAIN, modes)
    except termios.error:
        pass
    finally:
        os.close(fd)


if __name__ == "__main__":
    sys.exit(main())
