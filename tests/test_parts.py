"""Part files: what a commit adds, rewrites, folds and cuts, and a commit stopped among its renames."""
from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import pipeline.parts
from pipeline.document import DocumentResult
from pipeline.pages import PagesRef, load, stored_doc_ids
from pipeline.parts import JOURNAL, MANIFEST, STAGING, KeyIndex, part_files, split
from pipeline.run import process_document
from pipeline.store import Store
from tests.conftest import DEV, output_rows

NAMES = sorted(p.name for p in DEV.glob("dev*.txt"))[:6]


@pytest.fixture(scope="module")
def results() -> dict[str, DocumentResult]:
    return {n: process_document(DEV / n, DEV) for n in NAMES}


def write(store: Store, results: dict[str, DocumentResult], names: list[str]) -> None:
    """One commit of these documents, replacing what the output held of them."""
    merged: dict[str, list[dict]] = {}
    for n in names:
        for table, rows in results[n].rows.items():
            merged.setdefault(table, []).extend(rows)
    store.replace(merged, {"doc_id": {results[n].doc_id for n in names}, "source_path": set(names)})


def doc_ids(out: Path, table: str) -> list[str]:
    return sorted(pq.read_table(out / table, columns=["doc_id"])["doc_id"].to_pylist())


def per_part(out: Path, table: str) -> dict[str, set[str]]:
    return {p.name: set(pq.read_table(p, columns=["doc_id"])["doc_id"].to_pylist())
            for p in part_files(out / table)}


