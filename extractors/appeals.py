"""Which appeal applies to a decision: none, rectification, municipal, regional or administrative.

`find` reports appeal cues (patterns/appeals.jsonl). Appeal texts quote the other remedies
while ruling them out, so two kinds of phrase swallow the cues inside them:
- bans: "ei saa tehdä oikaisuvaatimusta eikä kunnallisvalitusta", "ei saa hakea muutosta,
  koska ... valmistelua", "Kielto hakea muutosta", "Förbud att söka ändring" (value none);
- the rectification instructions' "Päätökseen ei saa hakea muutosta aluevalituksella /
  valittamalla" (value rectification: you must first ask for rectification, dev01).
`classify` reads a Muutoksenhaku block clause by clause: the remedy named with the verb
("… haetaan muutosta aluevalituksella") wins; else the block's first cue left (a block names its
own remedy first: "Oikaisuvaatimusohje …" then the instructions). A weak cue ("valittamalla …
hallinto-oikeuteen") only counts where nothing else does.

`section_ranges` reads the closing pages that assign remedies by §: each list of § ("§:t 61–63",
"Kielto hakea muutosta: § 388–389, 391", "Pykälät 180–183, 185", "41 §, 46 § ja 47 §") takes its
remedy from its own line, else from the heading line just above it, else from the paragraph under
it; "-kielto" means none. Statute references ("kuntalain 136 §:n", "(laki hyvinvointialueesta
141 §)") are not lists of sections: a list follows a § sign, a pykälä word or a line start.
"""
from __future__ import annotations

import re

from spacy.matcher import Matcher
from spacy.tokens import Doc, Span

from extractors.base import Mention, as_span, built_once, by_id, regexes, token_matcher
from extractors.nlp import get_nlp, span_text

NAME = "appeals"
KIND = "appeal"
KINDS = ("none", "rectification", "municipal_appeal", "regional_appeal", "administrative_appeal")


@built_once
def _matcher() -> Matcher:
    return token_matcher(get_nlp(), NAME)


@built_once
def _rx() -> dict[str, re.Pattern[str]]:
    return {pid: re.compile(rx.pattern, rx.flags | re.MULTILINE) for pid, rx, _ in regexes(NAME)}


def find(span: Doc | Span | None) -> list[Mention]:
    """Appeal cues in text order; cues inside a ban or a no-direct-appeal phrase are left out."""
    span = as_span(span)
    if span is None or not span_text(span).strip():
        return []
    entries = by_id(NAME)
    raw = [
        Mention(KIND, m.text, entries[m.label_]["value"], m.start_char, m.end_char, m.label_)
        for m in _matcher()(span, as_spans=True)
    ]
    bans = [m for m in raw if entries[m.rule_id].get("ban")]
    kept = []
    for m in raw:
        inside = any(b is not m and b.start <= m.start and m.end <= b.end and (b.start, b.end) != (m.start, m.end) for b in bans)
        if not inside:
            kept.append(m)
    return sorted(kept, key=lambda x: (x.start, -x.end))


def _pick(cues: list[Mention], kinds: tuple[str, ...] = KINDS) -> Mention | None:
    entries = by_id(NAME)
    strong = [m for m in cues if m.value in kinds and not entries[m.rule_id].get("weak")]
    weak = [m for m in cues if m.value in kinds and entries[m.rule_id].get("weak")]
    return (strong or weak or [None])[0]


_INSTRUMENT = {"oikaisuvaatimuksella": "rectification", "kunnallisvalituksella": "municipal_appeal",
               "aluevalituksella": "regional_appeal", "hallintovalituksella": "administrative_appeal"}


def classify(span: Doc | Span | None) -> tuple[str | None, Mention | None]:
    """(appeal kind, deciding mention) for an item's Muutoksenhaku block; (None, None) if it says nothing."""
    cues = find(span)
    entries = by_id(NAME)
    bans = [m for m in cues if entries[m.rule_id].get("ban")]
    named = [m for m in cues if m.value == "by_instrument"
             and not any(b.start < m.end and m.start < b.end for b in bans)]  # "ei saa hakea muutosta X-lla"
    if named:  # "Oikaisuvaatimukseen … haetaan muutosta aluevalituksella": the remedy is the instrument's
        m = named[0]
        kind = _INSTRUMENT[m.text.split()[-1].lower()]
        return kind, Mention(m.kind, m.text, kind, m.start, m.end, m.rule_id)
    hit = _pick([m for m in cues if m.value != "by_instrument"])
    return (hit.value, hit) if hit else (None, None)


