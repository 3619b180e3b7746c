"""PDF minutes → page texts through pdfplumber or pypdfium2, with the layout handled.

Each engine only turns a page into positioned characters (`layout.Char`); `pipeline.layout`
then builds lines, drops running headers and footers, splits label columns and renders the
text, so both engines give the same pages. pdfplumber is the careful path (~30 pages/s);
pypdfium2 (already a pdfplumber dependency) is several times faster and reads the same
geometry and font names through pdfium's raw text API.

Pages are closed after use: pdfplumber otherwise keeps ~5 MB per page until the file closes.
"""
from __future__ import annotations

import ctypes
import io
import zlib
from collections.abc import Callable, Iterator

import pdfplumber
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from pdfminer.pdfdocument import PDFPasswordIncorrect
from pdfminer.psexceptions import PSEOF, PSException
from pdfplumber.utils.exceptions import MalformedPDFException, PdfminerException

from pipeline import layout
from pipeline.errors import ReadError
from pipeline.layout import Char, PageLines
from pipeline.read import ENGINES, Page

# One page as an engine hands it over: width, height, characters.
RawPage = tuple[float, float, list[Char]]

_PASSWORD = ("the PDF is encrypted with a password; decrypt it "
             "(qpdf --password=... --decrypt in.pdf out.pdf) and run again")
_NOT_PDF = ("not a PDF: the file does not start with %PDF- "
            "(it may be an HTML page or another format named .pdf)")
_TRUNCATED = "the PDF is truncated (no %%EOF end marker); download the file again"
# pdfium marks a hyphen it sees at a line end with these; the PDF itself has a plain "-".
_PDFIUM_HYPHENS = {0x02: "-", 0xFFFE: "-"}
# FPDFText_GetTextObject with an integer (address) result: pypdfium2's binding returns a ctypes
# pointer, and casting that for every character costs more than the call itself. A private
# prototype of the same C function leaves pypdfium2's own binding untouched.
_text_object_address = ctypes.CFUNCTYPE(ctypes.c_void_p, *pdfium_c.FPDFText_GetTextObject.argtypes)(
    ctypes.cast(pdfium_c.FPDFText_GetTextObject, ctypes.c_void_p).value
)


def _is_pdf(data: bytes) -> bool:
    return b"%PDF-" in data[:1024]


def _looks_truncated(data: bytes) -> bool:
    return b"%%EOF" not in data[-2048:]


def _damaged(detail: str) -> str:
    return f"the PDF cannot be parsed ({detail}); the file may be damaged"


def _plumber_reason(exc: BaseException, data: bytes) -> str:
    """pdfplumber wraps every cause in PdfminerException; the real one is in args[0] or __context__.

    PDFPasswordIncorrect has an empty message, and a cut-off file shows as PSEOF or as
    "No /Root object", so the reason is written here rather than passed on.
    """
    cause = exc
    if isinstance(exc, PdfminerException):
        cause = exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else exc.__context__ or exc
    if isinstance(cause, PDFPasswordIncorrect):
        return _PASSWORD
    if isinstance(cause, PSEOF) or _looks_truncated(data):
        return _TRUNCATED
    return _damaged(f"{type(cause).__name__}: {cause}" if str(cause) else type(cause).__name__)


# --------------------------------------------------------------------------- pdfplumber


def _plumber_pages(data: bytes) -> Iterator[RawPage]:
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            try:
                bold = layout.is_bold_font
                chars = [
                    Char(c["text"], c["x0"], c["x1"], c["top"], c["bottom"], bold(c.get("fontname")), c["size"])
                    for c in page.chars
                    if c.get("upright", True)
                ]
                yield float(page.width), float(page.height), chars
            finally:
                page.close()


# --------------------------------------------------------------------------- pypdfium2


def _font_name_fn() -> Callable[..., int]:
    """pdfium renamed FPDFFont_GetFontName to FPDFFont_GetBaseFontName (pypdfium2 4.x has the old one)."""
    return getattr(pdfium_c, "FPDFFont_GetBaseFontName", None) or pdfium_c.FPDFFont_GetFontName


