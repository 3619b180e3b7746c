"""The document's own lists: its table of contents (asialuettelo) and its closing pages.

A contents list names the items the document holds, with their titles; it is evidence for the
segmentation (extractors/segment.py), never an item. The closing pages after the last item
(appeal instructions for the whole minutes, "Otteen oikeaksi todistaa") are where each item's
text ends and where the appeal lists by § are read.
"""
from __future__ import annotations

import re

from extractors import headings as headings_mod
from extractors.candidates import Candidate
from extractors.headings import Heading
from extractors.lines import Lines

_TOC_GAP_LINES = 2          # non-blank lines allowed between two contents entries (a wrapped title)
_TOC_STEP = 50             # a contents list's numbers grow by at most this much from entry to entry

def contents_entries(lines: Lines, cands: list[Candidate], head_lines: set[int]) -> set[int]:
    """Indexes (into cands) of contents-list entries.

    A run of two or more candidates with at most a (wrapped) title line and no heading between each pair is
    a contents list when its entries carry page numbers or its numbers come back later in the text.
    Lines naming a body and a date are a history table, never contents.
    """
    out: set[int] = set()
    run: list[int] = []
    last_at = {c.section: i for i, c in enumerate(cands) if not c.dated}  # where each number is seen last

    def close() -> None:
        entries = [cands[i] for i in run]
        if len(run) >= 2:
            again = sum(1 for c in entries if last_at.get(c.section, -1) > run[-1])
            paged = sum(1 for c in entries if c.page_ref is not None)
            if again >= max(1, len(entries) // 2) or paged >= len(entries) // 2 + 1:
                out.update(run)
        run.clear()

    for i, c in enumerate(cands):
        if c.dated or c.form in ("history_row", "pykala"):
            close()
            continue
        if run and c.weak and c.form != cands[run[-1]].form:
            continue  # a list keeps to one form: "OY 3" under "§ 10 … NYBERG" is the title's wrapped end
        if run:
            prev = cands[run[-1]]
            gap = [ln for ln in lines.lines[prev.line + 1:c.line] if not ln.blank]
            if len(gap) > _TOC_GAP_LINES or not prev.section < c.section <= prev.section + _TOC_STEP or \
                    any(ln.index in head_lines for ln in gap):
                close()
        run.append(i)
    close()
    return out


_PAGE_AT_END = re.compile(r"[ \t.]+\d{1,4}[ \t]*$")


def toc_titles(lines: Lines, toc: list[Candidate]) -> dict[int, str]:
    """Each contents entry's full title: its line's, or the line after a bare "§ N", joined with a
    wrapped second line; page numbers at the end left out where the list prints them."""
    out: dict[int, str] = {}
    toc_lines = {c.line for c in toc}
    for c in toc:
        parts = [c.title] if c.title else []
        k = c.line + 1
        while k < len(lines) and k not in toc_lines and not lines[k].blank and len(parts) < 3:
            parts.append(lines[k].stripped)
            k += 1
        if parts:
            out[c.section] = " ".join(parts)
    paged = sum(1 for t in out.values() if _PAGE_AT_END.search(t))
    if out and paged * 3 >= len(out) * 2:
        out = {k: _PAGE_AT_END.sub("", t) for k, t in out.items()}
    return out


_LIST_LINE = re.compile(r"(?im)^[ \t]*(?:[^\n]{0,40}?[:,][ \t]*)?(?:§:t|§§|pykälät|pykäliä|§)[ \t]*\d{1,4}(?:[ \t]*[-–—,][ \t]*\d)")


def closing_start(text: str, heads: list[Heading], after: int) -> int | None:
    """Where the closing pages begin after the last item: appeal instructions for the whole
    minutes ("Muutoksenhakuohjeet", a second appeal heading after the item's own, an appeal heading
    over lists of §), "Otteen oikeaksi todistaa" and the like."""
    seen_appeal = False  # the item's own appeal section is over (it had text, or other sections followed)
    for k, h in enumerate(heads):
        if h.start < after:
            continue
        if headings_mod.is_closing(text, h):
            return h.start
        nxt = heads[k + 1].start if k + 1 < len(heads) else len(text)
        if h.label == "appeal":
            if seen_appeal or _LIST_LINE.search(text, h.end, min(nxt, h.end + 400)):
                return h.start
            seen_appeal = bool(text[h.end:nxt].strip())
        elif seen_appeal is False and any(x.label == "appeal" and after <= x.start < h.start for x in heads):
            seen_appeal = True
    return None
