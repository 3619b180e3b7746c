"""Parquet datasets under the output folder, one folder per table.

Each table is a folder of shard files (`OUT/<table>/part-<xx>.parquet`, `xx` = the first two hex
digits of doc_id), so that `pandas.read_parquet(OUT / "decisions")` and DuckDB's
`read_parquet('OUT/decisions/*.parquet')` read it whole. A document's rows live in exactly one
shard per table: re-processing it rewrites that shard without the old rows (replace, never
duplicate). Every shard is written to a temporary file and renamed into place, so a crash
never leaves half a file; `documents` is written last, so a document whose rows are all in
place is exactly one with a `documents` row.
"""
from __future__ import annotations

import os
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.schema import TABLES, Table

WRITE_ORDER = ("failures", "mentions", "votes", "meetings", "decisions", "documents")
_EMPTY_SHARD = "part-empty.parquet"


def shard_of(key: str) -> str:
    return key[:2] if len(key) >= 2 and all(c in "0123456789abcdef" for c in key[:2]) else "xx"


def _shard_key(table: Table, row: Mapping[str, Any]) -> str:
    return row.get("doc_id") or row.get("source_path") or ""


def to_arrow(table: Table, rows: Iterable[Mapping[str, Any]]) -> pa.Table:
    rows = list(rows)
    unknown = {k for r in rows for k in r} - set(table.names)
    if unknown:
        raise ValueError(f"rows for {table.name!r} carry columns the schema lacks: {sorted(unknown)}")
    columns = {c.name: [r.get(c.name) for r in rows] for c in table.columns}
    return pa.Table.from_pydict(columns, schema=table.schema)


def _atomic_write(arrow: pa.Table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".parquet", dir=path.parent)
    os.close(fd)
    try:
        pq.write_table(arrow, tmp, compression="zstd")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _row_key(table: Table) -> str:
    return "doc_id" if table.name != "failures" else "source_path"


class Store:
    """Writes and replaces rows of every table in an output folder."""

    def __init__(self, out: Path) -> None:
        self.out = Path(out)

    def path(self, table: str) -> Path:
        return self.out / table

    def replace(self, rows: Mapping[str, list[dict[str, Any]]], replaced: Mapping[str, set[str]]) -> None:
        """Write `rows` per table, first dropping any earlier rows whose key is in `replaced`.

        `replaced["doc_id"]` are documents processed in this batch (their old rows go from
        every table); `replaced["source_path"]` are paths whose old failures go.
        """
        paths = replaced.get("source_path", set())
        # A file whose bytes changed has a new doc_id: its old rows go too.
        doc_ids = set(replaced.get("doc_id", set())) | self._doc_ids_at(paths)
        for name in WRITE_ORDER:
            table = TABLES[name]
            key = _row_key(table)
            drop = paths if key == "source_path" else doc_ids
            by_shard: dict[str, list[dict[str, Any]]] = defaultdict(list)
            for row in rows.get(name, []):
                by_shard[shard_of(_shard_key(table, row))].append(row)
            # Old rows of a replaced key may sit in any shard (failures keyed by path).
            shards = set(by_shard)
            if key == "doc_id":
                shards |= {shard_of(d) for d in drop}
            else:
                shards |= {p.stem.removeprefix("part-") for p in self.path(name).glob("part-*.parquet")}
            for shard in sorted(shards):
                self._rewrite(table, shard, by_shard.get(shard, []), key, drop)
            self._ensure_readable(table)

    def _rewrite(self, table: Table, shard: str, new: list[dict[str, Any]], key: str, drop: set[str]) -> None:
        path = self.path(table.name) / f"part-{shard}.parquet"
        parts = []
        if path.exists():
            old = pq.read_table(path)
            if drop and old.num_rows:
                keep = pa.compute.invert(pa.compute.is_in(old[key], value_set=pa.array(sorted(drop), pa.string())))
                old = old.filter(pa.compute.fill_null(keep, True))
            if old.num_rows:
                parts.append(old.select(table.names).cast(table.schema))
        if new:
            parts.append(to_arrow(table, new))
        if not parts:
            if path.exists():
                path.unlink()
            return
        merged = pa.concat_tables(parts)
        merged = merged.sort_by([(c, "ascending") for c in table.sort_by])
        if path.exists() and not new and merged.num_rows == pq.read_metadata(path).num_rows:
            return
        _atomic_write(merged, path)

    def _ensure_readable(self, table: Table) -> None:
        """A table with no rows still reads (as zero rows with its schema)."""
        folder = self.path(table.name)
        shards = [p for p in folder.glob("part-*.parquet") if p.name != _EMPTY_SHARD]
        empty = folder / _EMPTY_SHARD
        if shards:
            empty.unlink(missing_ok=True)
        elif not empty.exists():
            _atomic_write(table.schema.empty_table(), empty)

    def _doc_ids_at(self, paths: set[str]) -> set[str]:
        if not paths or not self.path("documents").exists():
            return set()
        docs = self.read("documents", columns=["doc_id", "source_path"])
        return {d for d, p in zip(docs["doc_id"].to_pylist(), docs["source_path"].to_pylist()) if p in paths}

    def read(self, table: str, columns: list[str] | None = None) -> pa.Table:
        folder = self.path(table)
        files = sorted(folder.glob("part-*.parquet"))
        schema = TABLES[table].schema
        if columns:
            schema = pa.schema([schema.field(c) for c in columns])
        if not files:
            return schema.empty_table()
        return pa.concat_tables([pq.read_table(f, columns=schema.names).cast(schema) for f in files])

    def known_documents(self) -> dict[str, str]:
        """doc_id → extractor_version of every document already in the output."""
        docs = self.read("documents")
        return dict(zip(docs["doc_id"].to_pylist(), docs["extractor_version"].to_pylist()))
