"""Crash safety: workers that hang, crash or run out of memory, and a batch killed with SIGKILL.

The isolation tests run small functions of this module in real worker processes (the workers
import this module by name, as they import `pipeline.run` in a batch). The batch test kills
`python -m pipeline.cli ingest` midway, runs it again and compares every table with an
uninterrupted run; it also checks that the killed batch's workers die with it.
"""
from __future__ import annotations

import contextlib
import io
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from pipeline.cli import main
from pipeline.isolation import Limits, WorkerStartError, run_isolated
from tests.conftest import DEV

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 3.0  # seconds: the time limit of the isolation tests (a safety limit, not a measurement)
VOLATILE = ["processed_at", "seconds", "failed_at"]
# The workers import this module (for `behave`) before they take a task, so that no task's time
# limit pays for the import on a busy machine.
PRELOAD = (__name__,)


def behave(kind: str, value: int, on_stage: Callable[[str], None]) -> int:
    """A task for a worker: return `value`, or misbehave as `kind` says."""
    on_stage("extract")
    if kind == "hang":
        time.sleep(3600)
    elif kind == "segfault":
        os.kill(os.getpid(), signal.SIGSEGV)
    elif kind == "memory":
        return len(bytearray(4 << 30))  # 4 GiB, past the cap
    elif kind == "bug":
        raise LookupError(f"no rule for {value}")
    return value * 10


def _workers() -> set[int]:
    """Pids of live zygotes and workers of this machine (their command line names pipeline.zygote)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if b"pipeline.zygote" in cmdline and b"_zygote_main" in cmdline and state != "Z":
            found.add(int(entry.name))
    return found


def _wait_gone(pids: set[int], seconds: float = 20.0) -> set[int]:
    ends = time.monotonic() + seconds
    while pids & _workers() and time.monotonic() < ends:
        time.sleep(0.1)
    return pids & _workers()


# --------------------------------------------------------------------------- isolation


def test_each_failure_costs_only_its_own_task_and_order_is_kept() -> None:
    tasks = [("ok", 1), ("segfault", 2), ("ok", 3), ("hang", 4), ("ok", 5), ("memory", 6), ("bug", 7), ("ok", 8)]
    limits = Limits(timeout=LIMIT, max_memory_mb=1024)
    before = _workers()
    outcomes = list(run_isolated(behave, tasks, workers=2, limits=limits, preload=PRELOAD))
    assert [o.index for o in outcomes] == list(range(len(tasks)))
    assert [o.value for o in outcomes if o.reason is None] == [10, 30, 50, 80]
    segfault, hang, memory, bug = outcomes[1], outcomes[3], outcomes[5], outcomes[6]
    assert segfault.error_type == "WorkerDied" and "signal 11, SIGSEGV" in segfault.reason
    assert "at the extract stage" in segfault.reason and "--max-memory" in segfault.reason
    assert hang.error_type == "Timeout" and hang.stage == "extract"
    assert f"longer than {LIMIT:g} s" in hang.reason and "--timeout" in hang.reason
    assert memory.error_type == "MemoryError" and "more than the 1024 MB" in memory.reason
    assert bug.error_type == "LookupError" and "no rule for 7" in bug.reason and "please report" in bug.reason
    assert not _wait_gone(_workers() - before)  # every worker ended with the run


def test_a_single_worker_is_isolated_too() -> None:
    """--workers 1 still runs documents in a child: a hang there is stopped like any other."""
    outcomes = list(run_isolated(behave, [("hang", 1), ("ok", 2)], workers=1, limits=Limits(timeout=LIMIT),
                                 preload=PRELOAD))
    assert [o.error_type for o in outcomes] == ["Timeout", None]
    assert outcomes[1].value == 20


def test_leaving_early_kills_the_workers() -> None:
    before = _workers()
    results = run_isolated(behave, [("ok", 1)] + [("hang", 2)] * 3, workers=2, limits=Limits(timeout=600),
                           preload=PRELOAD)
    assert next(results).value == 10
    started = _workers() - before
    assert started
    results.close()  # e.g. Ctrl-C in the batch: the hanging workers go at once
    assert not _wait_gone(started, 5.0)


def test_workers_that_cannot_start_stop_the_batch_with_a_reason() -> None:
    with pytest.raises(WorkerStartError, match="raise it"):
        list(run_isolated(behave, [("ok", 1)], workers=1, limits=Limits(max_memory_mb=64), preload=PRELOAD))


def test_workers_that_cannot_load_the_pipeline_are_not_blamed_on_memory() -> None:
    """A preload that fails (as a broken pattern file makes `extractors.base:prepare` fail) under
    the default memory limit: the reason points at the worker's messages, not at --max-memory."""
    with pytest.raises(WorkerStartError, match="see the messages above") as failed:
        list(run_isolated(behave, [("ok", 1)], workers=1, limits=Limits(), preload=(*PRELOAD, "tests.no_such_module")))
    assert "--max-memory" not in str(failed.value)


