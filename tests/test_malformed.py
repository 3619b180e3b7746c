"""A malformed-input corpus, generated here, through `minutes ingest`: nothing lost, nothing hangs.

Every broken file must end as exactly one `failures` row (or one `documents` row, `partial` with
a warning, where something could be read) whose reason names the problem in words a person
understands; the good documents of the same batch are written exactly as they are without the
broken ones; the exit code is 1 and the summary says how many failed and where to look.

The corpus goes through both PDF engines, with `--timeout 15` (the reference-loop PDF hangs
pdfminer: the limit stops it) and `--max-memory 1024` (the compression bomb inflates to 1 GiB),
and without OCR (tesseract is hidden from the workers' PATH: the image-only PDF must say that
OCR is missing). PDFs whose structure is hostile may be read or refused depending on the
engine: for them any one row is right but an internal error. Unreadable files: the suite runs
as root, for whom `chmod 000` stops nothing, so `unreadable.txt` is read when run as root and
refused otherwise; a named pipe and a dangling symlink are the entries no user can read.
"""
from __future__ import annotations

import contextlib
import io
import os
import shutil
import unicodedata
import zlib
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from reportlab.lib.pdfencrypt import StandardEncryption
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from pipeline.cli import main
from pipeline.run import run_batch
from pipeline.schema import TABLES
from tests.conftest import DEV

TIMEOUT = 15
MEMORY_MB = 1024
GOOD = ("dev02_cloudnc_kh_vote_recusal.txt", "dev07_seedstyle_kh_tabled_kh_kv.txt",
        "dev16_pdf_aluehallitus_full_dynasty.pdf")
# Good documents under hostile names: (name, dev file whose content they carry)
ODD_NAMES = (("kokous 12 § ä ö.txt", "dev03_ahjo_kh_tabled.txt"),
             ("rivin\nvaihto.txt", "dev04_ahjo_lautakunta_vastaehdotus.txt"),
             ("pöytäkirja – 名前 (1).pdf", "dev13_pdf_kh_full_labelcolumn.pdf"))
VOLATILE = ["processed_at", "seconds", "failed_at"]
IS_ROOT = os.geteuid() == 0


# --------------------------------------------------------------------------- building the files


def unique(name: str, tag: str) -> bytes:
    """A dev document's bytes made unique (a comment line / trailing PDF comment), so no two files are duplicates."""
    data = (DEV / name).read_bytes()
    return data + (f"\n% {tag}\n".encode() if name.endswith(".pdf") else f"\n\n# kopio: {tag}\n".encode())


