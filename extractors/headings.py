"""Headings that open the sections of an item (Valmistelija, Päätösehdotus, Päätös, Käsittely ...).

A heading counts only at the start of a line and only when what follows fits a heading: the end
of the line, a colon, or text glued on the same line ("Päätös Hyväksyttiin.", Turku's
"EhdotusKaupunginhallitus päättää"). Glued text must start with a capital (or, after a person
heading, may be a person line such as "Valmistelija kunnanjohtaja Helena ..."), so running text
that merely begins with "Päätös on ..." or "Esitys raukesi ..." is not taken for a heading.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc

from extractors.base import Mention, built_once, by_id, phrase_matcher, regexes
from extractors.people import looks_like_person_line
from extractors.nlp import doc_text, get_nlp

NAME = "headings"
_LINE_PREFIX = re.compile(r"^[ \t]*(?:#{1,4}[ \t]*|[•\-–*][ \t]+)?$")
_AFTER = re.compile(r"[ \t]*(:?)[ \t]*(\S?)")
# Turku glues the heading to its text: "EhdotusKaupunginhallitus päättää".
_GLUED = re.compile(r"(?m)^[ \t]*(Päätösehdotus|Ehdotus|Päätös|Esittelijä|Käsittely|Valmistelija)(?=[A-ZÅÄÖ][a-zåäö])")


@dataclass(frozen=True)
class Heading:
    label: str
    rule_id: str
    start: int          # start of the heading word(s)
    end: int            # end of the heading incl. a colon
    line_end: int       # end of the heading's line
    remainder: str      # text glued after the heading on the same line
    remainder_start: int

    def mention(self, text: str) -> Mention:
        return Mention("heading", text[self.start:self.end], self.label, self.start, self.end, self.rule_id)


@built_once
def _matcher() -> PhraseMatcher:
    return phrase_matcher(get_nlp(), NAME)


@built_once
def _line_regexes() -> tuple[re.Pattern[str], list[tuple[re.Pattern[str], dict]]]:
    """The `regex` headings, each anchored at a line start, and one regex of them all.

    The one finds, in a single pass, the line starts where any may match; only there is each
    tried. A pass per regex costs a test at every character of the text, four times over.
    """
    each, alternatives = [], []
    for _, pattern, entry in regexes(NAME):
        ignore_case = pattern.flags & re.IGNORECASE
        each.append((re.compile(r"(?m)^[ \t]*(" + pattern.pattern + r")\b", ignore_case), entry))
        alternatives.append(("(?i:" if ignore_case else "(?:") + pattern.pattern + ")")
    return re.compile(r"(?m)^[ \t]*(?:" + "|".join(alternatives) + r")\b"), each


def _line_bounds(text: str, pos: int) -> tuple[int, int]:
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    return start, len(text) if end < 0 else end


def _accept(text: str, start: int, end: int, entry: dict) -> Heading | None:
    if not text[start].isupper():
        return None
    line_start, line_end = _line_bounds(text, start)
    if not _LINE_PREFIX.match(text[line_start:start]):
        return None
    m = _AFTER.match(text, end, line_end)
    colon, first = m.group(1), m.group(2)
    if end < line_end and text[end].isalnum():
        return None  # the phrase is the beginning of a longer word
    if first:
        if entry.get("colon") and not colon:
            return None
        if not colon and not (first.isupper() or first.isdigit() or first in "•\"'”-–"):
            # Lower-case glued text is only a person line ("Valmistelija kunnanjohtaja X, puh.").
            if not (entry.get("person") and looks_like_person_line(text[m.end() - 1:line_end])):
                return None
    rem_start = m.end() - len(first) if first else line_end
    head_end = end + (m.group(0).index(":") + 1 if colon else 0)
    return Heading(entry["label"], entry["id"], start, head_end, line_end, text[rem_start:line_end].strip(), rem_start)


def find(doc: Doc) -> list[Heading]:
    """Every heading in the document, in text order, the longest at a position winning."""
    text = doc_text(doc)
    entries = by_id(NAME)
    found: dict[int, Heading] = {}
    for match_id, s, e in _matcher()(doc):
        start, end = doc[s].idx, doc[e - 1].idx + len(doc[e - 1])
        heading = _accept(text, start, end, entries[doc.vocab.strings[match_id]])
        if heading and (start not in found or heading.end > found[start].end):
            found[start] = heading
    any_line, each = _line_regexes()
    pos = 0
    while (line := any_line.search(text, pos)) is not None:
        at = line.start()
        for regex, entry in each:  # in file order: the first accepted at a line start wins
            m = regex.match(text, at)
            if m is not None and m.start(1) not in found and (heading := _accept(text, m.start(1), m.end(1), entry)):
                found[m.start(1)] = heading
        pos = at + 1
    glued = entries["headings.paatos"]
    for m in _GLUED.finditer(text):
        word = m.group(1).lower()
        entry = next((e for e in entries.values() if e.get("kind") == "phrase" and e["pattern"].lower() == word), glued)
        start, end = m.start(1), m.end(1)
        line_end = _line_bounds(text, start)[1]
        if start not in found:
            found[start] = Heading(entry["label"], entry["id"], start, end, line_end, text[end:line_end].strip(), end)
    return [found[k] for k in sorted(found)]


_CLOSING_RULES = frozenset({"headings.closing_appeal_page", "headings.otteen_oikeaksi",
                            "headings.oikeaksi_todistaa", "headings.nimikirjaimet"})


def is_closing(text: str, head: Heading) -> bool:
    """A closing page's heading: a known closing block ("Otteen oikeaksi todistaa"), a heading the
    label table marks as closing ("Muutoksenhakuohjeet"), or an appeal heading in capitals
    ("VALITUSOSOITUS", "MUUTOKSENHAKUOHJEET")."""
    words = text[head.start:head.end].rstrip(": ")
    if head.rule_id in _CLOSING_RULES or by_id(NAME).get(head.rule_id, {}).get("closing"):
        return True
    return head.label in ("appeal", "other") and len(words) >= 8 and words.isupper()
