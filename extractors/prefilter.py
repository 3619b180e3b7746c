"""A Matcher that is only run where a pattern can match: the cheap tests before the dear one.

spaCy's Matcher costs about (tokens × patterns) whatever it finds: it builds a Token object for
every token it passes (twice) and steps every pattern there. Two cheap tests keep it off text
where nothing can match; the matches are the same either way, in the same order
(tests/test_prefilter.py compares them with the plain Matcher's on every fixture):

1. Words. Each token pattern names, for one of its required tokens, the words that token can
   be ("esteellinen", "jäävi" ...): an exact value, an IN list or an anchored REGEX of literal
   alternatives such as "^(hyväksyi|hyväksyivät)$". A match needs that word in the text, so
   when no such word occurs (case-folded) in the span, the Matcher is not run at all (nor in a
   window, below, without one). A pattern with no such token (only shapes, numbers, open
   regexes) switches this test off.
2. Windows. A match starts at a token its pattern's first token accepts, and is at most the
   pattern's longest length. Whether a token can start a match depends on its word alone
   (lexical attributes: ORTH, LOWER, SHAPE, IS_DIGIT ...), so it is decided once per distinct
   word, by the Matcher itself (on a document's new words side by side), and kept; a new word
   that fits none of the first tokens' text tests (one regex made of them all) is not even put
   to the Matcher, whose REGEX tests are a Python call per word and pattern. The Matcher
   then runs only on the windows [start, start + longest) after such tokens, merged where they
   touch or nearly. Patterns whose length is unbounded ("*", "+") or whose first token reads
   anything but the word (NORM, sentence starts, extensions) switch this test off for their
   Matcher: bound them ("{0,8}") to keep it.
"""
from __future__ import annotations

import itertools
import re
from bisect import bisect_left
from collections.abc import Iterable
from typing import Any

import numpy as np
from spacy.attrs import ORTH
from spacy.matcher import Matcher
from spacy.tokens import Doc, Span

from extractors.nlp import doc_text, token_bounds

try:  # Python 3.11+
    import re._constants as sre_c
    import re._parser as sre_parse
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants as sre_c  # type: ignore[no-redef]
    import sre_parse  # type: ignore[no-redef]

_BEGIN, _END = "\x00", "\x01"
_MAX_WORDS = 64
_ATTRS = ("LOWER", "TEXT", "ORTH")
_REQUIRED_OP = re.compile(r"\+|\{[1-9]\d*(?:,\d*)?\}")
_LOWER_KEY = "minutes.lower"
_WORDS_KEY = "minutes.words"
_SMALL_DOC = 64  # tokens: a document this short is matched whole, finding its windows costs more
_WINDOW_GAP = 6  # tokens
_REPEAT = re.compile(r"\{(\d*),?(\d*)\}")
_BACKREF = re.compile(r"\\[1-9]|\(\?P=")  # a group reference would point elsewhere in an alternation
# Token attributes that are properties of the word itself (the lexeme), whatever its context.
LEXICAL = frozenset({
    "ORTH", "TEXT", "LOWER", "SHAPE", "LENGTH", "PREFIX", "SUFFIX", "IS_ALPHA", "IS_ASCII", "IS_DIGIT",
    "IS_LOWER", "IS_UPPER", "IS_TITLE", "IS_PUNCT", "IS_SPACE", "IS_STOP", "IS_BRACKET", "IS_QUOTE",
    "IS_LEFT_PUNCT", "IS_RIGHT_PUNCT", "IS_CURRENCY", "LIKE_NUM", "LIKE_URL", "LIKE_EMAIL",
})


def _language(items: Iterable[tuple[Any, Any]]) -> set[str] | None:
    """Every string a parsed regex matches (anchors as marker characters), or None when open or large."""
    out = {""}
    for op, av in items:
        if op is sre_c.LITERAL:
            add: set[str] | None = {chr(av)}
        elif op is sre_c.AT and av in (sre_c.AT_BEGINNING, sre_c.AT_END):
            add = {_BEGIN if av is sre_c.AT_BEGINNING else _END}
        elif op is sre_c.SUBPATTERN and not av[1] and not av[2]:  # a group without inline flags
            add = _language(av[-1])
        elif op is sre_c.BRANCH:
            add = set()
            for branch in av[1]:
                words = _language(branch)
                if words is None:
                    return None
                add |= words
        elif op is sre_c.MAX_REPEAT and av[1] is not sre_c.MAXREPEAT and av[1] <= 3:
            sub = _language(av[2])
            if sub is None:
                return None
            add = {"".join(p) for n in range(av[0], av[1] + 1) for p in itertools.product(sub, repeat=n)}
        elif op is sre_c.IN and all(o is sre_c.LITERAL for o, _ in av):
            add = {chr(a) for _, a in av}
        else:
            return None
        if add is None:
            return None
        out = {a + b for a in out for b in add}
        if len(out) > _MAX_WORDS:
            return None
    return out


