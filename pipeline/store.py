"""Parquet datasets under the output folder, one folder per table.

Each table is a folder of part files (`OUT/<table>/part-<commit>-<n>.parquet`: `pipeline.parts`
says how they are cut, folded and named), so that `pandas.read_parquet(OUT / "decisions")` and
DuckDB's `read_parquet('OUT/decisions/*.parquet')` read it whole, and `pipeline.snapshot.read_snapshot`
reads one consistent snapshot of every table, also while a run commits. A commit adds new parts and
writes again (under new names) only the old parts that held a document it replaces (replace, never
duplicate): its cost is what it brings, not the size of the output.

Safe writes: `replace` (or a `Batch`'s commit) first writes every new or changed part of every
table to a temporary file in `OUT/.tmp-staging` (no reader looks there; DuckDB's `*.parquet` glob
would read a `.tmp-*` file beside the parts), then the list of renames, and only then renames
them into place, `documents` last. An error while writing leaves the tables exactly as they were;
a run stopped among the renames has them finished by the next run (`parts.recover`). A `Batch`
writes parts there while the documents are still being processed. Two runs on the same folder
would still overwrite each other's files, so a run holds `Store.lock()` (an flock on
`OUT/.lock`, `pipeline.lock`) from start to end, and a second one stops at once.
"""
from __future__ import annotations

import itertools
import os
import tempfile
from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from functools import cache
from pathlib import Path
from typing import Any

import pyarrow as pa

from pipeline import parts
from pipeline.lock import LOCK_NAME, OutputLocked  # noqa: F401 - re-exported: callers catch it from here
from pipeline.parts import EMPTY, STAGING, TMP_PREFIX, KeyIndex, Step, part_files, part_name
from pipeline.schema import TABLES, Table

# `fetches` (a log `minutes fetch` appends to, `Store.append`) is listed so that every output reads it (empty
# after a plain ingest); no document's rows are ever in it, so an ingest commit never changes it.
WRITE_ORDER = ("fetches", "pages", "failures", "mentions", "votes", "meetings", "decisions", "documents")
# Stored pages are read back one document at a time: small row groups let a lookup by doc_id
# skip the rest of the part through the row-group statistics.
_ROW_GROUP_ROWS = {"pages": 256}
# A batch beside its workers writes its rows as a part every this many documents: little is left
# for the end, and each file's fixed cost (creation, footer) is paid once per 8 documents, not 5x each.
EARLY_DOCUMENTS = 8
# Snappy, no dictionary encoding, min/max statistics only where a reader can use them
# (`Table.statistics`). Measured on 130 small files (5 tables x 26 documents): zstd took 0.60 ms
# a file to write and Snappy 0.35; the files were 1,340 KiB, where zstd with statistics on every
# column made 1,375 KiB; reading them back was 25 % faster; dictionary encoding made them larger
# and slower to read.
_PARQUET_OPTIONS: dict[str, Any] = {"compression": "snappy", "use_dictionary": False}
# mkstemp makes files only their owner can read; tables get the usual umask-based mode instead.
_UMASK = os.umask(0o022)
os.umask(_UMASK)
_FILE_MODE = 0o666 & ~_UMASK


def to_arrow(table: Table, rows: Iterable[Mapping[str, Any]]) -> pa.Table:
    """The rows as an Arrow table of the table's schema; a column a row lacks is null.

    Arrow reads the rows as one struct array, the dicts in C: a third faster than turning them
    into columns in Python first, and the batch converts every row of every document.
    """
    rows = list(rows)
    unknown = set().union(*rows).difference(table.names)
    if unknown:
        raise ValueError(f"rows for {table.name!r} carry columns the schema lacks: {sorted(unknown)}")
    schema = _schema_of(table.name)
    structs = pa.array(rows, type=pa.struct(schema))
    return pa.Table.from_batches([pa.RecordBatch.from_struct_array(structs)], schema=schema)


@cache
def _schema_of(name: str) -> pa.Schema:
    return TABLES[name].schema


def warm_writer() -> None:
    """Do the writer's one-time work now, in a batch while its workers load the pipeline.

    pyarrow imports pandas the first time it converts a Python list (it checks each for a pandas
    type), ~0.2 s of CPU, and its parquet and compute modules on first use. Done at the first
    document instead, it costs that time while the workers wait for the batch (or, with as many
    workers as cores, takes a core from them); while the zygote imports, a core is idle.
    """
    import pyarrow.compute  # noqa: F401
    import pyarrow.parquet  # noqa: F401

    pa.array([], pa.string())


