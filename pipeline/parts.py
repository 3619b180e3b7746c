"""Part files: how a table's rows lie on disk, and the journal that makes a commit all or nothing.

A table is a folder of part files, `part-<commit>-<n>.parquet`. A commit adds new parts for
the rows it brings, whatever the output's size, instead of rewriting shared shards: its cost is
what it adds, plus the old parts it must change:

- a part holding a replaced document is rewritten without it (deleted when nothing is left);
- once a table has `FOLD_COUNT` parts smaller than `MERGE_BELOW` on disk, a commit that writes
  to it folds them all into its new part, so that many small commits (a daily schedule, the
  parts a batch writes every few documents) do not leave thousands of small files, while each
  row is rewritten about once per `FOLD_COUNT` small parts rather than at every commit;
  a small part that loses a replaced document is folded at once;
- a commit's new rows are cut into parts of about `SPLIT_ABOVE` bytes, between documents, so
  that no later change has to rewrite one huge file.

Which keys each part holds is read from the part's key column when first needed and kept while
the file is unchanged (`KeyIndex`); a fresh output reads nothing.

A document's old rows and its new ones sit in different files, so one rename can no longer swap
them. A commit therefore writes every file first, then the list of renames (the journal,
`OUT/.tmp-staging/commit.json`, itself put in place by a rename), then renames. A run stopped
among the renames leaves the journal: the next run to take the output's lock finishes them
(`recover`) before anything else, so a document is never both gone and duplicated.

Readers during a commit (`pipeline.snapshot`): a part's content never changes under its name.
A part that changes is written under a new name, and the old name is *retired*: after the new
parts are in place the commit writes the manifest `OUT/snapshot.json` (atomically: the commit
number and every table's live parts), and only then replaces each retired part by an empty one
(zero rows, the table's schema). So the files a manifest lists keep their content until a
newer manifest is in place (what `read_snapshot` relies on), and a reader that listed a folder
and opens a retired part a moment later reads zero rows instead of failing. Empty retired
parts are deleted by a commit at least `RETIRED_GRACE` seconds later.
"""
from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa

PREFIX = "part-"
EMPTY = "part-empty.parquet"  # the file an empty table reads through (zero rows, its schema)
STAGING = ".tmp-staging"  # files of a commit before their renames (no reader looks there)
TMP_PREFIX = ".tmp-"
JOURNAL = "commit.json"
MANIFEST = "snapshot.json"  # OUT/snapshot.json: the last complete commit's parts, per table
RETIRED_GRACE = 60.0  # seconds an emptied retired part stays for readers that listed it
MERGE_BELOW = 4 << 20  # bytes on disk: a smaller part is small
FOLD_COUNT = 32  # small parts a table may have before a commit folds them into its new part
SPLIT_ABOVE = 64 << 20  # Arrow bytes: new rows beyond this are cut into more than one part
_PART = re.compile(r"^part-(\d+)-\d+\.parquet$")

# (target, staged temporary file or None to delete the target)
Step = tuple[Path, Path | None]


def part_files(folder: Path) -> list[Path]:
    """The table's live part files, in name order: as the manifest lists them (retired parts and the
    empty table's file aside; a part deleted by hand is left out); in an output written before
    manifests, every part in the folder."""
    manifest = read_manifest(folder.parent)
    if manifest is not None and folder.name in manifest["tables"]:
        return [p for name in manifest["tables"][folder.name] if (p := folder / name).exists()]
    return sorted(p for p in folder.glob(f"{PREFIX}*.parquet") if p.name != EMPTY)


def read_manifest(out: Path) -> dict | None:
    """The manifest of the last complete commit, or None (an output written before manifests)."""
    try:
        return json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None


def next_manifest(out: Path, commit: str) -> dict:
    """The manifest a commit starts from: the last one's tables, for the commit to update those it writes.
    A commit that touches some tables only (a log's append, the derived tables) keeps the others listed."""
    last = read_manifest(out) or {}
    return {"commit": commit, "tables": dict(last.get("tables", {}))}


def _write_manifest(out: Path, manifest: dict) -> None:
    pending = out / f"{TMP_PREFIX}{MANIFEST}"
    pending.write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(pending, out / MANIFEST)


def part_name(commit: int, n: int) -> str:
    return f"{PREFIX}{commit:06d}-{n:03d}.parquet"


def next_commit(out: Path) -> int:
    """One more than the highest commit number of any part under `out`: new names never collide."""
    numbers = [int(m.group(1)) for p in out.glob(f"*/{PREFIX}*.parquet") if (m := _PART.match(p.name))]
    return max(numbers, default=0) + 1


class KeyIndex:
    """The keys (doc_id or source_path) each part holds, read once per version of the file.

    A version is the file's size and modification time: a part rewritten by hand, or by another
    process under the lock, is read again.
    """

    def __init__(self) -> None:
        self._known: dict[Path, tuple[tuple[int, int], frozenset[str]]] = {}
        self._schemas: dict[Path, tuple[tuple[int, int], frozenset[str]]] = {}

    def columns(self, part: Path) -> frozenset[str]:
        """The column names a part was written with (its footer, read once per version)."""
        import pyarrow.parquet as pq

        stat = part.stat()
        version = (stat.st_size, stat.st_mtime_ns)
        known = self._schemas.get(part)
        if known is None or known[0] != version:
            known = self._schemas[part] = (version, frozenset(pq.read_schema(part).names))
        return known[1]

    def keys(self, part: Path, key: str) -> frozenset[str]:
        import pyarrow.parquet as pq

        stat = part.stat()
        version = (stat.st_size, stat.st_mtime_ns)
        known = self._known.get(part)
        if known is not None and known[0] == version:
            return known[1]
        keys = frozenset(pq.read_table(part, columns=[key])[key].unique().drop_null().to_pylist())
        self._known[part] = (version, keys)
        return keys


