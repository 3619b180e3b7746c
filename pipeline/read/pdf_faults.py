"""Why a PDF cannot be read, told from its bytes: messages a person can act on.

The engines' own errors say too little ("PdfminerException", "Data format error") or the wrong
thing (pdfium keeps the error of the document before when it sets none), so `pipeline.read.pdf`
asks here: is it a PDF at all, another format named .pdf, encrypted, cut off, or damaged.
"""
from __future__ import annotations

import re

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

_PASSWORD = ("the PDF is encrypted with a password; decrypt it "
             "(qpdf --password=... --decrypt in.pdf out.pdf) and run again")
NOT_PDF = ("not a PDF: the file does not start with %PDF- "
           "(it may be an HTML page or another format named .pdf)")
_TRUNCATED = "the PDF is truncated (no %%EOF end marker); download the file again"
_NO_STRUCTURE = ("the file starts like a PDF (%PDF-) but holds no PDF objects after it; it is not a PDF "
                 "(or only its first bytes were saved): get the document again")
# Other formats' first bytes: a file of these named .pdf is refused, never read as a PDF it holds.
_CONTAINERS = ((b"PK\x03\x04", "a ZIP archive (or a Word/Excel file)"), (b"\x1f\x8b", "a gzip archive"),
               (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"), (b"Rar!", "a RAR archive"),
               (b"\xd0\xcf\x11\xe0", "an old Office file (.doc/.xls)"), (b"\x89PNG", "a PNG image"),
               (b"\xff\xd8\xff", "a JPEG image"), (b"{\\rtf", "an RTF document"))
_EMPTY_PAGE_TREE = re.compile(rb"/Type\s*/Pages\b[^>]*/Count\s+0\b|/Count\s+0\b[^>]*/Type\s*/Pages\b")


def is_pdf(data: bytes) -> bool:
    return b"%PDF-" in data[:1024]


def container(data: bytes) -> str | None:
    """What other format the file is, by its first bytes, if it is one (a PDF starts with %PDF-)."""
    return next((what for magic, what in _CONTAINERS if data.startswith(magic)), None)


def looks_truncated(data: bytes) -> bool:
    return b"%%EOF" not in data[-2048:]


def truncation_reason(data: bytes) -> str:
    """A PDF with objects and no end marker was cut; one without objects was never a PDF."""
    return _TRUNCATED if b" obj" in data or b"\nobj" in data else _NO_STRUCTURE


def damaged(detail: str) -> str:
    return f"the PDF cannot be parsed ({detail}); the file may be damaged"


def plumber_reason(exc: BaseException, data: bytes) -> str:
    """pdfplumber wraps every cause in PdfminerException; the real one is in args[0] or __context__.

    PDFPasswordIncorrect has an empty message, and a cut-off file shows as PSEOF or as
    "No /Root object", so the reason is written here rather than passed on.
    """
    from pdfminer.pdfdocument import PDFPasswordIncorrect
    from pdfminer.psexceptions import PSEOF
    from pdfplumber.utils.exceptions import PdfminerException

    cause = exc
    if isinstance(exc, PdfminerException):
        cause = exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else exc.__context__ or exc
    if isinstance(cause, PDFPasswordIncorrect):
        return _PASSWORD
    if isinstance(cause, PSEOF) or looks_truncated(data):
        return truncation_reason(data)
    return damaged(f"{type(cause).__name__}: {cause}" if str(cause) else type(cause).__name__)


def pdfium_reason(exc: pdfium.PdfiumError, data: bytes) -> str:
    """The reason from the bytes, pdfium's error code only where they bear it out: pdfium keeps its
    last error from an earlier document when it sets none (see `unexplained`)."""
    code = getattr(exc, "err_code", None)  # pypdfium2 4.x may lack it: the message says it too
    encrypted = b"/Encrypt" in data
    if encrypted and (code == pdfium_c.FPDF_ERR_PASSWORD or "password" in str(exc).lower()):
        return _PASSWORD
    if encrypted and code == pdfium_c.FPDF_ERR_SECURITY:
        return "the PDF uses an unsupported security handler (encryption); decrypt it and run again"
    if looks_truncated(data):
        return truncation_reason(data)
    return damaged("pdfium cannot load it")


def unexplained(exc: pdfium.PdfiumError, data: bytes) -> bool:
    """pdfium refused a document it should read, or without a reason of its own: it will not open
    an empty page tree (/Count 0), and it sets no error for it, so the error shown is the one left
    by the document before ("Success" in a fresh worker, "password" after an encrypted PDF, "Data
    format error" after a damaged one: the reason differed with 1 or 2 workers). pdfplumber reads
    such a file (as no pages) or says what is wrong with it."""
    code = getattr(exc, "err_code", None)
    said_password = code == pdfium_c.FPDF_ERR_PASSWORD or "password" in str(exc).lower()
    return (code == pdfium_c.FPDF_ERR_SUCCESS or "Success" in str(exc) or _EMPTY_PAGE_TREE.search(data) is not None
            or (said_password and b"/Encrypt" not in data))