def _write_temp(arrow: pa.Table, folder: Path, table: Table, row_group_size: int | None = None) -> Path:
    """Write to a temporary file in `folder` (on the target's file system); the caller renames it into place."""
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX, suffix=".parquet", dir=folder)
    try:
        import pyarrow.parquet as pq  # imported where used: workers import this module but never write

        # Written through the descriptor mkstemp opened: opening the file again by name costs as
        # much as writing a small part on some file systems.
        with open(fd, "wb") as sink:
            os.fchmod(fd, _FILE_MODE)
            pq.write_table(arrow, sink, row_group_size=row_group_size, write_statistics=table.statistics,
                           **_PARQUET_OPTIONS)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def _atomic_write(arrow: pa.Table, path: Path, table: Table) -> None:
    os.replace(_write_temp(arrow, path.parent, table), path)


def _sorted(table: Table, rows: pa.Table) -> pa.Table:
    return rows.sort_by([(c, "ascending") for c in table.sort_by]) if rows.num_rows > 1 else rows


def _write_part(table: Table, rows: pa.Table, staging: Path) -> Path:
    return _write_temp(rows, staging, table, _ROW_GROUP_ROWS.get(table.name))


def _no_rows(table: Table) -> pa.Table:
    return pa.Table.from_batches([], schema=table.schema)  # not schema.empty_table(): that imports pandas (0.3 s)


def _row_key(table: Table) -> str:
    return {"failures": "source_path", "fetches": "fetch_id"}.get(table.name, "doc_id")


