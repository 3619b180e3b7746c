"""`minutes ...`: the operators' door into the library.

Exit codes: 0 every document ok, 1 some documents failed (see the failures table), 2 usage error.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipeline.read import ENGINES

DEFAULT_SRC = Path("data/raw")
DEFAULT_OUT = Path("data/processed")


def _ingest(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from pipeline.run import discover, run_batch

    src: Path = args.src
    if not src.exists():
        print(f"minutes: input {src} does not exist; give a folder of .pdf/.txt minutes", file=sys.stderr)
        return 2
    total = len(discover(src))
    bar = tqdm(total=total, unit="doc", desc="ingest", disable=args.quiet or (None if total < 20 else False),
               file=sys.stderr, leave=False)

    def progress(result) -> None:  # noqa: ANN001 - a DocumentResult
        bar.update(1)
        bar.set_postfix_str(result.source_path[-40:], refresh=False)

    summary = run_batch(src, args.out, engine=args.engine, workers=args.workers, progress=progress)
    bar.close()
    print(f"minutes ingest {src} -> {args.out}")
    for line in summary.lines():
        print("  " + line)
    return 1 if summary.failed else 0


def _eval(args: argparse.Namespace) -> int:
    from pipeline.evaluate import evaluate, format_report

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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="minutes", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    ingest = sub.add_parser("ingest", help="read minutes (PDF/text) and write the Parquet tables")
    ingest.add_argument("src", nargs="?", type=Path, default=DEFAULT_SRC, help="file or folder (default data/raw)")
    ingest.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default data/processed)")
    ingest.add_argument("--engine", choices=ENGINES, default="pdfplumber", help="PDF reader")
    ingest.add_argument("--workers", type=int, default=1, help="documents processed in parallel processes")
    ingest.add_argument("--quiet", action="store_true", help="no progress bar")
    ingest.set_defaults(func=_ingest)

    ev = sub.add_parser("eval", help="score extracted tables against gold annotations (GOLD.md)")
    ev.add_argument("gold", type=Path, help="folder with NAME.gold.json beside each document")
    ev.add_argument("--pred", type=Path, default=DEFAULT_OUT, help="output folder of `minutes ingest`")
    ev.add_argument("--per-document", action="store_true", help="also list the errors of every document")
    ev.set_defaults(func=_eval)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "workers", 1) < 1:
        print("minutes: --workers must be at least 1", file=sys.stderr)
        return 2
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
