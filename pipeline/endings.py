"""How a command ends when it cannot finish: one clear line, its own exit code, the lock released.

A full disk, an output folder the user may not write, Ctrl-C and SIGTERM are no bugs: they get
no traceback but a line saying what happened and what to do, and an exit code a scheduler can
tell apart (`EXIT_CODES`). SIGTERM is turned into an exception in the main thread, like Ctrl-C,
so that the run unwinds the same way: the workers are killed, a commit in its thread is waited
for, `Store.lock()` removes its file, and the tables hold every commit made before; the next
run finishes the work (a commit stopped among its renames first, `pipeline.parts.recover`).
"""
from __future__ import annotations

import errno
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

EXIT_OK = 0
EXIT_FAILURES = 1
EXIT_USAGE = 2
EXIT_LOCKED = 3
EXIT_NO_SPACE = 4
EXIT_UNWRITABLE = 5
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report Ctrl-C
EXIT_TERMINATED = 143  # 128 + SIGTERM

EXIT_CODES = {
    EXIT_OK: "every document is in the tables (none failed, none stands failed from before)",
    EXIT_FAILURES: "some documents stand failed: `minutes failures` lists them with their reasons",
    EXIT_USAGE: "usage error (a bad option, a missing folder): nothing was done",
    EXIT_LOCKED: "another run is writing to the output folder: nothing was done",
    EXIT_NO_SPACE: "the disk (or quota) of the output folder is full: free space and run again",
    EXIT_UNWRITABLE: "the output folder cannot be written (permissions, a read-only file system)",
    EXIT_INTERRUPTED: "interrupted (Ctrl-C): run the same command again to finish",
    EXIT_TERMINATED: "terminated (SIGTERM): run the same command again to finish",
}
_NO_SPACE = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
_UNWRITABLE = frozenset({errno.EACCES, errno.EPERM, errno.EROFS})
_AGAIN = "the tables hold every batch committed before; run the same command again to finish the rest"


class Terminated(BaseException):
    """SIGTERM arrived: a BaseException, like KeyboardInterrupt, so no `except Exception` swallows it."""


@contextmanager
def signals_as_exceptions() -> Iterator[None]:
    """Within: SIGTERM raises `Terminated` in the main thread (Ctrl-C raises KeyboardInterrupt as always)."""
    def terminate(signum: int, frame: FrameType | None) -> None:
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def ending(exc: BaseException, out: Path | None) -> tuple[int, str] | None:
    """The exit code and the one line for a run stopped by `exc`, or None when it is a bug (let it show)."""
    if isinstance(exc, KeyboardInterrupt):
        return EXIT_INTERRUPTED, f"interrupted (Ctrl-C); {_AGAIN}"
    if isinstance(exc, Terminated):
        return EXIT_TERMINATED, f"terminated (SIGTERM); {_AGAIN}"
    if not isinstance(exc, OSError):
        return None
    where = exc.filename or out
    if exc.errno in _NO_SPACE:
        return EXIT_NO_SPACE, (f"no space left to write {where} ({exc.strerror}); free space on that disk (or raise "
                               f"the quota) and run the same command again: {_AGAIN}")
    inside = False
    if out is not None and exc.filename is not None:  # the output folder, a file in it, or a folder on its way
        target, written = Path(out).resolve(), Path(exc.filename).resolve()
        inside = written.is_relative_to(target) or target.is_relative_to(written)
    if exc.errno in _UNWRITABLE and (inside or exc.filename is None):
        return EXIT_UNWRITABLE, (f"cannot write the output folder {out} ({exc.strerror}: {where}); give the user "
                                 "running minutes write access to it, or choose another with --out")
    return None
