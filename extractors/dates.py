"""Dates and times in Finnish minutes: "4.2.2026", "6.-8.9.2023", "klo 10.42-10.48" ...

Two kinds of entry, both data in `patterns/dates.jsonl`:
1. Span patterns (spaCy Matcher token patterns, ids `dates.span_*`) find where to look. Their
   tokens test only the word (LIKE_NUM, IS_DIGIT, ORTH ...) and repeat boundedly ("?"), so they
   are matched as arrays (extractors/arraymatch.py), each test decided once per distinct word.
2. Forms (`regex` entries, e.g. `dates.dmy`): each span is tried against the forms its pattern
   lists; a form must match the whole span text, its `mention` group (else the whole match)
   gives the mention's exact bounds in doc.text, and its id is the mention's rule_id. The parts
   are then checked (31.2.2024 is rejected, so is 10.42 as a date).

Overlapping candidates: higher `priority` wins, then the longer mention, so a range beats the
dates inside it and "klo 10.12." is a time, not the date 10.12.

Values: date "YYYY-MM-DD", date_range "YYYY-MM-DD/YYYY-MM-DD", time "HH:MM",
time_range "HH:MM/HH:MM". Two-digit years: yy < 70 is 20yy, else 19yy. A date or range written
without a year ("4.5.", "1.6.–31.12.") takes the most common year among the document's dates
written with a year (ties: the one seen first), else the caller's `default_year`, else its
value is None (the mention is kept: the text is a date, only its year is unknown).
A range start without a year takes the end's year (the year before, if that would put the start
after the end: "1.12.–31.1.2020"). Weekdays and the cue words klo/kello are not part of a mention.
Candidates are few (number-like tokens), so the Python work after the matching stays small.

Not handled: "24.helmikuuta 2015" (day glued to the month) and Turku's flattened table cells
("Kaupunginhallitus14128.03.202215").
"""
from __future__ import annotations

import datetime as dt
import re
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from spacy.matcher import Matcher
from spacy.tokens import Doc, Token

from extractors.arraymatch import ArrayMatcher
from extractors.base import Mention, PatternError, built_once, matched_spans, named, span_forms
from extractors.nlp import get_nlp, make_doc

NAME = "dates"
KINDS = ("date", "date_range", "time", "time_range")
TWO_DIGIT_PIVOT = 70
MIN_YEAR, MAX_YEAR = 1900, 2099

_MONTHS = {
    "tammi": 1, "helmi": 2, "maalis": 3, "huhti": 4, "touko": 5, "kesä": 6,
    "heinä": 7, "elo": 8, "syys": 9, "loka": 10, "marras": 11, "joulu": 12,
}
# Words before a dotted number that make it a list/section/version number, not a date.
_LIST_WORDS = ("kohta", "kohd", "liite", "liitte", "luku", "luvu", "pykäl", "momen", "versio", "ver.", "v.", "nro", "n:o",
               "kappal", "§")
_LIST_GLUE = frozenset({"ja", "tai", "sekä", ",", ".", "-", "–", "—"})
_NUMBERISH = re.compile(r"\d{1,2}(?:\.\d{1,2})*\.?$")
# Tokens before a two-digit-year date that make it a piece of a diary id or a task code.
_CODE_WORDS = frozenset({"/", ":", "t", "dnro", "dno", "asianro", "asianumero", "diaarinumero", "diaarinro",
                         "diaari", "tehtäväluokka", "tehtäväluokitus", "luokka"})
_ISO_LOOSE = re.compile(r"\s*(\d{4})\s*-\s*(\d{1,2})\s*-\s*(\d{1,2})\s*")


@dataclass(frozen=True)
class _Form:
    id: str
    emits: str
    regex: re.Pattern[str]
    priority: int
    guards: tuple[tuple[str, Callable[[Doc, int, int], bool]], ...]
    ordered: bool


@dataclass
class _Cand:
    form: _Form
    start: int
    end: int
    text: str
    parts: dict[str, str | None]


# --------------------------------------------------------------------------- guards
# Each takes (doc, first token of the span, last token + 1) and returns True to REJECT.
# They look at tokens, not at doc.text: the Doc rebuilds that string on every access.


