"""Running headers and footers of plain-text minutes, found by what repeats, as for PDFs.

Text exported from a PDF or a word processor keeps each page's letterhead and footer:
"OUTOKUMMUN KAUPUNKI   PÖYTÄKIRJA 5/2024   3 (14)", "Sivu 3/10", "Sida 2 (9)", a repeated
"Pöytäkirjantarkastajat ____" line, with or without form feeds between the pages. A block of lines
(between blank lines) that carries a page number and recurs, digits masked, is chrome; so is a
block that recurs beside such a block or beside a form feed. The first occurrence of a header is
kept, as pipeline/layout.py keeps a PDF's first header: it names the organisation, the body, the
date and the meeting number. Where a page break cut a paragraph, its two halves are joined again.
Text with very long lines (a page or a document on one line) is cut at its sentence ends first.
"""
from __future__ import annotations

import re
from collections import Counter

from pipeline.layout import PAGE_NUMBER, mask_digits

# A page number at the end of a line, after a wide gap: "OUTOKUMMUN KAUPUNKI   PÖYTÄKIRJA 5/2024   3 (14)".
_TRAILING_PAGE = re.compile(r"(?:^|[ \t]{2,})(?:sivu|sida|page|s\.)?[ \t]*\d{1,4}[ \t]*(?:\(\d{1,4}\)|/[ \t]*\d{1,4})?[ \t]*$",
                            re.IGNORECASE)
_WORD_PAGE = re.compile(r"^(?:sivu|sida|page)[ \t]+\d{1,4}(?:[ \t]*(?:\(\d{1,4}\)|/[ \t]*\d{1,4}))?$", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?:;])[ \t]+(?=[A-ZÅÄÖ0-9§])")
LONG_LINE = 2000           # characters: a line longer than this is a page (or more) on one line
_MIN_REPEATS = 2


# What makes a line's trailing number a page number: "3 (14)", "/10", or the word for page.
_PAGE_SHAPE = re.compile(r"\d[ \t]*\(\d+\)$|/\d+$|\bsivu\b|\bsida\b", re.IGNORECASE)
_OF = re.compile(r"(\d{1,4})[ \t]*(?:\((\d{1,4})\)|/[ \t]*(\d{1,4}))[ \t]*$")
_MAX_PAGES = 999


def _is_page_number(line: str) -> bool:
    """A page number ("3 (14)", "Sivu 3/10", "Sida 2 (9)", "- 4 -") alone or at a line's end; "Dnro
    8394/2008" is no page 8394 of 2008: a page is at most the page count, which is at most 999."""
    s = line.strip()
    of = _OF.search(s)
    if of is not None:
        page, total = int(of.group(1)), int(of.group(2) or of.group(3))
        if not 0 < page <= total <= _MAX_PAGES:
            return False
    return bool(PAGE_NUMBER.match(s) or _WORD_PAGE.match(s) or (_TRAILING_PAGE.search(s) and len(s.split()) > 1
                                                                  and _PAGE_SHAPE.search(s)))


def _blocks(lines: list[str]) -> list[tuple[int, int]]:
    """(first, end) line indexes of runs of non-blank lines; a form feed line is a run of its own."""
    out = []
    k = 0
    while k < len(lines):
        if not lines[k].strip() and lines[k] != "\f":
            k += 1
            continue
        if lines[k] == "\f":
            out.append((k, k + 1))
            k += 1
            continue
        j = k
        while j < len(lines) and lines[j].strip() and lines[j] != "\f":
            j += 1
        out.append((k, j))
        k = j
    return out


def split_long_lines(text: str) -> str:
    """Cut lines longer than LONG_LINE at sentence ends, so that structure can be seen line by line."""
    if not any(len(line) > LONG_LINE for line in text.split("\n")):
        return text
    return "\n".join(_SENTENCE_END.sub("\n", line) if len(line) > LONG_LINE else line for line in text.split("\n"))


