"""The fill functions of the field table (extractors/columns.py): one per field, in table order.

Each reads one handling through a `Handle` (the handling, its item, the segmentation, the
document's shared finds) and writes its columns with the mentions that justify them. Later
fields read what earlier ones wrote (the outcome reads the decision, the proposal and the votes).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from spacy.tokens import Doc, Span

from extractors import appeals, bodies, diary_ids, fields, outcomes, prose, recusals, votes
from extractors.base import Mention
from extractors.candidates import Candidate
from extractors.context import parse_dmy
from extractors.doctype import Meeting, Officer
from extractors.items import Handling, Item, Section, Segmentation


class Row:
    """One decision row under construction, collecting the mentions that justify it."""

    def __init__(self, ordinal: int) -> None:
        self.ordinal = ordinal
        self.values: dict[str, Any] = {"ordinal": ordinal}
        self.mentions: list[dict[str, Any]] = []
        self.voters: list[dict[str, Any]] = []

    def set(self, column: str, value: Any, mention: Mention | None) -> None:
        self.values[column] = value
        if mention is not None and value not in (None, [], ""):
            self.mentions.append(mention.row(field=column, decision_ordinal=self.ordinal))

    def cite(self, mention: Mention, column: str) -> None:
        self.mentions.append(mention.row(field=column, decision_ordinal=self.ordinal))


@dataclass
class Shared:
    """What the document's rows share: found once per document."""

    text: str
    doc: Doc
    seg: Segmentation
    doc_type: str
    known: Counter[str]
    meeting: Meeting
    officer: Officer | None
    diary: list[Mention]
    closing: dict[int, tuple[str, Mention | None]]
    history: dict[int, list[Candidate]]

    @cached_property
    def flat(self) -> bool:
        """The text is written one paragraph to a line (no hard wraps, no blank lines needed)."""
        return prose.is_flat(self.text)

    @cached_property
    def narrative(self) -> bool:
        """The document writes its description without a heading (no Selostus / Perustelut / …)."""
        return not any(h.label == "description" for h in self.seg.headings)


@dataclass
class Handle:
    """One handling as the fill functions see it."""

    shared: Shared
    item: Item
    handling: Handling
    row: Row
    memo: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return self.shared.text

    def span(self, sections: list[Section]) -> Span | None:
        """One span covering the sections (for classifiers that read a whole block)."""
        if not sections:
            return None
        return self.shared.doc.char_span(min(s.start for s in sections), max(s.end for s in sections),
                                         alignment_mode="expand")

    @property
    def whole(self) -> Span | None:
        h = self.handling
        return self.shared.doc.char_span(h.start, h.end, alignment_mode="expand")

    @property
    def section(self) -> int | None:
        m = self.handling.marker or self.item.marker
        return m.section if m else None


def section(h: Handle) -> None:
    m = h.handling.marker or h.item.marker
    h.row.set("section", m.section if m else None, m.mention(h.text) if m else None)


def current(h: Handle) -> None:
    h.row.values["current"] = h.handling.current
    h.row.values["char_start"] = h.handling.start
    h.row.values["char_end"] = fields.content_end(h.text, h.handling)


def _source(h: Handle) -> Candidate | None:
    """The line that names this handling's body and date: its own, else a line of the same §."""
    if h.handling.marker is not None:
        return h.handling.marker
    if h.section is None:
        return None
    same = h.shared.history.get(h.section, [])
    own = h.shared.seg.own
    want = True if h.handling.current else False
    found = next((c for c in reversed(same) if own.get(c.line) is want), None)
    if found is None and same and not h.handling.current:
        found = same[-1]
    return found


def body(h: Handle) -> None:
    s, src = h.shared, _source(h)
    raw = src.body if src is not None else None
    if s.officer is not None:
        raw = raw or s.officer.body
    if raw and h.handling.current and src is not None and s.seg.own.get(src.line) and s.meeting.body:
        value = s.meeting.body
    elif raw:
        value = bodies.finnish_name(raw) or bodies.expand(raw, s.known)
    else:
        value = s.meeting.body
    if src is not None and src.body:
        at = h.text.find(src.body, src.start, src.end)
        mention = Mention("body", src.body, value, at, at + len(src.body), src.rule_id)
    elif s.officer is not None and s.officer.body_mention is not None:
        mention = s.officer.body_mention
    else:
        mention = s.meeting.body_mention
    h.row.set("body", value, mention)
    h.row.values["body_aliases"] = [raw] if raw and raw != value else []


def date(h: Handle) -> None:
    s, src = h.shared, _source(h)
    raw = src.date if src is not None else None
    if s.officer is not None:
        raw = raw or s.officer.date_text
    parsed = parse_dmy(raw) if raw else None
    if parsed is None:
        h.row.set("meeting_date", s.meeting.date, s.meeting.date_mention)
        return
    at = h.text.find(raw, src.start) if src is not None else -1
    mention = Mention("date", raw, parsed.isoformat(), at, at + len(raw), src.rule_id if src else "assemble.officer") \
        if at >= 0 else (s.officer.date_mention if s.officer else None)
    h.row.set("meeting_date", parsed, mention)


def _diary_in(h: Handle, start: int, end: int) -> Mention | None:
    """The first diary id in text[start:end]: a labelled id anywhere, or a diary line by its place."""
    s = h.shared
    found = [m for m in s.diary if start <= m.start < end]
    for ln in s.seg.lines.between(start, end):
        if not ln.blank and (m := diary_ids.parse_line(ln.text, ln.start)) is not None:
            found.append(m)
    return min(found, key=lambda m: m.start) if found else None


