"""Text repair: an ordered registry of named steps, each counting the characters it changed.

Real minutes arrive double-encoded ("PÃ¶ytÃ¤kirja"), with Calibri ligatures cut to 16 bits
("kehiƩämisestä", "oƫ", "LapinlahƟ"), with Windows line ends and with words hyphenated at
line ends. Each problem is one step; a document records how much each step changed
(`documents.repair_<step>`), so a surprising count points straight at the step to look at.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from difflib import SequenceMatcher

import ftfy

from pipeline.repair_steps import REPAIR_STEPS

StepFn = Callable[[str], tuple[str, int]]


@dataclass(frozen=True)
class RepairStep:
    name: str
    fn: StepFn
    doc: str


_REGISTRY: dict[str, RepairStep] = {}


def repair_step(name: str, doc: str) -> Callable[[StepFn], StepFn]:
    def register(fn: StepFn) -> StepFn:
        if name not in REPAIR_STEPS:
            raise ValueError(f"repair step {name!r} is not declared in pipeline.repair_steps.REPAIR_STEPS")
        _REGISTRY[name] = RepairStep(name, fn, doc)
        return fn

    return register


_SHORT = 64  # characters: a pair of words up to this long is compared exactly (difflib)
_LOOKAHEAD = 24  # characters a longer pair is searched ahead for the place where it agrees again


def _changed_chars(before: str, after: str) -> int:
    """Characters replaced, inserted or deleted, in time linear in the text.

    Compared line by line and, where the words line up (repair changes letters, not spaces),
    word by word: a word pair is short and goes to difflib, which gives the minimal count. A
    longer pair (a line of punctuation, a line whose spacing changed) is aligned greedily
    (`_aligned_changes`): difflib's worst case is quadratic, and a 54 KB line of decomposed
    accents took it 107 s. On the dev and style corpora, also decomposed (NFD) and as
    mojibake, both give the same counts (tests/test_read_and_repair.py).
    """
    if before == after:
        return 0
    a_lines, b_lines = before.split("\n"), after.split("\n")
    if len(a_lines) != len(b_lines):
        a_lines, b_lines = [before], [after]
    total = 0
    for a, b in zip(a_lines, b_lines):
        if a == b:
            continue
        a_words, b_words = a.split(" "), b.split(" ")
        if len(a_words) == len(b_words):
            total += sum(_pair_changes(x, y) for x, y in zip(a_words, b_words) if x != y)
        else:
            total += _pair_changes(a, b)
    return total


def _pair_changes(a: str, b: str) -> int:
    if len(a) <= _SHORT and len(b) <= _SHORT:
        return sum(max(i2 - i1, j2 - j1) for tag, i1, i2, j1, j2 in
                   SequenceMatcher(None, a, b, autojunk=False).get_opcodes() if tag != "equal")
    return _aligned_changes(a, b)


def _aligned_changes(a: str, b: str) -> int:
    """A bounded diff: walk both strings, and where they differ take the nearest place (fewest
    characters skipped on both sides, a replacement first) within `_LOOKAHEAD` where they agree
    again; the skipped characters count as changed. At most `_LOOKAHEAD`² steps per change."""
    i = j = total = 0
    n, m = len(a), len(b)
    while True:
        while i < n and j < m and a[i] == b[j]:
            i += 1
            j += 1
        if i >= n or j >= m:
            return total + max(n - i, m - j)
        skip = _resync(a, b, i, j)
        total += max(skip)
        i, j = i + skip[0], j + skip[1]


def _resync(a: str, b: str, i: int, j: int) -> tuple[int, int]:
    """(characters of a, characters of b) to skip from i, j until the two agree (or both end)."""
    n, m = len(a), len(b)
    for k in range(1, 2 * _LOOKAHEAD + 1):
        for di in sorted(range(max(0, k - _LOOKAHEAD), min(k, _LOOKAHEAD) + 1), key=lambda d: abs(2 * d - k)):
            x, y = i + di, j + k - di
            if (x < n and y < m and a[x] == b[y]) or (x == n and y == m):
                return di, k - di
    return min(_LOOKAHEAD, n - i), min(_LOOKAHEAD, m - j)


_CRLF = re.compile(r"\r\n?|\u2028|\u2029")


@repair_step("newlines", "Windows and Unicode line ends become \\n.")
def _newlines(text: str) -> tuple[str, int]:
    fixed, n = _CRLF.subn("\n", text)
    return fixed, n


_FTFY = ftfy.TextFixerConfig(
    uncurl_quotes=False,
    fix_line_breaks=False,
    fix_character_width=False,
    normalization="NFC",
    explain=False,
)


# A line made only of these is one ftfy leaves as it is: no "&" (HTML entities), no control or
# ligature character ftfy knows, already NFC, and nothing that can make a UTF-8 sequence in any
# single-byte encoding ftfy tries: ä ö Ä Ö é ü are lead bytes in Latin-1 and continuation bytes
# in MacRoman/cp437, never both; § is a continuation byte, so not right after one of them; the
# broken Calibri ligatures Ɵ Ʃ ƫ fit no single-byte encoding at all. Most lines of a page are like
# this; – ’ • Å and the rest send a line through ftfy.
_FTFY_CLEAN = re.compile(
    "(?:[\t\x20-\x25\x27-\x7e\u00a7\u019f\u01a9\u01ab]"  # ASCII but "&", §, Ɵ Ʃ ƫ
    "|[\u00e4\u00f6\u00c4\u00d6\u00e9\u00fc](?!\u00a7))*\n?"  # ä ö Ä Ö é ü, not before §
)


def fix_text(text: str, config: ftfy.TextFixerConfig = _FTFY) -> str:
    """`ftfy.fix_text`, line by line as it works, without its ~20 µs per line where it cannot change anything."""
    out: list[str] = []
    pos, end_of_text = 0, len(text)
    while pos < end_of_text:
        end = text.find("\n", pos) + 1 or end_of_text
        end = min(end, pos + config.max_decode_length)
        segment = text[pos:end]
        if config.unescape_html == "auto" and "<" in segment:  # as ftfy.fix_text: for the rest of the text
            config = config._replace(unescape_html=False)
        out.append(segment if _FTFY_CLEAN.fullmatch(segment) else ftfy.fix_and_explain(segment, config).text)
        pos = end
    return "".join(out)


@repair_step("mojibake", "ftfy: UTF-8 read as windows-1252 (PÃ¶ytÃ¤kirja), HTML entities, ﬁ-style ligatures.")
def _mojibake(text: str) -> tuple[str, int]:
    fixed = fix_text(text)
    return fixed, _changed_chars(text, fixed)


# Calibri's ligature glyphs come out as plane-16 private-use code points (U+10019F for "ti");
# software that cuts them to 16 bits gives Ɵ (U+019F) and neighbours. Both forms map back.
LIGATURES: dict[str, str] = {
    "\u019f": "ti", "\U0010019f": "ti",
    "\u01a9": "tt", "\U001001a9": "tt",
    "\u01ab": "tti", "\U001001ab": "tti",
}
# Ō (ft) and ƞ (tf) are real letters elsewhere: only repaired after a lowercase letter.
CONTEXT_LIGATURES: dict[str, str] = {"\u014c": "ft", "\U0010014c": "ft", "\u019e": "tf", "\U0010019e": "tf"}
# One character each: character classes, which the regex engine scans for far faster than a
# lookbehind or an alternation tried at every position.
_LIGATURE_RE = re.compile("[" + "".join(LIGATURES) + "]")
_CONTEXT_RE = re.compile("([" + "".join(CONTEXT_LIGATURES) + "])(?<=[a-zåäö].)")


@repair_step("ligatures", "Broken Calibri ligatures: Ɵ→ti, Ʃ→tt, ƫ→tti (and U+10019F ...), Ō→ft after a lowercase letter.")
def _ligatures(text: str) -> tuple[str, int]:
    fixed, n = _LIGATURE_RE.subn(lambda m: LIGATURES[m.group(0)], text)
    fixed, k = _CONTEXT_RE.subn(lambda m: CONTEXT_LIGATURES[m.group(1)], fixed)
    return fixed, n + k


# A word broken at a line end: "päätösvaltai-\nseksi". A hyphen before a capital stays
# ("Keski-\nSuomen"), and so does a suspended hyphen before a conjunction ("sitovuus-\nja").
_HYPHEN_BREAK = re.compile(  # the hyphen first, then the letter before it: see _LIGATURE_RE
    r"[-\u00ad\ufffe](?<=[a-zåäö].)[ \t]*\n[ \t]*(?!(?:ja|tai|sekä|eli|että|tahi|och|eller)\b)(?=[a-zåäö])"
)


# A soft hyphen (U+00AD) is invisible where the word is not broken: a reader never sees it.
_SOFT_HYPHEN = re.compile("\u00ad")


@repair_step("hyphenation", "Words hyphenated at a line end are joined; real and suspended hyphens stay; "
             "soft hyphens inside words are dropped.")
def _hyphenation(text: str) -> tuple[str, int]:
    fixed, n = _HYPHEN_BREAK.subn("", text)
    fixed, k = _SOFT_HYPHEN.subn("", fixed)
    return fixed, n + k


_SPACES = re.compile(r"[\u00a0\u2007\u202f]")
_TRAILING = re.compile(r"[ ]+(?=\n|$)")


@repair_step("spacing", "No-break spaces become spaces; trailing spaces are cut.")
def _spacing(text: str) -> tuple[str, int]:
    fixed, n = _SPACES.subn(" ", text)
    fixed, k = _TRAILING.subn("", fixed)
    return fixed, n + k


def steps() -> list[RepairStep]:
    """The registered steps in their declared order."""
    missing = [s for s in REPAIR_STEPS if s not in _REGISTRY]
    if missing:
        raise RuntimeError(f"repair steps declared but not registered: {missing}")
    return [_REGISTRY[s] for s in REPAIR_STEPS]


_MAX_ROUNDS = 3


def repair(text: str, only: tuple[str, ...] | None = None) -> tuple[str, dict[str, int]]:
    """Run every step (or `only` those named) in order; return the text and changes per step.

    ftfy judges mojibake by its context, and later steps change the context (a no-break space
    becomes a space), so a round in which ftfy changed anything is followed by another, until
    nothing changes: repairing repaired text changes nothing.
    """
    counts: dict[str, int] = {}
    for _ in range(_MAX_ROUNDS):
        for step in steps():
            if only is not None and step.name not in only:
                continue
            text, n = step.fn(text)
            counts[step.name] = counts.get(step.name, 0) + n
        if not counts.get("mojibake") or step_fixed_point(text, only):
            break
    return text, counts


def step_fixed_point(text: str, only: tuple[str, ...] | None) -> bool:
    """True when another round would change nothing."""
    for step in steps():
        if only is not None and step.name not in only:
            continue
        if step.fn(text)[1]:
            return False
    return True
