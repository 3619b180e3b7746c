"""`fetch_flow`: fetch → ingest → announce, as a Prefect flow (what `minutes serve --sources` schedules).

Three tasks, each one library call: `pipeline.fetch.run.run_fetch` (the sources' new or changed
documents into RAW, every request a `fetches` row), `pipeline.run.run_batch` (RAW into the
tables, incremental) and `pipeline.fetch.feeds.write_feeds` (Atom feeds of the decisions new
since the last run, and the webhook). A document or request that fails is data (a row, a line
in the log), not a failed flow run. Every run publishes a markdown artifact `minutes-fetch`
listing the documents fetched and the new decisions.

    python -m flows.fetch --sources FILE [--raw DIR] [--out DIR]
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from pipeline.fetch.feeds import FeedSummary, write_feeds
from pipeline.fetch.run import FetchSummary, run_fetch
from pipeline.fetch.sourcefile import SourcesError, load
from pipeline.read import DEFAULT_ENGINE
from pipeline.run import Summary, run_batch
from pipeline.store import OutputLocked

ARTIFACT_KEY = "minutes-fetch"
ARTIFACT_ROWS = 200  # of each list: the fetches table and the feeds hold them all


@task(name="fetch-documents", cache_policy=NO_CACHE)
def fetch_documents(sources: str, raw: str, out: str) -> FetchSummary:
    """Download what is new or changed (no retries: every request already retries what may pass)."""
    summary = run_fetch(load(Path(sources)), Path(raw), Path(out))
    logger = get_run_logger()
    for line in summary.lines():
        (logger.warning if line.startswith("failed") else logger.info)(line)
    return summary


@task(name="ingest-documents", cache_policy=NO_CACHE)
def ingest_documents(raw: str, out: str, engine: str, workers: int) -> Summary:
    """The raw folder into the tables; unchanged files are skipped."""
    summary = run_batch(Path(raw), Path(out), engine=engine, workers=workers)
    for line in summary.lines():
        get_run_logger().info(line)
    return summary


@task(name="announce", cache_policy=NO_CACHE)
def announce(sources: str, out: str) -> FeedSummary:
    """Atom feeds (and the webhook) of the decisions new since the last run."""
    summary = write_feeds(load(Path(sources)), Path(out))
    for line in summary.lines():
        get_run_logger().info(line)
    return summary


def _cell(value: Any) -> str:
    return str(value if value is not None else "").replace("|", "/").replace("\n", " ")


def report(fetched: FetchSummary, feeds: FeedSummary) -> str:
    """The run as markdown: the documents fetched (new, changed, failed) and the new decisions."""
    lines = ["# minutes fetch", "", *[f"- {line}" for line in fetched.lines()], "",
             f"## Documents fetched ({len(fetched.fetched)})", "",
             "| organisation | body | meeting | outcome | file | url |", "|---|---|---|---|---|---|"]
    lines += [f"| {_cell(r['organization'])} | {_cell(r['body'])} | {_cell(r['meeting_date'])} | {r['outcome']} | "
              f"{_cell(r.get('path'))} | {_cell(r['url'])} |" for r in fetched.fetched[:ARTIFACT_ROWS]]
    lines += ["", f"## New decisions ({len(feeds.new)})", "",
              "| organisation | body | date | § | title | outcome | source |", "|---|---|---|---|---|---|---|"]
    lines += [f"| {_cell(d['organization'])} | {_cell(d['body'])} | {_cell(d['meeting_date'])} | {_cell(d['section'])} "
              f"| {_cell(d['title'])} | {_cell(d['outcome'])} | [document]({d['link']}) |" for d in feeds.new[:ARTIFACT_ROWS]]
    return "\n".join(lines)


@flow(name="minutes-fetch")
def fetch_flow(sources: str, raw: str = "data/raw", out: str = "data/processed", engine: str = DEFAULT_ENGINE,
               workers: int = 1) -> dict[str, Any]:
    """Fetch the sources' new minutes into `raw`, ingest them into `out`, announce the new decisions."""
    load(Path(sources))  # a bad sources file fails the run at once, with the reason
    fetched = fetch_documents(sources, raw, out)
    ingested = ingest_documents(raw, out, engine, workers)
    feeds = announce(sources, out)
    create_markdown_artifact(key=ARTIFACT_KEY, markdown=report(fetched, feeds),
                             description=f"minutes fetch {sources} -> {raw} -> {out}")
    return {"fetch": {k: v for k, v in asdict(fetched).items() if k != "fetched"},
            "ingest": {**asdict(ingested), "out": str(ingested.out) if ingested.out else None},
            "new_decisions": len(feeds.new), "feeds": feeds.written}


def main(argv: list[str] | None = None) -> int:
    """Run the flow once; exit 1 when a request or a document failed, as `minutes fetch --ingest`."""
    parser = argparse.ArgumentParser(prog="python -m flows.fetch", description=__doc__.splitlines()[0])
    parser.add_argument("--sources", required=True, help="the sources file (TOML)")
    parser.add_argument("--raw", default="data/raw", help="where documents go (default data/raw)")
    parser.add_argument("--out", default="data/processed", help="output folder (default data/processed)")
    args = parser.parse_args(argv)
    try:
        load(Path(args.sources))
        result = fetch_flow(args.sources, args.raw, args.out)
    except SourcesError as exc:
        print(f"flows.fetch: {exc}", file=sys.stderr)
        return 2
    except OutputLocked as exc:
        print(f"flows.fetch: {exc}", file=sys.stderr)
        return 3
    print(f"minutes fetch {args.sources}: {result['new_decisions']} new decision(s); feeds {result['feeds']}")
    return 1 if result["fetch"]["request_failures"] or result["ingest"]["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
