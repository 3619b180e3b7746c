"""Security: symlinks out of the input folder, writes only under --out, hostile names, redaction.

- A symlink (to a file or a folder) leading out of SRC is refused with a reason unless
  `--follow-symlinks`; links inside SRC are read as usual; a loop of folder links ends.
- A run writes nothing outside `--out` (not in SRC, not in the working directory), whatever the
  names of the files; names that would do harm in a shell are data, never commands.
- `--redact-contacts` masks e-mail addresses and phone numbers in the published text columns
  and leaves dates, diary ids and sums alone.
"""
from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path

import pandas as pd
import pytest

from pipeline.cli import main
from pipeline.redact import EMAIL_MASK, PHONE_MASK, TEXT_COLUMNS, redact
from tests.conftest import DEV

ROOT = Path(__file__).resolve().parent.parent


def ingest(*args: str) -> tuple[int, str]:
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        code = main(["ingest", *args, "--quiet"])
    return code, stdout.getvalue()


def copy_dev(folder: Path, name: str, tag: str, as_name: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (as_name or name)
    path.write_bytes((DEV / name).read_bytes() + f"\n\n# {tag}\n".encode())
    return path


def snapshot(root: Path, skip: Path | None = None) -> dict[str, tuple[int, int]]:
    """Every entry below `root` (not following links), but `skip`: path → (size, mtime)."""
    out = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder, name)
            if skip is not None and Path(os.path.abspath(path)).is_relative_to(os.path.abspath(skip)):
                continue
            info = os.lstat(path)
            out[str(path.relative_to(root))] = (info.st_size, info.st_mtime_ns)
    return out


@pytest.fixture
def linked(tmp_path: Path) -> Path:
    """SRC with a good file, links out of it (file, folder), a link inside it and a folder loop."""
    src, outside = tmp_path / "src", tmp_path / "outside"
    copy_dev(src, "dev03_ahjo_kh_tabled.txt", "inside")
    copy_dev(outside, "dev04_ahjo_lautakunta_vastaehdotus.txt", "outside file")
    copy_dev(outside / "folder", "dev07_seedstyle_kh_tabled_kh_kv.txt", "outside folder")
    copy_dev(src / "real", "dev06_seedstyle_kh_kv_history.txt", "real folder")
    os.symlink(outside / "dev04_ahjo_lautakunta_vastaehdotus.txt", src / "out_file.txt")
    os.symlink(outside / "folder", src / "out_folder")
    os.symlink(src / "real" / "dev06_seedstyle_kh_kv_history.txt", src / "in_file.txt")
    os.symlink("..", src / "real" / "loop")  # a folder link back up: walking it must end
    return src


def test_symlinks_out_of_the_folder_are_refused_with_a_reason(linked: Path, tmp_path: Path) -> None:
    code, stdout = ingest(str(linked), "--out", str(tmp_path / "out"))
    assert code == 1
    failures = pd.read_parquet(tmp_path / "out" / "failures").set_index("source_path")
    assert sorted(failures.index) == ["out_file.txt", "out_folder"]
    outside = (tmp_path / "outside").resolve()
    assert failures.loc["out_file.txt", "reason"] == (
        f"symlink to a file outside the input folder ({outside / 'dev04_ahjo_lautakunta_vastaehdotus.txt'}); "
        "not followed: pass --follow-symlinks to read it")
    assert failures.loc["out_folder", "reason"].startswith(f"symlink to a folder outside the input folder ({outside / 'folder'})")
    documents = pd.read_parquet(tmp_path / "out" / "documents")
    assert sorted(documents.source_path) == ["dev03_ahjo_kh_tabled.txt", "in_file.txt"]  # real/... is its duplicate
    assert "2 failed" in stdout


