"""`minutes serve`: ingestion (or, with --sources, fetch → ingest → feeds) on a schedule, as a Prefect
deployment served by this process.

Scheduled runs need a real Prefect server (on the temporary one a process starts for itself,
a deployment is registered but never scheduled), so `serve` checks for one first and says how
to start it. The deployment runs `flows.ingest.ingest_flow` with fixed parameters; each run is
incremental, so a nightly run over a growing folder costs only what changed.

While `minutes serve` runs it executes the deployment's runs (scheduled ones and ones started
from the UI or `prefect deployment run`); stopping it (Ctrl-C) pauses the schedule.
"""
from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx
from prefect.schedules import Cron, Schedule
from prefect.settings import PREFECT_API_URL
from prefect.types.entrypoint import EntrypointType

from flows.fetch import fetch_flow
from flows.ingest import ingest_flow
from pipeline.isolation import Limits
from pipeline.read import DEFAULT_ENGINE

SERVER_HINT = ("start a server with `prefect server start --host 127.0.0.1` and set "
               "PREFECT_API_URL=http://127.0.0.1:4200/api")
DEFAULT_NAME = "scheduled"


class ServeError(RuntimeError):
    """The deployment cannot be served; the message says what to do."""


def check_server() -> str:
    """The configured server's API URL, once it answers its health check."""
    url = PREFECT_API_URL.value()
    if not url:
        raise ServeError(f"no Prefect server is configured (PREFECT_API_URL is not set); {SERVER_HINT}")
    try:
        httpx.get(f"{url.rstrip('/')}/health", timeout=10).raise_for_status()
    except httpx.HTTPError as exc:
        raise ServeError(f"no Prefect server answers at {url} ({exc}); {SERVER_HINT}") from None
    return url


def schedule(cron: str, timezone: str = "UTC") -> Schedule:
    """A cron schedule, with a usage error for a bad expression or time zone."""
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ServeError(f"unknown time zone {timezone!r}; use an IANA name such as Europe/Helsinki or UTC") from None
    try:
        return Cron(cron, timezone=timezone)
    except ValueError as exc:
        raise ServeError(f"{exc}; a cron expression has five fields, e.g. \"0 3 * * *\" for 03:00 daily") from None


def serve(src: Path, out: Path, cron: str, *, name: str = DEFAULT_NAME, timezone: str = "UTC",
          engine: str = DEFAULT_ENGINE, workers: int = 1, prune: bool = False, limits: Limits = Limits(),
          redact_contacts: bool = False) -> None:
    """Register `minutes-ingest/<name>` with the cron schedule and execute its runs until stopped."""
    when = schedule(cron, timezone)
    check_server()
    parameters = {"src": str(Path(src).resolve()), "out": str(Path(out).resolve()), "engine": engine,
                  "workers": workers, "prune": prune, "timeout": limits.timeout, "max_memory": limits.max_memory_mb,
                  "max_text_mb": limits.max_text_mb, "redact_contacts": redact_contacts}
    ingest_flow.serve(
        name=name,
        schedules=[when],
        parameters=parameters,
        description=f"minutes ingest {parameters['src']} -> {parameters['out']} on '{cron}' ({timezone})",
        # a module path, so the runs find the flow whatever the working directory
        entrypoint_type=EntrypointType.MODULE_PATH,
    )


def serve_fetch(sources: Path, raw: Path, out: Path, cron: str, *, name: str = DEFAULT_NAME, timezone: str = "UTC",
                engine: str = DEFAULT_ENGINE, workers: int = 1) -> None:
    """Register `minutes-fetch/<name>` (fetch → ingest → feeds) with the cron schedule; run it until stopped."""
    when = schedule(cron, timezone)
    check_server()
    parameters = {"sources": str(Path(sources).resolve()), "raw": str(Path(raw).resolve()),
                  "out": str(Path(out).resolve()), "engine": engine, "workers": workers}
    fetch_flow.serve(
        name=name,
        schedules=[when],
        parameters=parameters,
        description=f"minutes fetch {parameters['sources']} -> {parameters['raw']} -> {parameters['out']} "
                    f"on '{cron}' ({timezone})",
        entrypoint_type=EntrypointType.MODULE_PATH,
    )
