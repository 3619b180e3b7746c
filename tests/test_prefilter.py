"""The matcher windows (extractors/prefilter.py) find exactly what the plain Matcher finds.

Windows are a speed measure only: on every fixture document, whole and in blocks, each token
matcher must return the plain spaCy Matcher's results, in the same order, as tuples and as spans.
"""
from __future__ import annotations

import random
from functools import cache

import pytest
from spacy.matcher import Matcher
from spacy.tokens import Doc, Span

from extractors import appeals, diary_ids, outcomes, prefilter, recusals, votes
from extractors.base import token_matcher
from extractors.nlp import get_nlp, make_doc
from pipeline.read import read_document
from pipeline.run import repaired_text
from tests.conftest import CORPUS, FIXTURES



@cache
def _windowed_matcher(name: str) -> prefilter.PrefilteredMatcher:
    """The span patterns' files as a PrefilteredMatcher: the extractors match them as arrays
    (tests/test_arraymatch.py), but they are the most number-heavy test of the windows."""
    return token_matcher(get_nlp(), name)


MATCHERS = {
    "appeals": appeals._matcher, "outcomes": outcomes._matcher, "votes": votes._matcher,
    "recusals": recusals._matcher, "dates": lambda: _windowed_matcher("dates"),
    "diary_ids": lambda: _windowed_matcher("diary_ids"),
}
DOCUMENTS = sorted(p for p in [*CORPUS.glob("*/*"), *(FIXTURES / "styles").glob("*")]
                   if p.suffix in (".pdf", ".txt", ".html"))


def _plain(matcher: prefilter.PrefilteredMatcher, doclike: Doc | Span, **kwargs: bool) -> list:
    found = Matcher.__call__(matcher, doclike, **kwargs) if matcher.may_match(doclike) else []
    return [(s.label, s.start, s.end) for s in found] if kwargs.get("as_spans") else found


def _windowed(matcher: prefilter.PrefilteredMatcher, doclike: Doc | Span, **kwargs: bool) -> list:
    found = matcher(doclike, **kwargs)
    return [(s.label, s.start, s.end) for s in found] if kwargs.get("as_spans") else found


@pytest.fixture(scope="module")
def docs() -> list[Doc]:
    return [make_doc(repaired_text(read_document(path))[0]) for path in DOCUMENTS]


@pytest.mark.parametrize("name", sorted(MATCHERS))
def test_every_pattern_file_is_windowed(name: str) -> None:
    # An unbounded pattern ("*", "+") would silently switch windows off: bound it with "{0,n}".
    assert MATCHERS[name]()._windowed


@pytest.mark.parametrize("name", sorted(MATCHERS))
def test_windows_find_what_the_plain_matcher_finds(name: str, docs: list[Doc]) -> None:
    matcher = MATCHERS[name]()
    rng = random.Random(name)
    checked = 0
    for doc in docs:
        blocks = [doc, doc[:]] + [doc[a:a + rng.randint(1, 400)] for a in (rng.randrange(len(doc)) for _ in range(25))]
        for block in blocks:
            assert _windowed(matcher, block) == _plain(matcher, block), (name, block[:8].text)
            assert _windowed(matcher, block, as_spans=True) == _plain(matcher, block, as_spans=True)
            checked += 1
    assert checked > 500


def test_windows_in_a_made_up_text() -> None:
    text = ("Kokous 12.3.2024 klo 18.00–19.30. Dnro 598/00.04.01/2025, HEL 2024-013118 T 08 00 00 ja "
            "13710-2021 (00 01 02, 06 00 00). Jaa 5, ei 3, tyhjiä 1. " * 5) + "Hyväksyttiin yksimielisesti."
    doc = make_doc(text)
    for name, make in MATCHERS.items():
        matcher = make()
        assert _windowed(matcher, doc) == _plain(matcher, doc), name
    assert {m.value for m in diary_ids.find(doc)} >= {"598/00.04.01/2025", "HEL 2024-013118 T 08 00 00",
                                                        "13710-2021 (00 01 02, 06 00 00)"}


def test_windows_skip_text_that_cannot_start_a_match() -> None:
    matcher = _windowed_matcher("dates")
    doc = make_doc("Kunnanhallitus käsitteli asian ja päätti hyväksyä sen. " * 20 + "Kokous 12.3.2024 klo 18.00.")
    windows = matcher.windows(doc, 0, len(doc))
    assert 0 < sum(b - a for a, b in windows) < 12
    assert doc[windows[0][0]:windows[-1][1]].text.startswith("12.3.2024")


@pytest.mark.parametrize(("pattern", "most"), [
    ([{"LOWER": "a"}], 1),
    ([{"LOWER": "a"}, {"ORTH": ".", "OP": "?"}, {"IS_DIGIT": True}], 3),
    ([{"LOWER": "a"}, {"IS_DIGIT": True, "OP": "{0,4}"}], 5),
    ([{"LOWER": "a"}, {"IS_DIGIT": True, "OP": "{2}"}], 3),
    ([{"LOWER": "a"}, {"IS_DIGIT": True, "OP": "{,3}"}], 4),
    ([{"LOWER": "a"}, {"IS_DIGIT": True, "OP": "*"}], None),
    ([{"LOWER": "a"}, {"IS_DIGIT": True, "OP": "+"}], None),
    ([{"LOWER": "a"}, {"IS_DIGIT": True, "OP": "{1,}"}], None),
    ([{"LOWER": "a"}, {"IS_DIGIT": True, "OP": "!"}], None),
])
def test_longest(pattern: list[dict], most: int | None) -> None:
    assert prefilter.longest(pattern) == most


def test_unbounded_or_contextual_patterns_run_the_plain_matcher() -> None:
    text = "Jäsen A. Virtanen 1 2 3 4 5 6 7 8 9 10 11 12 loppu. Toinen B 4 5."
    doc = make_doc(text)
    for pattern in ([{"IS_TITLE": True}, {"IS_DIGIT": True, "OP": "+"}],  # unbounded
                    [{"IS_SENT_START": True}, {"IS_DIGIT": True}],  # not a property of the word
                    [{"ORTH": "B", "OP": "?"}, {"IS_DIGIT": True}]):  # first token optional
        matcher = prefilter.PrefilteredMatcher(get_nlp().vocab)
        matcher.add("test.pattern", [pattern])
        assert not matcher._windowed
        assert matcher(doc) == Matcher.__call__(matcher, doc)
    matcher = prefilter.PrefilteredMatcher(get_nlp().vocab)
    matcher.add("test.bounded", [[{"IS_TITLE": True}, {"IS_DIGIT": True, "OP": "{1,20}"}]])
    assert matcher._windowed
    assert matcher(doc) == Matcher.__call__(matcher, doc) != []


def test_greedy_patterns_keep_the_matcher_order() -> None:
    matcher = prefilter.PrefilteredMatcher(get_nlp().vocab)
    matcher.add("test.longest", [[{"IS_DIGIT": True}, {"IS_DIGIT": True, "OP": "{0,3}"}]], greedy="LONGEST")
    matcher.add("test.first", [[{"IS_TITLE": True}, {"IS_DIGIT": True, "OP": "?"}]], greedy="FIRST")
    matcher.add("test.plain", [[{"LOWER": "ja"}]])
    doc = make_doc("Ala 1 2 ja 3 sana sana sana sana sana sana sana sana Ylä 4 5 6 7 8 ja 9 Ala 1")
    assert matcher(doc) == Matcher.__call__(matcher, doc)
    assert matcher(doc[2:20]) == Matcher.__call__(matcher, doc[2:20])

