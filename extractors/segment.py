"""Items (§), their handlings and headed sections, chosen from the whole document.

No line decides its own role. Every line that could open an item is a candidate
(extractors/candidates.py); the meeting's own body, date, stated section range and contents list
come first (extractors/context.py). Then:

1. Contents lists are runs of candidates with nothing but wrapped titles between them whose
   numbers come back later (or that carry page numbers): never items.
2. Item starts are the best increasing sequence of the other candidates (a dynamic programme):
   each scores by its form, by agreeing with the stated range and the contents, by naming the
   meeting's own body and date; a line naming another body or an earlier date is an earlier
   handling, never an item. The header block printed above an item's § line (Dynasty's "Pykälä N",
   diary and history lines) belongs to that item.
3. Inside an item, lines naming a body, a date and a § open its handlings (käsittelyhistoria);
   a run of such lines with nothing between them is a history table: evidence, not cuts. The
   handling of the meeting's own body and date is current.
4. An item found by its § keeps its row even when it has no headed proposal or decision.
"""
from __future__ import annotations

import re
from bisect import bisect_left
from collections import Counter

from spacy.tokens import Doc

from extractors import bodies, candidates, contents, context
from extractors import headings as headings_mod
from extractors.candidates import Candidate
from extractors.context import Context
from extractors.headings import Heading
from extractors.items import SUBSTANTIVE, Handling, Item, Section, Segmentation
from extractors.lines import Lines
from extractors.nlp import doc_text
from extractors.people import is_presenter_line
from extractors.titles import is_diary_line, item_title

_FORM_SCORE = {"sign_num": 3.0, "num_sign": 3.0, "pykala": 3.0, "abbr_num_sign": 3.0, "body_sign_date": 3.0,
               "body_date_sign": 3.0, "body_date_num_sign": 3.0, "body_sign": 2.5, "bare_upper": 2.0,
               "abbr_num": 1.0, "bare_title": 0.5}
_ENDS_WITH_DATE = re.compile(r"\d{1,2}\.\d{1,2}\.(?:\d{4}|\d{2})[ \t]*$")
_HEADER_WINDOW = 8          # lines above an item's § line searched for its header block


# --------------------------------------------------------------------------- own or foreign


def _same_body(raw: str, own: str | None, known: Counter[str]) -> bool | None:
    """Whether a candidate's body is the meeting's own; None where that cannot be told."""
    if own is None:
        return None
    name = bodies.finnish_name(raw) or bodies.expand(raw, known)
    return name.lower().rstrip(".") == own.lower() or bodies.abbreviates(raw, own)


def _is_own(c: Candidate, ctx: Context, known: Counter[str]) -> bool | None:
    """True: the meeting's own body/date; False: another body or date (an earlier handling)."""
    verdict: bool | None = None
    if c.date is not None and ctx.date is not None:
        d = context.parse_dmy(c.date)
        if d is not None:
            if d != ctx.date:
                return False
            verdict = True
    if c.body is not None and c.form in ("abbr_num", "abbr_num_sign"):
        # "KVALT 27 §", "KHS 263 Title": the meeting's own body abbreviated, or a word we cannot tell.
        if ctx.body is not None and bodies.abbreviates(c.body, ctx.body):
            verdict = True
    elif c.body is not None:
        same = _same_body(c.body, ctx.body, known)
        if same is False:
            return False
        verdict = verdict or same
    return verdict


def _infer_meeting(ctx: Context, cands: list[Candidate], known: Counter[str]) -> None:
    """Where the document does not label its meeting: the latest date its handling lines name
    (an extract's history comes first), and the body named with it."""
    dated = [(context.parse_dmy(c.date or ""), c) for c in cands if c.dated]
    dated = [(d, c) for d, c in dated if d is not None]
    if ctx.date is None and dated:
        d, c = max(dated, key=lambda x: (x[0], x[1].line))
        ctx.date = d
        ctx.date_mention = None
    if ctx.body is None and ctx.date is not None:
        for d, c in dated:
            if d == ctx.date and c.body:
                ctx.body = bodies.finnish_name(c.body) or bodies.expand(c.body, known)
                break


# --------------------------------------------------------------------------- item starts


def _chained(cands: list[Candidate]) -> set[int]:
    """Lines of candidates in a run of the same form numbered one after another (at least three):
    a weak form ("KHS 263 Title", "12 Title") is an item line where the document keeps to it."""
    out: set[int] = set()
    by_form: dict[str, list[Candidate]] = {}
    for c in cands:
        by_form.setdefault(c.form, []).append(c)
    for same in by_form.values():
        run = [same[0]] if same else []
        for c in same[1:] + [None]:  # type: ignore[list-item]
            if c is not None and c.section == run[-1].section + 1:
                run.append(c)
                continue
            if len(run) >= 3:
                out.update(x.line for x in run)
            run = [c] if c is not None else []
    return out


