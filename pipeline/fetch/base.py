"""What every connector is: list meetings → list a meeting's documents → (the run) fetches each.

A connector knows one publishing system's URL structure and nothing else: it reads listing pages
through `Listings` (which makes the request politely and logs it as a `fetches` row) and names
the documents to download, each with a stable file name made of the site's own ids, so that a
document is saved under the same name whenever it is fetched.
"""
from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlsplit

from pipeline.fetch.client import FetchFailed
from pipeline.fetch.sourcefile import Source

_DATE = re.compile(r"\b(\d{1,2})\.(\d{1,2})\.(\d{4})\b")
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})")
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_\-]+)", re.IGNORECASE)
_ROW_TAGS = frozenset({"tr", "li", "p", "item", "h2", "h3"})


@dataclass(frozen=True)
class Meeting:
    id: str  # the system's own id (Dynasty's meeting id, Tweb's bid, CloudNC's Kokous_ddmmyyyy)
    body: str
    date: date | None
    url: str


@dataclass(frozen=True)
class DocumentRef:
    url: str
    meeting: Meeting
    stem: str  # stable file name without its suffix: `<date>_<system ids>`
    kind: str  # "pdf": the bytes must be a PDF; "page": an HTML page (or a PDF, saved as one)
    headers: tuple[tuple[str, str], ...] = ()  # sent with the request (an API key)


# The run's way of reading a listing page: it logs the request; FetchFailed when nothing came.
Listings = Callable[..., bytes]


class Connector(ABC):
    """One publishing system; subclasses define `meetings` and `documents`."""

    system = ""

    def __init__(self, source: Source, listings: Listings) -> None:
        self.source, self._listings = source, listings

    def headers(self) -> dict[str, str]:
        """Headers every request of this source carries (none but the client's own, by default)."""
        return {}

    def read(self, url: str, meeting: Meeting | None = None, body: str | None = None) -> bytes:
        return self._listings(url, source=self.source, meeting=meeting, body=body, headers=self.headers())

    @abstractmethod
    def meetings(self) -> Iterator[Meeting]:
        """The followed bodies' meetings since `source.since` (a body whose listing fails is skipped:
        its failure is already a row)."""

    @abstractmethod
    def documents(self, meeting: Meeting) -> list[DocumentRef]:
        """The documents of a meeting to download (minutes, else item pages)."""

    def body_pages(self, bodies: dict[str, str]) -> Iterator[tuple[str, str, bytes]]:
        """(name, url, page) of each followed body's meeting list, {name: url} given; a body whose
        list cannot be read is skipped (its failure is already a row)."""
        for name, url in bodies.items():
            if self.source.follows(name):
                try:
                    yield name, url, self.read(url, body=name)
                except FetchFailed:
                    continue

    def recent(self, meeting_date: date | None) -> bool:
        return meeting_date is None or meeting_date >= self.source.since

    def document(self, url: str, meeting: Meeting, ids: str, kind: str) -> DocumentRef:
        day = meeting.date.isoformat() if meeting.date else "undated"
        return DocumentRef(url, meeting, f"{day}_{_safe(ids)}", kind, tuple(self.headers().items()))


@dataclass(frozen=True)
class Link:
    href: str  # absolute
    text: str
    row: str  # the text of the table row (or list item) the link stands in


class _Links(HTMLParser):
    def __init__(self, base: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base = base
        self.links: list[Link] = []
        self._open: list[list] = []  # [href, text parts] of links not closed yet
        self._row: list[str] = []
        self._row_links: list[int] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _ROW_TAGS:
            self._end_row()
        elif tag in ("td", "th", "br", "span", "div"):
            self._row.append(" ")  # cells read apart: "Pöytäkirja 8.12.2025", not "Pöytäkirja8.12.2025"
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self._open.append([urljoin(self.base, href.strip()), []])

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._open:
            href, parts = self._open.pop()
            self._row_links.append(len(self.links))
            self.links.append(Link(href, " ".join("".join(parts).split()), ""))
        elif tag in _ROW_TAGS:
            self._end_row()

    def handle_data(self, data: str) -> None:
        self._row.append(data)
        for _, parts in self._open:
            parts.append(data)

    def _end_row(self) -> None:
        row = " ".join("".join(self._row).split())
        for i in self._row_links:
            self.links[i] = Link(self.links[i].href, self.links[i].text, row)
        self._row, self._row_links = [], []

    def close(self) -> None:
        super().close()
        self._end_row()


def links(page: bytes, base: str, encoding: str = "utf-8") -> list[Link]:
    """Every link of an HTML page, absolute, with its text and its row's text."""
    parser = _Links(base)
    parser.feed(decode(page, None, encoding))
    parser.close()
    return parser.links


def decode(data: bytes, content_type: str | None, default: str = "utf-8") -> str:
    """Text of a page: the charset from Content-Type, else from a <meta> or XML declaration, else `default`."""
    found = _CHARSET.search(content_type or "") or _CHARSET.search(data[:2048].decode("ascii", "replace"))
    encoding = found.group(1) if found else default
    try:
        return data.decode(encoding)
    except (LookupError, UnicodeDecodeError):
        return data.decode(default, errors="replace")


def finnish_date(text: str) -> date | None:
    """The first d.m.yyyy (or yyyy-mm-dd) date in a text."""
    found = _DATE.search(text)
    try:
        if found:
            return date(int(found.group(3)), int(found.group(2)), int(found.group(1)))
        found = _ISO_DATE.search(text)
        if found:
            return date(int(found.group(1)), int(found.group(2)), int(found.group(3)))
    except ValueError:  # 31.2.2025: not a date
        return None
    return None


def query(url: str, key: str) -> str | None:
    """A query parameter of a URL; Tweb writes `?+bid=12`, so a leading '+' is ignored."""
    params = parse_qs(urlsplit(url).query.lstrip("+").replace("&+", "&"))
    values = params.get(key)
    return values[0] if values else None


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "document"
