"""What kind of document this is, and the meeting (or officer decision) it records.

doc_type follows GOLD.md: `minutes` (pöytäkirja, ote), `agenda` (esityslista: proposals but no
decisions yet), `officer_decision` (viranhaltijapäätös) and `other` (news, press releases,
summaries: decision verbs, but no headed item). The evidence that decided it is kept as a rule id.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from extractors import bodies, dates, people
from extractors.base import Mention
from extractors.items import Segmentation

_HEAD_CHARS = 1500
_DATE = re.compile(r"\b\d{1,2}\.\d{1,2}\.\d{4}\b")


@dataclass
class Meeting:
    body: str | None
    body_mention: Mention | None
    date: date | None
    date_mention: Mention | None


@dataclass
class Officer:
    body: str | None
    date_text: str | None
    date_mention: Mention | None
    body_mention: Mention | None = None


def classify_doc_type(text: str, seg: Segmentation, officer: bool) -> tuple[str, str]:
    """doc_type from the letterhead's word and the structure, each checked against the other.

    The word (PÖYTÄKIRJA, ESITYSLISTA, VIRANHALTIJAPÄÄTÖS, TIEDOTE ...) says what the document
    claims to be; the structure says what it holds: an agenda's current handlings have no decision
    text, minutes record decisions, news has no headed items. A keyword elsewhere in the text (a
    press release quoting "pöytäkirja") decides nothing.
    """
    word = seg.context.doc_word
    if not seg.items:
        return "other", "doctype.no_items"
    if word == "other":
        return "other", "doctype.word_other"
    if officer:
        return "officer_decision", "doctype.officer_headings" if word != "officer" else "doctype.word_officer"
    handlings = [h for item in seg.items for h in item.handlings]
    current = [h for h in handlings if h.current]
    decided = [h for h in current if _decided(text, h)]
    proposed = [h for h in handlings if h.of("proposal", "proposal_revised")]
    if word == "agenda":
        return "agenda", "doctype.word_agenda"
    if word in ("minutes", "extract"):
        return "minutes", f"doctype.word_{word}"
    if decided:
        return "minutes", "doctype.decided"
    if proposed:
        return "agenda", "doctype.no_decisions"
    return "other", "doctype.no_proposal_or_decision"


def _decided(text: str, h: object) -> bool:
    return any(s.label == "decision" and text[s.start:s.end].strip() for s in h.sections)  # type: ignore[attr-defined]


def officer_context(text: str, seg: Segmentation) -> Officer | None:
    """For a viranhaltijapäätös: the deciding officer (as a body) and the decision date."""
    heads = {h.label: h for h in seg.headings}
    if "officer" not in heads and "decision_date" not in heads and seg.context.doc_word != "officer":
        return None
    if not any(h.label == "decision" for h in seg.headings):
        return None
    body, body_mention = None, None
    if "officer" in heads:
        # "Tekninen johtaja Antti Kurki": the role is what precedes the name.
        h = heads["officer"]
        rem = h.remainder or next((ln.strip() for ln in text[h.end:h.end + 200].split("\n") if ln.strip()), "")
        names = people.names_in_line(rem)
        body = rem[: rem.find(names[0].name)].strip(" ,") if names else rem.strip()
        body = body or None
        at = text.find(body, h.start) if body else -1
        body_mention = Mention("body", body, body, at, at + len(body), h.rule_id) if at >= 0 else None
    date_text, mention = None, None
    if "decision_date" in heads:
        h = heads["decision_date"]
        m = _DATE.search(text, h.end, h.line_end)
        if m:
            date_text = m.group(0)
            parsed = dates.parse_date(date_text)
            mention = Mention("date", date_text, parsed.isoformat() if parsed else None, m.start(), m.end(), h.rule_id)
    return Officer(body, date_text, mention, body_mention)


def meeting_context(text: str, seg: Segmentation, found_dates: list[Mention]) -> Meeting:
    """The body and date of the meeting, from the document's head (letterhead, cover).

    `found_dates` are the document's date mentions (extractors.dates.find), in text order."""
    ctx = seg.context
    if ctx.body is not None and ctx.date is not None:
        return Meeting(ctx.body, ctx.body_mention, ctx.date, ctx.date_mention)
    head_end = max(_HEAD_CHARS, seg.front_end) if seg.front_end < 6000 else _HEAD_CHARS
    head = text[:head_end]
    body, body_mention = ctx.body, ctx.body_mention
    found = bodies.first_body(head) if body is None else None
    if found:
        body, start, end = found
        body_mention = Mention("body", text[start:end], body, start, end, "bodies.body_suffix")
    meeting_date, date_mention = ctx.date, ctx.date_mention
    for m in found_dates if meeting_date is None else []:
        if m.end > head_end:
            break
        if m.kind == "date" and m.value:
            meeting_date = date.fromisoformat(m.value)
            date_mention = m
            break
    return Meeting(body, body_mention, meeting_date, date_mention)
