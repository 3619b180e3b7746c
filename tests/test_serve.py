"""`minutes serve`: a scheduled deployment on a real Prefect server, triggered and run for real.

The slow test starts `prefect server start` (shared fixture, own PREFECT_HOME), then `minutes
serve` in a subprocess exactly as an operator would, checks the deployment and its cron
schedule through the server's REST API, starts a run of it, waits for COMPLETED and reads the
tables the run wrote. Both processes are always stopped.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pandas as pd
import pytest

from prefect_server import Server, free_port, prefect_env, stop

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT / "tests" / "fixtures" / "corpus" / "dev"
MINUTES = Path(sys.executable).parent / "minutes"
SAMPLES = ("dev02_cloudnc_kh_vote_recusal.txt", "dev10_mojibake_cloudnc_noted.txt",
           "dev17_pdf_ote_2pages_ligatures.pdf")
CRON = "0 3 * * *"


def _serve(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("w") as fh:
        return subprocess.Popen([str(MINUTES), "serve", *args], cwd=ROOT, env=env, stdout=fh,
                                stderr=subprocess.STDOUT, start_new_session=True)


def _deployment(server: Server, name: str, serving: subprocess.Popen, log: Path, timeout: float = 60,
                flow: str = "minutes-ingest") -> dict:
    """The deployment once `minutes serve` registered it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert serving.poll() is None, f"minutes serve exited with {serving.returncode}:\n{log.read_text()[-3000:]}"
        try:
            return server.request("GET", f"/deployments/name/{flow}/{name}")
        except httpx.HTTPStatusError as exc:
            if exc.response.status_code != 404:
                raise
        time.sleep(0.5)
    raise AssertionError(f"no deployment {flow}/{name} after {timeout} s:\n{log.read_text()[-3000:]}")


@pytest.mark.slow
def test_serve_registers_a_cron_deployment_whose_runs_write_the_tables(prefect_server: Server,
                                                                       tmp_path: Path) -> None:
    src, out = tmp_path / "raw", tmp_path / "out"
    src.mkdir()
    for name in SAMPLES:
        shutil.copy(DEV / name, src / name)
    log = tmp_path / "serve.log"
    serving = _serve([str(src), "--out", str(out), "--cron", CRON, "--timezone", "Europe/Helsinki",
                      "--name", "nightly", "--timeout", "77", "--max-memory", "1500"], prefect_server.env, log)
    try:
        deployment = _deployment(prefect_server, "nightly", serving, log)
        crons = [(s["schedule"]["cron"], s["schedule"]["timezone"]) for s in deployment["schedules"]]
        assert crons == [(CRON, "Europe/Helsinki")], deployment["schedules"]
        assert deployment["parameters"]["src"] == str(src.resolve())
        assert (deployment["parameters"]["timeout"], deployment["parameters"]["max_memory"]) == (77, 1500)

        run = prefect_server.request("POST", f"/deployments/{deployment['id']}/create_flow_run", json={})
        final = prefect_server.wait_for_run(run["id"], timeout=90)
        assert final["state"]["type"] == "COMPLETED", f"{final['state']}\n{log.read_text()[-4000:]}"
    finally:
        stop(serving)

    documents = pd.read_parquet(out / "documents")
    assert sorted(documents.source_path) == sorted(SAMPLES)
    assert len(pd.read_parquet(out / "decisions")) > 0
    assert set(pd.read_parquet(out / "pages").doc_id) == set(documents.doc_id)
    artifacts = prefect_server.request("POST", "/artifacts/filter", json={
        "artifacts": {"flow_run_id": {"any_": [run["id"]]}, "key": {"any_": ["minutes-ingest"]}}})
    assert len(artifacts) == 1 and artifacts[0]["type"] == "table", artifacts
    assert not (out / ".lock").exists()
    assert set(pd.read_parquet(out / "failures").limits) <= {"timeout=77s max_memory=1500MB max_text=20MB"}


def _serve_fails(args: list[str], env: dict[str, str], tmp_path: Path) -> str:
    proc = subprocess.run([str(MINUTES), "serve", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    return proc.stderr


def test_serve_without_a_server_says_how_to_start_one(tmp_path: Path) -> None:
    src = tmp_path / "raw"
    src.mkdir()
    home = tmp_path / "prefect"
    args = [str(src), "--out", str(tmp_path / "out"), "--cron", CRON]
    err = _serve_fails(args, prefect_env(home), tmp_path)
    assert "PREFECT_API_URL is not set" in err
    assert "prefect server start --host 127.0.0.1" in err and "PREFECT_API_URL=http://127.0.0.1:4200/api" in err
    nobody = f"http://127.0.0.1:{free_port()}/api"
    err = _serve_fails(args, prefect_env(home, nobody), tmp_path)
    assert f"no Prefect server answers at {nobody}" in err


def test_serve_rejects_a_bad_schedule_before_anything_else(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from pipeline.cli import main

    src = tmp_path / "raw"
    src.mkdir()
    assert main(["serve", str(src), "--cron", "0 3 * *"]) == 2
    assert "five fields" in capsys.readouterr().err
    assert main(["serve", str(src), "--cron", CRON, "--timezone", "Europe/Tampere"]) == 2
    assert "unknown time zone 'Europe/Tampere'" in capsys.readouterr().err
    assert main(["serve", str(tmp_path / "missing"), "--cron", CRON]) == 2


PREFECT = Path(sys.executable).parent / "prefect"


@pytest.mark.slow
@pytest.mark.parametrize("command", [("flow-run", "ls"), ("deployment", "ls"), ("artifact", "ls")])
def test_prefects_own_list_commands_work_against_the_server(prefect_server: Server, command: tuple[str, ...]) -> None:
    """Prefect 3.8.8's CLI sends explicit nulls in its filter bodies, which fastapi >= 0.151 answers
    with 422: the pin in pyproject.toml keeps these working (README, "Pins")."""
    proc = subprocess.run([str(PREFECT), *command], env=prefect_server.env, capture_output=True, text=True,
                          timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert "422" not in proc.stdout + proc.stderr
