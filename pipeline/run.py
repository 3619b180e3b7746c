"""A batch of documents: plan it, run each document (isolated), collect and write the rows.

Both doors (the CLI and the Prefect flows) call `run_batch`, `reprocess` or, per document,
`pipeline.document.process_document`; nothing about a document's way through lives anywhere
else. A document that fails becomes one `failures` row with the stage and a reason, and the
batch goes on.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline import derived, pages
from pipeline.document import (  # noqa: F401 - re-exported: the per-document API lives in pipeline.document
    PAGE_JOIN, DocumentResult, failed_result, failure_row, page_of, process_document, relative_path, repaired_text,
)
from pipeline.incremental import Plan, Wanted, Work, plan_ingest, plan_reprocess
from pipeline.isolation import Limits, run_isolated, start_crew
from pipeline.redact import redact_rows
from pipeline.sources import Planned, discover, refusal
from pipeline.read import DEFAULT_ENGINE
from pipeline.schema import REPAIR_STEPS
from pipeline.store import Batch, Store

if TYPE_CHECKING:
    from pipeline.pool import Crew

DEFAULT_LIMITS = Limits()
# What the zygote loads before it forks the workers (the modules, then every extractor's
# matchers), so that no document's time limit pays for loading the pipeline.
_WORKER_PRELOAD = ("pipeline.document", "extractors.assemble", "pipeline.read.pdf", "pipeline.read.text",
                   "extractors.base:prepare")


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
    incomplete: int = 0  # documents that list § the extraction did not find (sections_missing)
    standing: int = 0  # failures rows in the output after the run: this run's and earlier ones that stand
    standing_paths: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [
            f"documents: {self.documents} ({self.ok} ok, {self.partial} partial, {self.failed} failed"
            + (f", {self.skipped} unchanged and skipped" if self.skipped else "")
            + (f", {self.duplicates} duplicate files" if self.duplicates else "")
            + ")",
            f"decisions: {self.decisions}",
            f"seconds:   {self.seconds:.2f}",
        ]
        if self.incomplete:
            out.append(f"missing §: {self.incomplete} document(s) list sections that were not found "
                       "(documents.sections_missing; they are partial)")
        if self.from_pages:
            out.append(f"pages:     {self.from_pages} document(s) extracted again from stored pages, files not read")
        if self.vanished:
            out.append(f"vanished:  {self.vanished} document(s) no longer under the input folder; " + (
                "their rows were removed (--prune)" if self.pruned else "rows kept (--prune removes them)"))
        if self.missing:
            out.append(f"missing:   {self.missing} document(s) not reprocessed: no stored pages and no source file; "
                       "give --src with the folder they were ingested from")
        if self.standing or self.failed:
            where = self.out / "failures" if self.out else "the failures table"
            paths = self.standing_paths or self.failed_paths
            out.append(f"failures:  {self.standing} standing ({self.failed} from this run), reasons in {where}: "
                       + ", ".join(paths[:5]) + (" ..." if len(paths) > 5 else "")
                       + (f"; `minutes failures --out {self.out}` lists them" if self.out else ""))
        return out


def _iter_results(paths: list[Path], root: Path, engine: str, workers: int,
                  stored: Mapping[Path, pages.PagesRef] | None = None, limits: Limits = DEFAULT_LIMITS,
                  isolate: bool = True, follow_symlinks: bool = False, crew: Crew | None = None,
                  plans: Mapping[Path, Planned | None] | None = None,
                  redact_contacts: bool = False) -> Iterator[DocumentResult]:
    """Each path's result, in path order.

    A path `sources.refusal` turns down (a symlink out of the folder, a named pipe, an oversized
    text) fails here without being opened. With `isolate` every other one is processed in a
    worker process under `limits` (time, memory), so that no file can hang or exhaust the batch
    (`crew`: workers started while the batch was planned); without it, in this process (or a
    plain process pool): for tests and library use only.
    """
    stored, plans = stored or {}, plans or {}
    refused = {p: r for p in paths if p not in stored and (r := refusal(p, root, limits, follow_symlinks)) is not None}
    tasks = [(p, root, engine, stored.get(p), plans.get(p), redact_contacts) for p in paths if p not in refused]
    if isolate:
        results = _isolated(tasks, limits, workers, crew)
    elif workers <= 1 or len(tasks) <= 1:
        results = (process_document(*task) for task in tasks)
    else:
        results = _pooled(tasks, workers)
    for path in paths:
        if path in refused:
            error = refused[path]
            yield failed_result(DocumentResult(relative_path(path, root)), error.stage, error.reason, "Refused",
                          time.perf_counter())
        else:
            yield next(results)
    next(results, None)  # past the last: the pool ends gracefully (its workers exit and are reaped, not killed)


def _isolated(tasks: list[tuple], limits: Limits, workers: int, crew: Crew | None = None) -> Iterator[DocumentResult]:
    """`process_document(*task)` for each task in worker processes; what stops a worker becomes the task's failure."""
    outcomes = run_isolated(process_document, tasks, workers, limits, _WORKER_PRELOAD, crew)
    for task, outcome in zip(tasks, outcomes, strict=True):  # strict: asks past the last, for a graceful end
        if outcome.reason is None:
            yield outcome.value
        else:  # stopped (time limit), killed (memory, crash, from outside) or an error no one foresaw
            stage = outcome.stage if outcome.stage in ("read", "repair", "extract") else "read"
            yield failed_result(DocumentResult(relative_path(task[0], task[1])), stage, outcome.reason,
                                outcome.error_type or "Error", time.perf_counter())


