"""Every document in a worker process under a time limit and a memory cap.

Archives hold files that hang a reader (a PDF whose objects refer to each other in a loop),
exhaust memory (a compression bomb) or crash it (a segfault in pdfium). Python can stop neither
C code nor a thread, so each document runs in a worker process that the batch can kill: a
document that runs past its time limit, needs more memory than its cap or kills its worker
becomes an `Outcome` with a reason, and the batch goes on with a fresh worker.

Why it is built this way:
- A pool of long-lived workers, not a process per document: starting one (Python, spaCy,
  pdfplumber, the matchers) costs ~1.5 s, a typical document ~0.15 s. A worker is replaced
  only when it was killed or died.
- Workers are plain `python -c` subprocesses exchanging pickled messages over two private pipes,
  not multiprocessing's start methods: fork can deadlock the child of a threaded parent (Prefect
  runs the batch in a thread), spawn re-imports the caller's `__main__` (a Prefect flow, pytest)
  in every worker, and forkserver's workers outlive a batch killed with SIGKILL. File names
  travel inside the pickles, never on a command line or through a shell.
- The memory cap is RLIMIT_AS, set by the worker on itself: an allocation past it raises
  MemoryError in Python code, or kills the worker in C code; both become a reason naming
  --max-memory. A worker dies with the batch (PR_SET_PDEATHSIG) and never writes a core file.
- Outcomes come back in task order (within a bounded window), so what a batch writes does not
  depend on which worker happened to be faster.
"""
from __future__ import annotations

import ctypes
import json
import os
import resource
import signal
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.reduction import ForkingPickler
from typing import Any

DEFAULT_TIMEOUT = 120.0
DEFAULT_MAX_MEMORY_MB = 2048
DEFAULT_MAX_TEXT_MB = 20.0
MIN_MEMORY_MB = 768
"""Below this a worker cannot even import spaCy and pdfplumber (~470 MB of address space)."""

_REORDER_WINDOW = 256   # tasks that may finish ahead of the oldest unfinished one
_START_TIMEOUT = 180.0  # seconds a new worker may take to import the pipeline on a busy machine
_CLOSE_GRACE = 5.0      # seconds idle workers get to exit on their own at the end
_PR_SET_PDEATHSIG = 1   # linux/prctl.h
_BOOT = ("import sys, json; sys.path[:] = json.loads(sys.argv[1]); "
         "from pipeline.isolation import _worker_main; _worker_main(json.loads(sys.argv[2]), *map(int, sys.argv[3:]))")


@dataclass(frozen=True)
class Limits:
    """What one document may cost; each limit has a command-line option of the same meaning."""

    timeout: float = DEFAULT_TIMEOUT            # --timeout: wall-clock seconds per document
    max_memory_mb: int = DEFAULT_MAX_MEMORY_MB  # --max-memory: address space of a worker
    max_text_mb: float = DEFAULT_MAX_TEXT_MB    # --max-text-mb: larger text files are refused unread


@dataclass
class Outcome:
    """What came of one task: the function's value, or the reason there is none."""

    index: int
    value: Any = None
    stage: str | None = None       # the last stage the task reported before it failed
    reason: str | None = None
    error_type: str | None = None


class WorkerStartError(RuntimeError):
    """No worker process could be started: nothing can be processed, so the batch stops."""


def timeout_reason(limits: Limits, stage: str) -> str:
    """The reason for a document stopped at its time limit: what it may be, and the option to raise."""
    return (f"processing took longer than {limits.timeout:g} s (the limit) and was stopped at the {stage} stage; "
            "the file may be built to hang readers, or be very large: raise the limit with --timeout")


def memory_reason() -> str:
    """The reason for a MemoryError, naming the cap this process runs under (if any)."""
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY:
        return "the computer ran out of memory while processing this file; process it alone or on a larger machine"
    return f"processing needed more than the {soft >> 20} MB of memory a document may use; raise the limit with --max-memory"


