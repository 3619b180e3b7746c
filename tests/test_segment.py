"""Whole-document segmentation: the same line is an item, an earlier handling, a contents entry or
a reference depending on the document around it (extractors/segment.py, extractors/context.py)."""
from __future__ import annotations

import pytest

from extractors import extract
from extractors.context import read as read_context
from extractors.lines import Lines
from extractors.nlp import make_doc
from extractors.segment import segment

COVER = """TEKNINEN LAUTAKUNTA
PÖYTÄKIRJA 3/2025

Kokousaika   3.3.2025 klo 17.00–18.30
Paikka       Kunnantalo
{range}
"""

ITEM = """{line}
{title}

Päätösehdotus
Tekninen lautakunta päättää hyväksyä {what}.

Päätös
Hyväksyttiin.
"""


def _rows(text: str) -> list[dict]:
    return sorted(extract(text).decisions, key=lambda d: d["ordinal"])


def test_a_line_naming_the_meetings_own_body_and_date_opens_an_item() -> None:
    items = "\n".join(ITEM.format(line=f"Tekninen lautakunta § {n} 03.03.2025", title=f"Asia numero {n}",
                                  what=f"asian {n}") for n in (12, 13, 14))
    rows = _rows(COVER.format(range="") + "\n" + items)
    assert [(r["section"], r["current"], r["title"]) for r in rows] == [
        (12, True, "Asia numero 12"), (13, True, "Asia numero 13"), (14, True, "Asia numero 14")]
    assert {r["body"] for r in rows} == {"Tekninen lautakunta"}


def test_the_same_line_names_an_earlier_handling_in_an_extract() -> None:
    text = """KUNNANHALLITUS
PÖYTÄKIRJAOTE
Kunnanhallitus 12.3.2025

Kunnanhallitus § 45 12.3.2025
Katuvalaistuksen saneeraus

Aikaisempi käsittely

Tekninen lautakunta § 12 3.3.2025

Päätösehdotus
Tekninen lautakunta esittää kunnanhallitukselle, että se hyväksyy saneerauksen.

Päätös
Hyväksyttiin.

Kunnanhallitus 12.3.2025 § 45

Päätösehdotus
Kunnanhallitus hyväksyy saneerauksen.

Päätös
Hyväksyttiin yksimielisesti.
"""
    rows = _rows(text)
    assert [(r["section"], r["body"], str(r["meeting_date"]), r["current"]) for r in rows] == [
        (12, "Tekninen lautakunta", "2025-03-03", False), (45, "Kunnanhallitus", "2025-03-12", True)]
    assert {r["title"] for r in rows} == {"Katuvalaistuksen saneeraus"}


@pytest.mark.parametrize(("line", "title"), [
    ("KVALT {n} §", "Asia {n}"),
    ("KH {n} ASIA {n}", None),
    ("{n} § ASIA {n}", None),
    ("Pöytäkirja 03.03.2025/Pykälä {n}", "Asia {n}"),
])
def test_item_line_forms(line: str, title: str | None) -> None:
    body = "\n".join(
        (line.format(n=n) + ("\n" + title.format(n=n) if title else "")) +
        f"\n\nEhdotus:\nHyväksytään asia {n}.\n\nPäätös:\nHyväksyttiin.\n" for n in (21, 22, 23))
    rows = _rows("KUNNANVALTUUSTO\nPÖYTÄKIRJA 3/2025\nAika 3.3.2025 klo 18\n\n" + body)
    assert [r["section"] for r in rows] == [21, 22, 23]
    assert [r["title"].upper() for r in rows] == ["ASIA 21", "ASIA 22", "ASIA 23"]


def test_a_contents_list_with_wrapped_titles_gives_no_items() -> None:
    text = COVER.format(range="Käsitellyt asiat 12–13 §") + """
ASIALUETTELO
§ 12 Katuvalaistuksen saneeraus ja
     liikenneturvallisuus
§ 13 Hulevesimaksun määrääminen

""" + ITEM.format(line="§ 12", title="Katuvalaistuksen saneeraus ja\nliikenneturvallisuus", what="saneerauksen") + \
        "\n" + ITEM.format(line="§ 13", title="Hulevesimaksun määrääminen", what="maksun")
    rows = _rows(text)
    assert [(r["section"], r["title"]) for r in rows] == [
        (12, "Katuvalaistuksen saneeraus ja liikenneturvallisuus"), (13, "Hulevesimaksun määrääminen")]


