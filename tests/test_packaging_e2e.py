"""The package as users get it: built with `python -m build` from this tree, checked with twine,
installed from the wheel into a fresh virtual environment (not editable, no test extra), and run
from there; the version in one place; a clone left clean by `pip install .` and `python -m build`.

Everything is built, installed and cloned under the test's temporary folders, with a HOME there;
pip fetches build tools and the wheel's dependencies from the package index the machine's pip is
configured with (PyPI, or a mirror). Where pip cannot reach one they skip, except on CI (CI set),
where they fail.
"""

from __future__ import annotations

import configparser
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from aws_home import AwsHome, contract
from processes import isolated_env, run

import mfa_process

REPO = Path(__file__).resolve().parents[1]
VERSION = mfa_process.__version__
PIP_SECONDS = 600.0  # a cold install of boto3 and its dependencies from a slow index
BUILD_SECONDS = 300.0
RUN_SECONDS = 60.0
# Files of the tree that are not part of the source release: CI's own script and git's settings.
NOT_RELEASED = (".ci/", ".gitignore")
# What a working tree holds that git ignores and the sdist must never take (planted in the copy that
# is built, as npm, pytest, Python and tools leave them in a real checkout).
LEFT_IN_TREE = (
    "tests/js/node_modules/left-pad/index.js",
    "tests/js/node_modules/left-pad/binding.py",
    "tests/__pycache__/conftest.cpython-311.pyc",
    "examples/__pycache__/demo.cpython-311.pyc",
    "benchmarks/__pycache__/hit_path.cpython-311.pyc",
    "mfa_process/__pycache__/errors.cpython-311.pyc",
    "mfa_process/cli/helper.pyc",
    ".venv/bin/python",
    ".ci/venv/3.13/bin/python",
)


@dataclass(frozen=True)
class Built:
    """An sdist and a wheel built from a copy of the working tree, and the venv that built them."""

    source: Path  # the copy: tracked files and new ones git does not ignore, plus LEFT_IN_TREE
    tools: Path  # a venv with build and twine
    sdist: Path
    wheel: Path
    tracked: set[str]  # paths relative to the tree, as git lists them
    tree: set[str]  # tracked and untracked-but-not-ignored files that exist


@dataclass(frozen=True)
class Installed:
    """A fresh venv with the wheel and its dependencies installed from the index."""

    venv: Path

    @property
    def bin(self) -> Path:
        return self.venv / ("Scripts" if sys.platform == "win32" else "bin")

    @property
    def python(self) -> Path:
        return venv_python(self.venv)


def tool_env(home: Path) -> dict[str, str]:
    """An environment for pip, build and git: HOME under the test's folder, no pip cache, and nothing
    that would point Python or pip at this checkout or at another environment."""
    env = isolated_env(home, PIP_NO_CACHE_DIR="1")
    for name in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PIP_USER", "PIP_TARGET", "PIP_PREFIX"):
        env.pop(name, None)
    return env


