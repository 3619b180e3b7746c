"""`ingest_flow`: `minutes ingest` as a Prefect flow (same library, same tables, same numbers).

Two ways through, one flow:

- On one machine (the default) ONE task runs `pipeline.run.run_batch`, which plans the run
  (skips unchanged files), owns the duplicate/replace bookkeeping and the process pool behind
  `workers`. Mapping documents over Prefect's thread pool instead would give CPU-bound
  extraction no speed-up.
- With `--dask` the flow maps `process_here` (one document, refused where `run_batch` would
  refuse it) over a Dask cluster (prefect-dask's `DaskTaskRunner`: a scheduler address, or a
  local cluster), then writes each batch of results in the flow's process through the same
  `pipeline.run.Collector` `run_batch` uses. The per-document time limit and memory cap of
  `run_batch`'s worker processes do not apply there (Dask's own worker memory limit does).

Retries only where I/O can flicker: listing and planning (a share), writing the tables (a full
disk, a dropped mount). Extraction is deterministic and never retried. Every run publishes a
table artifact `minutes-ingest` (documents, unchanged, decisions, failures, repairs, vanished,
seconds).

    python -m flows.ingest SRC --out DIR [--engine E] [--workers N] [--force] [--prune]
                                         [--dask [ADDRESS|local]] [--dask-workers N]

Exit codes as the CLI: 0 every document ok, 1 some document stands failed, 2 usage error, 3
another run is writing to the output folder.
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task, unmapped
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import State, TaskRun
from prefect.tasks import Task

from pipeline.incremental import Plan
from pipeline.isolation import Limits
from pipeline.read import DEFAULT_ENGINE, ENGINES
from pipeline.run import Collector, DocumentResult, Summary, discover, plan_batch, process_here, run_batch
from pipeline.store import OutputLocked, Store

ARTIFACT_KEY = "minutes-ingest"
EXIT_LOCKED = 3
BATCH = 200  # documents per write on the Dask path: bounds the rows held in the flow's memory


def _io_error(task: Task, task_run: TaskRun, state: State) -> bool:
    """Retry only I/O errors (a share that flickered, a full disk); a bug would fail the same way again."""
    return isinstance(state.result(raise_on_failure=False), OSError)


@task(name="list-sources", retries=2, retry_delay_seconds=2, retry_condition_fn=_io_error, cache_policy=NO_CACHE)
def list_sources(src: str) -> list[str]:
    """The files the run will see; retried because a folder listing on a share can flicker."""
    paths = discover(Path(src))
    get_run_logger().info("%d source file(s) under %s", len(paths), src)
    return [p.as_posix() for p in paths]


def _log_result(result: DocumentResult) -> None:
    logger = get_run_logger()
    if result.failed:
        logger.warning("failed: %s: %s", result.source_path, result.rows["failures"][0]["reason"])
    else:
        logger.debug("%s: %d decision(s), %.2f s", result.source_path, result.n_decisions, result.seconds)


@task(name="ingest-documents", cache_policy=NO_CACHE)
def ingest_documents(src: str, out: str, engine: str, workers: int, force: bool = False,
                     prune: bool = False, limits: Limits = Limits(), redact_contacts: bool = False) -> Summary:
    """Plan, extract and write every document via `run_batch` (one machine).

    No retries: extraction is deterministic, so a retry would only fail the same way. Store
    writes are atomic and idempotent, and unchanged files are skipped, so re-running the flow
    is the recovery.
    """
    return run_batch(Path(src), Path(out), engine=engine, workers=workers, progress=_log_result,
                     force=force, prune=prune, limits=limits, redact_contacts=redact_contacts)


@task(name="plan", retries=2, retry_delay_seconds=2, retry_condition_fn=_io_error, cache_policy=NO_CACHE)
def plan_run(src: str, store: Store, engine: str, force: bool, limits: Limits = Limits(),
             redact_contacts: bool = False) -> Plan:
    """Hash the files and compare them with the output (I/O: retried)."""
    plan = plan_batch(Path(src), store, engine, force, limits, redact_contacts=redact_contacts)
    get_run_logger().info("%d to process, %d unchanged, %d duplicate(s), %d vanished",
                          len(plan.work), len(plan.unchanged), len(plan.duplicates), len(plan.vanished))
    return plan


@task(name="extract-document", cache_policy=NO_CACHE)
def extract_document(path: str, root: str, engine: str, stored: Any, plan: Any = None,
                     redact_contacts: bool = False) -> DocumentResult:
    """One document on a Dask worker: `pipeline.run.process_here`, nothing else."""
    return process_here(Path(path), Path(root), engine, stored, plan=plan, redact_contacts=redact_contacts)


@task(name="write-tables", retries=3, retry_delay_seconds=5, retry_condition_fn=_io_error, cache_policy=NO_CACHE)
def write_tables(collector: Collector) -> None:
    """Write the collected rows (idempotent: the rows stay pending until the write succeeds)."""
    collector.flush()


@task(name="tidy-output", retries=3, retry_delay_seconds=5, retry_condition_fn=_io_error, cache_policy=NO_CACHE)
def tidy_output(collector: Collector, prune: bool) -> Summary:
    """Prune vanished files' rows if asked and drop unused pages (idempotent)."""
    return collector.close(prune)


