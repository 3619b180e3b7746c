"""The plan of a run: which files to read, which to extract again from stored pages, which to skip.

Researchers re-run ingestion over growing folders; a run must cost what changed, not what
exists. Every file is hashed (doc_id, cheap next to PDF parsing) and compared with what the
output already holds:

| the file | the plan |
|---|---|
| bytes, extractor version and engine as in `documents`, same path | skip (`unchanged`) |
| bytes, extractor version and limits as a `failures` row at that path, which may not pass on another try | skip: it would fail again (`reprocess --only-failed`) |
| a `failures` row that may pass on another try (time limit, memory, a killed worker, a changed file) | try again |
| known bytes, older extractor version, another engine or path | extract again, from stored pages if there |
| new bytes (a new file, or a file whose bytes changed) | read and extract; the path's old rows are replaced |
| the same bytes as another file of the run | a duplicate: counted, not processed |
| in the output but no longer under SRC | `vanished`: rows kept and reported; `--prune` deletes them |
| below a folder that cannot be listed now | kept as they are: not vanished, never pruned |
| in `documents` unredacted, when the run masks contacts (`--redact-contacts`) | extract again from stored pages, masked |

`force=True` extracts every file again (stored pages are still used: they are keyed by the
bytes, engine and reader version, so they cannot be stale). Vanished files are only looked for
when SRC is a folder: a run over one file says nothing about the others.
"""
from __future__ import annotations

import hashlib
import os
import re
import stat
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from collections.abc import Callable
from pathlib import Path

from extractors import EXTRACTOR_VERSION
from pipeline.isolation import Limits
from pipeline.pages import PagesRef, engine_for, stored_doc_ids
from pipeline.sources import Planned, located, planned, source_path
from pipeline.store import Store

KEPT_STATUSES = frozenset({"ok", "partial"})
_DOC_ID = re.compile(r"[0-9a-f]{6,64}")


@dataclass(frozen=True)
class Work:
    """One file to process; `stored` points at its pages when they need not be read again."""

    path: Path
    source_path: str
    doc_id: str | None
    reason: str  # new, changed, failed, extractor, engine, moved, forced, redact, unreadable, reprocess
    stored: PagesRef | None = None
    plan: Planned | None = None  # what the plan saw of the file: the worker reads it only if it is still that


@dataclass
class Plan:
    root: Path
    work: list[Work] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    # (source_path, doc_id or None for a failures row) of files gone from SRC
    vanished: list[tuple[str, str | None]] = field(default_factory=list)
    # paths whose old rows go although nothing new is written for them (now a duplicate file)
    stale_paths: set[str] = field(default_factory=set)
    # reprocess: selected documents with neither stored pages nor a source file
    missing: list[str] = field(default_factory=list)
    # some path now holds other bytes: the pages of its old bytes may be left over
    changed: bool = False


@dataclass(frozen=True)
class Wanted:
    """What a run asks of the rows it leaves: its limits (a failure under other limits is tried
    again) and whether contacts are masked (unmasked documents are extracted again)."""

    limits: Limits = Limits()
    redact: bool = False


