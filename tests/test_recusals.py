"""Recusals (esteellisyys): table cases (tests/cases/recusals.csv), whole dev documents, fuzzing."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from extractors import recusals
from extractors.nlp import make_doc
from tests.conftest import DEV, case_rows, dev_text, random_span

CASES = case_rows("recusals")


@pytest.mark.parametrize("row", CASES, ids=[f"{i}:{r['note'][:30]}" for i, r in enumerate(CASES)])
def test_case_table(row: dict[str, str]) -> None:
    doc = make_doc(row["text"])
    found = recusals.find(doc)
    expected = row["expected_value"].split("|") if row["expected_value"] else []
    assert [m.value for m in found] == expected
    for m in found:
        assert m.kind == "recused" and m.rule_id.startswith(row["expected_rule_prefix"])
        assert doc.text[m.start : m.end] == m.text


def test_table_has_negatives_and_enough_rows() -> None:
    assert len(CASES) >= 20
    assert sum(1 for r in CASES if r["note"].startswith("NEGATIVE")) >= 5


def test_span_offsets_are_document_offsets() -> None:
    doc = make_doc("Päätös\nHyväksyttiin.\n\nKäsittely\nJäsen Kari Hautamäki ilmoitti olevansa esteellinen.")
    block = doc[5:]
    (m,) = recusals.find(block)
    assert doc.text[m.start : m.end] == "Kari Hautamäki"
    assert recusals.find(doc[:4]) == [] and recusals.find(None) == []


@pytest.mark.parametrize("path", sorted(p for p in DEV.iterdir() if p.suffix in (".txt", ".pdf")), ids=lambda p: p.name[:5])
def test_dev_documents_name_exactly_the_gold_recusals(path: Path) -> None:
    """Over a whole document: every gold name is found and nothing else (no statute text, no 'esteestä')."""
    text = dev_text(path.name)
    gold = json.loads(path.with_name(path.name.rsplit(".", 1)[0] + ".gold.json").read_text(encoding="utf-8"))
    expected = sorted({name for d in gold["decisions"] for name in d["recused"]})
    assert sorted(recusals.names(make_doc(text))) == expected


_WORDS = st.sampled_from([
    "ilmoitti", "olevansa", "esteellinen", "Esteelliset", ":", "Esteellisyys", "\n", "•", "Matti", "Virtanen", "ja", ",",
    "poistui", "kokouksesta", "esteellisenä", "jäävi", "Jäsen", "jääväsi", "itsensä", "on", "(", ")", ".", "Yli-Kauppila",
])


@settings(max_examples=150, deadline=None)
@given(parts=st.lists(st.one_of(_WORDS, st.text(max_size=6)), max_size=40), cut=st.tuples(st.integers(0, 60), st.integers(0, 60)))
def test_arbitrary_text_never_raises(parts: list[str], cut: tuple[int, int]) -> None:
    span = random_span(parts, cut)
    doc = span.doc
    for m in recusals.find(span):
        assert span.start_char <= m.start < m.end <= span.end_char
        assert doc.text[m.start : m.end] == m.text
        assert m.value and m.value.strip() == m.value


def test_a_label_glued_to_the_name_is_not_part_of_it() -> None:
    from extractors import extract

    text = ("Kunnanvaltuusto § 42 08.04.2024\n\nKankaan koulun lakkauttaminen\n\nBeslutsförslagKunnanvaltuusto päättää "
            "lakkauttaa koulun.\n\nBehandlingKari Juntunen var jävig och deltog inte i behandlingen av ärendet.\n\n"
            "BeslutFörslaget godkändes.\n")
    rows = extract(text).decisions
    assert [r["recused"] for r in rows] == [["Kari Juntunen"]]
