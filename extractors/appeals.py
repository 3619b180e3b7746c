"""Which appeal applies to a decision: none, rectification, municipal, regional or administrative.

`find` reports appeal cues (patterns/appeals.jsonl). Appeal texts quote the other remedies
while ruling them out, so two kinds of phrase swallow the cues inside them:
- bans: "ei saa tehdä oikaisuvaatimusta eikä kunnallisvalitusta", "ei saa hakea muutosta,
  koska ... valmistelua" (value none);
- the rectification instructions' "Päätökseen ei saa hakea muutosta aluevalituksella /
  valittamalla" (value rectification: you must first ask for rectification, dev01).
`classify` then takes the earliest cue left in the Muutoksenhaku block: the block names its
own remedy first ("Oikaisuvaatimusohje ..." then the instructions). A weak cue ("valittamalla
... hallinto-oikeuteen") only counts where nothing else does.

`section_ranges` reads closing appeal pages that assign remedies by § ("Pykälät 180–183,
185–187", "41 §, 46 § ja 47 §", "Tämä koskee pykäliä 57, 58 ja 63") under a heading line that
names the remedy; a part also ends at the next item's "§ 309" line, so the whole document may
be passed. Statute references ("kuntalain 136 §:n", "(laki hyvinvointialueesta 141 §)")
are not lists of sections: they follow a word, not a heading, ':' or ','.
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
_HEADING_KIND = {
    "muutoksenhakukielto": "none", "muutoksenhakukiellot": "none",
    "oikaisuvaatimusohje": "rectification", "oikaisuvaatimusohjeet": "rectification", "oikaisuvaatimus": "rectification",
    "kunnallisvalitus": "municipal_appeal", "aluevalitus": "regional_appeal", "hallintovalitus": "administrative_appeal",
}
_APPEAL_KINDS = ("municipal_appeal", "regional_appeal", "administrative_appeal")
_LIST_ITEM = re.compile(r"(\d{1,4})(?:[ \t]*[–—-][ \t]*(\d{1,4}))?")
_AFTER_REF = re.compile(r"[ \t]*(?:/|:n\b|\d|mom|momentin|momentti|kohta|kohdan)", re.IGNORECASE)
_MAX_RANGE = 500
_ITEM_LINE = re.compile(r"^[ \t]*(?:§[ \t]*\d{1,4}|\d{1,4}[ \t]*§)(?:[ \t]+\S|[ \t]*$)", re.MULTILINE)


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


def classify(span: Doc | Span | None) -> tuple[str | None, Mention | None]:
    """(appeal kind, deciding mention) for an item's Muutoksenhaku block; (None, None) if it says nothing."""
    hit = _pick(find(span))
    return (hit.value, hit) if hit else (None, None)


def _sections(listing: str) -> list[int]:
    out: list[int] = []
    for m in _LIST_ITEM.finditer(listing):
        first = int(m.group(1))
        last = int(m.group(2)) if m.group(2) else first
        if first <= last <= first + _MAX_RANGE:
            out.extend(range(first, last + 1))
    return out


def _refs(text: str) -> list[int]:
    """Section numbers listed in one part of a closing page, statute references left out."""
    out: list[int] = []
    for pid in ("appeals.ref_pykalat", "appeals.ref_num_sign", "appeals.ref_sign_num"):
        for m in _rx()[pid].finditer(text):
            if _AFTER_REF.match(text, m.end(1)):
                continue
            out.extend(_sections(m.group(1)))
    return out


def _part_kind(heading: str, body: Span) -> str | None:
    kind = _HEADING_KIND.get(heading.lower())
    if kind:
        return kind
    hit = _pick(find(body), _APPEAL_KINDS)  # "Valitusosoitus": the body says which appeal
    return hit.value if hit else None


def section_ranges(span: Doc | Span | None) -> dict[int, str]:
    """{section: appeal kind} from a closing appeal page; the first assignment of a § wins."""
    span = as_span(span)
    if span is None or not span_text(span).strip():
        return {}
    text, base = span_text(span), span.start_char
    heads = list(_rx()["appeals.heading"].finditer(text))
    out: dict[int, str] = {}
    for k, head in enumerate(heads):
        start = head.start()
        end = heads[k + 1].start() if k + 1 < len(heads) else len(text)
        item = _ITEM_LINE.search(text, head.end(), end)  # a per-item "Aluevalitus, ..." ends at the next §
        end = item.start() if item else end
        body = span.doc.char_span(base + start, base + end, alignment_mode="expand")
        if body is None:
            continue
        kind = _part_kind(head.group(1), body)
        if kind is None:
            continue
        for section in _refs(text[start:end]):
            out.setdefault(section, kind)
    return out
