"""Read one consistent snapshot of the tables, also while a run is committing.

Each table is a folder of part files, and a commit changes several folders one rename at a time:
a reader that lists the folders itself may see a commit half done (decisions whose `documents`
row is not there yet) and, before issue 15, a part listed and then folded away. Plain folders
cannot give more than that, so every commit ends by writing a manifest, `OUT/snapshot.json`:
its commit number and the live parts of every table (`pipeline.parts`). A part's content never
changes under its name, and the parts a manifest lists keep their content until a newer
manifest is in place. So `read_snapshot` reads the manifest, opens every part it lists, and
reads the manifest again: when it is the same, every open file holds exactly that commit's rows
(an open file keeps its content whatever is renamed over its name later), and the tables are
read from them at leisure. When a commit came between, it tries again with the new manifest.
After a run was killed midway, the manifest is still the last complete commit's.

An output written before manifests has none until its next commit: its folders are read as
they are, as before.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import IO

import pyarrow as pa

from pipeline.parts import conform, part_files, read_manifest
from pipeline.schema import TABLES

ATTEMPTS = 50  # commits seen while opening the files before giving up (each commit is seconds apart)


class SnapshotUnavailable(RuntimeError):
    """No consistent snapshot could be opened: commits kept coming while the files were opened."""


def read_snapshot(out: Path, tables: Iterable[str] | None = None,
                  columns: dict[str, Sequence[str]] | None = None) -> dict[str, pa.Table]:
    """Every table (or those named) of `out` as of one commit, as Arrow tables in their schema.

    `columns`: only these columns of a table. `.to_pandas()` gives a DataFrame; DuckDB queries
    the Arrow tables directly (`duckdb.sql("select ... from decisions")` with `decisions` a local).
    """
    out = Path(out)
    names = list(tables) if tables is not None else list(TABLES)
    unknown = set(names) - set(TABLES)
    if unknown:
        raise KeyError(f"unknown table(s) {sorted(unknown)}; the tables are {sorted(TABLES)}")
    for _ in range(ATTEMPTS):
        with ExitStack() as files:
            manifest = read_manifest(out)
            try:
                opened = {name: [files.enter_context(part.open("rb")) for part in part_files(out / name)]
                          for name in names}
            except FileNotFoundError:  # a commit retired a part between the manifest and the open: again
                continue
            if (read_manifest(out) or {}).get("commit") != (manifest or {}).get("commit"):
                continue  # a commit came between: the files opened may mix two commits
            if manifest is None and not all((out / name).is_dir() for name in names):
                missing = [name for name in names if not (out / name).is_dir()]
                raise FileNotFoundError(f"no table {missing[0]!r} under {out}; run `minutes ingest SRC --out {out}` first")
            return {name: _read(name, handles, (columns or {}).get(name)) for name, handles in opened.items()}
    raise SnapshotUnavailable(f"commits to {out} kept coming while its parts were opened ({ATTEMPTS} tries); "
                              "read again when the run is done")


def _read(name: str, handles: list[IO[bytes]], columns: Sequence[str] | None) -> pa.Table:
    import pyarrow.parquet as pq

    schema = TABLES[name].schema
    if columns:
        schema = pa.schema([schema.field(c) for c in columns])
    pieces = []
    for handle in handles:
        present = set(pq.read_schema(handle).names)
        handle.seek(0)
        pieces.append(conform(pq.read_table(handle, columns=[n for n in schema.names if n in present]), schema))
    return pa.concat_tables(pieces) if pieces else pa.Table.from_batches([], schema=schema)
