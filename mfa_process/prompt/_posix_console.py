"""The controlling terminal on POSIX: /dev/tty, never stdin or stderr (SDKs capture those)."""

from __future__ import annotations

import os
import select
import signal
import termios
from contextlib import contextmanager
from types import FrameType
from typing import Iterator, List, Optional

from ..watchdog import Watchdog, no_watchdog

_MAX_LINE_BYTES = 1024
_ABORT_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


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
        with self._echo_off():
            if prompt:
                self.write(prompt)
            line = self._read_line(watchdog or no_watchdog())
        self.write("\n")
        return line

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
    def _echo_off(self) -> Iterator[None]:
        """Hide the typed code, and put the terminal back however the read ends."""
        try:
            saved = termios.tcgetattr(self._fd)
        except termios.error:
            yield
            return
        hidden = list(saved)
        hidden[3] &= ~termios.ECHO
        with _signals_raise_interrupt():
            termios.tcsetattr(self._fd, termios.TCSAFLUSH, hidden)
            try:
                yield
            finally:
                termios.tcsetattr(self._fd, termios.TCSAFLUSH, saved)


@contextmanager
def _signals_raise_interrupt() -> Iterator[None]:
    """Turn SIGTERM/SIGHUP into KeyboardInterrupt so the echo is restored before we exit."""

    def interrupt(signum: int, frame: Optional[FrameType]) -> None:
        raise KeyboardInterrupt

    previous = {signum: signal.signal(signum, interrupt) for signum in _ABORT_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
