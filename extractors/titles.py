"""An item's title (the asia's heading): on its § line, or the lines after the item's header block.

A careful reader takes the title from the item header and stops at what is not title: a diary
line, a line naming a body and a date ("Tekninen lautakunta 2.6.2025"), a heading, a person line,
another candidate. A title wrapped onto a second line is joined where the second line reads as
its continuation (it starts in lower case, both are in capitals, or it is a short line followed by
a gap), and where the contents list gives the title, the lines that spell it are taken.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

from extractors import diary_ids
from extractors.candidates import Candidate, body_like
from extractors.lines import Line, Lines
from extractors.nlp import make_doc
from extractors.people import PERSONISH, is_title, looks_like_person_line, names_in_line

if TYPE_CHECKING:
    from extractors.items import Item

_LABEL_ONLY = re.compile(r"^[\s:.,#]*(?:(?:Dnro|Dno|Asianro|Asianumero|Diaarinumero|Diaarinro|diaari|Ärendenr|Ärende nr)"
                         r"[:.]?)?[\s:.,]*$", re.IGNORECASE)
_BARE_ID = re.compile(r"^(?:[A-ZÅÄÖ]{2,8}Dno-)?\d{1,7}[ \t]*[/-][ \t]*(?:19|20)\d{2}$")
_BODY_DATE = re.compile(r"^(?P<body>[A-ZÅÄÖ][\w\-–. ]{1,60}?)[ \t]*,?[ \t]+(?:kokous[ \t]+)?\d{1,2}\.\d{1,2}\.(?:\d{4}|\d{2})"
                        r"(?:[ \t]+klo[^\n]*)?$")
_WORD = re.compile(r"\w+")
# Navigation and viewer chrome of web pages and PDF exports: never a title.
_CHROME = re.compile(r"\s\|\s|https?://|\bwww\.|\bEdellinen asia\b|\bSeuraava asia\b|\bLataa\b|\bTulosta\b",
                     re.IGNORECASE)
_MAX_CONTINUATION = 120
_MAX_TITLE = 240
_MAX_TITLE_GAP = 2  # blank lines a wrapped title may have between its parts
_HEADING_MARK = re.compile(r"#+[ \t]+")
_MAX_DIARY_WORDS = 10
_ID_SHAPE = re.compile(r"\d[ \t]*[/\-:]|[/\-:][ \t]*\d")
# Headings whose section is a short labelled value (a date, a name, a contact), not the item's text.
_VALUE_LABELS = frozenset({"decision_date", "officer", "preparer", "presenter", "contact"})
_LETTERHEAD = re.compile(r"\b(PÖYTÄKIRJA|Pöytäkirja(?:ote)?|PÖYTÄKIRJAOTE|ESITYSLISTA|Esityslista|KAUPUNKI|KUNTA|"
                         r"VIRANHALTIJAPÄÄTÖS|HYVINVOINTIALUE|PROTOKOLL|\d+ \(\d+\))")


@lru_cache(maxsize=4096)
def is_diary_line(line: str) -> bool:
    """A line that holds a diary number and nothing else but its label (or the label alone,
    where a label column puts the number on the next line)."""
    s = line.strip()
    if len(s.split()) > _MAX_DIARY_WORDS:
        return False  # running text: the longest form, a label and "HEL 2020-004417 T 08 00 00", is 8 words
    if not any(ch.isdigit() for ch in s):
        return bool(s) and bool(_LABEL_ONLY.match(s)) and any(ch.isalpha() for ch in s)
    if _BARE_ID.match(s):
        return True
    if not _ID_SHAPE.search(s):
        return False  # every diary id form joins its parts with "/", "-" or ":"
    if diary_ids.parse_line(s) is not None:
        return True  # the usual labels, read without tokenizing
    for m in diary_ids.find(make_doc(s)):
        if _LABEL_ONLY.match(s[: m.start] + s[m.end:]):
            return True
    return False


def is_body_date_line(line: str) -> bool:
    """ "Tekninen lautakunta 2.6.2025", "Kaupunginvaltuusto, kokous 15.9.2025": a meeting named."""
    m = _BODY_DATE.match(line.strip())
    return bool(m) and body_like(m.group("body").strip(" ,"))


def _stop_line(ln: Line, by_line: dict[int, Candidate], head_lines: set[int]) -> bool:
    s = ln.stripped
    return (ln.index in by_line or ln.index in head_lines or is_diary_line(s) or is_body_date_line(s)
            or ln.rule)


def _words(s: str) -> list[str]:
    return _WORD.findall(s.lower())


def _continues(first: str, nxt: Line, after: Line | None, by_line: dict[int, Candidate], head_lines: set[int]) -> bool:
    """Whether `nxt` is the wrapped rest of a title whose text so far is `first`."""
    s = nxt.stripped
    if not s or _stop_line(nxt, by_line, head_lines) or len(s) > _MAX_CONTINUATION:
        return False
    if first.rstrip().endswith((".", ":", "!", "?")):
        return False
    if s[:1].islower():
        return True
    letters = [ch for ch in first + s if ch.isalpha()]
    if letters and all(ch.isupper() for ch in letters):
        return True  # a title in capitals wrapped ("HALLINTOJOHTAJAN" / "VIRAN TÄYTTÄMINEN")
    if _person(s):
        return False
    gap_after = after is None or after.blank or _stop_line(after, by_line, head_lines)
    return gap_after and not s.endswith(".")


def _toc_lines(toc_title: str, lines: list[Line]) -> int | None:
    """How many of `lines` (from the first) spell the contents list's title: 1 or 2; None where
    they do not spell it (the heuristics decide)."""
    want = _words(toc_title)
    one = _words(lines[0].stripped)
    if len(lines) >= 2:
        two = one + _words(lines[1].stripped)
        if two == want or len(two) > len(one) and want[:len(two)] == two and len(want) - len(two) <= 1:
            return 2
    if one == want or want[:len(one)] == one and len(want) - len(one) <= 1 and len(one) > 1:
        return 1
    return None


def item_title(item: Item, lines: Lines, by_line: dict[int, Candidate], head_lines: set[int],
               toc_titles: dict[int, str]) -> None:
    """Set `item.title` and its span; `head_lines`: the lines that hold a heading."""
    c = item.marker
    if c is None:
        _front_title(item, lines, by_line, head_lines)
        return
    toc_title = toc_titles.get(c.section)
    start, span = -1, []
    titled = [m for m in item.header if m.line >= c.line and m.title] if item.header else ([c] if c.title else [])
    if titled:
        m = titled[-1]
        start, span = m.title_start, [lines[m.line]]
    else:
        # The title follows the header's lines: after the last of them that a title follows.
        for m in sorted(item.header or [c], key=lambda x: -x.line):
            if m.line < c.line:
                continue
            found = _title_line(lines, m.line, item.end, by_line, head_lines)
            if found is not None:
                start, span = found.content_start, [found]
                break
        if not span:
            _title_above(item, lines, by_line, head_lines)
            return
    # continuation lines
    k = span[0].index
    follow = [ln for ln in lines.lines[k + 1:k + 2 + _MAX_TITLE_GAP] if ln.start < item.end]
    gap = next((j for j, ln in enumerate(follow) if not ln.blank), len(follow))  # blank lines before the next
    first = lines.text[start:span[0].end]
    if gap < len(follow):
        nxt = follow[gap]
        after = lines[nxt.index + 1] if nxt.index + 1 < len(lines) else None
        by_toc = _toc_lines(toc_title, [Line(0, start, span[0].end, first), nxt]) if toc_title is not None else None
        if by_toc == 2:
            span.append(nxt)  # the contents list spells the title over the line break (and any blank lines)
        elif by_toc is None and gap == 0:
            if _continues(first, nxt, after, by_line, head_lines):
                span.append(nxt)
        elif by_toc is None:
            # A title broken by a forced line break, blank lines between its parts ("Koulukuljetusperiaatteet"
            # / "" / "lukuvuodelle 2024 2025"): only an unmistakable continuation, in lower case or in capitals.
            caps = [ch for ch in first + nxt.stripped if ch.isalpha()]
            if (nxt.stripped[:1].islower() or caps and all(ch.isupper() for ch in caps)) and \
                    _continues(first, nxt, after, by_line, head_lines):
                span.append(nxt)
    _set_title(item, lines.text, start, span[-1].end)


def _set_title(item: Item, text: str, start: int, end: int) -> bool:
    """Give the item the title text[start:end], its lines joined, a Markdown heading's "#" left out."""
    m = _HEADING_MARK.match(text, start, end)
    start = m.end() if m else start
    title = " ".join(text[start:end].split())
    if not title or len(title) > _MAX_TITLE:
        return False
    item.title, item.title_start, item.title_end = title, start, end
    return True