def test_a_wrapped_contents_title_that_looks_like_an_item_line_stays_a_title() -> None:
    # "OY 3" reads like "KH 3" (a body's abbreviation and a number), but a contents list keeps to one form.
    text = COVER.format(range="") + """
ASIALUETTELO
§ 12 TONTIN MYYNTI YRITYSALUEELTA, PUUTUOTE NYBERG
OY 3
§ 13 HULEVESIMAKSUN MÄÄRÄÄMINEN 4

""" + ITEM.format(line="TEKLTK 12 §", title="TONTIN MYYNTI YRITYSALUEELTA, PUUTUOTE\nNYBERG OY", what="myynnin") + \
        "\n" + ITEM.format(line="TEKLTK 13 §", title="HULEVESIMAKSUN MÄÄRÄÄMINEN", what="maksun")
    rows = _rows(text)
    assert [(r["section"], r["title"]) for r in rows] == [
        (12, "TONTIN MYYNTI YRITYSALUEELTA, PUUTUOTE NYBERG OY"), (13, "HULEVESIMAKSUN MÄÄRÄÄMINEN")]


def test_one_word_in_capitals_is_an_item_only_where_the_document_says_so() -> None:
    item = """{n} {title}

Puheenjohtajan ehdotus
Merkitään {what} tiedoksi.

Päätös
Hyväksyttiin.
"""
    body = "\n".join(item.format(n=n, title=t, what=w) for n, t, w in (
        (131, "KOULUKULJETUSPERIAATTEET LUKUVUODELLE 2007", "periaatteet"), (132, "ILMOITUSASIAT", "ilmoitusasiat")))
    rows = _rows(COVER.format(range="ASIAT 131 - 132") + "\n" + body)
    assert [(r["section"], r["title"]) for r in rows] == [
        (131, "KOULUKULJETUSPERIAATTEET LUKUVUODELLE 2007"), (132, "ILMOITUSASIAT")]
    # Without a range or a contents list naming it, "1 JOHDANTO" in an item's text is a chapter heading.
    text = COVER.format(range="") + "\n" + ITEM.format(line="§ 12", title="Selvitys", what="selvityksen") + \
        "\n1 JOHDANTO\n\nSelvitys käsittelee koulukuljetuksia.\n"
    assert [r["section"] for r in _rows(text)] == [12]


def test_the_header_block_above_the_sign_line_belongs_to_its_item() -> None:
    text = COVER.format(range="") + """
Pöytäkirja 03.03.2025/Pykälä 58
812/05.01.00/2025
Kunnanhallitus 10.2.2025 § 31

§ 58
Suun terveydenhuollon toimipisteet

Päätösehdotus
Tekninen lautakunta hyväksyy yhdistämisen.

Päätös
Hyväksyttiin.
"""
    rows = _rows(text)
    assert [(r["section"], r["diary_id"], r["title"]) for r in rows] == [(58, "812/05.01.00/2025", "Suun terveydenhuollon toimipisteet")]


def test_an_item_without_headings_keeps_its_row() -> None:
    text = COVER.format(range="") + """
§ 7 Tiedoksi merkittävät asiat
Dnro 55/2025

Ilmoitusasioina esitellään toimielimelle saapuneet kirjeet.
"""
    rows = _rows(text)
    assert [(r["section"], r["title"], r["diary_id"], r["proposal"], r["decision"], r["outcome"]) for r in rows] == [
        (7, "Tiedoksi merkittävät asiat", "55/2025", None, None, "UNKNOWN")]


def test_a_decision_stated_in_a_sentence_is_read() -> None:
    text = COVER.format(range="") + """
§ 8 Tien kunnossapito

Kaupunginjohtajan ehdotus:
Tekninen lautakunta hyväksyy kunnossapitosopimuksen.

Tekninen lautakunta päätti hyväksyä ehdotuksen.
"""
    rows = _rows(text)
    assert (rows[0]["decision"], rows[0]["outcome"]) == ("Tekninen lautakunta päätti hyväksyä ehdotuksen.", "PASSED")


