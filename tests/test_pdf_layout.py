"""PDF reading with layout: running headers/footers, label columns, bold headings, both engines.

Real dev PDFs from tests/fixtures/corpus/dev (gold JSON beside each). Each document is read
once per engine per test session.
"""
from __future__ import annotations

import io
import json
import re
from functools import cache
from pathlib import Path

import pdfplumber
import pytest
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from pipeline import layout
from pipeline.errors import ReadError
from pipeline.read import ENGINES, read_document
from pipeline.read import pdf as pdf_reader
from pipeline.read.pdf import read_pdf
from pipeline.repair import repair

DEV = Path(__file__).parent / "fixtures" / "corpus" / "dev"
PDFS = sorted(p.name for p in DEV.glob("*.pdf"))
DEV13 = "dev13_pdf_kh_full_labelcolumn.pdf"
DEV14 = "dev14_pdf_kv_full_ligatures_history.pdf"
DEV16 = "dev16_pdf_aluehallitus_full_dynasty.pdf"
_WS = re.compile(r"\s+")


def collapse(text: str) -> str:
    return _WS.sub(" ", text).strip()


@cache
def pages_of(name: str, engine: str) -> tuple[str, ...]:
    pages, warnings = read_pdf((DEV / name).read_bytes(), engine)
    assert warnings == []
    return tuple(p.text for p in pages)


def repaired(name: str, engine: str) -> str:
    return collapse(repair("\n".join(pages_of(name, engine)))[0])


def gold(name: str) -> dict:
    return json.loads((DEV / name.replace(".pdf", ".gold.json")).read_text(encoding="utf-8"))


def test_dev_pdfs_are_there() -> None:
    assert len(PDFS) == 8


# --------------------------------------------------------------------------- headers/footers

CHROME = {
    # name: (header patterns gone from pages 2..n, footer patterns gone from every page);
    # patterns are regular expressions over the lines of the page text
    DEV13: ([r"PÖYTÄKIRJA 9/2025", r"^Kaupunginhallitus 15\.09\.2025$"],
            [r"Pöytäkirjantarkastajien nimikirjaimet", r"Otteen oikeaksi todistaa"]),
    DEV14: ([r"^SONKAJÄRVEN KUNTA Kunnanvaltuusto", r"Sivu \d+/9", r"^Pöytäkirja 4/2024$"],
            [r"Pöytäkirjantarkastajat: ________", r"Sonkajärven kunta, RutakonƟe 9"]),
    # "Aluehallitus 09.12.2024 § 301" is a history line of the body, the header is the bare date line
    DEV16: ([r"^Etelä-Savon hyvinvointialue Pöytäkirja", r"^Aluehallitus 09\.12\.2024$"],
            [r"Etelä-Savon hyvinvointialue · Aluehallitus"]),
}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", sorted(CHROME))
def test_running_header_and_footer_removed(name: str, engine: str) -> None:
    headers, footers = CHROME[name]
    pages = pages_of(name, engine)
    for number, text in enumerate(pages, start=1):
        for footer in footers:
            assert not re.search(footer, text, re.M), f"footer {footer!r} left on page {number}"
        if number > 1:
            for header in headers:
                assert not re.search(header, text, re.M), f"header {header!r} left on page {number}"
            assert not re.search(r"^\d+ \(\d+\)$", text, re.M)
    for header in headers:  # the patterns do match the header where it is kept
        assert re.search(header, pages[0], re.M)


@pytest.mark.parametrize("engine", ENGINES)
def test_first_page_keeps_its_header(engine: str) -> None:
    lines = pages_of(DEV13, engine)[0].split("\n")
    assert lines[:2] == ["SAARIJÄRVEN KAUPUNKI PÖYTÄKIRJA 9/2025 1 (8)", "Kaupunginhallitus 15.09.2025"]
    first16 = pages_of(DEV16, engine)[0]
    assert first16.startswith("Etelä-Savon hyvinvointialue Pöytäkirja 16/2024 1 (9)\nAluehallitus 09.12.2024")


@pytest.mark.parametrize("engine", ENGINES)
def test_body_line_in_the_top_band_is_kept(engine: str) -> None:
    # "§ 182 ..." sits at y≈100, inside the header band, but does not repeat.
    assert pages_of(DEV13, engine)[2].startswith("§ 182 Talousarvion toteutuminen tammi-elokuussa 2025\n")


