"""The meeting first: what a document says about itself, read before it is segmented.

The letterhead and the cover name the organisation, the kind of document (its word: PÖYTÄKIRJA,
PÖYTÄKIRJAOTE, ESITYSLISTA, VIRANHALTIJAPÄÄTÖS ...), the body, the meeting's number and date
(the *labelled* meeting time: Kokousaika / Aika / Tid, not the first date in the text, which may
be an invitation's), and the sections it holds ("§:t 201 - 214", "Käsitellyt asiat 12–23 §").
Segmentation weighs every candidate item line against these: a line naming the meeting's own
body and date opens an item, one naming another body or an earlier date is an earlier handling.
The vocabulary is data (patterns/context.jsonl).
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from extractors import bodies
from extractors.base import Mention, built_once, load_patterns
from extractors.lines import Line, Lines

NAME = "context"
HEAD_LINES = 14            # non-blank lines of letterhead read for the document's word, body and date
_DMY = re.compile(r"(?<![\d.])(\d{1,2})\.[ \t]?(\d{1,2})\.[ \t]?(\d{4}|\d{2})(?![\d])")
_TWO_DIGIT_PIVOT = 70
# After the kind word: the line's end, a number or date, a column gap, a separator ("| Tiedote |").
_WORD_AFTER = re.compile(r"[ \t]*(?:$|\d|[|(/–-]|,)|[ \t]{2,}\S|[ \t]+(?:nro|n:o|nr)\b", re.IGNORECASE)
_LABEL_AFTER = re.compile(r"[ \t]*(?::|$|[ \t]{2,}|[ \t]+(?=\S))")
_MAX_RANGE = 400


@dataclass
class Context:
    """The meeting as the document states it; every value with the mention it came from."""

    organization: str | None = None
    organization_mention: Mention | None = None
    doc_word: str | None = None              # minutes | extract | agenda | officer | other
    doc_word_mention: Mention | None = None
    body: str | None = None                  # the body as printed in the letterhead (nominative)
    body_mention: Mention | None = None
    date: dt.date | None = None
    date_mention: Mention | None = None
    date_labelled: bool = False              # from a Kokousaika-type label (not the first date seen)
    number: str | None = None
    number_mention: Mention | None = None
    range: tuple[int, int] | None = None
    range_mention: Mention | None = None


@built_once
def _entries() -> dict[str, list[tuple[str, re.Pattern[str], dict]]]:
    out: dict[str, list[tuple[str, re.Pattern[str], dict]]] = {}
    for e in load_patterns(NAME):
        rx = re.compile(r"(?<![\wåäöÅÄÖ])(?:" + e["pattern"] + r")(?![\wåäöÅÄÖ])", re.IGNORECASE)
        out.setdefault(e["label"], []).append((e["id"], rx, e))
    return out


def parse_dmy(text: str) -> dt.date | None:
    """The first d.m.yyyy (or d.m.yy) date in a short string, checked for being a real date."""
    m = _DMY.search(text)
    if not m:
        return None
    return date_of(m)


def date_of(m: re.Match[str]) -> dt.date | None:
    day, month, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if len(m.group(3)) == 2:
        year += 2000 if year < _TWO_DIGIT_PIVOT else 1900
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _head(lines: Lines, limit: int) -> list[Line]:
    out = []
    for ln in lines.lines[:limit]:
        if not ln.blank:
            out.append(ln)
            if len(out) >= HEAD_LINES:
                break
    return out


def _doc_word(lines: Lines, head: list[Line]) -> tuple[str | None, Mention | None]:
    """The kind word of the letterhead, as a word of its own (not "Pöytäkirja on tarkastettu")."""
    best: tuple[int, str, Mention] | None = None
    for ln in head:
        for rule_id, rx, entry in _entries()["doc_word"]:
            for m in rx.finditer(ln.text):
                word = m.group(0)
                if not (word[:1].isupper()):
                    continue
                if not _WORD_AFTER.match(ln.text, m.end()) or re.match(r" [a-zåäö]", ln.text[m.end():m.end() + 2]):
                    continue
                at = ln.start + m.start()
                if best is None or at < best[0]:
                    best = (at, entry["value"], Mention("doc_word", word, entry["value"], at, at + len(word), rule_id))
                break
        if best is not None:
            break
    # An extract closes with "Otteen oikeaksi todistaa" wherever the letterhead says only "Pöytäkirja".
    if best is None or best[1] == "minutes":
        for rule_id, rx, entry in _entries()["doc_word"]:
            if entry["value"] != "extract":
                continue
            for m in rx.finditer(lines.text):
                word = m.group(0)
                if word[:1].isupper():
                    return "extract", Mention("doc_word", word, "extract", m.start(), m.end(), rule_id)
    return (best[1], best[2]) if best else (None, None)


def _labelled_date(lines: Lines, stop: int) -> tuple[dt.date | None, Mention | None]:
    """The date under the cover's meeting-time label, on its line or in the two lines after it."""
    for ln in lines.lines[:stop]:
        s = ln.text.lstrip()
        for rule_id, rx, _ in _entries()["time_label"]:
            m = rx.match(s)
            if not m or not s[:1].isupper() or not _LABEL_AFTER.match(s, m.end()):
                continue
            if m.end() < len(s) and s[m.end()] == " " and s[m.end() + 1:m.end() + 2].islower() and \
                    not _DMY.match(s, m.end() + 1):
                # "Aika on ...": running text; a weekday ("maanantai 6.9.") is let through below.
                if not _DMY.search(s, m.end(), m.end() + 40):
                    continue
            for cand in [ln, *lines.lines[ln.index + 1:ln.index + 3]]:
                offset = ln.start + (len(ln.text) - len(s)) + m.end() if cand is ln else cand.start
                text = lines.text[offset:cand.end]
                d = _DMY.search(text)
                if d and date_of(d):
                    at = offset + d.start()
                    return date_of(d), Mention("date", d.group(0), date_of(d).isoformat(), at, at + len(d.group(0)), rule_id)
            break
    return None, None