def _prev_token(doc: Doc, i: int) -> Token | None:
    j = i - 1
    while j >= 0 and doc[j].is_space:
        j -= 1
    return doc[j] if j >= 0 else None


def _guard_line_start(doc: Doc, s: int, e: int) -> bool:
    """Numbered headings ("3.1. Kokouksen avaus") start a line; dates rarely do."""
    if s == 0:
        return True
    prev = doc[s - 1]
    return prev.is_space and ("\n" in prev.text or s == 1)


def _guard_list_word(doc: Doc, s: int, e: int) -> bool:
    """"kohta 3.1.", "liitteet 2.1. ja 2.2.", "versio 1.2.23": a list word before the number(s)."""
    j, steps = s - 1, 0
    while j >= 0 and steps < 8 and (doc[j].is_space or doc[j].lower_ in _LIST_GLUE or _NUMBERISH.match(doc[j].text)):
        j, steps = j - 1, steps + 1
    return j >= 0 and doc[j].lower_.startswith(_LIST_WORDS)


def _guard_code_context(doc: Doc, s: int, e: int) -> bool:
    """"01.04.00" next to a diary id or task-code label is a JHS code, not 1 April 2000."""
    prev = _prev_token(doc, s)
    if prev is not None and prev.lower_.rstrip(":") in _CODE_WORDS:
        return True
    return e < len(doc) and doc[e].text.startswith("/")


_GUARDS = {"line_start": _guard_line_start, "list_word": _guard_list_word, "code_context": _guard_code_context}


# --------------------------------------------------------------------------- building


def _form(e: dict, where: str) -> _Form:
    if e.get("emits") not in KINDS:
        raise PatternError(f"{where}: 'emits' must be one of {KINDS}")
    guards = e.get("guards", [])
    return _Form(e["id"], e["emits"], e["compiled"], int(e.get("priority", 0)),
                 tuple(zip(guards, named(guards, _GUARDS, "guards", where))), bool(e.get("ordered", False)))


@built_once
def _compiled() -> tuple[ArrayMatcher | Matcher, dict[int, tuple[_Form, ...]]]:
    """The matcher and, per span pattern (match key), its forms: built once per process."""
    return span_forms(get_nlp(), NAME, _form)


# --------------------------------------------------------------------------- values


def _year(text: str | None) -> int | None:
    if not text:
        return None
    y = int(text)
    if len(text) == 2:
        return 2000 + y if y < TWO_DIGIT_PIVOT else 1900 + y
    return y if MIN_YEAR <= y <= MAX_YEAR else -1


def _month(parts: dict[str, str | None], key: str) -> int | None:
    if parts.get("mon"):
        return _MONTHS[parts["mon"].lower()]
    return int(parts[key]) if parts.get(key) else None


def _date(y: int | None, m: int | None, d: int) -> dt.date | None:
    """A real calendar date; an unknown year is checked against a leap year (29.2. passes)."""
    try:
        return dt.date(2000 if y is None else y, m or 0, d)
    except ValueError:
        return None


def _hhmm(h: str | None, m: str | None) -> str | None:
    hour, minute = int(h or 0), int(m or 0)
    if minute > 59 or hour > 24 or (hour == 24 and minute):
        return None
    return f"{hour:02d}:{minute:02d}"


def _parse_parts(c: _Cand) -> bool:
    """Check the parts of a candidate; False rejects it. Dates keep raw parts until the year is known."""
    p, kind = c.parts, c.form.emits
    if kind == "time":
        return _hhmm(p["h1"], p.get("n1")) is not None
    if kind == "time_range":
        a, b = _hhmm(p["h1"], p.get("n1")), _hhmm(p["h2"], p.get("n2"))
        return a is not None and b is not None and (not c.form.ordered or a < b)
    if kind == "date":
        y = _year(p.get("y"))
        return y != -1 and _date(y, _month(p, "m"), int(p["d"])) is not None
    y1, y2 = _year(p.get("y1")), _year(p.get("y2"))
    m2 = _month(p, "m2")
    m1 = _month(p, "m1") or m2
    if -1 in (y1, y2) or _date(y1, m1, int(p["d1"])) is None or _date(y2, m2, int(p["d2"])) is None:
        return False
    return _range(p, y2 or 2000) is not None


