"""Running headers and footers of plain-text minutes, found by what repeats (pipeline/text_layout.py),
and pages joined where a word or a paragraph was cut by the page break (pipeline/document.py)."""
from __future__ import annotations

from pathlib import Path

from pipeline.document import repaired_text
from pipeline.read import Page, RawDocument
from pipeline.text_layout import LONG_LINE, drop_text_chrome, split_long_lines


def _pages(*bodies: str, header: str = "OUTOKUMMUN KAUPUNKI   PÖYTÄKIRJA 5/2024   {n} ({total})",
           feed: bool = False) -> str:
    total = len(bodies)
    out = []
    for n, body in enumerate(bodies, start=1):
        out.append(header.format(n=n, total=total) + "\n\n" + body + "\n")
    return ("\f" if feed else "\n").join(out)


def test_a_header_repeated_on_every_page_is_kept_once() -> None:
    text = _pages("Kunnanhallitus § 12\nAsia yksi\n\nPäätös\nHyväksyttiin.",
                  "Kunnanhallitus § 13\nAsia kaksi\n\nPäätös\nHyväksyttiin.",
                  "Kunnanhallitus § 14\nAsia kolme\n\nPäätös\nHyväksyttiin.")
    got = drop_text_chrome(text)
    assert got.count("OUTOKUMMUN KAUPUNKI") == 1
    assert got.startswith("OUTOKUMMUN KAUPUNKI   PÖYTÄKIRJA 5/2024   1 (3)")
    for n in (12, 13, 14):
        assert f"Kunnanhallitus § {n}" in got


def test_form_feeds_stay_page_breaks() -> None:
    text = _pages("Asia yksi.", "Asia kaksi.", feed=True)
    got = drop_text_chrome(text)
    assert got.count("\f") == 1
    assert "2 (2)" not in got


def test_a_paragraph_cut_by_the_page_break_is_joined() -> None:
    text = _pages("Kunnanhallitus päättää hyväksyä\n", "sopimuksen liitteen mukaisesti.\n", "Asia kolme.\n")
    got = drop_text_chrome(text)
    assert "Kunnanhallitus päättää hyväksyä\nsopimuksen liitteen mukaisesti." in got


def test_a_diary_number_is_no_page_number() -> None:
    # "8394/2008" reads like "page 8394 of 2008": a page is at most the page count (at most 999).
    text = "\n\n".join(f"Dnro 8394/2008\nAsia {n}\n\nPäätös\nHyväksyttiin." for n in range(3))
    assert drop_text_chrome(text) == text


def test_footer_words_page_numbers() -> None:
    text = _pages("Asia yksi.", "Asia kaksi.", "Asia kolme.", header="Sivu {n}/{total}")
    got = drop_text_chrome(text)
    assert "Sivu 2/3" not in got and "Sivu 3/3" not in got
    assert all(f"Asia {w}." in got for w in ("yksi", "kaksi", "kolme"))


def test_content_that_merely_looks_alike_stays() -> None:
    # Two handling lines differ in their digits: they are content, not a running header.
    text = _pages("Kh 1.2.2024 § 5\nAsia yksi.", "Kh 3.4.2024 § 9\nAsia kaksi.", "Kh 5.6.2024 § 11\nAsia kolme.")
    got = drop_text_chrome(text)
    for line in ("Kh 1.2.2024 § 5", "Kh 3.4.2024 § 9", "Kh 5.6.2024 § 11"):
        assert line in got


def test_a_page_on_one_line_is_cut_at_its_sentences() -> None:
    sentence = "Kunnanhallitus päätti hyväksyä asian. "
    line = sentence * (LONG_LINE // len(sentence) + 2)
    got = split_long_lines("Otsikko\n" + line)
    assert all(len(part) <= LONG_LINE for part in got.split("\n"))
    assert " ".join(got.split()) == " ".join(("Otsikko\n" + line).split())
    short = "Lyhyt rivi. Toinen lause."
    assert split_long_lines(short) == short


def _raw(*texts: str) -> RawDocument:
    return RawDocument(path=Path("x.pdf"), doc_id="x", size=0, engine="pdfplumber",
                       pages=[Page(number=n, text=t) for n, t in enumerate(texts, start=1)])


def test_a_word_hyphenated_across_the_page_break_is_joined() -> None:
    text, starts, counts = repaired_text(_raw("Kunnanhallitus päättää hyväksyä raken-", "nussuunnitelman."))
    assert "rakennussuunnitelman." in text
    assert counts["hyphenation"] >= 1
    assert len(starts) == 2 and text[starts[1]:].startswith("nussuunnitelman")


def test_pages_without_a_cut_word_join_with_a_newline() -> None:
    text, starts, _ = repaired_text(_raw("Päätös hyväksyttiin.", "Seuraava asia"))
    assert text == "Päätös hyväksyttiin.\nSeuraava asia"
    assert starts == [0, len("Päätös hyväksyttiin.\n")]


def test_a_footer_run_into_the_next_header_is_removed() -> None:
    text = ("SATAKUNNAN HYVINVOINTIALUE   PÖYTÄKIRJAOTE\n\nAluevaltuusto\n\nEhdotus: Aluevaltuusto päättää hyväksyä "
            "talousarvion.\n\nPöytäkirjantarkastajat ____________  ____________\n" + " " * 60 + "Sivu 125\n"
            "SATAKUNNAN HYVINVOINTIALUE   PÖYTÄKIRJAOTE\n\nPäätös: Hyväksyttiin.\n\n"
            "Pöytäkirjantarkastajat ____________  ____________\n" + " " * 60 + "Sivu 126\n")
    got = drop_text_chrome(text)
    assert "Sivu" not in got and "Pöytäkirjantarkastajat" not in got
    assert got.count("SATAKUNNAN HYVINVOINTIALUE") == 1
    assert "Ehdotus: Aluevaltuusto päättää hyväksyä talousarvion.\n\nPäätös: Hyväksyttiin." in got