def test_a_hanging_pdf_is_stopped_and_the_rest_is_written(tmp_path: Path) -> None:
    from tests.test_malformed import CATALOG, FONT, PAGES, TEXT, page, raw_pdf, stream

    src = tmp_path / "src"
    src.mkdir()
    (src / "a_loop.pdf").write_bytes(raw_pdf(CATALOG, PAGES, page(contents=6), stream(TEXT), FONT, b"7 0 R", b"6 0 R"))
    shutil.copy(DEV / "dev03_ahjo_kh_tabled.txt", src / "b_good.txt")
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        code = main(["ingest", str(src), "--out", str(tmp_path / "out"), "--quiet", "--engine", "pdfplumber",
                     "--timeout", str(LIMIT)])
    assert code == 1
    failures = pd.read_parquet(tmp_path / "out" / "failures")
    assert failures.source_path.tolist() == ["a_loop.pdf"]
    assert failures.error_type.tolist() == ["Timeout"] and failures.stage.tolist() == ["read"]
    assert len(pd.read_parquet(tmp_path / "out" / "decisions")) > 0
    assert "1 standing (1 from this run)" in stdout.getvalue()


# --------------------------------------------------------------------------- SIGKILL midway


def _corpus(src: Path, copies: int = 40) -> None:
    """`copies` different documents: dev texts with a unique comment line, and the dev PDFs."""
    texts = sorted(DEV.glob("*.txt"))
    for i in range(copies):
        source = texts[i % len(texts)]
        (src / f"{i:03d}_{source.name}").write_bytes(source.read_bytes() + f"\n\n# kopio {i}\n".encode())
    for pdf in sorted(DEV.glob("*.pdf"))[:4]:
        shutil.copy(pdf, src / pdf.name)


def _rows(frame: pd.DataFrame) -> list[tuple]:
    """A table as sorted rows, volatile columns dropped, arrays as tuples: comparable across runs."""
    def norm(value: object) -> object:
        if hasattr(value, "tolist"):
            value = value.tolist()
        if isinstance(value, list):
            return tuple(tuple(sorted(v.items())) if isinstance(v, dict) else v for v in value)
        if isinstance(value, float) and math.isnan(value):
            return None
        return value

    frame = frame.drop(columns=[c for c in VOLATILE if c in frame])
    return sorted((tuple(norm(v) for v in row) for row in frame.itertuples(index=False)), key=repr)


def _tables(out: Path) -> dict[str, list[tuple]]:
    return {table.name: _rows(pd.read_parquet(table)) for table in sorted(out.iterdir())
            if table.is_dir() and not table.name.startswith(".")}


def test_a_run_killed_midway_and_run_again_writes_what_an_uninterrupted_run_writes(tmp_path: Path) -> None:
    src, killed, reference = tmp_path / "src", tmp_path / "killed", tmp_path / "reference"
    src.mkdir()
    _corpus(src)
    before = _workers()
    run = subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", "ingest", str(src), "--out", str(killed), "--quiet",
         "--flush-every", "3"], cwd=ROOT, stdout=subprocess.DEVNULL)
    try:
        ends = time.monotonic() + 120  # safety limit only
        shards = killed / "documents"
        while not any(p.name != "part-empty.parquet" for p in shards.glob("part-*.parquet")):
            assert run.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < ends, "no documents were written within 120 s"
            time.sleep(0.05)
        time.sleep(0.3)  # past the first write: the kill lands among the next ones
        workers = _workers() - before
        assert run.poll() is None, "the run ended before it could be killed"
        run.send_signal(signal.SIGKILL)
        run.wait(timeout=30)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    assert workers, "the run had no worker processes"
    assert not _wait_gone(workers), "workers outlived their killed batch"
    written = len(pd.read_parquet(killed / "documents"))
    assert 0 < written < 44, f"not midway: {written} documents written before the kill"

    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["ingest", str(src), "--out", str(killed), "--quiet"]) == 0
        assert main(["ingest", str(src), "--out", str(reference), "--quiet"]) == 0
    assert not list(killed.glob("*/.tmp-*")), "temporary files of the killed run were left"
    got, want = _tables(killed), _tables(reference)
    assert set(got) == set(want)
    for name in want:
        assert got[name] == want[name], f"{name} differs after the kill and re-run"
    assert len(want["documents"]) == 44
