"""Diary (case) ids: "598/00.04.01/2025", "HEL 2024-013118 T 08 00 00", "JARDno-2021-716" ...

Two kinds of entry, both data in `patterns/diary_ids.jsonl`:
1. Span patterns (spaCy Matcher token patterns, ids `diary_ids.span_*`) find where to look.
   Their tokens test only the word (IS_ALPHA, LIKE_NUM, ORTH, SHAPE ...) and their length is
   bounded ("{0,4}", not "*"), so they are matched as arrays (extractors/arraymatch.py), each
   test decided once per distinct word.
2. Forms (`regex` entries, case-sensitive, e.g. `diary_ids.dynasty`): a span is tried against the
   forms its pattern lists; a form must match the whole span text, its `id` group is the mention
   (the id as written, without a label) and its id is the mention's rule_id. Overlapping
   candidates: the longer one wins.

A bare "n/yyyy" is only an id after a label: "§ 12/2025", "PÖYTÄKIRJA 9/2025" and statute
numbers "(628/1998)" look the same. "Dnro 0/00" is KTweb's placeholder and is not an id.

`normalize` gives a canonical form for comparing ids: upper case, no label, single spaces,
dashes unified, no spaces around "/" or after a "TRE:" prefix, Ahjo as "HEL yyyy-nnnnnn".
Ahjo's task code is KEPT when written ("HEL 2024-013118 T 08 00 00"): the gold keeps it and it
is part of what the document says; so the same case with and without the code normalises to
two strings; compare `normalize(x).split(" T ")[0]` to join them.
"""
from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass

from spacy.matcher import Matcher
from spacy.tokens import Doc

from extractors.arraymatch import ArrayMatcher
from extractors.base import Mention, PatternError, built_once, matched_spans, named, span_forms
from extractors.nlp import get_nlp

NAME = "diary_ids"
KIND = "diary_id"

# JHS 191 main classes, verbatim from the project's domain notes (finnish-minutes.md).
JHS191_MAIN_CLASSES: dict[str, str] = {
    "00": "Hallintoasiat",
    "01": "Henkilöstöasiat",
    "02": "Talousasiat",
    "03": "Lainsäädäntö",
    "04": "Kansainvälinen toiminta",
    "05": "Sosiaalitoimi",
    "06": "Terveydenhuolto",
    "07": "Tiedonhallinta",
    "08": "Liikenne",
    "09": "Turvallisuus",
    "10": "Maankäyttö/rakentaminen/asuminen",
    "11": "Ympäristö",
    "12": "Opetus/sivistys",
    "13": "T&K",
    "14": "Elinkeino/työvoima",
}

_LABELS = frozenset({"dnro", "dno", "asianro", "asianumero", "diaarinumero", "diaarinro", "diaari"})
_LABEL = re.compile(r"^(?:" + "|".join(sorted(_LABELS, key=len, reverse=True)) + r")\.?(?:\s*:\s*|\s+)", re.I)
_DASHES = re.compile(r"[\u2010-\u2015\u2212]")
_SPACES = re.compile(r"[\s\u00a0]+")
_SLASH = re.compile(r"\s*/\s*")
_PREFIX_COLON = re.compile(r"^([A-ZÄÖÅ]{2,6}):\s+")
_AHJO = re.compile(r"^HEL[\s-]+(\d{4})-(\d{6})(?:\s+T\s+(\d{2}(?:\s+\d{2}){1,3}))?$")
_COMMA = re.compile(r"\s*,\s*")
_PAREN = re.compile(r"\s*\(\s*")
_CODE_SLASH = re.compile(r"/(\d{2}(?:\.\d{2}){1,3})/")
_CODE_AHJO = re.compile(r"\bT\s+(\d{2}(?:\s+\d{2}){1,3})$")
_CODE_TURKU = re.compile(r"\((\d{2}(?:\s+\d{2}){1,3})\s*[,)]")
_CODE_ONLY = re.compile(r"^\s*(\d{2})(?:[.\s]\d{2}){0,3}\s*$")


def _label_before(doc: Doc, s: int) -> bool:
    """A label word (Dnro, Asianro, ...) right before token s, maybe with a colon or a line break."""
    j = s - 1
    while j >= 0 and (doc[j].is_space or doc[j].text == ":"):
        j -= 1
    return j >= 0 and doc[j].lower_.rstrip(":.") in _LABELS


_REQUIRES = {"label_before": _label_before}


@dataclass(frozen=True)
class _Form:
    id: str
    regex: re.Pattern[str]
    requires: tuple[Callable[[Doc, int], bool], ...]


def _form(e: dict, where: str) -> _Form:
    if "id" not in e["compiled"].groupindex:
        raise PatternError(f"{where}: a form needs an (?P<id>...) group")
    return _Form(e["id"], e["compiled"], tuple(named(e.get("requires", []), _REQUIRES, "'requires'", where)))


