"""One benchmark run: pdfplumber alone, pdftotext alone and `minutes ingest` end to end, same corpus.

    python benchmarks/run.py [--corpus DIR] [--repeat 3] [--engine pypdfium2]

Generates the corpus (benchmarks/generate.py, ≥ 500 pages) when DIR has none, then times, in
one run and `--repeat` times each (medians printed):

- pdfplumber `extract_text` on every page, in this process (its import not counted);
- poppler's `pdftotext` on every file, one process per file (skipped when it is not installed);
- `minutes ingest` end to end as a command into a fresh output folder, with 1 and with 2
  workers: wall time of the whole command, nothing subtracted;
- `minutes ingest` of a one-page document: the fixed cost of a run (start-up, imports, tables).

Peak memory is the largest resident set of any process of the command (wait4), and per process
from /proc (VmHWM) sampled while it runs. Numbers on a shared machine are noisy: compare the
ratios, which come from the same run, more than the absolute figures.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from benchmarks.generate import generate, one_page  # noqa: E402


@dataclass
class Run:
    seconds: float
    cpu: float  # user + system seconds of the command and all its processes
    peak_kb: int  # largest resident set of any process of the command (wait4)
    per_process_kb: dict[int, int] = field(default_factory=dict)  # pid -> VmHWM seen
    output: str = ""


def _descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            children = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except OSError:
            continue
        for c in children:
            out.append(int(c))
            todo.append(int(c))
    return out


def _hwm_kb(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def run_command(cmd: list[str]) -> Run:
    """Wall time and memory of one command; fails loudly when the command fails."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen: dict[int, int] = {}
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            for pid in [proc.pid, *_descendants(proc.pid)]:
                kb = _hwm_kb(pid)
                if kb:
                    seen[pid] = max(seen.get(pid, 0), kb)
            done.wait(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"benchmark: {' '.join(cmd)} failed ({proc.returncode}):\n{output}")
    return Run(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, seen, output)


def minutes_command() -> list[str]:
    exe = Path(sys.executable).with_name("minutes")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "pipeline.cli"]


def time_ingest(src: Path, workers: int, engine: str, scratch: Path) -> Run:
    out = Path(tempfile.mkdtemp(prefix="out-", dir=scratch))
    try:
        return run_command([*minutes_command(), "ingest", str(src), "--out", str(out), "--quiet",
                            "--workers", str(workers), "--engine", engine])
    finally:
        shutil.rmtree(out, ignore_errors=True)