def _score(c: Candidate, own: bool | None, ctx: Context, toc_numbers: set[int], lines: Lines,
           content: bool, chained: bool) -> float:
    score = _FORM_SCORE.get(c.form, 1.0)
    if not content:
        score -= 1.5
    confirmed = chained or bool(own)
    if ctx.range is not None and ctx.range[0] <= c.section <= ctx.range[1]:
        score += 2.0
        confirmed = True
    if c.section in toc_numbers:
        score += 2.0
        confirmed = True
    if own:
        score += 1.5
    if c.weak and not confirmed or c.form == "abbr_num" and not (own or chained):
        return -1.0  # "VUODEN 2021 TULOVEROPROSENTTI" is no "KHS 263 Title"
    above = lines[c.line - 1] if c.line > 0 else None
    if above is None or above.blank:
        score += 0.5
    if above is not None and not above.blank and _ENDS_WITH_DATE.search(above.text) and not c.title:
        score -= 5.0  # "… päätöksestä 2.7.2024" / "§ 164": a reference wrapped onto its own line
    sentence = bool(c.title) and (c.title.endswith(".") and len(c.title.split()) > 4
                                  or lines.text[c.section_end:c.section_end + 1] in ".,")
    if sentence:
        score -= 1.0  # "§ 166. Vaatimuksen mukaan päätös on …": a sentence, not a title
        if above is not None and not above.blank and not above.stripped.endswith((".", ":", "!", "?", ")")):
            score -= 3.0  # and the rest of the sentence above it: "… päätöksestä 26.11.2022" / "§ 166. …"
    return score


def _has_content(lines: Lines, cands: list[Candidate], heads: list[Heading]) -> dict[int, bool]:
    """Whether anything but a title stands between each candidate and the next one: a heading, or
    more than two lines of text. Contents entries and history-table rows have none."""
    head_starts = sorted(h.start for h in heads)
    out: dict[int, bool] = {}
    for k, c in enumerate(cands):
        stop = cands[k + 1].start if k + 1 < len(cands) else len(lines.text)
        i = bisect_left(head_starts, c.end)
        if i < len(head_starts) and head_starts[i] < stop:
            out[c.line] = True
            continue
        filled = [ln for ln in lines.between(c.end + 1, stop) if not ln.blank]
        out[c.line] = len(filled) > 2
    return out


def _clusters(scored: list[tuple[Candidate, float]]) -> list[tuple[list[Candidate], float]]:
    """Consecutive eligible candidates with the same § are one item's lines ("§ 301", its title,
    "Aluehallitus 09.12.2024 § 301"): one choice, scored by its best line, opened by its first."""
    out: list[tuple[list[Candidate], float]] = []
    for c, score in scored:
        if out and out[-1][0][-1].section == c.section:
            members, best = out[-1]
            out[-1] = (members + [c], max(best, score) + 0.25)
        else:
            out.append(([c], score))
    return out


def _choose(scored: list[tuple[Candidate, float]]) -> list[list[Candidate]]:
    """The first line of each item: the best chain of increasing § numbers over the clusters
    (a weighted longest increasing subsequence; consecutive numbers earn a little more)."""
    clusters = _clusters(scored)
    n = len(clusters)
    best = [0.0] * n
    prev = [-1] * n
    for i, (members, si) in enumerate(clusters):
        best[i] = si
        sec_i = members[0].section
        for j in range(i):
            sec_j = clusters[j][0][0].section
            if sec_j >= sec_i:
                continue
            step = sec_i - sec_j
            bonus = 0.5 if step == 1 else -0.1 * min(step, 20)
            total = best[j] + si + bonus
            if total > best[i]:
                best[i], prev[i] = total, j
    if not n:
        return []
    i = max(range(n), key=lambda k: (best[k], -k))
    chain = []
    while i >= 0:
        chain.append(clusters[i][0])
        i = prev[i]
    return chain[::-1]


