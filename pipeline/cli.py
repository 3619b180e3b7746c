"""`minutes ...`: the operators' door into the library.

Exit codes: 0 every document is in the tables, 1 some documents stand failed (this run's or
earlier ones: `minutes failures` lists them), 2 usage error, 3 another run is writing to the
output folder (nothing was done), 4 no space left on the output's disk, 5 the output folder cannot
be written, 130 interrupted (Ctrl-C), 143 terminated (SIGTERM). For 4, 5, 130 and 143 the tables
hold every batch committed before and the lock is released: run the same command again to finish.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipeline.explore import add_commands
from pipeline.endings import EXIT_LOCKED, EXIT_USAGE, Terminated, ending, signals_as_exceptions
from pipeline.read import DEFAULT_ENGINE, ENGINES

DEFAULT_SRC = Path("data/raw")
DEFAULT_OUT = Path("data/processed")


def _limits_problem(args: argparse.Namespace) -> str | None:
    """What is wrong with the limits given (ingest, reprocess, serve), if anything (a usage error, exit 2)."""
    from pipeline.isolation import MIN_MEMORY_MB

    if args.out.exists() and not args.out.is_dir():
        return f"--out {args.out} is a file; give a folder for the tables"
    if args.timeout <= 0:
        return "--timeout must be a positive number of seconds (default 120)"
    if args.max_memory < MIN_MEMORY_MB:
        return f"--max-memory must be at least {MIN_MEMORY_MB} MB: a worker needs that much to load the pipeline"
    if args.max_text_mb <= 0 or getattr(args, "flush_every", 1) < 1:
        return "--max-text-mb must be positive and --flush-every at least 1"
    return None


def _limits(args: argparse.Namespace):  # noqa: ANN202 - a pipeline.isolation.Limits, imported late
    from pipeline.isolation import Limits

    return Limits(timeout=args.timeout, max_memory_mb=args.max_memory, max_text_mb=args.max_text_mb)


def _add_limits(parser: argparse.ArgumentParser) -> None:
    """The per-document limits and the redaction switch: ingest, reprocess and serve take the same."""
    parser.add_argument("--timeout", type=float, default=120.0, metavar="SECONDS",
                        help="stop a document after this long and record it as failed (default 120)")
    parser.add_argument("--max-memory", type=int, default=2048, metavar="MB",
                        help="memory a document's worker process may use (default 2048)")
    parser.add_argument("--max-text-mb", type=float, default=20.0, metavar="MB",
                        help="refuse text/HTML files larger than this unread (default 20)")
    parser.add_argument("--redact-contacts", action="store_true",
                        help="mask e-mail addresses and phone numbers in every text column and stored page "
                             "(documents already in the output are masked from their stored pages)")


def _ingest(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from pipeline.isolation import WorkerStartError
    from pipeline.run import RedactionRefused, discover, run_batch
    from pipeline.store import OutputLocked

    src: Path = args.src
    if not src.exists():
        print(f"minutes: input {src} does not exist; give a folder of .pdf/.txt minutes", file=sys.stderr)
        return 2
    problem = _limits_problem(args)
    if problem:
        print(f"minutes: {problem}", file=sys.stderr)
        return 2
    total = len(discover(src, args.follow_symlinks))
    bar = tqdm(total=total, unit="doc", desc="ingest", disable=args.quiet or (None if total < 20 else False),
               file=sys.stderr, leave=False)

    def progress(result) -> None:  # noqa: ANN001 - a DocumentResult
        bar.update(1)
        bar.set_postfix_str(result.source_path[-40:], refresh=False)

    limits = _limits(args)
    try:
        summary = run_batch(src, args.out, engine=args.engine, workers=args.workers, progress=progress,
                            force=args.force, prune=args.prune, on_plan=lambda plan: bar.reset(total=len(plan.work)),
                            flush_every=args.flush_every, limits=limits, follow_symlinks=args.follow_symlinks,
                            redact_contacts=args.redact_contacts)
    except OutputLocked as exc:
        bar.close()
        print(f"minutes: {exc}", file=sys.stderr)
        return EXIT_LOCKED
    except (WorkerStartError, RedactionRefused) as exc:
        bar.close()
        print(f"minutes: {exc}", file=sys.stderr)
        return 2
    finally:
        bar.close()
    print(f"minutes ingest {src} -> {args.out}")
    for line in summary.lines():
        print("  " + line)
    return 1 if summary.standing else 0


def _eval(args: argparse.Namespace) -> int:
    from pipeline.evaluate import evaluate
    from pipeline.report import format_report

    if not args.gold.is_dir():
        print(f"minutes: gold folder {args.gold} does not exist", file=sys.stderr)
        return 2
    if not (args.pred / "decisions").exists():
        print(f"minutes: no tables under {args.pred}; run `minutes ingest {args.gold} --out {args.pred}` first",
              file=sys.stderr)
        return 2
    report = evaluate(args.gold, args.pred)
    print(format_report(report, per_document=args.per_document))
    return 0


def _reprocess(args: argparse.Namespace) -> int:
    """Re-extract documents already in the output; exit 1 if some failed or could not be reprocessed."""
    from tqdm import tqdm

    from pipeline.incremental import parse_since
    from pipeline.run import reprocess
    from pipeline.store import OutputLocked

    if not (args.out / "documents").exists():
        print(f"minutes: no tables under {args.out}; run `minutes ingest SRC --out {args.out}` first", file=sys.stderr)
        return 2
    if args.src is not None and not args.src.exists():
        print(f"minutes: --src {args.src} does not exist; give the folder the documents were ingested from",
              file=sys.stderr)
        return 2
    if args.only_failed and args.src is None:
        print("minutes: --only-failed reads the failed files again: give --src with the folder they were "
              "ingested from", file=sys.stderr)
        return 2
    problem = _limits_problem(args)
    if problem:
        print(f"minutes: {problem}", file=sys.stderr)
        return 2
    bar = tqdm(unit="doc", desc="reprocess", disable=args.quiet or None, file=sys.stderr, leave=False)

    def progress(result) -> None:  # noqa: ANN001 - a DocumentResult
        bar.update(1)
        bar.set_postfix_str(result.source_path[-40:], refresh=False)

    try:
        since = parse_since(args.since) if args.since else None
        summary = reprocess(args.out, args.src, engine=args.engine, workers=args.workers, since=since,
                            only_failed=args.only_failed, doc_ids=args.doc, progress=progress,
                            on_plan=lambda plan: bar.reset(total=len(plan.work)), limits=_limits(args),
                            redact_contacts=args.redact_contacts)
    except ValueError as exc:  # a bad --since or --doc
        print(f"minutes: {exc}", file=sys.stderr)
        return 2
    except OutputLocked as exc:
        print(f"minutes: {exc}", file=sys.stderr)
        return EXIT_LOCKED
    finally:
        bar.close()
    print(f"minutes reprocess {args.out}" + (f" (sources in {args.src})" if args.src else ""))
    for line in summary.lines():
        print("  " + line)
    return 1 if summary.standing or summary.missing else 0


def _failures(args: argparse.Namespace) -> int:
    """List the failures that stand; exit 1 while any does (as `ingest` does)."""
    from pipeline.failures import format_failures, standing

    if not (args.out / "failures").is_dir():
        print(f"minutes: no tables under {args.out}; run `minutes ingest SRC --out {args.out}` first", file=sys.stderr)
        return 2
    rows = standing(args.out)
    print(format_failures(rows, args.out))
    return 1 if rows else 0


def _serve(args: argparse.Namespace) -> int:
    """Serve a scheduled ingest (or, with --sources, fetch → ingest) deployment until stopped (Ctrl-C)."""
    if args.sources is not None:
        from pipeline.fetch.cli import load_sources

        if load_sources(args.sources) is None:
            return 2
    elif args.src is None:
        print("minutes: give SRC, the folder to ingest, or --sources FILE to fetch and ingest", file=sys.stderr)
        return 2
    elif not args.src.exists():
        print(f"minutes: input {args.src} does not exist; give a folder of .pdf/.txt minutes", file=sys.stderr)
        return 2
    problem = _limits_problem(args)
    if problem:
        print(f"minutes: {problem}", file=sys.stderr)
        return 2
    from flows.serve import ServeError, serve, serve_fetch

    try:
        if args.sources is not None:
            serve_fetch(args.sources, args.raw, args.out, args.cron, name=args.name, timezone=args.timezone,
                        engine=args.engine, workers=args.workers)
        else:
            serve(args.src, args.out, args.cron, name=args.name, timezone=args.timezone, engine=args.engine,
                  workers=args.workers, prune=args.prune, limits=_limits(args), redact_contacts=args.redact_contacts)
    except ServeError as exc:
        print(f"minutes: {exc}", file=sys.stderr)
        return 2
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="minutes",
        description="Finnish meeting minutes (pöytäkirjat, esityslistat, viranhaltijapäätökset) into Parquet "
                    "decision tables.",
        epilog=__doc__.split("\n\n", 1)[1].strip(),
    )
    sub = parser.add_subparsers(dest="command", required=True)

    ingest = sub.add_parser("ingest", help="read minutes (PDF, text, HTML) and write the Parquet tables")
    ingest.add_argument("src", nargs="?", type=Path, default=DEFAULT_SRC, help="file or folder (default data/raw)")
    ingest.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default data/processed)")
    ingest.add_argument("--engine", choices=ENGINES, default=DEFAULT_ENGINE, help="PDF reader")
    ingest.add_argument("--workers", type=int, default=1, help="documents processed in parallel processes")
    ingest.add_argument("--quiet", action="store_true", help="no progress bar")
    ingest.add_argument("--force", action="store_true", help="process unchanged files too (stored pages are reused)")
    ingest.add_argument("--prune", action="store_true", help="delete the rows of files no longer under SRC")
    _add_limits(ingest)
    ingest.add_argument("--follow-symlinks", action="store_true",
                        help="read symlinks (files and folders) that lead out of SRC; by default they are refused")
    ingest.add_argument("--flush-every", type=int, default=200, metavar="N",
                        help="write the tables every N documents (default 200); less work is redone after a crash")
    ingest.set_defaults(func=_ingest)

    ev = sub.add_parser("eval", help="score extracted tables against gold annotations (GOLD.md)")
    ev.add_argument("gold", type=Path, help="folder with NAME.gold.json beside each document")
    ev.add_argument("--pred", type=Path, default=DEFAULT_OUT, help="output folder of `minutes ingest`")
    ev.add_argument("--per-document", action="store_true", help="also list the errors of every document")
    ev.set_defaults(func=_eval)

    repro = sub.add_parser("reprocess", help="extract documents in the output again, from their stored pages")
    repro.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default data/processed)")
    repro.add_argument("--src", type=Path, help="folder the documents came from (read where no pages are stored)")
    repro.add_argument("--since", metavar="DATE", help="only documents processed (or failed) since DATE (YYYY-MM-DD)")
    repro.add_argument("--only-failed", action="store_true", help="only the files in the failures table (needs --src)")
    repro.add_argument("--doc", nargs="+", metavar="DOC_ID", help="only these documents (doc_id or first 6+ digits)")
    repro.add_argument("--engine", choices=ENGINES, default=DEFAULT_ENGINE, help="PDF reader for files read again")
    repro.add_argument("--workers", type=int, default=1, help="documents processed in parallel processes")
    repro.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_limits(repro)
    repro.set_defaults(func=_reprocess)

    fails = sub.add_parser("failures", help="list the failures that stand in the output, with reasons (exit 1 if any)")
    fails.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default data/processed)")
    fails.set_defaults(func=_failures)

    srv = sub.add_parser("serve", help="run ingest on a cron schedule through a Prefect server (blocks)")
    srv.add_argument("src", type=Path, nargs="?", help="file or folder to ingest on every run")
    srv.add_argument("--sources", type=Path, help="fetch what this sources file lists into --raw, then ingest it")
    srv.add_argument("--raw", type=Path, default=DEFAULT_SRC, help="with --sources: where documents go (default data/raw)")
    srv.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default data/processed)")
    srv.add_argument("--cron", required=True, help='when to run, e.g. "0 3 * * *" (03:00 every day)')
    srv.add_argument("--timezone", default="UTC", help="time zone of the cron expression (default UTC)")
    srv.add_argument("--name", default="scheduled", help="deployment name: minutes-ingest/NAME, or minutes-fetch/NAME with --sources (default scheduled)")
    srv.add_argument("--engine", choices=ENGINES, default=DEFAULT_ENGINE, help="PDF reader")
    srv.add_argument("--workers", type=int, default=1, help="documents processed in parallel processes")
    srv.add_argument("--prune", action="store_true", help="delete the rows of files no longer under SRC")
    _add_limits(srv)
    srv.set_defaults(func=_serve)

    from pipeline.fetch.cli import add_commands as add_fetch_commands  # `fetch`, `sources check`

    add_fetch_commands(sub, DEFAULT_SRC, DEFAULT_OUT)
    add_commands(sub)  # case, search, export, browse: pipeline/explore.py
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run a command; a full disk, an unwritable output, Ctrl-C or SIGTERM end it with one line
    and their own exit code (`pipeline.endings`), the lock released."""
    args = build_parser().parse_args(argv)
    if getattr(args, "workers", 1) < 1:
        print("minutes: --workers must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    writes_bytecode = sys.dont_write_bytecode
    sys.dont_write_bytecode = True  # the modules a command imports write nothing into the install folder
    try:
        with signals_as_exceptions():
            return args.func(args)
    except (KeyboardInterrupt, Terminated, OSError) as exc:  # `ending` says which are no bugs; the rest re-raised
        return _ended(exc, getattr(args, "out", None))
    finally:
        sys.dont_write_bytecode = writes_bytecode


def _ended(exc: BaseException, out: Path | None) -> int:
    found = ending(exc, out)
    if found is None:
        raise exc
    code, line = found
    print(f"\nminutes: {line}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
