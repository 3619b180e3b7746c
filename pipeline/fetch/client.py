"""The one HTTP client every connector uses: polite by construction.

A municipality's publishing server is small and shared with its citizens, so every request
here: asks robots.txt first (once per host; a robots.txt that cannot be read means fetch
nothing, as RFC 9309 says); waits its turn (one request a second per host by default, longer if
robots.txt asks with Crawl-delay; at most `concurrency` at once per host); names the project and
a contact in its User-Agent; asks conditionally (If-None-Match / If-Modified-Since) for what it
has; retries only what may pass (a timeout, a 5xx answer), with doubling waits; stops reading at
the size limit; follows at most `max_redirects` redirects, checking robots.txt at every hop.
Failures are returned as `FetchFailed` with a reason a person can act on, never half-written files.
"""
from __future__ import annotations

import hashlib
import io
import os
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import httpx

from pipeline.fetch.sourcefile import Manners

CHUNK = 1 << 16
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


class FetchFailed(Exception):
    """A request that gave nothing usable; `reason` says why and what to do."""

    def __init__(self, reason: str, status: int | None = None, attempts: int = 1, final_url: str | None = None) -> None:
        super().__init__(reason)
        self.reason, self.status, self.attempts, self.final_url = reason, status, attempts, final_url
        self.logged = False  # already a fetches row
        self.received: int | None = None  # bytes read before it was given up (the size limit)


@dataclass
class Answer:
    url: str
    final_url: str
    status: int
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    body: bytes | None = None  # a listing's bytes (kept in memory)
    file: Path | None = None  # a document's bytes, in a temporary file beside its destination
    size: int = 0
    sha256: str | None = None
    attempts: int = 1
    seconds: float = 0.0

    @property
    def not_modified(self) -> bool:
        return self.status == 304


@dataclass
class _Host:
    """A host's turn-taking: requests at once, the earliest time of the next one, its robots.txt."""

    slots: threading.Semaphore
    interval: float
    lock: threading.Lock = field(default_factory=threading.Lock)
    next_at: float = 0.0
    robots: RobotFileParser | None = None
    robots_problem: str | None = None
    robots_read: bool = False