def _pooled(tasks: list[tuple], workers: int) -> Iterator[DocumentResult]:
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=workers) as pool:
        yield from pool.map(process_document, *zip(*tasks, strict=True), chunksize=1)


class Collector:
    """Counts results into a Summary and writes their rows in batches.

    The one copy of the bookkeeping between results and tables (duplicates, counts, which old
    rows a batch replaces): `run_batch`, `minutes reprocess` and the Dask flow all use it. Rows
    go into a `store.Batch` as they come (converted, partly written while the workers go on);
    `flush` commits it, so a crash loses only what came after the last flush (`wait` tells when).
    """

    def __init__(self, store: Store, plan: Plan, flush_every: int = 200, limits: Limits = DEFAULT_LIMITS) -> None:
        self.store, self.plan, self.flush_every = store, plan, flush_every
        self.limits = limits.key()  # recorded on every failure: other limits try the file again
        skipped, duplicates = len(plan.unchanged), len(plan.duplicates)
        self.summary = Summary(documents=skipped + duplicates, skipped=skipped, duplicates=duplicates,
                               out=store.out, vanished=len(plan.vanished), missing=len(plan.missing))
        self.batch = Batch(store)
        self.writer: ThreadPoolExecutor | None = None  # one thread, for commits that do not wait
        self.committing: Future[None] | None = None  # a flush's commit, still writing
        self.replaced: dict[str, set[str]] = {"doc_id": set(), "source_path": set(plan.stale_paths)}
        self.seen: set[str] = set()
        self.hashes = {w.source_path: w.doc_id for w in plan.work if w.doc_id}

    def add(self, result: DocumentResult) -> None:
        summary = self.summary
        summary.documents += 1
        if result.failed and result.doc_id is None and result.source_path in self.hashes:
            # a file the reader rejected: its hash from the plan lets the next run skip it unchanged
            result.doc_id = self.hashes[result.source_path]
            for row in result.rows["failures"]:
                row["doc_id"] = result.doc_id
        for row in result.rows.get("failures", []):
            row["limits"] = self.limits
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
            summary.incomplete += bool(document.get("sections_missing"))
            summary.ok += document["status"] != "partial"
            summary.repairs += sum(document[f"repair_{step}"] for step in REPAIR_STEPS)
        summary.from_pages += result.from_pages
        summary.decisions += result.n_decisions
        if self.committing is not None and self.committing.done():
            self._finish_commit()
        self.batch.add(result.rows)
        if len(self.replaced["source_path"]) >= self.flush_every:
            self.flush(wait=False)

    def flush(self, wait: bool = True) -> None:
        """Commit the rows so far. `wait=False`: the commit writes in a thread while results go on
        into a new batch, so the workers are not kept waiting (a commit rewrites the old parts that
        held documents it replaces). One commit at a time; its error is raised here or at `close`,
        and a crash meanwhile loses the rows of that commit too. The new batch writes its own parts
        early meanwhile: new parts replace no file."""
        self._finish_commit()
        if wait:  # a failed commit leaves its rows and `replaced` here, to try again (the Dask flow's retries)
            self.batch.commit(self.replaced)  # with nothing pending: only makes empty tables readable
            self.replaced["doc_id"].clear()
            self.replaced["source_path"].clear()
            return
        batch, replaced = self.batch, {key: set(values) for key, values in self.replaced.items()}
        self.replaced["doc_id"].clear()
        self.replaced["source_path"].clear()
        self.batch = Batch(self.store)
        if self.writer is None:
            self.writer = ThreadPoolExecutor(1, thread_name_prefix="minutes-commit")
        self.committing = self.writer.submit(batch.commit, replaced)

    def _finish_commit(self) -> None:
        """Wait for a commit in flight (its error is raised here)."""
        if self.committing is None:
            return
        committing, self.committing = self.committing, None
        committing.result()

    def wait(self) -> None:
        """Let a commit in flight finish, raising nothing: no write may outlive the run and its lock."""
        if self.writer is not None:
            self.writer.shutdown(wait=True)

    def close(self, prune: bool = False) -> Summary:
        """Write what is pending; with `prune`, delete the rows of vanished files; drop unused pages."""
        self.flush()
        self.wait()
        if prune and self.plan.vanished:
            self.store.remove({d for _, d in self.plan.vanished if d}, {p for p, _ in self.plan.vanished})
            self.summary.pruned = True
        if self.plan.changed:
            self.store.drop_orphan_pages()
        derived.refresh(self.store)  # the cases and the search index follow the tables
        standing = sorted(self.store.read("failures", columns=["source_path"])["source_path"].to_pylist())
        self.summary.standing, self.summary.standing_paths = len(standing), standing
        return self.summary


