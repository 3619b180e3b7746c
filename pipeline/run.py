"""One document end to end, and a batch of them: read → repair → extract → rows.

Both doors (the CLI and the Prefect flows) call `run_batch` or `process_document`; nothing
about a document's way through lives anywhere else. A document that fails becomes one
`failures` row with the stage and a reason, and the batch goes on.
"""
from __future__ import annotations

import bisect
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from extractors import EXTRACTOR_VERSION
from pipeline import pages
from pipeline.errors import DocumentError
from pipeline.incremental import Plan, plan_ingest
from pipeline.read import SUPPORTED_SUFFIXES, RawDocument
from pipeline.repair import repair
from pipeline.schema import REPAIR_STEPS
from pipeline.store import Store

PAGE_JOIN = "\n"


@dataclass
class DocumentResult:
    source_path: str
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    failed: bool = False
    doc_id: str | None = None
    seconds: float = 0.0
    from_pages: bool = False  # extracted from stored pages, the file was not read

    @property
    def n_decisions(self) -> int:
        return len(self.rows.get("decisions", []))


@dataclass
class Summary:
    documents: int = 0
    ok: int = 0
    partial: int = 0
    failed: int = 0
    skipped: int = 0
    duplicates: int = 0
    decisions: int = 0
    seconds: float = 0.0
    out: Path | None = None
    failed_paths: list[str] = field(default_factory=list)
    from_pages: int = 0  # documents extracted from stored pages without reading the file
    repairs: int = 0  # characters changed by repair in the documents processed
    vanished: int = 0  # documents in the output whose file is gone from SRC
    pruned: bool = False  # ... and their rows were removed
    missing: int = 0  # reprocess: selected documents with neither stored pages nor a source file

    def lines(self) -> list[str]:
        out = [
            f"documents: {self.documents} ({self.ok} ok, {self.partial} partial, {self.failed} failed"
            + (f", {self.skipped} unchanged and skipped" if self.skipped else "")
            + (f", {self.duplicates} duplicate files" if self.duplicates else "")
            + ")",
            f"decisions: {self.decisions}",
            f"seconds:   {self.seconds:.2f}",
        ]
        if self.from_pages:
            out.append(f"pages:     {self.from_pages} document(s) extracted again from stored pages, files not read")
        if self.vanished:
            out.append(f"vanished:  {self.vanished} document(s) no longer under the input folder; " + (
                "their rows were removed (--prune)" if self.pruned else "rows kept (--prune removes them)"))
        if self.missing:
            out.append(f"missing:   {self.missing} document(s) not reprocessed: no stored pages and no source file; "
                       "give --src with the folder they were ingested from")
        if self.failed:
            where = self.out / "failures" if self.out else "the failures table"
            out.append(f"failures:  {self.failed} document(s) failed, reasons in {where}: "
                       + ", ".join(self.failed_paths[:5]) + (" ..." if self.failed > 5 else ""))
        return out


def discover(src: Path) -> list[Path]:
    """Source files below `src` in a stable order; hidden files and other formats are left out."""
    if src.is_file():
        return [src]
    if not src.is_dir():
        raise FileNotFoundError(f"input folder {src} does not exist")
    found = []
    for path in src.rglob("*"):
        rel = path.relative_to(src)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if path.suffix.lower() in SUPPORTED_SUFFIXES and (path.is_file() or path.is_symlink()):
            found.append(path)
    return sorted(found, key=lambda p: p.relative_to(src).as_posix())


def _relative(path: Path, root: Path) -> str:
    if root.is_file():
        return path.name
    return path.relative_to(root).as_posix()


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def failure_row(source_path: str, stage: str, reason: str, error_type: str, doc_id: str | None = None) -> dict[str, Any]:
    return {
        "doc_id": doc_id, "source_path": source_path, "stage": stage, "error_type": error_type,
        "reason": reason, "extractor_version": EXTRACTOR_VERSION, "failed_at": _now(),
    }


def repaired_text(raw: RawDocument) -> tuple[str, list[int], dict[str, int]]:
    """Repair page by page; return the joined text, each page's start offset and the counts."""
    totals = dict.fromkeys(REPAIR_STEPS, 0)
    texts, starts, offset = [], [], 0
    for page in raw.pages:
        text, counts = repair(page.text)
        for name, n in counts.items():
            totals[name] += n
        starts.append(offset)
        texts.append(text)
        offset += len(text) + len(PAGE_JOIN)
    return PAGE_JOIN.join(texts), starts, totals


