"""Token patterns that read only the words, matched with array operations instead of spaCy's Matcher.

spaCy's Matcher steps every pattern through every token it is given, makes a Token object for
each, and calls Python for each REGEX or IN test of each token. The span patterns of dates and
diary ids (`span_forms`) are many short patterns over frequent tokens (every number starts one),
so even in windows (extractors/prefilter.py) that was most of their time. When every token test
of a pattern reads only the word itself (ORTH, LOWER, SHAPE, IS_DIGIT ...) and its repeats are
bounded ("?", "{0,4}"), the same matches can be found another way:

1. Words. Every distinct token test (a "spec") is decided once per distinct word, by spaCy's own
   Matcher (so a test means exactly what it means to spaCy), and kept as one bit of the word's
   mask. An IN list of texts becomes one exact test per value (spaCy tests those in C); REGEX
   tests, a Python call each, are only put to words their combined regex accepts (the same gate
   as prefilter's).
2. Documents. A document is an array of masks, one per token, gathered from its distinct words.
3. Patterns. A pattern is the set of its fixed-length expansions ("A B? C" is "A C" and "A B C"),
   held as a trie over specs. Walking it narrows the candidate starts with one array test per
   node; a node where an expansion ends yields its matches.

The result is every (key, start, end) whose tokens match one of the key's patterns, each once,
sorted: the Matcher's matches as a set (tests/test_arraymatch.py compares them). Zero-length
matches are dropped, as the Matcher drops them. Only callers indifferent to the Matcher's own
order use it: `extractors.base.span_forms`.
"""
from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from spacy.matcher import Matcher
from spacy.tokens import Doc, Span
from spacy.vocab import Vocab

from extractors.prefilter import LEXICAL, add_gate, compile_gate, doc_words, gate_words, op_counts

_MAX_SPECS = 63  # one bit each in a uint64 mask
_MAX_EXPANSIONS = 512  # per pattern; more is a pattern better left to the Matcher


@dataclass
class _Node:
    """A trie node: the specs that lead on, and the keys whose expansion ends here."""

    children: dict[int, _Node] = field(default_factory=dict)
    ends: set[int] = field(default_factory=set)


def _alternatives(spec: dict[str, Any]) -> list[str]:
    """The spec as one or more specs (canonical JSON), any of which a word must pass: an IN test of a
    text becomes one exact test per value, which spaCy checks in C rather than by a Python call."""
    choices = [[(attr, v) for v in value["IN"]]
               if isinstance(value, dict) and list(value) == ["IN"] and value["IN"] and all(isinstance(v, str) for v in value["IN"])
               else [(attr, value)] for attr, value in spec.items()]
    return sorted({json.dumps(dict(combo), sort_keys=True, ensure_ascii=False) for combo in itertools.product(*choices)})


def expansions(pattern: list[dict[str, Any]]) -> list[tuple[str, ...]] | None:
    """The pattern's fixed-length forms, each a tuple of specs (canonical JSON); None when it has too many
    or a token reads more than the word."""
    tokens: list[list[tuple[str, ...]]] = []
    total = 1
    for token in pattern:
        spec = {k: v for k, v in token.items() if k != "OP"}
        counts = op_counts(token.get("OP"))
        if counts is None or not spec or not all(k in LEXICAL for k in spec):
            return None
        alternatives = _alternatives(spec)
        forms = [form for n in counts for form in itertools.product(alternatives, repeat=n)]
        tokens.append(forms)
        total *= len(forms)
        if total > _MAX_EXPANSIONS:
            return None
    return sorted({sum(choice, ()) for choice in itertools.product(*tokens)} - {()})