def _header_start(lines: Lines, c: Candidate, floor: int, by_line: dict[int, Candidate],
                  text: str) -> tuple[int, list[Candidate]]:
    """The first line of the header block above an item's § line, and the candidates in it.

    Dynasty prints "Pöytäkirja …/Pykälä N", the diary number and history lines above "§ N"; a
    same-number candidate, a diary line or a dated line there belongs to this item."""
    start = c.line
    group = [c]
    k = c.line - 1
    while k >= max(floor, c.line - _HEADER_WINDOW):
        ln = lines[k]
        other = by_line.get(k)
        if ln.blank or ln.rule:
            k -= 1
            continue
        if other is not None and (other.section == c.section or other.dated or other.form == "history_row"):
            group.insert(0, other)
            start = k
        elif is_diary_line(ln.stripped):
            start = k
        else:
            break
        k -= 1
    return start, group


# --------------------------------------------------------------------------- handlings and sections


def _sections(heads: list[Heading], starts: list[int], start: int, end: int) -> list[Section]:
    """The headed sections in [start, end); `starts`: the headings' offsets, in text order."""
    inside = heads[bisect_left(starts, start):bisect_left(starts, end)]
    return [Section(h, h.end, inside[k + 1].start if k + 1 < len(inside) else end) for k, h in enumerate(inside)]


def _cuts(item: Item, markers: list[Candidate], lines: Lines, by_line: dict[int, Candidate]) -> list[Candidate]:
    """Handling lines that open a handling: those followed by content, not by another such line."""
    out = []
    for m in markers:
        nxt = lines.next_content(m.line)
        if nxt is not None and nxt.index in by_line and nxt.start < item.end and by_line[nxt.index].dated:
            continue  # a row of a history table
        out.append(m)
    return out


def _handlings(item: Item, markers: list[Candidate], heads: list[Heading], lines: Lines,
               by_line: dict[int, Candidate], own_of: dict[int, bool | None]) -> None:
    cuts = _cuts(item, markers, lines, by_line)
    starts = [h.start for h in heads]
    pieces: list[tuple[int, int, Candidate | None]] = []
    first = cuts[0].start if cuts else item.end
    pieces.append((item.start, first, None))
    for k, m in enumerate(cuts):
        pieces.append((m.start, cuts[k + 1].start if k + 1 < len(cuts) else item.end, m))
    found: list[Handling] = []
    for s, e, m in pieces:
        h = Handling(s, e, m, _sections(heads, starts, s, e))
        substantive = any(sec.label in SUBSTANTIVE for sec in h.sections)
        if m is None and not substantive:
            continue
        if m is not None and not h.sections:
            continue  # a line in a summary of the history: evidence only
        found.append(h)
    if not found:
        found = [Handling(item.start, item.end, None, _sections(heads, starts, item.start, item.end))]
    own = [h for h in found if h.marker is not None and own_of.get(h.marker.line) is True
           and (item.marker is None or h.marker.section == item.marker.section or not item.marker.dated)]
    if own:
        own[-1].current = True
    elif found[0].marker is None:
        found[0].current = True
    else:
        found[-1].current = True
    item.handlings = found


def _caps(s: str) -> bool:
    letters = [ch for ch in s if ch.isalpha()]
    return bool(letters) and all(ch.isupper() for ch in letters)


def _titles_not_headings(items: list[Item], heads: list[Heading], lines: Lines,
                         stops: dict[int, Candidate]) -> list[Heading]:
    """A title that begins with a label word ("Tiedoksi merkittävät asiat" under "§ 56") is the
    item's title by its place: the line after a § line that prints no title."""
    drop: set[int] = set()
    by_start = {lines.at(h.start).index: h for h in heads}
    for item in items:
        c = item.marker
        if c is None or c.title or not item.header:
            continue
        last = max(m.line for m in item.header)
        nxt = lines.next_content(last)
        h = by_start.get(nxt.index) if nxt is not None else None
        if h is None or nxt.stripped.endswith("."):
            continue
        after = lines[nxt.index + 1] if nxt.index + 1 < len(lines) else None
        # "Tiedoksi" / "merkittävät asiat", "TIEDOKSI" / "MERKITTÄVÄT ASIAT": a title wrapped
        wrapped = h.form == "own_line" and after is not None and not after.stripped.endswith(".") and \
            after.index not in by_start and (after.stripped[:1].islower() or _caps(nxt.stripped + after.stripped))
        on_line = h.form in ("same_line", "glued") and h.remainder[:1].islower() and not is_presenter_line(h.remainder)
        if wrapped or on_line:
            drop.add(h.start)
    return [h for h in heads if h.start not in drop] if drop else heads


