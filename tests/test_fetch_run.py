"""From listing pages to decisions and feeds: `minutes fetch --ingest` twice against four systems' sites.

The sites (tests/fetch_sites.py) publish the dev corpus's minutes in the URL structures of
Dynasty, CloudNC/CaseM, Tweb (RSS, windows-1252 item pages) and Ahjo (JSON, API key). Between
the runs a meeting appears and a document changes; the second run's feeds must hold exactly the
decisions that were not in the output before it.
"""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from fetch_sites import Meeting, SiteServer, build_sites, cloudnc, dev, dynasty, sources_toml

DAY = date(2026, 2, 16)
ATOM = "{http://www.w3.org/2005/Atom}"


def _ids(out: Path) -> set[str]:
    decisions = pd.read_parquet(out / "decisions", columns=["decision_id", "current"])
    return set(decisions[decisions.current != False].decision_id)  # noqa: E712 - null counts as current


def _entries(path: Path) -> dict[str, ET.Element]:
    return {e.findtext(f"{ATOM}id").rsplit(":", 2)[-2] + ":" + e.findtext(f"{ATOM}id").rsplit(":", 1)[-1]: e
            for e in ET.parse(path).getroot().iter(f"{ATOM}entry")}


@pytest.mark.slow
def test_two_runs_fetch_what_is_new_and_the_feeds_hold_exactly_the_new_decisions(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from pipeline.cli import main

    monkeypatch.setenv("MINUTES_TEST_AHJO_KEY", "test-ahjo-key")
    raw, out, sources = tmp_path / "raw", tmp_path / "out", tmp_path / "sources.toml"
    with SiteServer() as site:
        entries = build_sites(site, DAY)
        text = sources_toml(entries, DAY - timedelta(days=120), rate=100, timeout=5, retries=1, backoff=0.05,
                            recheck_days=3650)
        sources.write_text(text + '\n[[filter]]\nname = "Palautetut"\noutcome = ["RETURNED", "TABLED", "PASSED"]\n'
                           'organization = ["Casemin kaupunki"]\n\n[feeds]\nwebhook = "' + site.url + '/hook"\n',
                           encoding="utf-8")
        command = ["fetch", "--sources", str(sources), "--raw", str(raw), "--out", str(out), "--ingest", "--quiet"]
        assert main(command) == 0, capsys.readouterr()
        first = capsys.readouterr().out
        before = _ids(out)
        files = sorted(p.relative_to(raw).as_posix() for p in raw.rglob("*") if p.is_file())
        assert files == ["casemin-kaupunki/kaupunginhallitus/2026-02-02_Kokous_02022026.pdf",
                         "dynastyn-kunta/aluehallitus/2026-02-02_2025101.pdf",
                         "helsinki/sivistyslautakunta/2026-02-02_02975202541.pdf",
                         "twebin-kunta/kunnanhallitus/2026-02-02_4101-41011.html"]
        assert "4 new, 0 changed" in first and "new decisions: " in first

        # between the runs: a new Aluehallitus meeting on Dynasty; CaseM replaces its minutes
        dynasty(site, "/dyn", {"Aluehallitus": [Meeting("2025101", DAY - timedelta(days=14),
                                                          dev("dev16_pdf_aluehallitus_full_dynasty.pdf")),
                                                  Meeting("2025102", DAY, dev("dev14_pdf_kv_full_ligatures_history.pdf"))],
                               "Tarkastuslautakunta": []})
        cloudnc(site, "/cnc", {"Kaupunginhallitus": [Meeting("301", DAY - timedelta(days=14),
                                                             dev("dev15_pdf_lautakunta_full_labelcolumn.pdf"))]})
        assert main(command) == 0
        second = capsys.readouterr().out
        posts = [json.loads(body) for path, body in site.posts if path == "/hook"]

    after = _ids(out)
    new = after - before
    assert new and before - after  # the changed document's old decisions went, its new ones came
    assert "1 new, 1 changed, 3 unchanged" in second, second
    feeds = out / "feeds"
    announced = {}
    for name in ("dynastyn-kunta", "casemin-kaupunki", "twebin-kunta", "helsinki"):
        announced.update(_entries(feeds / f"{name}.atom"))
    assert set(announced) == new  # exactly the decisions that were not there before the run
    assert not _entries(feeds / "helsinki.atom") and not _entries(feeds / "twebin-kunta.atom")
    decisions = pd.read_parquet(out / "decisions").set_index("decision_id")
    for decision_id, entry in announced.items():
        link = entry.find(f"{ATOM}link").get("href")
        assert link.startswith(site.url) and link.endswith(f"#page={decisions.loc[decision_id, 'page_start']}")
        assert entry.find(f"{ATOM}category").get("term") == decisions.loc[decision_id, "outcome"]
    filtered = _entries(feeds / "filter-palautetut.atom")
    casem = set(_entries(feeds / "casemin-kaupunki.atom"))
    assert set(filtered) == {d for d in casem if decisions.loc[d, "outcome"] in ("RETURNED", "TABLED", "PASSED")}
    assert filtered
    assert [len(p["decisions"]) for p in posts][-1] == len(new)
    fetches = pd.read_parquet(out / "fetches")
    assert set(fetches.organization) == {"Dynastyn kunta", "Casemin kaupunki", "Twebin kunta", "Helsinki"}
    assert fetches.run_id.nunique() == 2 and (fetches.outcome != "failed").all()