def _in_code(text: str, start: int, end: int) -> bool:
    """A date-like run inside a code: "2201/10.04.00/2019" is a diary id, "408-493-28-13" a property."""
    return text[start - 1:start] in ("/", "-") or text[end:end + 1] in ("/", "-")


def _letterhead_date(head: list[Line]) -> tuple[dt.date | None, Mention | None]:
    for ln in head:
        for d in _DMY.finditer(ln.text):
            value = date_of(d)
            after = ln.text[d.end():d.end() + 3]
            if value is None or re.match(r"[ \t]*[-–]", after) or _in_code(ln.text, d.start(), d.end()):
                continue
            at = ln.start + d.start()
            return value, Mention("date", d.group(0), value.isoformat(), at, at + len(d.group(0)), "context.letterhead_date")
    return None, None


def _letterhead_body(head: list[Line]) -> tuple[str | None, Mention | None]:
    """The first body named in nominative in the letterhead ("Sivistyslautakunta 19.08.2025",
    "KAUHAJOEN KAUPUNKI Ympäristö- ja rakennuslautakunta", "Stadsfullmäktige")."""
    for ln in head:
        for m in bodies.name_pattern().finditer(ln.text):
            raw = m.group(0)
            if m.end() < len(ln.text) and ln.text[m.end()].isalpha():
                continue  # inflected: "Kaupunginhallitukselle"
            name = bodies.finnish_name(raw) or (raw[:1] + raw[1:].lower() if raw.isupper() else raw)
            at = ln.start + m.start()
            return name, Mention("body", raw, name, at, at + len(raw), "context.letterhead_body")
    return None, None


def _number(head: list[Line]) -> tuple[str | None, Mention | None]:
    for ln in head:
        for rule_id, rx, _ in _entries()["number"]:
            m = rx.search(ln.text)
            if m:
                at = ln.start + m.start("number")
                return m.group("number"), Mention("number", m.group("number"), m.group("number"), at,
                                                  at + len(m.group("number")), rule_id)
    return None, None


def _range(lines: Lines, stop: int) -> tuple[tuple[int, int] | None, Mention | None]:
    for ln in lines.lines[:stop]:
        if "§" not in ln.text and not any(ch.isdigit() for ch in ln.text):
            continue
        for rule_id, rx, _ in _entries()["range"]:
            m = rx.search(ln.text)
            if not m:
                continue
            first, last = int(m.group("first")), int(m.group("last"))
            before = ln.text[:m.start()]
            if first < last <= first + _MAX_RANGE and not re.search(r"\d[ \t]*$|\w$", before.rstrip(" :\t")[-1:] or ""):
                at = ln.start + m.start()
                return (first, last), Mention("section", m.group(0), f"{first}-{last}", at, at + len(m.group(0)), rule_id)
    return None, None


def read(lines: Lines, front_end: int) -> Context:
    """The context from the document's head (its first lines) and cover (lines before `front_end`)."""
    ctx = Context()
    head = _head(lines, front_end if front_end > 0 else len(lines))
    ctx.organization, ctx.organization_mention = bodies.organization(lines.text)
    ctx.doc_word, ctx.doc_word_mention = _doc_word(lines, head)
    cover_stop = front_end if front_end > 0 else min(len(lines), 80)
    ctx.date, ctx.date_mention = _labelled_date(lines, cover_stop)
    ctx.date_labelled = ctx.date is not None
    if ctx.date is None:
        ctx.date, ctx.date_mention = _letterhead_date(head)
    ctx.body, ctx.body_mention = _letterhead_body(head)
    ctx.number, ctx.number_mention = _number(head)
    ctx.range, ctx.range_mention = _range(lines, cover_stop)
    return ctx
