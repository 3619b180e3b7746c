"""From a segmented document to decision rows, each value with the mention it came from.

`extract(text)` is the whole extraction step: tokenize once, find markers, headings and values,
segment, then fill one row per handling. Every value written to a row is also written as a
mention with the row's ordinal and the column it supplied, so any cell can be traced to its
characters, page and rule.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from extractors import appeals, bodies, dates, diary_ids, meetings, outcomes, people, recusals, votes
from extractors.base import Mention, by_id
from pipeline.doctype import classify_doc_type, meeting_context, officer_context
from pipeline.nlp import make_doc
from pipeline.segment import FRAME_LABELS, Handling, Item, Section, Segmentation, segment

_PROPOSAL_LABELS = ("proposal", "proposal_revised")
_REVISED = re.compile(
    r"(?:muutti|muuttaa)\s+(?:päätös)?ehdotusta(?:an)?\b[^:]{0,160}?:[ \t]*\n"
    r"|[Mm]uutettu päätösehdotus:[ \t]*\n|muutetun ehdotuksen mukaan:[ \t]*\n"
)
_EVENT = re.compile(r"\b(poistui|saapui|totesi|ehdotti|kannatt|keskustelun|äänest|esitteli|puheenjohtaja|hyväksyi)", re.IGNORECASE)
_SIGNATURE = re.compile(r"\n[^\n]*\n[^\n]*allekirjoitettu sähköisesti[^\n]*\s*$", re.IGNORECASE)


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


def _clean(text: str) -> str | None:
    """Section text as a field: trimmed, blank lines kept as paragraph breaks, chrome lines gone."""
    lines = [ln.rstrip() for ln in text.strip().split("\n")]
    out = "\n".join(ln for ln in lines if not re.fullmatch(r"[\s\-–_]{3,}", ln))
    out = re.sub(r"\n\s*\n(\s*\n)+", "\n\n", out).strip()
    return out or None


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


def _span_mention(kind: str, text: str, start: int, end: int, rule_id: str) -> Mention:
    return Mention(kind, text[start:end], None, start, end, rule_id)


def _text_of(text: str, section: Section) -> tuple[str, int, int]:
    return text[section.start:section.end], section.start, section.end


def _proposal(text: str, handling: Handling) -> tuple[str | None, Mention | None, str | None, Mention | None]:
    """The proposal text and, where the heading or first line names one, the presenter."""
    sections = handling.of(*_PROPOSAL_LABELS)
    if not sections:
        return None, None, None, None
    sec = sections[-1]
    body, start, end = _text_of(text, sec)
    presenter, p_mention = None, None
    head = sec.heading
    if head.remainder and people.looks_like_person_line(head.remainder):
        presenter, p_mention = _person_or_role(text, head.remainder_start, head.line_end, head.rule_id)
        start = head.line_end
        body = text[start:end]
    else:
        first = re.match(r"\s*([^\n]+)\n", body)
        if first and first.group(1).rstrip().endswith(":") and people.looks_like_person_line(first.group(1)):
            s = start + first.start(1)
            presenter, p_mention = _person_or_role(text, s, s + len(first.group(1)), head.rule_id)
            start += first.end()
            body = text[start:end]
    if presenter is None:
        # "Kaupunginhallituksen ehdotus:", "Teknisen johtajan ehdotus:": the proposer, in nominative.
        words = text[head.start:head.end].rstrip(":").split()
        if len(words) >= 2 and words[-1].lower().endswith("ehdotus") and words[0].lower() not in ("päätös", "esitys"):
            owner = " ".join(words[:-1])
            presenter = " ".join(people.nominative(w) for w in words[:-1])
            p_mention = Mention("presenter", owner, presenter, head.start, head.start + len(owner), head.rule_id)
    # CloudNC: "Ehdotus" / "Esittelijä • X" / proposal text: the text went to the presenter section.
    if not (_clean(body) or "").strip():
        nxt = [s for s in handling.sections if s.start > sec.start and s.label == "presenter"]
        if nxt:
            rest = _after_person_lines(text, nxt[0])
            if rest:
                start, end = rest
                body = text[start:end]
    cleaned = _clean(body)
    if cleaned is None:
        return None, None, presenter, p_mention
    return cleaned, _span_mention("proposal", text, start, end, head.rule_id), presenter, p_mention


def _after_person_lines(text: str, section: Section) -> tuple[int, int] | None:
    """Where the text after a presenter's person lines starts (CloudNC puts the proposal there)."""
    pos = section.start
    for line in re.finditer(r"[^\n]*\n?", text[section.start:section.end]):
        s = line.group(0).strip()
        if s and not people.looks_like_person_line(s):
            return section.start + line.start(), section.end
        pos = section.start + line.end()
    return None if pos >= section.end else (pos, section.end)


