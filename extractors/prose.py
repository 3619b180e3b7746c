"""Where a proposal's or a decision's own text ends, read paragraph by paragraph.

A section runs to the next heading, but what stands under "Päätösehdotus" or "Päätös" is not all
the proposal or the decision: an officer signs below the decision ("Seppo Pöyhönen,
ympäristöjohtaja" / "Päätös on allekirjoitettu sähköisesti …"), and where a document writes its
description without a heading, the description follows the proposal or the decision directly.
A careful reader keeps the paragraphs that carry the proposal (the body and its verb, a numbered
list, what a colon announced) and stops at the first one that only tells the story.
"""
from __future__ import annotations

import re
from functools import lru_cache

_PARAGRAPH = re.compile(r"\n[ \t]*\n")
_LIST_ITEM = re.compile(r"^[ \t]*(?:\d{1,2}[.)]|[a-zåäö][.)]|[-–•*·])[ \t]+")
# The proposal's own sentence: the body and a present-tense verb near the start, or a passive
# first ("Merkitään …", "Todetaan …"; "Hallintosääntöön esitetään muutoksia" tells the story); "Lisäksi …" goes on.
_PROPOSING = re.compile(
    r"^(?:[\w\-–]+[ \t]+){0,3}?(?:päättää|päättävät|esittää|hyväksyy|merkitsee|toteaa|valitsee|nimeää|myöntää|"
    r"antaa|oikeuttaa|valtuuttaa|edellyttää|vahvistaa|pitää|hylkää|palauttaa|beslutar|föreslår|godkänner)\b"
    r"|^[a-zA-ZåäöÅÄÖ]+(?:taan|tään)\b|^(?:Lisäksi|Edelleen|Samalla|Dessutom)\b")
# Where the story was told before the proposal, a passive a word or two in goes on with it too
# ("Vuokrankorotuksesta ilmoitetaan vuokralaisille …"); where it was not, such a paragraph is the story.
_PROPOSING_TOLD = re.compile(_PROPOSING.pattern + r"|^(?:[\w\-–]+[ \t]+){1,2}?[a-zA-ZåäöÅÄÖ]+(?:taan|tään)\b")
_DECIDING = re.compile(
    r"^(?:[\w\-–]+[ \t]+){0,3}?(?:päätti|päättivät|hyväksyi|merkitsi|totesi|valitsi|nimesi|myönsi|antoi|palautti|"
    r"poisti|jätti|hylkäsi|beslöt|godkände)\b|^[A-ZÅÄÖ][a-zåäö]+(?:ttiin|tiin|ttin)\b|^(?:Lisäksi|Edelleen|Samalla)\b")
_GOES_ON = re.compile(r"(?::|;|,|\bja|\bsekä|\bpäättää|\besittää)[ \t]*$")
_SIGNED = re.compile(r"allekirjoitettu\s+sähköisesti|sähköisesti\s+allekirjoitettu|digitally signed|elektroniskt undertecknat",
                     re.IGNORECASE)
_SIGNATURE = re.compile(r"^[A-ZÅÄÖ][\w'’\-]+(?:[ \t]+[A-ZÅÄÖ][\w'’\-]+){1,3}[ \t]*,[ \t]*[a-zåäöA-ZÅÄÖ][\w\-]*(?:[ \t]+[\w\-]+){0,3}$")
_PLACE_DATE = re.compile(r"^[A-ZÅÄÖ][a-zåäö]+(?:ssa|ssä|sta|stä|lla|llä)?[ \t]+\d{1,2}\.\d{1,2}\.\d{2,4}$")
_CHROME = re.compile(r"_{4,}|^[ \t]*[-–=_.]{3,}[ \t]*$|^(?:sivu|sida|page)[ \t]*\d+(?:[ \t]*(?:/|\()[ \t]*\d+\)?)?$"
                     r"|^\d{1,4}[ \t]*\(\d{1,4}\)$", re.IGNORECASE)
FLAT_LINE = 110            # characters: lines this long are unwrapped paragraphs
_MIN_WRAP_WIDTH = 50       # characters: narrower wrapping says too little about where paragraphs end
_SHORT_LINE = 0.75         # a sentence's end on a line shorter than this × the wrap width ends its paragraph
_COLUMN_INDENT = 8         # characters: a section's text this far in stands in a label column


def _paragraphs(text: str, flat: bool, first_indent: int = 0, width: int = 0, lead: int = 0) -> list[tuple[int, int]]:
    """(start, end) of each paragraph: runs of lines between blank lines, or, in a flat text (one
    paragraph to a line, no blank lines between), each line. `width`: the document's wrapping width;
    a sentence's end on a line well short of it ends a paragraph too, blank line or not (a PDF whose
    paragraph spacing is too small to read as a blank line)."""
    out, pos = [], 0
    splitter = re.compile(r"\n") if flat else _PARAGRAPH
    for m in splitter.finditer(text):
        out.append((pos, m.start()))
        pos = m.end()
    out.append((pos, len(text)))
    pieces = [piece for s, e in out if text[s:e].strip() for piece in _column_breaks(text, s, e, first_indent)]
    if flat or width < _MIN_WRAP_WIDTH:
        return pieces
    return [cut for s, e in pieces for cut in _short_line_breaks(text, s, e, width, lead if s == 0 else 0)]