def segment(doc: Doc, heads: list[Heading] | None = None) -> Segmentation:
    """Items, handlings and sections; `heads` are the document's headings where already found."""
    text = doc_text(doc)
    lines = Lines(text)
    cands = candidates.find(lines)
    heads = headings_mod.find(text) if heads is None else heads
    toc_idx = contents.contents_entries(lines, cands, {lines.at(h.start).index for h in heads})
    toc = [c for i, c in enumerate(cands) if i in toc_idx]
    toc_titles = contents.toc_titles(lines, toc)
    body_cands = [c for i, c in enumerate(cands) if i not in toc_idx]
    first_real = next((c.line for c in body_cands if not c.weak), len(lines))
    ctx = context.read(lines, first_real)
    known = bodies.body_names(text)
    _infer_meeting(ctx, body_cands, known)
    own_of = {c.line: _is_own(c, ctx, known) for c in body_cands}
    toc_numbers = {c.section for c in toc}
    content = _has_content(lines, body_cands, heads)
    chained = _chained(body_cands)
    eligible = [(c, _score(c, own_of[c.line], ctx, toc_numbers, lines, content[c.line], c.line in chained))
                for c in body_cands
                if own_of[c.line] is not False and c.form != "history_row"
                and not (c.dated and own_of[c.line] is None and ctx.date is not None)]
    eligible = [(c, s) for c, s in eligible if s > 0]
    starts = _choose(eligible)
    by_line = {c.line: c for c in body_cands}

    items: list[Item] = []
    floor = 0
    head_starts = sorted(h.start for h in heads)
    for members in starts:
        c = members[0]
        start_line, group = _header_start(lines, c, floor, by_line, text)
        # The cluster's other lines before the item's first heading are its header too ("§ 58"
        # after Dynasty's "Pykälä 58"); later ones open handlings (the current one after history).
        k = bisect_left(head_starts, c.end)
        first_head = head_starts[k] if k < len(head_starts) else len(text)
        group += [m for m in members[1:] if m.start < first_head]
        # History lines between the header's lines ("Pykälä 58" / "Kh 10.2.2025 § 31" / "§ 58") are evidence
        # of the item's earlier handlings, not cuts.
        last_line = max(m.line for m in group)
        group += [x for x in body_cands if c.line < x.line < last_line and x not in group and x.dated]
        group.sort(key=lambda x: x.line)
        items.append(Item(lines[start_line].start, len(text), c, header=group))
        floor = members[-1].line + 1
    for k in range(len(items) - 1):
        items[k].end = items[k + 1].start
    if items and items[0].marker is not None:
        # An extract printed from its handlings: the earlier handlings come before the line of the
        # meeting's own handling, and they are the same item's.
        first = items[0]
        early = [c for c in body_cands if c.line < first.marker.line and c.dated and own_of[c.line] is False
                 and content[c.line]]
        if early:
            start_line, _ = _header_start(lines, early[0], 0, by_line, text)
            first.start = min(first.start, lines[start_line].start)
            first.header = []
    if not items:
        whole = Item(0, len(text), None)
        if any(h.label in ("proposal", "decision") for h in heads) or any(c.dated for c in body_cands):
            items.append(whole)
    closing = None
    if items:
        last = items[-1]
        decided = [h.start for h in heads if last.start <= h.start and h.label in ("decision", "proposal")]
        closing = contents.closing_start(text, heads, max(decided, default=last.marker.end if last.marker else last.start))
        if closing is not None:
            last.end = closing
    chosen = {m.line for members in starts for m in members}
    # A title stops at the lines that open items or handlings; a "§ 166" that opens nothing may end
    # a wrapped title ("Oikaisuvaatimus lautakunnan päätöksestä 26.11.2022" / "§ 166").
    stops = {c.line: c for c in body_cands if c.line in chosen or c.dated or c.form in ("history_row", "pykala")}
    heads = _titles_not_headings(items, heads, lines, stops)
    head_lines = {lines.at(h.start).index for h in heads}
    for item in items:
        header_lines = {c.line for c in item.header}
        markers = [c for c in body_cands if item.start <= c.start < item.end and c.line not in header_lines
                   and (c.dated or c.form == "history_row")]
        _handlings(item, markers, heads, lines, by_line, own_of)
        item_title(item, lines, stops, head_lines, toc_titles)
    items = [it for it in items if it.handlings]
    front_end = items[0].start if items else 0
    return Segmentation(items, body_cands, heads, ctx, lines, front_end, toc, closing, own_of)


def sections_stated(seg: Segmentation) -> list[int]:
    """The sections the document says it holds: its stated range, else its contents list."""
    if seg.context.range is not None:
        first, last = seg.context.range
        return list(range(first, last + 1))
    return sorted({c.section for c in seg.toc})