def _run_on_cluster(src: str, out: str, engine: str, force: bool, prune: bool, limits: Limits = Limits(),
                    redact_contacts: bool = False) -> Summary:
    """The Dask way through: plan, map `process_here` in batches, write each batch."""
    started = time.perf_counter()
    store = Store(Path(out))
    with store.lock():
        plan = plan_run(src, store, engine, force, limits, redact_contacts)
        collector = Collector(store, plan, flush_every=len(plan.work) + 1, limits=limits)
        for start in range(0, len(plan.work), BATCH):
            batch = plan.work[start:start + BATCH]
            futures = extract_document.map([w.path.as_posix() for w in batch], unmapped(plan.root.as_posix()),
                                           unmapped(engine), [w.stored for w in batch], [w.plan for w in batch],
                                           unmapped(redact_contacts))
            for future in futures:
                result = future.result()
                _log_result(result)
                collector.add(result)
            write_tables(collector)
        summary = tidy_output(collector, prune)
    summary.seconds = time.perf_counter() - started
    return summary


def summary_dict(summary: Summary) -> dict[str, Any]:
    """The Summary as plain JSON-able values (the flow's return value)."""
    return {**asdict(summary), "out": str(summary.out) if summary.out else None}


@flow(name="minutes-ingest")
def ingest_flow(src: str = "data/raw", out: str = "data/processed", engine: str = DEFAULT_ENGINE,
                workers: int = 1, force: bool = False, prune: bool = False,
                per_document: bool = False, timeout: float = 120.0, max_memory: int = 2048,
                max_text_mb: float = 20.0, redact_contacts: bool = False) -> dict[str, Any]:
    """Ingest `src` into the Parquet tables under `out`; return the run's Summary as a dict.

    `per_document` maps documents over the flow's task runner (give it a `DaskTaskRunner`
    with `ingest_flow.with_options`, as `--dask` does) instead of one `run_batch` task.
    `timeout`, `max_memory`, `max_text_mb` and `redact_contacts` are `minutes ingest`'s options.
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    if workers < 1:
        raise ValueError("workers must be at least 1")
    logger = get_run_logger()
    list_sources(src)
    limits = Limits(timeout=timeout, max_memory_mb=max_memory, max_text_mb=max_text_mb)
    if per_document:
        summary = _run_on_cluster(src, out, engine, force, prune, limits, redact_contacts)
    else:
        summary = ingest_documents(src, out, engine, workers, force, prune, limits, redact_contacts)
    logger.info("minutes ingest %s -> %s", src, out)
    for line in summary.lines():
        logger.info(line)
    create_table_artifact(key=ARTIFACT_KEY, table=[artifact_row(summary)],
                          description=f"minutes ingest {src} -> {out}")
    return summary_dict(summary)


def artifact_row(summary: Summary) -> dict[str, Any]:
    """The run's numbers as the artifact shows them."""
    return {"documents": summary.documents, "unchanged": summary.skipped, "decisions": summary.decisions,
            "failures": summary.failed, "standing_failures": summary.standing, "repairs": summary.repairs,
            "vanished": summary.vanished, "seconds": round(summary.seconds, 2)}


def dask_runner(address: str, n_workers: int) -> Any:
    """A DaskTaskRunner for a scheduler address, or for a local cluster of `n_workers` processes."""
    from prefect_dask import DaskTaskRunner

    if address == "local":
        return DaskTaskRunner(cluster_kwargs={"n_workers": n_workers, "threads_per_worker": 1, "processes": True,
                                              "dashboard_address": None})
    return DaskTaskRunner(address=address)


def main(argv: list[str] | None = None) -> int:
    """The one-liner: run the flow once, print the summary, exit 1 if a document failed."""
    parser = argparse.ArgumentParser(prog="python -m flows.ingest", description=__doc__.splitlines()[0])
    parser.add_argument("src", nargs="?", default="data/raw", help="file or folder (default data/raw)")
    parser.add_argument("--out", default="data/processed", help="output folder (default data/processed)")
    parser.add_argument("--engine", choices=ENGINES, default=DEFAULT_ENGINE, help="PDF reader")
    parser.add_argument("--workers", type=int, default=1, help="documents processed in parallel processes")
    parser.add_argument("--force", action="store_true", help="process unchanged files too (stored pages are reused)")
    parser.add_argument("--prune", action="store_true", help="delete the rows of files no longer under SRC")
    parser.add_argument("--dask", nargs="?", const="local", metavar="ADDRESS|local",
                        help="run documents on a Dask cluster: a scheduler address (tcp://host:8786) "
                             "or 'local' (the default) for a local cluster")
    parser.add_argument("--dask-workers", type=int, default=2, help="worker processes of a local cluster")
    args = parser.parse_args(argv)
    if not Path(args.src).exists():
        print(f"flows.ingest: input {args.src} does not exist; give a folder of .pdf/.txt minutes", file=sys.stderr)
        return 2
    if args.workers < 1 or args.dask_workers < 1:
        print("flows.ingest: --workers and --dask-workers must be at least 1", file=sys.stderr)
        return 2
    run = ingest_flow
    if args.dask:
        from prefect.settings import PREFECT_API_URL

        if not PREFECT_API_URL.value():
            print("flows.ingest: PREFECT_API_URL is not set, so every Dask worker starts its own temporary "
                  "Prefect server (~30 s each); start one with `prefect server start --host 127.0.0.1` and "
                  "set PREFECT_API_URL=http://127.0.0.1:4200/api", file=sys.stderr)
        run = ingest_flow.with_options(task_runner=dask_runner(args.dask, args.dask_workers))
    try:
        result = run(args.src, args.out, args.engine, args.workers, args.force, args.prune,
                     per_document=bool(args.dask))
    except OutputLocked as exc:
        print(f"flows.ingest: {exc}", file=sys.stderr)
        return EXIT_LOCKED
    summary = Summary(**{**result, "out": Path(result["out"])})
    print(f"minutes ingest {args.src} -> {args.out}")
    for line in summary.lines():
        print("  " + line)
    return 1 if summary.standing else 0


if __name__ == "__main__":
    sys.exit(main())
