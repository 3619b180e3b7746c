"""PDF minutes → page texts through pdfplumber or pypdfium2, with the layout handled.

Each engine only turns a page into positioned characters (`layout.Char`); `pipeline.layout`
then builds lines, drops running headers and footers, splits label columns and renders the
text, so both engines give the same pages. pdfplumber is the careful path (~22 pages/s);
pypdfium2 (already a pdfplumber dependency, the default) reads the same geometry and font names
through pdfium's raw text API, a few C calls per word, at ~500 pages/s. A page with no text
layer is read by OCR (`pipeline.read.ocr`) and goes through the same layout step.

Pages are closed after use: pdfplumber otherwise keeps ~5 MB per page until the file closes.
"""
from __future__ import annotations

import ctypes
import io
import re
import zlib
from collections.abc import Callable, Iterator
from types import ModuleType

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from pipeline import layout
from pipeline.errors import ReadError
from pipeline.layout import Char, PageLines
from pipeline.read import DEFAULT_ENGINE, ENGINES, Page, ocr, pdf_faults

# One page as an engine hands it over: width, height, characters.
RawPage = tuple[float, float, list[Char]]

# pdfium reads at most this many bytes of one string of a content stream: the rest of a longer
# line is dropped without a word (pdfium's kMaxStringLength). pdfplumber reads it whole.
_PDFIUM_STRING_LIMIT = 32767
# pdfium marks a hyphen it sees at a line end with U+0002 or U+FFFE (the PDF itself has a plain
# "-"); other control characters are white space.
_PDFIUM_HYPHENS = ("\x02", "\ufffe")
_CONTROL = re.compile("[\x00-\x1f]")
_RUN = re.compile(r"\S+")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _raw_prototype(fn: object, restype: type | None) -> Callable[..., object]:
    """The same C function with plain arguments and result, converted by nothing in Python.

    pypdfium2's bindings take and return typed pointers, and even plain `argtypes` run a
    converter per argument; converting costs more than the call itself, and these run a few
    times per word. With only the result declared, ctypes passes an `int` as a C int and a
    `c_void_p` or `byref` as a pointer (a cdecl prototype takes more arguments than it
    declares). A private prototype leaves pypdfium2's own bindings untouched.
    """
    return ctypes.CFUNCTYPE(restype)(ctypes.cast(fn, ctypes.c_void_p).value)


# Called as (textpage: c_void_p, index: int[, rect: byref(FS_RECTF)]); the results are those of
# pypdfium2's bindings (a text object as its address, None for none).
_TEXT_OBJECT = _raw_prototype(pdfium_c.FPDFText_GetTextObject, ctypes.c_void_p)
_LOOSE_BOX = _raw_prototype(pdfium_c.FPDFText_GetLooseCharBox, ctypes.c_int)
_CHAR_ANGLE = _raw_prototype(pdfium_c.FPDFText_GetCharAngle, ctypes.c_float)
_FONT_SIZE = _raw_prototype(pdfium_c.FPDFText_GetFontSize, ctypes.c_double)
_TEXT_FONT = _raw_prototype(pdfium_c.FPDFTextObj_GetFont, ctypes.c_void_p)  # (text object: c_void_p)
# pdfium renamed FPDFFont_GetFontName to FPDFFont_GetBaseFontName (pypdfium2 4.x has the old one).
_FONT_NAME = getattr(pdfium_c, "FPDFFont_GetBaseFontName", None) or pdfium_c.FPDFFont_GetFontName


class _StringCut(Exception):
    """pdfium dropped the end of a string longer than it reads (`_PDFIUM_STRING_LIMIT`) on this page."""

    def __init__(self, page: int) -> None:
        super().__init__(page)
        self.page = page


# --------------------------------------------------------------------------- pdfplumber


def _plumber_pages(data: bytes) -> list[RawPage]:
    """pdfplumber is imported here: the default engine never needs pdfminer (~70 ms of every start)."""
    import pdfplumber
    from pdfminer.psexceptions import PSException
    from pdfplumber.utils.exceptions import MalformedPDFException, PdfminerException

    try:
        return list(_plumber_chars(pdfplumber, data))
    except (PdfminerException, PSException) as exc:
        raise ReadError(pdf_faults.plumber_reason(exc, data)) from exc
    except MalformedPDFException as exc:
        raise ReadError(pdf_faults.damaged(f"{type(exc).__name__}: {exc}")) from exc