def hash_file(path: Path) -> str | None:
    """doc_id of a file (SHA-256 of its bytes, as `read_document` computes it); None if unreadable."""
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode) or not info.st_size:
            # a named pipe would block the open for ever, and empty files are no duplicates of
            # each other: each is processed, and fails with its reason
            return None
        with path.open("rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest()
    except OSError:
        return None  # processing it records the read failure with its reason


def plan_ingest(src: Path, paths: list[Path], store: Store, engine: str, force: bool = False,
                unread: set[Path] = frozenset(), on_work: Callable[[], None] | None = None,
                wanted: Wanted = Wanted()) -> Plan:
    """Compare the files found under `src` (`paths`, from `run.discover`) with the output.

    `unread` are paths that must not be opened (symlinks out of SRC, pipes): planned as unreadable.
    `on_work` is called once, as soon as a file hashed so far will (most likely) be processed: the
    batch starts its workers then, while the rest is hashed. A guess, never the plan itself.
    """
    docs = store.read("documents", columns=["doc_id", "source_path", "extractor_version", "status", "engine",
                                            "redacted"])
    known = {d["doc_id"]: d for d in docs.to_pylist()}
    doc_at = {d["source_path"]: d["doc_id"] for d in known.values()}
    failed = {f["source_path"]: f for f in store.read(
        "failures", columns=["doc_id", "source_path", "extractor_version", "retry", "limits"]).to_pylist()}
    plan = Plan(root=src)
    rels = [source_path(path, src) for path in paths]
    present = set(rels)
    files: list[tuple[Path, str, str | None]] = []
    for path, rel in zip(paths, rels):
        doc_id = None if path in unread else hash_file(path)
        files.append((path, rel, doc_id))
        if on_work is not None and _needs_work(known.get(doc_id or ""), failed.get(rel), doc_at.get(rel), rel,
                                               doc_id, engine_for(path, engine), force, present, wanted):
            on_work()
            on_work = None
    groups: dict[str, list[str]] = {}
    for _, rel, doc_id in files:
        if doc_id:
            groups.setdefault(doc_id, []).append(rel)
    todo: list[tuple[Path, str, str, str, str]] = []  # path, rel, doc_id, engine, reason

    for path, rel, doc_id in files:
        previous = doc_at.get(rel)
        if doc_id is None:
            plan.work.append(Work(path, rel, None, "unreadable"))
            continue
        if previous not in (None, doc_id):
            plan.changed = True
        group = groups[doc_id]
        old = known.get(doc_id)
        canonical = old["source_path"] if old and old["source_path"] in group else group[0]
        if rel != canonical:
            plan.duplicates.append(rel)
            if previous not in (None, doc_id) or rel in failed:
                plan.stale_paths.add(rel)
            continue
        eng = engine_for(path, engine)
        reason = _reason(old, failed.get(rel), previous, rel, doc_id, eng, force, wanted)
        if reason is None:
            plan.unchanged.append(rel)
        else:
            todo.append((path, rel, doc_id, eng, reason))

    stored = stored_doc_ids(store.out, {doc_id for _, _, doc_id, _, _ in todo})
    for path, rel, doc_id, eng, reason in todo:
        part = stored.get((doc_id, eng))
        redacted = bool(known.get(doc_id, {}).get("redacted"))
        ref = PagesRef(store.out, doc_id, eng, part, redacted) if part is not None else None
        plan.work.append(Work(path, rel, doc_id, reason, ref, planned(path, doc_id)))

    if not src.is_file():
        present = {rel for _, rel, _ in files}
        # a folder that cannot be listed now hides its files: they are not gone
        hidden = tuple(f"{source_path(p, src)}/" for p in unread if p.is_dir() and not p.is_symlink())

        def gone(path: str) -> bool:
            return path not in present and not (hidden and path.startswith(hidden))

        plan.vanished = [(d["source_path"], d["doc_id"]) for d in known.values()
                         if gone(d["source_path"]) and d["doc_id"] not in groups]
        plan.vanished += [(p, None) for p in failed if gone(p) and not (src / p).is_dir()]
        # the failure of a folder that could not be listed, now listed: resolved
        plan.stale_paths.update(p for p in failed if p not in present and (src / p).is_dir())
        plan.vanished.sort()
    return plan


def _needs_work(old: dict | None, failure: dict | None, previous: str | None, rel: str, doc_id: str | None,
                engine: str, force: bool, present: set[str], wanted: Wanted) -> bool:
    """`_reason` for one file before the others are hashed: a copy of a file still present counts as a duplicate."""
    if doc_id is None:
        return True
    if old is not None and old["source_path"] != rel and old["source_path"] in present:
        return False
    return _reason(old, failure, previous, rel, doc_id, engine, force, wanted) is not None


def _failure_stands(failure: dict, doc_id: str, wanted: Wanted) -> bool:
    """A failure that trying the same bytes again with the same rules and limits would repeat."""
    return (failure["doc_id"] == doc_id and failure["extractor_version"] == EXTRACTOR_VERSION
            and not failure["retry"] and failure["limits"] == wanted.limits.key())


def _reason(old: dict | None, failure: dict | None, previous: str | None, rel: str, doc_id: str, engine: str,
            force: bool, wanted: Wanted = Wanted()) -> str | None:
    """Why a file must be processed, or None when its rows in the output are current."""
    if old is None:
        if failure and _failure_stands(failure, doc_id, wanted):
            return "forced" if force else None
        if failure:
            return "failed"
        return "changed" if previous else "new"
    if old["extractor_version"] != EXTRACTOR_VERSION:
        return "extractor"
    if old["engine"] != engine:
        return "engine"
    if old["source_path"] != rel:
        return "moved"
    if old["status"] not in KEPT_STATUSES:
        return "failed"
    if wanted.redact and not old.get("redacted"):
        return "redact"
    return "forced" if force else None


def parse_since(text: str) -> datetime:
    """--since: an ISO date or date-time, taken as UTC when it has no zone."""
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"--since {text!r} is not a date; write it as YYYY-MM-DD or YYYY-MM-DDTHH:MM") from None
    if isinstance(when, datetime) and when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when


