"""Fixtures and hooks only: the STS double, an isolated AWS home (tests/aws_home.py), the secret
guard, the e2e marker and the check that no test touches the real HOME."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Dict, Iterator, List

import pytest
from aws_home import AwsHome
from secret_guard import SecretGuard
from sts_double_process import StsDoubleProcess

from mfa_process.errors import MfaProcessError


@pytest.fixture(autouse=True)
def secret_guard(monkeypatch: pytest.MonkeyPatch) -> SecretGuard:
    """Every test: a known secret in stderr, a log or an error message fails it (tests/secret_guard.py)."""
    guard = SecretGuard()
    original_init = MfaProcessError.__init__

    def recording_init(self: MfaProcessError, *args: object) -> None:
        original_init(self, *args)
        guard.check(f"the message of a {type(self).__name__}", str(self))

    monkeypatch.setattr(MfaProcessError, "__init__", recording_init)
    return guard


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """After the last phase: what pytest captured (stderr, logs) and what the guard recorded."""
    outcome = yield
    report = outcome.get_result()
    guard = getattr(item, "funcargs", {}).get("secret_guard")
    if report.when != "teardown" or not isinstance(guard, SecretGuard):
        return
    captured = [(title, text) for title, text in report.sections if "stderr" in title or " log " in title]
    leaks = guard.leaks(captured)
    if leaks:
        report.outcome = "failed"
        report.longrepr = "secret guard: " + "; ".join(leaks)


@pytest.fixture
def sts(secret_guard: SecretGuard) -> Iterator[StsDoubleProcess]:
    """The STS double, in a process of its own: no server thread in the test process, which
    pexpect forks (tests/sts_double_process.py). StsDouble's API: calls(), requests, settings."""
    with StsDoubleProcess() as double:
        secret_guard.watch_double(double)  # type: ignore[arg-type] # the same API, over loopback
        yield double


# --- e2e: tests that start processes or clients -------------------------------------------------

# Fixtures that start a process (the STS double, mfa-process, AWS clients, fake helper programs,
# a moto server) or hand the test something that does.
E2E_FIXTURES = frozenset({"sts", "aws", "fake_bin", "fakes", "moto", "moto_aws", "secret_service"})


def pytest_collection_modifyitems(config: pytest.Config, items: List[pytest.Item]) -> None:
    """Mark ``e2e`` every test in a ``*_e2e.py`` file and every test that uses a process-starting
    fixture; the few others that start processes carry ``@pytest.mark.e2e`` themselves.
    ``pytest -m "not e2e"`` (tox -e fast) runs the rest in seconds."""
    for item in items:
        if item.path.name.endswith("_e2e.py") or E2E_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture
def aws(tmp_path: Path, sts: StsDoubleProcess, secret_guard: SecretGuard) -> Iterator[AwsHome]:
    """An AwsHome; afterwards every process spawned on it and still open is closed (killed), so a
    failed test leaves nothing running for the rest of the session (its traceback keeps it referenced)."""
    home = AwsHome(tmp_path, sts, guard=secret_guard)
    yield home
    errors = []
    for child in home.children:
        try:
            if not child.closed:
                child.close(force=True)
        except Exception as error:  # one that cannot be killed must not keep the others alive
            errors.append(f"{child.command} (pid {child.pid}): {error}")
    assert not errors, "spawned processes that could not be closed: " + "; ".join(errors)


# --- no test writes outside its temporary folders ---------------------------------------------

try:  # hypothesis (a test extra): no example database in the repository (its caches: pytest_configure)
    from hypothesis import settings as _hypothesis_settings

    _hypothesis_settings.register_profile("mfa-process-tests", database=None)
    _hypothesis_settings.load_profile("mfa-process-tests")
except ImportError:  # pragma: no cover - the property tests skip themselves then
    pass


_HYPOTHESIS_HOME = pytest.StashKey[str]()


def pytest_configure(config: pytest.Config) -> None:
    """Hypothesis keeps caches (unicode data, the constants of collected modules) in ./.hypothesis,
    the repository, from collection on: a temporary folder instead, removed at the end."""
    try:
        from hypothesis import configuration
    except ImportError:  # pragma: no cover
        return
    import tempfile

    config.stash[_HYPOTHESIS_HOME] = tempfile.mkdtemp(prefix="mfa-process-tests-hypothesis-")
    configuration.set_hypothesis_home_dir(config.stash[_HYPOTHESIS_HOME])


