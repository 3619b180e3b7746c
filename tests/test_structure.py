"""Case tables for the structural extractors: item-line candidates, headings, person lines."""
from __future__ import annotations

import pytest

from extractors import headings, people
from extractors import candidates
from extractors.lines import Lines
from extractors.nlp import make_doc
from tests.conftest import case_rows

SECTION_CASES = case_rows("sections")
HEADING_CASES = case_rows("headings")
PEOPLE_CASES = case_rows("people")


@pytest.mark.parametrize("case", SECTION_CASES, ids=[c["note"] for c in SECTION_CASES])
def test_section_lines(case: dict[str, str]) -> None:
    """What one line says (its form, §, body, date, title, tail); whether it opens an item is the
    document's decision (tests/test_segment.py)."""
    found = candidates.find(Lines(case["line"]))
    if not case["form"]:
        assert found == [], f"{case['line']!r} must not be a candidate item line"
        return
    assert len(found) == 1
    c = found[0]
    assert c.form == case["form"]
    assert c.section == int(case["section"])
    assert (c.body or "") == case["body"]
    assert (c.date or "") == case["date"]
    assert (c.title or "") == case["title"]
    assert (c.tail or "") == case["tail"]
    assert case["line"][c.section_start:c.section_end] == case["section"]


@pytest.mark.parametrize("case", HEADING_CASES, ids=[c["note"] for c in HEADING_CASES])
def test_headings(case: dict[str, str]) -> None:
    text = case["text"] + "\nSeuraava rivi."
    found = headings.find(make_doc(text))
    if not case["label"]:
        assert found == [], f"{case['text']!r} must not be a heading"
        return
    assert len(found) == 1
    h = found[0]
    assert (h.label, h.rule_id, h.remainder) == (case["label"], case["rule_id"], case["remainder"])


@pytest.mark.parametrize("case", PEOPLE_CASES, ids=[c["note"] for c in PEOPLE_CASES])
def test_person_lines(case: dict[str, str]) -> None:
    names = [p.name for p in people.names_in_line(case["line"])]
    assert names == [n for n in case["names"].split("|") if n]
    assert people.looks_like_person_line(case["line"]) is (case["person_line"] == "True")


@pytest.mark.parametrize(("genitive", "nominative"), [
    ("Kaupunginhallituksen", "Kaupunginhallitus"), ("Puheenjohtajan", "Puheenjohtaja"),
    ("Sivistyslautakunnan", "Sivistyslautakunta"), ("Esittelijän", "Esittelijä"),
])
def test_nominative(genitive: str, nominative: str) -> None:
    assert people.nominative(genitive) == nominative
