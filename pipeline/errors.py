"""Errors that become `failures` rows: each carries the stage and a reason a person can act on."""
from __future__ import annotations


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
