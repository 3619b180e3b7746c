"""Readers during commits: `read_snapshot` always sees one whole commit; plain folder reads never fail.

A thread commits again and again (documents replaced, small parts folded at every other commit,
retired parts emptied) while this thread reads: with `pipeline.snapshot.read_snapshot`, every
read must be one commit exactly (each decisions row has its documents row, each document as many
decisions as its `n_decisions`, no document twice); with `pyarrow.parquet.read_table(folder)`, as
`pandas.read_parquet` does, no read may fail (it may see two commits at once: that is what the
manifest is for). The counts are printed (`pytest -s`) and quoted in the README.
"""
from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import pipeline.parts
from pipeline.document import DocumentResult, process_document
from pipeline.snapshot import read_snapshot
from pipeline.store import Store
from tests.conftest import DEV
from tests.test_parts import write

NAMES = sorted(p.name for p in DEV.glob("dev*.txt"))
SECONDS = 6.0


@pytest.fixture(scope="module")
def results() -> dict[str, DocumentResult]:
    """Every dev text's rows (test_parts' fixture takes six)."""
    return {n: process_document(DEV / n, DEV) for n in NAMES}


def _consistent(tables: dict) -> bool:
    documents = tables["documents"].to_pylist()
    ids = [d["doc_id"] for d in documents]
    decisions = Counter(tables["decisions"]["doc_id"].to_pylist())
    return (len(ids) == len(set(ids)) and set(decisions) <= set(ids)
            and all(decisions.get(d["doc_id"], 0) == d["n_decisions"] for d in documents))


def test_readers_never_fail_and_snapshots_are_whole_commits(tmp_path: Path, results: dict,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline.parts, "FOLD_COUNT", 2)  # fold small parts at every other commit
    store = Store(tmp_path)
    write(store, results, NAMES)
    commits, stop, errors = [0], threading.Event(), []

    def committer() -> None:
        k = 0
        try:
            while not stop.is_set():
                k += 1
                write(store, results, NAMES[k % 3::3])  # a third of the documents replaced each time
                commits[0] += 1
        except Exception as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)

    thread = threading.Thread(target=committer)
    thread.start()
    snapshots = plain = inconsistent = failed = mixed = 0
    ends = time.monotonic() + SECONDS
    try:
        while time.monotonic() < ends:
            tables = read_snapshot(tmp_path, ["documents", "decisions"])
            snapshots += 1
            inconsistent += not _consistent(tables)
            try:
                folder = {name: pq.read_table(tmp_path / name) for name in ("documents", "decisions")}
                plain += 1
                mixed += not _consistent(folder)
            except (FileNotFoundError, OSError):
                failed += 1
    finally:
        stop.set()
        thread.join()
    print(f"\nreader loop: {commits[0]} commits; {snapshots} snapshot reads, {inconsistent} inconsistent; "
          f"{plain + failed} plain folder reads, {failed} failed, {mixed} saw two commits at once")
    assert not errors, errors
    assert commits[0] >= 10 and snapshots >= 20, "too few commits or reads to say anything"
    assert inconsistent == 0
    assert failed == 0
    assert _consistent(read_snapshot(tmp_path))


def test_an_output_without_a_manifest_reads_as_its_folders(tmp_path: Path, results: dict) -> None:
    write(Store(tmp_path), results, NAMES[:3])
    (tmp_path / pipeline.parts.MANIFEST).unlink()  # as an output written before manifests
    tables = read_snapshot(tmp_path, ["documents", "decisions"])
    assert sorted(tables["documents"]["doc_id"].to_pylist()) == sorted(results[n].doc_id for n in NAMES[:3])
    assert _consistent(tables)
    with pytest.raises(KeyError, match="unknown table"):
        read_snapshot(tmp_path, ["paatokset"])


def test_a_run_killed_among_its_renames_leaves_the_last_whole_commit_to_snapshot_readers(
        tmp_path: Path, results: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store(tmp_path)
    write(store, results, NAMES[:3])
    before = read_snapshot(tmp_path)
    rename = pipeline.parts._rename

    def killed_after_one(where: Path, steps: list) -> None:
        rename(where, steps[:1])
        raise KeyboardInterrupt  # as when killed: nothing finishes the commit

    monkeypatch.setattr(pipeline.parts, "_rename", killed_after_one)
    with pytest.raises(KeyboardInterrupt):
        write(store, results, [NAMES[0], NAMES[3]])
    monkeypatch.undo()
    after = read_snapshot(tmp_path)  # half applied on disk; the manifest is still the last whole commit
    for name in before:
        assert sorted(map(repr, after[name].to_pylist())) == sorted(map(repr, before[name].to_pylist())), name
