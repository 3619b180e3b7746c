"""Finnish words as the search index sees them: tokens, stems and compound parts.

Finnish inflects (koulu, koulun, kouluissa) and compounds (peruskoulu, koulukuljetus), so a
search for the words as typed would miss most of the text. Each word is reduced to its stem
with Snowball's Finnish stemmer (`snowballstemmer`, pure Python; the same algorithm as
PyStemmer), plus one rule of ours: Snowball leaves the -s/-kse- nouns in two stems (päätös →
päätös, päätöksen → päätöks), so a stem of six or more letters ending in a vowel + "ks" is
given its -s form (päätöks → päätös, kuljetuks → kuljetus).

Compounds are split at query time, against the index's own vocabulary (`pipeline.search.query`):
`compound_parts` says whether a longer term has the query's word as one of its parts.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import lru_cache

import snowballstemmer

_WORD = re.compile(r"[^\W_]+")  # letters and digits: hyphens and punctuation split words (vuokra-asunto)
_KS = re.compile(r"(?<=[aeiouyäö])ks$")
KS_MIN = 6  # shorter stems keep their ks (taksa → taks)
PART_MIN = 3  # shortest word counted as a part of a compound
_STEMMER = snowballstemmer.stemmer("finnish")


@lru_cache(maxsize=500_000)
def stem(word: str) -> str:
    """The stem of one lower-case word (cached: a corpus repeats its words)."""
    s = _STEMMER.stemWord(word)
    return _KS.sub("s", s) if len(s) >= KS_MIN else s


def words(text: str | None) -> Iterator[tuple[str, int, int]]:
    """(lower-case word, start, end) of each word of the text."""
    for m in _WORD.finditer(text or ""):
        yield m.group(0).lower(), m.start(), m.end()


def stems(text: str | None) -> list[str]:
    """The stems of the text's words, in order: what the index holds for a field."""
    return [stem(w) for w, _, _ in words(text)]


def compound_parts(term: str, part: str, known: Callable[[str], bool]) -> bool:
    """Whether `term` is a compound with `part` as one of its parts (not `term` itself).

    The head of a Finnish compound is its last part, the one inflected and the one it means
    (perus|koulu is a koulu): a term ending in `part` after `PART_MIN` letters or more is one.
    Where `part` stands before the end, what follows it must be known words of `PART_MIN`
    letters or more (koulu|kuljetus), which keeps out derivations (koulu|tus is koulutus,
    training, and "tus" is no word); what comes before it, `PART_MIN` letters or more.
    """
    start = term.find(part)
    while start >= 0:
        before, after = term[:start], term[start + len(part):]
        if (before or after) and (not before or len(before) >= PART_MIN) and _segments(after, known):
            return True
        start = term.find(part, start + 1)
    return False


def _segments(rest: str, known: Callable[[str], bool]) -> bool:
    """Whether `rest` is empty or a run of known words (each of `PART_MIN` letters or more)."""
    ends = {0}
    for end in range(PART_MIN, len(rest) + 1):
        if any(end - start >= PART_MIN and known(rest[start:end]) for start in ends):
            ends.add(end)
    return len(rest) in ends


def pieces(term: str, part: str) -> set[str]:
    """Every word `compound_parts` may look up for `term` around `part`: to ask for them at once."""
    out: set[str] = set()
    start = term.find(part)
    while start >= 0:
        after = term[start + len(part):]
        out.update(after[a:b] for a in range(len(after)) for b in range(a + PART_MIN, len(after) + 1))
        start = term.find(part, start + 1)
    return out
