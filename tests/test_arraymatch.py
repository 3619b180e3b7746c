"""The array matcher (extractors/arraymatch.py) finds exactly the plain Matcher's matches, as a set.

Dates and diary ids match their span patterns as arrays; on every fixture document, whole and in
blocks, the matches must be the plain spaCy Matcher's, each once. Random patterns over a small
vocabulary check the rest of the semantics: optional and repeated tokens, IN lists, REGEX tests
on the word and on its lower case, words first seen in a later document.
"""
from __future__ import annotations

import random

import pytest
from spacy.matcher import Matcher
from spacy.tokens import Doc, Span

from extractors import dates, diary_ids
from extractors.arraymatch import ArrayMatcher, expansions
from extractors.base import load_patterns
from extractors.nlp import get_nlp, make_doc
from pipeline.read import read_document
from pipeline.run import repaired_text
from tests.test_prefilter import DOCUMENTS


def _plain_set(matcher: Matcher, doclike: Doc | Span) -> list[tuple[int, int, int]]:
    return sorted(set(matcher(doclike)), key=lambda m: (m[1], m[2], m[0]))


def _plain_of(name: str) -> Matcher:
    matcher = Matcher(get_nlp().vocab)
    for entry in load_patterns(name):
        if entry["kind"] == "token":
            matcher.add(entry["id"], [entry["pattern"]])
    return matcher


@pytest.fixture(scope="module")
def docs() -> list[Doc]:
    return [make_doc(repaired_text(read_document(path))[0]) for path in DOCUMENTS]


@pytest.mark.parametrize("module", [dates, diary_ids], ids=["dates", "diary_ids"])
def test_span_patterns_are_matched_as_arrays(module: object) -> None:
    assert isinstance(module._compiled()[0], ArrayMatcher)  # type: ignore[attr-defined]


@pytest.mark.parametrize("module", [dates, diary_ids], ids=["dates", "diary_ids"])
def test_arrays_find_what_the_plain_matcher_finds(module: object, docs: list[Doc]) -> None:
    name = module.NAME  # type: ignore[attr-defined]
    matcher, plain = module._compiled()[0], _plain_of(name)  # type: ignore[attr-defined]
    rng = random.Random(name)
    found = 0
    for doc in docs:
        for block in [doc, doc[:]] + [doc[a:a + rng.randint(1, 400)] for a in (rng.randrange(len(doc)) for _ in range(25))]:
            got = matcher(block)
            assert got == _plain_set(plain, block), (name, block[:8].text)
            found += len(got)
    assert found > 1000


_WORDS = ["a", "A", "b", "klo", "Klo", "1", "12", "2025", "1.2", "4.5.2025", "-", "–", ".", "/", ",", "(", ")",
          "x-1", "HEL", "ja", "T", "08"]
_SPECS = [
    {"ORTH": "a"}, {"LOWER": "klo"}, {"IS_DIGIT": True}, {"LIKE_NUM": True, "IS_DIGIT": False},
    {"ORTH": {"IN": ["-", "–", "/"]}}, {"LOWER": {"REGEX": "^k"}}, {"ORTH": {"REGEX": r"^\d{2}$"}},
    {"IS_ALPHA": False, "IS_PUNCT": False}, {"IS_UPPER": True}, {"SHAPE": {"IN": ["d.d", "dd"]}},
    {"TEXT": {"REGEX": "^[A-Z]"}}, {"ORTH": "."}, {"IS_PUNCT": True},
]
_OPS = [None, None, "?", "{0,2}", "{1,2}", "{2}", "{,2}"]


def test_random_patterns_match_as_the_matcher_does() -> None:
    rng = random.Random(7)
    nlp = get_nlp()
    for round_ in range(60):
        arrays, plain = ArrayMatcher(nlp.vocab), Matcher(nlp.vocab)
        for k in range(rng.randint(1, 4)):
            pattern = []
            for _ in range(rng.randint(1, 4)):
                spec = dict(rng.choice(_SPECS))
                op = rng.choice(_OPS)
                if op:
                    spec["OP"] = op
                pattern.append(spec)
            arrays.add(f"test.p{round_}.{k}", [pattern])
            plain.add(f"test.p{round_}.{k}", [pattern])
        for _ in range(3):  # new words in later documents too
            words = [rng.choice(_WORDS) for _ in range(rng.randint(1, 60))] + [f"w{rng.randrange(10**6)}"]
            doc = Doc(nlp.vocab, words=words)
            assert arrays(doc) == _plain_set(plain, doc), (words, plain)
            a = rng.randrange(len(doc))
            span = doc[a:a + rng.randint(1, 20)]
            assert arrays(span) == _plain_set(plain, span)


