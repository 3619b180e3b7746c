"""Property tests (hypothesis) for the extractors without their own, and for extraction end to end.

For headings, item-line candidates, people, bodies, meetings and `extractors.assemble.extract`: arbitrary text
never raises, and every span lies inside its text and holds what it claims. Texts come in three
kinds: any Unicode; lines put together from the pieces minutes are made of (§ lines, handling
lines, headings, person lines, cover labels) mixed with noise; and cuts of the dev corpus with
pieces spliced in. Redaction: idempotent and total.
"""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from extractors import bodies, candidates, headings, meetings, people
from extractors.assemble import extract
from extractors.lines import Lines
from extractors.nlp import make_doc
from pipeline.read import read_document
from pipeline.redact import redact
from pipeline.run import repaired_text
from tests.conftest import DEV

PIECES = (
    "§ 12", "§ 412 Kiinteistön myynti", "57 § TALOUSARVIO 2026", "§ 146 – 149", "Kaupunginhallitus 08.12.2025 § 323",
    "Kh 10.10.2022 § 237", "Kunnanhallitus § 244 10.11.2025", "Pöytäkirja 04.03.2024/Pykälä 58", "kuntalain 136 §:n",
    "Päätösehdotus", "Päätösehdotus:", "Ehdotus", "EhdotusKaupunginhallitus päättää", "Päätös", "Päätös Hyväksyttiin.",
    "Päätös:", "Esittelijä", "Esittelijä:", "Käsittely", "Valmistelija", "Valmistelija kunnanjohtaja Helena Virtanen",
    "Valmistelijat", "Lisätiedot", "Tonttipäällikkö Hannu Leinonen, puh. 040 806 3312", "Korhonen Tiina, johtaja",
    "Kaupunginjohtaja:", "pormestari", "Heikki Lahdenperä", "Hannu Kivimäki ja Kirsi Huttunen",
    "Hyväksyttiin yksimielisesti.", "Äänestys", "JAA 8 EI 3 TYHJÄ 1", "Jaa-äänet: Matti Meikäläinen", "esteellinen",
    "Muutoksenhaku", "Oikaisuvaatimus", "Kokousaika", "Kokousaika 12.3.2025 klo 18.00–19.30", "Kokouspaikka",
    "Kunnantalo, valtuustosali", "Saapuvilla olleet jäsenet", "Kari Hyvönen, puheenjohtaja Seija Räsänen",
    "Hannu Kivimäki puheenjohtaja", "Poissa", "Muut saapuvilla olleet", "Laillisuus ja päätösvaltaisuus",
    "Kokous todettiin lailliseksi ja päätösvaltaiseksi.", "Käsitellyt asiat", "§ 1 - 12", "Allekirjoitukset",
    "Puheenjohtaja Pöytäkirjanpitäjä", "Pöytäkirjan tarkastus", "Pöytäkirjantarkastaja", "KUNNANVALTUUSTO",
    "Pihtiputaan kunta", "KANKAANPÄÄN KAUPUNKI", "Pohjois-Savon hyvinvointialue", "Kunnanhallitus", "Kv", "KhVi",
    "Dnro 402/02.05.01/2025", "12/2025", "Pöytäkirja", "Esityslista", "Viranhaltijapäätös", "• ", "- ", "#", ":",
    "(", ")", "", " ", "\t", "\f", "Ɵ", "ﬁ", "Ã¤",
)
_NOISE = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=25)
LINES = st.lists(st.one_of(st.sampled_from(PIECES), _NOISE), max_size=40).map("\n".join)
GLUED = st.lists(st.one_of(st.sampled_from(PIECES), st.sampled_from(("\n", " ", "\n\n")), _NOISE),
                 max_size=40).map("".join)


def _dev_texts() -> list[str]:
    return [repaired_text(read_document(p))[0] for p in sorted(DEV.glob("*.txt"))]


DEV_TEXTS = _dev_texts()


@st.composite
def cut_dev(draw: st.DrawFn) -> str:
    """A slice of a dev document with a piece spliced in: real structure, broken in a new place."""
    text = draw(st.sampled_from(DEV_TEXTS))
    a = draw(st.integers(0, len(text)))
    b = draw(st.integers(a, len(text)))
    at = draw(st.integers(0, b - a))
    piece = draw(st.one_of(st.sampled_from(PIECES), _NOISE))
    cut = text[a:b]
    return cut[:at] + piece + cut[at:]


TEXTS = st.one_of(st.text(), LINES, GLUED, cut_dev())
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _inside(text: str, start: int, end: int) -> bool:
    return 0 <= start <= end <= len(text)