def literal_words(regex: str) -> list[str] | None:
    """The words an anchored literal regex ("^(a|bc)$") matches, or None for any other regex."""
    try:
        tree = sre_parse.parse(regex)
    except re.error:
        return None
    if tree.state.flags & ~sre_c.SRE_FLAG_UNICODE:
        return None
    words = _language(list(tree))
    if not words:
        return None
    out = []
    for word in words:
        core = word[1:-1]
        if not (word.startswith(_BEGIN) and word.endswith(_END)) or not core or _BEGIN in core or _END in core:
            return None
        out.append(core)
    return sorted(out)


def _spec_words(spec: dict[str, Any]) -> list[str] | None:
    for attr in _ATTRS:
        value = spec.get(attr)
        if isinstance(value, str):
            return [value]
        if isinstance(value, dict) and set(value) == {"REGEX"} and isinstance(value["REGEX"], str):
            words = literal_words(value["REGEX"])
            if words:
                return words
        if isinstance(value, dict) and set(value) == {"IN"} and value["IN"] and \
                all(isinstance(w, str) and w for w in value["IN"]):
            return list(value["IN"])
    return None


def required_words(pattern: list[dict[str, Any]]) -> list[str] | None:
    """For the most telling required token of a pattern, the words it can be (lower case); else None."""
    best: list[str] | None = None
    for spec in pattern:
        op = spec.get("OP")
        if op is not None and not (isinstance(op, str) and _REQUIRED_OP.fullmatch(op)):
            continue
        words = _spec_words(spec)
        if words is None or any(ch in w for w in words for ch in "Σσς"):
            continue
        words = [w.lower() for w in words]
        if best is None or min(map(len, words)) > min(map(len, best)):
            best = words
    return best


def _lowered(doc: Doc) -> str | None:
    """The document text case-folded once, or None where lower-casing changes its length."""
    if _LOWER_KEY not in doc.user_data:
        text = doc_text(doc)
        lower = text.lower()
        doc.user_data[_LOWER_KEY] = lower if len(lower) == len(text) else None
    return doc.user_data[_LOWER_KEY]


def op_counts(op: Any) -> range | None:
    """How many times a token may occur under its OP ("?": 0-1, "{2,4}": 2-4), or None when unbounded
    ("*", "+", "{1,}") or not a count ("!")."""
    if op is None or op == "1":
        return range(1, 2)
    if op == "?":
        return range(0, 2)
    m = _REPEAT.fullmatch(op) if isinstance(op, str) else None
    if m is None:
        return None
    low, high = m.group(1), m.group(2)
    if "," not in op:  # "{n}"
        return range(int(low), int(low) + 1)
    if not high:  # "{n,}"
        return None
    return range(int(low or 0), int(high) + 1)  # "{n,m}", "{,m}"


def longest(pattern: list[dict[str, Any]]) -> int | None:
    """The most tokens a match of the pattern can span, or None when unbounded ("*", "+", "!")."""
    total = 0
    for spec in pattern:
        counts = op_counts(spec.get("OP"))
        if counts is None:
            return None
        total += counts[-1] if counts else 0
    return total


def _starts_lexically(pattern: list[dict[str, Any]]) -> bool:
    """True when the first token is required and reads only attributes of the word itself."""
    first = pattern[0] if pattern else {}
    return first.get("OP") is None and bool(first) and all(k in LEXICAL for k in first)


def gate_of(spec: dict[str, Any]) -> dict[str, list[str]] | None:
    """A regex on the word ("TEXT") or on its lower case ("LOWER") that finds something in every word the
    token spec accepts (its first text test, as a regex); None when the spec tests nothing of the text."""
    for attr, value in spec.items():
        target = "LOWER" if attr == "LOWER" else "TEXT" if attr in ("TEXT", "ORTH") else None
        if target is None:
            continue
        if isinstance(value, str):
            return {target: [rf"\A{re.escape(value)}\Z"]}
        if isinstance(value, dict) and len(value) == 1 and isinstance(value.get("REGEX"), str) \
                and not _BACKREF.search(value["REGEX"]):
            return {target: [value["REGEX"]]}
        if isinstance(value, dict) and len(value) == 1 and isinstance(value.get("IN"), list) \
                and all(isinstance(v, str) for v in value["IN"]):
            return {target: [rf"\A(?:{'|'.join(map(re.escape, value['IN']))})\Z"]}
    return None