def _synthetic_line(text: str, top: float, page: int) -> layout.Line:
    words, x = [], 50.0
    for token in text.split():
        words.append(layout.Word(token, x, x + 6 * len(token), top, top + 10, False, 10))
        x += 6 * len(token) + 3
    return layout.line_of(words, page)


def test_header_first_seen_on_page_two_is_kept_there_only() -> None:
    pages = [layout.PageLines(1, 842, [_synthetic_line("Kansilehti", 100, 1), _synthetic_line("Kokous 1", 400, 1)])]
    for n in range(2, 6):
        pages.append(layout.PageLines(n, 842, [
            _synthetic_line(f"KUNTA PÖYTÄKIRJA 2/2025 {n} (5)", 40, n),
            _synthetic_line(f"Asia {n}", 400, n),
            _synthetic_line("Tarkastajat ____ ____", 800, n),
        ]))
    texts = [layout.render_page(lines, []) for lines in layout.drop_chrome(pages)]
    assert texts[0] == "Kansilehti\n\nKokous 1"
    assert texts[1] == "KUNTA PÖYTÄKIRJA 2/2025 2 (5)\n\nAsia 2"
    assert texts[2:] == ["Asia 3", "Asia 4", "Asia 5"]


def test_repeated_body_line_below_the_body_is_kept() -> None:
    """Two items start at the top of a page at the same height: their "Dnro" rows repeat there, but
    they sit below a line of the body, so they are not chrome."""
    pages = []
    for n, first in ((1, "§ 203 Talousarvion muutos"), (2, None), (3, "§ 206 Tontin myynti")):
        lines = [_synthetic_line(f"KUNTA PÖYTÄKIRJA 2/2025 {n} (3)", 40, n)]
        if first:
            lines += [_synthetic_line(first, 95, n), _synthetic_line(f"Dnro {n}2/02.02.02/2025", 110, n)]
        lines += [_synthetic_line(f"Asia {n}", 400, n), _synthetic_line("Tarkastajat ____ ____", 800, n)]
        pages.append(layout.PageLines(n, 842, lines))
    texts = [layout.render_page(lines, []) for lines in layout.drop_chrome(pages)]
    assert texts[0] == "KUNTA PÖYTÄKIRJA 2/2025 1 (3)\n\n§ 203 Talousarvion muutos\nDnro 12/02.02.02/2025\n\nAsia 1"
    assert texts[1] == "Asia 2"
    assert texts[2] == "§ 206 Tontin myynti\nDnro 32/02.02.02/2025\n\nAsia 3"


def test_item_lines_at_the_same_place_on_every_page_are_kept() -> None:
    """Each page starts an item at the same height, in the header band: digits masked, the "§ N" lines
    repeat like a running header, but a § line is content unless it repeats exactly."""
    pages = []
    for n in range(1, 5):
        pages.append(layout.PageLines(n, 842, [
            _synthetic_line(f"KUNTA PÖYTÄKIRJA 2/2025 {n} (4)", 40, n),
            _synthetic_line(f"§ {n + 20} Asia numero {n + 20}", 70, n),
            _synthetic_line(f"Teksti {n}", 400, n),
        ]))
    texts = [layout.render_page(lines, []) for lines in layout.drop_chrome(pages)]
    for n, text in enumerate(texts, start=1):
        assert f"§ {n + 20} Asia numero {n + 20}" in text
    assert all("PÖYTÄKIRJA 2/2025" not in t for t in texts[1:])


def test_a_heading_that_starts_the_body_on_every_page_is_kept() -> None:
    """A proposal heading at the top of each page's text, below the running header and a gap: body."""
    pages = []
    for n in range(1, 5):
        pages.append(layout.PageLines(n, 842, [
            _synthetic_line(f"TURUN KAUPUNKI ESITYSLISTA 7/2021 {n} (4)", 35, n),
            _synthetic_line("Vapaa-aikalautakunta 04.10.2021", 49, n),
            _synthetic_line("Vapaa-aikajohtajan ehdotus", 94, n),
            _synthetic_line(f"Lautakunta päättää asiasta {n}.", 110, n),
        ]))
    texts = [layout.render_page(lines, []) for lines in layout.drop_chrome(pages)]
    assert all("Vapaa-aikajohtajan ehdotus" in t for t in texts)
    assert all("ESITYSLISTA" not in t for t in texts[1:])