class ArrayMatcher:
    """The matches of lexical, bounded token patterns, as a sorted set of (key, start, end)."""

    def __init__(self, vocab: Vocab) -> None:
        self.vocab = vocab
        self._specs: dict[str, int] = {}  # spec (canonical JSON) -> bit
        self._root = _Node()
        self._depth = 0  # the longest expansion
        self._masks: dict[int, int] = {}  # word (ORTH) -> the bits of the specs it passes
        self._plain: Matcher | None = None  # specs tested in C only: put to every new word
        self._gated: Matcher | None = None  # specs with a Python test (REGEX, IN): only words the gate lets by
        self._gate: tuple[Any, Any] | None = None
        self._bits: dict[int, int] = {}  # a spec Matcher's key -> the spec's bit
        self._built = False

    @staticmethod
    def supports(pattern: list[dict[str, Any]]) -> bool:
        return expansions(pattern) is not None

    def add(self, key: str, patterns: list[list[dict[str, Any]]]) -> None:
        """Like `Matcher.add` without callbacks or greedy filters; a pattern it cannot take is a ValueError."""
        key_id = self.vocab.strings.add(key)
        Matcher(self.vocab, validate=True).add(key, patterns)  # spaCy's own checks, at load
        for pattern in patterns:
            forms = expansions(pattern)
            if forms is None:
                raise ValueError(f"{key}: only bounded patterns of lexical token tests can be matched as arrays")
            for form in forms:
                node = self._root
                for spec in form:
                    bit = self._specs.setdefault(spec, len(self._specs))
                    if bit >= _MAX_SPECS:
                        raise ValueError(f"{key}: more than {_MAX_SPECS} distinct token tests in one matcher")
                    node = node.children.setdefault(bit, _Node())
                node.ends.add(key_id)
                self._depth = max(self._depth, len(form))
        self._masks.clear()
        self._built = False

    def _build(self) -> None:
        """Two Matchers of one-token patterns, one per spec: those spaCy tests in C, and those with a
        REGEX (a Python call per word), which only get the words their combined regex lets by."""
        plain, gated = Matcher(self.vocab), Matcher(self.vocab)
        gates: dict[str, list[str]] | None = {"LOWER": [], "TEXT": []}
        for spec_json, bit in self._specs.items():
            spec = json.loads(spec_json)
            if any(isinstance(v, dict) for v in spec.values()):
                gated.add(f"minutes.spec.{bit}", [[spec]])
                gates = add_gate(gates, spec)
            else:
                plain.add(f"minutes.spec.{bit}", [[spec]])
        self._plain = plain if len(plain) else None
        self._gated = gated if len(gated) else None
        self._gate = compile_gate(gates)
        self._bits = {self.vocab.strings[f"minutes.spec.{b}"]: 1 << b for b in self._specs.values()}
        self._built = True

    def _classify(self, orths: list[int]) -> None:
        """Set the masks of new words: each spec decided by spaCy's Matcher, the words side by side in one Doc."""
        if not self._built:
            self._build()
        strings, masks, bits = self.vocab.strings, dict.fromkeys(orths, 0), self._bits
        for matcher, words in ((self._plain, orths), (self._gated, gate_words(self._gate, self.vocab, orths))):
            if matcher is None or not words:
                continue
            doc = Doc(self.vocab, words=[strings[o] for o in words], spaces=[False] * len(words))
            for key, s, _ in matcher(doc):
                masks[words[s]] |= bits[key]
        self._masks.update(masks)

    def _token_masks(self, doc: Doc) -> np.ndarray:
        """Each token's mask, then `_depth` zeros, so that a test past the end fails without a bounds check."""
        key = ("minutes.arraymasks", id(self))
        found = doc.user_data.get(key)
        if found is None:
            words, inverse = doc_words(doc)
            masks = self._masks
            new = [o for o in words if o not in masks]
            if new:
                self._classify(new)
            per_word = np.fromiter((masks[o] for o in words), dtype=np.uint64, count=len(words))
            found = doc.user_data[key] = np.concatenate([per_word[inverse], np.zeros(self._depth, np.uint64)])
        return found

    def __call__(self, doclike: Doc | Span) -> list[tuple[int, int, int]]:
        """(key, start, end) of every match, token offsets relative to `doclike`, sorted."""
        doc, lo, hi = (doclike, 0, len(doclike)) if isinstance(doclike, Doc) else \
            (doclike.doc, doclike.start, doclike.end)
        if hi <= lo or not self._root.children:
            return []
        masks = self._token_masks(doc)
        if lo or hi < len(doc):  # a span: tests past its end must fail too
            masks = np.concatenate([masks[lo:hi], np.zeros(self._depth, np.uint64)])
        found: set[tuple[int, int, int]] = set()
        n = hi - lo
        for bit, child in self._root.children.items():
            starts = np.flatnonzero(masks[:n] & np.uint64(1 << bit))
            if starts.size:
                self._walk(child, starts, 1, masks, found)
        return sorted(found, key=lambda m: (m[1], m[2], m[0]))

    def _walk(self, node: _Node, starts: np.ndarray, depth: int, masks: np.ndarray,
              found: set[tuple[int, int, int]]) -> None:
        """`starts`: where the specs on the way to `node` all passed, `depth` tokens from each."""
        if node.ends:
            found.update((key, s, s + depth) for s in starts.tolist() for key in node.ends)
        if not node.children:
            return
        ahead = masks[starts + depth]
        for bit, child in node.children.items():
            kept = starts[(ahead & np.uint64(1 << bit)) != 0]
            if kept.size:
                self._walk(child, kept, depth + 1, masks, found)