def compile_gate(gates: dict[str, list[str]] | None) -> tuple[re.Pattern[str] | None, re.Pattern[str] | None] | None:
    """One regex per attribute that finds something in a word iff one of the first tokens' regexes does."""
    if gates is None or not (gates["LOWER"] or gates["TEXT"]):
        return None
    try:
        return tuple(re.compile("|".join(f"(?:{g})" for g in gates[a])) if gates[a] else None  # type: ignore[return-value]
                     for a in ("LOWER", "TEXT"))
    except re.error:  # a regex that cannot sit in an alternation (a global flag, a group name twice)
        return None


def add_gate(gates: dict[str, list[str]] | None, spec: dict[str, Any]) -> dict[str, list[str]] | None:
    """`gates` with what a token spec asks of the word's text; None (no gating) once a spec asks nothing of it."""
    found = None if gates is None else gate_of(spec)
    if gates is None or found is None:
        return None
    return {attr: gates[attr] + found.get(attr, []) for attr in gates}


def gate_words(gate: tuple[re.Pattern[str] | None, re.Pattern[str] | None] | None, vocab: Any,
               orths: list[int]) -> list[int]:
    """The words the gate lets by (all of them without a gate): the others pass none of the gated tests."""
    if gate is None:
        return orths
    lower_gate, text_gate = gate
    strings = vocab.strings
    return [o for o in orths if (lower_gate is not None and lower_gate.search(vocab[o].lower_))
            or (text_gate is not None and text_gate.search(strings[o]))]


def doc_words(doc: Doc) -> tuple[list[int], np.ndarray]:
    """The document's distinct words (ORTH) and, per token, the index of its word: read once per document."""
    found = doc.user_data.get(_WORDS_KEY)
    if found is None:
        distinct, inverse = np.unique(doc.to_array(ORTH), return_inverse=True)
        found = doc.user_data[_WORDS_KEY] = (distinct.tolist(), inverse)
    return found


