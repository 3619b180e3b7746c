"""Diary (case) ids: "598/00.04.01/2025", "HEL 2024-013118 T 08 00 00", "JARDno-2021-716" ...

Two stages, both data in `patterns/diary_ids.jsonl`:
1. Token patterns (spaCy Matcher) find candidate spans. Every pattern that starts on an id token
   shares one REGEX gate (a token ending in /yyyy or -yyyy(-n)), so the matcher pays one Python
   predicate per token for all of them, plus one for the label words (Dnro, Asianro, ...).
2. The entry's `parse` regex (case-sensitive) must match the span text; its `id` group is the
   mention: the id as written, without a label. Overlapping candidates: the longer one wins.

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
from dataclasses import dataclass
from functools import cache

from spacy.matcher import Matcher
from spacy.tokens import Doc

from extractors.base import Mention, PatternError, load_patterns, token_matcher
from pipeline.nlp import get_nlp

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

_LABEL = re.compile(r"^(?:dnro|dno|asianro|asianumero|diaarinumero|diaarinro|diaari)\.?(?:\s*:\s*|\s+)", re.I)
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


@dataclass(frozen=True)
class _Rule:
    id: str
    parse: re.Pattern[str]


@cache
def _compiled() -> tuple[Matcher, dict[int, _Rule]]:
    """The matcher and its rules by match key: built once per process."""
    nlp = get_nlp()
    entries = load_patterns(NAME)
    parsers = {e["id"]: e["compiled"] for e in entries if e["kind"] == "regex"}
    rules: dict[int, _Rule] = {}
    for e in entries:
        if e["kind"] != "token":
            continue
        parser = parsers.get(e.get("parse", ""))
        if parser is None or "id" not in parser.groupindex:
            raise PatternError(f"{NAME}.jsonl {e['id']}: 'parse' must name a regex entry with an (?P<id>...) group")
        rules[nlp.vocab.strings.add(e["id"])] = _Rule(e["id"], parser)
    return token_matcher(nlp, NAME), rules


def _select(cands: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Non-overlapping (start, end, rule_id): the longest first, then the earliest."""
    kept: list[tuple[int, int, str]] = []
    for c in sorted(cands, key=lambda c: (c[0] - c[1], c[0])):
        i = bisect_left(kept, c)
        if (i > 0 and kept[i - 1][1] > c[0]) or (i < len(kept) and kept[i][0] < c[1]):
            continue
        kept.insert(i, c)
    return kept


def find(doc: Doc) -> list[Mention]:
    """Every diary id in the document, in text order; value = id as written, spacing collapsed."""
    matcher, rules = _compiled()
    text = doc.text
    cands: set[tuple[int, int, str]] = set()
    for key, s, e in matcher(doc):
        rule = rules[key]
        start = doc[s].idx
        last = doc[e - 1]
        m = rule.parse.search(text[start:last.idx + len(last.text)])
        if m is not None:
            cands.add((start + m.start("id"), start + m.end("id"), rule.id))
    return [
        Mention(KIND, text[s:e], _SPACES.sub(" ", text[s:e].replace("\u00ad", "")), s, e, rule_id)
        for s, e, rule_id in _select(list(cands))
    ]


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
    return s


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
