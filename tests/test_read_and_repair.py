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


def _difflib_count(before: str, after: str) -> int:
    """The changed-character count as difflib gives it for the whole line: the minimal one."""
    from difflib import SequenceMatcher

    total = 0
    for a, b in zip(before.split("\n"), after.split("\n"), strict=True):
        total += sum(max(i2 - i1, j2 - j1) for tag, i1, i2, j1, j2 in
                     SequenceMatcher(None, a, b, autojunk=False).get_opcodes() if tag != "equal")
    return total


def _variants() -> list[tuple[str, str]]:
    import unicodedata

    from tests.conftest import FIXTURES

    found = []
    for path in sorted(DEV.glob("*.txt")) + sorted((FIXTURES / "styles").glob("*.txt")):
        text = path.read_text(encoding="utf-8", errors="replace")
        found += [(path.name, text), (f"{path.name} NFD", unicodedata.normalize("NFD", text)),
                  (f"{path.name} mojibake", text.encode("utf-8").decode("cp1252", errors="replace"))]
    return found


@pytest.mark.parametrize("name, text", _variants(), ids=[n for n, _ in _variants()])
def test_changed_characters_are_counted_as_difflib_counts_them(name: str, text: str) -> None:
    """The linear count (words compared exactly, long runs aligned in a bounded window) agrees with
    difflib's minimal count on real minutes, decomposed and double-encoded."""
    from pipeline.repair import _changed_chars, fix_text

    fixed = fix_text(text)
    assert _changed_chars(text, fixed) == _difflib_count(text, fixed)


@pytest.mark.parametrize("before, after, expected", [
    ("a" * 5000 + "b", "a" * 5000 + "c", 1),  # one long word: the bounded alignment
    ("Pa\u0308a\u0308to\u0308s " * 3000, "Päätös " * 3000, 18_000),
    ("x" * 1000, "", 1000),
    ("§" * 10_000, "§" * 9_000, 1000),
    ("ab" * 4000 + "Ã¤" + "ab" * 4000, "ab" * 4000 + "ä" + "ab" * 4000, 2),
])
def test_long_changed_lines_are_counted(before: str, after: str, expected: int) -> None:
    from pipeline.repair import _changed_chars

    assert _changed_chars(before, after) == expected