def _range(p: dict[str, str | None], year: int) -> tuple[dt.date, dt.date] | None:
    y2 = _year(p.get("y2")) or year
    m2 = _month(p, "m2")
    m1 = _month(p, "m1") or m2
    end = _date(y2, m2, int(p["d2"]))
    y1 = _year(p.get("y1"))
    start = _date(y1 or y2, m1, int(p["d1"]))
    if start is not None and end is not None and y1 is None and start > end:
        start = _date(y2 - 1, m1, int(p["d1"]))
    if start is None or end is None or start > end:
        return None
    return start, end


def _value(c: _Cand, default_year: int | None) -> str | None:
    p, kind = c.parts, c.form.emits
    if kind == "time":
        return _hhmm(p["h1"], p.get("n1"))
    if kind == "time_range":
        return f"{_hhmm(p['h1'], p.get('n1'))}/{_hhmm(p['h2'], p.get('n2'))}"
    if kind == "date":
        y = _year(p.get("y")) or default_year
        d = _date(y, _month(p, "m"), int(p["d"])) if y else None
        return d.isoformat() if d else None
    year = _year(p.get("y2")) or default_year
    r = _range(p, year) if year else None
    return f"{r[0].isoformat()}/{r[1].isoformat()}" if r else None


def _written_years(cands: list[_Cand]) -> list[int]:
    out: list[int] = []
    for c in cands:
        for key in ("y", "y1", "y2"):
            y = _year(c.parts.get(key))
            if y and y > 0 and c.form.emits in ("date", "date_range"):
                out.append(y)
    return out


# --------------------------------------------------------------------------- finding


def _candidates(doc: Doc, whole_text: bool) -> list[_Cand]:
    matcher, by_key = _compiled()
    out: list[_Cand] = []
    for key, s, e, start, span in matched_spans(matcher, doc):
        for form in by_key[key]:
            m = form.regex.match(span)
            if m is None:
                continue
            if any(fn(doc, s, e) for name, fn in form.guards if not (whole_text and name == "line_start")):
                continue
            group = "mention" if "mention" in form.regex.groupindex else 0
            parts = {k: v for k, v in m.groupdict().items() if v is not None}
            a, b = m.span(group)
            cand = _Cand(form, start + a, start + b, span[a:b], parts)
            if _parse_parts(cand):
                out.append(cand)
    return out


def _select(cands: list[_Cand]) -> list[_Cand]:
    """Keep non-overlapping candidates: highest priority first, then the longest."""
    starts: list[int] = []
    kept: list[_Cand] = []
    for c in sorted(cands, key=lambda c: (-c.form.priority, c.start - c.end, c.start, c.form.id)):
        i = bisect_left(starts, c.start)
        if i > 0 and kept[i - 1].end > c.start:
            continue
        if i < len(kept) and kept[i].start < c.end:
            continue
        starts.insert(i, c.start)
        kept.insert(i, c)
    return kept


def _find(doc: Doc, default_year: int | None, whole_text: bool) -> list[Mention]:
    """`whole_text`: the doc is one date string, so a date at its start is no list number."""
    kept = _select(_candidates(doc, whole_text))
    years = Counter(_written_years(kept)).most_common(1)
    year = years[0][0] if years else default_year
    return [Mention(c.form.emits, c.text, _value(c, year), c.start, c.end, c.form.id) for c in kept]


def find(doc: Doc, *, default_year: int | None = None) -> list[Mention]:
    """Every date, date range, time and time range in the document, in text order."""
    return _find(doc, default_year, whole_text=False)


def parse_date(text: str, default_year: int | None = None) -> dt.date | None:
    """The first single date in a short string ("Kaupunginhallitus 08.12.2025 § 323"), else None.

    ISO strings with stray spaces ("2025 - 12 - 08", from Ahjo XML) are accepted too. A date
    without a year uses `default_year`; ranges are not single dates and give None.
    """
    iso = _ISO_LOOSE.fullmatch(text)
    if iso:
        y = _year(iso.group(1))
        return _date(y, int(iso.group(2)), int(iso.group(3))) if y and y > 0 else None
    for mention in _find(make_doc(text), default_year, whole_text=True):
        if mention.kind == "date" and mention.value:
            return dt.date.fromisoformat(mention.value)
    return None