@pytest.mark.parametrize("pattern", [
    [{"LOWER": "a"}, {"IS_DIGIT": True, "OP": "*"}],
    [{"LOWER": "a"}, {"IS_DIGIT": True, "OP": "+"}],
    [{"LOWER": "a"}, {"IS_DIGIT": True, "OP": "{1,}"}],
    [{"LOWER": "a"}, {"IS_DIGIT": True, "OP": "!"}],
    [{"IS_SENT_START": True}, {"IS_DIGIT": True}],
    [{"LOWER": "a"}, {"_": {"flag": True}}],
    [{"LOWER": "a"}, {"IS_DIGIT": True, "OP": "{0,30}"}, {"IS_DIGIT": True, "OP": "{0,30}"}],  # too many forms
])
def test_what_arrays_cannot_match_is_refused(pattern: list[dict]) -> None:
    assert expansions(pattern) is None
    assert not ArrayMatcher.supports(pattern)
    with pytest.raises(ValueError, match="only bounded patterns"):
        ArrayMatcher(get_nlp().vocab).add("test.refused", [pattern])


def test_expansions_spell_out_options_repeats_and_in_lists() -> None:
    forms = expansions([{"ORTH": "a"}, {"ORTH": {"IN": ["-", "/"]}, "OP": "?"}, {"IS_DIGIT": True, "OP": "{1,2}"}])
    assert forms is not None and len(forms) == 2 * 3  # (none, "-", "/") x (one digit, two)
    assert min(map(len, forms)) == 2 and max(map(len, forms)) == 4
    assert expansions([{"ORTH": "a", "OP": "?"}]) == [('{"ORTH": "a"}',)]  # the empty form matches nothing


def test_a_malformed_pattern_fails_at_load() -> None:
    with pytest.raises(ValueError):
        ArrayMatcher(get_nlp().vocab).add("test.bad", [[{"ORTH": {"REGEX": 5}}]])


def test_offsets_are_relative_to_a_span_and_stop_at_its_end() -> None:
    doc = make_doc("Kokous 12.3.2024 klo 18.00–19.30, dnro 598/00.04.01/2025.")
    matcher = dates._compiled()[0]
    whole = matcher(doc)
    tail = matcher(doc[2:])
    assert tail and all(s >= 0 for _, s, _ in tail)
    assert [(k, s + 2, e + 2) for k, s, e in tail] == [m for m in whole if m[1] >= 2]
    assert all(e <= 2 for _, _, e in matcher(doc[:2]))


def test_a_file_with_a_pattern_arrays_cannot_take_keeps_the_matcher(monkeypatch: pytest.MonkeyPatch) -> None:
    from extractors import base
    from extractors.prefilter import PrefilteredMatcher

    entries = ({"id": "test.a", "kind": "token", "pattern": [{"IS_DIGIT": True}, {"ORTH": ".", "OP": "?"}]},
               {"id": "test.b", "kind": "token", "pattern": [{"LOWER": "klo"}, {"IS_DIGIT": True, "OP": "+"}]})
    monkeypatch.setattr(base, "load_patterns", lambda name: entries)
    assert isinstance(base.span_matcher(get_nlp(), "test"), PrefilteredMatcher)
    monkeypatch.setattr(base, "load_patterns", lambda name: entries[:1])
    assert isinstance(base.span_matcher(get_nlp(), "test"), ArrayMatcher)
    greedy = ({**entries[0], "greedy": "LONGEST"},)
    monkeypatch.setattr(base, "load_patterns", lambda name: greedy)
    assert isinstance(base.span_matcher(get_nlp(), "test"), PrefilteredMatcher)
