"""The code reader (ykman, a command): after a rejection it reads again until the code changes, within
the watchdog's bound."""

from __future__ import annotations

import types

import pytest
from clocks import FakeClock

from mfa_process.errors import PromptTimeoutError
from mfa_process.prompt import code_reader
from mfa_process.prompt.code_reader import code_reader_source
from mfa_process.watchdog import Watchdog

HINT = "run `mfa-process login --profile base` in a terminal first"


@pytest.fixture
def fake_time(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """The code reader's clock and sleep, on a fake clock."""
    clock = FakeClock()
    monkeypatch.setattr(code_reader, "time", types.SimpleNamespace(sleep=clock.advance, monotonic=clock))
    return clock


def test_after_a_rejection_the_same_code_is_read_again_until_it_changes(fake_time: FakeClock) -> None:
    codes = ["111111", "111111", "111111", "222222"]
    reads = []

    def read_code(mfa_serial: str, watchdog: Watchdog) -> str:
        reads.append(fake_time.now)
        return codes.pop(0)

    ask = code_reader_source(read_code, lambda: Watchdog(60, lambda: True, HINT, fake_time), "a new code")

    assert ask("serial", None) == "111111"
    assert ask("serial", "AWS rejected that code") == "222222"
    assert [later - earlier for earlier, later in zip(reads[1:], reads[2:])] == pytest.approx([2.0, 2.0])


def test_waiting_for_a_new_code_is_bounded_by_the_watchdog(fake_time: FakeClock) -> None:
    ask = code_reader_source(
        lambda serial, watchdog: "111111", lambda: Watchdog(5, lambda: True, HINT, fake_time), "a new code"
    )
    ask("serial", None)
    started = fake_time.now

    with pytest.raises(PromptTimeoutError) as raised:
        ask("serial", "AWS rejected that code")

    assert fake_time.now - started == pytest.approx(5.0)
    assert "a new code" in str(raised.value)