def _band_texts(page: pdfplumber.page.Page, top: float, bottom: float) -> tuple[list[str], list[str]]:
    head = page.crop((0, 0, page.width, top)).extract_text() or ""
    foot = page.crop((0, page.height - bottom, page.width, page.height)).extract_text() or ""
    return [collapse(t) for t in head.split("\n") if t.strip()], [collapse(t) for t in foot.split("\n") if t.strip()]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", PDFS)
def test_generator_bands_match_detected_chrome(name: str, engine: str) -> None:
    """Independent check with the generator's own bands (84 pt top, 64 pt bottom, see README):
    every footer line is gone, header lines are gone after the first page and kept on it."""
    texts = [collapse(t) for t in pages_of(name, engine)]
    lines = [{collapse(ln) for ln in t.split("\n")} for t in pages_of(name, engine)]
    with pdfplumber.open(DEV / name) as pdf:
        for number, page in enumerate(pdf.pages, start=1):
            heads, feet = _band_texts(page, 84, 64)
            page.close()
            assert heads and feet
            for foot in feet:
                assert foot not in texts[number - 1]
            if number == 1:
                assert all(h in texts[0] or re.fullmatch(r"[\d ()/]+", h) for h in heads)
            else:
                assert " ".join(heads) not in texts[number - 1]
                assert not lines[number - 1] & set(heads)


# --------------------------------------------------------------------------- label column


@pytest.mark.parametrize("engine", ENGINES)
def test_label_column_label_on_its_own_line(engine: str) -> None:
    page2 = pages_of(DEV13, engine)[1]
    assert ("\nPäätösehdotus\nKaupunginhallitus toteaa kokouksen laillisesti koolle kutsutuksi ja päätösvaltai-\n"
            "seksi.\n") in page2
    assert "\nPäätös\nHyväksyttiin.\n" in page2
    assert "\nEsittelijä\npuheenjohtaja Hannu Kivimäki\n" in page2


@pytest.mark.parametrize("engine", ENGINES)
def test_label_row_of_bold_heading_stays_one_line(engine: str) -> None:
    assert "\n§ 181 Pöytäkirjan tarkastajien valinta\n" in pages_of(DEV13, engine)[1]
    assert "41 § Kokouksen laillisuus, päätösvaltaisuus ja pöytäkirjan tarkastus" in \
        pages_of("dev15_pdf_lautakunta_full_labelcolumn.pdf", engine)[1].split("\n")


@pytest.mark.parametrize("engine", ENGINES)
def test_two_column_tables_are_not_label_columns(engine: str) -> None:
    assert "Kari Hyvönen, puheenjohtaja Seija Räsänen" in pages_of(DEV14, engine)[0].split("\n")
    assert "Rautiainen Heikki puheenjohtaja" in pages_of(DEV16, engine)[0].split("\n")


def test_label_columns_found_from_geometry() -> None:
    found = {}
    for name in PDFS:
        raw = pdf_reader._raw_pages((DEV / name).read_bytes(), "pdfplumber")
        pages = [layout.PageLines(n, h, layout.lines_from_chars(c, n)) for n, (_, h, c) in enumerate(raw, start=1)]
        found[name] = [(round(a), round(b)) for a, b in layout.find_label_columns(layout.drop_chrome(pages))]
    assert found[DEV13] == [(50, 168)]
    assert found["dev15_pdf_lautakunta_full_labelcolumn.pdf"] == [(54, 158)]
    assert found[DEV14] == [] and found[DEV16] == []


# --------------------------------------------------------------------------- gold text


@pytest.mark.parametrize("engine", ENGINES)
def test_dev13_gold_proposal_found_verbatim(engine: str) -> None:
    text = repaired(DEV13, engine)
    proposals = [d["proposal"] for d in gold(DEV13)["decisions"] if d["proposal"]]
    longest = max(proposals, key=len)
    assert collapse(longest) in text
    for proposal in proposals:
        assert collapse(proposal) in text


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", PDFS)
def test_gold_fields_found_verbatim(name: str, engine: str) -> None:
    """Proposals, decisions, titles and diary ids survive, also those split by a page break."""
    text = repaired(name, engine)
    for d in gold(name)["decisions"]:
        for key in ("proposal", "decision", "title", "diary_id"):
            if d[key]:
                assert collapse(d[key]) in text, f"{key} of § {d['section']}"