def drop_text_chrome(text: str) -> str:
    """The text without its running headers and footers (form feeds are kept as page breaks)."""
    lines = text.replace("\f", "\n\f\n").split("\n")
    blocks = _blocks(lines)
    masked = {b: tuple(mask_digits(ln) for ln in lines[b[0]:b[1]]) for b in blocks}
    paged = {b for b in blocks if lines[b[0]] != "\f" and any(_is_page_number(ln) for ln in lines[b[0]:b[1]])}
    counts = Counter(masked[b] for b in paged)
    last = next((b for b in reversed(blocks) if lines[b[0]] != "\f"), None)
    chrome = {b for b in paged if counts[masked[b]] >= _MIN_REPEATS or b == last or
              all(_is_page_number(ln) and len(ln.split()) <= 3 for ln in lines[b[0]:b[1]])}  # the last page's footer
    # A footer run into the next page's header, no blank line between ("Pöytäkirjantarkastajat ___" /
    # "Sivu 125" / "ORG   PÖYTÄKIRJAOTE"): a page-numbered block each of whose lines recurs elsewhere.
    seen_lines = Counter(m.strip().lstrip("\ufeff") for b in blocks for m in masked[b] if m.strip())
    chrome |= {b for b in paged if all(_is_page_number(ln) or seen_lines[m.strip()] >= _MIN_REPEATS
                                       for ln, m in zip(lines[b[0]:b[1]], masked[b]))}
    # Blocks beside chrome or a form feed that recur there as they are: a letterhead without the page
    # number, a footer line above the page number's block. Content that merely looks alike (two
    # handling lines "Kh 1.2.2024 § 5", "Kh 3.4.2024 § 9") differs in its digits, so it stays; a § line
    # repeated over an item's second page is chrome after its first occurrence.
    boundary: Counter[tuple[str, ...]] = Counter()
    beside: list[tuple[int, int]] = []
    for k, b in enumerate(blocks):
        if b in chrome or lines[b[0]] == "\f":
            continue
        near = [blocks[j] for j in (k - 1, k + 1) if 0 <= j < len(blocks)]
        if k == 0 or any(n in chrome or lines[n[0]] == "\f" for n in near):  # the text's start is a page's
            boundary[tuple(lines[b[0]:b[1]])] += 1
            beside.append(b)
    pages = max(sum(1 for ln in lines if ln == "\f") + 1, len(chrome))
    need = max(_MIN_REPEATS, pages - 1)  # a letterhead or a footer is on (nearly) every page, content is not
    seen: set[tuple[str, ...]] = set()
    for b in beside:
        exact = tuple(lines[b[0]:b[1]])
        if boundary[exact] < need:
            continue
        if any("§" in ln for ln in exact) and exact not in seen:
            seen.add(exact)
            continue
        chrome.add(b)
    if not chrome:
        return text
    first_header = next((b for b in blocks if lines[b[0]] != "\f"), None)
    keep_first = first_header if first_header in chrome else None
    out: list[str] = []
    k = 0
    removed = {b[0]: b for b in chrome if b != keep_first}
    while k < len(lines):
        b = removed.get(k)
        if b is None:
            out.append(lines[k])
            k += 1
            continue
        k = _close_gap(out, lines, b[1])
    return "\n".join(out).replace("\n\f\n", "\f")


def _close_gap(out: list[str], lines: list[str], k: int) -> int:
    """After a removed block: join a paragraph cut by the page break (the next text goes on in
    lower case, or the line before ends in a hyphen); otherwise leave one blank line."""
    while out and not out[-1].strip() and out[-1] != "\f":
        out.pop()
    nxt = k
    while nxt < len(lines) and (not lines[nxt].strip() or lines[nxt] == "\f"):
        nxt += 1
    feed = any(lines[j] == "\f" for j in range(k, min(nxt, len(lines))))
    if nxt >= len(lines) or not out:
        if feed:
            out.append("\f")
        return nxt
    before, after = out[-1].rstrip(), lines[nxt].lstrip()
    cut = before.endswith("-") or (after[:1].islower() and not before.endswith((".", ":", "!", "?")))
    if feed:
        out.append("\f")
    if not cut:
        out.append("")
    return nxt
