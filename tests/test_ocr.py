"""OCR fallback: an image-only minutes page read by tesseract (Finnish), and a clear `partial` without it."""
from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from pipeline.read import ENGINES, ocr, read_document
from pipeline.run import process_document

FONTS = Path("/usr/share/fonts/truetype/dejavu")
DPI = 300
# (text, bold); "" is a paragraph gap.
MINUTES_PAGE = [
    ("TESTIKUNTA  PÖYTÄKIRJA 1/2025", True), ("Kunnanhallitus 12.05.2025", False), ("", False),
    ("§ 12 Talousarvion muutos", True), ("", False),
    ("Valmistelija talousjohtaja Sari Nyyssönen", False),
    ("Kunnanhallitukselle esitetään talousarvion muutosta ympäristö-", False),
    ("toimen määrärahoihin.", False), ("", False),
    ("Päätösehdotus", True), ("Kunnanhallitus hyväksyy talousarvion muutoksen.", False), ("", False),
    ("Päätös", True), ("Hyväksyttiin.", False),
]


def _font(bold: bool, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = FONTS / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")
    return ImageFont.truetype(str(path), size) if path.exists() else ImageFont.load_default(size)


def image_only_pdf(lines: list[tuple[str, bool]]) -> bytes:
    """A one-page PDF whose only content is a 300 dpi picture of the lines: no text layer."""
    width, height = int(A4[0] / 72 * DPI), int(A4[1] / 72 * DPI)
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    y = 200
    for text, bold in lines:
        if text:
            draw.text((230, y), text, font=_font(bold, 46), fill=0)
        y += 70 if text else 40
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.drawImage(ImageReader(image), 0, 0, width=A4[0], height=A4[1])
    c.showPage()
    c.save()
    return buf.getvalue()


@pytest.fixture
def scan(tmp_path: Path) -> Path:
    path = tmp_path / "skannattu_poytakirja.pdf"
    path.write_bytes(image_only_pdf(MINUTES_PAGE))
    return path


@pytest.fixture
def fresh_ocr_check() -> Iterator[None]:
    """`ocr.unavailable` is cached per process; tests that change PATH need it asked again."""
    ocr.unavailable.cache_clear()
    yield
    ocr.unavailable.cache_clear()


needs_tesseract = pytest.mark.skipif(
    ocr.unavailable() is not None,
    reason=f"OCR not available here ({ocr.unavailable()}); {ocr.INSTALL}",
)


@needs_tesseract
@pytest.mark.parametrize("engine", ENGINES)
def test_image_only_pdf_gives_section_and_decision(scan: Path, engine: str) -> None:
    result = process_document(scan, scan.parent, engine)
    assert not result.failed, result.rows
    document = result.rows["documents"][0]
    assert document["ocr_pages"] == [1]
    assert document["status"] == "ok", document["warnings"]
    assert document["engine"] == engine
    (decision,) = result.rows["decisions"]
    assert decision["section"] == 12
    assert decision["title"] == "Talousarvion muutos"
    assert decision["decision"] == "Hyväksyttiin."
    assert decision["proposal"] == "Kunnanhallitus hyväksyy talousarvion muutoksen."
    assert decision["outcome"] == "PASSED"
    assert (decision["page_start"], decision["page_end"]) == (1, 1)


@needs_tesseract
def test_scan_text_is_laid_out_like_a_text_page(scan: Path) -> None:
    """Paragraph gaps come from the line pitch; the hyphen at the line end stays for the repair step."""
    page = read_document(scan).pages[0]
    assert page.ocr
    assert "\n\nPäätös\nHyväksyttiin." in page.text
    assert "ympäristö-\ntoimen" in page.text


def test_without_tesseract_the_document_is_partial(scan: Path, fresh_ocr_check: None,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(scan.parent))  # no tesseract on it
    result = process_document(scan, scan.parent)
    document = result.rows["documents"][0]
    assert document["status"] == "partial"
    assert document["ocr_pages"] == []
    (warning,) = [w for w in document["warnings"] if "text layer" in w]
    assert warning.startswith("page 1 has no text layer and OCR is not available (tesseract is not installed)")
    assert "tesseract-ocr-fin (make system-deps)" in warning
    assert result.rows["decisions"] == []


def test_blank_page_is_not_sent_to_ocr(tmp_path: Path, fresh_ocr_check: None, monkeypatch: pytest.MonkeyPatch) -> None:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.setFont("Helvetica", 11)
    c.drawString(72, 700, "Kunnanhallitus hyväksyi asian.")
    c.showPage()
    c.showPage()  # an empty second page: nothing drawn, nothing to read
    c.save()
    path = tmp_path / "blank.pdf"
    path.write_bytes(buf.getvalue())
    monkeypatch.setenv("PATH", str(tmp_path))
    raw = read_document(path)
    assert raw.warnings == [] and raw.ocr_pages == []
    assert [p.text for p in raw.pages] == ["Kunnanhallitus hyväksyi asian.", ""]


@pytest.mark.parametrize(("text", "expected"), [
    ("8 323 Talousarvio 2026", "§ 323 Talousarvio 2026"),
    ("S 12 Kokouksen avaus", "§ 12 Kokouksen avaus"),
    ("$ 7 Ilmoitusasiat", "§ 7 Ilmoitusasiat"),
    ("8 323", "§ 323"),
    ("Päätös\n8 324 Äänestys\nteksti", "Päätös\n§ 324 Äänestys\nteksti"),
    ("41 8 Kokouksen laillisuus", "41 § Kokouksen laillisuus"),
    ("8 000 euroa varataan", "8 000 euroa varataan"),  # an amount, not a heading
    ("8 Talousarvio", "8 Talousarvio"),  # a numbered list item
    ("kuntalain 8 12 Asia", "kuntalain 8 12 Asia"),  # not at a line start
    ("§ 12 Talousarvio", "§ 12 Talousarvio"),
    ("Hallintosäännön 32 8:n mukaan", "Hallintosäännön 32 §:n mukaan"),
    ("Kuntalain 103 8:ssä säädetään", "Kuntalain 103 §:ssä säädetään"),
    ("klo 18:00 ja 8:30", "klo 18:00 ja 8:30"),  # times stay
])
def test_fix_section_signs(text: str, expected: str) -> None:
    assert ocr.fix_section_signs(text) == expected


def test_tsv_words_become_runs_on_their_line() -> None:
    header = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext"
    rows = [
        "4\t1\t1\t1\t1\t0\t300\t1000\t900\t50\t-1\t",
        "5\t1\t1\t1\t1\t1\t300\t1005\t200\t45\t95\tPäätös",
        "5\t1\t1\t1\t1\t2\t800\t1000\t400\t50\t93\tHyväksyttiin.",
        "4\t1\t1\t1\t2\t0\t300\t1066\t600\t50\t-1\t",
        "5\t1\t1\t1\t2\t1\t300\t1066\t600\t50\t91\tYksimielisesti.",
    ]
    chars = ocr.chars_from_tsv("\n".join([header, *rows]), 72 / DPI)
    assert [c.text for c in chars] == ["Päätös", "Hyväksyttiin.", "Yksimielisesti."]
    assert chars[0].bottom == chars[1].bottom == pytest.approx(1050 * 72 / DPI)
    assert all(c.space_after for c in chars)
    # one line pitch (66 px = 15.84 pt) / 1.32 = 12 pt
    assert chars[0].size == pytest.approx(12.0)
