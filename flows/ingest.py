"""`ingest_flow`: `minutes ingest` as a Prefect flow (same library, same tables, same numbers).

Design: one task lists the sources (I/O, retried) and ONE task runs `pipeline.run.run_batch`
(not retried). `run_batch` owns everything between a file and the tables: duplicate files,
the replace-never-duplicate writes, flushing, and the process pool behind `workers`. Mapping
`process_document` over Prefect tasks instead would copy that bookkeeping into this module and
swap the process pool for Prefect's thread pool, which gives CPU-bound extraction no speed-up.
Per-run numbers come back from `run_batch` as its `Summary`; each failed document is logged as
it happens through `run_batch`'s `progress` hook.

    python -m flows.ingest SRC --out DIR [--engine E] [--workers N]

Exit codes as the CLI: 0 every document ok, 1 some document failed, 2 usage error.
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact

from pipeline.read import ENGINES
from pipeline.run import DocumentResult, Summary, discover, run_batch

ARTIFACT_KEY = "minutes-ingest"


@task(name="list-sources", retries=2, retry_delay_seconds=2)
def list_sources(src: str) -> list[str]:
    """The files `run_batch` will see; retried because a folder listing on a share can flicker."""
    paths = discover(Path(src))
    get_run_logger().info("%d source file(s) under %s", len(paths), src)
    return [p.as_posix() for p in paths]


@task(name="ingest-documents")
def ingest_documents(src: str, out: str, engine: str, workers: int) -> Summary:
    """Extract and write every document via `run_batch`.

    No retries: extraction is deterministic, so a retry would only redo every document and fail
    the same way. Store writes are atomic and idempotent, so re-running the flow is the recovery.
    """
    logger = get_run_logger()

    def progress(result: DocumentResult) -> None:
        if result.failed:
            reason = result.rows["failures"][0]["reason"]
            logger.warning("failed: %s: %s", result.source_path, reason)
        else:
            logger.debug("%s: %d decision(s), %.2f s", result.source_path, result.n_decisions, result.seconds)

    return run_batch(Path(src), Path(out), engine=engine, workers=workers, progress=progress)


def summary_dict(summary: Summary) -> dict[str, Any]:
    """The Summary as plain JSON-able values (the flow's return value)."""
    return {**asdict(summary), "out": str(summary.out) if summary.out else None}


@flow(name="minutes-ingest")
def ingest_flow(src: str = "data/raw", out: str = "data/processed", engine: str = "pdfplumber",
                workers: int = 1) -> dict[str, Any]:
    """Ingest `src` into the Parquet tables under `out`; return the run's Summary as a dict."""
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    if workers < 1:
        raise ValueError("workers must be at least 1")
    logger = get_run_logger()
    list_sources(src)
    summary = ingest_documents(src, out, engine, workers)
    logger.info("minutes ingest %s -> %s", src, out)
    for line in summary.lines():
        logger.info(line)
    create_table_artifact(
        key=ARTIFACT_KEY,
        table=[{"documents": summary.documents, "decisions": summary.decisions,
                "failures": summary.failed, "seconds": round(summary.seconds, 2)}],
        description=f"minutes ingest {src} -> {out}",
    )
    return summary_dict(summary)


def main(argv: list[str] | None = None) -> int:
    """The one-liner: run the flow once, print the summary, exit 1 if a document failed."""
    parser = argparse.ArgumentParser(prog="python -m flows.ingest", description=__doc__.splitlines()[0])
    parser.add_argument("src", nargs="?", default="data/raw", help="file or folder (default data/raw)")
    parser.add_argument("--out", default="data/processed", help="output folder (default data/processed)")
    parser.add_argument("--engine", choices=ENGINES, default="pdfplumber", help="PDF reader")
    parser.add_argument("--workers", type=int, default=1, help="documents processed in parallel processes")
    args = parser.parse_args(argv)
    if not Path(args.src).exists():
        print(f"flows.ingest: input {args.src} does not exist; give a folder of .pdf/.txt minutes", file=sys.stderr)
        return 2
    if args.workers < 1:
        print("flows.ingest: --workers must be at least 1", file=sys.stderr)
        return 2
    result = ingest_flow(args.src, args.out, args.engine, args.workers)
    summary = Summary(**{**result, "out": Path(result["out"])})
    print(f"minutes ingest {args.src} -> {args.out}")
    for line in summary.lines():
        print("  " + line)
    return 1 if summary.failed else 0


if __name__ == "__main__":
    sys.exit(main())