def _short_line_breaks(text: str, start: int, end: int, width: int, lead: int) -> list[tuple[int, int]]:
    """`lead`: characters before `start` on its line (a label: "Päätös: " stands in front of the text)."""
    out, pos = [], start
    lines = list(re.finditer(r"[^\n]*\n?", text[start:end]))
    for k, (m, nxt) in enumerate(zip(lines, lines[1:])):
        line, following = m.group(0).rstrip(), nxt.group(0).strip()
        length = len(line) + (lead if k == 0 else 0)
        if line.endswith((".", "!", "?")) and length < _SHORT_LINE * width and following[:1].isupper():
            out.append((pos, start + m.end()))
            pos = start + m.end()
    out.append((pos, end))
    return [(s, e) for s, e in out if text[s:e].strip()]


@lru_cache(maxsize=8)
def wrap_width(text: str) -> int:
    """The width a hard-wrapped text wraps at: the length most of its long lines reach (0 for a text
    written one paragraph to a line)."""
    lengths = sorted(len(ln.rstrip()) for ln in text.split("\n") if ln.strip())
    if not lengths or is_flat(text):
        return 0
    return lengths[int(len(lengths) * 0.9)]


def _column_breaks(text: str, start: int, end: int, first_indent: int) -> list[tuple[int, int]]:
    """A section in a label column has its text indented to the column; a line back at the left
    margin is no longer its text ("Todetaan kokous …" indented, then "Kokouskutsu on lähetetty …")."""
    out, pos, indented = [], start, None
    for m in re.finditer(r"[^\n]*\n?", text[start:end]):
        line = m.group(0)
        if not line.strip():
            continue
        lead = len(line) - len(line.lstrip(" \t")) + (first_indent if m.start() == 0 and start == 0 else 0)
        at = start + m.start()
        if indented and lead == 0 and at > pos:
            out.append((pos, at))
            pos = at
        if indented is None or lead == 0:
            indented = lead >= _COLUMN_INDENT
    out.append((pos, end))
    return [(s, e) for s, e in out if text[s:e].strip()]


def is_flat(text: str) -> bool:
    """A text written one paragraph to a line (no hard wraps): many of its lines are long."""
    lines = [ln for ln in text.split("\n") if ln.strip()]
    return bool(lines) and sum(len(ln) > FLAT_LINE for ln in lines) * 5 >= len(lines)


def _chrome_line(line: str, org: str | None) -> bool:
    """A signature, a signing note, a page number or a footer ("Pöytäkirjantarkastajat ____",
    "<the organisation>, kirjaamo")."""
    return bool(_SIGNED.search(line) or _SIGNATURE.match(line) or _PLACE_DATE.match(line) or _CHROME.search(line)
                or org and line.lower().startswith(org.lower()))


def in_voice(label: str, text: str) -> bool:
    """Whether text reads as a proposal ("Kaupunginhallitus toteaa …") or a decision ("Hyväksyttiin.")."""
    voice = {"proposal": _PROPOSING, "decision": _DECIDING}.get(label)
    return voice is not None and voice.match(text) is not None


def own_text_end(text: str, start: int, end: int, *, deciding: bool, narrative: bool, flat: bool = False,
                 org: str | None = None, told: bool = False) -> int:
    """Where the proposal's (deciding=False) or decision's (deciding=True) own text ends within
    text[start:end]. Signatures and footer chrome at the end always go; a following paragraph that
    only tells the story goes only where the document writes its description without a heading
    (`narrative`); `told`: the handling told its story before the proposal."""
    block = text[start:end]
    line_start = text.rfind("\n", 0, start) + 1
    paras = _paragraphs(block, flat, start - line_start if not text[line_start:start].strip() else 0,
                        wrap_width(text), start - line_start)
    if not paras:
        return end
    keep = 1
    voice = _DECIDING if deciding else _PROPOSING_TOLD if told else _PROPOSING
    while narrative and keep < len(paras):
        prev = block[paras[keep - 1][0]:paras[keep - 1][1]].strip()
        para = block[paras[keep][0]:paras[keep][1]].strip()
        if prev.endswith(":"):
            keep = len(paras)  # what a colon announced (a statement, a list) runs to the section's end
            break
        if _LIST_ITEM.match(para) or para[:1].islower() or _GOES_ON.search(prev) or voice.match(para):
            keep += 1
            continue
        break
    if not narrative:
        keep = len(paras)
    while keep > 1:
        para = block[paras[keep - 1][0]:paras[keep - 1][1]].strip()
        lines = [ln.strip() for ln in para.split("\n") if ln.strip()]
        if lines and all(_chrome_line(ln, org) for ln in lines):
            keep -= 1
            continue
        break
    return start + paras[keep - 1][1]


def signed_end(text: str, start: int, end: int, org: str | None = None) -> int:
    """The end of a decision before an officer's signature lines, where they stand in its last paragraph."""
    block = text[start:end]
    lines = list(re.finditer(r"[^\n]+", block))
    cut = len(block)
    for m in reversed(lines):
        s = m.group(0).strip()
        if _chrome_line(s, org):
            cut = m.start()
            continue
        break
    return start + cut


def deciding_paragraph(text: str, start: int, end: int, flat: bool = False) -> tuple[int, int] | None:
    """The first paragraph of text[start:end] that records a decision ("Kaupunginhallitus päätti …",
    "Hyväksyttiin."), as (start, end); None where none does."""
    block = text[start:end]
    for a, b in _paragraphs(block, flat):
        para = block[a:b].strip()
        if _DECIDING.match(para):
            lead = len(block[a:b]) - len(block[a:b].lstrip())
            return start + a + lead, start + b
    return None
