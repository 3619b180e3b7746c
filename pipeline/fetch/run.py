"""A fetch run: every source's listings, then the documents new or changed since the last run.

Both doors (`minutes fetch` and the Prefect flow `minutes-fetch`) call `run_fetch`. Downloads go
to `RAW/<organisation>/<body>/<date>_<ids>.<pdf|html>` (stable names from the site's own ids),
each written whole to a hidden temporary file beside its place and renamed there only when it is
complete and is what it should be: a failed fetch never touches a file already downloaded.
Every request becomes a `fetches` row (appended under the output folder's lock at the end).

What is asked for again: every listing (they are what changes); each known document with
If-None-Match / If-Modified-Since (a 304 costs no download), except documents of meetings older
than `recheck_days` that are already here, which are not asked for at all.
"""
from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from pipeline.fetch.ahjo import Ahjo
from pipeline.fetch.base import Connector, DocumentRef, Meeting
from pipeline.fetch.client import Answer, FetchFailed, PoliteClient
from pipeline.fetch.cloudnc import CloudNC
from pipeline.fetch.dynasty import Dynasty
from pipeline.fetch.sourcefile import Source, SourcesFile, slug
from pipeline.fetch.tweb import Tweb
from pipeline.store import Store

CONNECTORS: dict[str, type[Connector]] = {"dynasty": Dynasty, "cloudnc": CloudNC, "tweb": Tweb, "ahjo": Ahjo}
MAX_DOWNLOADS = 8  # documents at once in all (each host still gets at most its `concurrency`)
_GOOD = ("new", "changed", "unchanged")


@dataclass(frozen=True)
class Known:
    """The last good fetch of a document URL: where it lies and how to ask whether it changed."""

    path: str | None
    sha256: str | None
    etag: str | None
    last_modified: str | None


@dataclass
class FetchSummary:
    sources: int = 0
    meetings: int = 0
    requests: int = 0
    request_failures: int = 0
    bytes: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    kept: int = 0  # known documents of old meetings, not asked for
    failed: int = 0  # documents that failed
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)  # one line per failed request
    fetched: list[dict[str, Any]] = field(default_factory=list)  # the new and changed documents' rows

    @property
    def documents(self) -> int:
        return self.new + self.changed + self.unchanged + self.kept + self.failed

    def lines(self) -> list[str]:
        out = [
            f"sources:   {self.sources}, {self.meetings} meeting(s) listed",
            f"documents: {self.documents} ({self.new} new, {self.changed} changed, {self.unchanged} unchanged"
            + (f", {self.kept} kept without asking" if self.kept else "") + f", {self.failed} failed)",
            f"requests:  {self.requests} ({self.bytes / 2**20:.1f} MB), {self.request_failures} failed: "
            "each one a row in the fetches table",
            f"seconds:   {self.seconds:.2f}",
        ]
        return out + [f"failed:    {line}" for line in self.failures]


class _Log:
    """The run's fetches rows and counts; thread-safe."""

    def __init__(self, run_id: str) -> None:
        self.run_id, self.rows, self.summary = run_id, [], FetchSummary()
        self.lock = threading.Lock()

    def add(self, source: Source, kind: str, url: str, outcome: str, meeting: Meeting | None = None,
            body: str | None = None, answer: Answer | None = None, failure: FetchFailed | None = None,
            **values: Any) -> dict[str, Any]:
        row = {
            "run_id": self.run_id, "organization": source.organization, "system": source.system,
            "body": meeting.body if meeting else body, "meeting_id": meeting.id if meeting else None,
            "meeting_date": meeting.date if meeting else None, "kind": kind, "url": url, "outcome": outcome,
            "fetched_at": datetime.now(UTC).replace(microsecond=0),
        }
        if answer is not None:
            row.update(final_url=answer.final_url if answer.final_url != url else None, status=answer.status,
                       attempts=answer.attempts, bytes=answer.size, sha256=answer.sha256,
                       content_type=answer.content_type, etag=answer.etag, last_modified=answer.last_modified,
                       seconds=round(answer.seconds, 3))
        if failure is not None:
            row.update(status=failure.status, attempts=failure.attempts, reason=failure.reason,
                       final_url=failure.final_url if failure.final_url != url else None)
            if failure.received is not None:
                row["bytes"] = failure.received
        row.update(values)
        with self.lock:
            row["fetch_id"] = f"{self.run_id}:{len(self.rows):05d}"
            self.rows.append(row)
            s = self.summary
            s.requests += row.get("attempts") or 0
            s.bytes += row.get("bytes") or 0
            if outcome == "failed":
                s.request_failures += 1
                where = "/".join(filter(None, [source.organization, row["body"]]))
                s.failures.append(f"{where} {url}: {row['reason']}")
        return row


