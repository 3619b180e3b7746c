"""Appeal kinds: table cases (tests/cases/appeals.csv), dev Muutoksenhaku blocks, closing pages, fuzzing."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from extractors import appeals
from extractors.assemble import closing_appeals
from extractors.nlp import make_doc
from extractors.segment import segment
from tests.conftest import DEV, case_rows, dev_text, random_span

CASES = case_rows("appeals")


@pytest.mark.parametrize("row", CASES, ids=[f"{i}:{r['note'][:30]}" for i, r in enumerate(CASES)])
def test_case_table(row: dict[str, str]) -> None:
    doc = make_doc(row["text"])
    kind, mention = appeals.classify(doc)
    if not row["expected_value"]:
        assert (kind, mention) == (None, None)
        return
    assert kind == row["expected_value"]
    assert mention is not None and mention.rule_id.startswith(row["expected_rule_prefix"])
    assert doc.text[mention.start : mention.end] == mention.text


def test_table_has_negatives_and_enough_rows() -> None:
    assert len(CASES) >= 20
    assert sum(1 for r in CASES if r["note"].startswith("NEGATIVE")) >= 3


def test_ruled_out_cues_are_not_reported() -> None:
    found = appeals.find(make_doc("Kuntalain 136 §:n mukaan valmistelua koskevasta päätöksestä ei saa tehdä oikaisuvaatimusta eikä kunnallisvalitusta."))
    assert {m.value for m in found} == {"none"}


@pytest.mark.parametrize(
    "name,start,end,section",
    [
        ("dev01_dynasty_aluehallitus_revised.txt", "Muutoksenhaku\n", "Tiedoksi", 58),
        ("dev02_cloudnc_kh_vote_recusal.txt", "Muutoksenhaku\n", "Tiedoksi", 412),
        ("dev03_ahjo_kh_tabled.txt", "Muutoksenhaku\n", "Päätösehdotus", 702),
        ("dev04_ahjo_lautakunta_vastaehdotus.txt", "Muutoksenhaku\n", "Päätösehdotus", 168),
        ("dev05_tweb_kh_kv_history_cp1252.txt", "Muutoksenhaku:", "- - -", 97),
        ("dev05_tweb_kh_kv_history_cp1252.txt", "Kunnallisvalitus", "Tiedoksi", 31),
        ("dev06_seedstyle_kh_kv_history.txt", "Muutoksenhaku\n", "Kunnanvaltuusto 27.10.2025 § 41\n\nPäätösehdotus", 198),
        ("dev06_seedstyle_kh_kv_history.txt", "Muutoksenhaku\n\nKunnallisvalitus", "Tiedoksi", 41),
        ("dev08_ligatures_kh_returned_vote.txt", "Muutoksenhaku\n", "Pöytäkirjantarkastajien", 256),
        ("dev09_ligatures_kv_election_history.txt", "Muutoksenhaku:", "Tiedoksi", 33),
        ("dev10_mojibake_cloudnc_noted.txt", "Muutoksenhaku\n", None, 23),
        ("dev19_pdf_viranhaltijapaatos.pdf", "Muutoksenhaku", None, None),
        ("dev17_pdf_ote_2pages_ligatures.pdf", "OIKAISUVAATIMUSOHJE", None, 244),
    ],
    ids=lambda v: str(v)[:12],
)
def test_dev_blocks_against_gold(name: str, start: str, end: str | None, section: int | None) -> None:
    text = dev_text(name)
    a = text.index(start)
    block = text[a : text.index(end, a) if end else len(text)]
    gold = json.loads((DEV / (name.rsplit(".", 1)[0] + ".gold.json")).read_text(encoding="utf-8"))
    expected = next(d["appeal"] for d in gold["decisions"] if d["section"] == section)
    assert appeals.classify(make_doc(block))[0] == expected


@pytest.mark.parametrize(
    "name",
    ["dev13_pdf_kh_full_labelcolumn.pdf", "dev14_pdf_kv_full_ligatures_history.pdf", "dev15_pdf_lautakunta_full_labelcolumn.pdf",
     "dev16_pdf_aluehallitus_full_dynasty.pdf", "dev20_pdf_sivistyslautakunta_full_word.pdf"],
)
def test_closing_pages_assign_every_current_section(name: str) -> None:
    """The closing pages' lists give the gold appeal of every § they list."""
    gold = json.loads((DEV / (name.rsplit(".", 1)[0] + ".gold.json")).read_text(encoding="utf-8"))
    doc = make_doc(dev_text(name))
    ranges = {section: kind for section, (kind, _) in closing_appeals(doc, segment(doc)).items()}
    current = {d["section"]: d["appeal"] for d in gold["decisions"] if d["current"] and d["appeal"] is not None}
    assert ranges, "no ranges found"
    for section, kind in ranges.items():
        assert current.get(section) == kind, section
    if not name.startswith(("dev14", "dev16")):  # these also carry per-item appeal text
        assert set(ranges) == set(current)


