"""Try mfa-process in one minute, without an AWS account and without the AWS CLI.

    python examples/demo.py          (or: tox -e demo)

A local stand-in for AWS STS and IAM (tests/sts_double.py) runs on 127.0.0.1 with one IAM user, a
virtual MFA device and the deny-without-MFA policy. The demo writes a throwaway AWS config in a
temporary folder (your ~/.aws and your cache are never read or written), then calls IAM GetUser
with boto3 through `credential_process = mfa-process --profile base`: you type the code the
virtual device shows at mfa-process's real prompt, a second call is served from the cache, and
`mfa-process status` shows the session.

Nothing leaves this machine. Each call runs in a child Python that has boto3 (this one, else the
one mfa-process is installed with: a pipx install keeps boto3 there), made as
`python examples/demo.py --call PROFILE --endpoint URL`: the client is given the double's URL
itself and refuses to send a request anywhere else, whatever the installed boto3 reads from the
environment; every AWS_ENDPOINT_URL* names the double (mfa-process's own STS call), no proxy
variable is passed on and NO_PROXY covers 127.0.0.1, and the EC2 metadata service is switched off.
The AWS CLI is never run: an old one on PATH ignores AWS_ENDPOINT_URL_IAM and calls the real IAM.

Exit status: 0 done, 1 a step failed or a program is missing, 2 no terminal, 130 Ctrl-C.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import shlex
import shutil
import signal
import site
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, List, NamedTuple, Optional, Tuple

DEMO = Path(__file__).resolve()
REPO = DEMO.parent.parent
sys.path.insert(0, str(REPO / "tests"))  # the STS double and the TOTP helper live with the tests

from sts_double import DEFAULT_USER, StsDouble  # noqa: E402
from totp import counter_at, hotp  # noqa: E402

USER = DEFAULT_USER
PROMPT = f"Enter MFA code for {USER.mfa_serial}: "  # mfa-process's prompt, shown again when the code changes
ERASE_LINE = "\r\x1b[2K"
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")  # in either case
CALL_TIMEOUTS = {"connect_timeout": 5, "read_timeout": 30}  # the double answers in milliseconds

_print_lock = threading.Lock()


def say(text: str = "", end: str = "\n") -> None:
    with _print_lock:
        print(text, end=end, flush=True)


def has_terminal() -> bool:
    """True when this process has a terminal mfa-process can prompt on."""
    name = "CONIN$" if os.name == "nt" else "/dev/tty"
    try:
        fd = os.open(name, os.O_RDWR | getattr(os, "O_NOCTTY", 0))
    except OSError:
        return False
    os.close(fd)
    return True


def prompt_waiting(tty_fd: Optional[int]) -> bool:
    """True while a hidden prompt waits on the terminal: mfa-process turns echo off while it reads
    the code (and on again before it goes on), so the echo flag tells whether its prompt is up."""
    if tty_fd is None:
        return False
    import termios

    try:
        return not termios.tcgetattr(tty_fd)[3] & termios.ECHO
    except termios.error:
        return False


class VirtualMfaDevice(threading.Thread):
    """Shows the device's code, and each new one when the 30-second window turns. When the new code
    comes while mfa-process's prompt waits, the prompt line is erased, the code shown on it and the
    prompt written again below, so the screen reads as it would have without the interruption."""

    def __init__(self, secret: str, tty_fd: Optional[int]) -> None:
        super().__init__(daemon=True, name="virtual-mfa-device")
        self.secret = secret
        self.tty_fd = tty_fd
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
                self.show_new(window)

    def show_new(self, window: int) -> None:
        line = f"[virtual MFA device] code {hotp(self.secret, window)}   (new; the one before still works for 30 s)"
        if prompt_waiting(self.tty_fd):
            say(f"{ERASE_LINE}{line}\n{PROMPT}", end="")  # what was typed stays typed: only the screen changes
        else:
            say(line)

    def stop(self) -> None:
        self.stopped.set()
        if self.is_alive():
            self.join()


def isolated_env(home: Path, sts_url: str, path: str) -> Dict[str, str]:
    """The environment for every program the demo runs: only the throwaway home counts, and every
    way a request could be sent elsewhere (an endpoint variable, a proxy, the EC2 metadata
    service) is closed."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "MFA_PROCESS_")) and k.upper() not in PROXY_VARIABLES
    }
    no_proxy = ",".join(filter(None, [os.environ.get("NO_PROXY", ""), "127.0.0.1,localhost"]))
    env.update(
        HOME=str(home),
        PATH=path,
        AWS_CONFIG_FILE=str(home / ".aws" / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / ".aws" / "credentials"),
        XDG_CACHE_HOME=str(home / ".cache"),
        AWS_ENDPOINT_URL=sts_url,  # any service the programs call: the double (or a refusal from it)
        AWS_ENDPOINT_URL_STS=sts_url,
        AWS_ENDPOINT_URL_IAM=sts_url,
        AWS_EC2_METADATA_DISABLED="true",  # no credentials looked for at 169.254.169.254
        AWS_PAGER="",
        NO_PROXY=no_proxy,
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


# ---- the AWS calls: boto3 in a child Python -------------------------------------------------------


class LeftLoopback(Exception):
    """A request was about to go somewhere other than the demo's STS double."""


@dataclass
class CallResult:
    """What one IAM GetUser call did, as the child Python saw it.

    outcome: "ok" (answered with the user), "aws-error" (answered with an AWS error code), or
    "failed" (no answer: no credentials, the endpoint unreachable, a request refused before it left).
    sent_to: the URL of every request boto3 sent (or was about to send)."""

    outcome: str
    sent_to: List[str] = field(default_factory=list)
    arn: str = ""
    user_name: str = ""
    code: str = ""
    message: str = ""
    http_status: int = 0


def call_get_user(profile: str, endpoint: str) -> CallResult:
    """IAM GetUser as ``profile`` with boto3, at ``endpoint`` and nowhere else (run in the child)."""
    sent: List[str] = []

    def loopback_only(request: Any, **_: Any) -> None:
        sent.append(request.url)
        if not at_endpoint(request.url, endpoint):
            raise LeftLoopback(f"refused to send a request to {request.url}: the demo calls {endpoint} only")

    try:
        import boto3
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError as error:
        return CallResult("failed", message=f"boto3 is not importable by {sys.executable}: {error}")
    try:
        config = Config(retries={"total_max_attempts": 1}, **CALL_TIMEOUTS)  # one request: its answer is the result
        client = boto3.Session(profile_name=profile).client("iam", endpoint_url=endpoint, config=config)
        client.meta.events.register("before-send", loopback_only)
        user = client.get_user()["User"]
    except ClientError as error:
        answer = error.response
        return CallResult(
            "aws-error",
            sent,
            code=str(answer.get("Error", {}).get("Code", "")),
            message=str(answer.get("Error", {}).get("Message", "")),
            http_status=int(answer.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0),
        )
    except (BotoCoreError, LeftLoopback) as error:
        return CallResult("failed", sent, message=str(error))
    return CallResult("ok", sent, arn=user["Arn"], user_name=user["UserName"])


def at_endpoint(url: str, endpoint: str) -> bool:
    """True when ``url`` is on ``endpoint`` (scheme, host and port all equal)."""
    return url == endpoint or url.startswith(endpoint.rstrip("/") + "/")


def get_user(python: str, profile: str, endpoint: str, env: Dict[str, str], cwd: Path) -> CallResult:
    """Run ``call_get_user`` in a child ``python`` with this terminal as its stdin and stderr (where
    mfa-process prompts, and boto3 warns); the result comes back as one JSON line on its stdout."""
    sys.stdout.flush()
    argv = [python, str(DEMO), "--call", profile, "--endpoint", endpoint]
    completed = subprocess.run(argv, env=env, cwd=str(cwd), stdout=subprocess.PIPE, text=True)
    lines = completed.stdout.strip().splitlines()
    try:
        return CallResult(**json.loads(lines[-1]))
    except (IndexError, ValueError, TypeError):
        return CallResult("failed", message=f"the boto3 call ended with exit status {completed.returncode}, no result")


class Verdict(NamedTuple):
    kind: str  # "denied" (by the double's policy), "allowed", or "failed" (anything else)
    text: str


def judge_long_term_key(
    result: CallResult, double: Any, records_before: int, access_key_id: str = USER.access_key_id
) -> Verdict:
    """What the call with the long-term key alone shows. It is the policy's denial only when the
    answer was AccessDenied, every request went to the double (``double.url``), and the double
    itself recorded answering AccessDenied to that key's GetUser (in ``double.requests`` after the
    first ``records_before``); anything else is said as what it is."""
    if result.outcome == "ok":
        return Verdict("allowed", f"not denied: the long-term key alone called IAM as {result.arn}")
    if result.outcome == "failed":
        return Verdict("failed", f"the call failed without an answer from AWS: {result.message}")
    what = f"{result.code} (HTTP {result.http_status}): {result.message}"
    if result.code != "AccessDenied":
        return Verdict("failed", f"the call failed with {what}")
    answered = [
        r
        for r in double.requests[records_before:]
        if r["action"] == "GetUser" and r["access_key_id"] == access_key_id and r["code"] == "AccessDenied"
    ]
    sent_to_double = bool(result.sent_to) and all(at_endpoint(url, double.url) for url in result.sent_to)
    if not (sent_to_double and answered):
        where = ", ".join(result.sent_to) or "nowhere recorded"
        return Verdict("failed", f"{what} - but not from the demo's STS double at {double.url} (sent to {where})")
    return Verdict("denied", f"denied by the policy: the STS double answered {what}")


# ---- which programs -------------------------------------------------------------------------------


def script_pythons(script: str, path: str) -> List[str]:
    """The Python a console script runs on: its #! line (or pip's /bin/sh wrapper for long paths),
    then the python beside it (a venv, a pipx venv, Windows' Scripts folder)."""
    candidates: List[str] = []
    try:
        with open(script, "rb") as file:
            lines = file.read(1024).decode("utf-8", "replace").splitlines()
    except OSError:
        lines = []
    if lines and lines[0].startswith("#!"):
        wrapped = re.match(r"'''exec' (?:\"([^\"]+)\"|(\S+))", lines[1]) if len(lines) > 1 else None
        if wrapped:
            candidates.append(wrapped.group(1) or wrapped.group(2))
        else:
            words = shlex.split(lines[0][2:])
            if words and Path(words[0]).name == "env" and len(words) > 1:
                found = shutil.which(words[1], path=path)
                if found:
                    candidates.append(found)
            elif words and Path(words[0]).name != "sh":
                candidates.append(words[0])
    candidates.append(str(Path(script).resolve().parent / ("python.exe" if os.name == "nt" else "python")))
    return [c for i, c in enumerate(candidates) if c not in candidates[:i] and Path(c).is_file()]


def imports_boto3(python: str) -> bool:
    try:
        argv = [python, "-c", "import boto3"]
        return subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def boto3_python(mfa_process: str, path: str) -> Optional[str]:
    """A Python that imports boto3: this one, else the one mfa-process is installed with."""
    if importlib.util.find_spec("boto3") is not None:
        return sys.executable
    return next((python for python in script_pythons(mfa_process, path) if imports_boto3(python)), None)


LOCAL_BIN = Path.home() / ".local" / "bin"  # pipx's folder for programs, and README's venv recipe's


def find_programs(bin_dir: str) -> Tuple[Optional[str], Optional[str], str]:
    """(mfa-process, a Python with boto3, the PATH for the demo's programs): mfa-process beside this
    Python first, else on PATH; its folder first on the PATH, so the one found is the one run."""
    path = bin_dir + os.pathsep + os.environ.get("PATH", os.defpath)
    mfa_process = shutil.which("mfa-process", path=path)
    if mfa_process is None:  # installed where pipx and README's venv recipe put it, not on PATH yet
        mfa_process = shutil.which("mfa-process", path=str(LOCAL_BIN))
        if mfa_process is not None:
            say(f"note: mfa-process is in {LOCAL_BIN}, which is not on your PATH: run `pipx ensurepath`")
            say("      and open a new terminal before you use it yourself; the demo runs it from there.")
    if mfa_process is None:
        return None, None, path
    path = str(Path(mfa_process).parent) + os.pathsep + path
    return mfa_process, boto3_python(mfa_process, path), path


# ---- the demo -------------------------------------------------------------------------------------


def run(command: List[str], env: Dict[str, str], cwd: Path) -> int:
    """Run with this terminal's stdin, stdout and stderr, so prompts and output are the real ones."""
    sys.stdout.flush()
    return subprocess.run(command, env=env, cwd=str(cwd)).returncode


def demo(bin_dir: str, tty_fd: Optional[int], without_policy: bool = False) -> int:
    started = time.monotonic()
    mfa_process, python, path = find_programs(bin_dir)
    if mfa_process is None:
        say(f"mfa-process is not installed here: pipx install {REPO}  (or pip install {REPO} in a venv)")
        return 1
    if python is None:
        say(f"No Python with boto3 here: neither {sys.executable} nor the one {mfa_process} runs on imports it.")
        say(f"Install mfa-process with its dependencies (pipx install {REPO}), or run the demo with its Python.")
        return 1

    double = StsDouble(deny_without_mfa=not without_policy)
    with tempfile.TemporaryDirectory(prefix="mfa-process-demo-") as tmp, double as sts:
        home = Path(tmp)
        write_aws_files(home)
        env = isolated_env(home, sts.url, path)
        policy = "without the deny-without-MFA policy" if without_policy else "denies every call made without MFA"
        say("mfa-process demo: a local STS double, a virtual MFA device and a throwaway AWS config.")
        say(f"  STS double   {sts.url}   (STS and IAM; {policy})")
        say(f"  AWS home     {home}   (your ~/.aws and cache are not touched)")
        say("  ~/.aws/config: [profile mfa] credential_process = mfa-process --profile base")
        say(f"  AWS calls    boto3 run by {python}, to the double only: nothing leaves this machine")
        say("Four steps, under a minute; you type one code, at step 1:")
        say("  0. the long-term key alone is denied   1. the same call through mfa-process: type the code")
        say("  2. again: served from the cache        3. mfa-process status")
        say()

        say("0. IAM GetUser with [profile base]: the long-term access key alone, as a thief would use it.")
        before = len(sts.requests)
        verdict = judge_long_term_key(get_user(python, "base", sts.url, env, home), sts, before)
        say(f"   {verdict.text}")
        if verdict.kind == "allowed":
            if not without_policy:
                say("\nThe long-term key was not denied: the STS double is not applying the policy.")
                return 1
            say("   That is what the policy (examples/deny-without-mfa.json) stops: run the demo without")
            say("   --without-policy to see the denial.")
        elif verdict.kind == "failed":
            say("\nStep 0 could not show the policy's denial; the line above says what happened instead.")
            return 1
        say()

        device = VirtualMfaDevice(USER.totp_secret, tty_fd)
        device.show_first()
        device.start()
        try:
            say("\n1. IAM GetUser with [profile mfa]: boto3 runs `mfa-process --profile base`, which asks for")
            say("   the code on your terminal. Type the code shown above and press Enter (typing is hidden,")
            say("   as with a password).")
            result = get_user(python, "mfa", sts.url, env, home)
        finally:
            device.stop()
        if not show_user(result, sts.url):
            return 1
        say(f"   GetSessionToken calls: {sts.calls('GetSessionToken')}")

        say("\n2. The same call again: served from mfa-process's cache, no prompt.")
        if not show_user(get_user(python, "mfa", sts.url, env, home), sts.url):
            return 1
        keys = {r["access_key_id"] for r in sts.requests if r["action"] == "GetUser" and r["status"] == 200}
        say(f"   GetSessionToken calls: {sts.calls('GetSessionToken')}   (still one: no new prompt, no new STS call)")
        say(f"   Both calls were signed with the MFA session key {', '.join(sorted(keys))},")
        say(f"   never with the long-term key {USER.access_key_id}.")

        say("\n3. mfa-process status")
        if run(["mfa-process", "status"], env, home) != 0:
            return 1

        say(f"\nDone in {time.monotonic() - started:.0f} s. To use it with your own account: README.md, Quick start")
        say("(`mfa-process configure --profile base --mfa-serial ARN`).")
    return 0


def show_user(result: CallResult, endpoint: str) -> bool:
    """Print the user a call returned, or what went wrong; True when it succeeded at the double."""
    if result.outcome == "ok" and result.sent_to and all(at_endpoint(url, endpoint) for url in result.sent_to):
        say(f"   UserName {result.user_name}   Arn {result.arn}")
        return True
    if result.outcome == "aws-error":
        say(f"\nThe call failed with {result.code} (HTTP {result.http_status}): {result.message}")
    else:
        say(f"\nThe call failed: {result.message or 'answered from somewhere other than the STS double'}")
    return False


def parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--without-policy",
        action="store_true",
        help="run the STS double without the deny-without-MFA policy: the long-term key's call goes through",
    )
    parser.add_argument("--call", metavar="PROFILE", help=argparse.SUPPRESS)  # the child that makes one call
    parser.add_argument("--endpoint", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    if args.call:
        if not args.endpoint:
            print("--call needs --endpoint URL", file=sys.stderr)
            return 2
        print(json.dumps(asdict(call_get_user(args.call, args.endpoint))), flush=True)
        return 0
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
        return demo(str(Path(sys.executable).parent), tty_state[0] if tty_state else None, args.without_policy)
    except KeyboardInterrupt:
        say("\nInterrupted; the temporary folder is removed and the STS double stopped.")
        return 130
    finally:
        _restore_terminal(tty_state)


def _save_terminal() -> Optional[Tuple[int, Any]]:
    """The terminal and its modes, so an interrupted prompt can never leave echo off."""
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


def _restore_terminal(state: Optional[Tuple[int, Any]]) -> None:
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
