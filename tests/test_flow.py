"""The Prefect flow end to end, for real: a temporary Prefect server, no mocks.

Why a subprocess: Prefect reads its settings (PREFECT_HOME, telemetry) at import, so a fresh
process is the only way to point it at a throw-away home; it also runs the documented one-liner
exactly as an operator would. The flow must write what `run_batch` (the CLI's engine) writes.
"""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from pipeline.schema import TABLES

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT / "tests" / "fixtures" / "corpus" / "dev"
SAMPLES = ("dev02_cloudnc_kh_vote_recusal.txt", "dev10_mojibake_cloudnc_noted.txt",
           "dev17_pdf_ote_2pages_ligatures.pdf")
VOLATILE = {"processed_at", "seconds", "failed_at"}
NAMES = ("documents", "decisions", "mentions", "failures")


def _table(out: Path, name: str) -> pd.DataFrame:
    df = pd.read_parquet(out / name)
    df = df.drop(columns=[c for c in df.columns if c in VOLATILE])
    return df.sort_values(list(TABLES[name].sort_by)).reset_index(drop=True)


@pytest.mark.slow
def test_flow_writes_what_run_batch_writes(tmp_path: Path) -> None:
    from pipeline.run import run_batch

    src = tmp_path / "raw"
    src.mkdir()
    for name in SAMPLES:
        shutil.copy(DEV / name, src / name)
    (src / "broken.pdf").write_bytes(b"")
    out, reference, home = tmp_path / "flow-out", tmp_path / "batch-out", tmp_path / "prefect"

    env = {k: v for k, v in os.environ.items() if k not in {"PREFECT_API_URL", "PREFECT_PROFILE"}}
    env.update(PREFECT_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])))
    proc = subprocess.run([sys.executable, "-m", "flows.ingest", str(src), "--out", str(out)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    log = f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr[-4000:]}"
    assert proc.returncode == 1, log  # the broken file failed, the run did not crash
    assert "documents: 4 (" in proc.stdout and "1 failed" in proc.stdout, log

    run_batch(src, reference)
    for name in NAMES:
        got, want = _table(out, name), _table(reference, name)
        pd.testing.assert_frame_equal(got, want, obj=name)
    decisions = pd.read_parquet(out / "decisions")
    assert len(decisions) > 0
    failures = pd.read_parquet(out / "failures")
    assert failures["source_path"].tolist() == ["broken.pdf"], failures
    assert failures["stage"].tolist() == ["read"]

    # The run's numbers were published as a table artifact (read from the throw-away server's DB).
    with sqlite3.connect(home / "prefect.db") as db:
        rows = db.execute("SELECT data FROM artifact WHERE key = 'minutes-ingest'").fetchall()
    assert len(rows) == 1, rows
    data = json.loads(rows[0][0])
    table = json.loads(data) if isinstance(data, str) else data
    repairs = int(pd.read_parquet(out / "documents").filter(like="repair_").to_numpy().sum())
    assert repairs > 0  # dev10 is mojibake, dev17 has ligatures
    assert table == [{"documents": 4, "unchanged": 0, "decisions": len(decisions), "failures": 1,
                      "standing_failures": 1, "repairs": repairs, "vanished": 0, "seconds": table[0]["seconds"]}], table