def _plumber_chars(pdfplumber: ModuleType, data: bytes) -> Iterator[RawPage]:
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


def _combine_surrogates(text: str) -> str:
    """pdfium counts a character beyond the BMP (U+10019F ...) as two UTF-16 halves."""
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


class _RunReader:
    """Glyph runs of one text page through pdfium's raw API, a few C calls per word.

    The page text comes in one call; each run of non-space characters that belongs to one text
    object (one font, one baseline) becomes one `Char` from the boxes of its first and last
    glyph. A run spanning text objects (a bold prefix glued to regular text, a word drawn
    glyph by glyph) is read glyph by glyph. Generated characters (the spaces and line breaks
    pdfium inserts) have no text object: they only end runs, and the layout decides spacing
    from the geometry, as it does for pdfplumber; a real space character becomes a break.
    """

    def __init__(self, textpage: pdfium.PdfTextPage, page_top: float) -> None:
        self.textpage = textpage.raw  # the typed handle, for pypdfium2's own bindings
        self.raw = ctypes.c_void_p(ctypes.cast(textpage.raw, ctypes.c_void_p).value)  # for the prototypes
        self.top = page_top
        self.rect = pdfium_c.FS_RECTF()
        self.rect_ref = ctypes.byref(self.rect)
        self.objects: dict[int, tuple[bool, float, bool]] = {}
        # Fonts by address: they live as long as the page, so an address is one font here.
        self.fonts: dict[int | None, bool] = {}
        self.name = ctypes.create_string_buffer(256)

    def bold(self, font: int | None) -> bool:
        """Whether a font's name says bold, looked up once per font of the page."""
        found = self.fonts.get(font)
        if found is None:
            n = _FONT_NAME(ctypes.cast(font, pdfium_c.FPDF_FONT), self.name, len(self.name)) if font else 0
            fontname = self.name.value.decode("latin-1", "replace") if n else ""
            found = self.fonts[font] = layout.is_bold_font(fontname)
        return found

    def info(self, key: int, index: int) -> tuple[bool, float, bool]:
        """(bold, size, upright) of a text object, looked up once per object."""
        found = self.objects.get(key)
        if found is None:
            bold = self.bold(_TEXT_FONT(ctypes.c_void_p(key)))
            angle = _CHAR_ANGLE(self.raw, index)
            upright = angle < 0.01 or abs(angle - 6.283185) < 0.01
            size = _FONT_SIZE(self.raw, index)
            found = self.objects[key] = (bold, size, upright)
        return found

    def box(self, index: int) -> tuple[float, float, float] | None:
        """(left, right, bottom) of a glyph, bottom measured down from the page top."""
        if not _LOOSE_BOX(self.raw, index, self.rect_ref):
            return None
        rect = self.rect
        return rect.left, rect.right, self.top - rect.bottom

    def char(self, text: str, key: int, first: int, last: int, glyphs: int) -> Char | None:
        bold, size, upright = self.info(key, first)
        if not upright:
            return None
        a = self.box(first)
        b = a if last == first else self.box(last)
        if a is None or b is None:
            return None
        # pdfplumber's box is `size` high from baseline+descent; pdfium's loose box is the font's
        # (taller for Ä, Ö). Using pdfplumber's convention keeps both engines' geometry the same.
        return Char(text, a[0], b[1], a[2] - size, a[2], bold, size, glyphs)

    def glyph_by_glyph(self, text: str, start: int, out: list[Char]) -> None:
        """A run whose glyphs belong to several text objects (or none): one Char per object."""
        object_of, raw = _TEXT_OBJECT, self.raw
        i, end = 0, len(text)
        while i < end:
            key = object_of(raw, start + i)
            j = i + 1
            while j < end and object_of(raw, start + j) == key:
                j += 1
            if key:
                piece = text[i:j]
                if _SURROGATE.search(piece):
                    piece = _combine_surrogates(piece)
                ch = self.char(piece, key, start + i, start + j - 1, len(piece))
                if ch is not None:
                    out.append(ch)
            i = j

    def text(self) -> str:
        """The page text, one character per UTF-16 unit as pdfium indexes them, spaces for controls."""
        count = pdfium_c.FPDFText_CountChars(self.textpage)
        if count <= 0:
            return ""
        buf = (ctypes.c_ushort * (count + 1))()
        pdfium_c.FPDFText_GetText(self.textpage, 0, count, buf)
        text = ctypes.string_at(buf, 2 * count).decode("utf-16-le", "surrogatepass")
        if len(text) != count:  # a surrogate pair became one character: keep pdfium's indexes
            text = "".join(map(chr, buf[:count]))
        for hyphen in _PDFIUM_HYPHENS:
            text = text.replace(hyphen, "-")
        return _CONTROL.sub(" ", text)

    def runs(self) -> list[Char]:
        """The page's runs; the common case (a run in one text object) is inlined: it is most of the cost."""
        raw, object_of, objects, box_of, rect_ref = self.raw, _TEXT_OBJECT, self.objects, _LOOSE_BOX, self.rect_ref
        rect, top = self.rect, self.top
        text = self.text()
        surrogates = _SURROGATE.search(text) is not None
        out: list[Char] = []
        append = out.append
        gap_start, last_key = 0, 0
        for m in _RUN.finditer(text):
            s, e = m.span()
            j = gap_start
            while j < s:  # a real space character (one with a text object) breaks words
                key = object_of(raw, j)
                if key:
                    if key == last_key:  # in the previous run's font run: it ends a word there
                        out[-1].space_after = True
                    elif self.info(key, j)[2] and (a := self.box(j)) is not None:
                        size = self.info(key, j)[1]
                        append(Char(" ", a[0], a[1], a[2] - size, a[2], False, size))
                    break
                j += 1
            gap_start = e
            key = object_of(raw, s)
            last = e - 1
            last_key = 0
            if not key or (last > s and object_of(raw, last) != key) or \
                    (surrogates and _SURROGATE.search(text, s, e)):
                self.glyph_by_glyph(m.group(), s, out)
                continue
            info = objects.get(key) or self.info(key, s)
            if not info[2] or not box_of(raw, s, rect_ref):
                continue
            x0, bottom = rect.left, top - rect.bottom
            if last > s and not box_of(raw, last, rect_ref):
                continue
            size = info[1]
            # pdfplumber's box is `size` high from baseline+descent; pdfium's loose box is the font's
            # (taller for Ä, Ö). Using pdfplumber's convention keeps both engines' geometry the same.
            append(Char(m.group(), x0, rect.right, bottom - size, bottom, info[0], size, e - s))
            last_key = key
        return out


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
                    chars = _RunReader(textpage, top).runs()
                    if pdfium_c.FPDFText_CountChars(textpage.raw) >= _PDFIUM_STRING_LIMIT and _cut(page, textpage):
                        raise _StringCut(index + 1)
                finally:
                    textpage.close()
            finally:
                page.close()
            yield width, height, chars
    finally:
        pdf.close()


