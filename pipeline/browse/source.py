"""Where a value stands: a `mentions` span shown in the page of the document it was read from.

Mentions give offsets in the document's *repaired* text, its pages joined with a newline
(`pipeline.document.repaired_text`); the `pages` table keeps each page as read, before repair.
So the page shown is made the way extraction made it: every page repaired, by the same
function, then cut at the page starts; the span is then an offset within its page. A span is
checked against the text the mention recorded; where the page differs (an output whose pages
were redacted after extraction), the text is looked for near its offset and the view says so.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.document import PAGE_JOIN, page_of, repaired_text
from pipeline.read import Page, RawDocument

NEAR = 2000  # characters either side of a span's offset to look for its text, when it is not there


@dataclass(frozen=True)
class PageView:
    page: int  # 1-based
    n_pages: int
    text: str  # the page's repaired text
    start: int  # the span within `text` (start == end: nothing to highlight)
    end: int
    continues: bool  # the span goes on past the end of this page
    exact: bool  # the span's text is where the mention says; False: found near it, or not found (start == end)


def repaired_pages(pages: list[tuple[int, str]]) -> tuple[str, list[int]]:
    """The repaired text of a document's stored pages and each page's start offset, as extraction had them."""
    raw = RawDocument(Path(""), "", 0, [Page(number, text) for number, text in sorted(pages)], "stored")
    text, starts, _ = repaired_text(raw)
    return text, starts


def page_view(pages: list[tuple[int, str]], start: int, end: int, expected: str | None = None) -> PageView:
    """The page holding `start` and the span [start, end) within it."""
    text, starts = repaired_pages(pages)
    exact = True
    if expected and text[start:end] != expected:
        lo = max(0, start - NEAR)
        found = text.find(expected, lo, min(len(text), end + NEAR))
        exact = False
        start, end = (found, found + len(expected)) if found >= 0 else (start, start)
    n = len(starts)
    page = min(page_of(start, starts), n) if n else 1
    first = starts[page - 1] if n else 0
    last = starts[page] - len(PAGE_JOIN) if page < n else len(text)
    local_start = min(max(start - first, 0), last - first)
    local_end = min(max(end - first, local_start), last - first)
    return PageView(page, n, text[first:last], local_start, local_end, end > last, exact)
