"""What is made from the tables after each run: the `cases` tables and the search index.

Both follow `decisions` and `documents`, never a single document, so a batch's workers do not
make them: `refresh` does, at the end of every run (`run.Collector.close`: `ingest`,
`reprocess`, the Prefect flows), under the output's lock. Each remembers the *stamp* of the
tables it was made from (their part files' names, sizes and modification times), so a run that
changed nothing costs a directory listing, and a run stopped before its refresh is caught up by
the next run or by the first command that reads them (`ensure_fresh`: `search`, `case`,
`export`, `browse`).

The cases are rebuilt whole (one pass over the decision keys: ~0.3 s per 100,000 decisions,
see README "Measured"); the search index is brought up to date document by document
(`pipeline.search.index`).
"""
from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

import pyarrow as pa

from pipeline import cases, parts
from pipeline.parts import STAGING, TMP_PREFIX, part_files, part_name
from pipeline.schema import DERIVED, TABLES
from pipeline.search import index
from pipeline.store import OutputLocked, Store, to_arrow

STAMP_KEY = b"minutes.source"  # the Parquet metadata key holding the stamp a derived table was built from
_SOURCES = ("documents", "decisions")
FILTER_MAX = 5000  # documents to read by a doc_id filter; more, and the whole table is read (faster than testing each)


def source_stamp(out: Path) -> str:
    """A digest of the part files of the tables the derived ones are made from."""
    h = hashlib.sha256()
    for name in _SOURCES:
        for part in part_files(Path(out) / name):
            stat = part.stat()
            h.update(f"{name}/{part.name}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    return h.hexdigest()[:16]


def _table_stamp(out: Path, name: str) -> str | None:
    import pyarrow.parquet as pq

    found = part_files(Path(out) / name)
    if len(found) != 1:
        return None
    meta = pq.read_schema(found[0]).metadata or {}
    stamp = meta.get(STAMP_KEY)
    return stamp.decode() if stamp else None


def is_fresh(out: Path) -> bool:
    """Whether the cases tables and the search index were made from the tables as they are now."""
    stamp = source_stamp(out)
    return all(_table_stamp(out, name) == stamp for name in DERIVED) and index.stamp_of(out) == stamp


def refresh(store: Store) -> bool:
    """Make the derived tables and the index from the tables, if they are stale; the caller holds the lock."""
    out = store.out
    if not (out / "decisions").exists() or is_fresh(out):
        return False
    stamp = source_stamp(out)
    decisions = store.read("decisions", columns=list(cases.DECISION_COLUMNS))
    documents = store.read("documents")
    case_rows, handling_rows = cases.build(decisions, documents)
    _replace_tables(store, {"cases": case_rows, "case_handlings": handling_rows}, stamp)
    index.sync(out, documents, lambda ids: _read(store, "decisions", ids),
               lambda ids: _read(store, "mentions", ids, [("field", "in", list(index.FIELDS))]), stamp)
    return True


def _read(store: Store, table: str, doc_ids: list[str], more: list[tuple] | None = None) -> pa.Table:
    """The rows of these documents (all of them when that is most of the table: no filter to test)."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq  # ParquetFile, not read_table: that imports pyarrow.dataset and pandas

    schema = TABLES[table].schema
    filters = list(more or [])
    if len(doc_ids) < FILTER_MAX:
        filters.append(("doc_id", "in", doc_ids))
    found = []
    for path in part_files(store.path(table)):
        rows = parts.conform(pq.ParquetFile(path).read(), schema)
        for column, _, values in filters:  # every filter here is "column in values"
            rows = rows.filter(pc.is_in(rows[column], value_set=pa.array(values, type=schema.field(column).type)))
        found.append(rows)
    return pa.concat_tables(found) if found else pa.Table.from_batches([], schema=schema)


def _replace_tables(store: Store, rows: dict[str, list[dict]], stamp: str) -> None:
    """Each table's rows as its one new part (with the stamp), its old parts removed: one journaled commit."""
    out = store.out
    (out / STAGING).mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=TMP_PREFIX, dir=out / STAGING))
    try:
        commit = parts.next_commit(out)
        manifest = parts.next_manifest(out, commit)
        steps: list[parts.Step] = []
        retired: list[parts.Step] = []  # old parts emptied after the manifest: a reader never meets a gap
        for name, table_rows in rows.items():
            table = TABLES[name]
            arrow = to_arrow(table, table_rows).replace_schema_metadata({STAMP_KEY: stamp.encode()})
            folder = store.path(name)
            new = folder / part_name(commit, 0)
            steps.append((new, store._write_staged(table, arrow, staging)))
            retired += [(path, store._write_staged(table, to_arrow(table, []), staging))
                        for path in part_files(folder)]
            manifest["tables"][name] = [new.name]
        parts.apply(out, steps, retired, manifest)
        parts.sweep_retired(out, tuple(rows))
    finally:
        parts.remove_tree(staging)
        _remove_empty(out / STAGING)


def _remove_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:  # a batch's folder or a journal is there
        pass


def ensure_fresh(out: Path) -> str | None:
    """For the commands that read: refresh what is stale, or say why it could not be (another run writing)."""
    out = Path(out)
    if not (out / "documents").exists() or is_fresh(out):
        return None
    store = Store(out)
    try:
        with store.lock():
            refresh(store)
    except OutputLocked as exc:
        return f"{exc}; the cases and the search index may lag behind the tables until it ends"
    return None