def _person_or_role(text: str, start: int, end: int, rule_id: str) -> tuple[str | None, Mention | None]:
    found, mentions = people.people(text[start:end], start, "presenter", rule_id)
    if found:
        return found[0].name, mentions[0]
    for line in re.finditer(r"[^\n]+", text[start:end]):
        role = people.role_of(line.group(0))
        if role:
            s = start + line.start() + (len(line.group(0)) - len(line.group(0).lstrip(" •\t")))
            return role, Mention("presenter", text[s:s + len(role)], role, s, s + len(role), rule_id)
    return None, None


def _presenter(text: str, handling: Handling) -> tuple[str | None, Mention | None]:
    for sec in handling.of("presenter"):
        head = sec.heading
        start = head.remainder_start if head.remainder else sec.start
        end = sec.end
        name, mention = _person_or_role(text, start, end, head.rule_id)
        if name:
            return name, mention
    return None, None


def _preparers(text: str, handling: Handling, item: Item) -> tuple[list[str], list[Mention]]:
    for labels in (("preparer",), ("contact",)):
        names: list[str] = []
        mentions: list[Mention] = []
        for sec in handling.of(*labels):
            head = sec.heading
            if by_id("headings").get(head.rule_id, {}).get("person_in_heading"):
                found, ms = people.people(text[head.start:head.end], head.start, "preparer", head.rule_id)
                names += [p.name for p in found if p.name not in names]
                mentions += ms
                continue
            start = head.remainder_start if head.remainder else sec.start
            stop = start
            for line in re.finditer(r"[^\n]*\n?", text[start:sec.end]):
                s = line.group(0).strip()
                if not s:
                    if stop > start:
                        break
                    continue
                if not people.looks_like_person_line(s) and not people.names_in_line(s):
                    break
                stop = start + line.end()
            found, ms = people.people(text[start:stop], start, "preparer", head.rule_id)
            names += [p.name for p in found if p.name not in names]
            mentions += ms
        if names:
            return names, mentions
    return [], []


def _revised_proposal(text: str, processing: list[Section]) -> tuple[str | None, Mention | None]:
    """A presenter's changed proposal, written out in the Käsittely section."""
    for sec in processing:
        chunk = text[sec.start:sec.end]
        m = _REVISED.search(chunk)
        if not m:
            continue
        start = sec.start + m.end()
        paragraphs = re.split(r"(\n\s*\n)", text[start:sec.end])
        end = start
        for k in range(0, len(paragraphs), 2):
            para = paragraphs[k]
            if para.strip() and _EVENT.search(para) and k > 0:
                break
            end += len(para) + (len(paragraphs[k + 1]) if k + 1 < len(paragraphs) else 0)
        value = _clean(text[start:end])
        if value:
            return value, _span_mention("proposal", text, start, end, "assemble.revised_proposal")
    return None, None


def _decision_text(text: str, handling: Handling) -> tuple[str | None, Mention | None, Section | None]:
    secs = handling.of("decision")
    if not secs:
        return None, None, None
    sec = secs[-1]
    start, end = sec.start, sec.end
    chunk = text[start:end]
    sig = _SIGNATURE.search(chunk)
    if sig:
        end = start + sig.start()
    value = _clean(text[start:end])
    if value is None:
        return None, None, sec
    return value, _span_mention("decision", text, start, end, sec.heading.rule_id), sec


_CLOSING_RULES = frozenset({"headings.closing_appeal_page", "headings.otteen_oikeaksi",
                            "headings.oikeaksi_todistaa", "headings.nimikirjaimet"})


def _content_end(text: str, handling: Handling) -> int:
    """Where the handling's own text ends: closing pages after the last item (appeal instructions
    for the whole minutes, "Otteen oikeaksi todistaa") are not part of it."""
    decided = [k for k, sec in enumerate(handling.sections) if sec.label in ("decision", "proposal", "proposal_revised")]
    after = handling.sections[decided[-1] + 1:] if decided else []
    return next((sec.heading.start for sec in after if _is_closing(text, sec)), handling.end)


def _is_closing(text: str, sec: Section) -> bool:
    """A closing page's heading: a known closing block, or an appeal heading in capitals
    ("VALITUSOSOITUS", "MUUTOKSENHAKUOHJEET") after the item's decision."""
    head = sec.heading
    words = text[head.start:head.end].rstrip(": ")
    return head.rule_id in _CLOSING_RULES or (sec.label in ("appeal", "other") and len(words) >= 8 and words.isupper())


def _first_substantive(handling: Handling) -> int:
    """Where the item's own sections begin ("Lataa", "Tausta" and the like do not count)."""
    return next((s.heading.start for s in handling.sections if s.label not in FRAME_LABELS), handling.end)