class Store:
    """Writes and replaces rows of every table in an output folder."""

    def __init__(self, out: Path) -> None:
        self.out = Path(out)
        self.index = KeyIndex()  # which keys each part holds: read once, while the run goes on

    def path(self, table: str) -> Path:
        return self.out / table

    def replace(self, rows: Mapping[str, list[dict[str, Any]]], replaced: Mapping[str, set[str]]) -> None:
        """Write `rows` per table, first dropping any earlier rows whose key is in `replaced`.

        `replaced["doc_id"]` are documents processed in this batch (their old rows go from
        every table but `pages`); `replaced["source_path"]` are paths whose old failures go,
        and whose old document (if the bytes there changed) goes too. Pages are replaced only
        by new pages of the same doc_id or when listed in `replaced["pages"]`: a document
        extracted again from its stored pages keeps them. The same as adding `rows` to a
        `Batch` and committing it.
        """
        batch = Batch(self, early=False)
        batch.add(rows)
        batch.commit(replaced)

    def append(self, name: str, rows: list[dict[str, Any]]) -> None:
        """Add rows to a log table (`fetches`), replacing none: small parts fold as in any commit."""
        batch = Batch(self, early=False)
        batch.pending[name] = [to_arrow(TABLES[name], rows)] if rows else []
        batch.commit({}, tables=(name,))

    def remove(self, doc_ids: set[str], source_paths: set[str] = frozenset()) -> None:
        """Delete documents from every table, their pages included, and failures at the paths."""
        self.replace({}, {"doc_id": set(doc_ids), "source_path": set(source_paths), "pages": set(doc_ids)})

    def drop_orphan_pages(self) -> int:
        """Delete stored pages no document or failure refers to any more (old bytes of a file)."""
        if not self.path("pages").exists():
            return 0
        stored = set(self.read("pages", columns=["doc_id"])["doc_id"].unique().to_pylist())
        used = set(self.read("documents", columns=["doc_id"])["doc_id"].to_pylist())
        used |= set(self.read("failures", columns=["doc_id"])["doc_id"].drop_null().to_pylist())
        orphans = stored - used
        if orphans:
            self.replace({}, {"pages": orphans})
        return len(orphans)

    def _table_steps(self, table: Table, drop: set[str], new: list[pa.Table], early: list[Path],
                     commit: int, staging: Path) -> tuple[list[Step], list[Path]]:
        """What a commit does to one table: the new parts (old parts rewritten without `drop`'s rows
        or folded into the new part, the parts written early, the rest of the new rows) and the old
        parts it retires (`pipeline.parts`: a part's content never changes under its name)."""
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        key = _row_key(table)
        folder = self.path(table.name)
        writing = bool(new or early)
        steps: list[Step] = []
        retired: list[Path] = []
        rewritten: list[Path] = []
        found = part_files(folder)
        small = {p for p in found if p.stat().st_size < parts.MERGE_BELOW} if writing else set()
        fold_all = len(small) >= parts.FOLD_COUNT
        for part in found:
            # a part written before a column was added to the table is written again with it
            hit = (bool(drop) and not drop.isdisjoint(self.index.keys(part, key))) or bool(
                set(table.names) - self.index.columns(part))
            fold = part in small and (hit or fold_all)
            if not (hit or fold):
                continue
            old = pq.read_table(part)
            if hit:
                keep = pc.invert(pc.is_in(old[key], value_set=pa.array(sorted(drop), pa.string())))
                old = old.filter(pc.fill_null(keep, True))
            old = parts.conform(old, table.schema)
            retired.append(part)
            if fold and old.num_rows:
                new = [*new, old]
            elif old.num_rows:
                rewritten.append(self._write_staged(table, old, staging))
        names = (folder / part_name(commit, n) for n in itertools.count())
        steps.extend((next(names), tmp) for tmp in [*rewritten, *early])
        if new:
            for piece in parts.split(_sorted(table, pa.concat_tables(new)), key):
                steps.append((next(names), _write_part(table, piece, staging)))
        return steps, retired

    def _write_staged(self, table: Table, rows: pa.Table, staging: Path) -> Path:
        """Rows, sorted, as a temporary file in a staging folder (readers never look there)."""
        return _write_part(table, _sorted(table, rows), staging)

    def _ensure_readable(self, table: Table) -> None:
        """A table with no rows still reads (as zero rows with its schema): the empty file stays
        once made, so that no reader that listed it finds it gone."""
        empty = self.path(table.name) / EMPTY
        if not empty.exists():
            _atomic_write(_no_rows(table), empty, table)

    def _doc_ids_at(self, paths: set[str]) -> set[str]:
        if not paths or not self.path("documents").exists():
            return set()
        docs = self.read("documents", columns=["doc_id", "source_path"])
        return {d for d, p in zip(docs["doc_id"].to_pylist(), docs["source_path"].to_pylist()) if p in paths}

    def read(self, table: str, columns: list[str] | None = None) -> pa.Table:
        import pyarrow.parquet as pq

        folder = self.path(table)
        files = sorted(folder.glob("part-*.parquet"))
        schema = TABLES[table].schema
        if columns:
            schema = pa.schema([schema.field(c) for c in columns])
        if not files:
            return pa.Table.from_batches([], schema=schema)  # not schema.empty_table(): that imports pandas (0.3 s)
        # ParquetFile, not read_table: read_table imports pyarrow.dataset and with it pandas (0.3 s a run)
        return pa.concat_tables([parts.conform(pq.ParquetFile(f).read(columns=[n for n in schema.names
                                                                              if n in self.index.columns(f)]), schema)
                                 for f in files])

    def lock(self) -> AbstractContextManager[None]:
        """Hold the output folder for one run (`pipeline.lock.output_lock`)."""
        from pipeline.lock import output_lock

        return output_lock(self.out)