def _cut(page: pdfium.PdfPage, textpage: pdfium.PdfTextPage) -> bool:
    """Whether a text object of the page holds as many characters as pdfium reads of one string:
    looked at only on pages with that many characters in all (a page of minutes has ~3,000)."""
    for i in range(pdfium_c.FPDFPage_CountObjects(page.raw)):
        obj = pdfium_c.FPDFPage_GetObject(page.raw, i)
        if pdfium_c.FPDFPageObj_GetType(obj) == pdfium_c.FPDF_PAGEOBJ_TEXT:
            size = pdfium_c.FPDFTextObj_GetText(obj, textpage.raw, None, 0)  # bytes of UTF-16 with the terminator
            if size // 2 - 1 >= _PDFIUM_STRING_LIMIT - 1:
                return True
    return False


# --------------------------------------------------------------------------- entry point


def _raw_pages(data: bytes, engine: str, warnings: list[str] | None = None) -> list[RawPage]:
    """All pages as characters; every engine failure becomes a ReadError a person can act on.

    Where pdfium cannot do it right, pdfplumber reads the document instead: a text line longer
    than pdfium reads of one string (it would be cut; a warning says so), and a document pdfium will
    not open without a true reason (`pdf_faults.unexplained`: an empty page tree, which pdfplumber
    reads as no pages), so that the reason depends neither on the engine nor on the document before.
    """
    try:
        if engine == "pdfplumber":
            return _plumber_pages(data)
        return list(_pdfium_pages(data))
    except _StringCut as cut:
        warnings = [] if warnings is None else warnings
        warnings.append(f"page {cut.page} holds a text line longer than the {_PDFIUM_STRING_LIMIT:,} characters "
                        "pypdfium2 reads of one string: the document was read with pdfplumber, which reads it whole")
        return _plumber_pages(data)
    except pdfium.PdfiumError as exc:
        if pdf_faults.unexplained(exc, data):
            return _plumber_pages(data)
        raise ReadError(pdf_faults.pdfium_reason(exc, data)) from exc
    except (ValueError, KeyError, TypeError, AttributeError, IndexError, zlib.error) as exc:
        # pdfminer lets these through from broken objects and streams
        raise ReadError(pdf_faults.damaged(f"{type(exc).__name__}: {exc}")) from exc


