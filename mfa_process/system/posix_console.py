"""The controlling terminal on POSIX: /dev/tty, never stdin or stderr (SDKs capture those)."""

from __future__ import annotations

import os
import select
import signal
import termios
from contextlib import contextmanager
from types import FrameType
from typing import Any, Callable, Dict, Iterator, List, Optional

from ..watchdog import Watchdog, no_watchdog

_MAX_LINE_BYTES = 1024


class Console:
    """/dev/tty, opened once for reading and writing (raises OSError when there is none)."""

    def __init__(self) -> None:
        self._fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)

    def __enter__(self) -> "Console":
        return self

    def __exit__(self, *exc_info: object) -> None:
        os.close(self._fd)

    def write(self, text: str) -> None:
        data = text.encode("utf-8", "replace")
        while data:
            data = data[os.write(self._fd, data) :]

    def read_secret_line(self, watchdog: Optional[Watchdog] = None, prompt: str = "") -> Optional[str]:
        """Show ``prompt``, then read one line typed without echo; None at end of input (Ctrl-D).

        The prompt is written once echo is off (as getpass does): turning echo off flushes
        pending input, which must not swallow an answer typed as soon as the prompt appears.
        The watchdog ends the wait (by raising) at its deadline or when our caller is gone.
        """
        with self._echo_off(prompt):
            if prompt:
                self.write(prompt)
            line = self._read_line(watchdog or no_watchdog())
        self.write("\n")
        return line

    def read_line(self, watchdog: Optional[Watchdog] = None, prompt: str = "") -> Optional[str]:
        """Show ``prompt``, then read one line typed with echo (an access key ID); None at end of input."""
        if prompt:
            self.write(prompt)
        return self._read_line(watchdog or no_watchdog())

    def erase_line(self) -> None:
        """Take the unanswered prompt off the screen."""
        self.write("\r\x1b[2K")

    def _read_line(self, watchdog: Watchdog) -> Optional[str]:
        chunks: List[bytes] = []
        size = 0
        while size <= _MAX_LINE_BYTES:
            watchdog.check()
            readable, _, _ = select.select([self._fd], [], [], watchdog.next_wait())
            if not readable:
                continue
            chunk = os.read(self._fd, _MAX_LINE_BYTES)
            if not chunk:
                return None if not chunks else b"".join(chunks).decode("utf-8", "replace")
            chunks.append(chunk)
            size += len(chunk)
            if b"\n" in chunk:
                break
        return b"".join(chunks).split(b"\n", 1)[0].decode("utf-8", "replace")

    @contextmanager
    def _echo_off(self, prompt: str = "") -> Iterator[None]:
        """Hide the typed code, and put the terminal back however the read ends.

        Every signal that ends the prompt (Ctrl-C, Ctrl-\\, SIGTERM, SIGHUP) raises
        KeyboardInterrupt here, so the terminal is restored first: SIGQUIT's default action, a core
        dump, would skip every ``finally`` and leave echo off. Ctrl-Z shows the echo again while we
        are stopped; on SIGCONT the input is hidden again and the prompt shown again (a shell's
        own terminal settings may have turned echo on meanwhile)."""
        try:
            saved = termios.tcgetattr(self._fd)
        except termios.error:
            yield
            return
        hidden = list(saved)
        hidden[3] &= ~termios.ECHO
        reading = [True]

        def stop(signum: int, frame: Optional[FrameType]) -> None:
            if reading[0]:
                self._set_attributes(saved)
            signal.signal(signal.SIGTSTP, signal.SIG_DFL)
            try:
                os.kill(os.getpid(), signal.SIGTSTP)  # stopped here, as the default would; SIGCONT resumes
            finally:
                signal.signal(signal.SIGTSTP, stop)
            if reading[0]:
                self._set_attributes(hidden)

        def resume(signum: int, frame: Optional[FrameType]) -> None:
            if reading[0]:
                self._set_attributes(hidden)
                self.write("\r" + prompt)

        with _signals_raise_interrupt(), _signals_handled({signal.SIGTSTP: stop, signal.SIGCONT: resume}):
            termios.tcsetattr(self._fd, termios.TCSAFLUSH, hidden)
            try:
                yield
            finally:
                reading[0] = False
                termios.tcsetattr(self._fd, termios.TCSAFLUSH, saved)

    def _set_attributes(self, attributes: List[Any]) -> None:
        """From a signal handler: best effort (a background process gets EIO or is stopped)."""
        try:
            termios.tcsetattr(self._fd, termios.TCSANOW, attributes)
        except termios.error:
            pass


# Each ends the prompt; listed, not left to their defaults, so the terminal is restored first.
_ABORT_SIGNALS = (signal.SIGINT, signal.SIGQUIT, signal.SIGTERM, signal.SIGHUP)
# The other signals whose default action ends the process (a supervisor's SIGUSR1, an alarm the
# caller left armed): taken over only while at their default, a handler of the caller's stays.
_ENDING_BY_DEFAULT = tuple(
    getattr(signal, name)
    for name in ("SIGUSR1", "SIGUSR2", "SIGALRM", "SIGVTALRM", "SIGPROF", "SIGXCPU", "SIGPWR")
    if hasattr(signal, name)
)


@contextmanager
def _signals_raise_interrupt() -> Iterator[None]:
    """Turn the signals that end the prompt into KeyboardInterrupt, so the echo is restored before
    we exit. A signal our parent ignores (nohup, a background job of a script) stays ignored."""

    def interrupt(signum: int, frame: Optional[FrameType]) -> None:
        raise KeyboardInterrupt

    ending: Dict[int, Callable[[int, Optional[FrameType]], None]] = dict.fromkeys(_ENDING_BY_DEFAULT, interrupt)
    with _signals_handled({signum: interrupt for signum in _ABORT_SIGNALS}):
        with _signals_handled(ending, only_over_default=True):
            yield


@contextmanager
def _signals_handled(
    handlers: Dict[int, Callable[[int, Optional[FrameType]], None]], only_over_default: bool = False
) -> Iterator[None]:
    """Install ``handlers`` for the duration, except over SIG_IGN or a handler not set from Python
    (``only_over_default``: over nothing but SIG_DFL)."""
    previous: Dict[int, Any] = {}
    try:
        for signum, handler in handlers.items():
            current = signal.getsignal(signum)
            if current is signal.SIG_IGN or current is None:
                continue
            if only_over_default and current is not signal.SIG_DFL:
                continue
            previous[signum] = current
            signal.signal(signum, handler)
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
