"""Run a process with its wall clock moved: libfaketime, made safe for Python's timed waits.

Tests of sessions that age (a policy on aws:MultiFactorAuthAge, a session with little time left)
must not wait for real hours. The STS double takes a ``clock_offset``; the process under test gets
the same offset from libfaketime (Debian package ``faketime``), an LD_PRELOAD library that moves
what the C library's clocks return.

libfaketime 0.9.10 and Python 3.11 do not mix as they come: with the monotonic clock faked, every
timed wait on a thread primitive (``Event.wait(t)``, ``Lock.acquire(timeout=t)``) sleeps the whole
offset too long; with the monotonic clock left alone (``FAKETIME_DONT_FAKE_MONOTONIC=1``),
``time.sleep()`` fails with EINVAL (libfaketime issue 426): libfaketime's ``clock_nanosleep``
mangles the absolute monotonic deadline that Python sleeps until. So a small library of our own,
loaded before libfaketime, takes ``clock_nanosleep`` on the monotonic clocks straight to the kernel
and passes every other clock on to libfaketime. Then only the wall clock moves: ``time.time()``
and ``datetime.now()`` are shifted, ``time.monotonic()``, sleeps and timeouts are real.

The library is compiled from the source below with the system's C compiler, once per test
session, into a temporary folder (``ClockShift.build``). Where libfaketime or a compiler is
missing, ``ClockShiftUnavailable`` says what to install.

What stays real in a shifted process: file times (``os.stat``: a file written now by anyone looks
``seconds`` old, or young, to it) and everything its children do not inherit through the
environment. Children inherit LD_PRELOAD and FAKETIME, so what it starts runs shifted too.
"""

from __future__ import annotations

import glob
import os
import shutil
import sysconfig
from pathlib import Path
from typing import Dict, Mapping, Optional

from processes import run

COMPILE_SECONDS = 60.0  # a loaded CI machine; well under a second here
INSTALL_HINT = "on Debian or Ubuntu: apt-get install --no-install-recommends faketime gcc libc6-dev"
LIBFAKETIME = "libfaketime.so.1"  # the one the faketime command preloads (libfaketimeMT: for its -m)
SHIM_NAME = "monotonic_sleep_shim.so"

# clock_nanosleep on a monotonic clock goes to the kernel as it is: the deadline a program computed
# from its (real) monotonic clock is the kernel's. Any other clock is libfaketime's to convert.
SHIM_SOURCE = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

typedef int (*clock_nanosleep_fn)(clockid_t, int, const struct timespec *, struct timespec *);

int clock_nanosleep(clockid_t clock, int flags, const struct timespec *request, struct timespec *remain) {
    if (clock == CLOCK_MONOTONIC || clock == CLOCK_MONOTONIC_RAW || clock == CLOCK_BOOTTIME) {
        int saved = errno; /* clock_nanosleep answers an error number and leaves errno alone */
        long failed = syscall(SYS_clock_nanosleep, clock, flags, request, remain);
        int error = failed ? errno : 0;
        errno = saved;
        return error;
    }
    static clock_nanosleep_fn next;
    if (!next) next = (clock_nanosleep_fn)dlsym(RTLD_NEXT, "clock_nanosleep");
    if (!next) return ENOSYS;
    return next(clock, flags, request, remain);
}
"""


class ClockShiftUnavailable(RuntimeError):
    """This machine cannot move a process's clock (libfaketime or a C compiler missing)."""


def find_libfaketime() -> Optional[Path]:
    """libfaketime for this Python's architecture, where Debian, Fedora or a source build puts it."""
    multiarch = sysconfig.get_config_var("MULTIARCH") or "*"
    patterns = [
        f"/usr/lib/{multiarch}/faketime/{LIBFAKETIME}",
        f"/usr/lib64/faketime/{LIBFAKETIME}",
        f"/usr/lib/faketime/{LIBFAKETIME}",
        f"/usr/local/lib/faketime/{LIBFAKETIME}",
    ]
    for pattern in patterns:
        for found in sorted(glob.glob(pattern)):
            return Path(found)
    return None


