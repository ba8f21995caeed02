"""Real bash, zsh and fish load the scripts `mfa-process completion SHELL` prints and complete
command lines: commands, options, choices, and the profile names of a temporary AWS home, which
the scripts ask `mfa-process completion --profiles` for at TAB time.

bash: the completion function called as readline calls it (COMP_WORDS, COMP_CWORD). zsh: an
interactive zsh in a zpty, TAB typed, each match its completion system adds captured by wrapping
compadd. fish: `complete -C LINE`. On CI (.ci/run installs zsh and fish) a missing shell fails
the test; elsewhere it is skipped.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Dict, List, Optional, Set

import pytest
from processes import isolated_env, run

from mfa_process.cli import COMMANDS
from mfa_process.prompt import PROMPTS
from mfa_process.session.shell_env import SHELLS as ENV_SHELLS

BIN_DIR = str(Path(sys.executable).parent)  # this environment's mfa-process console script
TIMEOUT = 60

CONFIG = """\
[default]
region = us-east-1
[profile base]
mfa_serial = arn:aws:iam::123456789012:mfa/alice
[profile admin]
role_arn = arn:aws:iam::123456789012:role/admin
source_profile = base
"""
CREDENTIALS = "[ci bot]\nregion = eu-west-1\n"
PROFILES = {"admin", "base", "ci bot", "default"}
HOSTILE_PROFILES = ("$(touch PWNED)", "`touch PWNED`", "x;touch PWNED")

BASH_DRIVER = """\
source "$1"
shift
COMP_CWORD=$1
shift
COMP_WORDS=("$@")
COMP_LINE="$*"
COMP_POINT=${#COMP_LINE}
_mfa_process
((${#COMPREPLY[@]} == 0)) || printf '%s\\n' "${COMPREPLY[@]}"
"""

# Loaded into an interactive zsh: every match the completion system adds is also written to
# $MFA_TEST_OUT; a completion's end touches $MFA_TEST_OUT.done, the first prompt $MFA_TEST_OUT.ready.
ZSH_SETUP = """\
PS1='> '
{load}
compadd() {{
    if [[ ${{@[1,(i)(-|--)]}} == *-(O|A|D)\\ * ]]; then  # a caller that collects the matches itself
        builtin compadd "$@"
        return $?
    fi
    local -a __matches
    builtin compadd -O __matches "$@"
    (( $#__matches )) && print -rl -- $__matches >> $MFA_TEST_OUT
    builtin compadd "$@"
}}
_mfa_test_done() {{ : >> $MFA_TEST_OUT.done }}
precmd() {{ comppostfuncs=(_mfa_test_done); : >> $MFA_TEST_OUT.ready }}
bindkey '^I' complete-word
"""
ZSH_EVAL = 'autoload -Uz compinit && compinit -u -D\neval "$(mfa-process completion zsh)"'
ZSH_FPATH = "fpath=({folder} $fpath)\nautoload -Uz compinit && compinit -u -D"

ZSH_DRIVER = """\
zmodload zsh/zpty
export MFA_TEST_OUT=$1
zpty z zsh -f -i
zpty -w z "source ${(q)2}"
for i in {1..400}; do [[ -e $MFA_TEST_OUT.ready ]] && break; sleep 0.05; done
zpty -w -n z "$3"$'\\t'
for i in {1..400}; do [[ -e $MFA_TEST_OUT.done ]] && break; sleep 0.05; done
zpty -d z
[[ -e $MFA_TEST_OUT.done ]] || { print -u2 "the completion did not finish"; exit 1 }
[[ -e $MFA_TEST_OUT ]] && cat -- $MFA_TEST_OUT
exit 0
"""


def need(shell: str) -> str:
    found = shutil.which(shell)
    if found is None:
        reason = f"no {shell} installed (Debian: apt-get install {shell})"
        if os.environ.get("CI"):  # .ci/run installs it: there, a missing shell is a failure
            pytest.fail(reason)
        pytest.skip(reason)
    return found


class Home:
    """A HOME with AWS files, and the environment that finds this checkout's mfa-process."""

    def __init__(self, root: Path, credentials: str = CREDENTIALS) -> None:
        self.root = root
        aws = root / ".aws"
        aws.mkdir(parents=True)
        (aws / "config").write_text(CONFIG)
        (aws / "credentials").write_text(credentials)
        self.env = isolated_env(
            root,
            PATH=BIN_DIR + os.pathsep + os.environ.get("PATH", "/usr/bin:/bin"),
            AWS_CONFIG_FILE=str(aws / "config"),
            AWS_SHARED_CREDENTIALS_FILE=str(aws / "credentials"),
            TERM="dumb",
            LANG="C.UTF-8",
        )
        self.env.pop("BASH_ENV", None)
        self.env.pop("ENV", None)
        self.scripts: Dict[str, Path] = {}

    def script(self, shell: str) -> Path:
        """The script `mfa-process completion SHELL` prints, saved in a file."""
        if shell not in self.scripts:
            printed = run(
                ["mfa-process", "completion", shell],
                env=self.env,
                cwd=self.root,
                capture_output=True,
                text=True,
                timeout=TIMEOUT,
            )
            assert printed.returncode == 0 and printed.stderr == "", printed.stderr
            path = self.root / f"completion.{shell}"
            path.write_text(printed.stdout)
            self.scripts[shell] = path
        return self.scripts[shell]

    def complete(self, shell: str, line: str, zsh_load: Optional[str] = None) -> List[str]:
        """What ``shell`` offers for TAB at the end of ``line``, each candidate as the shell gives it."""
        if shell == "bash":
            words = bash_words(line)
            argv = ["bash", "--norc", "--noprofile", "-c", BASH_DRIVER, "driver", str(self.script("bash"))]
            argv += [str(len(words) - 1), *words]
        elif shell == "zsh":
            driver = self.root / "drive.zsh"
            driver.write_text(ZSH_DRIVER)
            setup = self.root / "setup.zsh"
            setup.write_text(ZSH_SETUP.format(load=zsh_load or ZSH_EVAL))
            out = self.root / "zsh-matches"
            for leftover in (out, out.with_suffix(".done"), out.with_suffix(".ready")):
                leftover.unlink(missing_ok=True)
            argv = ["zsh", "-f", str(driver), str(out), str(setup), line]
        else:
            argv = [
                "fish",
                "--no-config",
                "-c",
                "source $argv[1]; complete -C $argv[2]",
                str(self.script("fish")),
                line,
            ]
        result = run(argv, env=self.env, cwd=self.root, capture_output=True, text=True, timeout=TIMEOUT)
        assert result.returncode == 0, result.stderr
        assert result.stderr == "", result.stderr
        return [candidate.split("\t")[0] for candidate in result.stdout.splitlines()]


def bash_words(line: str) -> List[str]:
    """``line`` split as readline splits it for a completion function: at blanks, and around the
    '=' of COMP_WORDBREAKS (`--profile=ba` is three words); the last word is the one completed."""
    words: List[str] = []
    for word in line.split(" "):
        parts = word.split("=")
        words.append(parts[0])
        for part in parts[1:]:
            words += ["=", part] if part else ["="]
    return [word for i, word in enumerate(words) if word or i == len(words) - 1]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Home:
    return Home(tmp_path_factory.mktemp("completion-home"))


SHELL_NAMES = ("bash", "zsh", "fish")

# line -> what every shell offers; or, where they differ, what each offers
CASES: Dict[str, Dict[str, Set[str]]] = {
    "mfa-process st": {"all": {"status"}},
    "mfa-process ": {"all": set(COMMANDS)},
    "mfa-process lo": {"all": {"login", "logout"}},
    "mfa-process login --pro": {"all": {"--profile", "--prompt", "--prompt-timeout"}},
    "mfa-process logout --a": {"all": {"--all"}},
    "mfa-process login --profile ": {"all": PROFILES, "bash": PROFILES - {"ci bot"} | {"ci\\ bot"}},
    "mfa-process --profile b": {"all": {"base"}},  # the plugin form
    "mfa-process --profile=b": {"all": {"base"}, "fish": {"--profile=base"}},
    "mfa-process serve --role-profile a": {"all": {"admin"}},
    "mfa-process login --prompt ": {"all": set(PROMPTS)},
    "mfa-process login --prompt terminal,z": {"all": {"terminal,zenity"}, "zsh": {"zenity"}},
    "mfa-process env --shell ": {"all": set(ENV_SHELLS)},
    "mfa-process completion ": {"all": {"bash", "zsh", "fish"}},
    "mfa-process help lo": {"all": {"login", "logout"}},
    "mfa-process login --duration ": {"all": set()},  # free text: nothing offered, no file names
}


@pytest.mark.parametrize("line", list(CASES))
@pytest.mark.parametrize("shell", SHELL_NAMES)
def test_the_shell_completes(home: Home, shell: str, line: str) -> None:
    need(shell)
    expected = CASES[line].get(shell, CASES[line]["all"])

    offered = home.complete(shell, line)

    assert set(offered) == expected


@pytest.mark.parametrize("shell", SHELL_NAMES)
def test_after_exec_double_dash_the_shell_completes_a_command_of_its_own(home: Home, shell: str) -> None:
    need(shell)
    offered = home.complete(shell, "mfa-process exec --profile base -- ech")

    assert "echo" in offered
    assert all(candidate.startswith("ech") for candidate in offered), offered


@pytest.mark.parametrize("shell", SHELL_NAMES)
def test_a_profile_name_that_is_shell_code_is_offered_never_run(tmp_path: Path, shell: str) -> None:
    need(shell)
    home = Home(tmp_path, credentials="".join(f"[{name}]\nregion = x\n" for name in HOSTILE_PROFILES))

    offered = home.complete(shell, "mfa-process --profile ")

    assert not list(tmp_path.rglob("PWNED")), "a profile name was run as a command"
    config_profiles = PROFILES - {"ci bot"}
    if shell == "bash":  # inserted as typed words: quoted
        assert set(offered) == config_profiles | {"\\$\\(touch\\ PWNED\\)", "\\`touch\\ PWNED\\`", "x\\;touch\\ PWNED"}
    else:  # the shell quotes each when it inserts it
        assert set(offered) == config_profiles | set(HOSTILE_PROFILES)


def test_bash_registers_the_function_for_mfa_process(home: Home) -> None:
    need("bash")
    script = str(home.script("bash"))
    shown = run(
        ["bash", "--norc", "--noprofile", "-c", 'source "$1" && complete -p mfa-process', "bash", script],
        env=home.env,
        cwd=home.root,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )

    assert (shown.returncode, shown.stdout, shown.stderr) == (0, "complete -F _mfa_process mfa-process\n", "")


def test_zsh_loads_the_script_from_fpath_too(home: Home) -> None:
    """The script saved as _mfa_process in a folder of $fpath, before compinit: autoloaded at the first TAB."""
    need("zsh")
    folder = home.root / "zsh-functions"
    folder.mkdir(exist_ok=True)
    (folder / "_mfa_process").write_text(home.script("zsh").read_text())

    assert set(home.complete("zsh", "mfa-process login --pro", ZSH_FPATH.format(folder=folder))) == {
        "--profile",
        "--prompt",
        "--prompt-timeout",
    }
    assert set(home.complete("zsh", "mfa-process --profile ", ZSH_FPATH.format(folder=folder))) == PROFILES


def test_listing_profiles_at_tab_time_loads_neither_argparse_nor_botocore(home: Home) -> None:
    """`completion --profiles` runs at every TAB: the light reader of the AWS files, and nothing heavy."""
    code = (
        "import sys; from mfa_process.cli import main; status = main(['completion', '--profiles']); "
        "sys.stderr.write(','.join(sorted(sys.modules))); sys.exit(status)"
    )
    listed = run(
        [sys.executable, "-c", code], env=home.env, cwd=home.root, capture_output=True, text=True, timeout=TIMEOUT
    )

    assert listed.returncode == 0
    assert set(listed.stdout.splitlines()) == PROFILES
    loaded = set(listed.stderr.split(","))
    assert not {name for name in loaded if name.split(".")[0] in ("argparse", "botocore", "boto3", "keyring")}
    assert "mfa_process.cli.completion_scripts" not in loaded
