"""From markers and headings to items (§), their handlings and the headed sections of each.

Items start at item lines ("§ 323", "57 § TITLE"); inside an item, handling lines
("Kunnanhallitus 08.12.2025 § 198") split it into handlings, one per body that dealt with the
case (käsittelyhistoria). A handling with no headed section under it is only a line in a
summary of the history and is dropped. A document with handling lines but no item lines (an
extract, pöytäkirjaote) is one item. Item lines out of sequence (a "§ 64" quoted at a line start)
and tables of contents are not items.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from spacy.tokens import Doc

from extractors import diary_ids
from extractors import headings as headings_mod
from extractors.headings import Heading
from extractors.sections import Marker, find_markers
from extractors.nlp import doc_text, make_doc

_BLANK_OR_CHROME = re.compile(r"^[\s\-–_#*=]*$")
_TITLE_MAX_CONT = 70
# Labels that frame a document rather than open the item's own text: an officer decision puts
# "Päätöspäivämäärä" and "Päätöksen tekijä" above its title and diary number.
FRAME_LABELS = frozenset({"other", "decision_date", "officer"})
_PERSON_LABELS = frozenset({"officer", "decision_date", "preparer", "contact", "presenter"})
_LETTERHEAD = re.compile(r"\b(PÖYTÄKIRJA|Pöytäkirja(ote)?|PÖYTÄKIRJAOTE|ESITYSLISTA|Esityslista|KAUPUNKI|KUNTA|"
                         r"VIRANHALTIJAPÄÄTÖS|\d+ \(\d+\))")


@dataclass
class Section:
    heading: Heading
    start: int            # where the section's content starts (after the heading)
    end: int

    @property
    def label(self) -> str:
        return self.heading.label


@dataclass
class Handling:
    start: int
    end: int
    marker: Marker | None
    sections: list[Section] = field(default_factory=list)
    current: bool = False

    def of(self, *labels: str) -> list[Section]:
        return [s for s in self.sections if s.label in labels]


@dataclass
class Item:
    start: int
    end: int
    marker: Marker | None
    handlings: list[Handling] = field(default_factory=list)
    title: str | None = None
    title_start: int = 0
    title_end: int = 0


@dataclass
class Segmentation:
    items: list[Item]
    markers: list[Marker]
    headings: list[Heading]
    front_end: int        # where the first item starts: the cover/front matter ends here


def _in_sequence(items: list[Marker]) -> list[Marker]:
    """The longest run of item lines with increasing numbers: the real items, in order."""
    if not items:
        return []
    best = [1] * len(items)
    prev = [-1] * len(items)
    for i in range(len(items)):
        for j in range(i):
            if items[j].section < items[i].section and best[j] + 1 > best[i]:
                best[i], prev[i] = best[j] + 1, j
    i = max(range(len(items)), key=lambda k: (best[k], -k))
    keep = []
    while i >= 0:
        keep.append(items[i])
        i = prev[i]
    return keep[::-1]


def _lines(text: str, start: int, end: int) -> list[tuple[int, int]]:
    out, pos = [], start
    while pos < end:
        nl = text.find("\n", pos, end)
        stop = end if nl < 0 else nl
        out.append((pos, stop))
        pos = stop + 1
    return out


_LABEL_ONLY = re.compile(r"^[\s:.,#]*(?:(?:Dnro|Dno|Asianro|Asianumero|Diaarinumero|Diaarinro|diaari|Ärendenr)[:.]?)?[\s:.,]*$",
                         re.IGNORECASE)


def is_diary_line(line: str) -> bool:
    """A line that holds a diary number and nothing else but its label (or the label alone,
    where a label column puts the number on the next line)."""
    if not any(ch.isdigit() for ch in line):
        return bool(line.strip()) and bool(_LABEL_ONLY.match(line)) and any(ch.isalpha() for ch in line)
    for m in diary_ids.find(make_doc(line)):
        if _LABEL_ONLY.match(line[: m.start] + line[m.end:]):
            return True
    return False


def _title_after(text: str, start: int, end: int, stop: set[int]) -> tuple[str | None, int, int]:
    """The first non-empty line after `start` (Ahjo, Dynasty: "§ 58" then the title)."""
    for s, e in _lines(text, start, end):
        if s in stop:
            return None, 0, 0
        line = text[s:e].strip()
        if line and not _BLANK_OR_CHROME.match(line) and not is_diary_line(line):
            lead = len(text[s:e]) - len(text[s:e].lstrip())
            return line.lstrip("# ").strip(), s + lead, e
    return None, 0, 0


def _continue_title(text: str, title_end: int, end: int, stop: set[int]) -> int:
    """A title wrapped onto a short next line that is followed by a structural line or a gap."""
    lines = _lines(text, title_end + 1, end)[:3]
    if len(lines) < 2:
        return title_end
    (s1, e1), (s2, e2) = lines[0], lines[1]
    nxt, after = text[s1:e1].strip(), text[s2:e2].strip()
    if not nxt or s1 in stop or len(nxt) > _TITLE_MAX_CONT or is_diary_line(nxt) or nxt.endswith("."):
        return title_end
    if not after or s2 in stop or is_diary_line(after):
        return e1
    return title_end


def _next_line(text: str, pos: int) -> int:
    """Start of the first non-empty line after `pos`."""
    for s, e in _lines(text, pos + 1, min(len(text), pos + 400)):
        if text[s:e].strip():
            return s
    return -1


def _front_title(text: str, start: int, end: int, stop: set[int], marker_lines: set[int]) -> tuple[str | None, int, int]:
    """In an extract without item lines, the title is the last plain line before the first handling."""
    found: tuple[str | None, int, int] = (None, 0, 0)
    prev: tuple[int, int] | None = None
    for s, e in _lines(text, start, end):
        line = text[s:e].strip()
        if not line or s in stop or s in marker_lines or is_diary_line(line) or _BLANK_OR_CHROME.match(line):
            prev = None
            continue
        if len(line) < 8 and not line[:1].islower() or _LETTERHEAD.search(line) and len(line.split()) <= 8:
            prev = None
            continue
        lead = len(text[s:e]) - len(text[s:e].lstrip(" \t#"))
        if line[:1].islower() and prev is not None:
            found = (" ".join(text[prev[0]:e].split()).lstrip("# "), prev[0], e)  # a wrapped title
        else:
            found = (line.lstrip("# ").strip(), s + lead, e)
            prev = (s + lead, e)
    return found


def segment(doc: Doc) -> Segmentation:
    text = doc_text(doc)
    markers = [m for m in find_markers(text) if not m.toc]
    heads = headings_mod.find(doc)
    head_lines = {text.rfind("\n", 0, h.start) + 1 for h in heads}
    item_markers = _in_sequence([m for m in markers if m.kind == "item"])
    handling_markers = [m for m in markers if m.kind == "handling"]
    marker_lines = {m.start for m in markers}

    bounds: list[tuple[int, int, Marker | None]] = []
    if item_markers:
        starts = [m.start for m in item_markers] + [len(text)]
        for k, m in enumerate(item_markers):
            bounds.append((m.start, starts[k + 1], m))
        front_end = item_markers[0].start
        # An extract may hold its handlings before the first item line: keep them if headed.
        if any(h.start < front_end and h.label in ("proposal", "decision") for h in heads):
            bounds.insert(0, (0, front_end, None))
    else:
        bounds.append((0, len(text), None))
        front_end = 0

    items = []
    for start, end, marker in bounds:
        item = Item(start, end, marker)
        inner = [h for h in handling_markers if start <= h.start < end]
        cuts = [(h.start, h) for h in inner]
        first = cuts[0][0] if cuts else end
        pieces: list[tuple[int, int, Marker | None]] = []
        if not cuts or any(start <= h.start < first and h.label in ("proposal", "decision") for h in heads):
            pieces.append((start, first, None))
        for k, (cut, h) in enumerate(cuts):
            pieces.append((cut, cuts[k + 1][0] if k + 1 < len(cuts) else end, h))
        for s, e, h in pieces:
            handling = Handling(s, e, h)
            inside = [hd for hd in heads if s <= hd.start < e]
            for k, hd in enumerate(inside):
                nxt = inside[k + 1].start if k + 1 < len(inside) else e
                handling.sections.append(Section(hd, hd.end, nxt))
            if handling.sections:
                item.handlings.append(handling)
        if not item.handlings:
            continue
        if marker and marker.title:
            item.title, item.title_start = marker.title, text.find(marker.title, marker.start)
            item.title_end = _continue_title(text, marker.end, end, head_lines | marker_lines)
            item.title = " ".join(text[item.title_start:item.title_end].split())
        elif marker:
            item.title, item.title_start, item.title_end = _title_after(text, marker.end + 1, end, head_lines | marker_lines)
            if item.title:
                item.title_end = _continue_title(text, item.title_end, end, head_lines | marker_lines)
                item.title = " ".join(text[item.title_start:item.title_end].split())
        else:
            first = item.handlings[0]
            first_head = min((hd.start for hd in heads if start <= hd.start < end and hd.label not in FRAME_LABELS),
                             default=end)
            limit = first.start if first.marker else first_head
            # The line under a person or date label ("Päätöksen tekijä" / "Tekninen johtaja X") is no title.
            filled = {_next_line(text, hd.line_end) for hd in heads if hd.label in _PERSON_LABELS and not hd.remainder}
            item.title, item.title_start, item.title_end = _front_title(text, start, limit, head_lines | filled,
                                                                        marker_lines)
            if first.marker:
                # "Kunnanhallitus § 244 10.11.2025" / title / Dnro: the title follows the handling line.
                after = _title_after(text, first.marker.end + 1, min(first_head, first.end), head_lines | marker_lines)
                if after[0] and not _LETTERHEAD.search(after[0]):
                    item.title, item.title_start, item.title_end = after
                    item.title_end = _continue_title(text, item.title_end, end, head_lines | marker_lines)
                    item.title = " ".join(text[item.title_start:item.title_end].split())
        items.append(item)
    _mark_current(items, {m.section for m in markers if m.kind == "pykala"})
    return Segmentation(items, markers, heads, front_end)


def _mark_current(items: list[Item], page_sections: set[int]) -> None:
    """The handling the document records: the item's own § (its item line, or Dynasty's
    "Pöytäkirja …/Pykälä N" header) where it has one, else the last (history comes first)."""
    for item in items:
        own_sections = ({item.marker.section} if item.marker else set()) | page_sections
        own = [h for h in item.handlings if h.marker and h.marker.section in own_sections]
        target = own[-1] if own else item.handlings[-1]
        target.current = True