def caused_by_memory(exc: BaseException) -> bool:
    """pdfminer wraps a MemoryError into its own exception; the reason should still say memory."""
    seen: BaseException | None = exc
    for _ in range(8):  # a short chain; never follow a cycle forever
        if seen is None or isinstance(seen, MemoryError):
            break
        wrapped = seen.args[0] if seen.args and isinstance(seen.args[0], BaseException) else None
        seen = seen.__cause__ or seen.__context__ or wrapped
    return isinstance(seen, MemoryError)


def died_reason(returncode: int | None, stage: str, limits: Limits) -> str:
    """The reason for a worker that died under a document (a crash in C code, or its memory cap hit there)."""
    if returncode is not None and returncode < 0:
        try:
            how = f"signal {-returncode}, {signal.Signals(-returncode).name}"
        except ValueError:
            how = f"signal {-returncode}"
    else:
        how = f"exit status {returncode}"
    return (f"the worker process died ({how}) while at the {stage} stage of this file; the file is probably damaged "
            f"or built to crash readers (or it needed more than the {limits.max_memory_mb} MB of memory a document "
            "may use: raise --max-memory)")


# --------------------------------------------------------------------------- the worker side


def _die_with_parent(parent_pid: int) -> None:
    """Ask Linux to SIGKILL this worker when the batch dies, even while it is stuck in C code."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent_pid:  # the batch died before the request took effect
        os._exit(0)


def _worker_main(preload: list[str], task_fd: int, result_fd: int, max_memory_mb: int, parent_pid: int) -> None:
    """A worker's life: limit itself, load the pipeline, say ready, then run tasks until the pipe closes."""
    _die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the batch's to handle; it kills the workers
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a crash must not leave a core file in the cwd
    if max_memory_mb > 0:
        cap = max_memory_mb << 20
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    tasks = Connection(task_fd, writable=False)
    results = Connection(result_fd, readable=False)
    for module in preload:
        __import__(module)
    results.send(("ready", os.getpid()))
    while True:
        try:
            index, fn, args = tasks.recv()
        except EOFError:
            return
        stage = "start"

        def on_stage(name: str, index: int = index) -> None:
            nonlocal stage
            stage = name
            results.send(("stage", index, name))

        try:
            payload = ForkingPickler.dumps(("done", index, fn(*args, on_stage=on_stage)))
        except MemoryError:
            # Exit after saying so: a fresh worker takes over, this one's heap may stay fragmented near the cap.
            results.send(("failed", index, stage, memory_reason(), "MemoryError", True))
            return
        except Exception as exc:  # noqa: BLE001
            # The worker is the crash boundary: whatever one document does to the code is recorded
            # against that document, and the batch goes on. Catching everything is right here only.
            reason = f"internal error at the {stage} stage: {type(exc).__name__}: {exc}; please report it with this file"
            results.send(("failed", index, stage, reason, type(exc).__name__, False))
            continue
        results.send_bytes(payload)


# --------------------------------------------------------------------------- the batch side


def _sys_path() -> list[str]:
    """The batch's import path for the worker, '' made absolute (the worker may not share the cwd)."""
    return [p or os.getcwd() for p in sys.path]


class _Worker:
    """One worker process and the task it is running."""

    def __init__(self, limits: Limits, preload: Sequence[str]) -> None:
        task_r, task_w = os.pipe()
        result_r, result_w = os.pipe()
        try:
            # -I: nothing from the cwd or PYTHON* variables shadows the batch's own modules; its
            # own session: killing the worker's process group takes a running tesseract with it.
            self.proc = subprocess.Popen(
                [sys.executable, "-I", "-c", _BOOT, json.dumps(_sys_path()), json.dumps(list(preload)),
                 str(task_r), str(result_w), str(limits.max_memory_mb), str(os.getpid())],
                pass_fds=(task_r, result_w), stdin=subprocess.DEVNULL, stdout=sys.__stderr__ or subprocess.DEVNULL,
                start_new_session=True,
            )
        except OSError:
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
        self.index: int | None = None
        self.stage = "start"
        self.deadline = 0.0

    def run(self, index: int, fn: Callable[..., Any], args: tuple, timeout: float) -> None:
        self.index, self.stage, self.deadline = index, "start", time.monotonic() + timeout
        self.tasks.send((index, fn, args))

    def kill(self) -> int | None:
        """SIGKILL the worker and whatever it started; its exit code (negative: the signal)."""
        if self.proc.returncode is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:  # already gone
                pass
        code = self.proc.wait()
        self.tasks.close()
        self.results.close()
        return code