@pytest.mark.parametrize("engine", ENGINES)
def test_line_end_hyphen_stays_before_newline(engine: str) -> None:
    page3 = pages_of(DEV13, engine)[2]
    assert "käyttötalou-\nden, investointien" in page3
    assert "\ufffe" not in page3 and "\x02" not in page3


@pytest.mark.parametrize("name", PDFS)
def test_engines_agree(name: str) -> None:
    plumber = [collapse(t) for t in pages_of(name, "pdfplumber")]
    pdfium = [collapse(t) for t in pages_of(name, "pypdfium2")]
    assert plumber == pdfium


# --------------------------------------------------------------------------- items across pages

_NOSPACE = re.compile(r"[\s\-\u00ad]")


def _squeeze(text: str) -> str:
    """Without white space and hyphens: a string found across line breaks and line-end hyphens."""
    return _NOSPACE.sub("", text)


@pytest.mark.parametrize("engine", ENGINES)
def test_items_across_pages_have_their_pages(engine: str) -> None:
    """page_start/page_end of a decision and `page` of its mentions, for items that run across a
    page break; the expected pages come from pdfplumber's own page texts, not from our reader."""
    from pipeline.run import process_document

    with pdfplumber.open(DEV / DEV13) as pdf:
        plain = [_squeeze(page.extract_text() or "") for page in pdf.pages]

    def pages_with(needle: str, start: int = 1) -> list[int]:
        return [n for n, text in enumerate(plain, start=1) if n >= start and _squeeze(needle) in text]

    result = process_document(DEV / DEV13, DEV, engine)
    rows = {d["section"]: d for d in result.rows["decisions"]}
    mentions = {(m["decision_ordinal"], m["field"]): m for m in result.rows["mentions"]}
    crossing = 0
    for g in gold(DEV13)["decisions"]:
        if g["section"] not in (183, 184, 186):  # § 183 and § 186 end on the next page, § 184's proposal spans two
            continue
        proposal_first = pages_with(g["proposal"][:40])[0]
        heading = max(n for n in pages_with(g["title"][:40]) if n <= proposal_first)  # not the agenda's line
        proposal_last = pages_with(g["proposal"][-40:], proposal_first)[0]
        decision = pages_with(g["decision"], proposal_last)[0]
        row = rows[g["section"]]
        assert (row["page_start"], row["page_end"]) == (heading, decision), f"§ {g['section']}"
        ordinal = row["ordinal"]
        assert mentions[(ordinal, "title")]["page"] == heading
        assert mentions[(ordinal, "proposal")]["page"] == proposal_first
        assert mentions[(ordinal, "decision")]["page"] == decision
        crossing += row["page_start"] != row["page_end"]
    assert crossing == 3


# --------------------------------------------------------------------------- bold headings


def _word(text: str, x0: float, bold: bool) -> layout.Word:
    return layout.Word(text, x0, x0 + 6 * len(text), 100, 110, bold, 10)


def test_bold_run_after_column_gap_starts_a_line() -> None:
    words = (_word("Kunnanhallitus", 50, False), _word("PÖYTÄKIRJA", 300, True), _word("5/2025", 366, True))
    text = layout.render_page([layout.line_of(words, 1)], [])
    assert text == "Kunnanhallitus\nPÖYTÄKIRJA 5/2025"


def test_bold_prefix_glued_to_text_is_split() -> None:
    chars = [layout.Char(ch, 50 + 5 * i, 55 + 5 * i, 100, 110, i < 7, 10) for i, ch in enumerate("EhdotusKaupunki")]
    (line,) = layout.lines_from_chars(chars, 1)
    assert [(w.text, w.bold) for w in line.words] == [("Ehdotus", True), ("Kaupunki", False)]


@pytest.mark.parametrize("engine", ENGINES)
def test_bold_lines_are_lines_of_their_own(engine: str) -> None:
    raw = pdf_reader._raw_pages((DEV / DEV16).read_bytes(), engine)
    pages = [layout.PageLines(n, h, layout.lines_from_chars(c, n)) for n, (_, h, c) in enumerate(raw, start=1)]
    texts = pages_of(DEV16, engine)
    bold = [(ln.page, ln.text) for body in layout.drop_chrome(pages) for ln in body if ln.bold]
    assert ("Päätösehdotus Hyvinvointialuejohtaja Lindqvist Johanna") in [t for _, t in bold]
    for number, text in bold:
        assert text in texts[number - 1].split("\n")


# --------------------------------------------------------------------------- single page, errors