def _largest_first(work: list[Work], workers: int) -> list[Path]:
    """The paths, largest file first when several workers share them: the small ones left for last
    even out when the workers finish (one 80-page document dealt last keeps one worker busy
    alone). File size stands for the work; stored pages are quick whatever the file was. The
    same order otherwise (equal files stay in path order: the first of two copies is the one kept)."""
    if workers <= 1:
        return [w.path for w in work]

    def size(w: Work) -> int:
        if w.stored is not None:
            return 0
        try:
            return w.path.stat().st_size
        except OSError:  # gone since the plan: its failure row comes soon enough
            return 0

    return [w.path for w in sorted(work, key=size, reverse=True)]


def run_plan(plan: Plan, store: Store, engine: str = DEFAULT_ENGINE, workers: int = 1,
             progress: Callable[[DocumentResult], None] | None = None, flush_every: int = 200,
             prune: bool = False, limits: Limits = DEFAULT_LIMITS, isolate: bool = True,
             follow_symlinks: bool = False, redact_contacts: bool = False, crew: Crew | None = None) -> Summary:
    """Process a plan's work and write its rows; the caller holds `store.lock()`.

    `limits`, `isolate`, `follow_symlinks` and `crew` are `_iter_results`'; `redact_contacts`
    masks e-mail addresses and phone numbers in the page texts before extraction (so in every
    row and stored page) and again in the rows' text columns before anything is written.
    """
    started = time.perf_counter()
    collector = Collector(store, plan, flush_every, limits)
    stored = {w.path: w.stored for w in plan.work if w.stored}
    plans = {w.path: w.plan for w in plan.work if w.plan}
    results = _iter_results(_largest_first(plan.work, workers), plan.root, engine, workers, stored,
                            limits, isolate, follow_symlinks, crew, plans, redact_contacts)
    try:
        for result in results:
            if redact_contacts:
                redact_rows(result.rows)
            collector.add(result)
            if progress:
                progress(result)
        summary = collector.close(prune)
    finally:
        results.close()  # an interrupted batch ends its workers now, not when the generator is collected
        collector.wait()
    summary.seconds = time.perf_counter() - started
    return summary


class RedactionRefused(ValueError):
    """--redact-contacts cannot mask every document of the output: nothing was done."""


