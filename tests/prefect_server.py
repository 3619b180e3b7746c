"""A real Prefect server for the slow tests: `prefect server start` on a free loopback port.

Each server gets its own PREFECT_HOME (its own SQLite database), and the processes the tests
start get an environment pointing at it, so nothing touches ~/.prefect or a developer's server.
The server runs in its own process group, which `running_server` always ends.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
PREFECT = Path(sys.executable).parent / "prefect"
_RETRIES_503 = 5


@dataclass
class Server:
    api: str  # http://127.0.0.1:PORT/api
    home: Path
    log: Path
    env: dict[str, str]  # for processes that should use this server

    def request(self, method: str, path: str, json: Any = None) -> Any:
        """One API call; a 503 (the server's SQLite busy with another writer) is retried, as Prefect's client does."""
        for attempt in range(_RETRIES_503):
            response = httpx.request(method, f"{self.api}{path}", json=json, timeout=30)
            if response.status_code != 503:
                break
            time.sleep(0.5 * (attempt + 1))
        response.raise_for_status()
        return response.json() if response.content else None

    def wait_for_run(self, flow_run_id: str, timeout: float) -> dict[str, Any]:
        """The flow run once it reached a final state (or the last one seen when time ran out)."""
        deadline = time.monotonic() + timeout
        run = self.request("GET", f"/flow_runs/{flow_run_id}")
        while time.monotonic() < deadline:
            run = self.request("GET", f"/flow_runs/{flow_run_id}")
            if run["state"] and run["state"]["type"] in {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}:
                return run
            time.sleep(0.5)
        return run


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prefect_env(home: Path, api: str | None = None) -> dict[str, str]:
    """The environment of a process using a throw-away Prefect home (and a server, if given)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])))
    if api:
        env["PREFECT_API_URL"] = api
    return env


def stop(proc: subprocess.Popen, grace: float = 15) -> None:
    """End a process started with start_new_session=True and everything it started."""
    if proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGINT, grace), (signal.SIGTERM, 10), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


@contextmanager
def running_server(home: Path, timeout: float = 90) -> Iterator[Server]:
    home.mkdir(parents=True, exist_ok=True)
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    log = home / "server.log"
    with log.open("w") as fh:
        proc = subprocess.Popen([str(PREFECT), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                                env=prefect_env(home), stdout=fh, stderr=subprocess.STDOUT, cwd=home,
                                start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"prefect server exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{api}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass  # not listening yet
            if time.monotonic() > deadline:
                raise RuntimeError(f"prefect server did not answer within {timeout} s:\n{log.read_text()[-3000:]}")
            time.sleep(0.3)
        yield Server(api, home, log, prefect_env(home, api))
    finally:
        stop(proc)