def test_section_range_forms() -> None:
    text = (
        "MUUTOKSENHAKUKIELLOT, OIKAISUVAATIMUSOHJE JA VALITUSOSOITUS\n"
        "Muutoksenhakukielto\n"
        "Kuntalain 136 §:n mukaan seuraavista päätöksistä ei saa tehdä oikaisuvaatimusta eikä kunnallisvalitusta:\n"
        "Pykälät 180–183, 185–187\n"
        "Oikaisuvaatimusohje, 190 §\n"
        "Oikaisuvaatimus on tehtävä 14 päivän kuluessa (kuntalain 134 §). Viranhaltijapäätökset §:t 41–46/2025.\n"
        "Valitusosoitus, 192 § ja 193 §\n"
        "Päätökseen saa hakea muutosta valittamalla Vaasan hallinto-oikeuteen (alueidenkäyttölain 191 §).\n"
        "Kunnallisvalitus, pykälät 44, 45 ja 47\n"
        "Muutoksenhakukielto, §:t 62–64\n"
    )
    assert appeals.section_ranges(make_doc(text)) == {
        180: "none", 181: "none", 182: "none", 183: "none", 185: "none", 186: "none", 187: "none",
        190: "rectification", 192: "administrative_appeal", 193: "administrative_appeal",
        44: "municipal_appeal", 45: "municipal_appeal", 47: "municipal_appeal", 62: "none", 63: "none", 64: "none",
    }


def test_section_ranges_ignore_statutes_and_item_text() -> None:
    text = "Kuntalain 136 §:n mukaan ... (laki hyvinvointialueesta 141 §).\nKäsitellyt asiat §:t 180–188\n46 § Viranhaltijapäätökset\n"
    assert appeals.section_ranges(make_doc(text)) == {}
    assert appeals.section_ranges(None) == {}


_WORDS = st.sampled_from([
    "Muutoksenhakukielto", "Oikaisuvaatimusohje", "Pykälät", "180–183", ",", "ja", "§", "41", "\n", "ei", "saa", "hakea",
    "muutosta", "aluevalituksella", "oikaisuvaatimusta", "eikä", "kunnallisvalitusta", "Valitusosoitus", "hallinto-oikeuteen",
    "valittamalla", "§:t", "62–88", "/2025", ":", ".", "Kunnallisvalitus", "Hallintovalitus", "Aluevalitus",
])


@settings(max_examples=150, deadline=None)
@given(parts=st.lists(st.one_of(_WORDS, st.text(max_size=6)), max_size=40), cut=st.tuples(st.integers(0, 60), st.integers(0, 60)))
def test_arbitrary_text_never_raises(parts: list[str], cut: tuple[int, int]) -> None:
    span = random_span(parts, cut)
    doc = span.doc
    for m in appeals.find(span):
        assert span.start_char <= m.start <= m.end <= span.end_char
        assert doc.text[m.start : m.end] == m.text
        assert m.value in appeals.KINDS
    kind, mention = appeals.classify(span)
    assert kind is None or kind in appeals.KINDS
    for section, value in appeals.section_ranges(span).items():
        assert isinstance(section, int) and value in appeals.KINDS
