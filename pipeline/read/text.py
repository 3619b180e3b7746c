"""Plain-text minutes: detect the encoding (UTF-8, windows-1252, ISO-8859-1 ...) and split pages.

Minutes copied out of old systems come in windows-1252 as often as UTF-8; guessing wrong turns
every ä into mojibake. A byte-order mark decides first (UTF-32 before UTF-16: their marks begin
alike), then UTF-16/32 without one, told by where their zero bytes fall; UTF-8 is tried strictly
(it almost never decodes non-UTF-8 text), then charset-normalizer decides among the legacy
encodings. Every guess that could be wrong leaves a warning on the document (`Detected.warning`):
UTF-16/32 without a mark, a legacy encoding where the candidates would read some byte differently
(€ or ¤), and a file that mixes valid UTF-8 with other bytes.
"""
from __future__ import annotations

import codecs
from dataclasses import dataclass

from charset_normalizer import from_bytes

from pipeline.errors import ReadError
from pipeline.read import Page
from pipeline.text_layout import drop_text_chrome, split_long_lines

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16: FF FE 00 00 starts with UTF-16-LE's FF FE
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_WIDE_SAMPLE = 4096  # bytes looked at for the zero bytes of UTF-16/32
_WIDE_SHARE = 0.6  # of the code units whose high bytes are zero: text of Latin letters has ~all
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


@dataclass(frozen=True)
class Detected:
    encoding: str
    warning: str | None = None  # set where the encoding is a guess that could be wrong


def _wide(data: bytes) -> str | None:
    """UTF-16/32 without a byte-order mark, told by its zero bytes: in text of Latin letters every
    code unit's high byte is zero, so in UTF-16-LE most odd bytes are, in UTF-32-LE three of four."""
    sample = data[:_WIDE_SAMPLE]
    if len(sample) < 8 or sample.count(0) < len(sample) // 4:
        return None
    candidates = (("utf-32-le", 4, (1, 2, 3)), ("utf-32-be", 4, (0, 1, 2)), ("utf-16-le", 2, (1,)),
                  ("utf-16-be", 2, (0,)))
    for name, width, zeros in candidates:
        units = [sample[i:i + width] for i in range(0, len(sample) - width + 1, width)]
        if sum(all(u[z] == 0 for z in zeros) for u in units) >= _WIDE_SHARE * len(units):
            try:
                data[: len(data) - len(data) % width].decode(name)
            except UnicodeDecodeError:
                continue
            return name
    return None


def detect(data: bytes) -> Detected:
    """The encoding of a text file, with a warning where it is a guess that could be wrong."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return Detected(name)
    wide = _wide(data)
    if wide is not None:
        return Detected(wide, f"no byte-order mark: read as {wide.upper()} from the pattern of its zero bytes; "
                              "check the text, or save the file as UTF-8")
    try:
        data.decode("utf-8")
        return Detected("utf-8")
    except UnicodeDecodeError:
        pass
    if _damaged_utf8(data):
        return Detected("utf-8")
    encoding = _legacy(data)
    text = data[:200_000].decode("utf-8", errors="replace")
    if sum(ch > "\x7f" for ch in text) - text.count("\ufffd") > 0:
        return Detected(encoding, f"the file mixes valid UTF-8 with bytes that are not UTF-8 (two sources pasted "
                                  f"together?): read as {encoding}, so its UTF-8 letters may show as mojibake "
                                  "(repair fixes most); check the text, or save the file as UTF-8")
    rivals = sorted({name for name in _LEGACY if codecs.lookup(name).name != encoding and _differs(data, encoding, name)})
    if rivals:
        return Detected(encoding, f"not UTF-8: read as {encoding}, a guess; {', '.join(rivals)} would read some "
                                  "characters differently (e.g. € or ¤); check them, or save the file as UTF-8")
    return Detected(encoding)


def _differs(data: bytes, encoding: str, other: str) -> bool:
    """Whether reading as `other` gives another text, not counting readings with C1 control
    characters (bytes 0x80-0x9F as controls: no real document has them, so that rival is out)."""
    theirs = data.decode(other, errors="replace")
    if any("\x80" <= ch <= "\x9f" for ch in theirs):
        return False
    return theirs != data.decode(encoding, errors="replace")


def detect_encoding(data: bytes) -> str:
    """The encoding of a text file (`detect`, without the warning)."""
    return detect(data).encoding


def _legacy(data: bytes) -> str:
    """Which single-byte encoding a file that is not UTF-8 is in."""
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
    detected = detect(data)
    encoding = detected.encoding
    warnings = [detected.warning] if detected.warning else []
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
