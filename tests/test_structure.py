"""Case tables for the structural extractors: item/handling lines, headings, person lines."""
from __future__ import annotations

import pytest

from extractors import headings, people
from extractors.sections import find_markers
from extractors.nlp import make_doc
from tests.conftest import case_rows

SECTION_CASES = case_rows("sections")
HEADING_CASES = case_rows("headings")
PEOPLE_CASES = case_rows("people")


@pytest.mark.parametrize("case", SECTION_CASES, ids=[c["note"] for c in SECTION_CASES])
def test_section_lines(case: dict[str, str]) -> None:
    markers = find_markers(case["line"])
    if not case["kind"]:
        assert markers == [], f"{case['line']!r} must not be an item or handling line"
        return
    assert len(markers) == 1
    m = markers[0]
    assert m.kind == case["kind"]
    assert m.section == int(case["section"])
    assert (m.body or "") == case["body"]
    assert (m.date or "") == case["date"]
    assert (m.title or "") == case["title"]
    assert case["line"][m.section_start:m.section_end] == case["section"]


def test_table_of_contents_is_flagged() -> None:
    text = "ASIALUETTELO\n§ 180 Kokouksen laillisuus\n§ 181 Pöytäkirjan tarkastajat\n§ 182 Talousarvio\n" \
           "§ 180 Kokouksen laillisuus\nKuntalain mukaan ..."
    markers = find_markers(text)
    assert [m.toc for m in markers] == [True, True, True, False]


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
