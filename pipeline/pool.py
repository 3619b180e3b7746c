"""The batch side of `pipeline.isolation`: the worker processes, what each is running, the order.

Read `pipeline.isolation` first (why workers, limits and order are as they are). What this module
adds to keep the workers busy while the batch collects and writes:

- A worker holds up to `_AHEAD` tasks: the one it runs and the next, so that it never waits for
  the batch to read its last result before it may start again. The time limit of a task runs from
  the moment the batch sees the task before it finish (the worker starts the next one at once, so
  the limit never counts less than the task's own time), never while it waits behind another
  task. A task waiting behind one that is stopped or kills its worker goes back to the queue,
  untouched.
- Results go through a pipe enlarged to `_RESULT_PIPE_BYTES` (where Linux allows it), so a worker
  hands over a typical document's rows without waiting for the batch to read them.
- Workers are forked from a zygote (`pipeline.zygote`) that imports the pipeline once: ~0.8 s of
  CPU for the first worker, milliseconds for each further one and for each replacement.
- A `Crew` starts the zygote and asks for workers before the batch is planned (the import
  overlaps the planning); the batch adopts them or, when nothing is to be done, kills them at
  once. They are ordinary workers: limited, killed with the batch, replaced when they die.
"""
from __future__ import annotations

import fcntl
import os
import subprocess
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.connection import Connection, wait
from typing import Any

from pipeline.isolation import (
    _CLOSE_GRACE, _REORDER_WINDOW, _START_TIMEOUT, MIN_MEMORY_MB, Limits, Outcome, WorkerStartError, died_reason,
    killed_from_outside, timeout_reason,
)
from pipeline.zygote import Zygote

_AHEAD = 2  # tasks a worker holds: the running one and the next
_RESULT_PIPE_BYTES = 1 << 20  # Linux's default pipe-max-size; a larger request is refused, then 64 KiB stays


class _Worker:
    """One worker process and the tasks sent to it, oldest (the running one) first."""

    def __init__(self, zygote: Zygote) -> None:
        task_r, task_w = os.pipe()
        result_r, result_w = os.pipe()
        _enlarge(result_w)
        try:
            self.proc = zygote.fork(task_r, result_w)
        except BaseException:
            os.close(task_w)
            os.close(result_r)
            raise
        finally:
            os.close(task_r)
            os.close(result_w)
        self.tasks = Connection(task_w, readable=False)
        self.results = Connection(result_r, writable=False)
        self.ready = False
        self.retiring = False  # said it will exit: gets no more tasks
        self.started = time.monotonic()
        self.queue: deque[int] = deque()  # tasks sent and not finished; the first is running (or about to)
        self.stage = "start"
        self.deadline = 0.0

    def run(self, index: int, fn: Callable[..., Any], args: tuple, timeout: float) -> None:
        self.tasks.send((index, fn, args))
        if not self.queue:  # runs at once: its time counts from now
            self.stage, self.deadline = "start", time.monotonic() + timeout
        self.queue.append(index)

    def finished(self, index: int, timeout: float) -> None:
        """The running task is done; the next one (if any) starts now at the latest."""
        if self.queue and self.queue[0] == index:
            self.queue.popleft()
        if self.queue:
            self.stage, self.deadline = "start", time.monotonic() + timeout

    def kill(self) -> int | None:
        """SIGKILL the worker and whatever it started; its exit code (negative: the signal)."""
        self.proc.kill_group()
        code = self.proc.wait()
        self.close_pipes()
        return code

    def discard(self) -> None:
        """End an unused worker without waiting for it (one still to be forked exits on its closed pipe)."""
        self.proc.kill_group(wait_for_fork=False)
        self.close_pipes()

    def close_pipes(self) -> None:
        self.tasks.close()
        self.results.close()


def _enlarge(fd: int) -> None:
    """Make a result pipe hold a whole typical result, so a worker does not wait for the batch to read it."""
    if hasattr(fcntl, "F_SETPIPE_SZ"):
        try:
            fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, _RESULT_PIPE_BYTES)
        except OSError:  # above this system's pipe-max-size or the user's pipe quota: the default still works
            pass


