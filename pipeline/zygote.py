"""The zygote: one process imports the pipeline once, and every worker of a batch is forked from it.

Importing the pipeline (spaCy above all) costs a worker ~0.8 s of CPU; a fork of a process that
has done it costs milliseconds. With N workers that is N - 1 imports saved, and a worker that
replaces one killed for its time limit is ready at once instead of a second later.

The isolation guarantees of `pipeline.isolation` hold for forked workers too:
- The zygote is a fresh `python -I -c` process, like a worker was, single-threaded when it forks
  (numpy's OpenBLAS would start a thread: `OPENBLAS_NUM_THREADS=1`); it runs no document, so no
  document can take it down. It limits itself (memory cap, no core files) before importing, and
  its workers inherit the limits.
- Each worker gets its own session (killing its process group takes a running tesseract with it)
  and dies with the zygote, which dies with the batch (PR_SET_PDEATHSIG on both).
- The batch made the worker's two pipes and hands their worker ends to the zygote over a Unix
  socket (SCM_RIGHTS); the batch talks to the worker directly, never through the zygote.
- The zygote is the workers' parent: it reaps them and reports each exit status over the same
  socket, so a crash is still named by its signal (`ForkedProcess.wait`).
"""
from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence

from pipeline.isolation import _CLOSE_GRACE, _limit_self, _load, _serve, _sys_path

_BOOT = ("import sys, json; sys.path[:] = json.loads(sys.argv[1]); "
         "from pipeline.zygote import _zygote_main; _zygote_main(json.loads(sys.argv[2]), *map(int, sys.argv[3:]))")
_MESSAGE_BYTES = 64
_FORK_WAIT = 180.0  # seconds a kill waits for a worker still to be forked (the zygote loading on a busy machine)
# Thread pools that would start threads at import; a process with threads must not fork.
_SINGLE_THREADED = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


# --------------------------------------------------------------------------- the zygote side


def _zygote_main(preload: list[str], sock_fd: int, max_memory_mb: int, parent_pid: int) -> None:
    """Load the pipeline, then fork a worker for each request until the batch closes the socket."""
    _limit_self(parent_pid, max_memory_mb)
    sock = socket.socket(fileno=sock_fd)
    _load(preload)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # only to wake the select below
    me = os.getpid()
    while True:
        readable, _, _ = select.select([sock, wake_r], [], [])
        if wake_r in readable:
            os.read(wake_r, 4096)
            _report_exits(sock)
        if sock not in readable:
            continue
        msg, fds, _, _ = socket.recv_fds(sock, _MESSAGE_BYTES, 2)
        if not msg:  # the batch is done: reap what is left (it ends them), then go
            while True:
                try:
                    os.wait()
                except ChildProcessError:
                    os._exit(0)  # no interpreter teardown: ~30 ms of freeing what the batch waits for
        seq = int(msg.split()[1])
        pid = os.fork()
        if pid == 0:
            sock.close()
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            os.close(wake_r)
            os.close(wake_w)
            _become_worker(fds, me)
        for fd in fds:
            os.close(fd)
        sock.send(b"F %d %d" % (seq, pid))


def _become_worker(fds: list[int], zygote_pid: int) -> None:
    """The forked child: its own session, dies with the zygote, then a worker's life; never returns."""
    code = 0
    try:
        os.setsid()
        _limit_self(zygote_pid, 0)  # the memory cap is the zygote's, inherited
        _serve(*fds)
    except BaseException:  # noqa: BLE001 - the child must never return into the zygote's loop
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        os._exit(code)


def _report_exits(sock: socket.socket) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        sock.send(b"X %d %d" % (pid, os.waitstatus_to_exitcode(status)))


# --------------------------------------------------------------------------- the batch side