class _Pool:
    def __init__(self, fn: Callable[..., Any], tasks: Sequence[tuple], size: int, limits: Limits,
                 preload: Sequence[str]) -> None:
        self.fn, self.tasks, self.limits, self.preload = fn, tasks, limits, preload
        self.pending = deque(range(len(tasks)))
        self.done: dict[int, Outcome] = {}
        self.workers = [_Worker(limits, preload) for _ in range(max(1, min(size, len(tasks))))]

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
        for w in list(self.workers):
            if (w.ready and not w.retiring and w.index is None and self.pending
                    and self.pending[0] < following + _REORDER_WINDOW):
                i = self.pending.popleft()
                try:
                    w.run(i, self.fn, self.tasks[i], self.limits.timeout)
                except OSError:  # the worker died while idle: the task never started, so it goes back
                    self.pending.appendleft(i)
                    w.index = None
                    self._replace(w, died=True)

    def _wait(self) -> None:
        now = time.monotonic()
        deadlines = [w.deadline if w.ready else w.started + _START_TIMEOUT for w in self.workers
                     if w.index is not None or not w.ready]
        timeout = max(0.0, min(deadlines) - now) if deadlines else None
        by_conn = {w.results: w for w in self.workers}
        for conn in wait(list(by_conn), timeout):
            self._receive(by_conn[conn])  # type: ignore[index]

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
                    w.index = None
                elif msg[0] == "failed":
                    _, index, stage, reason, error_type, w.retiring = msg
                    self.done[index] = Outcome(index, stage=stage, reason=reason, error_type=error_type)
                    w.index = None
        except (EOFError, OSError):
            self._replace(w, died=True)

    def _enforce_deadlines(self) -> None:
        now = time.monotonic()
        for w in list(self.workers):
            if w.index is not None and now >= w.deadline and not w.results.poll():
                index, stage = w.index, w.stage
                self._replace(w, died=False)
                self.done[index] = Outcome(index, stage=stage, reason=timeout_reason(self.limits, _stage(stage)),
                                           error_type="Timeout")
            elif not w.ready and now >= w.started + _START_TIMEOUT:
                self._start_failed(w, f"did not start within {_START_TIMEOUT:g} s")

    def _replace(self, w: _Worker, died: bool) -> None:
        index, stage = w.index, w.stage
        code = w.kill()
        if died and not w.ready:
            self._start_failed(w, f"exited with status {code}")
        if died and index is not None:
            self.done[index] = Outcome(index, stage=stage, reason=died_reason(code, _stage(stage), self.limits),
                                       error_type="WorkerDied")
        self.workers[self.workers.index(w)] = _Worker(self.limits, self.preload)

    def _start_failed(self, w: _Worker, what: str) -> None:
        w.kill()
        raise WorkerStartError(
            f"a worker process {what} before it could take a document (see the messages above); "
            f"if --max-memory ({self.limits.max_memory_mb} MB) is small, raise it: a worker needs ~{MIN_MEMORY_MB} MB "
            "just to load the pipeline"
        )

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
        for w in self.workers:
            w.kill()


def _stage(stage: str) -> str:
    """A task that never reported a stage was still opening its file."""
    return "read" if stage == "start" else stage


def run_isolated(fn: Callable[..., Any], tasks: Sequence[tuple], workers: int, limits: Limits,
                 preload: Sequence[str] = ()) -> Iterator[Outcome]:
    """`fn(*task, on_stage=...)` for every task in worker processes; outcomes in task order.

    `fn` must be importable by name (it is pickled by reference) and call `on_stage(name)` as it
    moves on, so that a task stopped midway is reported with the stage it was in.
    """
    if not tasks:
        return
    pool = _Pool(fn, tasks, workers, limits, preload)
    finished = False
    try:
        yield from pool.outcomes()
        finished = True
    finally:
        pool.close(graceful=finished)