def call(argv: list[object], *, cwd: Path, env: dict[str, str], timeout: float) -> str:
    """Run a tool to completion and return its stdout; a failure shows the end of what it said."""
    result = run(
        [str(arg) for arg in argv],
        cwd=cwd,
        env=env,
        timeout=timeout,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, (
        f"{' '.join(str(arg) for arg in argv)} exited {result.returncode}:\n"
        f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )
    return result.stdout


def make_venv(path: Path, home: Path) -> Path:
    """A fresh venv of this interpreter's base Python (no system site-packages): its python."""
    call([sys.executable, "-m", "venv", path], cwd=home, env=tool_env(home), timeout=BUILD_SECONDS)
    return venv_python(path)


def venv_python(venv: Path) -> Path:
    """The interpreter of a venv (its layout differs on Windows)."""
    return venv / ("Scripts" if sys.platform == "win32" else "bin") / "python"


def git_files(*options: str) -> set[str]:
    """Paths relative to the checkout that `git ls-files OPTIONS` lists."""
    listed = run(["git", "ls-files", "-z", *options], cwd=REPO, capture_output=True, check=True, timeout=RUN_SECONDS)
    return {name for name in listed.stdout.decode().split("\0") if name}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """`python -m build` (sdist, then the wheel from the sdist) run in a copy of this working tree,
    so that files other people have not committed yet are built too and the tree is not written to."""
    if not (REPO / ".git").exists() or shutil.which("git") is None:
        pytest.skip("the packaging tests build from a git checkout (this is not one, or git is missing)")
    root = tmp_path_factory.mktemp("packaging")
    tracked = git_files("--cached")
    tree = {name for name in tracked | git_files("--others", "--exclude-standard") if (REPO / name).is_file()}
    source = root / "source"
    for name in sorted(tree):
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, source / name)
    for name in LEFT_IN_TREE:
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_text("# left in the working tree by a tool; not part of the release\n")

    python = make_venv(root / "tools", root)
    env = tool_env(root)
    tools = run(
        [python, "-m", "pip", "install", "-q", "build", "twine"],
        cwd=root,
        env=env,
        timeout=PIP_SECONDS,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    if tools.returncode != 0:  # no package index here (offline): nothing of ours has been tried yet
        reason = f"pip could not install build and twine: {(tools.stderr.strip().splitlines() or ['?'])[-1]}"
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the packaging tests: {reason}", pytrace=False)
        pytest.skip(reason)
    dist = root / "dist"
    call([python, "-m", "build", "--outdir", dist, source], cwd=root, env=env, timeout=BUILD_SECONDS)
    [sdist] = dist.glob("*.tar.gz")
    [wheel] = dist.glob("*.whl")
    return Built(source, root / "tools", sdist, wheel, tracked, tree)


@pytest.fixture(scope="module")
def installed(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """The wheel installed as a user installs it: a fresh venv, its dependencies from the index."""
    root = tmp_path_factory.mktemp("installed")
    python = make_venv(root / "venv", root)
    call([python, "-m", "pip", "install", "-q", built.wheel], cwd=root, env=tool_env(root), timeout=PIP_SECONDS)
    return Installed(root / "venv")


# --- the version in one place ---------------------------------------------------------------------


def test_changelog_newest_release_is_the_package_version():
    changelog = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## \[([^\]]+)\]", changelog, re.MULTILINE)
    releases = [heading for heading in headings if heading.lower() != "unreleased"]

    assert releases, "CHANGELOG.md has no '## [VERSION]' heading"
    assert releases[0] == VERSION


def test_setup_cfg_reads_the_version_from_the_package():
    metadata = configparser.ConfigParser()
    metadata.read(REPO / "setup.cfg", encoding="utf-8")

    assert metadata["metadata"]["version"] == "attr: mfa_process.__version__"
    assert VERSION not in (REPO / "pyproject.toml").read_text(encoding="utf-8")


# --- python -m mfa_process ------------------------------------------------------------------------


def python_m(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """`python -m mfa_process ARGS` with this test run's interpreter (the package as checked out)."""
    return run(
        [sys.executable, "-m", "mfa_process", *args],
        cwd=cwd,
        env=tool_env(cwd),
        timeout=RUN_SECONDS,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )


def test_python_m_mfa_process_is_the_command(tmp_path: Path):
    version = python_m(["--version"], tmp_path)
    usage = python_m(["--profile"], tmp_path)  # a usage error: main()'s status must be the exit status

    assert (version.returncode, version.stdout, version.stderr) == (0, f"mfa-process {VERSION}\n", "")
    assert (usage.returncode, usage.stdout) == (2, "")
    assert "--profile" in usage.stderr


# --- what `python -m build` makes ----------------------------------------------------------------


def test_twine_check_accepts_the_sdist_and_the_wheel(built: Built):
    check = [venv_python(built.tools), "-m", "twine", "check", "--strict", built.sdist, built.wheel]
    output = call(check, cwd=built.tools.parent, env=tool_env(built.tools.parent), timeout=RUN_SECONDS)

    assert output.count("PASSED") == 2, output
    assert built.sdist.name == f"mfa_process-{VERSION}.tar.gz"
    assert built.wheel.name == f"mfa_process-{VERSION}-py3-none-any.whl"


def test_wheel_holds_every_module_of_the_package_and_nothing_else(built: Built):
    with zipfile.ZipFile(built.wheel) as wheel:
        names = set(wheel.namelist())
        metadata = wheel.read(f"mfa_process-{VERSION}.dist-info/METADATA").decode()
        entry_points = wheel.read(f"mfa_process-{VERSION}.dist-info/entry_points.txt").decode()
    modules = {name for name in built.tree if name.startswith("mfa_process/") and name.endswith(".py")}
    info = {name for name in names if name.startswith(f"mfa_process-{VERSION}.dist-info/")}

    assert "mfa_process/server/endpoint.py" in modules and "mfa_process/__main__.py" in modules
    assert names - info == modules  # every module of the source tree; no tests, no caches, no .pyc
    assert f"Version: {VERSION}\n" in metadata
    assert "Name: mfa-process\n" in metadata
    assert "Requires-Python: >=3.10\n" in metadata
    assert "Description-Content-Type: text/markdown\n" in metadata
    assert re.search(r"^mfa-process = mfa_process\.cli:main$", entry_points, re.MULTILINE)


def test_sdist_holds_the_tracked_files_and_nothing_a_tool_left_in_the_tree(built: Built):
    prefix = f"mfa_process-{VERSION}/"
    with tarfile.open(built.sdist) as sdist:
        members = [member for member in sdist.getmembers() if member.isfile()]
    names = {member.name[len(prefix) :] for member in members if member.name.startswith(prefix)}
    generated = {"PKG-INFO"} | {name for name in names if name.startswith("mfa_process.egg-info/")}
    released = {name for name in built.tracked if not name.startswith(NOT_RELEASED) and (REPO / name).is_file()}

    assert len(names) == len(members), "every file of the sdist is under its one top folder"
    assert sorted(released - names) == []  # the tests with their helpers, examples, benchmarks, CHANGELOG
    assert sorted(names - generated - built.tree) == []  # none of LEFT_IN_TREE, nothing git ignores
    assert {"CHANGELOG.md", "LICENSE", "README.md", "tests/conftest.py", "tests/js/package.json"} <= names


# --- the wheel installed into a fresh venv ----------------------------------------------------------


def test_installed_wheel_runs_as_mfa_process_and_python_m(installed: Installed, tmp_path: Path):
    env = tool_env(tmp_path)  # cwd outside the checkout: `python -m` must not find the source tree
    script = call([installed.bin / "mfa-process", "--version"], cwd=tmp_path, env=env, timeout=RUN_SECONDS)
    module = call([installed.python, "-m", "mfa_process", "--version"], cwd=tmp_path, env=env, timeout=RUN_SECONDS)
    where_from = [installed.python, "-c", "import mfa_process; print(mfa_process.__file__)"]
    where = call(where_from, cwd=tmp_path, env=env, timeout=RUN_SECONDS)

    assert script == module == f"mfa-process {VERSION}\n"
    assert Path(where.strip()).resolve().is_relative_to(installed.venv.resolve())


def test_installed_wheel_gets_a_session_then_serves_it_from_the_cache(installed: Installed, aws: AwsHome):
    program = installed.bin / "mfa-process"
    env = dict(aws.env, PATH=f"{installed.bin}{os.pathsep}{aws.env['PATH']}")

    def plugin(*args: str) -> subprocess.CompletedProcess:
        result = run(
            [str(program), "--profile", "base", *args],
            cwd=aws.root,
            env=env,
            timeout=RUN_SECONDS,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
        )
        aws.guard.check("the stderr of the installed mfa-process", result.stderr)
        return result

    first = plugin("--token-code", aws.code())
    calls_after_first = aws.sts.calls()
    second = plugin()  # no code and no terminal: only the cache can serve it

    assert first.returncode == 0, first.stderr
    assert aws.sts.calls("GetSessionToken") == 1
    assert second.returncode == 0, second.stderr
    assert (second.stdout, second.stderr) == (first.stdout, "")
    assert contract(second.stdout)["AccessKeyId"].startswith("ASIA")
    assert aws.sts.calls() == calls_after_first  # the hit made no STS call
    assert len(aws.cache_files()) == 1


# --- a clean clone stays clean ----------------------------------------------------------------------


def test_a_clean_clone_stays_clean_after_pip_install_and_build(built: Built, tmp_path: Path):
    env = tool_env(tmp_path)
    clone = tmp_path / "clone"
    call(["git", "clone", "-q", REPO, clone], cwd=tmp_path, env=env, timeout=RUN_SECONDS)
    python = venv_python(built.tools)
    target = tmp_path / "installed"

    # `pip install .` as pipx runs it (a regular install; only where it installs differs), then a release build
    install = [python, "-m", "pip", "install", "-q", "--no-deps", "--target", target, "."]
    call(install, cwd=clone, env=env, timeout=PIP_SECONDS)
    call([python, "-m", "build", "--outdir", tmp_path / "dist", "."], cwd=clone, env=env, timeout=BUILD_SECONDS)
    status = call(["git", "status", "--porcelain", "--untracked-files=all"], cwd=clone, env=env, timeout=RUN_SECONDS)

    assert (target / "mfa_process" / "__init__.py").is_file()
    assert status == ""  # build/ and *.egg-info/, which setuptools writes in place, are ignored
