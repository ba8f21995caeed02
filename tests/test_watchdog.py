"""The bound on every wait: the Watchdog's deadline and its check that the caller is still there.
The waits built on it have their own files: test_lock.py, test_caller_watch.py,
test_helper_process.py, test_code_reader.py."""

from __future__ import annotations

import math

import pytest
from clocks import FakeClock

from mfa_process.errors import (
    CallerGoneError,
    PromptAbortedError,
    PromptTimeoutError,
)
from mfa_process.watchdog import POLL_SECONDS, Watchdog, no_watchdog

HINT = "run `mfa-process login --profile base` in a terminal first"


class FakeCaller:
    def __init__(self) -> None:
        self.alive = True
        self.asked = 0

    def __call__(self) -> bool:
        self.asked += 1
        return self.alive


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def caller() -> FakeCaller:
    return FakeCaller()


def test_next_wait_is_one_poll_while_the_deadline_is_far(clock, caller) -> None:
    watchdog = Watchdog(60, caller, HINT, clock)

    assert watchdog.next_wait() == POLL_SECONDS
    assert 0 < POLL_SECONDS <= 0.5  # short enough to notice a gone caller within 2 s


def test_next_wait_never_exceeds_a_poll_nor_the_time_left(clock, caller) -> None:
    watchdog = Watchdog(1.0, caller, HINT, clock)
    while clock.now < 1000.0 + 1.5:
        wait = watchdog.next_wait()
        assert 0.0 <= wait <= POLL_SECONDS
        assert wait <= max(watchdog.remaining(), 0.0)
        assert wait == pytest.approx(max(0.0, min(POLL_SECONDS, watchdog.remaining())))
        clock.advance(0.07)


def test_next_wait_is_zero_past_the_deadline(clock, caller) -> None:
    watchdog = Watchdog(1.0, caller, HINT, clock)
    clock.advance(5)

    assert watchdog.next_wait() == 0.0


def test_check_passes_until_the_deadline(clock, caller) -> None:
    watchdog = Watchdog(2.0, caller, HINT, clock)
    clock.advance(1.99)

    watchdog.check()


@pytest.mark.parametrize("late", [0.0, 0.5, 100.0])
def test_check_past_the_deadline_says_how_long_and_what_to_do(clock, caller, late: float) -> None:
    watchdog = Watchdog(1.5, caller, HINT, clock)
    clock.advance(1.5 + late)

    with pytest.raises(PromptTimeoutError) as raised:
        watchdog.check("the YubiKey")

    assert str(raised.value) == f"no answer within 1.5 s while waiting for the YubiKey; {HINT}"
    assert isinstance(raised.value, PromptAbortedError)  # the terminal erases its prompt for these


def test_whole_seconds_are_shown_without_a_fraction(clock, caller) -> None:
    watchdog = Watchdog(60.0, caller, "", clock)
    clock.advance(60)

    with pytest.raises(PromptTimeoutError) as raised:
        watchdog.check()

    assert str(raised.value) == "no answer within 60 s while waiting for the MFA code"  # no hint, no "; "


def test_a_gone_caller_ends_the_wait_at_once(clock, caller) -> None:
    watchdog = Watchdog(60, caller, HINT, clock)
    watchdog.check()
    caller.alive = False

    with pytest.raises(CallerGoneError) as raised:
        watchdog.check("the zenity dialog")

    assert "the program that started mfa-process is gone" in str(raised.value)
    assert "the zenity dialog" in str(raised.value)
    assert isinstance(raised.value, PromptAbortedError)


def test_a_gone_caller_is_reported_before_the_timeout(clock, caller) -> None:
    watchdog = Watchdog(1, caller, HINT, clock)
    clock.advance(10)
    caller.alive = False

    with pytest.raises(CallerGoneError):
        watchdog.check()


def test_the_caller_is_asked_on_every_check(clock, caller) -> None:
    watchdog = Watchdog(60, caller, HINT, clock)
    for _ in range(3):
        watchdog.check()

    assert caller.asked == 3


def test_a_polling_loop_gives_up_after_exactly_the_timeout(clock, caller) -> None:
    """What every prompt, dialog and helper does: check, then block for next_wait()."""
    watchdog = Watchdog(1.0, caller, HINT, clock)
    started, polls = clock.now, 0
    with pytest.raises(PromptTimeoutError):
        while True:
            watchdog.check()
            clock.advance(watchdog.next_wait())
            polls += 1

    assert clock.now - started == pytest.approx(1.0)
    expected = math.ceil(1.0 / POLL_SECONDS)
    assert expected <= polls <= expected + 1  # one more for float rounding at the deadline, no more
    assert caller.asked == polls + 1


def test_no_watchdog_never_ends_a_wait() -> None:
    watchdog = no_watchdog()
    watchdog.check()

    assert watchdog.next_wait() == POLL_SECONDS
    assert watchdog.remaining() == float("inf")
