"""The zygote: workers forked from one loaded process keep every isolation guarantee.

`tests/test_crash.py` runs the failures (hang, segfault, memory, a killed batch) through forked
workers; these tests check what is the zygote's own: who is whose parent, that it forks with one
thread, and that a batch survives its zygote being killed from outside.
"""
from __future__ import annotations

import os
import shutil
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline.isolation import Limits, run_isolated
from pipeline.pool import Crew
from pipeline.run import _WORKER_PRELOAD, run_batch
from tests.conftest import DEV
from tests.test_crash import PRELOAD, _wait_gone, _workers


def pace(value: int, seconds: float, on_stage: Callable[[str], None]) -> int:
    on_stage("extract")
    time.sleep(seconds)
    return value


def _stat(pid: int) -> list[str]:
    """Fields of /proc/PID/stat after the command name: [state, ppid, pgrp, session, ...]."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _forked(crew: Crew, seconds: float = 60.0) -> list[int]:
    ends = time.monotonic() + seconds
    while None in (pids := [w.proc.pid for w in crew.workers]) and time.monotonic() < ends:
        time.sleep(0.01)
    assert None not in pids, "the zygote forked no worker within 60 s"
    return pids


def test_workers_are_the_zygotes_children_each_in_its_own_session() -> None:
    """With the batch's own preload, nothing has started a thread by the time the zygote forks."""
    with Crew(Limits(), _WORKER_PRELOAD) as crew:
        crew.start(2)
        zygote = crew.zygote.proc.pid
        workers = _forked(crew)
        assert _stat(zygote)[1] == str(os.getpid())
        for pid in workers:
            ends = time.monotonic() + 60.0  # the pid is known at fork; the child makes its session just after
            while _stat(pid)[3] != str(pid) and time.monotonic() < ends:
                time.sleep(0.01)
            _, ppid, pgrp, session = _stat(pid)[:4]
            assert ppid == str(zygote)
            assert pgrp == session == str(pid)  # killing its group kills what it started, nothing else
        assert len(os.listdir(f"/proc/{zygote}/task")) == 1, "the zygote must fork with a single thread"
    assert not _wait_gone({zygote, *workers})


def test_a_killed_zygote_costs_the_running_task_and_the_batch_goes_on() -> None:
    before = _workers()
    tasks = [(1, 0.0), (2, 3.0), (3, 0.0), (4, 0.0)]
    results = run_isolated(pace, tasks, workers=1, limits=Limits(timeout=60), preload=PRELOAD)
    outcomes = [next(results)]
    time.sleep(1.0)  # the worker is inside the 3-second task now
    zygotes = [p for p in _workers() - before if _stat(p)[1] == str(os.getpid())]
    assert len(zygotes) == 1
    os.kill(zygotes[0], signal.SIGKILL)
    outcomes += list(results)
    assert [o.value for o in outcomes] == [1, None, 3, 4]
    died = outcomes[1]
    # the zygote killed from outside takes its worker with it: a kill from outside, tried again next run
    assert died.error_type == "WorkerKilled" and "signal 9, SIGKILL" in died.reason and "extract stage" in died.reason
    assert not _wait_gone(_workers() - before)



def test_a_finished_run_lets_its_workers_exit_rather_than_killing_them() -> None:
    """Exit status 0, reaped by the zygote: their CPU time then counts in the batch's (wait4, getrusage)."""
    with Crew(Limits(), PRELOAD) as crew:
        crew.start(2)
        workers = list(crew.workers)
        outcomes = list(run_isolated(pace, [(1, 0.0), (2, 0.0), (3, 0.0)], workers=2, limits=Limits(),
                                     preload=PRELOAD, crew=crew))
    assert [o.value for o in outcomes] == [1, 2, 3]
    assert [w.proc.returncode for w in workers] == [0, 0]


def test_a_batch_ends_its_pool_gracefully(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`run_batch` reads one past the last result, so the pool's end is the graceful one."""
    import pipeline.pool

    ends: list[bool] = []
    close = pipeline.pool.Pool.close

    def spy(self: pipeline.pool.Pool, graceful: bool) -> None:
        ends.append(graceful)
        close(self, graceful)

    monkeypatch.setattr(pipeline.pool.Pool, "close", spy)
    src = tmp_path / "src"
    src.mkdir()
    for source in sorted(DEV.glob("*.txt"))[:3]:
        shutil.copy(source, src / source.name)
    summary = run_batch(src, tmp_path / "out", workers=2)
    assert summary.ok + summary.partial == 3
    assert ends == [True]


def unbuilt_extractor_parts(on_stage: Callable[[str], None]) -> list[str]:
    """In a worker: the extractor builders (matchers, tables of regexes) not yet built."""
    from extractors import base

    return [f"{b.__module__}.{b.__qualname__}" for b in base._BUILDERS if b.cache_info().currsize == 0]


def test_workers_are_forked_with_every_extractor_already_built() -> None:
    """The zygote builds the matchers once (`extractors.base.prepare`); no worker builds its own."""
    outcomes = list(run_isolated(unbuilt_extractor_parts, [()], workers=1, limits=Limits(), preload=_WORKER_PRELOAD))
    assert outcomes[0].reason is None, outcomes[0].reason
    assert outcomes[0].value == []
    bare = [m for m in _WORKER_PRELOAD if ":" not in m]  # the same test fails without the builder
    outcomes = list(run_isolated(unbuilt_extractor_parts, [()], workers=1, limits=Limits(), preload=bare))
    assert "extractors.dates._compiled" in outcomes[0].value