def test_split_cuts_between_documents_and_loses_nothing() -> None:
    keys = [k for k in "aabbbbcdddeeeeeef"]
    rows = pa.table({"doc_id": keys, "n": list(range(len(keys)))})
    pieces = split(rows, "doc_id", limit=rows.nbytes // 4)
    assert len(pieces) > 2
    assert pa.concat_tables(pieces).equals(rows)
    firsts = [p["doc_id"][0].as_py() for p in pieces]
    lasts = [p["doc_id"][-1].as_py() for p in pieces]
    assert all(last != first for last, first in zip(lasts, firsts[1:])), "a document's rows were cut apart"
    assert split(rows, "doc_id", limit=rows.nbytes) == [rows]


def test_small_parts_are_folded_once_there_are_many(tmp_path: Path, results: dict,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline.parts, "FOLD_COUNT", 2)
    store = Store(tmp_path)
    write(store, results, NAMES[:2])
    write(store, results, NAMES[2:4])
    assert len(per_part(tmp_path, "documents")) == 2  # one small part: not folded yet
    write(store, results, NAMES[4:])
    assert len(per_part(tmp_path, "documents")) == 1  # two: folded into the third commit's part
    assert doc_ids(tmp_path, "documents") == sorted(results[n].doc_id for n in NAMES)


def test_a_small_part_that_loses_a_document_is_folded(tmp_path: Path, results: dict) -> None:
    store = Store(tmp_path)
    write(store, results, NAMES[:3])
    write(store, results, [NAMES[0], NAMES[3]])
    assert len(per_part(tmp_path, "documents")) == 1
    assert doc_ids(tmp_path, "documents") == sorted(results[n].doc_id for n in NAMES[:4])


def test_a_replaced_document_is_taken_out_of_a_large_part(tmp_path: Path, results: dict,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline.parts, "MERGE_BELOW", 0)  # every part counts as large: none is folded
    out = tmp_path / "out"
    store = Store(out)
    write(store, results, NAMES[:3])
    (old_name, old_ids), = per_part(out, "decisions").items()
    again = results[NAMES[0]].doc_id
    write(store, results, [NAMES[0], NAMES[3]])
    now = per_part(out, "decisions")
    # a part's content never changes under its name: the old part is retired (emptied, for readers
    # that listed it) and what it kept is written again under a new name
    assert old_name not in now and pq.read_table(out / "decisions" / old_name).num_rows == 0
    assert sorted(map(sorted, now.values())) == sorted([sorted(old_ids - {again}), [again, results[NAMES[3]].doc_id]]
                                                       if results[NAMES[3]].rows.get("decisions") else
                                                       [sorted(old_ids - {again}), [again]])
    write(Store(tmp_path / "reference"), results, NAMES[:4])
    assert output_rows(out) == output_rows(tmp_path / "reference")


def test_a_part_left_without_rows_is_deleted(tmp_path: Path, results: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline.parts, "MERGE_BELOW", 0)
    store = Store(tmp_path)
    write(store, results, NAMES[:2])
    store.remove({results[n].doc_id for n in NAMES[:2]}, set(NAMES[:2]))
    assert not part_files(tmp_path / "decisions")
    assert doc_ids(tmp_path, "decisions") == []  # still readable: zero rows with the schema


def test_large_new_rows_are_cut_into_parts(tmp_path: Path, results: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline.parts, "SPLIT_ABOVE", 1)
    write(Store(tmp_path), results, NAMES)
    found = per_part(tmp_path, "decisions")
    with_decisions = {results[n].doc_id for n in NAMES if results[n].rows.get("decisions")}
    assert len(found) == len(with_decisions) > 1
    assert all(len(ids) == 1 for ids in found.values())
    assert doc_ids(tmp_path, "decisions") == sorted(
        r["doc_id"] for n in NAMES for r in results[n].rows.get("decisions", []))


def test_a_commit_stopped_among_its_renames_is_finished_by_the_next_run(tmp_path: Path, results: dict,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Killed after its journal and one rename: the output is half old, half new until the next
    lock, which completes the commit; the old rows of a replaced document are never kept too."""
    monkeypatch.setattr(pipeline.parts, "MERGE_BELOW", 0)
    out = tmp_path / "out"
    store = Store(out)
    write(store, results, NAMES[:3])
    rename = pipeline.parts._rename

    def killed_after_one(where: Path, steps: list) -> None:
        rename(where, steps[:1])
        raise KeyboardInterrupt  # not an OSError: the commit does not finish it itself, as when killed

    monkeypatch.setattr(pipeline.parts, "_rename", killed_after_one)
    with pytest.raises(KeyboardInterrupt):
        write(store, results, [NAMES[0], NAMES[3]])
    monkeypatch.setattr(pipeline.parts, "_rename", rename)
    assert (out / STAGING / JOURNAL).is_file()
    with Store(out).lock():
        assert not (out / STAGING).exists()
    reference = Store(tmp_path / "reference")
    write(reference, results, NAMES[:4])
    assert output_rows(out) == output_rows(tmp_path / "reference")


def test_the_key_index_reads_a_part_again_only_when_it_changed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    part = tmp_path / "part-000001-000.parquet"
    pq.write_table(pa.table({"doc_id": ["a", "b", "a"]}), part)
    reads = []
    read_table = pq.read_table
    monkeypatch.setattr(pq, "read_table", lambda *a, **k: reads.append(a) or read_table(*a, **k))
    index = KeyIndex()
    assert index.keys(part, "doc_id") == {"a", "b"}
    assert index.keys(part, "doc_id") == {"a", "b"}
    assert len(reads) == 1
    pq.write_table(pa.table({"doc_id": ["c", "d", "e", None]}), part)
    assert index.keys(part, "doc_id") == {"c", "d", "e"}
    assert len(reads) == 2


def test_stored_pages_are_found_after_their_part_was_folded(tmp_path: Path, results: dict,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline.parts, "FOLD_COUNT", 1)
    store = Store(tmp_path)
    write(store, results, NAMES[:2])
    first = results[NAMES[0]]
    where = stored_doc_ids(tmp_path, {first.doc_id})
    ((doc_id, engine), part), = where.items()
    write(store, results, NAMES[2:4])  # folds the small first part into a new one
    assert part not in part_files(tmp_path / "pages")
    raw = load(PagesRef(tmp_path, doc_id, engine, part), DEV / NAMES[0])
    assert raw is not None
    assert [p.text for p in raw.pages] == [r["text"] for r in first.rows["pages"]]


def test_an_output_of_the_older_shard_layout_is_updated_in_place(tmp_path: Path, results: dict) -> None:
    """Outputs written before part files had one `part-<xx>.parquet` per doc_id prefix: they are
    parts like any other, replaced documents are taken out of them and new commits are numbered."""
    out = tmp_path / "out"
    write(Store(out), results, NAMES[:3])
    (out / MANIFEST).unlink()  # those outputs had no manifest
    for folder in (p for p in out.iterdir() if p.is_dir()):
        for part in part_files(folder):
            part.rename(folder / "part-3f.parquet")
    write(Store(out), results, [NAMES[0], NAMES[3]])
    write(Store(tmp_path / "reference"), results, NAMES[:4])
    assert output_rows(out) == output_rows(tmp_path / "reference")
    assert sorted(p.name for p in part_files(out / "documents")) == ["part-000001-000.parquet"]


def test_a_batch_makes_its_staging_folder_when_a_commit_just_removed_the_root(tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A commit in its thread removes the empty staging root while the next batch makes its folder there."""
    import tempfile

    import pipeline.store

    made = []
    mkdtemp = tempfile.mkdtemp

    def raced(*args: object, **kwargs: object) -> str:
        made.append(kwargs["dir"])
        if len(made) == 1:
            Path(kwargs["dir"]).rmdir()  # type: ignore[arg-type]
        return mkdtemp(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline.store.tempfile, "mkdtemp", raced)
    folder = pipeline.store.Batch(Store(tmp_path), early=False).staging()
    assert folder.is_dir() and folder.parent == tmp_path / STAGING and len(made) == 2


def test_rows_whose_early_part_failed_are_written_once_at_commit(tmp_path: Path, results: dict,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A disk error while a batch writes its rows early (after some tables' parts were made):
    the batch goes on, and its commit writes every row exactly once."""
    import pipeline.store

    monkeypatch.setattr(pipeline.store, "EARLY_DOCUMENTS", 2)
    write_staged = Store._write_staged
    made = []

    def full_disk_at_the_third(self: Store, *args: object) -> Path:
        made.append(args)
        if len(made) == 3:
            raise OSError(28, "No space left on device")
        return write_staged(self, *args)  # type: ignore[arg-type]

    out = tmp_path / "out"
    store = Store(out)
    batch = pipeline.store.Batch(store)
    monkeypatch.setattr(Store, "_write_staged", full_disk_at_the_third)
    batch.add(results[NAMES[0]].rows)
    with pytest.raises(OSError, match="No space"):
        batch.add(results[NAMES[1]].rows)
    monkeypatch.setattr(Store, "_write_staged", write_staged)
    assert not batch.staged and len(list((out / STAGING).rglob("*.parquet"))) == 0
    batch.add(results[NAMES[2]].rows)  # the third document: pending with the first two, written early
    batch.commit({"doc_id": {results[n].doc_id for n in NAMES[:3]}, "source_path": set(NAMES[:3])})
    write(Store(tmp_path / "reference"), results, NAMES[:3])
    assert output_rows(out) == output_rows(tmp_path / "reference")