def raw_pdf(*objects: bytes) -> bytes:
    """A PDF written by hand (objects 1..n, object 1 the catalog) with a correct xref table."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


CATALOG = b"<< /Type /Catalog /Pages 2 0 R >>"
PAGES = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
TEXT = b"BT /F1 12 Tf 72 720 Td (Paatos: hyvaksyttiin yksimielisesti.) Tj ET"


def stream(data: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d %s >>\nstream\n%s\nendstream" % (len(data), extra, data)


def page(contents: int = 4, extra: bytes = b"") -> bytes:
    return (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> %s >>" % (contents, extra))


def reportlab_pdf(path: Path, pages: int = 1, size: tuple[float, float] = (595, 842), text: str | None = None,
                  image: bool = False, encrypt: StandardEncryption | None = None) -> None:
    c = canvas.Canvas(str(path), pagesize=size, encrypt=encrypt)
    for _ in range(pages):
        if text:
            c.setFont("Helvetica", 12)
            for k, line in enumerate(text.splitlines()[:40]):
                c.drawString(72, size[1] - 72 - 14 * k, line)
        if image:
            from PIL import Image

            img = Image.new("L", (400, 200), 255)
            img.paste(0, (40, 40, 360, 60))  # a "line of print" as pixels: no text layer
            c.drawImage(ImageReader(img), 72, 500, 400, 200)
        c.showPage()
    c.save()


def bomb(gib: int = 1) -> bytes:
    """A Flate stream that inflates to `gib` GiB of zeros (about 1 MB compressed per GiB)."""
    co, chunk = zlib.compressobj(1), bytes(64 << 20)
    return b"".join([co.compress(chunk) for _ in range(16 * gib)] + [co.flush()])


MINUTES = (DEV / "dev02_cloudnc_kh_vote_recusal.txt").read_text(encoding="utf-8")
assert len(MINUTES.encode()) * 20_000 > 50 << 20


def _write(name: str, data: bytes) -> Callable[[Path], None]:
    return lambda src: (src / name).write_bytes(data)


def _symlink_out(src: Path) -> None:
    outside = src.parent / "outside"
    (outside / "folder").mkdir(parents=True, exist_ok=True)
    (outside / "secret.txt").write_bytes(unique("dev06_seedstyle_kh_kv_history.txt", "outside"))
    (outside / "folder" / "minutes.txt").write_bytes(unique("dev06_seedstyle_kh_kv_history.txt", "outside folder"))
    os.symlink(outside / "secret.txt", src / "symlink_outside.txt")
    os.symlink(outside / "folder", src / "symlink_outside_folder")


def _zip_holding_a_pdf() -> bytes:
    """A ZIP whose one member, stored uncompressed, is a PDF: %PDF- stands in its first 1024 bytes."""
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("p.pdf", raw_pdf(CATALOG, PAGES, page(), stream(TEXT), FONT))
    return buffer.getvalue()


def _long_line_pdf() -> bytes:
    """One text line of 40,000 characters: more than the 32,767 pdfium reads of one string."""
    line = b"Paatos hyvaksyttiin " * 2000
    return raw_pdf(CATALOG, PAGES, page(), stream(b"BT /F1 1 Tf 10 700 Td (" + line + b") Tj ET"), FONT)


def _undecodable_name(src: Path) -> None:
    """A name with a windows-1252 byte (caf\xe9), as folders copied from old Windows shares have."""
    with open(os.fsencode(src) + b"/caf\xe9.txt", "wb") as fh:
        fh.write(unique("dev06_seedstyle_kh_kv_history.txt", "cafe"))


def _unreadable(src: Path) -> None:
    path = src / "unreadable.txt"
    path.write_bytes(unique("dev05_tweb_kh_kv_history_cp1252.txt", "chmod 000"))
    path.chmod(0)


# name → (how to make it, expected: ("failed", stage, words) | ("partial", words) | ("ok", ()))
CASES: dict[str, tuple[Callable[[Path], None], tuple]] = {
    "empty.pdf": (_write("empty.pdf", b""), ("failed", "read", ("empty", "0 bytes"))),
    "empty.txt": (_write("empty.txt", b""), ("failed", "read", ("empty", "0 bytes"))),
    "truncated.pdf": (lambda src: (src / "truncated.pdf").write_bytes((DEV / GOOD[2]).read_bytes()[:30_000]),
                      ("failed", "read", ("truncated", "download"))),
    "encrypted.pdf": (lambda src: reportlab_pdf(src / "encrypted.pdf", text=MINUTES,
                                                encrypt=StandardEncryption("salasana", "owner")),
                      ("failed", "read", ("encrypted", "password", "decrypt"))),
    # An empty user password opens for anyone: it is read like any PDF.
    "encrypted_empty_password.pdf": (lambda src: reportlab_pdf(src / "encrypted_empty_password.pdf", text=MINUTES,
                                                               encrypt=StandardEncryption("", "owner")), ("ok", ())),
    "html_page.pdf": (_write("html_page.pdf", b"<!DOCTYPE html><html><body>404 Not Found</body></html>"),
                      ("failed", "read", ("not a PDF", "%PDF-"))),
    "zip_archive.pdf": (_write("zip_archive.pdf", b"PK\x03\x04" + os.urandom(4000)), ("failed", "read", ("not a PDF",))),
    "blank_5000_pages.pdf": (lambda src: reportlab_pdf(src / "blank_5000_pages.pdf", pages=5000),
                             ("partial", ("no text",))),
    "huge_page.pdf": (lambda src: reportlab_pdf(src / "huge_page.pdf", size=(14400, 14400), text=MINUTES), ("ok", ())),
    "image_only.pdf": (lambda src: reportlab_pdf(src / "image_only.pdf", image=True),
                       ("partial", ("page 1 has no text layer", "OCR is not available"))),
    "cyclic_page_tree.pdf": (_write("cyclic_page_tree.pdf", raw_pdf(
        CATALOG, b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>", page(), stream(TEXT), FONT)), ("handled",)),
    "cyclic_parent.pdf": (_write("cyclic_parent.pdf", raw_pdf(
        CATALOG, b"<< /Type /Pages /Kids [3 0 R] /Count 1 /Parent 3 0 R >>",
        b"<< /Type /Page /Parent 2 0 R /Contents 4 0 R >>", stream(TEXT), FONT)), ("handled",)),
    # Objects 6 and 7 refer to each other: pdfminer resolves the reference for ever (see ENGINE_CASES).
    "reference_loop.pdf": (_write("reference_loop.pdf", raw_pdf(
        CATALOG, PAGES, page(contents=6), stream(TEXT), FONT, b"7 0 R", b"6 0 R")), ("handled",)),
    "nested_arrays.pdf": (_write("nested_arrays.pdf", raw_pdf(
        CATALOG, PAGES, page(extra=b"/Junk " + b"[" * 100_000 + b"]" * 100_000), stream(TEXT), FONT)), ("handled",)),
    "nested_dicts.pdf": (_write("nested_dicts.pdf", raw_pdf(
        CATALOG, PAGES, page(extra=b"/Junk " + b"<< /A " * 50_000 + b">>" * 50_000), stream(TEXT), FONT)),
        ("handled",)),
    "nested_content.pdf": (_write("nested_content.pdf", raw_pdf(
        CATALOG, PAGES, page(), stream(b"q " * 100_000 + TEXT + b" Q" * 100_000), FONT)), ("handled",)),
    "header_only.pdf": (_write("header_only.pdf", b"%PDF-1.4\n%%EOF\n"), ("failed", "read", ("cannot be parsed",))),
    "garbage_body.pdf": (_write("garbage_body.pdf", b"%PDF-1.4\n" + bytes(range(256)) * 80 + b"\n%%EOF\n"),
                         ("failed", "read", ("cannot be parsed",))),
    "bad_flate.pdf": (_write("bad_flate.pdf", raw_pdf(
        CATALOG, PAGES, page(), stream(b"not zlib data " * 20, b"/Filter /FlateDecode"), FONT)),
        ("partial", ("no text",))),
    "compression_bomb.pdf": (lambda src: (src / "compression_bomb.pdf").write_bytes(raw_pdf(
        CATALOG, PAGES, page(), stream(bomb(1), b"/Filter /FlateDecode"), FONT)),
        ("failed", "read", (f"more than the {MEMORY_MB} MB", "--max-memory"))),
    "invalid_utf8.txt": (_write("invalid_utf8.txt", MINUTES[:3000].encode() + b"\xc3\x28 \xff\xfe \xe2\x82"
                                + MINUTES[3000:].encode()), ("partial", ("not valid utf-8", "U+FFFD"))),
    "utf16_bom.txt": (_write("utf16_bom.txt", (MINUTES + "\n# utf-16\n").encode("utf-16")), ("ok", ())),
    "utf16_no_bom.txt": (_write("utf16_no_bom.txt", (MINUTES + "\n# le\n").encode("utf-16-le")),
                         ("partial", ("no byte-order mark", "UTF-16-LE"))),
    "utf16be_no_bom.txt": (_write("utf16be_no_bom.txt", (MINUTES + "\n# be\n").encode("utf-16-be")),
                           ("partial", ("no byte-order mark", "UTF-16-BE"))),
    "utf32_no_bom.txt": (_write("utf32_no_bom.txt", (MINUTES + "\n# 32\n").encode("utf-32-le")),
                         ("partial", ("no byte-order mark", "UTF-32-LE"))),
    "utf32_bom.txt": (_write("utf32_bom.txt", (MINUTES + "\n# 32 bom\n").encode("utf-32")), ("ok", ())),
    "mixed_utf8_cp1252.txt": (_write("mixed_utf8_cp1252.txt", MINUTES[:2000].encode() + "Pöytäkirja Äänestys ".encode(
        "cp1252") * 30 + MINUTES[2000:].encode()), ("partial", ("mixes valid UTF-8", "cp1252"))),
    "cp1252_guess.txt": (_write("cp1252_guess.txt", ("Kokous 12.3.2025. Päätös: hyväksyttiin yksimielisesti, "
                                                     "kustannus 5 ¤.\n" * 50).encode("cp1252")),
                         ("partial", ("not UTF-8", "a guess"))),
    "caf\\xe9.txt": (_undecodable_name, ("partial", ("not valid UTF-8", "\\xNN"))),
    "zip_holding_a_pdf.pdf": (_write("zip_holding_a_pdf.pdf", _zip_holding_a_pdf()),
                              ("failed", "read", ("ZIP archive", "nothing inside it was read"))),
    "junk_after_header.pdf": (_write("junk_after_header.pdf", b"%PDF-1.7\n" + b"junk and more junk\n" * 200),
                              ("failed", "read", ("no PDF objects",))),
    "prefixed.pdf": (_write("prefixed.pdf", b"Content-Type: application/pdf\r\n\r\n"
                            + raw_pdf(CATALOG, PAGES, page(), stream(TEXT), FONT)),
                     ("partial", ("before the %PDF- header",))),
    "zero_pages.pdf": (_write("zero_pages.pdf", raw_pdf(CATALOG, b"<< /Type /Pages /Kids [] /Count 0 >>")),
                       ("partial", ("no pages",))),
    "long_pdf_line.pdf": (_write("long_pdf_line.pdf", _long_line_pdf()), ("partial", ("32,767",))),
    "nfd_one_line.txt": (_write("nfd_one_line.txt", unicodedata.normalize("NFD", MINUTES * 15).replace("\n", " ")
                                .encode()), ("read",)),
    "section_signs.txt": (_write("section_signs.txt", ("§" * 40_000).encode()), ("read",)),
    "underscores.txt": (_write("underscores.txt", b"_" * 30_000), ("read",)),
    "dangling_outside.pdf": (lambda src: os.symlink("/nonexistent-minutes-folder/x.pdf", src / "dangling_outside.pdf"),
                             ("failed", "read", ("does not exist", "fix or remove the link"))),
    "binary_junk.txt": (_write("binary_junk.txt", bytes(range(256)) * 100), ("failed", "read", ("binary",))),
    "pdf_named.txt": (lambda src: (src / "pdf_named.txt").write_bytes(unique(GOOD[2], "named .txt")),
                      ("failed", "read", ("binary",))),
    "huge_50mb.txt": (lambda src: (src / "huge_50mb.txt").write_bytes((MINUTES.encode() * 20_000)[:50 << 20]),
                      ("failed", "read", ("50.0 MB", "--max-text-mb"))),
    "nul_bytes.txt": (_write("nul_bytes.txt", MINUTES.replace("\n", "\x00\n").encode()), ("partial", ("NUL bytes",))),
    "whitespace_only.txt": (_write("whitespace_only.txt", b" \n\t\n  \r\n" * 50), ("partial", ("no text",))),
    "long_line.txt": (_write("long_line.txt", b"Paatos hyvaksyttiin " * 50_000), ("ok", ())),
    "symlink_outside.txt": (_symlink_out, ("failed", "read", ("symlink to a file outside the input folder",
                                                             "not followed", "--follow-symlinks"))),
    "symlink_outside_folder": (lambda src: None, ("failed", "read", ("symlink to a folder outside the input folder",
                                                                     "--follow-symlinks"))),
    "dangling_link.pdf": (lambda src: os.symlink("missing.pdf", src / "dangling_link.pdf"),
                          ("failed", "read", ("missing.pdf", "does not exist"))),
    "named_pipe.txt": (lambda src: os.mkfifo(src / "named_pipe.txt"), ("failed", "read", ("named pipe", "regular file"))),
    "unreadable.txt": (_unreadable, ("ok", ()) if IS_ROOT else ("failed", "read", ("permission denied",))),
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = tmp_path_factory.mktemp("malformed") / "src"
    src.mkdir()
    for make, _ in CASES.values():
        make(src)
    for name in GOOD:
        shutil.copy(DEV / name, src / name)
    for name, dev in ODD_NAMES:
        (src / name).write_bytes(unique(dev, name))
    return src


ENGINES = ("pypdfium2", "pdfplumber")
# What an engine must do with a file the table says is "handled" (read or refused, no matter which).
ENGINE_CASES = {("pdfplumber", "reference_loop.pdf"): ("failed", "read", (f"longer than {TIMEOUT} s", "--timeout")),
                ("pdfplumber", "long_pdf_line.pdf"): ("read",)}  # pdfplumber reads the long line whole
Ingested = tuple[Path, int, str, str]  # out, exit code, stdout, engine


@pytest.fixture(scope="module", params=ENGINES)
def ingested(request: pytest.FixtureRequest, corpus: Path) -> Ingested:
    engine = request.param
    out = corpus.parent / f"out-{engine}"
    no_ocr = corpus.parent / "bin-without-tesseract"
    no_ocr.mkdir(exist_ok=True)
    stdout = io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(stdout):
        patch.setenv("PATH", str(no_ocr))
        code = main(["ingest", str(corpus), "--out", str(out), "--quiet", "--workers", "2", "--engine", engine,
                     "--timeout", str(TIMEOUT), "--max-memory", str(MEMORY_MB)])
    return out, code, stdout.getvalue(), engine


def test_the_corpus_is_big_enough() -> None:
    assert len(CASES) >= 30


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_broken_file_has_one_row_with_a_reason(ingested: Ingested, name: str) -> None:
    out, _, _, engine = ingested
    failures = pd.read_parquet(out / "failures")
    documents = pd.read_parquet(out / "documents")
    failed = failures[failures.source_path == name]
    read = documents[documents.source_path == name]
    assert len(failed) + len(read) == 1, f"{name}: {len(failed)} failures rows, {len(read)} documents rows"
    expected = ENGINE_CASES.get((engine, name), CASES[name][1])
    if expected[0] == "read":
        assert len(read) == 1, f"{name} failed: {failed.iloc[0].reason if len(failed) else ''}"
    elif expected[0] == "handled":
        assert len(read) == 1 or "internal error" not in failed.iloc[0].reason
        assert len(read) == 1 or failed.iloc[0].stage == "read"
    elif expected[0] == "failed":
        assert len(failed) == 1, f"{name} was read: {read.iloc[0].to_dict()}"
        row = failed.iloc[0]
        assert row.stage == expected[1], row.reason
        for words in expected[2]:
            assert words.lower() in row.reason.lower(), f"{name}: {words!r} not in {row.reason!r}"
        assert "internal error" not in row.reason
        assert "outside the input folder" not in row.reason or name.startswith("symlink_outside")
    else:
        assert len(read) == 1, f"{name} failed: {failed.iloc[0].reason if len(failed) else ''}"
        row = read.iloc[0]
        assert row.status == expected[0], list(row.warnings)
        warnings = " | ".join(row.warnings).lower()
        for words in expected[1]:
            assert words.lower() in warnings, f"{name}: {words!r} not in {warnings!r}"


def test_good_documents_are_written_as_without_the_broken_ones(ingested: Ingested, corpus: Path,
                                                                tmp_path: Path) -> None:
    out, _, _, engine = ingested
    clean = tmp_path / "clean"
    clean.mkdir()
    good = [*GOOD, *(name for name, _ in ODD_NAMES)]
    for name in good:
        shutil.copy(corpus / name, clean / name)
    run_batch(clean, tmp_path / "reference", engine=engine, isolate=False)
    for table in ("documents", "decisions", "mentions"):
        order = list(TABLES[table].sort_by)  # files are written per commit: the order across them is not kept
        # nullable dtypes: a null in another document's rows must not turn this column into floats
        got = pd.read_parquet(out / table, dtype_backend="numpy_nullable").sort_values(order)
        want = pd.read_parquet(tmp_path / "reference" / table, dtype_backend="numpy_nullable").sort_values(order)
        ids = set(want.doc_id)
        got = got[got.doc_id.isin(ids)].drop(columns=VOLATILE, errors="ignore").reset_index(drop=True)
        want = want.drop(columns=VOLATILE, errors="ignore").reset_index(drop=True)
        pd.testing.assert_frame_equal(got, want, obj=table)
    documents = pd.read_parquet(out / "documents")
    assert set(good) <= set(documents.source_path)  # names with spaces, a newline, non-ASCII: unchanged
    assert len(pd.read_parquet(out / "decisions").query("doc_id in @ids")) >= 6


def test_exit_code_and_summary_name_the_failures(ingested: Ingested) -> None:
    out, code, stdout, _ = ingested
    n_failed = len(pd.read_parquet(out / "failures"))
    assert code == 1
    assert f"{n_failed} failed" in stdout
    assert f"failures:  {n_failed} standing ({n_failed} from this run), reasons in {out.resolve() / 'failures'}" in stdout


def test_nothing_is_left_out_and_nothing_invented(ingested: Ingested, corpus: Path) -> None:
    out, _, _, _ = ingested
    paths = set(pd.read_parquet(out / "failures").source_path) | set(pd.read_parquet(out / "documents").source_path)
    expected = set(CASES) | set(GOOD) | {name for name, _ in ODD_NAMES}
    assert paths == expected
    assert not (corpus.parent / "outside" / "secret.txt.parquet").exists()
    assert "secret" not in " ".join(pd.read_parquet(out / "mentions").text.dropna())


def test_the_summary_counts_match_the_tables(ingested: Ingested) -> None:
    out, _, stdout, _ = ingested
    documents = pd.read_parquet(out / "documents")
    n = len(CASES) + len(GOOD) + len(ODD_NAMES)
    partial = int((documents.status == "partial").sum())
    assert f"documents: {n} ({len(documents) - partial} ok, {partial} partial, {n - len(documents)} failed" in stdout