def _pdfium_chars(textpage: pdfium.PdfTextPage, page_top: float) -> list[Char]:
    """Characters with their loose (font-box) boxes, read through pdfium's raw API.

    Bold, size and uprightness are looked up once per text object (a run in one font), so the
    per-character cost stays at three C calls. Generated characters (the spaces and line
    breaks pdfium inserts) have no text object and are skipped: the layout decides spacing.
    """
    raw = textpage.raw
    rect = pdfium_c.FS_RECTF()
    name = ctypes.create_string_buffer(256)
    objects: dict[int, tuple[bool, float, bool]] = {}
    chars: list[Char] = []
    pending_high = 0
    object_of, unicode_of = _text_object_address, pdfium_c.FPDFText_GetUnicode
    box_of = pdfium_c.FPDFText_GetLooseCharBox
    font_name_of = _font_name_fn()
    for i in range(pdfium_c.FPDFText_CountChars(raw)):
        key = object_of(raw, i)
        if not key:
            continue
        info = objects.get(key)
        if info is None:
            font = pdfium_c.FPDFTextObj_GetFont(ctypes.cast(key, pdfium_c.FPDF_PAGEOBJECT))
            n = font_name_of(font, name, len(name)) if font else 0
            fontname = name.value.decode("latin-1", "replace") if n else ""
            angle = pdfium_c.FPDFText_GetCharAngle(raw, i)
            upright = angle < 0.01 or abs(angle - 6.283185) < 0.01
            info = objects[key] = (layout.is_bold_font(fontname), pdfium_c.FPDFText_GetFontSize(raw, i), upright)
        bold, size, upright = info
        if not upright:
            continue
        code = unicode_of(raw, i)
        if 0xD800 <= code <= 0xDBFF:  # first half of a character beyond the BMP (U+10019F ...)
            pending_high = code
            continue
        if 0xDC00 <= code <= 0xDFFF and pending_high:
            text = chr(0x10000 + ((pending_high - 0xD800) << 10) + (code - 0xDC00))
            pending_high = 0
        elif code in _PDFIUM_HYPHENS:
            text = _PDFIUM_HYPHENS[code]
        elif code < 0x20:
            text = " "
        else:
            text = chr(code)
        if not box_of(raw, i, rect):
            continue
        bottom = page_top - rect.bottom
        # pdfplumber's box is `size` high from baseline+descent; pdfium's loose box is the font's
        # (taller for Ä, Ö). Using pdfplumber's convention keeps both engines' geometry the same.
        chars.append(Char(text, rect.left, rect.right, bottom - size, bottom, bold, size))
    return chars


def _pdfium_pages(data: bytes) -> Iterator[RawPage]:
    pdf = pdfium.PdfDocument(data)
    try:
        for index in range(len(pdf)):
            page = pdf[index]
            try:
                # pdfplumber measures from the media box (not the crop box); so do we.
                left, bottom, right, top = page.get_mediabox()
                width, height = right - left, top - bottom
                textpage = page.get_textpage()
                try:
                    chars = _pdfium_chars(textpage, top)
                finally:
                    textpage.close()
            finally:
                page.close()
            yield width, height, chars
    finally:
        pdf.close()


def _pdfium_reason(exc: pdfium.PdfiumError, data: bytes) -> str:
    code = getattr(exc, "err_code", None)  # pypdfium2 4.x may lack it: the message says it too
    if code == pdfium_c.FPDF_ERR_PASSWORD or "password" in str(exc).lower():
        return _PASSWORD
    if code == pdfium_c.FPDF_ERR_SECURITY:
        return "the PDF uses an unsupported security handler (encryption); decrypt it and run again"
    if _looks_truncated(data):
        return _TRUNCATED
    return _damaged(str(exc))


# --------------------------------------------------------------------------- entry point


def _raw_pages(data: bytes, engine: str) -> list[RawPage]:
    """All pages as characters; every engine failure becomes a ReadError a person can act on."""
    try:
        if engine == "pdfplumber":
            return list(_plumber_pages(data))
        return list(_pdfium_pages(data))
    except (PdfminerException, PSException) as exc:
        raise ReadError(_plumber_reason(exc, data)) from exc
    except pdfium.PdfiumError as exc:
        raise ReadError(_pdfium_reason(exc, data)) from exc
    except (MalformedPDFException, ValueError, KeyError, TypeError, AttributeError, IndexError, zlib.error) as exc:
        # pdfminer lets these through from broken objects and streams
        raise ReadError(_damaged(f"{type(exc).__name__}: {exc}")) from exc


def read_pdf(data: bytes, engine: str = "pdfplumber") -> tuple[list[Page], list[str]]:
    """Page texts of a PDF with running headers/footers removed and label columns split."""
    if engine not in ENGINES:
        raise ReadError(f"unknown PDF engine {engine!r}; use one of {', '.join(ENGINES)}")
    if not _is_pdf(data):
        raise ReadError(_NOT_PDF)
    raw = _raw_pages(data, engine)
    pages = [PageLines(n, height, layout.lines_from_chars(chars, n))
             for n, (_, height, chars) in enumerate(raw, start=1)]
    texts = layout.layout_pages(pages)
    warnings: list[str] = []
    if not pages:
        warnings.append("the PDF has no pages")
    elif not any(t.strip() for t in texts):
        warnings.append("no page has a text layer (scanned PDF?) and OCR is not available")
    return [Page(n, text) for n, text in enumerate(texts, start=1)], warnings
