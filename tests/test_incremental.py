"""Incremental runs, stored pages, reprocess, the output lock and safe writes.

One cold run over two text files and two PDFs is made once per module; each test works on a
copy of its sources and tables. Where a test says "without reading", `read_document` is
replaced by a function that fails the test: a run that parses a file it should not is caught,
not merely slower.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from extractors import EXTRACTOR_VERSION
from pipeline.cli import main
from pipeline.pages import READER_VERSION
from pipeline.read import DEFAULT_ENGINE, ENGINES, read_document
from pipeline.run import Summary, reprocess, run_batch
from pipeline.schema import TABLES
from pipeline.store import OutputLocked, Store

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT / "tests" / "fixtures" / "corpus" / "dev"
FILES = ("dev02_cloudnc_kh_vote_recusal.txt", "dev10_mojibake_cloudnc_noted.txt",
         "dev13_pdf_kh_full_labelcolumn.pdf", "dev17_pdf_ote_2pages_ligatures.pdf")
ROW_TABLES = ("documents", "decisions", "meetings", "votes", "mentions", "failures")
VOLATILE = {"processed_at", "seconds", "failed_at"}


@pytest.fixture(scope="module")
def cold(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("cold")
    src, out = base / "src", base / "out"
    src.mkdir()
    for name in FILES:
        shutil.copy(DEV / name, src / name)
    summary = ingest(src, out)
    assert summary.ok + summary.partial == len(FILES), summary
    return src, out


@pytest.fixture
def copy(cold: tuple[Path, Path], tmp_path: Path) -> tuple[Path, Path]:
    src, out = tmp_path / "src", tmp_path / "out"
    shutil.copytree(cold[0], src)
    shutil.copytree(cold[1], out)
    return src, out


@pytest.fixture
def no_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(path: Path, engine: str = "pdfplumber") -> None:
        raise AssertionError(f"{path.name} was read although its stored pages should have been used")

    monkeypatch.setattr("pipeline.pages.read_document", refuse)


def ingest(src: Path, out: Path, **options: object) -> Summary:
    """`run_batch` in this process: the monkeypatched reader applies, and an edit of the reader code
    while the suite runs (a shared tree) cannot give the workers another READER_VERSION."""
    return run_batch(src, out, isolate=False, **options)


def frames(out: Path, names: tuple[str, ...] = ROW_TABLES) -> dict[str, pd.DataFrame]:
    result = {}
    for name in names:
        df = pd.read_parquet(out / name)
        df = df.drop(columns=[c for c in df.columns if c in VOLATILE])
        result[name] = df.sort_values(list(TABLES[name].sort_by)).reset_index(drop=True)
    return result


def set_column(out: Path, table: str, column: str, value: str) -> None:
    """Rewrite a column in place, as an older version of minutes would have left it."""
    for shard in (out / table).glob("part-*.parquet"):
        t = pq.read_table(shard)
        i = t.schema.get_field_index(column)
        t = t.set_column(i, t.schema.field(i), pa.array([value] * t.num_rows, t.schema.field(i).type))
        pq.write_table(t, shard)


def snapshot(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def doc_id(src: Path, name: str) -> str:
    return read_document(src / name).doc_id


# --------------------------------------------------------------------------- pages


def test_pages_hold_what_the_reader_read(cold: tuple[Path, Path]) -> None:
    src, out = cold
    pages = pd.read_parquet(out / "pages")
    for name in FILES:
        raw = read_document(src / name)
        mine = pages[pages.doc_id == raw.doc_id].sort_values("page")
        assert mine.page.tolist() == [p.number for p in raw.pages], name
        assert mine.text.tolist() == [p.text for p in raw.pages], name
        assert set(mine.engine) == {raw.engine} and set(mine.reader_version) == {READER_VERSION}
        assert set(mine.file_size) == {raw.size}
    assert pages.groupby("doc_id").size().max() > 1  # the PDFs' pages are stored one row each


# --------------------------------------------------------------------------- incremental


def test_warm_run_skips_everything_and_writes_nothing(copy: tuple[Path, Path], no_reads: None) -> None:
    src, out = copy
    before = {p: (p.stat().st_mtime_ns, p.stat().st_ino) for p in out.rglob("*.parquet")}
    summary = ingest(src, out)
    assert (summary.documents, summary.skipped, summary.ok + summary.partial + summary.failed) == (4, 4, 0)
    assert {p: (p.stat().st_mtime_ns, p.stat().st_ino) for p in out.rglob("*.parquet")} == before
    assert "4 unchanged and skipped" in summary.lines()[0]
    assert not (out / ".lock").exists()


def test_new_extractor_version_reextracts_from_stored_pages(copy: tuple[Path, Path], no_reads: None,
                                                            cold: tuple[Path, Path]) -> None:
    src, out = copy
    set_column(out, "documents", "extractor_version", "0.0.1+older")
    summary = run_batch(src, out, workers=2)  # in isolated worker processes
    assert (summary.ok + summary.partial, summary.from_pages, summary.skipped) == (4, 4, 0)
    assert set(pd.read_parquet(out / "documents").extractor_version) == {EXTRACTOR_VERSION}
    got, want = frames(out), frames(cold[1])
    for name in ROW_TABLES:
        pd.testing.assert_frame_equal(got[name], want[name], obj=name)
    pd.testing.assert_frame_equal(pd.read_parquet(out / "pages"), pd.read_parquet(cold[1] / "pages"))


def test_pages_of_another_reader_version_are_read_again(copy: tuple[Path, Path]) -> None:
    src, out = copy
    set_column(out, "pages", "reader_version", "old-reader")
    set_column(out, "documents", "extractor_version", "0.0.1+older")
    summary = ingest(src, out)
    assert summary.from_pages == 0 and summary.ok + summary.partial == 4
    assert set(pd.read_parquet(out / "pages").reader_version) == {READER_VERSION}


def test_changed_bytes_replace_the_old_rows_and_pages(copy: tuple[Path, Path]) -> None:
    src, out = copy
    name = "dev13_pdf_kh_full_labelcolumn.pdf"
    old = doc_id(src, name)
    shutil.copy(DEV / "dev14_pdf_kv_full_ligatures_history.pdf", src / name)  # other bytes, same path
    new = doc_id(src, name)
    summary = ingest(src, out)
    assert (summary.ok + summary.partial, summary.skipped, summary.from_pages) == (1, 3, 0)
    for table in (*ROW_TABLES[:-1], "pages"):
        ids = set(pd.read_parquet(out / table).doc_id)
        assert old not in ids, table
    assert new in set(pd.read_parquet(out / "pages").doc_id)
    assert len(pd.read_parquet(out / "documents")) == 4


def test_vanished_files_are_reported_and_pruned_on_request(copy: tuple[Path, Path]) -> None:
    src, out = copy
    gone = doc_id(src, "dev13_pdf_kh_full_labelcolumn.pdf")
    (src / "dev13_pdf_kh_full_labelcolumn.pdf").unlink()
    summary = ingest(src, out)
    assert (summary.vanished, summary.pruned, summary.skipped) == (1, False, 3)
    assert any("1 document(s) no longer under the input folder; rows kept" in line for line in summary.lines())
    assert gone in set(pd.read_parquet(out / "documents").doc_id)

    summary = ingest(src, out, prune=True)
    assert (summary.vanished, summary.pruned) == (1, True)
    for table in (*ROW_TABLES[:-1], "pages"):
        assert gone not in set(pd.read_parquet(out / table).doc_id), table
    assert ingest(src, out).vanished == 0


def test_a_moved_file_is_extracted_again_from_its_pages(copy: tuple[Path, Path], no_reads: None) -> None:
    src, out = copy
    (src / "archive").mkdir()
    (src / "dev17_pdf_ote_2pages_ligatures.pdf").rename(src / "archive" / "renamed.pdf")
    summary = ingest(src, out)
    assert (summary.from_pages, summary.vanished, summary.skipped) == (1, 0, 3)
    docs = pd.read_parquet(out / "documents")
    assert "archive/renamed.pdf" in set(docs.source_path) and len(docs) == 4


def test_a_duplicate_copy_is_counted_not_processed(copy: tuple[Path, Path], no_reads: None) -> None:
    src, out = copy
    shutil.copy(src / "dev02_cloudnc_kh_vote_recusal.txt", src / "copy-of-dev02.txt")
    summary = ingest(src, out)
    assert (summary.documents, summary.duplicates, summary.skipped, summary.ok) == (5, 1, 4, 0)
    assert len(pd.read_parquet(out / "documents")) == 4


def test_force_reuses_pages_and_a_new_engine_reads_pdfs_again(copy: tuple[Path, Path],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    src, out = copy
    with monkeypatch.context() as m:
        m.setattr("pipeline.pages.read_document", lambda *a, **k: pytest.fail("read although forced runs reuse pages"))
        summary = ingest(src, out, force=True)
    assert (summary.ok + summary.partial, summary.from_pages) == (4, 4)
    other = next(e for e in ENGINES if e != DEFAULT_ENGINE)
    summary = ingest(src, out, engine=other)
    assert (summary.ok + summary.partial, summary.skipped, summary.from_pages) == (2, 2, 0)
    pages = pd.read_parquet(out / "pages")
    assert set(pages.engine) == {other, "text"}


def test_an_unchanged_failure_is_skipped_until_reprocessed(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    shutil.copy(DEV / FILES[0], src / FILES[0])
    (src / "broken.pdf").write_bytes(b"<html>not a pdf</html>")
    assert ingest(src, out).failed == 1
    again = ingest(src, out)
    assert (again.failed, again.skipped) == (0, 2)
    assert main(["reprocess", "--out", str(out), "--only-failed"]) == 2  # needs --src
    summary = reprocess(out, src, only_failed=True, isolate=False)
    assert (summary.documents, summary.failed, summary.from_pages) == (1, 1, 0)
    assert pd.read_parquet(out / "failures").source_path.tolist() == ["broken.pdf"]
    assert len(pd.read_parquet(out / "documents")) == 1


# --------------------------------------------------------------------------- reprocess


def test_reprocess_selects_by_doc_and_since(copy: tuple[Path, Path], no_reads: None,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    src, out = copy
    target = doc_id(src, "dev17_pdf_ote_2pages_ligatures.pdf")
    assert main(["reprocess", "--out", str(out), "--doc", target[:10], "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "documents: 1 (1 ok" in printed and "1 document(s) extracted again from stored pages" in printed
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    assert main(["reprocess", "--out", str(out), "--since", tomorrow, "--quiet"]) == 0
    assert "documents: 0 (" in capsys.readouterr().out
    assert main(["reprocess", "--out", str(out), "--since", yesterday, "--quiet"]) == 0
    assert "documents: 4 (4 ok" in capsys.readouterr().out
    assert main(["reprocess", "--out", str(out), "--since", "last week"]) == 2
    assert main(["reprocess", "--out", str(out), "--doc", "abcdef0"]) == 2
    assert "no document in the output match" in capsys.readouterr().err
    assert main(["reprocess", "--out", str(out / "nothing-here")]) == 2


def test_reprocess_without_pages_needs_the_sources(copy: tuple[Path, Path],
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    src, out = copy
    shutil.rmtree(out / "pages")
    before = frames(out)
    assert main(["reprocess", "--out", str(out), "--quiet"]) == 1
    assert "4 document(s) not reprocessed: no stored pages and no source file" in capsys.readouterr().out
    for name, frame in frames(out).items():
        pd.testing.assert_frame_equal(frame, before[name], obj=name)
    assert main(["reprocess", "--out", str(out), "--src", str(src), "--quiet"]) == 0
    assert len(pd.read_parquet(out / "pages").doc_id.unique()) == 4


# --------------------------------------------------------------------------- lock and safe writes


def test_a_second_run_on_the_same_output_stops_with_a_clear_message(copy: tuple[Path, Path],
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    src, out = copy
    with Store(out).lock():
        with pytest.raises(OutputLocked) as info:
            ingest(src, out)
        message = str(info.value)
        assert f"another minutes run is writing to {out} (pid {os.getpid()} since " in message
        assert f"wait for it or remove {out / '.lock'} if that process is gone" in message
        assert main(["ingest", str(src), "--out", str(out), "--quiet"]) == 3
        assert "another minutes run is writing to" in capsys.readouterr().err
    assert not (out / ".lock").exists()
    assert ingest(src, out).skipped == 4


def test_a_killed_run_does_not_leave_the_output_locked(copy: tuple[Path, Path]) -> None:
    src, out = copy
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pipeline.store import Store\n"
         "with Store(sys.argv[1]).lock():\n    print('locked', flush=True); time.sleep(120)", str(out)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(OutputLocked, match=f"pid {holder.pid} since"):
            ingest(src, out)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
    assert (out / ".lock").exists()  # left behind by the killed run, but no longer locked
    assert ingest(src, out).skipped == 4


def test_a_failed_write_leaves_every_table_as_it_was(copy: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    src, out = copy
    shutil.copy(DEV / "dev05_tweb_kh_kv_history_cp1252.txt", src / "dev02_cloudnc_kh_vote_recusal.txt")
    (src / "new.txt").write_bytes((DEV / "dev07_seedstyle_kh_tabled_kh_kv.txt").read_bytes())
    before = snapshot(out)
    real_write = pq.write_table
    calls = []

    def crash_on_fourth(table: pa.Table, where: BinaryIO, **kwargs: object) -> None:
        calls.append(where)
        if len(calls) == 4:
            where.write(b"PAR1 half a file")  # the part's temporary file, as the store opened it
            raise OSError(28, "No space left on device")
        real_write(table, where, **kwargs)

    monkeypatch.setattr(pq, "write_table", crash_on_fourth)
    with pytest.raises(OSError, match="No space left"):
        ingest(src, out)
    monkeypatch.undo()
    assert len(calls) == 4
    assert snapshot(out) == before  # not one file changed, no temporary file left, lock released
    summary = ingest(src, out)
    assert (summary.ok + summary.partial, summary.skipped) == (2, 3)


def test_temporary_files_of_a_killed_run_are_removed(copy: tuple[Path, Path]) -> None:
    src, out = copy
    leftover = out / "decisions" / ".tmp-killed.parquet"
    leftover.write_bytes(b"PAR1 half a file")
    assert len(pd.read_parquet(out / "decisions")) > 0  # readers ignore it
    ingest(src, out)
    assert not leftover.exists()


def test_summary_lines_name_the_new_counts() -> None:
    lines = Summary(documents=3, skipped=1, from_pages=2, vanished=1, pruned=True, missing=1).lines()
    text = "\n".join(lines)
    assert "2 document(s) extracted again from stored pages" in text
    assert "their rows were removed (--prune)" in text
    assert "give --src" in text


def test_stored_pages_that_went_missing_are_read_again_or_explained(tmp_path: Path) -> None:
    from pipeline.errors import ReadError
    from pipeline.pages import PagesRef, obtain

    path = DEV / FILES[0]
    ref = PagesRef(tmp_path / "no-such-output", read_document(path).doc_id, "text")
    raw, was_read = obtain(path, "pdfplumber", ref)
    assert was_read and raw.doc_id == ref.doc_id
    with pytest.raises(ReadError, match=r"run `minutes reprocess --src SRC`"):
        obtain(tmp_path / "gone.txt", "pdfplumber", ref)


def test_table_files_get_the_usual_mode_not_owner_only(cold: tuple[Path, Path]) -> None:
    umask = os.umask(0o022)
    os.umask(umask)
    modes = {oct(p.stat().st_mode & 0o777) for p in cold[1].rglob("*.parquet")}
    assert modes == {oct(0o666 & ~umask)}
