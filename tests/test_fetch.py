"""`minutes fetch` against a misbehaving site on 127.0.0.1: every case a fetches row and a summary line.

One Dynasty site, ten meetings. The first run downloads what it can; then the site turns against
the client (404, 500-then-200, a response slower than the timeout, a redirect loop, an HTML page
served as the PDF, a 200 MB stream, a changed document, a new meeting) and the second run must
record each case and lose or overwrite nothing it already had. Timeouts and retries are short here.
"""
from __future__ import annotations

import time
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from fetch_sites import Meeting, Route, SiteServer, dev, dynasty, sources_toml
from pipeline.fetch.client import FetchFailed, PoliteClient
from pipeline.fetch.run import run_fetch
from pipeline.fetch.sourcefile import Manners, SourcesError, load

TODAY = date(2026, 3, 2)
PDF = dev("dev17_pdf_ote_2pages_ligatures.pdf")
OTHER_PDF = dev("dev19_pdf_viranhaltijapaatos.pdf")
FAST = {"rate": 200, "timeout": 0.4, "retries": 1, "backoff": 0.05, "max_mb": 1, "recheck_days": 3650}


def _site(site: SiteServer, count: int) -> tuple[str, list[Meeting]]:
    meetings = [Meeting(f"20260{n:02d}", TODAY - timedelta(days=n), PDF) for n in range(1, count + 1)]
    base = dynasty(site, "/d", {"Kunnanhallitus": meetings})
    site.add("/robots.txt", Route(b"User-agent: *\nDisallow: /private/\n", "text/plain"))
    return base, meetings


def _sources(tmp_path: Path, base: str) -> Path:
    path = tmp_path / "sources.toml"
    path.write_text(sources_toml({"d": {"organization": "Koekunta", "system": "dynasty", "base_url": base}},
                                 TODAY - timedelta(days=365), **FAST), encoding="utf-8")
    return path


def _pdf(n: int) -> str:
    return f"/d/kokous/20260{n:02d}.PDF"


def _rows(out: Path) -> pd.DataFrame:
    return pd.read_parquet(out / "fetches").sort_values("fetch_id").reset_index(drop=True)


def test_each_failure_is_a_row_and_a_line_and_nothing_downloaded_is_lost(tmp_path: Path) -> None:
    raw, out = tmp_path / "raw", tmp_path / "out"
    with SiteServer() as site:
        base, meetings = _site(site, 8)
        cgi = "/d/cgi/DREQUEST.PHP"
        # meeting 6's minutes lie under a path robots.txt forbids
        site.page(f"{cgi}?page=meeting&id=2026006", '<a href="/private/kokous/2026006.PDF">Pöytäkirja</a>')
        sources = load(_sources(tmp_path, base), today=TODAY)
        first = run_fetch(sources, raw, out, today=TODAY)
        assert (first.new, first.failed) == (7, 1), first.lines()
        assert site.hits("/private/kokous/2026006.PDF") == []  # robots.txt was asked, the path never
        kept = {p: p.read_bytes() for p in raw.rglob("*.pdf")}
        assert len(kept) == 7

        # the site turns: a new meeting, one changed document, and every other one misbehaves in its own way
        dynasty(site, "/d", {"Kunnanhallitus": meetings + [Meeting("2026009", TODAY, PDF)]})
        site.page(f"{cgi}?page=meeting&id=2026006", '<a href="/private/kokous/2026006.PDF">Pöytäkirja</a>')
        site.add(_pdf(1), Route(OTHER_PDF, "application/pdf"))  # changed
        site.routes.pop(_pdf(2))  # 404
        site.add(_pdf(3), Route(PDF, "application/pdf", statuses=[500]))  # 500, then 304 to If-None-Match
        site.add(_pdf(4), Route(PDF, "application/pdf", delay=1.0))  # past the 0.4 s timeout
        site.add(_pdf(5), Route(location=f"{site.url}{_pdf(5)}"))  # redirects to itself
        site.add(_pdf(7), Route(b"<!DOCTYPE html><html><body>Istunto vanhentunut</body></html>", "application/pdf"))
        site.add(_pdf(8), Route(stream_mb=200, declare_length=False))  # 200 MB, its size unknown in advance
        started = time.monotonic()
        second = run_fetch(sources, raw, out, today=TODAY)
        elapsed = time.monotonic() - started
        agents = {h.get("User-Agent") for _, h in site.requests}

    assert elapsed < 20, elapsed  # the 200 MB stream was cut at the limit, the slow answer at the timeout
    assert all("tests@example.org" in a for a in agents), agents
    rows = _rows(out)
    run2 = rows[rows.run_id == rows.run_id.max()].set_index("url")
    doc = {n: run2.loc[f"{site.url}{_pdf(n)}"] for n in range(1, 10) if f"{site.url}{_pdf(n)}" in run2.index}
    assert doc[1].outcome == "changed" and doc[9].outcome == "new"
    assert doc[2].outcome == "failed" and doc[2].status == 404 and "not found" in doc[2].reason
    assert doc[3].outcome == "unchanged" and doc[3].attempts == 2  # 500, then 304 to If-None-Match
    assert doc[4].outcome == "failed" and "timeout" in doc[4].reason and doc[4].attempts == 2
    assert doc[5].outcome == "failed" and "redirects" in doc[5].reason
    assert doc[7].outcome == "failed" and "where a PDF was expected" in doc[7].reason
    assert doc[8].outcome == "failed" and "max_mb" in doc[8].reason and (1 << 20) < doc[8].bytes < (1 << 20) + (1 << 17)
    robots = run2.loc[f"{site.url}/private/kokous/2026006.PDF"]
    assert robots.outcome == "failed" and pd.isna(robots.status) and "robots.txt" in robots.reason
    assert (second.new, second.changed, second.unchanged, second.failed) == (1, 1, 1, 6), second.lines()
    failed_lines = [line for line in second.lines() if line.startswith("failed:")]
    assert len(failed_lines) == 6 and all("Koekunta/Kunnanhallitus http://" in line for line in failed_lines)
    # nothing already downloaded was lost or overwritten by a failed fetch; the changed one was replaced
    for path, data in kept.items():
        expected = OTHER_PDF if path.name.endswith("_2026001.pdf") else data
        assert path.read_bytes() == expected, path
    assert not list(raw.rglob(".tmp-*"))
    assert len(rows[rows.run_id == rows.run_id.min()]) == 10 + 8  # run 1's rows (10 listings, 8 documents) are kept
    assert set(rows.kind) == {"listing", "document"}