def plan_batch(src: Path, store: Store, engine: str = DEFAULT_ENGINE, force: bool = False,
               limits: Limits = DEFAULT_LIMITS, follow_symlinks: bool = False,
               on_work: Callable[[int], None] | None = None, redact_contacts: bool = False) -> Plan:
    """The plan of an ingest run over `src` (`pipeline.incremental`); the caller holds the lock.

    Files that will be refused are not even hashed: a named pipe would block, a symlink out of
    the folder would be read. `on_work(n)` is called as soon as some file is seen to need
    processing, with the most files that can go to workers (to start them while planning goes on).
    """
    paths = discover(src, follow_symlinks)
    unread = {p for p in paths if refusal(p, src, limits, follow_symlinks) is not None}
    hint = (lambda: on_work(len(paths) - len(unread))) if on_work else None
    plan = plan_ingest(src, paths, store, engine, force=force, unread=unread, on_work=hint,
                       wanted=Wanted(limits, redact_contacts))
    if redact_contacts and plan.vanished:
        kept = {d for _, d in plan.vanished if d}
        docs = store.read("documents", columns=["doc_id", "redacted"]).to_pylist()
        unmasked = [d["doc_id"] for d in docs if d["doc_id"] in kept and not d["redacted"]]
        if unmasked:
            raise RedactionRefused(
                f"--redact-contacts would leave {len(unmasked)} document(s) unmasked: they are in {store.out} but "
                f"no longer under {src}. Add --prune to remove them, or mask them from their stored pages with "
                f"`minutes reprocess --out {store.out} --redact-contacts`; nothing was done")
    return plan


def process_here(path: Path, root: Path, engine: str = DEFAULT_ENGINE, stored: pages.PagesRef | None = None,
                 limits: Limits = DEFAULT_LIMITS, follow_symlinks: bool = False, plan: Planned | None = None,
                 redact_contacts: bool = False) -> DocumentResult:
    """One document in this process, refused where `run_batch` would refuse it.

    For task runners that bring their own worker processes (the Dask flow): no time limit or
    memory cap of ours applies here.
    """
    refs = {path: stored} if stored else None
    return next(_iter_results([path], root, engine, 1, refs, limits, False, follow_symlinks,
                              plans={path: plan}, redact_contacts=redact_contacts))


def run_batch(
    src: Path,
    out: Path,
    engine: str = DEFAULT_ENGINE,
    workers: int = 1,
    progress: Callable[[DocumentResult], None] | None = None,
    flush_every: int = 200,
    force: bool = False,
    prune: bool = False,
    on_plan: Callable[[Plan], None] | None = None,
    limits: Limits = DEFAULT_LIMITS,
    isolate: bool = True,
    follow_symlinks: bool = False,
    redact_contacts: bool = False,
) -> Summary:
    """Process the files below `src` that are new or changed since the last run into `out`.

    What counts as changed is `pipeline.incremental`'s plan; `force` processes every file,
    `prune` deletes the rows of files gone from `src`. Holds the output folder's lock.
    Each document runs in a worker process under `limits` unless `isolate` is False (see
    `_iter_results`); nothing is written outside `out`. The workers start as soon as planning
    sees a file to process, so that their start-up overlaps the rest of the planning; when
    there is nothing to do, none start (or they are killed at once).
    """
    started = time.perf_counter()
    src, out = Path(src), Path(out).resolve()
    store = Store(out)
    with store.lock(), start_crew(limits, _WORKER_PRELOAD) as crew:
        start = (lambda most: crew.start(min(workers, most))) if isolate else None
        plan = plan_batch(src, store, engine, force, limits, follow_symlinks, on_work=start,
                          redact_contacts=redact_contacts)
        if not plan.work:
            crew.close()
        if on_plan:
            on_plan(plan)
        summary = run_plan(plan, store, engine, workers, progress, flush_every, prune, limits, isolate,
                           follow_symlinks, redact_contacts, crew)
    summary.seconds = time.perf_counter() - started
    return summary


def reprocess(
    out: Path,
    src: Path | None = None,
    engine: str = DEFAULT_ENGINE,
    workers: int = 1,
    since: datetime | None = None,
    only_failed: bool = False,
    doc_ids: list[str] | None = None,
    progress: Callable[[DocumentResult], None] | None = None,
    on_plan: Callable[[Plan], None] | None = None,
    limits: Limits = DEFAULT_LIMITS,
    isolate: bool = True,
    redact_contacts: bool = False,
) -> Summary:
    """Extract documents already in `out` again, from their stored pages (else from `src`).

    The selection is `pipeline.incremental.plan_reprocess`'s; holds the output folder's lock.
    `limits`, `isolate` and `redact_contacts` as for `run_batch`.
    """
    started = time.perf_counter()
    store = Store(Path(out))
    with store.lock():
        plan = plan_reprocess(store, Path(src) if src else None, engine, since, only_failed, doc_ids)
        if on_plan:
            on_plan(plan)
        summary = run_plan(plan, store, engine, workers, progress, limits=limits, isolate=isolate,
                           redact_contacts=redact_contacts)
    summary.seconds = time.perf_counter() - started
    return summary