def page_of(offset: int, starts: list[int]) -> int:
    return max(1, bisect.bisect_right(starts, offset))


def process_document(path: Path, root: Path, engine: str = "pdfplumber",
                     stored: pages.PagesRef | None = None) -> DocumentResult:
    """Read (or take the `stored` pages), repair and extract one file; any DocumentError becomes a failures row."""
    from pipeline.assemble import extract

    started = time.perf_counter()
    rel = _relative(path, root)
    result = DocumentResult(rel)
    stage = "read"
    try:
        raw, was_read = pages.obtain(path, engine, stored)
        result.doc_id, result.from_pages = raw.doc_id, not was_read
        stage = "repair"
        text, starts, counts = repaired_text(raw)
        stage = "extract"
        ex = extract(text)
    except DocumentError as exc:
        result.failed = True
        result.rows["failures"] = [failure_row(rel, exc.stage, exc.reason, type(exc).__name__, result.doc_id)]
        result.seconds = time.perf_counter() - started
        return result
    except (ValueError, KeyError, IndexError, TypeError, AttributeError, RecursionError, UnicodeError) as exc:
        # A bug or an input no rule foresaw: record it against this document, keep the batch going.
        result.failed = True
        reason = f"internal error while at the {stage} stage: {type(exc).__name__}: {exc}; please report it with this file"
        result.rows["failures"] = [failure_row(rel, stage, reason, type(exc).__name__, result.doc_id)]
        result.seconds = time.perf_counter() - started
        return result

    doc_id = raw.doc_id
    warnings = list(raw.warnings) + list(ex.warnings)
    decisions = []
    for d in ex.decisions:
        row = dict(d)
        row.update(
            doc_id=doc_id, decision_id=f"{doc_id}:{d['ordinal']}", doc_type=ex.doc_type,
            extractor_version=EXTRACTOR_VERSION,
            page_start=page_of(d["char_start"], starts), page_end=page_of(max(d["char_start"], d["char_end"] - 1), starts),
        )
        decisions.append(row)
    mentions = [dict(m, doc_id=doc_id, page=page_of(m["char_start"], starts)) for m in ex.mentions]
    meetings = [dict(m, doc_id=doc_id, meeting_id=f"{doc_id}:meeting", extractor_version=EXTRACTOR_VERSION)
                for m in ex.meetings]
    votes = [dict(v, doc_id=doc_id, decision_id=f"{doc_id}:{v['ordinal']}", page=page_of(v["char_start"], starts),
                  extractor_version=EXTRACTOR_VERSION) for v in ex.votes]
    empty_text = not text.strip()
    status = "partial" if warnings or empty_text else "ok"
    if empty_text and not warnings:
        warnings.append("the document has no text")
    result.seconds = time.perf_counter() - started
    document = {
        "doc_id": doc_id, "source_path": rel, "file_size": raw.size, "doc_type": ex.doc_type,
        "doc_type_rule": ex.doc_type_rule, "status": status, "warnings": warnings,
        "organization": ex.organization, "n_pages": len(raw.pages), "n_chars": len(text),
        "n_decisions": len(decisions), "engine": raw.engine, "encoding": raw.encoding,
        "ocr_pages": raw.ocr_pages, "seconds": round(result.seconds, 4),
        "extractor_version": EXTRACTOR_VERSION, "processed_at": _now(),
        **{f"repair_{k}": v for k, v in counts.items()},
    }
    result.rows = {"documents": [document], "decisions": decisions, "meetings": meetings, "votes": votes,
                   "mentions": mentions}
    if was_read:
        result.rows["pages"] = pages.page_rows(raw)
    return result


def _iter_results(paths: list[Path], root: Path, engine: str, workers: int,
                  stored: Mapping[Path, pages.PagesRef] | None = None) -> Iterator[DocumentResult]:
    stored = stored or {}
    if workers <= 1 or len(paths) <= 1:
        for path in paths:
            yield process_document(path, root, engine, stored.get(path))
        return
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=workers) as pool:
        yield from pool.map(process_document, paths, [root] * len(paths), [engine] * len(paths),
                            [stored.get(p) for p in paths], chunksize=1)