def conform(rows: pa.Table, schema: pa.Schema) -> pa.Table:
    """Rows in the columns and types of `schema`: a column added to a table since a part was
    written (e.g. failures.retry) reads as nulls there, one no longer declared is dropped."""
    names = set(rows.column_names)
    columns = [rows[f.name].cast(f.type) if f.name in names else pa.nulls(rows.num_rows, f.type) for f in schema]
    return pa.Table.from_arrays(columns, schema=schema)


def split(rows: pa.Table, key: str, limit: int | None = None) -> list[pa.Table]:
    """Rows cut into pieces of about `limit` (`SPLIT_ABOVE`) bytes where the key changes: a key's
    rows must be adjacent (the rows sorted by it, or one row per key)."""
    limit = SPLIT_ABOVE if limit is None else limit
    pieces = -(-rows.nbytes // limit) if limit > 0 else 1
    if pieces <= 1:
        return [rows]
    keys = rows[key].to_pylist()
    step = -(-len(keys) // pieces)
    out, start = [], 0
    while start < len(keys):
        end = min(start + step, len(keys))
        while end < len(keys) and keys[end] == keys[end - 1]:  # a document's rows stay together
            end += 1
        out.append(rows.slice(start, end - start))
        start = end
    return out


def apply(out: Path, steps: Sequence[Step], retired: Sequence[Step] = (), manifest: dict | None = None) -> None:
    """Make the staged files the tables' files: journal first, new parts in place, the manifest,
    then the retired parts emptied (`retired`: (old part, staged empty part)), journal last."""
    if not steps and not retired:
        return
    staging = out / STAGING
    staging.mkdir(parents=True, exist_ok=True)
    pending = staging / f"{TMP_PREFIX}{JOURNAL}"

    def listed(pairs: Sequence[Step]) -> list[list[str | None]]:
        return [[_rel(out, t), None if s is None else _rel(out, s)] for t, s in pairs]

    pending.write_text(json.dumps({"steps": listed(steps), "retired": listed(retired), "manifest": manifest}),
                       encoding="utf-8")
    os.replace(pending, staging / JOURNAL)  # from here on the commit happens, now or at `recover`
    _finish(out, steps, retired, manifest)


def recover(out: Path) -> bool:
    """Finish the renames of a commit that was stopped among them; True when there was one.

    Each step is done again only where its staged file is still there, and a deletion of a file
    already gone is nothing: doing a step twice does no harm. (A journal of the versions before
    manifests is a plain list of steps.)
    """
    journal = out / STAGING / JOURNAL
    if not journal.is_file():
        return False
    found = json.loads(journal.read_text(encoding="utf-8"))
    if isinstance(found, list):
        found = {"steps": found, "retired": [], "manifest": None}

    def paths(pairs: list) -> list[Step]:
        return [(out / t, None if s is None else out / s) for t, s in pairs]

    _finish(out, paths(found["steps"]), paths(found["retired"]), found["manifest"])
    return True


def _finish(out: Path, steps: Sequence[Step], retired: Sequence[Step], manifest: dict | None) -> None:
    _rename(out, steps)
    if manifest is not None:
        _write_manifest(out, manifest)
    _rename(out, retired)
    (out / STAGING / JOURNAL).unlink()


def sweep_retired(out: Path, tables: Sequence[str], grace: float | None = None) -> None:
    """Delete the emptied retired parts that have been there for `grace` (`RETIRED_GRACE`) seconds."""
    import time

    manifest = read_manifest(out)
    if manifest is None:
        return
    grace = RETIRED_GRACE if grace is None else grace
    now = time.time()
    for table in tables:
        live = set(manifest["tables"].get(table, ()))
        for part in (out / table).glob(f"{PREFIX}*.parquet"):
            if part.name in live or part.name == EMPTY:
                continue
            try:
                if now - part.stat().st_mtime >= grace:
                    part.unlink()
            except FileNotFoundError:
                pass


def _rename(out: Path, steps: Sequence[Step]) -> None:
    for target, staged in steps:
        if staged is None:
            target.unlink(missing_ok=True)
        elif staged.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staged, target)


def _rel(out: Path, path: Path) -> str:
    return path.relative_to(out).as_posix()


def remove_tree(folder: Path) -> None:
    """Remove a staging folder's temporary files, and it when nothing else is there."""
    for tmp in folder.glob(f"{TMP_PREFIX}*"):
        if tmp.is_dir():
            remove_tree(tmp)
        else:
            tmp.unlink(missing_ok=True)
    try:
        folder.rmdir()
    except OSError:  # gone already, or something else was put there: left alone
        pass


def clear_staging(out: Path) -> None:
    """Finish a commit stopped among its renames, then empty and remove the staging folder (only
    under the lock: another run's files are never there)."""
    recover(out)
    folder = out / STAGING
    if folder.is_dir():
        remove_tree(folder)