def _title_line(lines: Lines, after: int, end: int, by_line: dict[int, Candidate], head_lines: set[int]) -> Line | None:
    """The first content line after line `after`, if it reads as a title (not a heading, a diary
    line, another candidate, a person line or page chrome)."""
    for ln in lines.lines[after + 1:]:
        if ln.start >= end:
            return None
        if ln.blank or is_diary_line(ln.stripped) or ln.rule:
            continue
        if _stop_line(ln, by_line, head_lines) or _CHROME.search(ln.stripped) or _person(ln.stripped):
            return None
        return ln
    return None


def _title_above(item: Item, lines: Lines, by_line: dict[int, Candidate], head_lines: set[int]) -> None:
    """Tweb and older extracts print the title above the item's § lines ("Title" / "Kh 13.10.2025
    § 198" / "Kv 27.10.2025 § 41"): the line just above the header block, where it reads as a title;
    the item then starts there."""
    if item.header and not any(c.dated or c.form == "history_row" for c in item.header):
        return  # above a plain "§ N" line stands the previous item or the cover
    first = lines.at(item.start).index
    above = lines.prev_content(first, max(0, first - 3))
    if above is None:
        return
    s = above.stripped
    if (_stop_line(above, by_line, head_lines) or s.endswith((".", ":")) or _LETTERHEAD.search(s)
            or _person(s) or body_like(s) or len(s) < 8):
        return
    if _set_title(item, lines.text, above.content_start, above.end):
        item.start = above.start


