"""default_cache_dir: the folder platformdirs would give, computed without importing platformdirs."""

from __future__ import annotations

import os

import platformdirs
import pytest

from mfa_process.session.cache_dir import default_cache_dir


@pytest.fixture
def home(tmp_path, monkeypatch):
    path = tmp_path / "home"
    path.mkdir()
    monkeypatch.setenv("HOME", str(path))
    return str(path)


def platformdirs_answer():
    return platformdirs.user_cache_dir("mfa-process", appauthor=False)


def test_xdg_cache_home_set(home, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))

    assert default_cache_dir(dict(os.environ)) == str(tmp_path / "xdg" / "mfa-process") == platformdirs_answer()


def test_xdg_cache_home_unset(home, monkeypatch):
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)

    assert default_cache_dir(dict(os.environ)) == os.path.join(home, ".cache", "mfa-process") == platformdirs_answer()


def test_xdg_cache_home_empty(home, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", "")

    assert default_cache_dir(dict(os.environ)) == platformdirs_answer()


# Values that are not an absolute path: the XDG spec says to ignore them, and platformdirs does
# since tox-dev/platformdirs#540. Older platformdirs (4.4, the last for Python 3.9, among them)
# used them as they are, so these cases are checked against the spec, not the installed version.
@pytest.mark.parametrize("value", ["  {xdg}  ", "   ", "\t{xdg}\n", "relative/cache", "~/cache"])
def test_a_value_that_is_not_an_absolute_path_is_ignored(home, tmp_path, monkeypatch, value):
    monkeypatch.setenv("XDG_CACHE_HOME", value.format(xdg=tmp_path / "xdg"))

    assert default_cache_dir(dict(os.environ)) == os.path.join(home, ".cache", "mfa-process")


def test_explicit_environ_is_used_instead_of_os_environ(home, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "from-os-environ"))

    assert default_cache_dir({"XDG_CACHE_HOME": str(tmp_path / "given")}) == str(tmp_path / "given" / "mfa-process")


def test_default_argument_reads_the_current_os_environ(home, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "later"))

    assert default_cache_dir() == str(tmp_path / "later" / "mfa-process")
