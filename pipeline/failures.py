"""`minutes failures`: the failures that stand in an output, and what the next run does with each.

A failure stands until it is resolved: the `failures` row of a file stays until a run reads the
file without failing (or `--prune` removes a file gone from SRC), and every `minutes ingest` exits
with 1 while any stands. Each row says whether the next run tries the file again by itself
(`retry`: a time limit, memory, a worker killed from outside, a file changed while read) or only
when its bytes, the extractor version or the limits change.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline.snapshot import read_snapshot


def standing(out: Path) -> list[dict[str, Any]]:
    """The failures rows of `out`, by source_path (one consistent snapshot of the table)."""
    rows = read_snapshot(out, ["failures"])["failures"].to_pylist()
    return sorted(rows, key=lambda r: r["source_path"])


def next_run(row: dict[str, Any]) -> str:
    """What the next `minutes ingest` does with the file of a failures row."""
    if row["retry"]:
        return "tried again by the next run"
    return "tried again when the file, the extractor version or the limits change"


def format_failures(rows: list[dict[str, Any]], out: Path) -> str:
    """The rows as an operator reads them: path, stage and error, then the reason and what comes next."""
    if not rows:
        return f"no failures stand in {out}"
    lines = [f"{len(rows)} failure(s) stand in {out}:"]
    for row in rows:
        lines.append(f"- {row['source_path']}  [{row['stage']}, {row['error_type']}; {next_run(row)}]")
        lines.append(f"    {row['reason']}")
    return "\n".join(lines)
