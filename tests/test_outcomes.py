"""Outcome and unanimity rules: table cases (tests/cases/outcomes.csv), whole dev handlings, fuzzing.

The dev check cuts each handling out of a dev document by plain string slicing between its §
markers and headings (the real segmenter is someone else's module), then compares classify(),
unanimity(), votes_for(), recusals and appeals with the gold file.
"""
from __future__ import annotations

import json
import re
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from spacy.tokens import Doc, Span

from extractors import appeals, outcomes, recusals, votes
from extractors.nlp import make_doc
from tests.conftest import DEV, case_rows, dev_text, random_span

CASES = case_rows("outcomes")


def _span(text: str) -> Span:
    return make_doc(text)[:]


@pytest.mark.parametrize("row", CASES, ids=[f"{i}:{r['api']}:{r['note'][:30]}" for i, r in enumerate(CASES)])
def test_case_table(row: dict[str, str]) -> None:
    text, processing = row["text"], row["processing"]
    expected, prefix = row["expected_value"], row["expected_rule_prefix"]
    if row["api"] == "classify":
        code, rule, mention = outcomes.classify(_span(text), _span(processing) if processing else None, False, True)
        assert code == expected
        assert rule is not None and rule.startswith(prefix)
    elif row["api"] == "find":
        found = outcomes.find(_span(text))
        assert {m.value for m in found} == (set(expected.split("|")) if expected else set())
        if prefix:
            assert any(m.rule_id.startswith(prefix) for m in found)
    else:
        value, mention = outcomes.unanimity(_span(text), _span(processing) if processing else None)
        assert value == {"True": True, "False": False, "": None}[expected]
        assert (mention is None) == (value is None)
        if prefix:
            assert mention is not None and mention.rule_id.startswith(prefix)


def test_table_has_negatives_and_enough_rows() -> None:
    assert len(CASES) >= 20
    assert sum(1 for r in CASES if r["note"].startswith("NEGATIVE")) >= 5


def test_none_decision_is_unknown() -> None:
    assert outcomes.classify(None, None, True, True) == ("UNKNOWN", "outcomes.no_decision", None)
    assert outcomes.unanimity(None, None) == (None, None)
    assert outcomes.find(None) == []


def test_votes_found_alone_makes_a_vote() -> None:
    code, rule, _ = outcomes.classify(_span("Hyväksyttiin."), None, True, True)
    assert (code, rule) == ("PASSED_VOTED", "outcomes.votes_found")


def test_mentions_point_into_the_document() -> None:
    doc = make_doc("Käsittely\nEsittelijä muutti päätösehdotusta.\n\nPäätös\nHyväksyttiin muutetun päätösehdotuksen mukaisesti yksimielisesti.")
    decision = doc.char_span(doc.text.index("Hyväksyttiin"), len(doc.text))
    code, rule, mention = outcomes.classify(decision, doc[:8], False, True)
    assert code == "PASSED_REVISED" and mention is not None
    assert doc.text[mention.start : mention.end] == mention.text == "muutetun päätösehdotuksen"
    value, m = outcomes.unanimity(decision, None)
    assert value is True and m is not None and doc.text[m.start : m.end] == "yksimielisesti"


# --- dev corpus: handlings cut by hand -----------------------------------------------------

@cache
def _dev_doc(name: str) -> Doc:
    return make_doc(dev_text(name))


def _gold(name: str, section: int | None) -> dict:
    gold = json.loads((DEV / re.sub(r"\.(txt|pdf)$", ".gold.json", name)).read_text(encoding="utf-8"))
    return next(d for d in gold["decisions"] if d["section"] == section)


_HEAD = re.compile(
    r"^[ \t]*(?:(?P<g>Päätös|Käsittely|Muutoksenhaku)[ \t]+(?=[A-ZÅÄÖ])|"
    r"(?P<h>Päätösehdotus|Päätös|Käsittely|Kokouskäsittely|Äänestykset|Äänestystulokset|Esteellisyys|"
    r"Muutoksenhaku|Selostus|Päätöshistoria|Liitteet|Tiedoksi|Esittelijä|Lisätiedot|Ehdotus|Perustelut|"
    r"Esittelijän perustelut|Tiivistelmä|Kaupunginjohtajan ehdotus|Kaupunginhallituksen ehdotus|Puheenjohtajan ehdotus|"
    r"Oheismateriaali|Valmistelija|Pöytäkirjantarkastajien nimikirjaimet|Pöytäkirjantarkastajat|Tarkastajat)"
    r"(?:[ \t]*:[ \t]*|[ \t]*$))",
    re.MULTILINE,
)
_PROCESSING = ("Käsittely", "Kokouskäsittely", "Äänestykset", "Äänestystulokset")
_CLOSING = re.compile(r"^(MUUTOKSENHAKUKIELLOT|OIKAISUVAATIMUSOHJE|VALITUSOSOITUS|MUUTOKSENHAKUOHJEET|Valtuustoaloitteet)", re.MULTILINE)


