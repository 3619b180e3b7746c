"""Score the pipeline on documents in styles nobody wrote rules for: generate, ingest, score by axis.

usage: python benchmarks/eval_styles.py [--seeds 1001-1005] [--count 60] [--out .eval-styles] [--workers 2]

The generator (`../shared/corpus/stylegen/generate.py`) draws each document from 57 style axes and
writes its gold beside it; the shared scorer (`../shared/corpus/score.py`) gives the overall line
and `by_axis.py` the score per axis value, worst first. `make eval-styles` runs this; the suite's
own fixed set is `tests/fixtures/stylegen` (tests/test_stylegen.py). Needs the fonts the generator
names (`make style-fonts`).
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
STYLEGEN = CORPUS / "stylegen"
BIN = Path(sys.executable).parent


def seeds(spec: str) -> list[int]:
    """'1001-1005' or '1,2,7' (or a mix) as a list of seeds."""
    out: list[int] = []
    for part in spec.split(","):
        first, _, last = part.partition("-")
        out += list(range(int(first), int(last or first) + 1))
    return out


def run(cmd: list[str | Path]) -> None:
    print("$", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], check=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="1001-1005", help="seeds to generate, e.g. 1001-1005 or 7,9 (default 1001-1005)")
    parser.add_argument("--count", type=int, default=60, help="documents per seed (default 60)")
    parser.add_argument("--out", type=Path, default=ROOT / ".eval-styles", help="work folder (default .eval-styles)")
    parser.add_argument("--workers", type=int, default=2, help="ingest workers (default 2)")
    parser.add_argument("--min-n", default="5", help="by_axis: hide axis values with fewer documents (default 5)")
    args = parser.parse_args(argv)
    if not (STYLEGEN / "generate.py").exists():
        print(f"eval-styles: the generator is not at {STYLEGEN}; this evaluation needs the shared corpus "
              "checked out beside the project (../shared/corpus)", file=sys.stderr)
        return 2
    gen, pred = args.out / "gen", args.out / "out"
    shutil.rmtree(args.out, ignore_errors=True)
    for seed in seeds(args.seeds):
        run([sys.executable, STYLEGEN / "generate.py", "--seed", str(seed), "--count", str(args.count),
             "--out", gen / f"s{seed}", "--jobs", str(args.workers)])
    run([BIN / "minutes", "ingest", gen, "--out", pred, "--quiet", "--workers", str(args.workers)])
    run([sys.executable, STYLEGEN / "by_axis.py", pred, gen, "--min-n", args.min_n])
    return 0


if __name__ == "__main__":
    sys.exit(main())
