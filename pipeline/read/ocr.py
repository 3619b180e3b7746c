"""Pages without a text layer (scans) read by tesseract with its Finnish model.

A page is rendered with pypdfium2 at 300 dpi and handed to `tesseract - - -l fin tsv`; the
words come back with their boxes and become runs (`layout.Char`) like any engine's, so running
headers, label columns and paragraphs are handled by the same layout step as text pages.
tesseract is a separate program (Debian: tesseract-ocr, tesseract-ocr-fin; `make system-deps`);
where it or its Finnish model is missing the page stays empty and the reader says so, which
makes the document `partial` rather than silently empty.

tesseract reads the section sign as "8", "S" or "$" now and then ("8 323 Talousarvio",
"32 8:n mukaan"); `fix_section_signs` puts it back in item headings and statute references.
"""
from __future__ import annotations

import io
import os
import re
import shutil
import statistics
import subprocess
from dataclasses import dataclass
from functools import cache

import pypdfium2 as pdfium

from pipeline.layout import Char

DPI = 300
LANGUAGE = "fin"
TIMEOUT = 180  # seconds for one page; a scan that takes longer is reported, not waited for
TYPICAL_LEADING = 1.32  # line pitch ÷ font size of typeset minutes; sizes the words of a scan
INSTALL = "install tesseract-ocr-fin (make system-deps)"

# "8 323 Talousarvio", "S 323", "$ 323" at a line start: an item heading whose § was misread.
_SIGN_BEFORE = re.compile(r"^(?:8|S|\$|§§)[ \t]?(\d{1,4})(?=[ \t]+[A-ZÅÄÖ]|[ \t]*$)", re.MULTILINE)
# "41 8 Kokouksen laillisuus": the number-first heading style.
_SIGN_AFTER = re.compile(r"^(\d{1,4})[ \t](?:8|S|\$)(?=[ \t]+[A-ZÅÄÖ])", re.MULTILINE)
# "Hallintosäännön 32 8:n mukaan": a statute reference, § with a case ending after a number.
_SIGN_INFLECTED = re.compile(r"(?<=\d[ \t])8(?=:[a-zåäö]{1,4}\b)")
_TSV_FIELDS = 12


class OcrError(Exception):
    """tesseract ran but gave no usable result for a page."""


@cache
def unavailable() -> str | None:
    """Why OCR cannot run here (None when tesseract with the Finnish model is installed)."""
    exe = shutil.which("tesseract")
    if exe is None:
        return "tesseract is not installed"
    try:
        listed = subprocess.run([exe, "--list-langs"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"tesseract does not run ({exc})"
    languages = {line.strip() for line in (listed.stdout + listed.stderr).splitlines()}
    if LANGUAGE not in languages:
        return "tesseract has no Finnish model (fin)"
    return None


def fix_section_signs(text: str) -> str:
    """Put back the § tesseract misread in item headings ("8 323 Talousarvio" → "§ 323 Talousarvio")."""
    text = _SIGN_BEFORE.sub(r"§ \1", text)
    text = _SIGN_INFLECTED.sub("§", text)
    return _SIGN_AFTER.sub(r"\1 §", text)


@dataclass(frozen=True)
class _Word:
    text: str
    left: float
    right: float
    line: tuple[int, int, int]  # block, paragraph, line


def _parse_tsv(tsv: str, scale: float) -> tuple[list[_Word], dict[tuple[int, int, int], float]]:
    """Words and each line's bottom (points, from the page top) from tesseract's TSV output."""
    words: list[_Word] = []
    bottoms: dict[tuple[int, int, int], float] = {}
    for row in tsv.splitlines()[1:]:
        fields = row.split("\t")
        if len(fields) < _TSV_FIELDS or not fields[0].isdigit():
            continue
        level = int(fields[0])
        key = (int(fields[2]), int(fields[3]), int(fields[4]))
        left, top, width, height = (int(v) * scale for v in fields[6:10])
        if level == 4:
            bottoms[key] = top + height
        elif level == 5 and fields[11].strip():
            words.append(_Word(fields[11].strip(), left, left + width, key))
    return words, bottoms


def _font_size(bottoms: list[float]) -> float:
    """The body font size of a scan, from its line pitch (typeset minutes: pitch ≈ 1.32 × size)."""
    ordered = sorted(bottoms)
    pitches = [b - a for a, b in zip(ordered, ordered[1:]) if b - a > 4.0]
    if not pitches:
        return 10.0
    return min(30.0, max(6.0, statistics.median(pitches) / TYPICAL_LEADING))


def chars_from_tsv(tsv: str, scale: float, dx: float = 0.0, dy: float = 0.0) -> list[Char]:
    """Runs for the layout step: one per word, on its line's bottom, each ending a word.

    `scale` turns pixels into points; (dx, dy) is where the rendered area (the crop box) sits
    in the media box, which the text engines measure from.
    """
    words, bottoms = _parse_tsv(tsv, scale)
    size = _font_size(list(bottoms.values()))
    out = []
    for w in words:
        bottom = bottoms.get(w.line)
        if bottom is None:
            continue
        bottom += dy
        out.append(Char(w.text, w.left + dx, w.right + dx, bottom - size, bottom, False, size, len(w.text), True))
    return out


def has_marks(pdf: pdfium.PdfDocument, index: int) -> bool:
    """Whether anything is drawn on the page (a scan is one image); a blank page is not worth OCR."""
    page = pdf[index]
    try:
        return next(iter(page.get_objects(max_depth=1)), None) is not None
    finally:
        page.close()


def ocr_page(pdf: pdfium.PdfDocument, index: int) -> list[Char]:
    """The words of one page as runs. Raises OcrError when tesseract fails."""
    page = pdf[index]
    try:
        media_left, _, _, media_top = page.get_mediabox()
        crop_left, _, _, crop_top = page.get_cropbox()
        image = page.render(scale=DPI / 72, grayscale=True).to_pil()
    finally:
        page.close()
    png = io.BytesIO()
    image.save(png, format="PNG", compress_level=1)
    image.close()
    try:
        done = subprocess.run(
            ["tesseract", "-", "-", "-l", LANGUAGE, "--psm", "3", "tsv"], input=png.getvalue(), capture_output=True,
            timeout=TIMEOUT, check=False, env={**os.environ, "OMP_THREAD_LIMIT": "1"},
        )
    except subprocess.TimeoutExpired as exc:
        raise OcrError(f"tesseract took longer than {TIMEOUT} s") from exc
    except OSError as exc:
        raise OcrError(f"tesseract could not be started ({exc})") from exc
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise OcrError(f"tesseract failed ({detail[-1] if detail else f'exit {done.returncode}'})")
    tsv = done.stdout.decode("utf-8", "replace")
    return chars_from_tsv(tsv, 72 / DPI, crop_left - media_left, media_top - crop_top)