def _blocks(text: str, a: int, b: int) -> list[tuple[str, int, int]]:
    """(heading, content start, content end) for the headings inside text[a:b]."""
    heads = [m for m in _HEAD.finditer(text, a, b)]
    return [(m.group("g") or m.group("h"), m.end(), heads[k + 1].start() if k + 1 < len(heads) else b) for k, m in enumerate(heads)]


def _handling(name: str, start: str, end: str | None) -> tuple[int, int]:
    text = dev_text(name)
    a = text.rindex(start)
    ends = [text.index(end, a + len(start))] if end else []
    closing = _CLOSING.search(text, a)
    if closing:
        ends.append(closing.start())
    return a, min(ends) if ends else len(text)


def _cut(name: str, start: str, end: str | None) -> dict[str, Span | None]:
    doc, text = _dev_doc(name), dev_text(name)
    a, b = _handling(name, start, end)
    blocks = _blocks(text, a, b)
    span = lambda s, e: doc.char_span(s, e, alignment_mode="expand") if text[s:e].strip() else None  # noqa: E731
    decisions = [(s, e) for h, s, e in blocks if h == "Päätös"]
    proc = [(h, s, e) for h, s, e in blocks if h in _PROCESSING]
    processing = None
    if proc:
        first = blocks.index(proc[0])
        last = first
        while last + 1 < len(blocks) and blocks[last + 1][0] in _PROCESSING:
            last += 1
        processing = span(blocks[first][1], blocks[last][2])
    appeal = [(s, e) for h, s, e in blocks if h == "Muutoksenhaku"]
    return {
        "handling": span(a, b),
        "decision": span(*decisions[-1]) if decisions else None,
        "processing": processing,
        "appeal": span(*appeal[-1]) if appeal else None,
    }


def _txt_cases() -> list[tuple[str, int, str, str | None]]:
    return [
        ("dev01_dynasty_aluehallitus_revised.txt", 58, "§ 58\n", None),
        ("dev02_cloudnc_kh_vote_recusal.txt", 412, "§ 412", None),
        ("dev03_ahjo_kh_tabled.txt", 702, "§ 702", None),
        ("dev04_ahjo_lautakunta_vastaehdotus.txt", 168, "§ 168", None),
        ("dev05_tweb_kh_kv_history_cp1252.txt", 97, "Kaupunginhallitus 12.05.2025 § 97", "- - - -"),
        ("dev05_tweb_kh_kv_history_cp1252.txt", 31, "Kaupunginvaltuusto 26.05.2025 § 31", None),
        ("dev06_seedstyle_kh_kv_history.txt", 198, "Kunnanhallitus 13.10.2025 § 198", "Kunnanvaltuusto 27.10.2025 § 41\n\nPäätösehdotus"),
        ("dev06_seedstyle_kh_kv_history.txt", 41, "Kunnanvaltuusto 27.10.2025 § 41", None),
        ("dev07_seedstyle_kh_tabled_kh_kv.txt", 71, "Kh 24.3.2025 § 71", "Kh 14.4.2025 § 88"),
        ("dev07_seedstyle_kh_tabled_kh_kv.txt", 88, "Kh 14.4.2025 § 88", "Kv 5.5.2025 § 24"),
        ("dev07_seedstyle_kh_tabled_kh_kv.txt", 24, "Kv 5.5.2025 § 24", None),
        ("dev08_ligatures_kh_returned_vote.txt", 256, "§ 256", None),
        ("dev09_ligatures_kv_election_history.txt", 150, "Kunnanhallitus 08.09.2025 § 150", "Kunnanvaltuusto 22.09.2025 § 33"),
        ("dev09_ligatures_kv_election_history.txt", 33, "Kunnanvaltuusto 22.09.2025 § 33", None),
        ("dev10_mojibake_cloudnc_noted.txt", 23, "§ 23", None),
    ]