@SETTINGS
@given(TEXTS)
def test_headings(text: str) -> None:
    for h in headings.find(make_doc(text)):
        assert _inside(text, h.start, h.end) and h.end <= h.line_end <= len(text)
        assert h.start <= h.remainder_start <= h.line_end
        assert "\n" not in text[h.start:h.line_end]
        m = h.mention(text)
        assert text[m.start:m.end] == m.text


@SETTINGS
@given(TEXTS)
def test_candidates(text: str) -> None:
    for c in candidates.find(Lines(text)):
        assert _inside(text, c.start, c.end)
        assert c.start <= c.section_start < c.section_end <= c.end
        assert int(text[c.section_start:c.section_end]) == c.section
        assert "\n" not in text[c.start:c.end]
        for value, at in ((c.body, c.body_start), (c.date, c.date_start), (c.title, c.title_start), (c.tail, c.tail_start)):
            if value is not None:
                assert text[at:at + len(value)] == value
        m = c.mention(text)
        assert text[m.start:m.end] == m.text


@SETTINGS
@given(TEXTS, st.integers(0, 10_000))
def test_people(text: str, offset: int) -> None:
    for line in text.split("\n"):
        for p in people.names_in_line(line, offset):
            assert line[p.start - offset:p.end - offset] == p.name
        people.looks_like_person_line(line)
        role = people.role_of(line)
        assert role is None or role in line
    found, mentions = people.people(text, offset, "person", "test.people")
    for p in found:  # a name wrapped over a line break is read with a space for the break
        assert text[p.start - offset:p.end - offset].replace("\n", " ") == p.name
    assert [m.text for m in mentions] == [text[p.start - offset:p.end - offset] for p in found]
    assert [m.value for m in mentions] == [p.name for p in found]
    for word in text.split():
        assert isinstance(people.nominative(word), str)


@SETTINGS
@given(TEXTS)
def test_bodies(text: str) -> None:
    known = bodies.body_names(text)
    assert all(name in text for name in known)
    first = bodies.first_body(text)
    if first:
        name, start, end = first
        assert _inside(text, start, end) and text[start:end].lower() == name.lower()
    organization, mention = bodies.organization(text)
    assert (organization is None) == (mention is None)
    if mention:
        assert _inside(text, mention.start, mention.end) and text[mention.start:mention.end] == mention.text
    for word in set(text.split()):
        assert bodies.expand(word, known) in {word, *known}
        bodies.is_body(word)


@SETTINGS
@given(TEXTS)
def test_meetings(text: str) -> None:
    for label, rule_id, start, content, stop in meetings.blocks(text, 0, len(text)):
        assert 0 <= start <= content <= stop <= len(text)
        assert rule_id.startswith("meetings.")
    for p in meetings.people_in(text, 0, len(text)):
        assert text[p.start:p.end] == p.name
    cover = meetings.parse_cover(text, 0, len(text), [])
    for found in cover.mentions.values():
        for m in found:
            assert _inside(text, m.start, m.end) and text[m.start:m.end] == m.text
    value, mention = meetings.number(text, len(text))
    if mention:
        assert text[mention.start:mention.end] == mention.text == value


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXTS)
def test_extract_end_to_end(text: str) -> None:
    ex = extract(text)
    assert ex.doc_type in {"minutes", "agenda", "officer_decision", "other"}
    for d in ex.decisions:
        assert _inside(text, d["char_start"], d["char_end"])
    for m in ex.mentions:
        assert _inside(text, m["char_start"], m["char_end"]), m
        if m["text"] is not None:
            assert text[m["char_start"]:m["char_end"]] == m["text"], m
    for v in ex.votes:  # "where the voter's name stands"
        assert text.startswith(v["voter"], v["char_start"]), v
    ordinals = {d["ordinal"] for d in ex.decisions}
    assert {m["decision_ordinal"] for m in ex.mentions if m["decision_ordinal"] is not None} <= ordinals


@pytest.mark.parametrize("text", DEV_TEXTS[:3], ids=["dev-a", "dev-b", "dev-c"])
def test_extract_spans_hold_on_whole_documents(text: str) -> None:
    """The same invariants on whole documents, where every extractor finds something."""
    ex = extract(text)
    assert ex.decisions and ex.mentions
    for m in ex.mentions:
        assert text[m["char_start"]:m["char_end"]] == m["text"]


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), GLUED, st.from_regex(r"(puh\. )?(\+358|0)[1-9]{1,2}[ -]?\d{3}[ -]?\d{3,4}")))
def test_redact_is_idempotent_and_total(text: str) -> None:
    once = redact(text)
    assert redact(once) == once
