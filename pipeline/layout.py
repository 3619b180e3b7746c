"""Engine-independent page layout: positioned characters → lines → page text.

Both PDF engines (pdfplumber, pypdfium2) only hand over positioned characters; every decision
about what a page says is made here, so the two engines give the same page texts:

- characters become words (split at white space and gaps) and lines (by vertical position);
- running headers and footers are found by what repeats, digits masked, in the same place in
  the top or bottom band of most pages (no list of strings); the first header is kept because
  it names the organisation, body, date and meeting number;
- a label column (a heading at the left margin, its text in a second column) is found from the
  geometry of the whole document (no list of label words) and rendered as the label on its own
  line followed by the text;
- a bold run that starts after a column gap starts a line of its own.

Coordinates are PDF points with `top` growing downwards, as in pdfplumber.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from operator import attrgetter

_DIGITS = re.compile(r"\d+")
_BOLD_FONT = re.compile(r"bold|black|heavy|demi|semibold|extrabold|ultrabold", re.IGNORECASE)
# "1 (8)", "3/9", "Sivu 2", "Sivu 2/9", "- 4 -", "Page 1 of 3": a line that is only a page number.
PAGE_NUMBER = re.compile(
    r"^(?:sivu|page|s\.)?\s*[-–]?\s*\d{1,4}\s*(?:(?:[(/]|of|kautta)\s*\d{1,4}\s*\)?)?\s*[-–]?$", re.IGNORECASE
)

# A line naming a § ("§ 12", "12 §", "Pöytäkirja 4.3.2024/Pykälä 58"): where one sits at the same
# place on every page, its number grows from item to item, so it is structure, not chrome; only an
# exact repeat of such a line (a Dynasty page header over an item's second page) is chrome.
_SECTION_LINE = re.compile(r"§|\b(?:pykälä|paragraf)\s+\d", re.IGNORECASE)

LINE_TOLERANCE = 0.3  # chars whose bottoms differ by less than this × size share a line
WORD_GAP = 0.2  # a gap wider than this × size splits a word even without a space character
COLUMN_GAP = 1.0  # a gap wider than this × size separates two columns (segments) on a line
LABEL_GAP = 0.5  # the gap before a label column's text must be at least this × size
X_TOLERANCE = 2.5  # points: left edges this close count as the same column
MIN_COLUMN_STEP = 36.0  # points: label and text columns are at least this far apart
MIN_LABEL_ROWS = 3  # rows with a label and text at the same two x positions
MIN_CONTINUATIONS = 1  # lines starting in the text column with nothing to their left
TOP_BAND = 0.15  # fraction of the page height searched for running headers
BOTTOM_BAND = 0.12  # ... and for running footers
HEADER_GAP = 2.5  # a gap wider than this × size between two top lines ends the running header
CHROME_POSITION = 6.0  # points: a repeated header sits this close to where it sat before
PARAGRAPH_PITCH = 1.55  # a line pitch above this × font size leaves a blank line


@dataclass(slots=True)
class Word:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    bold: bool
    size: float


@dataclass(slots=True)
class Char(Word):
    """A run of glyphs in one font on one baseline, as an engine reports it.

    pdfplumber gives one glyph per Char; pypdfium2 gives a whole run between white space (far
    fewer objects to build and sort). `glyphs` counts the glyphs, so bold majorities come out
    the same either way. `text` may be white space: a word break, as is `space_after`. A run
    that is a whole word serves as that Word (most words with pypdfium2: no copy is made).
    """

    glyphs: int = 1
    space_after: bool = False  # a space character follows in the same font run (pypdfium2)


@dataclass(slots=True)
class Line:
    """One visual line of a page: its words in reading order and where it sits."""

    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    bold: bool
    page: int
    words: tuple[Word, ...] = ()
    size: float = 0.0  # the largest font size on the line (set by `line_of`)


@dataclass(slots=True)
class PageLines:
    """The lines of one page and the page height (the bands are fractions of it)."""

    number: int
    height: float
    lines: list[Line]


@cache
def is_bold_font(fontname: str | None) -> bool:
    """Font names say the weight ("ABCDEF+Carlito-Bold", "Arial,Bold", "Helvetica-Black")."""
    return bool(fontname) and bool(_BOLD_FONT.search(fontname or ""))


def mask_digits(text: str) -> str:
    """Digits masked and spacing/case normalised: "3 (8)" and "4 (8)" compare equal."""
    # split() takes the white space `\s` matches: spaces collapsed to one and stripped, without a regex.
    return " ".join(_DIGITS.sub("#", text).split()).casefold()


# --------------------------------------------------------------------------- chars → lines


def _make_word(chars: list[Char]) -> list[Word]:
    """A word from its runs; a bold prefix glued to regular text ("EhdotusKaupunki…") is split off."""
    first = chars[0]
    if len(chars) == 1:  # most words with pypdfium2
        return [first]
    top, bottom, size, x1, n_bold, n = first.top, first.bottom, first.size, first.x1, 0, 0
    for c in chars:
        top = c.top if c.top < top else top
        bottom = c.bottom if c.bottom > bottom else bottom
        size = c.size if c.size > size else size
        x1 = c.x1 if c.x1 > x1 else x1
        n += c.glyphs
        if c.bold:
            n_bold += c.glyphs
    if 0 < n_bold < n:
        cut = next(k for k, c in enumerate(chars) if not c.bold)
        head = sum(c.glyphs for c in chars[:cut])
        if head >= 2 and n - head >= 2 and not any(c.bold for c in chars[cut:]):
            return _make_word(chars[:cut]) + _make_word(chars[cut:])
    text = first.text if len(chars) == 1 else "".join([c.text for c in chars])
    return [Word(text, first.x0, x1, top, bottom, n_bold * 2 >= n, size)]


def _words_of_row(row: list[Char]) -> list[Word]:
    row.sort(key=attrgetter("x0"))
    words: list[Word] = []
    current: list[Char] = []
    prev: Char | None = None
    broken = False  # a space since `prev`
    for ch in row:
        text = ch.text
        if text.isspace():
            broken = True
            continue
        if prev is not None:
            if text == prev.text and abs(ch.x0 - prev.x0) < 0.5 and abs(ch.top - prev.top) < 0.5:
                continue  # the same glyph drawn twice (fake bold, shadow)
            if broken or ch.x0 - prev.x1 > WORD_GAP * max(ch.size, prev.size, 1.0):
                if len(current) == 1:  # `_make_word` inlined for the common case (pypdfium2)
                    words.append(current[0])
                else:
                    words.extend(_make_word(current))
                current = []
        current.append(ch)
        prev, broken = ch, ch.space_after
    if current:
        words.extend(_make_word(current))
    return words


def line_of(words: Sequence[Word], page: int) -> Line:
    """A Line from words already in reading order."""
    first = words[0]
    x1, top, bottom, size, bold = first.x1, first.top, first.bottom, first.size, first.bold
    for w in words:
        x1 = w.x1 if w.x1 > x1 else x1
        top = w.top if w.top < top else top
        bottom = w.bottom if w.bottom > bottom else bottom
        size = w.size if w.size > size else size
        bold = bold and w.bold
    return Line(" ".join([w.text for w in words]), first.x0, x1, top, bottom, bold, page, tuple(words), size)


def lines_from_chars(chars: Iterable[Char], page: int) -> list[Line]:
    """Group chars into lines by `bottom` (relative to font size), then into words by gaps.

    The bottom (baseline plus descent) is steadier than the top, which accented capitals
    raise in pdfium's boxes and larger type raises everywhere.
    """
    ordered = sorted(chars, key=attrgetter("bottom"))
    rows: list[list[Char]] = []
    row_ref = row_tol = 0.0
    for ch in ordered:
        if rows and ch.bottom - row_ref <= row_tol:
            rows[-1].append(ch)
            continue
        rows.append([ch])
        row_ref, row_tol = ch.bottom, LINE_TOLERANCE * max(ch.size, 1.0)
    lines = []
    for row in rows:
        words = _words_of_row(row)
        if words:
            lines.append(line_of(words, page))
    lines.sort(key=lambda ln: (ln.bottom, ln.x0))
    return lines


def segments(line: Line) -> list[tuple[Word, ...]]:
    """The line cut at column gaps: "SAARIJÄRVEN KAUPUNKI | PÖYTÄKIRJA 9/2025 | 3 (8)"."""
    out: list[tuple[Word, ...]] = []
    start = 0
    ws = line.words
    for j in range(1, len(ws)):
        if ws[j].x0 - ws[j - 1].x1 > COLUMN_GAP * max(ws[j].size, ws[j - 1].size):
            out.append(ws[start:j])
            start = j
    out.append(ws[start:])
    return out


# --------------------------------------------------------------------------- running headers


def _band(line: Line, height: float) -> str | None:
    if line.top < TOP_BAND * height:
        return "top"
    if line.bottom > (1.0 - BOTTOM_BAND) * height:
        return "bottom"
    return None


def drop_chrome(pages: Sequence[PageLines]) -> list[list[Line]]:
    """Remove running headers and footers, found by repetition rather than by a list of strings.

    A band line is chrome when each of its segments (digits masked) recurs at about the same
    height on at least half of the pages that have text (so alternating odd/even headers and
    text-less appendix scans do not hide it). Footers go everywhere; a header is kept where it
    first occurs, since it carries the organisation, body, date and meeting number, unless an
    earlier page already has the same line elsewhere. A band line that is only a page number
    goes too, also in a single-page document. Only the outermost lines can be chrome: the run of
    such lines from the top (bottom) edge of the page, so a body line that happens to repeat
    stays.
    """
    need = max(2, (sum(1 for page in pages if page.lines) + 1) // 2)
    seen: dict[tuple[str, str], list[tuple[int, float]]] = {}
    masked: dict[int, list[str]] = {}  # id(band line) → its segments, digits masked: made once
    for p_idx, page in enumerate(pages):
        for line in page.lines:
            band = _band(line, page.height)
            if band is None:
                continue
            pos = line.top if band == "top" else page.height - line.bottom
            texts = masked[id(line)] = [mask_digits(" ".join([w.text for w in seg])) for seg in segments(line)]
            for text in texts:
                seen.setdefault((band, text), []).append((p_idx, pos))

    def repeated(key: tuple[str, str], pos: float) -> bool:
        pages_at = {p for p, q in seen.get(key, ()) if abs(q - pos) <= CHROME_POSITION}
        return len(pages_at) >= need

    earlier: set[str] = set()  # masked lines of the pages before this one
    earlier_exact: set[str] = set()  # § lines in the bands of the pages before this one, as written

    def chrome(line: Line, band: str, height: float) -> bool:
        if PAGE_NUMBER.match(line.text.strip()):
            return True
        if _SECTION_LINE.search(line.text):
            return " ".join(line.text.split()) in earlier_exact
        pos = line.top if band == "top" else height - line.bottom
        return all(repeated((band, text), pos) for text in masked[id(line)])

    out: list[list[Line]] = []
    for page in pages:
        lines = page.lines
        # Chrome is the block at the very top or bottom: a repeated line below a line of the body
        # (a "Dnro" row where two items happen to start at the same height) is body.
        top = 0
        while top < len(lines) and _band(lines[top], page.height) == "top" and chrome(lines[top], "top", page.height):
            if top and lines[top].top - lines[top - 1].bottom > HEADER_GAP * max(lines[top].size, 1.0):
                break  # the header block ended at a gap: a heading that starts the body on several pages stays
            top += 1
        bottom = len(lines)
        while bottom > top and _band(lines[bottom - 1], page.height) == "bottom" and \
                chrome(lines[bottom - 1], "bottom", page.height):
            bottom -= 1
        body = [line for line in lines[:top]  # a header is kept where it first occurs
                if not PAGE_NUMBER.match(line.text.strip()) and mask_digits(line.text) not in earlier
                and not _SECTION_LINE.search(line.text)]
        body += lines[top:bottom]
        earlier.update(mask_digits(line.text) for line in body)
        earlier_exact.update(" ".join(line.text.split()) for line in body
                             if _band(line, page.height) and _SECTION_LINE.search(line.text))
        out.append(body)
    return out


# --------------------------------------------------------------------------- label column


def _near(a: float, b: float) -> bool:
    return abs(a - b) <= X_TOLERANCE


def _left_margin(starts: Sequence[float]) -> float | None:
    """The leftmost x at which a fair share of lines start (stray outdented lines do not count)."""
    need = max(MIN_LABEL_ROWS, len(starts) // 50)
    for x in sorted(set(round(s) for s in starts)):
        if sum(1 for s in starts if abs(s - x) <= X_TOLERANCE) >= need:  # `_near`, inlined: many starts
            return x
    return None


def find_label_columns(pages: Sequence[Sequence[Line]]) -> list[tuple[float, float]]:
    """Label columns as (label x, text x) pairs, found from the geometry of the whole document.

    A pair qualifies when at least MIN_LABEL_ROWS lines start at the label x and continue after
    a gap at the text x, and some line starts at the text x with nothing to its left (the right
    column is running text that wraps). Two-column tables (member lists, the signature block)
    have rows but no such lines, so they do not qualify; nor does a block indented from the
    left margin.
    """
    pairs: list[tuple[float, float]] = []
    starts: list[float] = []
    for lines in pages:
        for line in lines:
            starts.append(line.x0)
            ws = line.words
            for j in range(1, len(ws)):
                if ws[j].x0 - ws[j - 1].x1 >= LABEL_GAP * max(ws[j].size, ws[j - 1].size) and \
                        ws[j].x0 - line.x0 >= MIN_COLUMN_STEP:
                    pairs.append((line.x0, ws[j].x0))
                    break
    margin = _left_margin(starts)
    found: list[tuple[int, float, float]] = []
    for left, text_x in sorted(set((round(a), round(b)) for a, b in pairs)):
        if margin is None or not _near(left, margin):
            continue  # an indented two-column block (a member list) is not a label column
        if any(_near(left, fl) and _near(text_x, ft) for _, fl, ft in found):
            continue
        rows = [(a, b) for a, b in pairs if abs(a - left) <= X_TOLERANCE and abs(b - text_x) <= X_TOLERANCE]
        if len(rows) >= MIN_LABEL_ROWS and sum(  # `_near` inlined here: these loops are long
                1 for s in starts if abs(s - text_x) <= X_TOLERANCE) >= MIN_CONTINUATIONS:
            mean_l = sum(a for a, _ in rows) / len(rows)
            mean_t = sum(b for _, b in rows) / len(rows)
            found.append((len(rows), mean_l, mean_t))
    found.sort(reverse=True)
    return [(fl, ft) for _, fl, ft in found]


def split_label(line: Line, columns: Sequence[tuple[float, float]]) -> tuple[tuple[Word, ...], tuple[Word, ...]] | None:
    """(label words, text words) when the line is a row of a label column, else None."""
    ws = line.words
    for left, text_x in columns:
        if not _near(line.x0, left):
            continue
        for j in range(1, len(ws)):
            if _near(ws[j].x0, text_x) and ws[j].x0 - ws[j - 1].x1 >= LABEL_GAP * ws[j].size:
                return ws[:j], ws[j:]
    return None


# --------------------------------------------------------------------------- rendering


def _bold_runs(line: Line) -> list[str]:
    """The line's text, broken before a bold run that follows regular text across a column gap."""
    ws, start = line.words, 0
    out: list[str] = []
    for j in range(1, len(ws)):
        if ws[j].bold and not ws[j - 1].bold and ws[j].x0 - ws[j - 1].x1 > COLUMN_GAP * ws[j].size:
            out.append(_join(ws[start:j]))
            start = j
    if ws:
        out.append(_join(ws[start:]))
    return out