def find_compiler() -> Optional[str]:
    """The system C compiler: $CC if set, else cc, gcc or clang on PATH."""
    for name in (os.environ.get("CC"), "cc", "gcc", "clang"):
        found = shutil.which(name) if name else None
        if found:
            return found
    return None


def faketime_offset(seconds: float) -> str:
    """FAKETIME's form of a relative offset: a sign, then seconds (libfaketime reads fractions)."""
    return f"{seconds:+.3f}"


class ClockShift:
    """Moves the wall clock of the processes a test starts: ``shift(env, seconds)`` is ``env``
    made to run shifted. Build one per session with ``ClockShift.build(folder)``."""

    def __init__(self, shim: Path, libfaketime: Path) -> None:
        self.shim = shim
        self.libfaketime = libfaketime

    @classmethod
    def build(cls, folder: Path) -> ClockShift:
        """Compile the monotonic-sleep library into ``folder``; ClockShiftUnavailable where
        libfaketime or a working C compiler is missing."""
        libfaketime = find_libfaketime()
        if libfaketime is None:
            raise ClockShiftUnavailable(f"libfaketime ({LIBFAKETIME}) is not installed; {INSTALL_HINT}")
        compiler = find_compiler()
        if compiler is None:
            raise ClockShiftUnavailable(f"no C compiler (cc, gcc, clang) on PATH; {INSTALL_HINT}")
        folder.mkdir(parents=True, exist_ok=True)
        source, shim = folder / "monotonic_sleep_shim.c", folder / SHIM_NAME
        source.write_text(SHIM_SOURCE)
        argv = [compiler, "-shared", "-fPIC", "-O2", "-o", str(shim), str(source), "-ldl"]
        result = run(argv, timeout=COMPILE_SECONDS, capture_output=True, text=True)
        if result.returncode != 0:  # headers missing (libc6-dev) more often than not
            raise ClockShiftUnavailable(
                f"{compiler} could not build the monotonic-sleep library (status {result.returncode}): "
                f"{result.stderr.strip()[-500:]}; {INSTALL_HINT}"
            )
        return cls(shim, libfaketime)

    def shifted_env(self, env: Mapping[str, str], seconds: float) -> Dict[str, str]:
        """A copy of ``env`` whose processes see the wall clock ``seconds`` ahead (behind if
        negative) and the monotonic clock, sleeps and timeouts as they are."""
        shifted = dict(env)
        ours = [str(self.shim), str(self.libfaketime)]  # the library first: its clock_nanosleep wins
        theirs = [name for name in env.get("LD_PRELOAD", "").replace(" ", ":").split(":") if name and name not in ours]
        preload = ours + theirs  # shifting a shifted env moves it to the new offset, not twice
        shifted.update(
            LD_PRELOAD=":".join(preload),
            FAKETIME=faketime_offset(seconds),
            FAKETIME_DONT_FAKE_MONOTONIC="1",
            DONT_FAKE_MONOTONIC="1",  # its name before libfaketime 0.9.10
        )
        return shifted

    __call__ = shifted_env

    def movable_env(self, env: Mapping[str, str], file: Path, seconds: float = 0.0) -> Dict[str, str]:
        """A copy of ``env`` whose processes read their wall-clock offset from ``file`` whenever
        they look at the clock, starting ``seconds`` ahead: ``ClockShift.move(file, seconds)``
        moves every one of them while they run. Monotonic clock, sleeps and timeouts stay real.

        libfaketime reads FAKETIME_TIMESTAMP_FILE again on every call with FAKETIME_NO_CACHE=1,
        and only when FAKETIME is unset (FAKETIME always outranks the file)."""
        self.move(file, seconds)
        movable = self.shifted_env(env, seconds)
        del movable["FAKETIME"]
        movable.update(FAKETIME_TIMESTAMP_FILE=str(file), FAKETIME_NO_CACHE="1")
        return movable

    @staticmethod
    def move(file: Path, seconds: float) -> None:
        """Every process started with ``movable_env(env, file)`` now sees the wall clock
        ``seconds`` ahead of the real one (behind if negative). The file is replaced whole, so a
        process never reads half of it."""
        partial = file.with_name(file.name + ".partial")
        partial.write_text(faketime_offset(seconds) + "\n")
        os.replace(partial, file)
