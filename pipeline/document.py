"""One document end to end: read (or take stored pages) → repair → extract → rows.

`process_document` is the unit every door runs, in a worker process or in this one; whatever goes
wrong with one document becomes its failures row here, with the stage and a reason.
"""
from __future__ import annotations

import bisect
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from extractors import EXTRACTOR_VERSION, extract
from pipeline import pages
from pipeline.errors import RETRIED, DocumentError
from pipeline.isolation import caused_by_memory, memory_reason
from pipeline.read import DEFAULT_ENGINE, RawDocument
from pipeline.redact import redact
from pipeline.repair import repair
from pipeline.repair_steps import REPAIR_STEPS
from pipeline.sources import NAME_WARNING, Planned, source_path, undecodable_name

PAGE_JOIN = "\n"


@dataclass
class DocumentResult:
    source_path: str
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    failed: bool = False
    doc_id: str | None = None
    seconds: float = 0.0
    from_pages: bool = False  # extracted from stored pages, the file was not read

    @property
    def n_decisions(self) -> int:
        return len(self.rows.get("decisions", []))


def relative_path(path: Path, root: Path) -> str:
    """The `source_path` of a file (`pipeline.sources.source_path`: undecodable name bytes as \\xNN)."""
    return source_path(path, root)


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def failure_row(source_path: str, stage: str, reason: str, error_type: str, doc_id: str | None = None) -> dict[str, Any]:
    return {
        "doc_id": doc_id, "source_path": source_path, "stage": stage, "error_type": error_type,
        "reason": reason, "extractor_version": EXTRACTOR_VERSION, "failed_at": _now(), "retry": error_type in RETRIED,
    }


# A word hyphenated across a page break: "… ja päätös-" | "valtaiseksi." (not a suspended hyphen before ja/tai).
_PAGE_END_HYPHEN = re.compile(r"(?<=[a-zåäö])-[ \t]*\n*[ \t]*$")
_PAGE_START_WORD = re.compile(r"^\s*(?!(?:ja|tai|sekä|eli|että|och|eller)\b)(?=[a-zåäö])")


def repaired_text(raw: RawDocument) -> tuple[str, list[int], dict[str, int]]:
    """Repair page by page; return the joined text, each page's start offset and the counts.

    Pages join with a newline, except where a word was hyphenated across the page break: there
    the two halves join into the word, as they do inside a page (counted as a hyphenation repair).
    """
    totals = dict.fromkeys(REPAIR_STEPS, 0)
    parts: list[str] = []
    starts: list[int] = []
    offset = 0
    for page in raw.pages:
        text, counts = repair(page.text)
        for name, n in counts.items():
            totals[name] += n
        if parts:
            hyphen = _PAGE_END_HYPHEN.search(parts[-1])
            word = _PAGE_START_WORD.match(text)
            if hyphen and word:
                offset -= len(parts[-1]) - hyphen.start()
                parts[-1] = parts[-1][:hyphen.start()]
                text = text[word.end():]
                totals["hyphenation"] += 1
            else:
                parts.append(PAGE_JOIN)
                offset += len(PAGE_JOIN)
        starts.append(offset)
        parts.append(text)
        offset += len(text)
    return "".join(parts), starts, totals


def page_of(offset: int, starts: list[int]) -> int:
    return max(1, bisect.bisect_right(starts, offset))


def failed_result(result: DocumentResult, stage: str, reason: str, error_type: str, started: float) -> DocumentResult:
    result.failed = True
    result.rows["failures"] = [failure_row(result.source_path, stage, reason, error_type, result.doc_id)]
    result.seconds = time.perf_counter() - started
    return result


