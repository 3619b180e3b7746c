"""Reading source files into pages of text, whatever their format.

`read_document` is the one door: it hashes the bytes (doc_id), picks a reader by suffix and
returns a `RawDocument`. Readers raise `ReadError` with a reason a person can act on.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.errors import ReadError

PDF_SUFFIXES = frozenset({".pdf"})
TEXT_SUFFIXES = frozenset({".txt", ".text"})
HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml"})
SUPPORTED_SUFFIXES = PDF_SUFFIXES | TEXT_SUFFIXES | HTML_SUFFIXES
ENGINES = ("pdfplumber", "pypdfium2")
# pypdfium2 gives the same page texts as pdfplumber (tests/test_engines.py) several times faster.
DEFAULT_ENGINE = "pypdfium2"


@dataclass
class Page:
    """One page of source text (a text file is one page unless it holds form feeds)."""

    number: int
    text: str
    ocr: bool = False


@dataclass
class RawDocument:
    path: Path
    doc_id: str
    size: int
    pages: list[Page]
    engine: str
    encoding: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def ocr_pages(self) -> list[int]:
        return [p.number for p in self.pages if p.ocr]


def doc_id_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_document(path: Path, engine: str = DEFAULT_ENGINE, data: bytes | None = None) -> RawDocument:
    """Read one file (or its `data`, read by the caller); the bytes are read once and shared by the hash and the reader."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise ReadError(f"unsupported file type {suffix or '(none)'!r}: minutes reads .pdf, .txt and .html files")
    try:
        data = path.read_bytes() if data is None else data
    except OSError as exc:
        raise ReadError(f"cannot read the file ({exc.strerror or exc}); check that it exists and is readable") from exc
    if not data:
        raise ReadError("the file is empty (0 bytes); re-download it from the source")
    doc_id = doc_id_of(data)
    if suffix in PDF_SUFFIXES:
        from pipeline.read.pdf import read_pdf

        pages, warnings = read_pdf(data, engine=engine)
        return RawDocument(path, doc_id, len(data), pages, engine, None, warnings)
    if suffix in HTML_SUFFIXES:
        from pipeline.read.html import read_html

        pages, encoding, warnings = read_html(data)
        return RawDocument(path, doc_id, len(data), pages, "html", encoding, warnings)
    from pipeline.read.text import read_text

    pages, encoding, warnings = read_text(data)
    return RawDocument(path, doc_id, len(data), pages, "text", encoding, warnings)