def test_statutes_and_cross_references_are_never_items() -> None:
    text = COVER.format(range="") + ITEM.format(line="§ 30", title="Hallintosäännön muutos", what="muutoksen") + """
Kuntalain 136 §
§ 5 mom. mukaiseen toimivaltaan.
Lautakunta käsitteli asiaa 12.2.2025
§ 17. Asiasta päätettiin silloin toisin.
"""
    assert [r["section"] for r in _rows(text)] == [30]


def test_the_meeting_date_is_the_labelled_one_not_the_first() -> None:
    text = """TEKNINEN LAUTAKUNTA
Kokouskutsu lähetetty 24.2.2025
PÖYTÄKIRJA 3/2025
Kokousaika 3.3.2025 klo 17.00
"""
    ctx = read_context(Lines(text), len(Lines(text)))
    assert (str(ctx.date), ctx.date_labelled, ctx.number, ctx.body) == ("2025-03-03", True, "3/2025", "Tekninen lautakunta")


@pytest.mark.parametrize(("line", "first", "last"), [
    ("§:t 201 - 214", 201, 214), ("§ 12–23", 12, 23), ("Käsitellyt asiat 12–23 §", 12, 23),
    ("ASIAT 292 - 311", 292, 311), ("pykälät 7-15", 7, 15), ("Asiat § 30 - 36", 30, 36), ("§ 81 94", 81, 94),
])
def test_stated_section_ranges(line: str, first: int, last: int) -> None:
    text = f"KUNNANHALLITUS\nPÖYTÄKIRJA 1/2025\nAika 1.2.2025\n{line}\n"
    assert read_context(Lines(text), len(Lines(text))).range == (first, last)


def test_the_document_says_which_sections_it_misses() -> None:
    text = COVER.format(range="Käsitellyt asiat 12–14 §") + "\n" + "\n".join(
        ITEM.format(line=f"§ {n}", title=f"Asia {n}", what=f"asian {n}") for n in (12, 14))
    ex = extract(text)
    assert (ex.sections_stated, ex.sections_found) == ([12, 13, 14], [12, 14])
    assert any("§ 13 were not found" in w for w in ex.warnings)


@pytest.mark.parametrize(("head", "doc_type"), [
    ("KUNNANHALLITUS\nESITYSLISTA 3/2025", "agenda"),
    ("KUNNANHALLITUS\nPÖYTÄKIRJA 3/2025", "minutes"),
    ("KUNNANHALLITUS\nPÖYTÄKIRJAOTE", "minutes"),
    ("Kunta | Tiedote | 3.3.2025\nKunnanhallitus hyväksyi pöytäkirja-asiat", "other"),
])
def test_doc_type_from_the_letterhead_word(head: str, doc_type: str) -> None:
    text = head + "\nAika 3.3.2025\n\n" + ITEM.format(line="§ 5", title="Asia", what="asian")
    assert extract(text).doc_type == doc_type


def test_an_agendas_own_handlings_have_no_decision() -> None:
    text = "KUNNANHALLITUS\nESITYSLISTA 3/2025\nAika 3.3.2025\n\n§ 5\nAsia\n\nEhdotus\nHyväksytään.\n\nPäätös\n\n" \
           "Kokouskutsu on lähetetty ajoissa.\n"
    rows = _rows(text)
    assert (rows[0]["decision"], rows[0]["outcome"]) == (None, "UNKNOWN")


def test_segmentation_keeps_to_the_text() -> None:
    """Every item and handling lies inside the text, in order, and handlings inside their item."""
    text = COVER.format(range="Käsitellyt asiat 12–13 §") + "\n".join(
        ITEM.format(line=f"§ {n}", title=f"Asia {n}", what="asian") for n in (12, 13))
    seg = segment(make_doc(text))
    last = 0
    for item in seg.items:
        assert last <= item.start < item.end <= len(text)
        last = item.end
        for h in item.handlings:
            assert item.start <= h.start < h.end <= item.end


