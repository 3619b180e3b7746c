"""Kills at random moments: does every stopped run, run again, give an uninterrupted run's tables?

    .venv/bin/python benchmarks/kills.py [--kills 12] [--seed 15]

A corpus of 40 dev texts (each made unique) and 4 dev PDFs is ingested once without a stop (the
reference). Then, `--kills` times, a fresh output is ingested (`--flush-every 3`) and stopped by
SIGKILL, SIGTERM or SIGINT (in turn) after a random delay drawn between the start and the end of
an uninterrupted run; the same command is run again, and every table is compared row for row
with the reference (times aside). A stop that came after the run had ended counts apart. Exit
code 0 when every stopped run was completed to the reference's tables.
"""
from __future__ import annotations

import argparse
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT / "tests" / "fixtures" / "corpus" / "dev"
MINUTES = [str(Path(sys.executable).parent / "minutes"), "ingest"]
VOLATILE = ("processed_at", "seconds", "failed_at")


def corpus(src: Path) -> None:
    src.mkdir()
    texts = sorted(DEV.glob("*.txt"))
    for i in range(40):
        (src / f"{i:03d}_{texts[i % len(texts)].name}").write_bytes(texts[i % len(texts)].read_bytes()
                                                                    + f"\n\n# kopio {i}\n".encode())
    for pdf in sorted(DEV.glob("*.pdf"))[:4]:
        shutil.copy(pdf, src / pdf.name)


def tables(out: Path) -> dict[str, list[str]]:
    found = {}
    for folder in sorted(p for p in out.iterdir() if p.is_dir() and not p.name.startswith(".")):
        table = pq.read_table(folder)
        table = table.drop_columns([c for c in VOLATILE if c in table.column_names])
        found[folder.name] = sorted(map(repr, table.to_pylist()))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=12)
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="minutes-kills-") as tmp:
        src = Path(tmp) / "src"
        corpus(src)
        started = time.perf_counter()
        subprocess.run([*MINUTES, str(src), "--out", str(Path(tmp) / "reference"), "--quiet"], check=True,
                       stdout=subprocess.DEVNULL)
        whole = time.perf_counter() - started
        want = tables(Path(tmp) / "reference")
        signals = (signal.SIGKILL, signal.SIGTERM, signal.SIGINT)
        survived = late = 0
        codes: dict[str, int] = {}
        for k in range(args.kills):
            out = Path(tmp) / f"out{k}"
            sig = signals[k % len(signals)]
            run = subprocess.Popen([*MINUTES, str(src), "--out", str(out), "--quiet", "--flush-every", "3"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.3, whole))
            if run.poll() is not None:
                late += 1
            run.send_signal(sig)
            run.wait()
            codes[f"{sig.name} -> {run.returncode}"] = codes.get(f"{sig.name} -> {run.returncode}", 0) + 1
            again = subprocess.run([*MINUTES, str(src), "--out", str(out), "--quiet"], stdout=subprocess.DEVNULL)
            ok = again.returncode == 0 and tables(out) == want and not (out / ".lock").exists()
            survived += ok
            print(f"kill {k + 1}: {sig.name}, exit {run.returncode}; rerun {'identical' if ok else 'DIFFERENT'}",
                  flush=True)
    print(f"{survived} of {args.kills} stopped runs completed to the uninterrupted run's tables "
          f"({late} stop(s) came after the run had ended); exit codes: {codes}; whole run {whole:.1f} s")
    return 0 if survived == args.kills else 1


if __name__ == "__main__":
    sys.exit(main())