def test_follow_symlinks_reads_them(linked: Path, tmp_path: Path) -> None:
    code, _ = ingest(str(linked), "--out", str(tmp_path / "out"), "--follow-symlinks")
    assert code == 0
    documents = pd.read_parquet(tmp_path / "out" / "documents")
    assert {"out_file.txt", "out_folder/dev07_seedstyle_kh_tabled_kh_kv.txt"} <= set(documents.source_path)
    assert len(pd.read_parquet(tmp_path / "out" / "failures")) == 0


def test_nothing_is_written_outside_out(linked: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    for name in ("$(touch pwned).txt", "; touch pwned2 ;.txt", "`touch pwned3`.txt", "-rf.txt", "--out.txt",
                 "x\\..\\..\\escape.txt", "päätös\tsarkain\nrivi.txt"):
        copy_dev(linked, "dev02_cloudnc_kh_vote_recusal.txt", name, as_name=name)
    out = tmp_path / "nested" / ".." / "out"  # resolved: the tables land in tmp_path/out
    before = snapshot(tmp_path)
    code, stdout = ingest(str(linked), "--out", str(out))
    assert code == 1  # the two links out of SRC
    after = snapshot(tmp_path, skip=tmp_path / "out")
    assert after == before, f"written outside --out: {sorted(set(after) ^ set(before))}"
    assert not list(tmp_path.rglob("pwned*"))
    assert not (tmp_path / "nested").exists()
    assert f"reasons in {tmp_path / 'out' / 'failures'}" in stdout
    documents = pd.read_parquet(tmp_path / "out" / "documents")
    assert {"$(touch pwned).txt", "; touch pwned2 ;.txt", "`touch pwned3`.txt", "-rf.txt", "--out.txt",
            "x\\..\\..\\escape.txt", "päätös\tsarkain\nrivi.txt"} <= set(documents.source_path)
    assert {p.name for p in (tmp_path / "out").iterdir()} <= {
        "documents", "decisions", "mentions", "meetings", "votes", "failures", "pages", "fetches", "cases",
        "case_handlings", "search.sqlite", "snapshot.json"}


SHELL = re.compile(r"shell\s*=\s*True|os\.system\(|os\.popen\(|commands\.getoutput")


def test_no_module_hands_anything_to_a_shell() -> None:
    code = [p for folder in ("pipeline", "extractors", "flows") for p in (ROOT / folder).rglob("*.py")]
    assert len(code) > 20
    offenders = [str(p) for p in code if SHELL.search(p.read_text(encoding="utf-8"))]
    assert offenders == []


def test_out_that_is_a_file_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("x")
    copy_dev(tmp_path / "src", "dev02_cloudnc_kh_vote_recusal.txt", "x")
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        assert ingest(str(tmp_path / "src"), "--out", str(tmp_path / "taken"))[0] == 2
    assert "is a file; give a folder" in stderr.getvalue()


# --------------------------------------------------------------------------- --redact-contacts

CONTACTS = ("puh. 040 806 3312", "+358 40 123 4567", "etunimi.sukunimi(a)hel.fi", "09 310 37214",
            "puh. 044 459 7301", "kirjaamo@pihtipudas.fi", "talousjohtaja(at)pihtipudas.fi")
KEPT = ("402/02.05.01/2025", "1 850 000 euron", "13.10.2025", "598/00.04.01/2025", "1 450 000 euroa")
# Broader than the redactor's own patterns, so that a miss cannot hide behind the same regex.
LEAK = re.compile(r"[\w.+-]+\s?(?:@|\(at?\)|\[at?\])\s?[\w-]+\.\w|(?<![\d/.])(?:\+358|0[1-9])[\d \-()]{6,14}\d")


def _with_contacts(src: Path) -> None:
    """dev06 with contacts in the title, the proposal and the decision (where the tables carry text)."""
    text = (DEV / "dev06_seedstyle_kh_kv_history.txt").read_text(encoding="utf-8")
    text = text.replace(
        "Omavelkaisen takauksen myöntäminen Pihtiputaan Vuokratalot Oy:lle peruskorjauslainaa varten",
        "Omavelkaisen takauksen myöntäminen Pihtiputaan Vuokratalot Oy:lle (yhteys 09 310 37214)", 1)
    text = text.replace(
        "vastavakuudeksi kiinteistökiinnitykset vähintään takauksen määrästä.",
        "vastavakuudeksi kiinteistökiinnitykset vähintään takauksen määrästä. Lisätietoja antaa talousjohtaja, "
        "puh. 040 806 3312 tai +358 40 123 4567, etunimi.sukunimi(a)hel.fi. Asia 598/00.04.01/2025, "
        "1 450 000 euroa.", 1)
    text = text.replace("Hyväksyttiin.", "Hyväksyttiin. Tiedoksi kirjaamo@pihtipudas.fi ja "
                        "talousjohtaja(at)pihtipudas.fi, puh. 044 459 7301.", 1)
    src.mkdir()
    (src / "contacts.txt").write_text(text, encoding="utf-8")


def _text_values(out: Path) -> str:
    values = []
    for table, columns in TEXT_COLUMNS.items():
        frame = pd.read_parquet(out / table)
        for column in columns:
            for value in frame[column].dropna():
                values.extend(value.tolist() if hasattr(value, "tolist") else [value])
    return "\n".join(str(v) for v in values)


def test_redact_contacts_masks_them_and_keeps_other_numbers(tmp_path: Path) -> None:
    src = tmp_path / "src"
    _with_contacts(src)
    assert ingest(str(src), "--out", str(tmp_path / "plain"))[0] == 0
    assert ingest(str(src), "--out", str(tmp_path / "redacted"), "--redact-contacts")[0] == 0
    plain, redacted = _text_values(tmp_path / "plain"), _text_values(tmp_path / "redacted")
    decisions = pd.read_parquet(tmp_path / "plain" / "decisions")
    shown = " ".join(decisions.title.dropna()) + " ".join(decisions.proposal.dropna()) + " ".join(decisions.decision.dropna())
    for contact in CONTACTS:  # the test document does put them where the tables carry text
        assert contact in shown, contact
    assert LEAK.search(plain)
    assert not LEAK.search(redacted), LEAK.search(redacted)
    assert EMAIL_MASK in redacted and PHONE_MASK in redacted
    for number in KEPT:
        assert number in redacted, number
    for table in ("decisions", "meetings"):
        a = pd.read_parquet(tmp_path / "plain" / table)
        b = pd.read_parquet(tmp_path / "redacted" / table)
        for column in ("diary_id", "meeting_date", "section", "outcome"):
            if column in a:
                assert a[column].tolist() == b[column].tolist(), column


@pytest.mark.parametrize("text, expected", [
    ("puh. 040 806 3312", f"puh. {PHONE_MASK}"),
    ("09 310 37214", PHONE_MASK),
    ("+358 40 123 4567", PHONE_MASK),
    ("+358 (0)9 310 1691", PHONE_MASK),
    ("(09) 310 1691", PHONE_MASK),
    ("p. 050 307 6114", f"p. {PHONE_MASK}"),
    ("puh. 044 7895 210", f"puh. {PHONE_MASK}"),
    ("0408063312", PHONE_MASK),
    ("etunimi.sukunimi(a)hel.fi", EMAIL_MASK),
    ("salla.korpela(at)hel.fi", EMAIL_MASK),
    ("kirjaamo@hel.fi.", f"{EMAIL_MASK}."),
    ("598/00.04.01/2025", "598/00.04.01/2025"),
    ("1 450 000 euroa", "1 450 000 euroa"),
    ("10 000 000 euroa", "10 000 000 euroa"),
    ("08.12.2025 klo 09.00-12.00", "08.12.2025 klo 09.00-12.00"),
    ("Y-tunnus 0201256-6", "Y-tunnus 0201256-6"),
    ("00100 Helsinki", "00100 Helsinki"),
    ("HEL 2025-012345", "HEL 2025-012345"),
    ("FI21 1234 5600 0007 85", "FI21 1234 5600 0007 85"),
    ("kokous 12/2025, § 323", "kokous 12/2025, § 323"),
    ("kohdat (a) ja (b)", "kohdat (a) ja (b)"),
])
def test_redact_cases(text: str, expected: str) -> None:
    assert redact(text) == expected


_IDS = re.compile(r"\b[0-9a-f]{64}(?::\d+|:meeting)?\b")


def _whole_output(out: Path) -> str:
    """Every cell of every table as text (ids aside: a hex digest may look like a number)."""
    import pyarrow.parquet as pq

    cells = []
    for folder in sorted(p for p in out.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for row in pq.read_table(folder).to_pylist():
            cells.extend(str(v) for v in row.values())
    return _IDS.sub("", "\n".join(cells))


INTERNATIONAL = ("+46 70 123 45 67", "matti.virtanen at pihtipudas.fi", "kirjaamo [at] hel [dot] fi")


def test_redact_contacts_on_an_existing_output_masks_every_column_and_page(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    _with_contacts(src)
    text = (src / "contacts.txt").read_text(encoding="utf-8")
    (src / "contacts.txt").write_text(text.replace("Hyväksyttiin.", "Hyväksyttiin. Yhteys " + ", ".join(INTERNATIONAL)
                                                   + ".", 1), encoding="utf-8")
    copy_dev(src, "dev03_ahjo_kh_tabled.txt", "second")
    assert ingest(str(src), "--out", str(out))[0] == 0
    before = _whole_output(out)
    assert LEAK.search(before) and all(c in before for c in INTERNATIONAL)
    assert not pd.read_parquet(out / "documents").redacted.any()

    code, stdout = ingest(str(src), "--out", str(out), "--redact-contacts")  # nothing changed but the wish
    assert code == 0, stdout
    after = _whole_output(out)
    assert not LEAK.search(after), LEAK.search(after)
    assert not any(c in after for c in INTERNATIONAL)
    documents = pd.read_parquet(out / "documents")
    assert documents.redacted.all() and len(documents) == 2
    assert "pages:     2 document(s) extracted again from stored pages" in stdout
    for number in KEPT:
        assert number in after, number
    assert ingest(str(src), "--out", str(out), "--redact-contacts")[1].count("2 unchanged and skipped") == 1


def test_redact_contacts_is_refused_while_vanished_documents_would_keep_theirs(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    _with_contacts(src)
    assert ingest(str(src), "--out", str(out))[0] == 0
    (src / "contacts.txt").rename(tmp_path / "moved-away.txt")
    copy_dev(src, "dev03_ahjo_kh_tabled.txt", "other")
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        assert ingest(str(src), "--out", str(out), "--redact-contacts")[0] == 2
    assert "would leave 1 document(s) unmasked" in stderr.getvalue() and "--prune" in stderr.getvalue()
    assert LEAK.search(_whole_output(out))  # nothing was done
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["reprocess", "--out", str(out), "--redact-contacts", "--quiet"]) == 0
    assert not LEAK.search(_whole_output(out))
    assert pd.read_parquet(out / "documents").redacted.all()


@pytest.mark.parametrize("text", ["+46 70 123 45 67", "+44 20 7946 0958", "0049 30 1234567", "+1 202 555 0143",
                                  "matti.virtanen at hel.fi", "nimi (at) kunta (dot) fi", "nimi [at] hel [dot] fi",
                                  "etunimi.sukunimi ät hel piste fi", "kirjaamo @ hel.fi"])
def test_international_numbers_and_obfuscated_addresses_are_masked(text: str) -> None:
    assert redact(f"Yhteys {text}.") in (f"Yhteys {PHONE_MASK}.", f"Yhteys {EMAIL_MASK}.")
