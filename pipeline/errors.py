"""Errors that become `failures` rows: each carries the stage and a reason a person can act on."""
from __future__ import annotations


# error_type of the failures that may pass when the same file is tried again with the same limits
# (stopped at the time limit, out of memory, its worker killed from outside, the file changed
# while it was read): the next run tries them again instead of skipping them as unchanged.
RETRIED = frozenset({"Timeout", "MemoryError", "WorkerKilled", "FileChanged"})


class DocumentError(Exception):
    """A document could not be processed; `reason` is written to the failures table as is."""

    stage = "extract"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ReadError(DocumentError):
    stage = "read"


class RepairError(DocumentError):
    stage = "repair"


class FileChanged(ReadError):
    """The file is not what the run planned to read (other bytes, or swapped for a link): read next run."""