def diary_id(h: Handle) -> None:
    """The handling's own (its line's tail, its head before the first section), else the item's
    header block's; an extract's single item may print it above its first line."""
    s, item, handling = h.shared, h.item, h.handling
    d = None
    if handling.marker is not None and handling.marker.tail:
        d = diary_ids.parse_line(handling.marker.tail, handling.marker.tail_start)
    if d is None:
        d = _diary_in(h, handling.start, fields.first_substantive(handling))
    if d is None:
        d = _diary_in(h, item.start, fields.first_substantive(item.handlings[0]))
    if d is None:  # the end of the item's header line, else of any of its handling lines
        tails = [c for c in item.header if c.tail] + [x.marker for x in item.handlings if x.marker and x.marker.tail]
        found = (diary_ids.parse_line(c.tail, c.tail_start) for c in tails)
        d = next((m for m in found if m is not None), None)
    if d is None and item is s.seg.items[0] and len(s.seg.items) == 1:
        before = [m for m in s.diary if m.start < item.start]
        d = before[0] if before else None
    h.row.set("diary_id", d.value if d else None, d)
    h.row.values["diary_id_norm"] = diary_ids.normalize(d.value) if d else None
    h.row.values["task_class"] = diary_ids.task_class(d.value) if d else None


def title(h: Handle) -> None:
    item = h.item
    if not item.title:
        h.row.values["title"] = None
        return
    h.row.set("title", item.title, Mention("title", h.text[item.title_start:item.title_end], item.title,
                                           item.title_start, item.title_end, "segment.title"))


def preparers(h: Handle) -> None:
    names, mentions = fields.preparers(h.text, h.handling, h.item)
    h.row.values["preparers"] = names
    for m in mentions:
        h.row.cite(m, "preparers")


def _proposal_parts(h: Handle) -> tuple[str | None, Mention | None, str | None, Mention | None]:
    if "proposal" not in h.memo:
        proposal, prop_m, presenter, pres_m = fields.proposal(h.text, h.handling, h.shared.narrative, h.shared.flat)
        named, named_m = fields.presenter(h.text, h.handling)
        if named:
            presenter, pres_m = named, named_m
        revised, rev_m = fields.revised_proposal(h.text, h.handling.of("processing"))
        if revised:
            proposal, prop_m = revised, rev_m
        if h.shared.officer is not None:
            proposal, prop_m, presenter, pres_m = None, None, None, None
        h.memo["proposal"] = (proposal, prop_m, presenter, pres_m)
    return h.memo["proposal"]


def presenter(h: Handle) -> None:
    _, _, value, mention = _proposal_parts(h)
    h.row.set("presenter", value, mention)


def proposal(h: Handle) -> None:
    value, mention, _, _ = _proposal_parts(h)
    h.row.set("proposal", value, mention)


def decision(h: Handle) -> None:
    value, mention, sec = fields.decision_text(h.text, h.handling, h.shared.narrative, h.shared.flat,
                                             h.shared.seg.context.organization)
    if h.shared.doc_type == "agenda" and h.handling.current:
        value, mention = None, None  # an agenda's own handlings are not decided yet
    h.memo["decision_section"] = sec if value else None
    h.row.set("decision", value, mention)


def _decided_blocks(h: Handle) -> Span | None:
    dec = h.memo.get("decision_section")
    return h.span(h.handling.of("processing") + ([dec] if dec else []))


def count_votes(h: Handle) -> None:
    block = _decided_blocks(h)
    counts, mention = votes.votes_for(block) if block is not None else (None, None)
    if counts is None and h.memo.get("decision_section") is not None:
        counts, mention = votes.votes_for(h.whole)  # a vote told elsewhere in the handling
    if counts is None and h.row.values.get("decision") is None:
        counts, mention = None, None
    for key in votes.ROLES:
        h.row.values[f"votes_{key}"] = counts.get(key) if counts else None
    h.memo["votes"] = counts
    if mention is None:
        return
    h.row.cite(mention, "votes")
    for voter, vote, m in votes.named_votes(block or h.whole):
        h.row.voters.append({"ordinal": h.row.ordinal, "voter": voter, "vote": vote, "rule_id": m.rule_id,
                             "char_start": m.start})


def outcome(h: Handle) -> None:
    dec = h.memo.get("decision_section")
    dec_span = h.span([dec]) if dec is not None else None
    proc_span = h.span(h.handling.of("processing"))
    value, rule, mention = outcomes.classify(dec_span, proc_span, h.memo.get("votes") is not None,
                                             h.row.values.get("proposal") is not None)
    h.row.values["outcome"], h.row.values["outcome_rule"] = value, rule
    if mention:
        h.row.cite(mention, "outcome")


def unanimous(h: Handle) -> None:
    dec = h.memo.get("decision_section")
    value, mention = outcomes.unanimity(h.span([dec]) if dec is not None else None, h.span(h.handling.of("processing")))
    if h.memo.get("votes") is not None:
        value = False
    h.row.set("unanimous", value, mention if value is not None else None)


def recused(h: Handle) -> None:
    names: list[str] = []
    whole = h.whole
    for m in recusals.find(whole) if whole is not None else []:
        if m.value and m.value not in names:
            names.append(m.value)
            h.row.cite(m, "recused")
    h.row.values["recused"] = names


def appeal(h: Handle) -> None:
    s, handling = h.shared, h.handling
    value, mention = None, None
    secs = handling.of("appeal")
    if secs:
        value, mention = appeals.classify(h.span(secs))
    if value is None and handling.current and h.section in s.closing:
        value, mention = s.closing[h.section]
    if value is None and handling.current and s.seg.closing is not None and len(s.seg.items) == 1:
        # An extract's closing instructions are its one item's.
        value, mention = appeals.classify(s.doc.char_span(s.seg.closing, len(s.text), alignment_mode="expand"))
    h.row.set("appeal", value, mention)