def test_what_follows_a_proposal_depends_on_where_the_story_was_told() -> None:
    """Without a description heading, a paragraph after the proposal is the story where none was told
    before it (Dynasty's order: Päätös first, the proposal and then the story last), and the proposal's
    own where the story came first."""
    story_after = COVER.format(range="") + """
§ 29
Hallintosäännön muuttaminen

Päätös
Hyväksyttiin.

Kunnanhallituksen ehdotus
Kunnanvaltuusto päättää hyväksyä hallintosäännön muutokset liitteen mukaisesti.

Hallintosääntöön esitetään muutoksia, jotka johtuvat toimielinrakenteen keventämisestä ja hankintarajoista.
"""
    story_before = COVER.format(range="") + """
§ 30
Vuokrien tarkistaminen

Kunta omistaa 164 vuokra-asuntoa, joista 96 on aravarajoitusten alaisia ja loput vapaarahoitteisia.

Päätösehdotus
Kunnanhallitus päättää korottaa vuokria 3,8 prosenttia liitteen mukaisesti.

Vuokrankorotuksesta ilmoitetaan vuokralaisille kirjallisesti viimeistään 30.11.2025.

Päätös
Hyväksyttiin.
"""
    assert _rows(story_after)[0]["proposal"] == \
        "Kunnanvaltuusto päättää hyväksyä hallintosäännön muutokset liitteen mukaisesti."
    assert _rows(story_before)[0]["proposal"].endswith("viimeistään 30.11.2025.")


def test_a_sentence_ending_a_short_line_ends_its_paragraph_without_a_blank_line() -> None:
    """A PDF whose paragraph spacing reads as no blank line: the decision's short last line ends it."""
    wrapped = "Kokouskutsu on lähetetty hallintosäännön määräämällä tavalla kaikille jäsenille ja varajäsenille\n" \
              "sekä tiedoksi muille, joilla on läsnäolo-oikeus. Toimielin on päätösvaltainen, kun enemmän kuin\n" \
              "puolet jäsenistä on läsnä kokouksessa, kuten kuntalain 103 § säätää toimielinten osalta yleisesti.\n"
    text = COVER.format(range="") + f"""
379 KOKOUKSEN LAILLISUUDEN JA PÄÄTÖSVALTAISUUDEN TOTEAMINEN

Esitys: Kaupunginhallitus toteaa kokouksen laillisesti koolle kutsutuksi ja päätösvaltaiseksi.

Päätös: Kokous todettiin lailliseksi ja päätösvaltaiseksi.
{wrapped}
380 PÖYTÄKIRJANTARKASTAJIEN VALINTA

Esitys: Kaupunginhallitus valitsee pöytäkirjantarkastajat.

Päätös: Pöytäkirjantarkastajiksi valittiin Liisa Laine ja Matti Mäki.
"""
    rows = _rows(text)
    assert rows[0]["decision"] == "Kokous todettiin lailliseksi ja päätösvaltaiseksi."


def test_a_preparer_whose_name_runs_over_the_line_break() -> None:
    text = COVER.format(range="") + """
§ 12
Tuloveroprosentti vuodelle 2020

Asian valmisteli taloussuunnittelija Leena Mustonen, puh. 050 213 6057 ja talousjohtaja Anu
Huttunen, puh. 050 865 6327

Päätösehdotus
Tekninen lautakunta päättää esittää tuloveroprosentiksi 20,50.

Päätös
Hyväksyttiin.
"""
    assert _rows(text)[0]["preparers"] == ["Leena Mustonen", "Anu Huttunen"]


def test_a_revised_proposal_announced_over_a_forced_break() -> None:
    text = COVER.format(range="") + """
§ 149
Koulun lakkauttaminen

Päätösehdotus
Tekninen lautakunta päättää lakkauttaa koulun.

Käsittely
Tekninen johtaja täydensi päätösehdotusta. Muutettu päätösehdotus

kuuluu seuraavasti:

Tekninen lautakunta päättää lakkauttaa koulun.

Kuljetusjärjestelyt tarkistetaan yhdessä huoltajien kanssa.

Päätös
Hyväksyttiin esittelijän muutetun ehdotuksen mukaisesti yksimielisesti.
"""
    row = _rows(text)[0]
    assert row["proposal"].endswith("Kuljetusjärjestelyt tarkistetaan yhdessä huoltajien kanssa.")
    assert row["outcome"] == "PASSED_REVISED"
