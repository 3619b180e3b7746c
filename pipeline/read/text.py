"""Plain-text minutes: detect the encoding (UTF-8, windows-1252, ISO-8859-1 ...) and split pages.

Minutes copied out of old systems come in windows-1252 as often as UTF-8; guessing wrong turns
every ä into mojibake. UTF-8 is tried strictly first (it almost never decodes non-UTF-8 text),
then charset-normalizer decides among the legacy encodings.
"""
from __future__ import annotations

import codecs

from charset_normalizer import from_bytes

from pipeline.errors import ReadError
from pipeline.read import Page
from pipeline.text_layout import drop_text_chrome, split_long_lines

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Legacy encodings a Finnish document can plausibly be in; the detector may pick among them.
_LEGACY = ("cp1252", "iso8859_15", "iso8859_1")
_MAX_CONTROL_SHARE = 0.01


def _damaged_utf8(data: bytes) -> bool:
    """UTF-8 with a few broken sequences (a cut or a bad copy), not a legacy encoding.

    Read as windows-1252 such a file would turn every ä into mojibake; a legacy file, read as
    UTF-8, has hardly a valid multi-byte sequence. So: ten valid non-ASCII characters per bad one.
    """
    text = data[:200_000].decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    return bad > 0 and sum(ch > "\x7f" for ch in text) - bad >= 10 * bad


def detect_encoding(data: bytes) -> str:
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    if _damaged_utf8(data):
        return "utf-8"
    best = from_bytes(data[:200_000], cp_isolation=list(_LEGACY)).best()
    if best is not None:
        return codecs.lookup(best.encoding).name
    # Too little text for the detector to be sure: Finnish text outside UTF-8 is nearly always
    # windows-1252, whose letters are a superset of ISO-8859-1's.
    try:
        data.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        raise ReadError(
            "the text is in no encoding minutes recognises (tried UTF-8, UTF-16 and windows-1252/ISO-8859); "
            "it may be a binary file with a .txt name"
        ) from None


def read_text(data: bytes) -> tuple[list[Page], str, list[str]]:
    encoding = detect_encoding(data)
    warnings = []
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        text = data.decode(encoding, errors="replace")
        warnings.append(f"{text.count(chr(0xFFFD))} damaged byte sequence(s) are not valid {encoding} and were "
                        "replaced by U+FFFD; the rest of the text was read")
    if "\x00" in text:
        text = text.replace("\x00", "")
        warnings.append("NUL bytes removed from the text")
    controls = sum(1 for ch in text if ch < " " and ch not in "\n\r\t\f")
    if text and controls / len(text) > _MAX_CONTROL_SHARE:
        raise ReadError(
            f"the file holds binary data ({controls} control characters in {len(text)}); "
            "it is not a text document: convert it to text or PDF first"
        )
    chunks = drop_text_chrome(split_long_lines(text)).split("\f")
    pages = [Page(i + 1, chunk) for i, chunk in enumerate(chunks)]
    return pages, encoding, warnings
