"""Reading text files (encodings, junk) and the repair registry, from case tables."""
from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.errors import ReadError
from pipeline.read import read_document
from pipeline.repair import repair, steps
from pipeline.schema import REPAIR_STEPS
from tests.conftest import DEV, case_rows

REPAIR_CASES = case_rows("repair")


@pytest.mark.parametrize("case", REPAIR_CASES, ids=[c["note"] for c in REPAIR_CASES])
def test_repair_step(case: dict[str, str]) -> None:
    fixed, counts = repair(case["input"], only=(case["step"],))
    expected = case["expected"].replace("\\n", "\n")
    assert fixed == expected
    assert (counts[case["step"]] > 0) is (not case["note"].startswith("NEGATIVE"))


def test_registry_matches_schema() -> None:
    assert [s.name for s in steps()] == list(REPAIR_STEPS)


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_repair_is_idempotent_and_total(text: str) -> None:
    once, _ = repair(text)
    twice, counts = repair(once)
    assert twice == once


def test_cp1252_file_is_detected_and_recorded() -> None:
    raw = read_document(DEV / "dev05_tweb_kh_kv_history_cp1252.txt")
    assert raw.encoding == "cp1252"
    assert "§ 97" in raw.pages[0].text and "KANKAANPÄÄN KAUPUNKI" in raw.pages[0].text
    data = (DEV / "dev05_tweb_kh_kv_history_cp1252.txt").read_bytes()
    assert raw.doc_id == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize(("data", "encoding"), [
    ("Päätös § 5".encode("utf-8"), "utf-8"),
    ("\ufeffPäätös § 5".encode("utf-8"), "utf-8-sig"),
    ("Päätös § 5 – hyväksyttiin".encode("utf-16"), "utf-16"),
    ("Päätös § 5, hyväksyttiin yksimielisesti.".encode("latin-1"), "cp1252"),
])
def test_encodings(tmp_path: Path, data: bytes, encoding: str) -> None:
    path = tmp_path / "doc.txt"
    path.write_bytes(data)
    raw = read_document(path)
    assert raw.encoding == encoding
    assert "Päätös § 5" in raw.pages[0].text


@pytest.mark.parametrize(("data", "reason"), [
    (b"", "empty"),
    (bytes(range(256)) * 50, "binary"),
])
def test_unreadable_text_gives_a_reason(tmp_path: Path, data: bytes, reason: str) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(data)
    with pytest.raises(ReadError, match=reason):
        read_document(path)


def test_nul_bytes_are_removed_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "nul.txt"
    path.write_bytes("Päätös\x00 § 5 ".encode() * 200)
    raw = read_document(path)
    assert "\x00" not in raw.pages[0].text
    assert raw.warnings


def test_html_reads_as_a_reader_sees_it(tmp_path: Path) -> None:
    page = (
        '<html><head><meta charset="iso-8859-1"><script>var s = "§ 99";</script><style>p{}</style></head>'
        "<body><h3>Kaupunginhallitus 08.12.2025 &sect; 323</h3><table><tr><td>Päätös</td><td>Hyväksyttiin.</td></tr>"
        "</table><p>Tiedoksi:&nbsp;hallinto</p></body></html>"
    )
    path = tmp_path / "item.html"
    path.write_bytes(page.encode("iso-8859-1"))
    raw = read_document(path)
    text = raw.pages[0].text
    assert raw.encoding == "iso-8859-1" and raw.engine == "html"
    assert "Kaupunginhallitus 08.12.2025 § 323\n" in text
    assert "Päätös  Hyväksyttiin." in text
    assert "§ 99" not in text and "p{}" not in text


def test_html_without_markup_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "plain.html"
    path.write_text("Päätös: hyväksyttiin.", encoding="utf-8")
    with pytest.raises(ReadError, match="no HTML markup"):
        read_document(path)
