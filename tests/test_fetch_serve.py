"""`minutes serve --sources`: the fetch → ingest → feeds deployment on a real Prefect server.

The slow test starts `minutes serve --sources FILE` in a subprocess against the shared Prefect
server (tests/prefect_server.py) while this process serves the four systems' sites on
127.0.0.1; it checks the deployment's cron schedule, starts a run through the REST API, waits
for COMPLETED and reads what the run wrote: the documents, the tables, the feeds and the
`minutes-fetch` artifact.
"""
from __future__ import annotations

import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from fetch_sites import API_KEY, SiteServer, build_sites, sources_toml
from prefect_server import Server, stop
from test_serve import CRON, _deployment

ROOT = Path(__file__).resolve().parents[1]
MINUTES = Path(sys.executable).parent / "minutes"


@pytest.mark.slow
def test_serve_sources_runs_fetch_ingest_and_feeds_on_a_schedule(prefect_server: Server, tmp_path: Path) -> None:
    raw, out, sources = tmp_path / "raw", tmp_path / "out", tmp_path / "sources.toml"
    log = tmp_path / "serve.log"
    with SiteServer() as site:
        day = date(2026, 2, 16)
        sources.write_text(sources_toml(build_sites(site, day), day - timedelta(days=120), rate=100, timeout=5,
                                        retries=1, backoff=0.05), encoding="utf-8")
        env = {**prefect_server.env, "MINUTES_TEST_AHJO_KEY": API_KEY}
        with log.open("w") as fh:
            serving = subprocess.Popen(
                [str(MINUTES), "serve", "--sources", str(sources), "--raw", str(raw), "--out", str(out),
                 "--cron", CRON, "--timezone", "Europe/Helsinki", "--name", "nightly"],
                cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deployment = _deployment(prefect_server, "nightly", serving, log, flow="minutes-fetch")
            crons = [(s["schedule"]["cron"], s["schedule"]["timezone"]) for s in deployment["schedules"]]
            assert crons == [(CRON, "Europe/Helsinki")], deployment["schedules"]
            assert deployment["parameters"]["sources"] == str(sources.resolve())
            run = prefect_server.request("POST", f"/deployments/{deployment['id']}/create_flow_run", json={})
            final = prefect_server.wait_for_run(run["id"], timeout=120)
            assert final["state"]["type"] == "COMPLETED", f"{final['state']}\n{log.read_text()[-4000:]}"
        finally:
            stop(serving)

    assert len([p for p in raw.rglob("*") if p.is_file()]) == 4
    decisions = pd.read_parquet(out / "decisions")
    assert len(decisions) > 0
    assert len(pd.read_parquet(out / "fetches")) > 4
    assert (out / "feeds" / "dynastyn-kunta.atom").is_file() and (out / "feeds" / "state.json").is_file()
    artifacts = prefect_server.request("POST", "/artifacts/filter", json={
        "artifacts": {"flow_run_id": {"any_": [run["id"]]}, "key": {"any_": ["minutes-fetch"]}}})
    assert len(artifacts) == 1 and artifacts[0]["type"] == "markdown", artifacts
    assert "## New decisions" in artifacts[0]["data"] and "Dynastyn kunta" in artifacts[0]["data"]


def test_serve_sources_rejects_a_bad_sources_file_before_anything_else(tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    from pipeline.cli import main

    bad = tmp_path / "s.toml"
    bad.write_text("[fetch]\ncontact = 'a@b.fi'\n", encoding="utf-8")
    assert main(["serve", "--sources", str(bad), "--cron", CRON]) == 2
    assert "no [[source]] entries" in capsys.readouterr().err
    assert main(["serve", "--cron", CRON]) == 2
    assert "--sources FILE" in capsys.readouterr().err