def _person(s: str) -> bool:
    """A line naming a person (a preparer's or presenter's line), not a title: a phone, an e-mail, or a
    name with a title or role ("kaavoitusarkkitehti Johanna Lahtinen", "Korhonen Tiina, johtaja")."""
    if PERSONISH.search(s):
        return True
    return bool(names_in_line(s)) and looks_like_person_line(s) and any(is_title(w) for w in s.replace(",", " ").split())


def _front_title(item: Item, lines: Lines, by_line: dict[int, Candidate], head_lines: set[int]) -> None:
    """Without an item line (an extract printed from its handlings, an officer decision): the
    last plain line before the first handling or the first item heading."""
    first = item.handlings[0] if item.handlings else None
    limit = item.end
    values: set[int] = set()   # lines giving a labelled value ("Päätöksen tekijä" / "Liikuntapalvelupäällikkö …")
    if first is not None:
        limit = first.marker.start if first.marker else item.end
        for sec in first.sections:
            if sec.label not in _VALUE_LABELS:
                limit = min(limit, sec.heading.start)
                break
            for ln in lines.between(sec.start, sec.end):
                if ln.blank and values.intersection(range(lines.at(sec.heading.start).index + 1, ln.index)):
                    break  # the value's paragraph ends
                if not ln.blank:
                    values.add(ln.index)
    found: tuple[int, int] | None = None
    prev: tuple[int, int] | None = None
    for ln in lines.between(item.start, limit):
        s = ln.stripped
        if not s or ln.index in values or _stop_line(ln, by_line, head_lines) or \
                _LETTERHEAD.search(s) and len(s.split()) <= 8 or \
                len(s) < 8 and not s[:1].islower() or body_like(s) and len(s.split()) <= 3:
            prev = None
            continue
        if s[:1].islower() and prev is not None:
            found = (prev[0], ln.end)
        else:
            found = (ln.content_start, ln.end)
            prev = found
    if found is None and first is not None and first.marker is not None:
        for ln in lines.lines[first.marker.line + 1:]:
            if ln.start >= first.end:
                break
            if ln.blank or is_diary_line(ln.stripped):
                continue
            if not _stop_line(ln, by_line, head_lines) and not _person(ln.stripped):
                found = (ln.content_start, ln.end)
            break
    if found is None:
        return
    _set_title(item, lines.text, *found)