def _match_ids(wanted: list[str], known: set[str]) -> set[str]:
    """Full doc_ids for the ids or unique prefixes (6+ hex digits) given on the command line."""
    found: set[str] = set()
    for want in wanted:
        want = want.strip().lower()
        if not _DOC_ID.fullmatch(want):
            raise ValueError(f"--doc {want!r} is not a doc_id: give the 64 hex digits of documents.doc_id "
                             "(or the first 6 or more)")
        hits = {d for d in known if d.startswith(want)}
        if len(hits) != 1:
            what = "no document" if not hits else f"{len(hits)} documents"
            raise ValueError(f"--doc {want}: {what} in the output match; list them with "
                             "pandas.read_parquet('OUT/documents')[['doc_id', 'source_path']]")
        found |= hits
    return found


def plan_reprocess(store: Store, src: Path | None, engine: str, since: datetime | date | None = None,
                   only_failed: bool = False, doc_ids: list[str] | None = None) -> Plan:
    """Documents already in the output to extract again: from stored pages, else from `src`.

    By default every document in `documents`; `only_failed` takes the `failures` rows instead
    (those files usually have no stored pages, so they are read from `src`). `since` keeps the
    ones processed (or failed) at or after that time; `doc_ids` keeps the ones listed.
    """
    if only_failed:
        rows = [{"doc_id": f["doc_id"], "source_path": f["source_path"], "engine": None, "when": f["failed_at"],
                 "redacted": False}
                for f in store.read("failures", columns=["doc_id", "source_path", "failed_at"]).to_pylist()]
    else:
        columns = ["doc_id", "source_path", "engine", "processed_at", "redacted"]
        rows = [{"doc_id": d["doc_id"], "source_path": d["source_path"], "engine": d["engine"],
                 "when": d["processed_at"], "redacted": d["redacted"]}
                for d in store.read("documents", columns=columns).to_pylist()]
    if doc_ids:
        keep = _match_ids(doc_ids, {r["doc_id"] for r in rows if r["doc_id"]})
        rows = [r for r in rows if r["doc_id"] in keep]
    if since is not None:
        if not isinstance(since, datetime):
            since = datetime(since.year, since.month, since.day, tzinfo=UTC)
        rows = [r for r in rows if r["when"] is not None and r["when"] >= since]
    root = src if src is not None else store.out
    plan = Plan(root=root)
    stored = stored_doc_ids(store.out, {r["doc_id"] for r in rows if r["doc_id"]})
    for r in sorted(rows, key=lambda r: r["source_path"]):
        path = located(root, r["source_path"])
        eng = r["engine"] or engine_for(path, engine)
        if r["doc_id"] and (r["doc_id"], eng) in stored:
            ref = PagesRef(store.out, r["doc_id"], eng, stored[r["doc_id"], eng], bool(r["redacted"]))
            plan.work.append(Work(path, r["source_path"], r["doc_id"], "reprocess", ref))
        elif src is not None and path.is_file():
            plan.work.append(Work(path, r["source_path"], r["doc_id"], "reprocess", plan=planned(path)))
        else:
            plan.missing.append(r["source_path"])
    return plan
