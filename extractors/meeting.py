"""The meetings row: the current handlings' body and date, the letterhead and the cover page.

Where the cover is silent, the items themselves say it: the legality item's decision, the
checkers' election, the first and last §.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from extractors import meetings, people
from extractors.base import Mention
from extractors.doctype import Meeting
from extractors.items import Segmentation

if TYPE_CHECKING:
    from extractors.assemble import Extraction

_LETTERHEAD_CHARS = 400
_LEGALITY_TITLE = re.compile(r"laillisuus|päätösvaltaisuus", re.IGNORECASE)
_CHECKERS_TITLE = re.compile(r"pöytäkirjan\s*tarkast", re.IGNORECASE)
_CHECKERS = re.compile(r"tarkastajiksi\s+(?:\S+\s+)?(?:valittiin|valitaan|valitsi|nimettiin)\s+(?:\w+\s+)?"
                       r"(?:jäsenet\s+|valtuutetut\s+)?([^.\n]+)", re.IGNORECASE)


def _from_items(text: str, ex: Extraction, cover: meetings.Cover) -> None:
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


def add_meeting(text: str, seg: Segmentation, ex: Extraction, meeting: Meeting, organization: str | None,
                org_mention: Mention | None, found_dates: list[Mention]) -> None:
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
        times = [m for m in found_dates if m.end <= cover_end and m.kind in ("time", "time_range")]
        parsed = meetings.parse_cover(text, 0, cover_end, times)
        for column, value in parsed.values.items():
            cover.put(column, value, *parsed.mentions.get(column, []))
        # No "Kokousaika" label: a time beside the letterhead's date ("Pöytäkirja 16.6.2025 18:00").
        early = [t for t in times if t.value and t.start < _LETTERHEAD_CHARS]
        if early and "start_time" not in cover.values:
            first, _, last = early[0].value.partition("/")
            cover.put("start_time", first, early[0])
            cover.put("end_time", last or None, early[0])
    _from_items(text, ex, cover)
    row: dict[str, object] = {"meeting_id": "", "doc_type": ex.doc_type, **cover.values}
    ex.meetings.append(row)
    for column, ms in cover.mentions.items():
        ex.mentions.extend(m.row(field=f"meeting.{column}") for m in ms)
