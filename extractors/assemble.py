"""From a segmented document to decision rows, each value with the mention it came from.

`extract(text)` is the whole extraction step: tokenize once, read the meeting and segment the
document (extractors/segment.py), then fill one row per handling by a loop over the field table
(extractors/columns.py), each field's function in extractors/fill.py. Every value written to a
row is also written as a mention with the row's ordinal and the column it supplied, so any cell
can be traced to its characters, page and rule.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from spacy.tokens import Doc

from extractors import appeals, bodies, dates, diary_ids, headings
from extractors.base import Mention, built_once
from extractors.candidates import Candidate
from extractors.columns import DECISION_FIELDS
from extractors.doctype import classify_doc_type, meeting_context, officer_context
from extractors.fill import Handle, Row, Shared
from extractors.meeting import add_meeting
from extractors.nlp import doc_text, make_doc
from extractors.items import Segmentation
from extractors.segment import sections_stated, segment


@dataclass
class Extraction:
    doc_type: str
    doc_type_rule: str | None
    organization: str | None
    decisions: list[dict[str, Any]] = field(default_factory=list)
    meetings: list[dict[str, Any]] = field(default_factory=list)
    votes: list[dict[str, Any]] = field(default_factory=list)
    mentions: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    sections_stated: list[int] = field(default_factory=list)
    sections_found: list[int] = field(default_factory=list)

    @property
    def sections_missing(self) -> list[int]:
        """Stated but not found (the self-check)."""
        found = set(self.sections_found)
        return [n for n in self.sections_stated if n not in found]


@built_once
def _fills() -> tuple[Callable[[Handle], None], ...]:
    """The field table's fill functions, resolved once, in table order."""
    out = []
    for f in DECISION_FIELDS:
        if f.fill is None:
            continue
        module, _, name = f.fill.partition(":")
        out.append(getattr(importlib.import_module(module), name))
    return tuple(out)


def closing_appeals(doc: Doc, seg: Segmentation) -> dict[int, tuple[str, Mention | None]]:
    """Appeals assigned by § on the closing pages, each with the phrase that names the kind.

    Only the closing pages are read (or, where no closing heading was found, what follows the last
    item's decision): an item line or a contents entry "§ 108 OIKAISUVAATIMUS …" lists nothing."""
    if not seg.items:
        return {}
    start = seg.closing
    if start is None:
        last = seg.items[-1].handlings[-1]
        decided = [s.end for s in last.sections if s.label in ("decision", "proposal", "proposal_revised")]
        start = max(decided, default=last.start)
    region = doc.char_span(start, len(doc_text(doc)), alignment_mode="expand")
    out: dict[int, tuple[str, Mention | None]] = {}
    for section, kind, mention in appeals.section_lists(region):
        out.setdefault(section, (kind, mention))
    return out


def _self_check(seg: Segmentation, ex: Extraction) -> None:
    """What the document says it holds against what was found: a § it lists but that was not found
    makes the document partial, with a warning that names it."""
    ex.sections_stated = sections_stated(seg)
    found = {h.marker.section if h.marker else it.marker.section
             for it in seg.items for h in it.handlings if h.current and (h.marker or it.marker)}
    ex.sections_found = sorted(found)
    missing = ex.sections_missing
    if missing:
        ex.warnings.append(f"the document lists § {_ranges(ex.sections_stated)} but § {_ranges(missing)} "
                           "were not found; check those pages of the source")


def _ranges(numbers: list[int]) -> str:
    """[12, 13, 14, 17] → "12–14, 17"."""
    out: list[str] = []
    for n in sorted(numbers):
        if out and n == int(out[-1].split("–")[-1]) + 1:
            out[-1] = f"{out[-1].split('–')[0]}–{n}"
        else:
            out.append(str(n))
    return ", ".join(out)


def extract(text: str) -> Extraction:
    heads = headings.find(text)
    doc = make_doc(text, [h.remainder_start for h in heads if h.form == "glued"])
    seg = segment(doc, heads)
    ctx = seg.context
    found_dates = dates.find(doc)  # once per document: the letterhead and the cover read from it
    meeting = meeting_context(text, seg, found_dates)
    officer = officer_context(text, seg)
    doc_type, doc_type_rule = classify_doc_type(text, seg, officer is not None)
    ex = Extraction(doc_type, doc_type_rule, ctx.organization)
    if ctx.organization_mention:
        ex.mentions.append(ctx.organization_mention.row(field="organization"))
    if doc_type == "other":
        return ex
    _self_check(seg, ex)
    history: dict[int, list[Candidate]] = {}
    for c in seg.candidates:
        if c.date and (c.dated or c.form in ("pykala", "history_row")):
            history.setdefault(c.section, []).append(c)
    shared = Shared(text, doc, seg, doc_type, bodies.body_names(text), meeting, officer, diary_ids.find(doc),
                    closing_appeals(doc, seg) if doc_type == "minutes" else {}, history)
    fills = _fills()
    ordinal = 0
    for item in seg.items:
        for handling in item.handlings:
            row = Row(ordinal)
            handle = Handle(shared, item, handling, row)
            for fill in fills:
                fill(handle)
            ex.decisions.append(row.values)
            ex.mentions.extend(row.mentions)
            ex.votes.extend(row.voters)
            ordinal += 1
    if doc_type in ("minutes", "agenda"):
        add_meeting(text, seg, ex, meeting, ctx.organization, ctx.organization_mention, found_dates)
    return ex