def _ocr(data: bytes, raw: list[RawPage]) -> tuple[set[int], list[str]]:
    """OCR the pages without a text layer in place; return their indexes and any warnings."""
    empty = [i for i, (_, _, chars) in enumerate(raw) if not any(not c.text.isspace() for c in chars)]
    if not empty:
        return set(), []
    done: set[int] = set()
    warnings: list[str] = []
    pdf = pdfium.PdfDocument(data)
    try:
        empty = [i for i in empty if ocr.has_marks(pdf, i)]  # a blank page has nothing to read
        reason = ocr.unavailable() if empty else None
        if reason is not None:
            numbers = ", ".join(str(i + 1) for i in empty)
            pages_are = f"page {numbers} has" if len(empty) == 1 else f"pages {numbers} have"
            return set(), [f"{pages_are} no text layer and OCR is not available ({reason}): {ocr.INSTALL}"]
        for i in empty:
            try:
                chars = ocr.ocr_page(pdf, i)
            except ocr.OcrError as exc:
                warnings.append(f"page {i + 1} has no text layer and OCR failed: {exc}")
                continue
            width, height, _ = raw[i]
            raw[i] = (width, height, chars)
            done.add(i)
    finally:
        pdf.close()
    return done, warnings


def read_pdf(data: bytes, engine: str = DEFAULT_ENGINE) -> tuple[list[Page], list[str]]:
    """Page texts of a PDF with running headers/footers removed and label columns split.

    Pages without a text layer are read by OCR (tesseract, Finnish) and marked `Page.ocr`.
    """
    if engine not in ENGINES:
        raise ReadError(f"unknown PDF engine {engine!r}; use one of {', '.join(ENGINES)}")
    other = pdf_faults.container(data)
    if other is not None:
        raise ReadError(f"not a PDF but {other} named .pdf; nothing inside it was read: unpack or convert it "
                        "and ingest the PDF (or text) files it holds")
    if not pdf_faults.is_pdf(data):
        raise ReadError(pdf_faults.NOT_PDF)
    warnings: list[str] = []
    start = data.find(b"%PDF-")
    if start:
        warnings.append(f"{start} byte(s) before the %PDF- header were skipped (a mail or download wrapper?); "
                        "the PDF after them was read")
    raw = _raw_pages(data, engine, warnings)
    scanned, ocr_warnings = _ocr(data, raw)
    warnings += ocr_warnings
    pages = [PageLines(n, height, layout.lines_from_chars(chars, n))
             for n, (_, height, chars) in enumerate(raw, start=1)]
    texts = layout.layout_pages(pages)
    if not pages:
        warnings.append("the PDF has no pages")
    return [Page(n, ocr.fix_section_signs(text) if n - 1 in scanned else text, n - 1 in scanned)
            for n, text in enumerate(texts, start=1)], warnings