def _doc_spans(doc, sections: list[Section]):  # noqa: ANN001, ANN202 - spaCy Doc → Span list
    out = []
    for sec in sections:
        span = doc.char_span(sec.start, sec.end, alignment_mode="expand")
        if span is not None:
            out.append(span)
    return out


def _merge(doc, sections: list[Section]):  # noqa: ANN001, ANN202
    """One span covering several sections (for classifiers that read a whole block)."""
    if not sections:
        return None
    start = min(s.start for s in sections)
    end = max(s.end for s in sections)
    return doc.char_span(start, end, alignment_mode="expand")


def _closing_appeals(doc) -> dict[int, tuple[str, Mention | None]]:  # noqa: ANN001
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
    organization, org_mention = bodies.organization(text)
    meeting = meeting_context(text, seg, known)
    officer = officer_context(text, seg)
    doc_type, doc_type_rule = classify_doc_type(text, seg, officer is not None)
    ex = Extraction(doc_type, doc_type_rule, organization)
    if org_mention:
        ex.mentions.append(org_mention.row(field="organization"))
    if doc_type == "other":
        return ex
    diary = diary_ids.find(doc)
    date_mentions = [m for m in dates.find(doc) if m.kind == "date"]
    closing = _closing_appeals(doc) if doc_type == "minutes" else {}
    history = {m.section: m for m in seg.markers if m.kind in ("handling", "pykala") and m.date}
    ordinal = 0
    for item in seg.items:
        for handling in item.handlings:
            row = _Row(ordinal)
            _fill(text, doc, seg, item, handling, row, known, meeting, officer, diary, date_mentions, closing, history)
            ex.decisions.append(row.values)
            ex.mentions.extend(row.mentions)
            ex.votes.extend(row.voters)
            ordinal += 1
    if doc_type in ("minutes", "agenda"):
        _meeting(text, doc, seg, ex, meeting, organization, org_mention)
    return ex


_LEGALITY_TITLE = re.compile(r"laillisuus|päätösvaltaisuus", re.IGNORECASE)
_CHECKERS_TITLE = re.compile(r"pöytäkirjan\s*tarkast", re.IGNORECASE)
_CHECKERS = re.compile(r"tarkastajiksi\s+(?:\S+\s+)?(?:valittiin|valitaan|valitsi|nimettiin)\s+(?:\w+\s+)?"
                       r"(?:jäsenet\s+|valtuutetut\s+)?([^.\n]+)", re.IGNORECASE)


def _meeting_from_items(text: str, ex: Extraction, cover: meetings.Cover) -> None:
    """Where the cover is silent: legality, checkers and the § range from the items themselves."""
    current = [d for d in ex.decisions if d.get("current") and d.get("section") is not None]
    cited = {(m["decision_ordinal"], m["field"]): m for m in ex.mentions if m["decision_ordinal"] is not None}
    if "legality" not in cover.values and ex.doc_type == "minutes":
        for d in current:
            column = next((c for c in ("decision", "proposal") if "päätösvaltai" in (d.get(c) or "")), None)
            statement = d.get(column) if column else None
            if d.get("title") and _LEGALITY_TITLE.search(d["title"]) and statement:
                m = cited.get((d["ordinal"], column))
                cover.values["legality"] = " ".join(statement.split())
                cover.values["quorum"] = "ei ole päätösvaltainen" not in statement
                if m:
                    cover.mentions.setdefault("legality", []).append(
                        Mention("legality", m["text"], None, m["char_start"], m["char_end"], m["rule_id"]))
                break
    if "checkers" not in cover.values:
        for d in current:
            body = d.get("decision") or ""
            hit = _CHECKERS.search(body) if d.get("title") and _CHECKERS_TITLE.search(d["title"]) else None
            if hit:
                found, ms = people.people(hit.group(1), 0, "person", "assemble.checkers")
                m = cited.get((d["ordinal"], "decision"))
                if found and m:
                    cover.put("checkers", [p.name for p in found],
                              Mention("person", m["text"], None, m["char_start"], m["char_end"], "assemble.checkers"))
                break
    if "section_first" not in cover.values and current:
        first, last = current[0], current[-1]
        for column, d in (("section_first", first), ("section_last", last)):
            m = cited.get((d["ordinal"], "section"))
            cover.put(column, d["section"], Mention("section", m["text"], str(d["section"]), m["char_start"],
                                                    m["char_end"], m["rule_id"]) if m else None)