def _one_page_pdf(**kwargs: object) -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, **kwargs)
    c.setFont("Helvetica-Bold", 10)
    c.drawString(50, 800, "TESTIKUNTA PÖYTÄKIRJA 1/2025")
    c.setFont("Helvetica", 10)
    c.drawString(500, 800, "1 (1)")
    c.drawString(50, 700, "Kunnanhallitus hyväksyi asian.")
    c.showPage()
    c.save()
    return buf.getvalue()


@pytest.mark.parametrize("engine", ENGINES)
def test_single_page_keeps_lines_but_drops_lone_page_number(engine: str) -> None:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.setFont("Helvetica", 10)
    c.drawString(50, 800, "Testikunta")
    c.drawString(500, 815, "1 (1)")
    c.drawString(50, 700, "Kunnanhallitus hyväksyi asian.")
    c.showPage()
    c.save()
    pages, _ = read_pdf(buf.getvalue(), engine)
    assert pages[0].text == "Testikunta\n\nKunnanhallitus hyväksyi asian."
    pages, _ = read_pdf(_one_page_pdf(), engine)
    assert pages[0].text.startswith("TESTIKUNTA PÖYTÄKIRJA 1/2025")


def _pdf_with_plane16_ligature() -> bytes:
    """One line "BAB" whose ToUnicode maps "A" to U+10019F, as Word does for Calibri's "ti"."""
    cmap = (b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CMapName /X def\n"
            b"1 begincodespacerange <00> <FF> endcodespacerange\n"
            b"2 beginbfchar <41> <DBC0DD9F> <42> <0042> endbfchar\n"
            b"endcmap CMapName currentdict /CMap defineresource pop end end")
    content = b"BT /F1 12 Tf 72 700 Td (BAB) Tj ET"
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /CropBox [0 100 595 742] /Contents 4 0 R"
            b" /Resources << /Font << /F1 5 0 R >> >> >>",
            b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /ToUnicode 6 0 R >>",
            b"<< /Length %d >>\nstream\n%s\nendstream" % (len(cmap), cmap)]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, obj in enumerate(objs, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, obj)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


def test_plane16_ligature_and_crop_box_same_in_both_engines() -> None:
    data = _pdf_with_plane16_ligature()
    raws = {e: pdf_reader._raw_pages(data, e)[0] for e in ENGINES}
    for engine in ENGINES:
        pages, _ = read_pdf(data, engine)
        assert pages[0].text == "B\U0010019fB"  # the repair step maps it to "ti"
    tops = {e: round(min(c.top for c in chars), 1) for e, (_, _, chars) in raws.items()}
    # both measure from the media box (the crop box would shift one by 100 pt); the fonts'
    # descent values differ a little for a non-embedded Helvetica
    assert abs(tops["pdfplumber"] - tops["pypdfium2"]) < 0.5


@pytest.mark.parametrize("engine", ENGINES)
def test_encrypted_pdf_names_the_password(engine: str) -> None:
    with pytest.raises(ReadError, match="password"):
        read_pdf(_one_page_pdf(encrypt="pw"), engine)


@pytest.mark.parametrize("engine", ENGINES)
def test_truncated_pdf(engine: str) -> None:
    data = (DEV / DEV13).read_bytes()
    with pytest.raises(ReadError, match="truncated"):
        read_pdf(data[: len(data) // 2], engine)


@pytest.mark.parametrize("engine", ENGINES)
def test_not_a_pdf(engine: str) -> None:
    with pytest.raises(ReadError, match="not a PDF"):
        read_pdf(b"<!DOCTYPE html><html><body>Sivua ei loytynyt</body></html>", engine)


@pytest.mark.parametrize("engine", ENGINES)
def test_damaged_pdf(engine: str) -> None:
    with pytest.raises(ReadError, match="cannot be parsed|truncated"):
        read_pdf(b"%PDF-1.7\n" + bytes(range(256)) * 8 + b"\n%%EOF\n", engine)


def test_unknown_engine() -> None:
    with pytest.raises(ReadError, match="unknown PDF engine"):
        read_pdf(_one_page_pdf(), "pymupdf")


@pytest.mark.parametrize("engine", ENGINES)
def test_read_document_uses_the_engine(engine: str) -> None:
    doc = read_document(DEV / DEV13, engine=engine)
    assert doc.engine == engine and len(doc.pages) == 8
    assert doc.pages[1].text == pages_of(DEV13, engine)[1]