class Collector:
    """Counts results into a Summary and writes their rows in batches.

    The one copy of the bookkeeping between results and tables (duplicates, counts, which old
    rows a batch replaces): `run_batch`, `minutes reprocess` and the Dask flow all use it.
    """

    def __init__(self, store: Store, plan: Plan, flush_every: int = 200) -> None:
        self.store, self.plan, self.flush_every = store, plan, flush_every
        skipped, duplicates = len(plan.unchanged), len(plan.duplicates)
        self.summary = Summary(documents=skipped + duplicates, skipped=skipped, duplicates=duplicates,
                               out=store.out, vanished=len(plan.vanished), missing=len(plan.missing))
        self.pending: dict[str, list[dict[str, Any]]] = {}
        self.replaced: dict[str, set[str]] = {"doc_id": set(), "source_path": set(plan.stale_paths)}
        self.seen: set[str] = set()

    def add(self, result: DocumentResult) -> None:
        summary = self.summary
        summary.documents += 1
        self.replaced["source_path"].add(result.source_path)
        if result.doc_id in self.seen and not result.failed:
            summary.duplicates += 1
            return
        if result.doc_id:
            self.seen.add(result.doc_id)
            self.replaced["doc_id"].add(result.doc_id)
        if result.failed:
            summary.failed += 1
            summary.failed_paths.append(result.source_path)
        else:
            document = result.rows["documents"][0]
            summary.partial += document["status"] == "partial"
            summary.ok += document["status"] != "partial"
            summary.repairs += sum(document[f"repair_{step}"] for step in REPAIR_STEPS)
        summary.from_pages += result.from_pages
        summary.decisions += result.n_decisions
        for name, rows in result.rows.items():
            self.pending.setdefault(name, []).extend(rows)
        if len(self.replaced["source_path"]) >= self.flush_every:
            self.flush()

    def flush(self) -> None:
        if self.pending or any(self.replaced.values()):
            self.store.replace(self.pending, self.replaced)
        self.pending.clear()
        self.replaced["doc_id"].clear()
        self.replaced["source_path"].clear()

    def close(self, prune: bool = False) -> Summary:
        """Write what is pending; with `prune`, delete the rows of vanished files; drop unused pages."""
        self.flush()
        if prune and self.plan.vanished:
            self.store.remove({d for _, d in self.plan.vanished if d}, {p for p, _ in self.plan.vanished})
            self.summary.pruned = True
        if self.plan.changed:
            self.store.drop_orphan_pages()
        return self.summary


def run_plan(plan: Plan, store: Store, engine: str = "pdfplumber", workers: int = 1,
             progress: Callable[[DocumentResult], None] | None = None, flush_every: int = 200,
             prune: bool = False) -> Summary:
    """Process a plan's work and write its rows; the caller holds `store.lock()`."""
    started = time.perf_counter()
    collector = Collector(store, plan, flush_every)
    stored = {w.path: w.stored for w in plan.work if w.stored}
    for result in _iter_results([w.path for w in plan.work], plan.root, engine, workers, stored):
        collector.add(result)
        if progress:
            progress(result)
    summary = collector.close(prune)
    summary.seconds = time.perf_counter() - started
    return summary


def run_batch(
    src: Path,
    out: Path,
    engine: str = "pdfplumber",
    workers: int = 1,
    progress: Callable[[DocumentResult], None] | None = None,
    flush_every: int = 200,
    force: bool = False,
    prune: bool = False,
    on_plan: Callable[[Plan], None] | None = None,
) -> Summary:
    """Process the files below `src` that are new or changed since the last run into `out`.

    What counts as changed is `pipeline.incremental`'s plan; `force` processes every file,
    `prune` deletes the rows of files gone from `src`. Holds the output folder's lock.
    """
    started = time.perf_counter()
    src, out = Path(src), Path(out)
    paths = discover(src)
    store = Store(out)
    with store.lock():
        plan = plan_ingest(src, paths, store, engine, force=force)
        if on_plan:
            on_plan(plan)
        summary = run_plan(plan, store, engine, workers, progress, flush_every, prune)
    summary.seconds = time.perf_counter() - started
    return summary