def _join(words: Sequence[Word]) -> str:
    return " ".join([w.text for w in words])


def render_page(lines: Sequence[Line], columns: Sequence[tuple[float, float]]) -> str:
    """Page text: one line per visual line, labels on their own line, blank lines at paragraph gaps.

    A label row whose label and text are both bold (a section heading "§ 182 | Title") stays
    one line, so the heading reads as it would in running text. A label continued on the next
    row in lower case ("Valmistelijat ja / lisätiedot") is joined to its first part.
    """
    out: list[str] = []
    prev: Line | None = None
    label_at: int | None = None  # index in `out` of the label of the current label block
    for line in lines:
        if prev is not None and line.bottom - prev.bottom > PARAGRAPH_PITCH * max(line.size, prev.size):
            out.append("")
            label_at = None
        split = split_label(line, columns)
        if split is None:
            out.extend(_bold_runs(line))
            label_at = None
        else:
            label, text = split
            label_text, body = _join(label), _join(text)
            if label_at is not None and label_text[:1].islower():
                out[label_at] += " " + label_text
                out.append(body)
            elif all(w.bold for w in label) and all(w.bold for w in text):
                out.append(label_text + " " + body)
                label_at = None
            else:
                label_at = len(out)
                out.append(label_text)
                out.append(body)
        prev = line
    return "\n".join(out)


def layout_pages(pages: Sequence[PageLines]) -> list[str]:
    """The whole layout step: drop running headers and footers, find label columns, render."""
    bodies = drop_chrome(pages)
    columns = find_label_columns(bodies)
    return [render_page(lines, columns) for lines in bodies]
