"""One run at a time per output folder: an flock on `OUT/.lock`, released however the run ends.

Two runs on the same folder would overwrite each other's files, so a run holds the lock from
start to end and a second one stops at once, saying who holds it. flock, not a bare O_EXCL
file: the kernel releases it when the holder dies, so a crashed run never blocks the next. The
file is removed on release (also when the run ends by Ctrl-C, SIGTERM or a full disk: see
`pipeline.endings`); a run that locked a file another run was just removing (another inode)
tries again. Taking the lock finishes a commit an earlier run was stopped in (`parts.recover`)
and removes the temporary files it left.
"""
from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from pipeline import parts
from pipeline.parts import TMP_PREFIX

LOCK_NAME = ".lock"


class OutputLocked(RuntimeError):
    """Another run holds the output folder's lock."""


@contextmanager
def output_lock(out: Path) -> Iterator[None]:
    """Hold `out` for one run; a second run stops with `OutputLocked` saying who has it."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / LOCK_NAME
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise OutputLocked(
                f"another minutes run is writing to {out} ({_holder(path)}); "
                f"wait for it or remove {path} if that process is gone") from None
        try:
            current = os.stat(path).st_ino
        except FileNotFoundError:
            current = None
        if current == os.fstat(fd).st_ino:
            break
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()} {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC\n".encode())
        _remove_temp_files(out)
        yield
    finally:
        try:
            parts.clear_staging(out)  # what a batch that failed or was stopped had written early
            # (a commit stopped among its renames is finished first: see `parts.recover`)
        finally:
            path.unlink(missing_ok=True)
            os.close(fd)


def _remove_temp_files(out: Path) -> None:
    """Temporary files left by a run that was killed while writing (only under the lock), once
    the commit it may have been making is finished."""
    parts.clear_staging(out)
    for tmp in [*out.glob(f"*/{TMP_PREFIX}*.parquet"), *out.glob(f"{TMP_PREFIX}*")]:
        tmp.unlink(missing_ok=True)


def _holder(path: Path) -> str:
    try:
        pid, _, since = path.read_text(encoding="utf-8").strip().partition(" ")
    except (FileNotFoundError, UnicodeDecodeError):
        pid, since = "", ""
    return f"pid {pid or 'unknown'} since {since or 'an unknown time'}"
