"""Parquet datasets under the output folder, one folder per table.

Each table is a folder of shard files (`OUT/<table>/part-<xx>.parquet`, `xx` = the first two hex
digits of doc_id), so that `pandas.read_parquet(OUT / "decisions")` and DuckDB's
`read_parquet('OUT/decisions/*.parquet')` read it whole. A document's rows live in exactly one
shard per table: re-processing it rewrites that shard without the old rows (replace, never
duplicate).

Safe writes: `replace` (or a `Batch`'s commit) first writes every changed shard of every table to
a temporary file in `OUT/.tmp-staging` (no reader looks there; DuckDB's `*.parquet` glob would
read a `.tmp-*` file beside the shards) and only then renames them into place, `documents` last.
An error or a crash while writing leaves the tables exactly as they were; the renames take
milliseconds, and a document whose rows are all in place is exactly one with a `documents` row.
A `Batch` writes some of its shards there while the documents are still being processed.
Two runs on the same folder would still overwrite each other's shards, so a run holds
`Store.lock()` (an flock on `OUT/.lock`) from start to end, and a second one stops at once.
"""
from __future__ import annotations

import fcntl
import os
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pyarrow as pa

from pipeline.schema import TABLES, Table

WRITE_ORDER = ("pages", "failures", "mentions", "votes", "meetings", "decisions", "documents")
LOCK_NAME = ".lock"
_EMPTY_SHARD = "part-empty.parquet"
_TMP_PREFIX = ".tmp-"
STAGING = ".tmp-staging"  # the folder shards are written to before they are renamed into place
# Stored pages are read back one document at a time: small row groups let a lookup by doc_id
# skip the rest of the shard through the row-group statistics.
_ROW_GROUP_ROWS = {"pages": 256}
# Snappy, no dictionary encoding, min/max statistics only where a reader can use them
# (`Table.statistics`). Measured on the benchmark's 130 shards (5 tables x 26 documents): zstd
# took 0.60 ms a file to write and Snappy 0.35 (a batch writes five per document, beside its
# workers); the files are 1,340 KiB, where zstd with statistics on every column made 1,375 KiB;
# reading them back is 25 % faster; dictionary encoding made them larger and slower to read.
_PARQUET_OPTIONS: dict[str, Any] = {"compression": "snappy", "use_dictionary": False}
# mkstemp makes files only their owner can read; tables get the usual umask-based mode instead.
_UMASK = os.umask(0o022)
os.umask(_UMASK)
_FILE_MODE = 0o666 & ~_UMASK


class OutputLocked(RuntimeError):
    """Another run holds the output folder's lock."""


def shard_of(key: str) -> str:
    return key[:2] if len(key) >= 2 and all(c in "0123456789abcdef" for c in key[:2]) else "xx"


def _shard_key(table: Table, row: Mapping[str, Any]) -> str:
    return row.get("doc_id") or row.get("source_path") or ""


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
    fd, tmp = tempfile.mkstemp(prefix=_TMP_PREFIX, suffix=".parquet", dir=folder)
    try:
        import pyarrow.parquet as pq  # imported where used: workers import this module but never write

        # Written through the descriptor mkstemp opened: opening the file again by name costs as
        # much as writing a small shard on some file systems, and a batch writes five per document.
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


def _row_key(table: Table) -> str:
    return "doc_id" if table.name != "failures" else "source_path"


# (target, staged temporary file or None to delete the target)
Staged = tuple[Path, Path | None]