_ITEM = re.compile(r"(\d{1,4})(?:[ \t]*(?:[-–—][ \t]*|[ \t]+(?=\d))(\d{1,4}))?")
_MAX_RANGE = 500
_HEADING_MAX = 60


def _sections(listing: str) -> list[int]:
    """The § of a list: "61–63, 65" → 61, 62, 63, 65; "71 73, 75 76" (dashes lost) → 71–73, 75–76."""
    out: list[int] = []
    for m in _ITEM.finditer(listing):
        first = int(m.group(1))
        last = int(m.group(2)) if m.group(2) else first
        if first <= last <= first + _MAX_RANGE:
            out.extend(range(first, last + 1))
    return out


def _kind_of(doc: Doc, start: int, end: int) -> tuple[str | None, Mention | None]:
    span = doc.char_span(start, end, alignment_mode="expand") if end > start else None
    return classify(span) if span is not None else (None, None)


def section_ranges(span: Doc | Span | None) -> dict[int, str]:
    """{section: appeal kind} from the closing pages' lists; the first assignment of a § wins."""
    found = section_lists(span)
    out: dict[int, str] = {}
    for section, kind, _ in found:
        out.setdefault(section, kind)
    return out


def section_lists(span: Doc | Span | None) -> list[tuple[int, str, Mention]]:
    """(section, appeal kind, the mention naming the kind) for every § the closing pages list."""
    span = as_span(span)
    if span is None or not span_text(span).strip():
        return []
    doc, base, text = span.doc, span.start_char, span_text(span)
    lines = [(m.start(), m.end()) for m in re.finditer(r"[^\n]+", text)]
    out: list[tuple[int, str, Mention]] = []
    for k, (ls, le) in enumerate(lines):
        line = text[ls:le]
        for m in _lists(line):
            listing = m.group("list") or m.group("signs")
            kind, mention = _remedy(doc, base, text, lines, k, ls + m.start(), ls + m.end())
            if kind is None or mention is None:
                continue
            out.extend((section, kind, mention) for section in _sections(listing))
    return out


def _lists(line: str) -> list[re.Match[str]]:
    """The lists of § a line holds ("kuntalain 136 §" is a statute, not a list)."""
    out = []
    for m in _rx()["appeals.section_list"].finditer(line):
        before = line[:m.start()]
        if m.group("signs") and before.strip() and not before.rstrip().endswith((":", ",")):
            continue
        out.append(m)
    return out


def _heading_like(line: str) -> bool:
    """A short line without a sentence's end: a heading ("Muutoksenhakukielto", "OIKAISUVAATIMUSOHJE")."""
    return len(line) <= _HEADING_MAX and not line.endswith((".", ";", ":"))


def _remedy(doc: Doc, base: int, text: str, lines: list[tuple[int, int]], k: int, start: int, end: int
            ) -> tuple[str | None, Mention | None]:
    """The remedy a list of § stands under. A list on a heading's line ("Valitusosoitus, 42 § ja 45 §",
    "Kielto hakea muutosta: § 388–389") takes it from that line, else from the text under it; a list
    on a line of its own ("Pykälät 184, 188") from its section above it: the paragraphs up to the
    heading ("Oikaisuvaatimusohje" / "Seuraaviin päätöksiin …" / the list), else the text under it."""
    def line(i: int) -> str:
        return text[lines[i][0]:lines[i][1]].strip()

    def para_start(i: int) -> int:
        while i > 0 and text[lines[i - 1][1]:lines[i][0]].count("\n") < 2:
            i -= 1
        return i

    first = para_start(k)
    own = text[lines[k][0]:start].strip()
    places = [(lines[k][0], start)]
    if not _heading_like(own.rstrip(":, ")) or not own:
        places.append((lines[first][0], start))  # the list ends a sentence of its paragraph
    if not own and first == k:
        i = first - 1
        while i >= 0 and not _lists(line(i)):
            top = para_start(i)
            places.append((lines[top][0], lines[i][1]))
            if _heading_like(line(top)) and top == i:
                break
            i = top - 1
        if len(places) > 2:  # read from the heading down, as the section is written
            places = places[:2] + [(places[-1][0], places[2][1])]
    places.append((end, lines[k][1]))
    j = k + 1  # the text under it, up to the next list or heading
    while j < len(lines) and not _lists(line(j)) and not _heading_like(line(j)):
        j += 1
    if j > k + 1:
        places.append((lines[k + 1][0], lines[j - 1][1]))
    for s, e in places:
        kind, mention = _kind_of(doc, base + s, base + e)
        if kind is not None:
            return kind, mention
    return None, None