def process_document(path: Path, root: Path, engine: str = DEFAULT_ENGINE,
                     stored: pages.PagesRef | None = None, plan: Planned | None = None, redact_contacts: bool = False,
                     on_stage: Callable[[str], None] | None = None) -> DocumentResult:
    """Read (or take the `stored` pages), repair and extract one file; any DocumentError becomes a failures row.

    `plan`: what the run's plan saw of the file (it is read only if it still is that file).
    `redact_contacts` masks e-mail addresses and phone numbers in the page texts before anything
    else, so that every row, offset and stored page comes from the masked text (`pipeline.redact`).
    `on_stage` hears each stage as it begins: an isolated worker passes it on, so a document
    stopped for its time limit is recorded with the stage it was in.
    """
    started = time.perf_counter()
    rel = relative_path(path, root)
    result = DocumentResult(rel)
    stage = "read"
    report = on_stage or (lambda _stage: None)
    try:
        report(stage)
        raw, was_read = pages.obtain(path, engine, stored, plan)
        result.doc_id, result.from_pages = raw.doc_id, not was_read
        masked = redact_contacts and _mask_pages(raw)
        stage = "repair"
        report(stage)
        text, starts, counts = repaired_text(raw)
        stage = "extract"
        report(stage)
        ex = extract(text)
    except DocumentError as exc:
        if caused_by_memory(exc):
            return failed_result(result, exc.stage, memory_reason(), "MemoryError", started)
        return failed_result(result, exc.stage, exc.reason, type(exc).__name__, started)
    except MemoryError:
        return failed_result(result, stage, memory_reason(), "MemoryError", started)
    except RecursionError:
        return failed_result(result, stage, f"the file nests its content too deeply to be processed (at the {stage} "
                       "stage); it is probably damaged or built to break readers", "RecursionError", started)
    except (ValueError, KeyError, IndexError, TypeError, AttributeError, UnicodeError) as exc:
        # A bug or an input no rule foresaw: record it against this document, keep the batch going.
        reason = f"internal error while at the {stage} stage: {type(exc).__name__}: {exc}; please report it with this file"
        return failed_result(result, stage, reason, type(exc).__name__, started)

    doc_id = raw.doc_id
    warnings = list(raw.warnings) + list(ex.warnings)
    meeting_id = f"{doc_id}:meeting"
    if undecodable_name(path.name):
        warnings.append(NAME_WARNING)
    decisions = []
    for d in ex.decisions:
        row = dict(d)
        row.update(
            doc_id=doc_id, decision_id=f"{doc_id}:{d['ordinal']}", doc_type=ex.doc_type,
            extractor_version=EXTRACTOR_VERSION, organization=ex.organization,
            # an earlier handling (käsittelyhistoria) was made at a meeting this document does not record
            meeting_id=meeting_id if ex.meetings and d.get("current") else None,
            page_start=page_of(d["char_start"], starts), page_end=page_of(max(d["char_start"], d["char_end"] - 1), starts),
        )
        decisions.append(row)
    mentions = [dict(m, doc_id=doc_id, page=page_of(m["char_start"], starts)) for m in ex.mentions]
    meetings = [dict(m, doc_id=doc_id, meeting_id=meeting_id, extractor_version=EXTRACTOR_VERSION)
                for m in ex.meetings]
    votes = [dict(v, doc_id=doc_id, decision_id=f"{doc_id}:{v['ordinal']}", page=page_of(v["char_start"], starts),
                  extractor_version=EXTRACTOR_VERSION) for v in ex.votes]
    empty_text = not text.strip()
    status = "partial" if warnings or empty_text else "ok"
    if empty_text and not warnings:
        warnings.append("the document has no text")
    result.seconds = time.perf_counter() - started
    document = {
        "doc_id": doc_id, "source_path": rel, "file_size": raw.size, "doc_type": ex.doc_type,
        "doc_type_rule": ex.doc_type_rule, "status": status, "warnings": warnings,
        "organization": ex.organization, "n_pages": len(raw.pages), "n_chars": len(text), "page_starts": starts,
        "n_decisions": len(decisions), "engine": raw.engine, "encoding": raw.encoding,
        "ocr_pages": raw.ocr_pages, "seconds": round(result.seconds, 4),
        "sections_stated": ex.sections_stated, "sections_found": ex.sections_found,
        "sections_missing": ex.sections_missing,
        "redacted": redact_contacts or bool(stored is not None and stored.redacted and not was_read),
        "extractor_version": EXTRACTOR_VERSION, "processed_at": _now(),
        **{f"repair_{k}": v for k, v in counts.items()},
    }
    result.rows = {"documents": [document], "decisions": decisions, "meetings": meetings, "votes": votes,
                   "mentions": mentions}
    if was_read or masked:  # masked: the stored pages still hold what was masked; they are replaced
        result.rows["pages"] = pages.page_rows(raw)
    return result


def _mask_pages(raw: RawDocument) -> bool:
    """Mask the contacts in every page text in place; True when any text changed."""
    changed = False
    for page in raw.pages:
        masked = redact(page.text)
        changed |= masked != page.text
        page.text = masked
    return changed