def known_documents(store: Store) -> dict[str, Known]:
    """Each document URL's last good fetch, from the fetches table (empty on a first run)."""
    if not store.path("fetches").exists():
        return {}
    rows = store.read("fetches", columns=["fetch_id", "kind", "url", "outcome", "path", "sha256", "etag",
                                         "last_modified"]).to_pylist()
    known = {}
    for row in sorted(rows, key=lambda r: r["fetch_id"]):
        if row["kind"] == "document" and row["outcome"] in _GOOD:
            known[row["url"]] = Known(row["path"], row["sha256"], row["etag"], row["last_modified"])
    return known


def _is_pdf(path: Path) -> bool:
    with path.open("rb") as fh:
        return b"%PDF-" in fh.read(1024)


def _head(path: Path) -> str:
    with path.open("rb") as fh:
        return " ".join(fh.read(60).decode("latin-1").split())


class _Fetcher:
    def __init__(self, sources: SourcesFile, raw: Path, client: PoliteClient, log: _Log, known: dict[str, Known],
                 today: date) -> None:
        self.sources, self.raw, self.client, self.log, self.known = sources, raw, client, log, known
        self.recheck_before = today - timedelta(days=sources.manners.recheck_days)

    def listing(self, url: str, *, source: Source, meeting: Meeting | None = None, body: str | None = None,
                headers: dict[str, str] | None = None) -> bytes:
        try:
            answer = self.client.get(url, headers=headers)
        except FetchFailed as exc:
            self.log.add(source, "listing", url, "failed", meeting, body, failure=exc)
            exc.logged = True
            raise
        self.log.add(source, "listing", url, "listed", meeting, body, answer=answer)
        return answer.body or b""

    def list_source(self, source: Source) -> list[tuple[Source, DocumentRef]]:
        """Every document the source's followed meetings name; a failure costs its listing only."""
        connector = CONNECTORS[source.system](source, self.listing)
        found: list[tuple[Source, DocumentRef]] = []
        meeting: Meeting | None = None
        try:
            for meeting in connector.meetings():
                with self.log.lock:
                    self.log.summary.meetings += 1
                try:
                    found += [(source, doc) for doc in connector.documents(meeting)]
                except FetchFailed as exc:
                    self._unlogged(source, exc, meeting.url, meeting)
            return found
        except FetchFailed as exc:  # the first listing, a feed that is not RSS, a missing API key
            self._unlogged(source, exc, source.base_url, None)
            return found

    def _unlogged(self, source: Source, exc: FetchFailed, url: str, meeting: Meeting | None) -> None:
        if not exc.logged:
            self.log.add(source, "listing", url, "failed", meeting, failure=exc)

    def download(self, source: Source, doc: DocumentRef) -> None:
        folder = self.raw / source.slug / slug(doc.meeting.body or "unknown")
        prior = self.known.get(doc.url)
        existing = self.raw / prior.path if prior and prior.path else None
        if existing is None or not existing.is_file():
            existing = next((p for p in (folder / f"{doc.stem}.pdf", folder / f"{doc.stem}.html") if p.is_file()), None)
            prior = None
        summary = self.log.summary
        if existing is not None and doc.meeting.date is not None and doc.meeting.date < self.recheck_before:
            with self.log.lock:
                summary.kept += 1
            return
        try:
            answer = self.client.get(doc.url, etag=prior.etag if prior else None, into=folder,
                                     last_modified=prior.last_modified if prior else None, headers=dict(doc.headers))
        except FetchFailed as exc:
            self._count("failed")
            self.log.add(source, "document", doc.url, "failed", doc.meeting, failure=exc)
            return
        if answer.not_modified:
            self._count("unchanged")
            self.log.add(source, "document", doc.url, "unchanged", doc.meeting, answer=answer,
                         path=prior.path if prior else None, sha256=prior.sha256 if prior else None,
                         etag=answer.etag or (prior.etag if prior else None),
                         last_modified=answer.last_modified or (prior.last_modified if prior else None))
            return
        assert answer.file is not None
        self._place(source, doc, folder, answer, existing)

    def _place(self, source: Source, doc: DocumentRef, folder: Path, answer: Answer, existing: Path | None) -> None:
        is_pdf = _is_pdf(answer.file)
        if doc.kind == "pdf" and not is_pdf:
            head = _head(answer.file)
            answer.file.unlink(missing_ok=True)
            failure = FetchFailed(f"the server sent {answer.content_type or 'something'} starting {head[:40]!r} "
                                  "where a PDF was expected (an error or login page?); nothing was kept"
                                  + (", the earlier copy stays" if existing else ""), answer.status, answer.attempts)
            self._count("failed")
            self.log.add(source, "document", doc.url, "failed", doc.meeting, answer=answer, failure=failure)
            return
        dest = folder / (doc.stem + (".pdf" if is_pdf else ".html"))
        rel = dest.relative_to(self.raw).as_posix()
        if existing == dest and self._sha(existing) == answer.sha256:
            answer.file.unlink(missing_ok=True)
            outcome = "unchanged"
        else:
            os.replace(answer.file, dest)
            outcome = "changed" if existing is not None else "new"
        self._count(outcome)
        row = self.log.add(source, "document", doc.url, outcome, doc.meeting, answer=answer, path=rel)
        if outcome != "unchanged":
            with self.log.lock:
                self.log.summary.fetched.append(row)

    def _sha(self, path: Path) -> str | None:
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        return digest.hexdigest()

    def _count(self, outcome: str) -> None:
        with self.log.lock:
            summary = self.log.summary
            setattr(summary, outcome, getattr(summary, outcome) + 1)