class Crew:
    """Workers started before their batch knows its tasks, so their start-up overlaps the planning.

    Use it as a context manager: whatever the batch did not adopt is killed on leaving, also when
    planning fails.
    """

    def __init__(self, limits: Limits, preload: Sequence[str]) -> None:
        self.limits, self.preload = limits, tuple(preload)
        self.zygote: Zygote | None = None
        self.workers: list[_Worker] = []

    def start(self, count: int) -> None:
        """Start the zygote and ask it for `count` workers, once; later calls do nothing."""
        if self.zygote is None:
            self.zygote = Zygote(self.limits.max_memory_mb, self.preload)
            for _ in range(count):
                self.workers.append(_Worker(self.zygote))

    def take(self, count: int, limits: Limits, preload: Sequence[str]) -> tuple[Zygote | None, list[_Worker]]:
        """The zygote and up to `count` workers, if started for these limits and modules; the rest are killed now."""
        fits = self.limits == limits and self.preload == tuple(preload)
        taken = self.workers[:count] if fits else []
        zygote = self.zygote if taken else None
        self.workers = self.workers[len(taken):]
        if taken:
            self.zygote = None
        self.close()
        return zygote, taken

    def close(self) -> None:
        """Kill every worker not taken, and the zygote if nobody took it (at once: loading only costs CPU)."""
        while self.workers:
            self.workers.pop().discard()
        if self.zygote is not None:
            self.zygote.close()

    def __enter__(self) -> Crew:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Pool:
    """The workers of one `run_isolated` call and the tasks' way through them."""

    def __init__(self, fn: Callable[..., Any], tasks: Sequence[tuple], size: int, limits: Limits,
                 preload: Sequence[str], crew: Crew | None = None) -> None:
        self.fn, self.tasks, self.limits, self.preload = fn, tasks, limits, preload
        self.pending = deque(range(len(tasks)))
        self.done: dict[int, Outcome] = {}
        size = max(1, min(size, len(tasks)))
        zygote, self.workers = crew.take(size, limits, preload) if crew is not None else (None, [])
        self.zygote = zygote or Zygote(limits.max_memory_mb, preload)
        try:
            while len(self.workers) < size:
                self.workers.append(self._new_worker())
        except OSError:
            self.close(graceful=False)
            raise

    def _new_worker(self) -> _Worker:
        """A worker from the zygote; a zygote that died (killed from outside) is started again first."""
        if self.zygote.gone or self.zygote.proc.poll() is not None:
            self.zygote.close()
            self.zygote = Zygote(self.limits.max_memory_mb, self.preload)
        return _Worker(self.zygote)

    def outcomes(self) -> Iterator[Outcome]:
        following = 0
        while following < len(self.tasks):
            self._dispatch(following)
            self._wait()
            self._enforce_deadlines()
            while following in self.done:
                yield self.done.pop(following)
                following += 1

    def _dispatch(self, following: int) -> None:
        """Give idle workers a task, then (while enough remain for every worker) each a next one."""
        for depth in range(_AHEAD):
            for w in list(self.workers):
                if (not w.ready or w.retiring or len(w.queue) != depth or not self.pending
                        or self.pending[0] >= following + _REORDER_WINDOW
                        or (depth and len(self.pending) < len(self.workers))):
                    continue
                i = self.pending.popleft()
                try:
                    w.run(i, self.fn, self.tasks[i], self.limits.timeout)
                except OSError:  # the worker is gone or going: this task never reached it, so it goes back
                    self._requeue([i])
                    self._drain(w)

    def _drain(self, w: _Worker) -> None:
        """A worker that took no more tasks: read what it said before it went, then replace it.

        A worker retires after a MemoryError: it sends that task's result and exits, and may be
        gone before the batch has read the result. Replacing it unread would call that task died.
        """
        try:
            w.proc.wait(timeout=_CLOSE_GRACE)
        except subprocess.TimeoutExpired:
            pass
        self._receive(w)  # at the end of its pipe it is replaced
        if w in self.workers:
            self._replace(w, died=True)

    def _wait(self) -> None:
        now = time.monotonic()
        deadlines = [w.deadline if w.ready else w.started + _START_TIMEOUT for w in self.workers
                     if w.queue or not w.ready]
        timeout = max(0.0, min(deadlines) - now) if deadlines else None
        by_conn: dict[Any, _Worker | None] = {w.results: w for w in self.workers}
        if not self.zygote.gone:  # its reports are read as they come: its socket never fills
            by_conn[self.zygote] = None
        for conn in wait(list(by_conn), timeout):
            w = by_conn[conn]
            if w is None:
                self.zygote.read()
            else:
                self._receive(w)

    def _receive(self, w: _Worker) -> None:
        """Read everything the worker has said; a closed pipe means the worker is gone."""
        try:
            while w.results.poll():
                msg = w.results.recv()
                if msg[0] == "ready":
                    w.ready = True
                elif msg[0] == "stage":
                    w.stage = msg[2]
                elif msg[0] == "done":
                    self.done[msg[1]] = Outcome(msg[1], value=msg[2], stage=w.stage)
                    w.finished(msg[1], self.limits.timeout)
                elif msg[0] == "failed":
                    _, index, stage, reason, error_type, w.retiring = msg
                    self.done[index] = Outcome(index, stage=stage, reason=reason, error_type=error_type)
                    w.finished(index, self.limits.timeout)
                    if w.retiring:  # it exits without taking the tasks waiting for it
                        self._requeue(w.queue)
                        w.queue.clear()
        except (EOFError, OSError):
            self._replace(w, died=True)

    def _enforce_deadlines(self) -> None:
        now = time.monotonic()
        for w in list(self.workers):
            if w.queue and now >= w.deadline and not w.results.poll():
                index, stage = w.queue[0], w.stage
                self._replace(w, died=False)
                self.done[index] = Outcome(index, stage=stage, reason=timeout_reason(self.limits, _stage(stage)),
                                           error_type="Timeout")
            elif not w.ready and now >= w.started + _START_TIMEOUT:
                self._start_failed(w, f"did not start within {_START_TIMEOUT:g} s")

    def _replace(self, w: _Worker, died: bool) -> None:
        """Kill `w` and start a fresh worker; the task it ran is the caller's (or, if it died, failed)."""
        index, stage = (w.queue[0] if w.queue else None), w.stage
        self._requeue(list(w.queue)[1:])  # waiting behind the task that ended the worker: never started
        w.queue.clear()
        code = w.kill()
        if died and not w.ready:
            self._start_failed(w, f"exited with status {code}")
        if died and index is not None:
            self.done[index] = Outcome(index, stage=stage, reason=died_reason(code, _stage(stage), self.limits),
                                       error_type="WorkerKilled" if killed_from_outside(code) else "WorkerDied")
        self.workers[self.workers.index(w)] = self._new_worker()

    def _requeue(self, indices: Sequence[int] | deque[int]) -> None:
        if indices:
            self.pending = deque(sorted([*indices, *self.pending]))

    def _start_failed(self, w: _Worker, what: str) -> None:
        """Stop the batch: no worker can start. The memory hint only where the limit could be why
        (a pattern file that does not load stops every worker too, whatever the limit)."""
        w.kill()
        limit = self.limits.max_memory_mb
        hint = (f"; if --max-memory ({limit} MB) is small, raise it: a worker needs ~{MIN_MEMORY_MB} MB just to "
                "load the pipeline") if limit and limit < 2 * MIN_MEMORY_MB else ""
        raise WorkerStartError(f"a worker process {what} before it could take a document (see the messages above){hint}")

    def close(self, graceful: bool) -> None:
        """End every worker: idle ones by closing their pipe, the rest (or all, after an error) by SIGKILL."""
        if graceful:
            for w in self.workers:
                w.tasks.close()
            ends = time.monotonic() + _CLOSE_GRACE
            for w in self.workers:
                try:
                    w.proc.wait(timeout=max(0.0, ends - time.monotonic()))
                except subprocess.TimeoutExpired:
                    pass
        else:  # an error, or the caller stopped early: no exit status is needed, only that all go now
            for w in self.workers:
                w.proc.kill_group(wait_for_fork=False)
            self.zygote.close()  # first: the waits below then never wait for a fork
        for w in self.workers:
            w.kill()
        if graceful:
            self.zygote.close(graceful=True)


def _stage(stage: str) -> str:
    """A task that never reported a stage was still opening its file."""
    return "read" if stage == "start" else stage