class Batch:
    """Rows on their way into the tables: Arrow per table as they come, written as parts, put in place at `commit`.

    Converting rows and writing files is most of what writing costs, and a batch can do both while
    its workers are still busy: `add` converts each document's rows at once and (`early`) writes
    the rows of every `EARLY_DOCUMENTS` documents as new parts into its own staging folder. New
    parts never replace a file, so they can be written before anything is known of the commit.
    `commit` writes the rest, works out which old parts change (`Store._table_steps`) and renames,
    documents last: until then the tables are untouched, and after a failed commit the rows are
    still here to try again.
    """

    def __init__(self, store: Store, early: bool = True) -> None:
        self.store, self.early = store, early
        if early:  # a batch beside workers: see warm_writer
            warm_writer()
        self.pending: dict[str, list[pa.Table]] = {}  # table -> rows not written yet, in arrival order
        self.pending_documents = 0
        self.written: dict[str, list[pa.Table]] = {}  # table -> rows written early (kept for a retry)
        self.staged: dict[str, list[Path]] = {}  # table -> parts written early, in the staging folder
        self.page_ids: set[str] = set()
        self._staging: Path | None = None

    def add(self, rows: Mapping[str, list[dict[str, Any]]]) -> None:
        """Take a document's (or any) rows per table; a row with a column the schema lacks is a ValueError."""
        for name in WRITE_ORDER:
            if name == "pages":
                self.page_ids.update(r["doc_id"] for r in rows.get(name, []))
            if rows.get(name):
                self.pending.setdefault(name, []).append(to_arrow(TABLES[name], rows[name]))
        self.pending_documents += 1
        if self.early and self.pending_documents >= EARLY_DOCUMENTS:
            self._write_early()

    def _write_early(self) -> None:
        """The pending rows as new parts; on an error they stay pending (and nothing is half kept)."""
        staging = self.staging()
        made: dict[str, Path] = {}
        try:
            for name, tables in self.pending.items():
                made[name] = self.store._write_staged(TABLES[name], pa.concat_tables(tables), staging)
        except BaseException:
            for path in made.values():
                path.unlink(missing_ok=True)
            raise
        for name, path in made.items():
            self.staged.setdefault(name, []).append(path)
            self.written.setdefault(name, []).extend(self.pending[name])
        self.pending.clear()
        self.pending_documents = 0

    def staging(self) -> Path:
        """This batch's own staging folder: another batch's commit, running meanwhile, leaves it alone."""
        while self._staging is None:
            root = self.store.out / STAGING
            root.mkdir(parents=True, exist_ok=True)
            try:
                self._staging = Path(tempfile.mkdtemp(prefix=TMP_PREFIX, dir=root))
            except FileNotFoundError:  # a commit in its thread removed the empty root just now
                continue
        return self._staging

    def commit(self, replaced: Mapping[str, set[str]], tables: tuple[str, ...] = WRITE_ORDER) -> None:
        """Write the rows added, dropping earlier rows whose key is in `replaced` (see `Store.replace`);
        `tables`: the tables the commit may touch (a log table is committed alone, `Store.append`)."""
        store = self.store
        if parts.recover(store.out):  # an earlier try stopped among its renames: finished now, and
            self._discard_staged()  # what this batch wrote early (now in place) is dropped and written again
        paths = set(replaced.get("source_path", set()))
        # A file whose bytes changed has a new doc_id: its old rows go too.
        doc_ids = set(replaced.get("doc_id", set())) | store._doc_ids_at(paths)
        page_ids = self.page_ids | set(replaced.get("pages", set()))
        commit = parts.next_commit(store.out)
        steps: list[Step] = []
        retired: list[Step] = []
        manifest = parts.next_manifest(store.out, commit)
        try:
            for name in tables:
                table = TABLES[name]
                drop = paths if _row_key(table) == "source_path" else page_ids if name == "pages" else doc_ids
                live = part_files(store.path(name))
                new, old = store._table_steps(table, drop, self.pending.get(name, []), self.staged.get(name, []),
                                              commit, self.staging())
                steps += new
                retired += [(part, store._write_staged(table, _no_rows(table), self.staging())) for part in old]
                manifest["tables"][name] = sorted({p.name for p in live} - {p.name for p in old}
                                                  | {target.name for target, _ in new})
        except BaseException:
            self._discard_staged()
            raise
        try:
            parts.apply(store.out, steps, retired, manifest)
        except OSError:
            if not parts.recover(store.out):  # the journal was not in place: nothing has changed
                self._discard_staged()
                raise
        for name in tables:
            store._ensure_readable(TABLES[name])
        parts.sweep_retired(store.out, tables)
        self.pending.clear()
        self.written.clear()
        self.staged.clear()
        self.pending_documents = 0
        self.page_ids.clear()
        self._remove_folder()

    def _discard_staged(self) -> None:
        """Forget what was written early (its rows go back to pending): the next commit writes them again."""
        for name, tables in self.written.items():
            self.pending[name] = tables + self.pending.get(name, [])
        self.written.clear()
        self.staged.clear()
        self._remove_folder()

    def _remove_folder(self) -> None:
        """Remove this batch's staging folder, and the staging root when no other batch uses it."""
        if self._staging is not None:
            parts.remove_tree(self._staging)
            self._staging = None
            try:
                (self.store.out / STAGING).rmdir()
            except OSError:  # another batch's folder (or a journal) is there
                pass