class PrefilteredMatcher(Matcher):
    """A spaCy Matcher run only where its patterns' words occur, and there only in windows around
    the tokens that can start a match; its results are those of the plain Matcher, in its order."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._words: set[str] = set()
        self._testable = True
        self._required: re.Pattern[str] | None = None
        self._first = Matcher(self.vocab)  # each pattern's first token, under the pattern's index
        self._lengths: list[int] = []  # each pattern's longest match, by index
        self._first_index: dict[int, int] = {}  # key of a first-token pattern -> the pattern's index
        self._windowed = True
        self._reach: dict[int, int] = {}  # word (ORTH) -> longest match that can start at it; 0: none
        # What every first token requires of the word's text, as regexes one of which must find
        # something (None: some first token asks for no text, so every new word is classified).
        self._gates: dict[str, list[str]] | None = {"LOWER": [], "TEXT": []}
        self._gate: tuple[re.Pattern[str] | None, re.Pattern[str] | None] | None = None
        self._gate_built = False  # compiled at the first classification, after every `add`

    def add(self, key: str, patterns: list[list[dict[str, Any]]], **kwargs: Any) -> None:
        super().add(key, patterns, **kwargs)
        for pattern in patterns:
            words = required_words(pattern)
            if words is None:
                self._testable = False
            else:
                self._words.update(words)
            most = longest(pattern)
            if most is None or not _starts_lexically(pattern) or kwargs.get("on_match") is not None:
                self._windowed = False
                continue
            first_key = f"minutes.first.{len(self._lengths)}"
            self._gates = add_gate(self._gates, pattern[0])
            self._first.add(first_key, [[pattern[0]]])
            self._first_index[self.vocab.strings[first_key]] = len(self._lengths)
            self._lengths.append(most)
        self._reach.clear()
        self._gate_built = False
        self._required = re.compile("|".join(map(re.escape, sorted(self._words, key=len, reverse=True)))) \
            if self._testable and self._words else None

    def may_match(self, doclike: Doc | Span) -> bool:
        """False only where no pattern can match: a word every match needs is absent."""
        if self._required is None:
            return True
        doc = doclike if isinstance(doclike, Doc) else doclike.doc
        lower = _lowered(doc)
        if lower is None:
            return True
        start, end = (0, len(lower)) if isinstance(doclike, Doc) else (doclike.start_char, doclike.end_char)
        return self._required.search(lower, start, end) is not None

    def __call__(self, doclike: Doc | Span, **kwargs: Any) -> list[Any]:
        if not self.may_match(doclike):
            return []
        doc, lo, hi = (doclike, 0, len(doclike)) if isinstance(doclike, Doc) else \
            (doclike.doc, doclike.start, doclike.end)
        if not self._windowed or set(kwargs) - {"as_spans"} or \
                (len(doc) < _SMALL_DOC and ("minutes.anchors", id(self)) not in doc.user_data):
            return super().__call__(doclike, **kwargs)
        found = self._in_windows(doc, lo, hi)
        if kwargs.get("as_spans"):
            return [Span(doc, s + lo, e + lo, label=key) for key, s, e in found]
        return found

    def windows(self, doc: Doc, lo: int, hi: int) -> list[tuple[int, int]]:
        """The token ranges in [lo, hi) where a match can lie.

        Ranges a few tokens apart are merged: the tokens between start no match (else a range
        would start there), and stepping over them costs less than another Matcher call.
        """
        starts, reaches = self._anchors(doc)
        out: list[tuple[int, int]] = []
        last = -_WINDOW_GAP - 1
        for k in range(bisect_left(starts, lo), bisect_left(starts, hi)):
            a = starts[k]
            b = a + reaches[k]
            if a - last <= _WINDOW_GAP:
                if b > last:
                    out[-1] = (out[-1][0], last := b)
            else:
                out.append((a, last := b))
        if out and out[-1][1] > hi:
            out[-1] = (out[-1][0], hi)
        return out

    def _in_windows(self, doc: Doc, lo: int, hi: int) -> list[tuple[int, int, int]]:
        """(key, start, end) relative to `lo`, in the order the Matcher gives for the whole range.

        The Matcher lists the matches of plain patterns as they complete (so window by window),
        then those of greedy ones key by key (first seen first), each key's sorted by its filter.
        """
        plain: list[tuple[int, int, int]] = []
        greedy: dict[int, list[tuple[int, int, int]]] = {}
        lower = _lowered(doc) if self._required is not None else None
        starts, ends = token_bounds(doc)
        for a, b in self.windows(doc, lo, hi):
            if lower is not None and self._required.search(lower, starts[a], ends[b - 1]) is None:
                continue  # the words test, window by window
            for key, s, e in super().__call__(doc[a:b]):
                match = (key, s + a - lo, e + a - lo)
                if self._filter.get(key) is None:
                    plain.append(match)
                else:
                    greedy.setdefault(key, []).append(match)
        for key, matches in greedy.items():
            if self._filter[key] == "LONGEST":
                matches.sort(key=lambda m: (m[1] - m[2], m[1]))
            else:  # "FIRST"
                matches.sort(key=lambda m: (m[1], -m[2]))
            plain.extend(matches)
        return plain

    def _anchors(self, doc: Doc) -> tuple[list[int], list[int]]:
        """Token indexes that can start a match, and how far a match from each can reach."""
        found = doc.user_data.get(("minutes.anchors", id(self)))
        if found is not None:
            return found
        words, inverse = doc_words(doc)
        reach = self._reach
        new = [orth for orth in words if orth not in reach]
        if new:
            self._classify(new)
        per_token = np.array([reach[orth] for orth in words], dtype=np.int32)[inverse]
        starts = np.flatnonzero(per_token)
        found = doc.user_data[("minutes.anchors", id(self))] = (starts.tolist(), per_token[starts].tolist())
        return found

    def _classify(self, orths: list[int]) -> None:
        """Decide for new words how long a match starting at each can be (0: none), all in one Matcher call.

        The first-token patterns read only the word, so the words can stand side by side in one Doc.
        Words the gate turns down (`add_gate`) can start no match: they skip the Matcher.
        """
        strings = self.vocab.strings
        reach = dict.fromkeys(orths, 0)
        if not self._gate_built:
            self._gate, self._gate_built = compile_gate(self._gates), True
        orths = gate_words(self._gate, self.vocab, orths)  # the others no first token can accept
        if not orths:
            self._reach.update(reach)
            return
        words = Doc(self.vocab, words=[strings[o] for o in orths], spaces=[False] * len(orths))
        for key, s, _ in self._first(words):
            most = self._lengths[self._first_index[key]]
            if most > reach[orths[s]]:
                reach[orths[s]] = most
        self._reach.update(reach)
