"""From a segmented document to decision rows, each value with the mention it came from.

`extract(text)` is the whole extraction step: tokenize once, find markers, headings and values,
segment, then fill one row per handling. Every value written to a row is also written as a
mention with the row's ordinal and the column it supplied, so any cell can be traced to its
characters, page and rule.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from spacy.tokens import Doc, Span

from extractors import appeals, bodies, dates, diary_ids, outcomes, recusals, votes
from extractors.base import Mention
from extractors.candidates import Candidate
from extractors.context import parse_dmy
from extractors import fields
from extractors.doctype import Meeting, Officer, classify_doc_type, meeting_context, officer_context
from extractors.meeting import add_meeting
from extractors.nlp import make_doc
from extractors.segment import Handling, Item, Section, Segmentation, segment


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


class _Row:
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


def _merge(doc: Doc, sections: list[Section]) -> Span | None:
    """One span covering several sections (for classifiers that read a whole block)."""
    if not sections:
        return None
    start = min(s.start for s in sections)
    end = max(s.end for s in sections)
    return doc.char_span(start, end, alignment_mode="expand")


def _closing_appeals(doc: Doc) -> dict[int, tuple[str, Mention | None]]:
    """Appeals assigned by § on the closing pages, each with the phrase that names the kind."""
    ranges = appeals.section_ranges(doc[:])
    if not ranges:
        return {}
    found = appeals.find(doc[:])
    last = {m.value: m for m in found}
    return {section: (kind, last.get(kind)) for section, kind in ranges.items()}


def extract(text: str) -> Extraction:
    doc = make_doc(text)
    seg = segment(doc)
    known = bodies.body_names(text)
    ctx = seg.context
    organization, org_mention = ctx.organization, ctx.organization_mention
    found_dates = dates.find(doc)  # once per document: the letterhead and the cover read from it
    meeting = meeting_context(text, seg, found_dates)
    officer = officer_context(text, seg)
    doc_type, doc_type_rule = classify_doc_type(text, seg, officer is not None)
    ex = Extraction(doc_type, doc_type_rule, organization)
    if org_mention:
        ex.mentions.append(org_mention.row(field="organization"))
    if doc_type == "other":
        return ex
    diary = diary_ids.find(doc)
    closing = _closing_appeals(doc) if doc_type == "minutes" else {}
    history: dict[int, list[Candidate]] = {}
    for c in seg.candidates:
        if c.date and (c.dated or c.form in ("pykala", "history_row")):
            history.setdefault(c.section, []).append(c)
    ordinal = 0
    for item in seg.items:
        for handling in item.handlings:
            row = _Row(ordinal)
            _fill(text, doc, seg, item, handling, row, known, meeting, officer, diary, closing, history)
            ex.decisions.append(row.values)
            ex.mentions.extend(row.mentions)
            ex.votes.extend(row.voters)
            ordinal += 1
    if doc_type in ("minutes", "agenda"):
        add_meeting(text, seg, ex, meeting, organization, org_mention, found_dates)
    return ex


def _fill(text: str, doc: Doc, seg: Segmentation, item: Item, handling: Handling, row: _Row,  # noqa: PLR0913
    known: Counter[str], meeting: Meeting, officer: Officer | None, diary: list[Mention],
          closing: dict[int, tuple[str, Mention | None]],
          history: dict[int, list[Candidate]]) -> None:
    marker = handling.marker
    section = marker.section if marker else (item.marker.section if item.marker else None)
    row.set("section", section, (marker or item.marker).mention(text) if (marker or item.marker) else None)
    row.values["char_start"], row.values["char_end"] = handling.start, fields.content_end(text, handling)
    row.values["current"] = handling.current

    # Body and date: the handling's own line, else a line of the same § that names them (a history
    # table row, Dynasty's "Pöytäkirja …/Pykälä N"), else the meeting's.
    source = marker
    if source is None and section is not None:
        same = history.get(section, [])
        source = next((c for c in reversed(same) if seg.own.get(c.line) is (True if handling.current else False)),
                      same[-1] if same and not handling.current else None)
    body_raw, date_raw, src_rule = None, None, None
    if source is not None:
        body_raw, date_raw, src_rule = source.body, source.date, source.rule_id
    if officer is not None:
        body_raw = body_raw or officer.body
        date_raw = date_raw or officer.date_text
    if body_raw and handling.current and seg.own.get(source.line if source else -1) and meeting.body:
        body = meeting.body
    else:
        body = (bodies.finnish_name(body_raw) or bodies.expand(body_raw, known)) if body_raw else meeting.body
    if source is not None and body_raw:
        b_start = text.find(body_raw, source.start, source.end)
        body_mention = Mention("body", body_raw, body, b_start, b_start + len(body_raw), src_rule)
    elif officer is not None and officer.body_mention is not None:
        body_mention = officer.body_mention
    else:
        body_mention = meeting.body_mention
    row.set("body", body, body_mention)
    aliases = [body_raw] if body_raw and body_raw != body else []
    row.values["body_aliases"] = aliases
    parsed = parse_dmy(date_raw) if date_raw else None
    if parsed is not None:
        d_start = text.find(date_raw, source.start) if source is not None else -1
        row.set("meeting_date", parsed,
                Mention("date", date_raw, parsed.isoformat(), d_start, d_start + len(date_raw), src_rule or "assemble.officer")
                if d_start >= 0 else (officer.date_mention if officer else None))
    else:
        row.set("meeting_date", meeting.date, meeting.date_mention)

    # Diary number: in the handling before its first heading, else in the item's head.
    first_head = fields.first_substantive(handling)
    candidates = [m for m in diary if handling.start <= m.start < first_head] or \
                 [m for m in diary if item.start <= m.start < fields.first_substantive(item.handlings[0])]
    if not candidates and item is seg.items[0] and len(seg.items) == 1:
        candidates = [m for m in diary if m.start < item.start]
    d = candidates[0] if candidates else None
    row.set("diary_id", d.value if d else None, d)
    row.values["diary_id_norm"] = diary_ids.normalize(d.value) if d else None
    row.values["task_class"] = diary_ids.task_class(d.value) if d else None

    if item.title:
        row.set("title", item.title, Mention("title", text[item.title_start:item.title_end], item.title,
                                             item.title_start, item.title_end, "segment.title"))
    else:
        row.values["title"] = None

    names, pmentions = fields.preparers(text, handling, item)
    row.values["preparers"] = names
    for m in pmentions:
        row.cite(m, "preparers")

    proposal, prop_mention, presenter, pres_mention = fields.proposal(text, handling)
    named, named_mention = fields.presenter(text, handling)
    if named:
        presenter, pres_mention = named, named_mention
    if officer is not None:
        presenter, pres_mention, proposal, prop_mention = None, None, None, None
    row.set("presenter", presenter, pres_mention)

    decision, dec_mention, dec_section = fields.decision_text(text, handling)
    processing = handling.of("processing")
    revised, rev_mention = fields.revised_proposal(text, processing)
    if revised and officer is None:
        proposal, prop_mention = revised, rev_mention
    row.set("proposal", proposal, prop_mention)
    row.set("decision", decision, dec_mention)

    dec_span = doc.char_span(dec_section.start, dec_section.end, alignment_mode="expand") if decision else None
    proc_span = _merge(doc, processing)
    whole = doc.char_span(handling.start, handling.end, alignment_mode="expand")
    counts, vote_mention = votes.votes_for(_merge(doc, processing + ([dec_section] if decision else [])) or whole)
    if counts is None and decision is None:
        counts, vote_mention = None, None
    for key, column in (("yes", "votes_yes"), ("no", "votes_no"), ("blank", "votes_blank"), ("absent", "votes_absent")):
        row.values[column] = counts.get(key) if counts else None
    if vote_mention:
        row.cite(vote_mention, "votes")
        block = _merge(doc, processing + ([dec_section] if decision else []))
        for voter, vote, m in votes.named_votes(block) if block is not None else []:
            row.voters.append({"ordinal": row.ordinal, "voter": voter, "vote": vote, "rule_id": m.rule_id,
                               "char_start": m.start})
    outcome, rule, o_mention = outcomes.classify(dec_span, proc_span, counts is not None, proposal is not None)
    row.values["outcome"], row.values["outcome_rule"] = outcome, rule
    if o_mention:
        row.cite(o_mention, "outcome")
    unanimous, u_mention = outcomes.unanimity(dec_span, proc_span)
    if counts is not None:
        unanimous = False
    row.set("unanimous", unanimous, u_mention if unanimous is not None else None)

    recused = []
    for m in recusals.find(whole) if whole is not None else []:
        if m.value and m.value not in recused:
            recused.append(m.value)
            row.cite(m, "recused")
    row.values["recused"] = recused

    appeal, a_mention = None, None
    appeal_secs = handling.of("appeal")
    if appeal_secs:
        appeal, a_mention = appeals.classify(_merge(doc, appeal_secs))
    if appeal is None and handling.current and section in closing:
        appeal, a_mention = closing[section]
    if appeal is None and handling.current and seg.closing is not None and len(seg.items) == 1:
        # An extract's closing instructions are its one item's.
        appeal, a_mention = appeals.classify(doc.char_span(seg.closing, len(text), alignment_mode="expand"))
    row.set("appeal", appeal, a_mention)