def time_pdfplumber(pdfs: list[Path]) -> tuple[float, float]:
    """(wall, CPU) seconds of pdfplumber's extract_text on every page, pages closed after use."""
    import pdfplumber

    started, cpu = time.perf_counter(), time.process_time()
    for path in pdfs:
        with pdfplumber.open(path) as pdf:
            for page in pdf.pages:
                page.extract_text()
                page.close()
    return time.perf_counter() - started, time.process_time() - cpu


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_pdftotext(pdfs: list[Path]) -> tuple[float, float] | None:
    """(wall, CPU) seconds of pdftotext on every file, one process per file; None when not installed."""
    exe = shutil.which("pdftotext")
    if exe is None:
        return None
    started, cpu = time.perf_counter(), _children_cpu()
    for path in pdfs:
        subprocess.run([exe, "-q", str(path), "-"], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started, _children_cpu() - cpu


def decisions_found(src: Path, engine: str, scratch: Path) -> int:
    """Decisions of one ingest run: a check that the timed runs extracted what the corpus holds."""
    import pyarrow.parquet as pq

    out = Path(tempfile.mkdtemp(prefix="check-", dir=scratch))
    try:
        run_command([*minutes_command(), "ingest", str(src), "--out", str(out), "--quiet", "--engine", engine])
        return pq.read_table(out / "decisions").num_rows
    finally:
        shutil.rmtree(out, ignore_errors=True)


def _mb(kb: float) -> str:
    return f"{kb / 1024:.0f} MB"


def _med(values: list[float]) -> float:
    return statistics.median(values)


def report(pages: int, plumber: list[tuple[float, float]], pdftotext: list[tuple[float, float]],
           ingest: dict[int, list[Run]], startup: list[Run]) -> None:
    """Medians, pages per second (wall clock and CPU), the ratios the targets are stated in, memory."""
    wall = {"pdfplumber": _med([w for w, _ in plumber]), "1w": _med([r.seconds for r in ingest[1]]),
            "2w": _med([r.seconds for r in ingest[2]])}
    cpu = {"pdfplumber": _med([c for _, c in plumber]), "1w": _med([r.cpu for r in ingest[1]]),
           "2w": _med([r.cpu for r in ingest[2]])}
    if pdftotext:
        wall["pdftotext"], cpu["pdftotext"] = _med([w for w, _ in pdftotext]), _med([c for _, c in pdftotext])
    fixed, fixed_cpu = _med([r.seconds for r in startup]), _med([r.cpu for r in startup])
    steady = {k: wall[k] - fixed for k in ("1w", "2w")}

    def row(label: str, seconds: float, workers: int = 1) -> str:
        rate = pages / seconds
        return f"{label:36s}{seconds:9.2f}{rate:10.1f}{rate / workers:14.1f}"

    print()
    print(f"{'wall clock, medians':36s}{'seconds':>9s}{'pages/s':>10s}{'pages/s/core':>14s}")
    print(row("pdfplumber extract_text", wall["pdfplumber"]))
    print(row("pdftotext", wall["pdftotext"]) if pdftotext
          else "pdftotext: not installed (make system-deps), skipped")
    print(row("minutes ingest, 1 worker", wall["1w"]))
    print(row("minutes ingest, 2 workers", wall["2w"], 2))
    print(f"{'minutes ingest, one-page document':36s}{fixed:9.2f}   the fixed cost of a run")
    print(row("  1 worker, fixed cost taken off", steady["1w"]))
    print(row("  2 workers, fixed cost taken off", steady["2w"], 2))
    print()
    print(f"{'CPU time of all processes, medians':36s}{'seconds':>9s}{'pages/s':>10s}   (less disturbed by other load)")
    for key, label in (("pdfplumber", "pdfplumber extract_text"), ("pdftotext", "pdftotext"),
                       ("1w", "minutes ingest, 1 worker"), ("2w", "minutes ingest, 2 workers")):
        if key in cpu:
            print(f"{label:36s}{cpu[key]:9.2f}{pages / cpu[key]:10.1f}")
    print(f"{'minutes ingest, one-page document':36s}{fixed_cpu:9.2f}")
    print()
    print(f"{'ratios (same run)':46s}{'wall':>7s}{'steady':>8s}{'CPU':>7s}   target")
    print(f"{'  ingest 1 worker vs pdfplumber extract_text':46s}{wall['pdfplumber'] / wall['1w']:7.1f}"
          f"{wall['pdfplumber'] / steady['1w']:8.1f}{cpu['pdfplumber'] / cpu['1w']:7.1f}   >= 13x faster")
    if pdftotext:
        print(f"{'  ingest 1 worker vs pdftotext':46s}{wall['1w'] / wall['pdftotext']:7.1f}"
              f"{steady['1w'] / wall['pdftotext']:8.1f}{cpu['1w'] / cpu['pdftotext']:7.1f}   <= 5x slower")
    print(f"{'  ingest 2 workers vs 1 worker':46s}{wall['1w'] / wall['2w']:7.2f}{steady['1w'] / steady['2w']:8.2f}"
          f"{'':7s}   >= 1.8x faster")
    print("  steady = the ingest run minus the one-page run (the fixed cost)")
    print()
    print("peak memory (largest process of the command; median run):")
    for workers, runs in ingest.items():
        per = [sorted(r.per_process_kb.values(), reverse=True) for r in runs]
        detail = ", ".join(_mb(kb) for kb in per[len(per) // 2])
        print(f"  {workers} worker{'s' * (workers > 1)}: {_mb(_med([r.peak_kb for r in runs]))}   "
              f"(each process: {detail})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, help="folder of generated PDFs (made when it has none)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--engine", default="pypdfium2", choices=("pypdfium2", "pdfplumber"))
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="minutes-bench-"))
    corpus = args.corpus or scratch / "corpus"
    if not (corpus / "manifest.json").exists():
        generate(corpus)
    manifest = json.loads((corpus / "manifest.json").read_text(encoding="utf-8"))
    pdfs = sorted(corpus / f["file"] for f in manifest["files"])
    pages, items = manifest["pages"], sum(f["items"] for f in manifest["files"])
    single = scratch / "one"
    single.mkdir()
    one_page(single / "one.pdf")

    print(f"corpus: {len(pdfs)} PDFs, {pages} pages, {items} items ({corpus})")
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; engine {args.engine}; "
          f"{args.repeat} repetitions, medians")
    found = decisions_found(corpus, args.engine, scratch)
    print(f"check: minutes ingest found {found} decisions for {items} items")

    plumber: list[tuple[float, float]] = []
    pdftotext: list[tuple[float, float]] = []
    startup: list[Run] = []
    ingest: dict[int, list[Run]] = {1: [], 2: []}
    for rep in range(args.repeat):
        plumber.append(time_pdfplumber(pdfs))
        t = time_pdftotext(pdfs)
        if t is not None:
            pdftotext.append(t)
        for workers in (1, 2):
            ingest[workers].append(time_ingest(corpus, workers, args.engine, scratch))
        startup.append(time_ingest(single, 1, args.engine, scratch))
        print(f"  repetition {rep + 1}: pdfplumber {plumber[-1][0]:.2f} s, "
              + (f"pdftotext {pdftotext[-1][0]:.2f} s, " if pdftotext else "")
              + f"ingest 1 worker {ingest[1][-1].seconds:.2f} s, 2 workers {ingest[2][-1].seconds:.2f} s, "
              f"one page {startup[-1].seconds:.2f} s")
    report(pages, plumber, pdftotext, ingest, startup)
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