def _pdf_cases() -> list[tuple[str, int, str, str | None]]:
    out: list[tuple[str, int, str, str | None]] = []
    for name, sections, head in (
        ("dev13_pdf_kh_full_labelcolumn.pdf", range(180, 189), "\n§ {n} "),
        ("dev15_pdf_lautakunta_full_labelcolumn.pdf", range(41, 48), "\n{n} § "),
        ("dev16_pdf_aluehallitus_full_dynasty.pdf", range(301, 311), "Aluehallitus 09.12.2024 § {n}"),
        ("dev20_pdf_sivistyslautakunta_full_word.pdf", range(57, 64), "\n{n} § "),
        ("dev14_pdf_kv_full_ligatures_history.pdf", range(42, 49), "\n§ {n}\n"),
    ):
        for n in sections:
            out.append((name, n, head.format(n=n), head.format(n=n + 1)))
    return out


def _kv_start(name: str, start: str, section: int) -> str:
    """dev14 items carry the Kunnanhallitus handling first; the KV handling starts at its own line."""
    marker = f"Kunnanvaltuusto 16.12.2024 § {section}"
    return marker if name.startswith("dev14") and marker in dev_text(name) else start


@pytest.mark.parametrize("name,section,start,end", _txt_cases() + _pdf_cases(), ids=lambda v: str(v)[:12])
def test_dev_handling_matches_gold(name: str, section: int, start: str, end: str | None) -> None:
    text = dev_text(name)
    if end and end not in text[text.rindex(start) + len(start):]:
        end = None
    start = _kv_start(name, start, section)
    gold = _gold(name, section)
    cut = _cut(name, start, end)
    dec, proc = cut["decision"], cut["processing"]
    found = bool((proc is not None and votes.find(proc)) or (dec is not None and votes.find(dec)))
    code, rule, mention = outcomes.classify(dec, proc, found, gold["proposal"] is not None)
    assert code == gold["outcome"], (rule, mention)
    assert outcomes.unanimity(dec, proc)[0] == gold["unanimous"]
    counts = votes.votes_for(proc)[0] if proc is not None else None
    assert (counts or votes.votes_for(dec)[0]) == gold["votes"]
    assert recusals.names(cut["handling"]) == gold["recused"]
    if cut["appeal"] is not None:
        kind = appeals.classify(cut["appeal"])[0]
    elif gold["current"]:
        kind = appeals.section_ranges(_dev_doc(name)).get(section)
    else:
        kind = None
    assert kind == gold["appeal"]


# --- fuzzing ---------------------------------------------------------------------------------

_WORDS = st.sampled_from([
    "Hyväksyttiin", "pöydälle", "palauttaa", "valmisteluun", "hylkäsi", "päätösehdotuksen", "merkittiin", "tiedoksi",
    "valittiin", "muutti", "muutetun", "äänin", "8-5", "yksimielisesti", "äänestyksen", "jälkeen", "JAA", "EI", "3", ".",
    ",", "\n", " ", "ei", "vastaehdotuksen", "hyväksyi", "Matti", "§", "(", ")", "todettiin", "esityslistalta", "poistettiin",
])


@settings(max_examples=150, deadline=None)
@given(parts=st.lists(st.one_of(_WORDS, st.text(max_size=8)), max_size=40), cut=st.tuples(st.integers(0, 60), st.integers(0, 60)))
def test_arbitrary_text_never_raises(parts: list[str], cut: tuple[int, int]) -> None:
    span = random_span(parts, cut)
    doc = span.doc
    for m in outcomes.find(span):
        assert span.start_char <= m.start <= m.end <= span.end_char
        assert doc.text[m.start : m.end] == m.text
    code, rule, mention = outcomes.classify(span, doc[:], False, True)
    assert code in ("UNKNOWN", "PASSED", "PASSED_VOTED", "PASSED_REVISED", "PASSED_MODIFIED", "REJECTED", "NOTED",
                    "RETURNED", "REMOVED", "TABLED", "ELECTION")
    if mention is not None:
        assert doc.text[mention.start : mention.end] == mention.text
    value, m = outcomes.unanimity(span, None)
    assert value in (True, False, None)
    if m is not None:
        assert span.start_char <= m.start <= m.end <= span.end_char
