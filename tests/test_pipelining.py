"""The batch keeps its workers busy: tasks sent ahead, workers started while planning, rows written as they come.

None of it may change what a batch writes or what a time limit means: outcomes stay in task
order, a task waiting behind one that hangs or crashes its worker is run (not blamed), each
task's time limit counts only its own run, started workers never outlive their batch, and a
`store.Batch` writes exactly what `Store.replace` writes.
"""
from __future__ import annotations

import os
import shutil
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline.incremental import plan_ingest
from pipeline.isolation import Limits, WorkerStartError, run_isolated, start_crew
from pipeline.run import discover, process_document, run_batch
from pipeline.store import STAGING, Batch, Store
from tests.conftest import DEV, output_rows
from tests.test_crash import _wait_gone, _workers

PRELOAD = (__name__,)
FILES = ("dev02_cloudnc_kh_vote_recusal.txt", "dev03_ahjo_kh_tabled.txt", "dev10_mojibake_cloudnc_noted.txt")


def pace(kind: str, value: int, seconds: float, on_stage: Callable[[str], None]) -> int:
    """A task for a worker: take `seconds`, then return `value` (or hang, or crash, as `kind` says)."""
    on_stage("extract")
    if kind == "hang":
        time.sleep(3600)
    elif kind == "segfault":
        os.kill(os.getpid(), signal.SIGSEGV)
    time.sleep(seconds)
    return value


def test_outcomes_keep_task_order_with_tasks_sent_ahead() -> None:
    # uneven durations: later tasks often finish first on the other worker
    tasks = [("ok", i, 0.05 * (i % 3)) for i in range(12)]
    outcomes = list(run_isolated(pace, tasks, workers=2, limits=Limits(timeout=60), preload=PRELOAD))
    assert [o.index for o in outcomes] == list(range(12))
    assert [o.value for o in outcomes] == list(range(12))


@pytest.mark.parametrize("kind, error_type", [("hang", "Timeout"), ("segfault", "WorkerDied")])
def test_a_task_waiting_behind_a_killed_one_runs_on_the_fresh_worker(kind: str, error_type: str) -> None:
    """With one worker the next task is already sent when the first hangs or crashes: it is not lost or blamed."""
    before = _workers()
    tasks = [(kind, 1, 0.0), ("ok", 2, 0.0), ("ok", 3, 0.0)]
    outcomes = list(run_isolated(pace, tasks, workers=1, limits=Limits(timeout=3.0), preload=PRELOAD))
    assert [o.error_type for o in outcomes] == [error_type, None, None]
    assert [o.value for o in outcomes[1:]] == [2, 3]
    assert not _wait_gone(_workers() - before)


def test_the_time_limit_counts_only_the_task_itself_not_its_wait_in_the_queue() -> None:
    """Two tasks of 2.5 s each under a 4 s limit, one worker: together 5 s, each within its own limit."""
    tasks = [("ok", 1, 2.5), ("ok", 2, 2.5)]
    outcomes = list(run_isolated(pace, tasks, workers=1, limits=Limits(timeout=4.0), preload=PRELOAD))
    assert [(o.error_type, o.value) for o in outcomes] == [(None, 1), (None, 2)]


def test_crew_workers_are_adopted_and_the_rest_killed() -> None:
    limits = Limits(timeout=60)
    with start_crew(limits, PRELOAD) as crew:
        crew.start(3)
        # the zygote's pid at once; its workers' pids once it has loaded the pipeline and forked them
        started = {crew.zygote.proc.pid}
        ends = time.monotonic() + 60.0
        while None in (forked := {w.proc.pid for w in crew.workers}) and time.monotonic() < ends:
            time.sleep(0.01)
        started |= forked
        assert len(started) == 4 and started <= _workers()
        outcomes = list(run_isolated(pace, [("ok", 7, 0.0)], workers=3, limits=limits, preload=PRELOAD, crew=crew))
        assert [o.value for o in outcomes] == [7]
        assert not crew.workers  # one adopted, two killed at once: a single task needs one worker
    assert not _wait_gone(started)


def test_crew_workers_die_when_the_batch_fails_before_using_them() -> None:
    before = _workers()
    with pytest.raises(LookupError), start_crew(Limits(), PRELOAD) as crew:
        crew.start(2)
        raise LookupError("planning failed")
    assert not _wait_gone(_workers() - before)


def test_a_crew_worker_that_cannot_start_stops_the_batch_with_a_reason() -> None:
    limits = Limits(max_memory_mb=64)
    with start_crew(limits, PRELOAD) as crew, pytest.raises(WorkerStartError, match="raise it"):
        crew.start(1)
        list(run_isolated(pace, [("ok", 1, 0.0)], workers=1, limits=limits, preload=PRELOAD, crew=crew))


