"""Every document in a worker process under a time limit and a memory cap.

Archives hold files that hang a reader (a PDF whose objects refer to each other in a loop),
exhaust memory (a compression bomb) or crash it (a segfault in pdfium). Python can stop neither
C code nor a thread, so each document runs in a worker process that the batch can kill: a
document that runs past its time limit, needs more memory than its cap or kills its worker
becomes an `Outcome` with a reason, and the batch goes on with a fresh worker.

Why it is built this way:
- A pool of long-lived workers, not a process per document: loading the pipeline (Python, spaCy,
  pdfium) costs ~0.8 s of CPU, a typical 20-page document ~0.1 s. It is loaded once per batch,
  in a zygote that forks every worker (`pipeline.zygote`). A worker is replaced only when it was
  killed or died.
- The zygote is a plain `python -I -c` subprocess, and workers exchange pickled messages with the
  batch over two private pipes; not multiprocessing's start methods: fork can deadlock the child
  of a threaded parent (Prefect runs the batch in a thread), spawn re-imports the caller's
  `__main__` (a Prefect flow, pytest) in every worker, and forkserver's workers outlive a batch
  killed with SIGKILL. File names travel inside the pickles, never on a command line or through
  a shell.
- The memory cap is RLIMIT_AS, set by the worker on itself: an allocation past it raises
  MemoryError in Python code, or kills the worker in C code; both become a reason naming
  --max-memory. A worker dies with its zygote, the zygote with the batch (PR_SET_PDEATHSIG), and
  neither writes a core file.
- Outcomes come back in task order (within a bounded window), so what a batch writes does not
  depend on which worker happened to be faster.
- A task's time limit runs from the moment its worker starts it, as the batch sees it (when the
  task before it finished): a worker may hold the next task while it runs one, and that wait is
  not the next task's time.

This module is both sides' contract (limits, reasons, the worker's loop); the batch side's
machinery (the pool, tasks sent ahead, workers started while the batch is planned) is
`pipeline.pool`, behind `run_isolated` and `start_crew`.
"""
from __future__ import annotations

import ctypes
import gc
import importlib
import os
import resource
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.reduction import ForkingPickler
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipeline.pool import Crew

DEFAULT_TIMEOUT = 120.0
DEFAULT_MAX_MEMORY_MB = 2048
DEFAULT_MAX_TEXT_MB = 20.0
MIN_MEMORY_MB = 768
"""Below this a worker cannot even import spaCy and pdfplumber (~470 MB of address space)."""

_REORDER_WINDOW = 256   # tasks that may finish ahead of the oldest unfinished one
_START_TIMEOUT = 180.0  # seconds a new worker may take to import the pipeline on a busy machine
_CLOSE_GRACE = 5.0      # seconds idle workers get to exit on their own at the end
_PR_SET_PDEATHSIG = 1   # linux/prctl.h


@dataclass(frozen=True)
class Limits:
    """What one document may cost; each limit has a command-line option of the same meaning."""

    timeout: float = DEFAULT_TIMEOUT            # --timeout: wall-clock seconds per document
    max_memory_mb: int = DEFAULT_MAX_MEMORY_MB  # --max-memory: address space of a worker
    max_text_mb: float = DEFAULT_MAX_TEXT_MB    # --max-text-mb: larger text files are refused unread

    def key(self) -> str:
        """The limits as a failures row records them: a run with other limits tries the file again."""
        return f"timeout={self.timeout:g}s max_memory={self.max_memory_mb}MB max_text={self.max_text_mb:g}MB"


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


# Signals a worker never sends itself: a worker ending with one was killed by someone else (an
# operator, a supervisor, the kernel's out-of-memory killer), not by what its file holds.
_FROM_OUTSIDE = frozenset({signal.SIGKILL, signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT})


def killed_from_outside(returncode: int | None) -> bool:
    """Whether a worker's exit status says it was killed by a signal from outside, not a crash."""
    return returncode is not None and returncode < 0 and -returncode in _FROM_OUTSIDE


def died_reason(returncode: int | None, stage: str, limits: Limits) -> str:
    """The reason for a worker that died under a document: a crash in C code (or its memory cap hit
    there), or a kill from outside, which says nothing about the file and is tried again."""
    if returncode is not None and returncode < 0:
        try:
            how = f"signal {-returncode}, {signal.Signals(-returncode).name}"
        except ValueError:
            how = f"signal {-returncode}"
    else:
        how = f"exit status {returncode}"
    if killed_from_outside(returncode):
        return (f"the worker process was killed from outside ({how}) while at the {stage} stage of this file: by an "
                "operator, a supervisor or the system's out-of-memory killer, not for anything known in the file; "
                "the next run tries it again (if memory was short, give the machine more or lower --workers)")
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


def _limit_self(parent_pid: int, max_memory_mb: int) -> None:
    """What every process on the worker side does first: die with its parent, no core files, the memory cap."""
    _die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the batch's to handle; it kills the workers
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a crash must not leave a core file in the cwd
    if max_memory_mb > 0:
        cap = max_memory_mb << 20
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))


def _load(preload: list[str]) -> None:
    """Import each "module" of the preload, and call each "module:function" (a builder, no arguments)."""
    # What the imports build (spaCy's tables, the modules) lives as long as the worker: kept out of
    # the collector's full scans, which would otherwise walk it again and again (~10 % of the time;
    # a builder called before the freeze paid for such scans too). In the zygote it also keeps
    # forked workers from copying those pages when a scan touches them.
    for entry in preload:
        module, _, function = entry.partition(":")
        loaded = importlib.import_module(module)
        gc.freeze()
        if function:
            getattr(loaded, function)()
    gc.freeze()


def _serve(task_fd: int, result_fd: int) -> None:
    """A worker's life once loaded: say ready, then run tasks until the pipe closes."""
    tasks = Connection(task_fd, writable=False)
    results = Connection(result_fd, readable=False)
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


def run_isolated(fn: Callable[..., Any], tasks: Sequence[tuple], workers: int, limits: Limits,
                 preload: Sequence[str] = (), crew: Crew | None = None) -> Iterator[Outcome]:
    """`fn(*task, on_stage=...)` for every task in worker processes; outcomes in task order.

    `fn` must be importable by name (it is pickled by reference) and call `on_stage(name)` as it
    moves on, so that a task stopped midway is reported with the stage it was in. `preload`: what
    the zygote loads once for all workers, "module" to import or "module:function" to call. `crew`: workers
    started earlier (`start_crew`), used instead of starting new ones where they fit.
    """
    from pipeline.pool import Pool  # the batch side's machinery; workers never need it

    if not tasks:
        if crew is not None:
            crew.close()
        return
    pool = Pool(fn, tasks, workers, limits, preload, crew)
    finished = False
    try:
        yield from pool.outcomes()
        finished = True
    finally:
        pool.close(graceful=finished)


def start_crew(limits: Limits, preload: Sequence[str]) -> Crew:
    """An empty `Crew` for a batch still being planned; `Crew.start` starts its workers."""
    from pipeline.pool import Crew

    return Crew(limits, preload)