def run_fetch(sources: SourcesFile, raw: Path, out: Path, *, only: set[str] | None = None,
              on_listed: Callable[[int], None] | None = None,
              progress: Callable[[DocumentRef], None] | None = None, today: date | None = None) -> FetchSummary:
    """Fetch what is new or changed for every source (or those whose organisation is in `only`).

    Holds the output folder's lock from the first request to the last row written; `on_listed(n)`
    hears how many documents the listings named, `progress` each document as it is done.
    """
    started = time.perf_counter()
    raw, store = Path(raw), Store(Path(out).resolve())
    chosen = [s for s in sources.sources if only is None or s.organization in only or s.slug in only]
    log = _Log(datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
    with store.lock(), PoliteClient(sources.manners) as client:
        fetcher = _Fetcher(sources, raw, client, log, known_documents(store), today or date.today())
        with ThreadPoolExecutor(max(1, min(4, len(chosen))), thread_name_prefix="minutes-list") as pool:
            documents = [pair for found in pool.map(fetcher.list_source, chosen) for pair in found]
        if on_listed:
            on_listed(len(documents))
        hosts = len({s.host for s in chosen}) or 1
        workers = max(1, min(MAX_DOWNLOADS, sources.manners.concurrency * hosts))

        def one(pair: tuple[Source, DocumentRef]) -> None:
            fetcher.download(*pair)
            if progress:
                progress(pair[1])

        with ThreadPoolExecutor(workers, thread_name_prefix="minutes-fetch") as pool:
            list(pool.map(one, documents))
        if log.rows:
            store.append("fetches", log.rows)
    summary = log.summary
    summary.sources, summary.seconds = len(chosen), time.perf_counter() - started
    return summary
