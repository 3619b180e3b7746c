"""Vote counts and named voter lists: table cases (tests/cases/votes.csv), dev blocks, fuzzing."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from extractors import votes
from extractors.nlp import make_doc
from tests.conftest import case_rows, dev_text, random_span

CASES = case_rows("votes")


@pytest.mark.parametrize("row", CASES, ids=[f"{i}:{r['note'][:30]}" for i, r in enumerate(CASES)])
def test_case_table(row: dict[str, str]) -> None:
    doc = make_doc(row["text"])
    counts, mention = votes.votes_for(doc)
    if not row["expected_value"]:
        assert counts is None and mention is None and votes.find(doc) == []
        return
    assert counts == json.loads(row["expected_value"])
    assert mention is not None and mention.rule_id.startswith(row["expected_rule_prefix"])
    assert doc.text[mention.start : mention.end] == mention.text


def test_table_has_negatives_and_enough_rows() -> None:
    assert len(CASES) >= 20
    assert sum(1 for r in CASES if r["note"].startswith("NEGATIVE")) >= 5


def test_statements_are_not_double_counted() -> None:
    cloud = next(r for r in CASES if r["note"].startswith("dev02 CloudNC"))["text"]
    found = votes.find(make_doc(cloud))
    assert len(found) == 2
    assert all(json.loads(m.value) == {"yes": 8, "no": 4, "blank": 1, "absent": 1} for m in found)


def test_pair_fills_only_missing_counts() -> None:
    text = "Äänestyksessä annettiin 7 JAA-ääntä ja 2 EI-ääntä.\nValtuusto hyväksyi ehdotuksen äänin 7-2 (1 tyhjä)."
    counts, mention = votes.votes_for(make_doc(text))
    assert counts == {"yes": 7, "no": 2, "blank": 1, "absent": None}
    assert mention is not None and votes.is_explicit(mention)


def _named(text: str) -> list[tuple[str, str]]:
    return [(name, vote) for name, vote, _ in votes.named_votes(make_doc(text))]


def test_named_ahjo_lists() -> None:
    text = dev_text("dev04_ahjo_lautakunta_vastaehdotus.txt")
    named = _named(text)
    assert named[:2] == [("Antti Ahonen", "yes"), ("Sari Kallio", "yes")]
    assert sum(v == "yes" for _, v in named) == 5 and sum(v == "no" for _, v in named) == 8
    assert ("Reetta Väisänen", "no") in named


def test_named_cloudnc_bullets() -> None:
    named = _named(dev_text("dev02_cloudnc_kh_vote_recusal.txt"))
    assert ("Vesterinen Katja", "yes") in named and ("Viitala Hanna", "no") in named
    assert ("Ketola Anu", "blank") in named and ("Järvinen Olli", "absent") in named
    assert len(named) == 14


def test_named_parentheses_dev08() -> None:
    named = _named(dev_text("dev08_ligatures_kh_returned_vote.txt"))
    assert named == [("Kettunen", "yes"), ("Mustonen", "yes"), ("Väisänen", "yes"),
                     ("Hytönen", "no"), ("Kinnunen", "no"), ("Pitkänen", "no"), ("Tiihonen", "no")]


def test_named_list_lines_and_line_breaks() -> None:
    named = _named("Äänestyksen tulos: JAA 9, EI 4, tyhjä 0, poissa 0.\nJAA: Rautiainen, Hyvönen\nEI: Vepsäläinen, Oksman\n")
    assert named == [("Rautiainen", "yes"), ("Hyvönen", "yes"), ("Vepsäläinen", "no"), ("Oksman", "no")]
    doc = make_doc("annettiin 2 JAA-ääntä (Pauliina Hämäläinen, Juho\nRuuskanen) ja 0 EI-ääntä.")
    (first, _, m1), (second, vote, m2) = votes.named_votes(doc)
    assert second == "Juho Ruuskanen" and vote == "yes" and doc.text[m2.start : m2.end] == "Juho\nRuuskanen"


def test_named_rejects_prose_and_count_mismatch() -> None:
    assert _named("Jaa-äänet: 3\nKasvatus- ja koulutuslautakunta hyväksyi ehdotuksen 12.5.2024.\nEi-äänet: 2") == []
    assert _named("Jaa 3 kpl\nAaltonen Mikko, Haapanen Sari\nEi 1 kpl") == []


def test_dev_blocks_against_gold() -> None:
    """Hand-cut vote passages from dev documents and their gold counts."""
    dev05 = dev_text("dev05_tweb_kh_kv_history_cp1252.txt")
    passage = dev05[dev05.index("Käsittely:") : dev05.index("Muutoksenhaku:", dev05.index("Käsittely:"))]
    assert votes.votes_for(make_doc(passage))[0] == {"yes": 24, "no": 10, "blank": 1, "absent": 0}
    dev08 = dev_text("dev08_ligatures_kh_returned_vote.txt")
    passage = dev08[dev08.index("Käsittely") : dev08.index("Muutoksenhaku")]
    assert votes.votes_for(make_doc(passage))[0] == {"yes": 3, "no": 4, "blank": None, "absent": None}
    dev02 = dev_text("dev02_cloudnc_kh_vote_recusal.txt")
    passage = dev02[dev02.index("Kokouskäsittely") : dev02.index("Muutoksenhaku")]
    assert votes.votes_for(make_doc(passage))[0] == {"yes": 8, "no": 4, "blank": 1, "absent": 1}


_WORDS = st.sampled_from([
    "äänin", "8-5", "5", "-", "8", "JAA", "EI", "Jaa", "Ei", "kpl", "JAA-ääntä", "EI-ääntä", "tyhjä", "poissa", "Tyhjä:",
    "Jaa-äänet:", "Ja-röster:", ":", "(", ")", ",", "ja", "\n", ".", "Matti", "Virtanen", "0", "12", "–", "ääni",
])


@settings(max_examples=150, deadline=None)
@given(parts=st.lists(st.one_of(_WORDS, st.text(max_size=6)), max_size=40), cut=st.tuples(st.integers(0, 60), st.integers(0, 60)))
def test_arbitrary_text_never_raises(parts: list[str], cut: tuple[int, int]) -> None:
    span = random_span(parts, cut)
    doc = span.doc
    for m in votes.find(span):
        assert span.start_char <= m.start <= m.end <= span.end_char
        assert doc.text[m.start : m.end] == m.text
        assert set(json.loads(m.value)) == {"yes", "no", "blank", "absent"}
    counts, mention = votes.votes_for(span)
    assert (counts is None) == (mention is None)
    for name, vote, m in votes.named_votes(span):
        assert vote in votes.ROLES and name
        assert span.start_char <= m.start <= m.end <= span.end_char
        assert doc.text[m.start : m.end] == m.text
