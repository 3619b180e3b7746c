"""Stored page texts: read a source file once, extract from it as often as the rules change.

Reading (PDF parsing and layout) is the expensive step, about 25 pages/s with pdfplumber;
extraction from text is many times faster. So the reader's output, the `pages` table, is kept
beside the other tables, and a document whose bytes have not changed is extracted again from
its stored pages rather than from the file.

Stored pages are used only when they were made by the same engine and the same reading code:
`READER_VERSION` is a digest of `pipeline/read/` and `pipeline/layout.py` (like
`EXTRACTOR_VERSION` for the rules), so a change there makes every file be read again without
anyone remembering to bump a number.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.errors import FileChanged, ReadError
from pipeline.read import HTML_SUFFIXES, PDF_SUFFIXES, Page, RawDocument, read_document
from pipeline.sources import Planned, read_planned

_PIPELINE = Path(__file__).parent
_READER_SOURCES = (*sorted((_PIPELINE / "read").glob("*.py")), _PIPELINE / "layout.py")


def _reader_digest() -> str:
    h = hashlib.sha256()
    for path in _READER_SOURCES:
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:12]


READER_VERSION = _reader_digest()


@dataclass(frozen=True)
class PagesRef:
    """Where a document's stored pages are: small enough to send to a worker process."""

    out: Path
    doc_id: str
    engine: str
    part: Path | None = None  # the part file that held them when the run was planned
    redacted: bool = False  # the stored texts had their contacts masked (--redact-contacts)


def engine_for(path: Path, engine: str) -> str:
    """The engine a file's pages come from (as `read_document` records it): PDFs the run's engine."""
    suffix = path.suffix.lower()
    return engine if suffix in PDF_SUFFIXES else "html" if suffix in HTML_SUFFIXES else "text"


def page_rows(raw: RawDocument) -> list[dict[str, Any]]:
    """The `pages` rows of a document just read."""
    return [
        {"doc_id": raw.doc_id, "page": p.number, "text": p.text, "ocr": p.ocr, "engine": raw.engine,
         "reader_version": READER_VERSION, "file_size": raw.size, "encoding": raw.encoding,
         "read_warnings": list(raw.warnings)}
        for p in raw.pages
    ]


def load(ref: PagesRef, path: Path) -> RawDocument | None:
    """The document as stored, or None when its pages are missing or from another engine/reader."""
    rows = _stored_rows(ref)
    if not rows or any(r["engine"] != ref.engine or r["reader_version"] != READER_VERSION for r in rows):
        return None
    first = rows[0]
    pages = [Page(r["page"], r["text"], bool(r["ocr"])) for r in rows]
    return RawDocument(path, ref.doc_id, first["file_size"] or 0, pages, ref.engine, first["encoding"],
                       list(first["read_warnings"] or []))


def _stored_rows(ref: PagesRef) -> list[dict[str, Any]]:
    """The document's page rows: from the part the plan saw them in, else from whichever part has
    them now (a commit during the run may have folded that part into a new one)."""
    import pyarrow.parquet as pq  # here, not at the top: a worker that only reads files never needs it

    from pipeline.parts import part_files

    seen = [] if ref.part is None else [ref.part]
    for part in [*seen, *(p for p in part_files(ref.out / "pages") if p not in seen)]:
        try:
            table = pq.read_table(part, filters=[("doc_id", "=", ref.doc_id)])
        except FileNotFoundError:
            continue
        if table.num_rows:
            return table.sort_by("page").to_pylist()
    return []


def obtain(path: Path, engine: str, stored: PagesRef | None, plan: Planned | None = None) -> tuple[RawDocument, bool]:
    """The document's pages and whether they were read now: stored ones first, else the file.

    Falls back to reading when the stored pages have gone (a pruned or hand-edited output);
    a document with neither pages nor a file is a read failure saying what to do. A file is
    read only if it is still what the plan saw (`sources.read_planned`).
    """
    if stored is not None:
        raw = load(stored, path)
        if raw is not None:
            return raw, False
        if not path.is_file():
            raise ReadError(f"the stored pages of {stored.doc_id[:12]} are gone from {stored.out / 'pages'} "
                            "and the source file is not at hand; run `minutes reprocess --src SRC` "
                            "with the folder it was ingested from")
    raw = read_document(path, engine=engine, data=read_planned(path, plan))
    if plan is not None and plan.doc_id is not None and raw.doc_id != plan.doc_id:
        raise FileChanged("the file's bytes changed after the run hashed them (is it still being written?); it was "
                          "not read: the next run tries it again")
    return raw, True


def stored_doc_ids(out: Path, among: set[str] | None = None) -> dict[tuple[str, str], Path]:
    """(doc_id, engine) of the documents (`among` these, if given) whose pages the current reader
    stored, and the part file each is in."""
    folder = out / "pages"
    if not folder.exists() or among == set():
        return {}
    import pyarrow.parquet as pq  # see _stored_rows()

    from pipeline.parts import part_files

    found: dict[tuple[str, str], Path] = {}
    filters: list[tuple[str, str, object]] = [("reader_version", "=", READER_VERSION)]
    if among is not None:
        filters.append(("doc_id", "in", sorted(among)))
    for part in part_files(folder):
        table = pq.read_table(part, columns=["doc_id", "engine"], filters=filters)
        pairs = table.group_by(["doc_id", "engine"]).aggregate([])
        found.update(dict.fromkeys(zip(pairs["doc_id"].to_pylist(), pairs["engine"].to_pylist()), part))
    return found