class PoliteClient:
    """Requests for one fetch run; thread-safe (the run downloads from several hosts at once)."""

    def __init__(self, manners: Manners, headers: dict[str, str] | None = None) -> None:
        self.manners = manners
        self.robot_name = manners.user_agent.split("/")[0]
        self.http = httpx.Client(timeout=httpx.Timeout(manners.timeout), follow_redirects=False,
                                 headers={"User-Agent": manners.agent, **(headers or {})})
        self._hosts: dict[str, _Host] = {}
        self._hosts_lock = threading.Lock()

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> PoliteClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- turn-taking --------------------------------------------------------------------------

    def _host(self, url: str) -> _Host:
        netloc = urlsplit(url).netloc
        with self._hosts_lock:
            if netloc not in self._hosts:
                self._hosts[netloc] = _Host(threading.Semaphore(self.manners.concurrency), 1.0 / self.manners.rate)
            return self._hosts[netloc]

    def _wait_turn(self, host: _Host) -> None:
        with host.lock:
            now = time.monotonic()
            start = max(now, host.next_at)
            host.next_at = start + host.interval
        if start > now:
            time.sleep(start - now)

    # -- robots.txt ---------------------------------------------------------------------------

    def _robots(self, url: str, host: _Host) -> None:
        with host.lock:
            if host.robots_read:
                return
            host.robots_read = True  # under the lock: one reader; the others wait below for its answer
            robots_url = urljoin(url, "/robots.txt")
            host.slots.acquire()
            try:
                try:
                    response = self.http.get(robots_url)
                except httpx.HTTPError as exc:
                    host.robots_problem = (f"robots.txt at {robots_url} could not be read ({type(exc).__name__}); "
                                           "nothing is fetched from the host until it can be (RFC 9309)")
                    return
                finally:
                    host.next_at = time.monotonic() + host.interval
            finally:
                host.slots.release()
            if response.status_code >= 500:
                host.robots_problem = (f"robots.txt at {robots_url} answered {response.status_code}; nothing is fetched "
                                       "from the host until it answers (RFC 9309)")
            elif response.status_code == 200:
                parser = RobotFileParser(robots_url)
                parser.parse(response.text.splitlines())
                host.robots = parser
                delay = parser.crawl_delay(self.robot_name)
                if delay:
                    host.interval = max(host.interval, float(delay))
            # 4xx: no robots.txt, everything is allowed

    def allowed(self, url: str) -> str | None:
        """Why robots.txt forbids `url`, or None when it may be fetched."""
        host = self._host(url)
        self._robots(url, host)
        if host.robots_problem:
            return host.robots_problem
        if host.robots is not None and not host.robots.can_fetch(self.robot_name, url):
            return f"robots.txt of {urlsplit(url).netloc} forbids {urlsplit(url).path} to {self.robot_name}; not fetched"
        return None

    # -- requests -----------------------------------------------------------------------------

    def get(self, url: str, *, etag: str | None = None, last_modified: str | None = None,
            into: Path | None = None, headers: dict[str, str] | None = None) -> Answer:
        """GET `url` politely; `into`: stream the body to a temporary file in that folder (a
        document), else keep it in memory (a listing). Raises FetchFailed."""
        started = time.monotonic()
        extra = dict(headers or {})
        if etag:
            extra["If-None-Match"] = etag
        if last_modified:
            extra["If-Modified-Since"] = last_modified
        attempts = 0
        while True:
            attempts += 1
            try:
                answer = self._follow(url, extra, into)
            except _Retryable as exc:
                if attempts > self.manners.retries:
                    raise FetchFailed(f"{exc.reason}, {attempts} tries; it is tried again next run",
                                      exc.status, attempts, exc.final_url) from None
                time.sleep(self.manners.backoff * 2 ** (attempts - 1))
                continue
            except FetchFailed as exc:
                exc.attempts = attempts
                raise
            answer.attempts, answer.seconds = attempts, time.monotonic() - started
            return answer

    def _follow(self, url: str, headers: dict[str, str], into: Path | None) -> Answer:
        current = url
        for hop in range(self.manners.max_redirects + 1):
            refused = self.allowed(current)
            if refused:
                raise FetchFailed(refused, None, final_url=current)
            host = self._host(current)
            with host.slots:
                self._wait_turn(host)
                try:
                    with self.http.stream("GET", current, headers=headers) as response:
                        status = response.status_code
                        if status in _REDIRECTS and response.headers.get("location"):
                            current = urljoin(current, response.headers["location"])
                            continue
                        if status >= 500:
                            raise _Retryable(f"the server answered {status}", status, current)
                        if status == 304:
                            return Answer(url, current, status)
                        if status != 200:
                            raise FetchFailed(_status_reason(status), status, final_url=current)
                        return self._read(url, current, response, into)
                except httpx.TimeoutException:
                    raise _Retryable(f"no answer within {self.manners.timeout:g} s (timeout)", None, current) from None
                except httpx.TransportError as exc:
                    raise FetchFailed(f"could not connect ({type(exc).__name__}: {exc}); check base_url, or the site "
                                      "is down: it is tried again next run", None, final_url=current) from None
        raise FetchFailed(f"more than {self.manners.max_redirects} redirects (a redirect loop?), last to {current}; "
                          "check the URL in a browser", None, final_url=current)

    def _read(self, url: str, final: str, response: httpx.Response, into: Path | None) -> Answer:
        limit = int(self.manners.max_mb * 2**20)
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise FetchFailed(_too_large(int(declared), self.manners.max_mb, "says its size is"), 200, final_url=final)
        answer = Answer(url, final, 200, response.headers.get("content-type"), response.headers.get("etag"),
                        response.headers.get("last-modified"))
        if into is None:
            memory = io.BytesIO()
            answer.size, answer.sha256 = self._copy(response, memory, limit, final)
            answer.body = memory.getvalue()
            return answer
        into.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=into)
        try:
            with os.fdopen(fd, "wb") as sink:
                answer.size, answer.sha256 = self._copy(response, sink, limit, final)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        answer.file = Path(tmp)
        return answer

    def _copy(self, response: httpx.Response, sink: BinaryIO, limit: int, final: str) -> tuple[int, str]:
        """The body into `sink`, stopping past `limit` bytes; its size and SHA-256."""
        digest, size = hashlib.sha256(), 0
        for chunk in response.iter_bytes(CHUNK):
            size += len(chunk)
            if size > limit:
                raise _over(size, self.manners.max_mb, final)
            sink.write(chunk)
            digest.update(chunk)
        return size, digest.hexdigest()


class _Retryable(Exception):
    def __init__(self, reason: str, status: int | None, final_url: str) -> None:
        super().__init__(reason)
        self.reason, self.status, self.final_url = reason, status, final_url


def _status_reason(status: int) -> str:
    if status == 404 or status == 410:
        return f"not found ({status}): the document was removed or its address changed; it is asked for again next run"
    if status in (401, 403):
        return (f"access refused ({status}): the site wants a login or an API key (for ahjo, check api_key_env), "
                "or it blocks this client; ask the site's owner")
    if status == 429:
        return "too many requests (429): lower rate in [fetch] of the sources file; it is tried again next run"
    return f"the server answered {status}; it is asked for again next run"


def _over(size: int, max_mb: float, final: str) -> FetchFailed:
    failure = FetchFailed(_too_large(size, max_mb, "sent more than"), 200, final_url=final)
    failure.received = size
    return failure


def _too_large(size: int, max_mb: float, how: str) -> str:
    return (f"the response {how} {size / 2**20:.1f} MB, more than max_mb = {max_mb:g} in [fetch]: not minutes, or "
            "raise max_mb; nothing was kept")
