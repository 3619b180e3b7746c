"""Cold run, warm re-run and re-extraction over a generated corpus of 500+ PDF pages.

    .venv/bin/python benchmarks/incremental.py [--pages 520] [--repeat 3] [--corpus DIR] [--engine E]

Target (issue 5): a warm re-run over the unchanged corpus takes at most 3 % of the cold run.
Each repeat starts from an empty output folder and times, in this one process:

- cold: `run_batch` reads, extracts and writes every document;
- warm: `run_batch` again over the unchanged files (hash, compare, skip);
- re-extract: the stored `extractor_version` is set to an older value, as after a rule change,
  and `run_batch` extracts every document again from its stored pages (no PDF is read).

Medians over the repeats; the ratios are against the cold median of the same run. The warm
command's wall time (`minutes ingest`, process start and imports included) is printed too,
for what an operator sees; the target is about the library run, whose cost grows with the
corpus. Exit code 0 when the target is met, 1 when not.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from generate import generate  # noqa: E402 - benchmarks/generate.py, beside this file

from pipeline.read import DEFAULT_ENGINE, ENGINES  # noqa: E402
from pipeline.run import run_batch  # noqa: E402

TARGET = 0.03


def _timed(fn, *args, **kwargs) -> tuple[float, object]:  # noqa: ANN001 - any callable
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - started, result


def age_extractor_version(out: Path) -> None:
    """Make the output look as if older rules had produced it."""
    for part in (out / "documents").glob("part-*.parquet"):
        table = pq.read_table(part)
        i = table.schema.get_field_index("extractor_version")
        field = table.schema.field(i)
        table = table.set_column(i, field, pa.array(["0.0.0+older"] * table.num_rows, field.type))
        pq.write_table(table, part)


def command_seconds(src: Path, out: Path, engine: str) -> float:
    started = time.perf_counter()
    subprocess.run([str(Path(sys.executable).parent / "minutes"), "ingest", str(src), "--out", str(out), "--quiet",
                    "--engine", engine], check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=520, help="at least this many pages in the corpus")
    parser.add_argument("--repeat", type=int, default=3, help="cold/warm/re-extract rounds (medians are reported)")
    parser.add_argument("--corpus", type=Path, help="use (or create) the corpus here instead of a temporary folder")
    parser.add_argument("--engine", choices=ENGINES, default=DEFAULT_ENGINE, help="PDF reader (default as minutes)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="minutes-bench-") as tmp:
        src = args.corpus or Path(tmp) / "corpus"
        if not any(src.glob("*.pdf")):
            manifest = generate(src, min_pages=args.pages)
            print(f"corpus: {manifest['documents']} PDFs, {manifest['pages']} pages (generated in {src})")
        else:
            print(f"corpus: {len(list(src.glob('*.pdf')))} PDFs in {src}")
        print(f"engine: {args.engine}")
        cold, warm, again, command = [], [], [], []
        for r in range(args.repeat):
            out = Path(tmp) / f"out-{r}"
            seconds, summary = _timed(run_batch, src, out, args.engine)
            assert summary.failed == 0 and summary.skipped == 0, summary
            cold.append(seconds)
            seconds, summary = _timed(run_batch, src, out, args.engine)
            assert summary.skipped == summary.documents and summary.ok + summary.partial == 0, summary
            warm.append(seconds)
            command.append(command_seconds(src, out, args.engine))
            age_extractor_version(out)
            seconds, summary = _timed(run_batch, src, out, args.engine)
            assert summary.from_pages == summary.documents, summary
            again.append(seconds)
            print(f"round {r + 1}: cold {cold[-1]:.2f} s, warm {warm[-1]:.3f} s, re-extract {again[-1]:.2f} s, "
                  f"warm command {command[-1]:.2f} s")

    c, w, a, m = (statistics.median(x) for x in (cold, warm, again, command))
    print(f"cold        {c:8.2f} s (median of {args.repeat})")
    print(f"warm        {w:8.3f} s   ratio {w / c:6.2%} of cold (target <= {TARGET:.0%})")
    print(f"re-extract  {a:8.2f} s   ratio {a / c:6.2%} of cold (stored pages, no PDF read)")
    print(f"warm command {m:7.2f} s   (`minutes ingest`, process start and imports included)")
    met = w / c <= TARGET
    print("target met" if met else "target NOT met")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