@built_once
def _compiled() -> tuple[ArrayMatcher | Matcher, dict[int, tuple[_Form, ...]]]:
    """The matcher and, per span pattern (match key), its forms: built once per process."""
    return span_forms(get_nlp(), NAME, _form)


def _select(cands: list[tuple[int, int, str, str]]) -> list[tuple[int, int, str, str]]:
    """Non-overlapping (start, end, text, rule_id): the longest first, then the earliest."""
    kept: list[tuple[int, int, str, str]] = []
    for c in sorted(cands, key=lambda c: (c[0] - c[1], c[0], c[3])):
        i = bisect_left(kept, c)
        if (i > 0 and kept[i - 1][1] > c[0]) or (i < len(kept) and kept[i][0] < c[1]):
            continue
        kept.insert(i, c)
    return kept


def find(doc: Doc) -> list[Mention]:
    """Every diary id in the document, in text order; value = id as written, spacing collapsed."""
    matcher, by_key = _compiled()
    cands: set[tuple[int, int, str, str]] = set()
    for key, s, _, start, span in matched_spans(matcher, doc):
        for form in by_key[key]:
            m = form.regex.match(span)
            if m is None or not all(check(doc, s) for check in form.requires):
                continue
            a, b = m.span("id")
            cands.add((start + a, start + b, span[a:b], form.id))
    return [
        Mention(KIND, text, _SPACES.sub(" ", text.replace("\u00ad", "")), s, e, rule_id)
        for s, e, text, rule_id in _select(list(cands))
    ]


@built_once
def _line_forms() -> tuple[tuple[str, re.Pattern[str]], ...]:
    """Every form, as it may stand alone in a diary line (where the position, not a label, says
    that a bare "9845/2023" or "4978-2023" is the item's id)."""
    _, by_key = _compiled()
    seen: dict[str, re.Pattern[str]] = {}
    for forms in by_key.values():
        for form in forms:
            seen.setdefault(form.id, form.regex)
    return tuple(seen.items())


_LINE_LABEL = re.compile(r"^(?:(?:dnro|dno|asianro|asianumero|diaarinumero|diaarinro|diaari|ärendenr|ärende nr)\.?"
                         r"[ \t]*:?[ \t]*)", re.IGNORECASE)


def parse_line(line: str, offset: int = 0) -> Mention | None:
    """The id of a line that holds a diary id and nothing else but its label: "Dnro 123/2019",
    "Ärendenr INKDno-2023-3436", a bare "9845/2023" in an item's header block, "5976-2019 (02 02 00)"."""
    stripped = line.strip()
    label = _LINE_LABEL.match(stripped)
    rest = stripped[label.end():] if label else stripped
    if not rest or len(rest) > 80:
        return None
    lead = len(line) - len(line.lstrip()) + (label.end() if label else 0)
    for rule_id, regex in _line_forms():
        m = regex.match(rest)
        if m is not None:
            a, b = m.span("id")
            value = _SPACES.sub(" ", rest[a:b].replace("\u00ad", ""))
            return Mention(KIND, rest[a:b], value, offset + lead + a, offset + lead + b, rule_id)
    return None


def normalize(diary_id: str) -> str:
    """Canonical form for comparing ids written in different ways (see the module docstring)."""
    s = _SPACES.sub(" ", diary_id.replace("\u00ad", "")).strip()
    s = _LABEL.sub("", s)
    s = _DASHES.sub("-", s).upper()
    ahjo = _AHJO.match(s)
    if ahjo:
        year, number, task = ahjo.groups()
        return f"HEL {year}-{number}" + (f" T {task}" if task else "")
    s = _SLASH.sub("/", s)
    s = _PREFIX_COLON.sub(r"\1:", s)
    if "(" in s:
        s = _PAREN.sub(" (", _COMMA.sub(", ", s)).replace(" )", ")")
    return s.strip()


def task_class(diary_id: str) -> str | None:
    """The JHS 191 task code as a dotted string ("598/00.04.01/2025" -> "00.04.01"), else None.

    Turku's older three-digit codes ("2682-2013 (000, 041)") are not JHS 191 and give None.
    """
    s = normalize(diary_id)
    for rx in (_CODE_SLASH, _CODE_AHJO, _CODE_TURKU):
        m = rx.search(s)
        if m:
            return ".".join(m.group(1).split())
    return None


def main_class_name(code: str) -> str | None:
    """Name of the JHS 191 main class of a task code ("10.03.00.01", "08 00 00", "05") or of an id."""
    m = _CODE_ONLY.match(code)
    if m is None:
        full = task_class(code)
        m = _CODE_ONLY.match(full) if full else None
    return JHS191_MAIN_CLASSES.get(m.group(1)) if m else None