def test_a_batch_with_nothing_to_do_starts_no_worker_and_leaves_none(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    for name in FILES:
        shutil.copy(DEV / name, src / name)
    run_batch(src, out, isolate=False)  # in this process: the extractor version is this process's (a shared tree)
    store = Store(out)
    hints: list[bool] = []
    plan = plan_ingest(src, discover(src), store, "pypdfium2", on_work=lambda: hints.append(True))
    assert not plan.work and not hints  # unchanged: the batch would start no worker
    before = _workers()
    summary = run_batch(src, out, workers=2)
    assert summary.skipped == len(FILES)
    assert not _wait_gone(_workers() - before)
    assert not (out / STAGING).exists() and not (out / ".lock").exists()


def test_planning_asks_for_workers_as_soon_as_a_file_needs_them(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    for name in FILES:
        shutil.copy(DEV / name, src / name)
    run_batch(src, out, isolate=False)
    shutil.copy(src / FILES[0], src / "copy_of_first.txt")  # a duplicate: no work
    hints: list[bool] = []
    assert not plan_ingest(src, discover(src), Store(out), "pypdfium2", on_work=lambda: hints.append(True)).work
    assert not hints
    (src / "new.txt").write_bytes((DEV / "dev04_ahjo_lautakunta_vastaehdotus.txt").read_bytes())
    plan = plan_ingest(src, discover(src), Store(out), "pypdfium2", on_work=lambda: hints.append(True))
    assert [w.source_path for w in plan.work] == ["new.txt"] and hints == [True]


def test_a_batch_written_early_writes_what_replace_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows added one document at a time (parts written early) equal one `Store.replace` of them all."""
    import pipeline.store

    monkeypatch.setattr(pipeline.store, "EARLY_DOCUMENTS", 2)
    names = sorted(p.name for p in DEV.glob("dev*.txt"))
    first, second = names[: len(names) // 2], names[len(names) // 2:]
    results = {n: process_document(DEV / n, DEV) for n in names}
    outs = {}
    for how in ("replace", "batch"):
        out = tmp_path / how
        store = Store(out)
        with store.lock():
            for group in (first, second + first[:2]):  # the second write replaces documents of the first
                rows = [results[n].rows for n in group]
                replaced = {"doc_id": {results[n].doc_id for n in group}, "source_path": set(group)}
                if how == "replace":
                    merged: dict[str, list[dict]] = {}
                    for r in rows:
                        for name, table_rows in r.items():
                            merged.setdefault(name, []).extend(table_rows)
                    store.replace(merged, replaced)
                else:
                    batch = Batch(store)
                    for r in rows:
                        batch.add(r)
                    assert batch.staged["documents"], "nothing was written early"
                    batch.commit(replaced)
                assert not (out / STAGING).exists()
        outs[how] = output_rows(out)
    assert outs["batch"] == outs["replace"]
    assert len(outs["batch"]["documents"]) == len(names)


def test_a_batch_made_during_a_commit_keeps_what_it_wrote_early(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A flush commits in a thread and results go on into a new batch, which writes parts early
    meanwhile. Here the first commit is held until the third document is in and written early by
    the second batch; the first commit's clean-up must leave that file alone, or the third
    document's rows are lost."""
    import threading

    import pipeline.store

    monkeypatch.setattr(pipeline.store, "EARLY_DOCUMENTS", 1)
    names = sorted(p.name for p in DEV.glob("dev*.txt"))[:4]
    commit = pipeline.store.Batch.commit
    release, done = threading.Event(), threading.Event()

    def held_commit(self: Batch, replaced: dict) -> None:
        if not done.is_set() and threading.current_thread() is not threading.main_thread():
            assert release.wait(60)
            commit(self, replaced)
            done.set()
        else:
            commit(self, replaced)

    def progress(result: object) -> None:
        seen.append(result)
        if len(seen) == 3 and threaded:  # the first commit (documents 1 and 2) is held until now
            assert list((out / STAGING).rglob("*.parquet")), "the third document was not written early"
            release.set()
            assert done.wait(60)

    outs = {}
    for how, flush_every in (("one_commit", 1000), ("threaded_commits", 2)):
        src, out = tmp_path / how / "src", tmp_path / how / "out"
        src.mkdir(parents=True)
        for i, name in enumerate(names):
            shutil.copy(DEV / name, src / f"{i}_{name}")
        seen: list[object] = []
        threaded = flush_every < len(names)
        monkeypatch.setattr(pipeline.store.Batch, "commit", held_commit)
        assert run_batch(src, out, flush_every=flush_every, progress=progress).ok == 4
        assert not (out / STAGING).exists()
        outs[how] = output_rows(out)
    assert done.is_set(), "the first commit was not made in a thread"
    assert outs["threaded_commits"] == outs["one_commit"]
    assert len(outs["one_commit"]["documents"]) == 4