class Store:
    """Writes and replaces rows of every table in an output folder."""

    def __init__(self, out: Path) -> None:
        self.out = Path(out)

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

    def _stage(self, table: Table, shard: str, new: pa.Table | None, key: str, drop: set[str]) -> Staged | None:
        """The shard's new content as a temporary file (or a deletion); None when unchanged."""
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        path = self.path(table.name) / f"part-{shard}.parquet"
        parts = []
        dropped = False
        if path.exists():
            old = pq.read_table(path)
            if drop and old.num_rows:
                keep = pc.invert(pc.is_in(old[key], value_set=pa.array(sorted(drop), pa.string())))
                kept = old.filter(pc.fill_null(keep, True))
                dropped = kept.num_rows != old.num_rows
                old = kept
            if old.num_rows:
                parts.append(old.select(table.names).cast(table.schema))
        if new is None and not dropped:
            return None
        if new is not None:
            parts.append(new)
        if not parts:
            return (path, None) if path.exists() else None
        return path, self._write_staged(table, pa.concat_tables(parts))

    def _write_staged(self, table: Table, rows: pa.Table) -> Path:
        """A shard's rows, sorted, as a temporary file in the staging folder (readers never look there)."""
        self.path(table.name).mkdir(parents=True, exist_ok=True)
        merged = rows.sort_by([(c, "ascending") for c in table.sort_by]) if rows.num_rows > 1 else rows
        return _write_temp(merged, self.out / STAGING, table, _ROW_GROUP_ROWS.get(table.name))

    def _ensure_readable(self, table: Table) -> None:
        """A table with no rows still reads (as zero rows with its schema)."""
        folder = self.path(table.name)
        shards = [p for p in folder.glob("part-*.parquet") if p.name != _EMPTY_SHARD]
        empty = folder / _EMPTY_SHARD
        if shards:
            empty.unlink(missing_ok=True)
        elif not empty.exists():
            _atomic_write(table.schema.empty_table(), empty, table)

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
        return pa.concat_tables([pq.read_table(f, columns=schema.names).cast(schema) for f in files])

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the output folder for one run; a second run stops with a message saying who has it.

        flock, not a bare O_EXCL file: the kernel releases it when the holder dies, so a crashed
        run never blocks the next. The file is removed on release; a run that locked a file
        another run was just removing (another inode) tries again.
        """
        self.out.mkdir(parents=True, exist_ok=True)
        path = self.out / LOCK_NAME
        while True:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise OutputLocked(
                    f"another minutes run is writing to {self.out} ({_holder(path)}); "
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
            self._remove_temp_files()
            yield
        finally:
            _remove_staging(self.out)  # what a batch that failed or was stopped had written early
            path.unlink(missing_ok=True)
            os.close(fd)

    def _remove_temp_files(self) -> None:
        """Temporary shards left by a run that was killed while writing (only under the lock)."""
        for tmp in self.out.glob(f"*/{_TMP_PREFIX}*.parquet"):
            tmp.unlink(missing_ok=True)
        _remove_staging(self.out)


def _holder(path: Path) -> str:
    try:
        pid, _, since = path.read_text(encoding="utf-8").strip().partition(" ")
    except (FileNotFoundError, UnicodeDecodeError):
        pid, since = "", ""
    return f"pid {pid or 'unknown'} since {since or 'an unknown time'}"


class Batch:
    """Rows on their way into the tables: Arrow per table and shard as they come, written at `commit`.

    Converting rows and writing shard files is most of what writing costs, and a batch can do both
    while its workers are still busy: `add` converts each document's rows at once and (`early`)
    writes a shard no file holds yet to the staging folder straight away, as nothing but this
    batch's rows can go into it. A shard that gets more rows later is written again at commit.
    `commit` stages the rest as `Store.replace` describes and renames, documents last: until then
    the tables are untouched, and after a failed commit the rows are still here to try again.
    """

    def __init__(self, store: Store, early: bool = True) -> None:
        self.store, self.early = store, early
        if early:  # a batch beside workers: see warm_writer
            warm_writer()
        self.parts: dict[str, dict[str, list[pa.Table]]] = {}  # table -> shard -> new rows, in arrival order
        self.page_ids: set[str] = set()
        self.staged: dict[tuple[str, str], Path] = {}  # (table, shard) -> its rows so far, written early
        self.late: set[tuple[str, str]] = set()  # shards left for commit (more rows came after staging)
        self.on_disk: dict[str, set[str]] = {}  # table -> shards that have a file (none appear under the lock)

    def add(self, rows: Mapping[str, list[dict[str, Any]]]) -> None:
        """Take a document's (or any) rows per table; a row with a column the schema lacks is a ValueError."""
        for name in WRITE_ORDER:
            if name == "pages":
                self.page_ids.update(r["doc_id"] for r in rows.get(name, []))
            if not rows.get(name):
                continue
            table = TABLES[name]
            by_shard: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
            shard_by_key: dict[str, str] = {}  # a document's rows share one key: its shard is worked out once
            for row in rows[name]:
                key = _shard_key(table, row)
                shard = shard_by_key.get(key)
                if shard is None:
                    shard = shard_by_key[key] = shard_of(key)
                by_shard[shard].append(row)
            shards = self.parts.setdefault(name, {})
            for shard, shard_rows in by_shard.items():
                shards.setdefault(shard, []).append(to_arrow(table, shard_rows))
                if self.early:
                    self._stage_early(table, shard)

    def start_early(self) -> None:
        """Write shards early from now on, those of the rows added so far too (a batch made while
        another batch's commit was still writing: see `Collector.flush`)."""
        self.early = True
        for name, shards in self.parts.items():
            for shard in list(shards):
                self._stage_early(TABLES[name], shard)

    def _stage_early(self, table: Table, shard: str) -> None:
        key = (table.name, shard)
        if key in self.late:
            return
        if key in self.staged:  # more rows for it: written once more, at commit
            self.staged.pop(key).unlink(missing_ok=True)
            self.late.add(key)
            return
        if table.name not in self.on_disk:
            self.on_disk[table.name] = {p.stem.removeprefix("part-") for p in
                                        self.store.path(table.name).glob("part-*.parquet")}
        if shard in self.on_disk[table.name]:
            return  # its old rows may have to go: staged at commit, when all of `replaced` is known
        try:
            self.staged[key] = self.store._write_staged(table, pa.concat_tables(self.parts[table.name][shard]))
        except BaseException:
            self._discard_staged()
            raise

    def commit(self, replaced: Mapping[str, set[str]]) -> None:
        """Write the rows added, dropping earlier rows whose key is in `replaced` (see `Store.replace`)."""
        store = self.store
        paths = set(replaced.get("source_path", set()))
        # A file whose bytes changed has a new doc_id: its old rows go too.
        doc_ids = set(replaced.get("doc_id", set())) | store._doc_ids_at(paths)
        page_ids = self.page_ids | set(replaced.get("pages", set()))
        staged: list[Staged] = []
        try:
            for name in WRITE_ORDER:
                table = TABLES[name]
                key = _row_key(table)
                drop = paths if key == "source_path" else page_ids if name == "pages" else doc_ids
                new = self.parts.get(name, {})
                # Old rows of a replaced key may sit in any shard (failures keyed by path).
                shards = set(new)
                if key == "doc_id":
                    shards |= {shard_of(d) for d in drop}
                elif drop:
                    shards |= {p.stem.removeprefix("part-") for p in store.path(name).glob("part-*.parquet")}
                for shard in sorted(shards):
                    early = self.staged.pop((name, shard), None)
                    if early is not None:  # the shard had no file, and no rows came since: this is its content
                        staged.append((store.path(name) / f"part-{shard}.parquet", early))
                        continue
                    rows = pa.concat_tables(new[shard]) if shard in new else None
                    step = store._stage(table, shard, rows, key, drop)
                    if step:
                        staged.append(step)
        except BaseException:
            for _, tmp in staged:
                if tmp is not None:
                    tmp.unlink(missing_ok=True)
            self._discard_staged()
            raise
        for target, tmp in staged:  # commit: renames only, documents last
            if tmp is None:
                target.unlink(missing_ok=True)
            else:
                os.replace(tmp, target)
        for name in WRITE_ORDER:
            store._ensure_readable(TABLES[name])
        self.parts.clear()
        self.page_ids.clear()
        self._discard_staged()
        _remove_staging(store.out)

    def _discard_staged(self) -> None:
        """Forget what was written early (its rows stay): the next commit stages everything again."""
        for tmp in self.staged.values():
            tmp.unlink(missing_ok=True)
        self.staged.clear()
        self.late.clear()
        self.on_disk.clear()


def _remove_staging(out: Path) -> None:
    """Empty and remove the staging folder (only under the lock: another run's files are never there)."""
    folder = out / STAGING
    if not folder.is_dir():
        return
    for tmp in folder.glob(f"{_TMP_PREFIX}*"):
        tmp.unlink(missing_ok=True)
    try:
        folder.rmdir()
    except OSError:  # something else was put there: left alone
        pass
