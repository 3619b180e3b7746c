"""A Matcher that is not run where no pattern can match: the cheap test before the dear one.

spaCy's Matcher costs about (patterns × tokens) whatever it finds, and an extractor runs its
matcher on every handling: most handlings hold no recusal, no vote, no cue of some kinds. Each
token pattern here names, for one of its required tokens, the words that token can be
("esteellinen", "jäävi" ...): an exact value, an IN list or an anchored REGEX of literal
alternatives such as "^(hyväksyi|hyväksyivät)$". A match needs that word in the text, so when
no such word occurs (case-folded) in the span, the Matcher would find nothing and is skipped.
A pattern with no such token (only shapes, numbers, open regexes) switches the test off for the
whole Matcher, which then always runs: the result is the same either way, only the cost differs.
"""
from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from typing import Any

from spacy.matcher import Matcher
from spacy.tokens import Doc, Span

from pipeline.nlp import doc_text

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


class PrefilteredMatcher(Matcher):
    """A spaCy Matcher that returns no matches at once where none of its patterns' words occur."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._words: set[str] = set()
        self._testable = True
        self._required: re.Pattern[str] | None = None

    def add(self, key: str, patterns: list[list[dict[str, Any]]], **kwargs: Any) -> None:
        super().add(key, patterns, **kwargs)
        for pattern in patterns:
            words = required_words(pattern)
            if words is None:
                self._testable = False
            else:
                self._words.update(words)
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
        return super().__call__(doclike, **kwargs)