class Zygote:
    """The batch's handle on its zygote: asks for workers and learns their pids and exit statuses."""

    def __init__(self, max_memory_mb: int, preload: Sequence[str]) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            # -I: nothing from the cwd or PYTHON* variables shadows the batch's own modules. -B: no
            # bytecode written into the install folder (it ignores PYTHONDONTWRITEBYTECODE). Its own
            # session, as each worker has: killing one process group never reaches the batch.
            self.proc = subprocess.Popen(
                [sys.executable, "-I", "-B", "-c", _BOOT, json.dumps(_sys_path()), json.dumps(list(preload)),
                 str(theirs.fileno()), str(max_memory_mb), str(os.getpid())],
                pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, stdout=sys.__stderr__ or subprocess.DEVNULL,
                start_new_session=True, env={**os.environ, **_SINGLE_THREADED},
            )
        except OSError:
            ours.close()
            raise
        finally:
            theirs.close()
        self.sock = ours
        self.requests = 0
        self.pids: dict[int, int] = {}   # request -> pid of the worker forked for it
        self.exits: dict[int, int] = {}  # pid -> exit status (negative: the signal)
        self.gone = False                # the zygote exited: nothing more will be forked or reported

    def fileno(self) -> int:
        """For `multiprocessing.connection.wait`: readable when the zygote reported something."""
        return self.sock.fileno()

    def fork(self, task_r: int, result_w: int) -> ForkedProcess:
        """Ask for a worker on these pipe ends (the caller closes its copies); forked once the zygote is loaded."""
        self.requests += 1
        request = self.requests
        if not self.gone:
            try:
                socket.send_fds(self.sock, [b"W %d" % request], [task_r, result_w])
            except OSError:  # the zygote is gone; the caller sees the worker's pipes close at once
                self._ended()
        return ForkedProcess(self, request)

    def read(self, timeout: float | None = 0.0) -> None:
        """Take in what the zygote reported, waiting up to `timeout` seconds for the first message."""
        while not self.gone:
            if not select.select([self.sock], [], [], timeout)[0]:
                return
            timeout = 0.0
            try:
                msg = self.sock.recv(_MESSAGE_BYTES)
            except OSError:
                msg = b""
            if not msg:
                self._ended()
                return
            kind, a, b = msg.split()
            if kind == b"F":
                self.pids[int(a)] = int(b)
            else:
                self.exits[int(a)] = int(b)

    def pid_of(self, request: int, wait: float = 0.0) -> int | None:
        """The pid forked for a request, waiting up to `wait` seconds for the fork; None if not (yet) forked."""
        ends = time.monotonic() + wait
        self.read()
        while request not in self.pids and not self.gone and (left := ends - time.monotonic()) > 0:
            self.read(left)
        return self.pids.get(request)

    def _ended(self) -> None:
        self.gone = True
        self.proc.wait()

    def close(self, graceful: bool = False) -> None:
        """End the zygote; workers still running die with it.

        `graceful`, when its workers have ended: it reaps them and exits, so that their CPU time
        counts in the batch's own (getrusage, wait4) as a child's would.
        """
        if graceful and not self.gone:
            self.sock.close()
            try:
                self.proc.wait(timeout=_CLOSE_GRACE)
            except subprocess.TimeoutExpired:
                pass
        if self.proc.returncode is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait()
        self.sock.close()
        self.gone = True


class ForkedProcess:
    """A forked worker, with what `pipeline.pool` uses of a `subprocess.Popen`: pid, returncode, wait."""

    def __init__(self, zygote: Zygote, request: int) -> None:
        self.zygote, self.request = zygote, request
        self.returncode: int | None = None

    @property
    def pid(self) -> int | None:
        """The worker's pid once forked; None while the zygote is still loading (or if it died first)."""
        return self.zygote.pid_of(self.request)

    def wait(self, timeout: float | None = None) -> int | None:
        """The exit status, as the zygote reported it (None if the zygote died without saying)."""
        ends = None if timeout is None else time.monotonic() + timeout
        while self.returncode is None:
            z = self.zygote
            pid = z.pids.get(self.request)
            if pid is not None and pid in z.exits:
                self.returncode = z.exits.pop(pid)
                break
            if z.gone:
                # Never forked: it ended as the zygote did (e.g. the memory cap hit while importing).
                # Forked, and not reported: it died with the zygote (PR_SET_PDEATHSIG, SIGKILL).
                self.returncode = z.proc.returncode if pid is None else -signal.SIGKILL
                break
            left = None if ends is None else ends - time.monotonic()
            if left is not None and left <= 0:
                raise subprocess.TimeoutExpired("worker", timeout or 0.0)
            z.read(left)
        return self.returncode

    def kill_group(self, wait_for_fork: bool = True) -> None:
        """SIGKILL the worker's process group, unless it already ended.

        A worker still to be forked is waited for (the zygote may be loading), unless
        `wait_for_fork` is False: then it is left to exit when it finds its task pipe closed.
        """
        pid = self.zygote.pid_of(self.request, _FORK_WAIT if wait_for_fork else 0.0)
        if pid is None or pid in self.zygote.exits or self.returncode is not None:
            return
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:  # gone, or just forked and not yet the leader of its own group
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
