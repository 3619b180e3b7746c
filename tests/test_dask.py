"""The flow on a Dask cluster (prefect-dask) writes what the sequential `run_batch` writes.

A 2-worker local cluster of processes runs the documented one-liner (`python -m flows.ingest
... --dask local --dask-workers 2`) against the shared test server (PREFECT_API_URL set, so the
workers do not each start a temporary server). Every table, pages included, must equal
`run_batch`'s after sorting, the volatile columns dropped; and the documents must really have
gone through per-document tasks.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from pipeline.run import run_batch
from pipeline.schema import TABLES
from prefect_server import Server

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT / "tests" / "fixtures" / "corpus" / "dev"
SAMPLES = ("dev02_cloudnc_kh_vote_recusal.txt", "dev05_tweb_kh_kv_history_cp1252.txt",
           "dev10_mojibake_cloudnc_noted.txt", "dev13_pdf_kh_full_labelcolumn.pdf",
           "dev17_pdf_ote_2pages_ligatures.pdf")
VOLATILE = {"processed_at", "seconds", "failed_at"}


def _table(out: Path, name: str) -> pd.DataFrame:
    df = pd.read_parquet(out / name)
    df = df.drop(columns=[c for c in df.columns if c in VOLATILE])
    return df.sort_values(list(TABLES[name].sort_by)).reset_index(drop=True)


@pytest.mark.slow
def test_dask_flow_writes_what_run_batch_writes(prefect_server: Server, tmp_path: Path) -> None:
    src, out, reference = tmp_path / "raw", tmp_path / "dask-out", tmp_path / "batch-out"
    src.mkdir()
    for name in SAMPLES:
        shutil.copy(DEV / name, src / name)
    (src / "broken.pdf").write_bytes(b"%PDF-1.4 cut off here")
    (src / "elsewhere.txt").symlink_to(DEV / "dev07_seedstyle_kh_tabled_kh_kv.txt")  # refused, as by run_batch

    proc = subprocess.run([sys.executable, "-m", "flows.ingest", str(src), "--out", str(out), "--dask", "local",
                           "--dask-workers", "2"], cwd=ROOT, env=prefect_server.env, capture_output=True,
                          text=True, timeout=180)
    log = f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr[-4000:]}"
    assert proc.returncode == 1, log  # the broken file failed, the run did not
    assert "documents: 7 (5 ok, 0 partial, 2 failed)" in proc.stdout, log

    run_batch(src, reference)
    for name in TABLES:
        pd.testing.assert_frame_equal(_table(out, name), _table(reference, name), obj=name)
    assert len(_table(out, "decisions")) > 0 and len(_table(out, "pages")) > len(SAMPLES)
    assert "outside the input folder" in _table(out, "failures").set_index("source_path").reason["elsewhere.txt"]

    # Each document was its own task on the cluster, not one run_batch task.
    task_runs = prefect_server.request("POST", "/task_runs/filter", json={
        "task_runs": {"name": {"like_": "extract-document"}}})
    assert len(task_runs) == 7, [t["name"] for t in task_runs]  # the refused symlink fails in its task
    assert {t["state"]["type"] for t in task_runs} == {"COMPLETED"}


def test_only_io_errors_are_retried() -> None:
    """Retries are for I/O (a share that flickered, a full disk); a bug must fail at once."""
    from prefect.states import Failed

    from flows.ingest import (_io_error, extract_document, ingest_documents, list_sources, plan_run, tidy_output,
                              write_tables)

    assert _io_error(None, None, Failed(data=OSError(28, "No space left on device")))
    assert not _io_error(None, None, Failed(data=ValueError("a bug")))
    for io_task in (list_sources, plan_run, write_tables, tidy_output):
        assert io_task.retries and io_task.retry_condition_fn is _io_error, io_task.name
    assert not extract_document.retries and not ingest_documents.retries