def pytest_unconfigure(config: pytest.Config) -> None:
    import shutil

    folder = config.stash.get(_HYPOTHESIS_HOME, None)
    if folder:
        shutil.rmtree(folder, ignore_errors=True)


# What tests, their clients (AWS CLI, SDKs, terraform, npm) and mfa-process would write in a home.
HOME_WATCHED = (".aws", ".cache", ".config", ".local/share", ".npm", ".terraform.d", ".mfa-process")
HOME_WATCHED_TREES = (".aws", ".cache/mfa-process", ".terraform.d")  # small: every file in them
# Written by interactive programs whenever someone's shell or REPL exits, never by these tests.
HOME_IGNORED = (".bash_history", ".python_history", ".node_repl_history", ".lesshst", ".viminfo", ".wget-hsts")


def home_state(home: Path) -> Dict[str, int]:
    """Path (relative to ``home``) -> mtime in ns (-1 for a folder whose mtime is not watched):
    the top level's names and files, the watched folders' entries, the watched trees' files."""
    state: Dict[str, int] = {}

    def add(path: Path, with_mtime: bool = True) -> None:
        try:
            info = path.lstat()
        except OSError:
            return
        state[str(path.relative_to(home))] = info.st_mtime_ns if with_mtime else -1

    try:
        top = sorted(home.iterdir())
    except OSError:
        return state
    for entry in top:
        if entry.name not in HOME_IGNORED:  # other folders: created or removed is a change, not inside
            add(entry, with_mtime=not entry.is_dir() or entry.name in HOME_WATCHED)
    for name in HOME_WATCHED:
        folder = home / name
        add(folder)
        if folder.is_dir() and not folder.is_symlink():
            for entry in folder.iterdir():
                add(entry)
    for name in HOME_WATCHED_TREES:
        for root, folders, files in os.walk(home / name):
            for entry in folders + files:
                add(Path(root, entry))
    return state


@pytest.fixture(scope="session", autouse=True)
def real_home_untouched() -> Iterator[None]:
    """Fails the session (an error at the last teardown) if anything changed in the real HOME:
    every test must write under its tmp_path, and give every process it starts a HOME there."""
    home = Path(os.environ.get("HOME") or os.path.expanduser("~"))
    before = home_state(home)
    yield
    after = home_state(home)
    changed = sorted(name for name in set(before) | set(after) if before.get(name) != after.get(name))
    assert not changed, (
        f"the tests changed the real HOME {home}: "
        + ", ".join(
            f"~/{name} ({'new' if name not in before else 'gone' if name not in after else 'modified'})"
            for name in changed[:20]
        )
        + "; a test must write only under tmp_path and start processes with HOME there (AwsHome.env)"
    )


# --- a real Secret Service (gnome-keyring on a private D-Bus) -----------------------------------

from secret_service import SecretService, SecretServiceUnavailable  # noqa: E402


@pytest.fixture
def secret_service(tmp_path: Path) -> Iterator[SecretService]:
    """A started SecretService (tests/secret_service.py): its files under tmp_path, the HOME the
    ``aws`` fixture uses, so the keyring sits where HOME=tmp_path puts it. Where it cannot start
    (gnome-keyring or dbus missing) the test skips and says why, except on CI (CI set), which
    must run these tests: there it fails."""
    service = SecretService(tmp_path)
    try:
        service.start()
    except SecretServiceUnavailable as error:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the Secret Service tests: {error}", pytrace=False)
        pytest.skip(str(error))
    try:
        yield service
    finally:
        service.stop()


# --- moved clocks (libfaketime and a library of ours, tests/clock_shift.py) ---------------------

from clock_shift import ClockShift, ClockShiftUnavailable  # noqa: E402

E2E_FIXTURES = E2E_FIXTURES | {"clock_shift"}  # its users start the processes it shifts


@pytest.fixture(scope="session")
def clock_shift(tmp_path_factory: pytest.TempPathFactory) -> ClockShift:
    """``clock_shift(env, seconds)``: ``env`` for a process whose wall clock is ``seconds`` ahead
    (monotonic clock, sleeps and timeouts real). Built once per session in a temporary folder.
    Where libfaketime or a C compiler is missing the test skips and says why, except on CI (CI
    set), which must run these tests: there it fails."""
    try:
        return ClockShift.build(tmp_path_factory.mktemp("clock-shift"))
    except ClockShiftUnavailable as error:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the moved-clock tests: {error}", pytrace=False)
        pytest.skip(str(error))