def test_a_declared_oversize_answer_is_refused_unread_and_rate_limit_spaces_requests() -> None:
    with SiteServer() as site:
        site.add("/big.pdf", Route(stream_mb=200))  # Content-Length: 200 MB
        site.page("/page", "<p>sivu</p>")
        manners = Manners("tests@example.org", rate=10, max_mb=1, timeout=5, retries=0)
        with PoliteClient(manners) as client:
            with pytest.raises(FetchFailed, match="says its size is 200.0 MB"):
                client.get(f"{site.url}/big.pdf")
            started = time.monotonic()
            for _ in range(5):
                client.get(f"{site.url}/page")
            spaced = time.monotonic() - started
        assert spaced >= 0.4, spaced  # 10 a second: five requests take at least four intervals


def test_robots_txt_that_cannot_be_read_means_fetch_nothing() -> None:
    with SiteServer() as site:
        site.add("/robots.txt", Route(statuses=[503, 503, 503]))
        site.page("/page", "<p>sivu</p>")
        with PoliteClient(Manners("tests@example.org", rate=100, retries=0)) as client:
            with pytest.raises(FetchFailed, match="robots.txt .* answered 503"):
                client.get(f"{site.url}/page")
        assert site.hits("/page") == []


def test_ahjo_without_its_api_key_is_a_row_saying_which_variable(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from fetch_sites import ahjo

    monkeypatch.delenv("MINUTES_TEST_AHJO_KEY", raising=False)
    with SiteServer() as site:
        base = ahjo(site, "/a", {"Kaupunginhallitus": [Meeting("1", TODAY, PDF)]})
        path = tmp_path / "s.toml"
        path.write_text(sources_toml({"a": {"organization": "Helsinki", "system": "ahjo", "base_url": base,
                                            "api_key_env": "MINUTES_TEST_AHJO_KEY"}}, TODAY, **FAST))
        summary = run_fetch(load(path, today=TODAY), tmp_path / "raw", tmp_path / "out", today=TODAY)
    assert summary.request_failures == 1 and "MINUTES_TEST_AHJO_KEY is not set" in summary.failures[0]
    assert _rows(tmp_path / "out").reason.tolist() == [summary.failures[0].split(": ", 1)[1]]


@pytest.mark.parametrize("text, message", [
    ("[[source]]\norganization='A'\nsystem='dynasty'\nbase_url='https://a.fi/cgi/DREQUEST.PHP'", "contact must be"),
    ("[fetch]\ncontact='a@b.fi'\n[[source]]\norganization='A'\nsystem='wordpress'\nbase_url='https://a.fi'",
     "is not one of dynasty, cloudnc, tweb, ahjo"),
    ("[fetch]\ncontact='a@b.fi'\n[[source]]\norganization='A'\nsystem='tweb'\nbase_url='https://a.fi/'",
     "a tweb source needs feed"),
    ("[fetch]\ncontact='a@b.fi'\n[[source]]\norganization='A'\nsystem='ahjo'\nbase_url='https://a.fi/'",
     "needs api_key_env"),
    ("[fetch]\ncontact='a@b.fi'\nrate=0\n[[source]]\norganization='A'\nsystem='ahjo'\nbase_url='https://a.fi/'",
     "rate = 0 must be a number of at least 0.001"),
    ("[fetch]\ncontact='a@b.fi'\n[[source]]\norganization='A'\nsystem='dynasty'\nbase_url='ftp://a.fi'",
     "must be an http"),
    ("[fetch]\ncontact='a@b.fi'\n[[source]]\norganization='A'\nsystem='dynasty'\nbase_url='https://a.fi'\n"
     "since='last spring'", "is neither a date"),
    ("[fetch]\ncontact='a@b.fi'\n[[source]]\norganization='A'\nsystem='dynasty'\nbase_url='https://a.fi'\n"
     "[[filter]]\nname='x'\noutcome=['WON']", "unknown outcome"),
    ("[fetch]\ncontact='a@b.fi'", "no [[source]] entries"),
    ("[fetch\n", "is not valid TOML"),
])
def test_a_bad_sources_file_says_what_to_change(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "sources.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SourcesError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load(path)


def test_sources_check_validates_and_says_what_each_entry_fetches(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from pipeline.cli import main

    example = Path(__file__).resolve().parents[1] / "sources.example.toml"
    assert main(["sources", "check", str(example)]) == 0
    said = capsys.readouterr().out
    for system in ("(dynasty)", "(cloudnc)", "(tweb)", "(ahjo)"):
        assert system in said, said
    assert "User-Agent" in said and "-> feeds/filter-" in said
    bad = tmp_path / "bad.toml"
    bad.write_text("[fetch]\ncontact='nobody'\n", encoding="utf-8")
    assert main(["sources", "check", str(bad)]) == 2
    assert "contact must be an e-mail address" in capsys.readouterr().err
    assert main(["fetch", "--sources", str(bad)]) == 2
