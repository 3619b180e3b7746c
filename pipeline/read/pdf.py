"""PDF minutes through pdfplumber (the text layer), one page at a time.

Pages are closed after use: pdfplumber otherwise keeps ~5 MB per page until the file closes.
"""
from __future__ import annotations

import io

import pdfplumber
from pdfminer.pdfdocument import PDFPasswordIncorrect
from pdfplumber.utils.exceptions import PdfminerException

from pipeline.errors import ReadError
from pipeline.read import Page


def _reason(exc: BaseException) -> str:
    cause = exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else exc.__context__ or exc
    if isinstance(cause, PDFPasswordIncorrect):
        return "the PDF is encrypted with a password; decrypt it (qpdf --decrypt) and run again"
    text = str(cause) or type(cause).__name__
    if "No /Root object" in text:
        return "not a readable PDF (no /Root object): the file may be HTML or another format named .pdf"
    return f"the PDF cannot be parsed ({type(cause).__name__}: {text}); the file may be truncated or damaged"


def read_pdf(data: bytes, engine: str = "pdfplumber") -> tuple[list[Page], list[str]]:
    if engine != "pdfplumber":
        raise ReadError(f"unknown PDF engine {engine!r}")
    pages: list[Page] = []
    warnings: list[str] = []
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            for number, page in enumerate(pdf.pages, start=1):
                text = page.extract_text() or ""
                page.close()
                pages.append(Page(number, text))
    except PdfminerException as exc:
        raise ReadError(_reason(exc)) from exc
    if pages and not any(p.text.strip() for p in pages):
        warnings.append("no page has a text layer (scanned PDF?) and OCR is not available")
    return pages, warnings