def _meeting(text, doc, seg: Segmentation, ex: Extraction, meeting, organization, org_mention) -> None:  # noqa: ANN001
    """The meetings row: the current handlings' body and date, the letterhead and the cover."""
    current = [d for d in ex.decisions if d.get("current")]
    bodies_ = [d["body"] for d in current if d.get("body")]
    dates_ = [d["meeting_date"] for d in current if d.get("meeting_date")]
    body = max(set(bodies_), key=bodies_.count) if bodies_ else meeting.body
    when = max(set(dates_), key=dates_.count) if dates_ else meeting.date
    cover = meetings.Cover()
    cover.put("organization", organization, org_mention)
    cover.put("body", body, meeting.body_mention if body == meeting.body else None)
    cover.put("meeting_date", when, meeting.date_mention if when == meeting.date else None)
    # Where the meeting's body/date came from the handlings, cite the handling's own mentions.
    for column, value, key in (("body", body, "body"), ("meeting_date", when, "meeting_date")):
        if column not in cover.mentions:
            ordinal = next((d["ordinal"] for d in current if d.get(key) == value), None)
            ex.mentions.extend(dict(m, field=f"meeting.{column}", decision_ordinal=None) for m in list(ex.mentions)
                               if m["decision_ordinal"] == ordinal and m["field"] == key)
    head_end = seg.front_end if seg.front_end else min(len(text), 1500)
    number, n_mention = meetings.number(text, max(head_end, min(len(text), 1500)))
    cover.put("number", number, n_mention)
    # The cover: the front matter of full minutes, or what an extract prints above its first handling.
    cover_end = seg.front_end or min((h.marker.start for it in seg.items for h in it.handlings if h.marker), default=0)
    if cover_end:
        head = doc.char_span(0, cover_end, alignment_mode="contract")
        times = [m for m in dates.find(head.as_doc() if head is not None else doc) if m.kind in ("time", "time_range")]
        parsed = meetings.parse_cover(text, 0, cover_end, times)
        for column, value in parsed.values.items():
            cover.put(column, value, *parsed.mentions.get(column, []))
    _meeting_from_items(text, ex, cover)
    row: dict[str, Any] = {"meeting_id": "", "doc_type": ex.doc_type, **cover.values}
    ex.meetings.append(row)
    for column, ms in cover.mentions.items():
        ex.mentions.extend(m.row(field=f"meeting.{column}") for m in ms)


def _fill(text, doc, seg: Segmentation, item: Item, handling: Handling, row: _Row, known, meeting, officer,  # noqa: ANN001, PLR0913
          diary: list[Mention], date_mentions: list[Mention], closing: dict[int, tuple[str, Mention]],
          history: dict[int, Any]) -> None:
    marker = handling.marker
    section = marker.section if marker else (item.marker.section if item.marker else None)
    row.set("section", section, (marker or item.marker).mention(text) if (marker or item.marker) else None)
    row.values["char_start"], row.values["char_end"] = handling.start, _content_end(text, handling)
    row.values["current"] = handling.current

    # Body and date: the handling line, else a summary line of the same §, else the meeting.
    source = marker or (history.get(section) if section is not None else None)
    body_raw, date_raw, src_rule = None, None, None
    if source is not None:
        body_raw, date_raw, src_rule = source.body, source.date, source.rule_id
    if officer is not None:
        body_raw = body_raw or officer.body
        date_raw = date_raw or officer.date_text
    body = bodies.expand(body_raw, known) if body_raw else meeting.body
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
    parsed = dates.parse_date(date_raw) if date_raw else None
    if parsed is not None:
        d_start = text.find(date_raw, source.start) if source is not None else -1
        row.set("meeting_date", parsed,
                Mention("date", date_raw, parsed.isoformat(), d_start, d_start + len(date_raw), src_rule or "assemble.officer")
                if d_start >= 0 else (officer.date_mention if officer else None))
    else:
        row.set("meeting_date", meeting.date, meeting.date_mention)

    # Diary number: in the handling before its first heading, else in the item's head.
    first_head = _first_substantive(handling)
    candidates = [m for m in diary if handling.start <= m.start < first_head] or \
                 [m for m in diary if item.start <= m.start < _first_substantive(item.handlings[0])]
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

    names, pmentions = _preparers(text, handling, item)
    row.values["preparers"] = names
    for m in pmentions:
        row.cite(m, "preparers")

    proposal, prop_mention, presenter, pres_mention = _proposal(text, handling)
    named, named_mention = _presenter(text, handling)
    if named:
        presenter, pres_mention = named, named_mention
    if officer is not None:
        presenter, pres_mention, proposal, prop_mention = None, None, None, None
    row.set("presenter", presenter, pres_mention)

    decision, dec_mention, dec_section = _decision_text(text, handling)
    processing = handling.of("processing")
    revised, rev_mention = _revised_proposal(text, processing)
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
    row.set("appeal", appeal, a_mention)
