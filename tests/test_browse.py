"""`minutes browse` over HTTP: the listing, search, a decision with its sources, a case, and the
span of every mention shown in its page (pipeline/browse)."""
from __future__ import annotations

import html
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from pipeline.browse.server import start
from pipeline.browse.source import page_view
from pipeline.run import run_batch
from tests.conftest import FIXTURES

_HREF = re.compile(r'href="(/source\?[^"]+)"')


@pytest.fixture(scope="module")
def site(dev_output: Path) -> Iterator[str]:
    server, thread = start(dev_output)
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    thread.join(timeout=10)


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read().decode("utf-8")


def _stored_pages(out: Path) -> dict[str, list[tuple[int, str]]]:
    pages = pd.read_parquet(out / "pages")
    return {d: list(zip(g.page, g.text)) for d, g in pages.groupby("doc_id")}


@pytest.mark.parametrize("corpus", ["dev", "styles"])
def test_every_mention_is_found_in_its_page(corpus: str, dev_output: Path, tmp_path: Path) -> None:
    """The span a mention records, cut out of the page the browse page shows, is the mention's text, on its page."""
    out = dev_output
    if corpus == "styles":
        out = tmp_path / "styles"
        run_batch(FIXTURES / "styles", out)
    pages = _stored_pages(out)
    mentions = pd.read_parquet(out / "mentions")
    multi = 0
    for m in mentions.itertuples():
        view = page_view(pages[m.doc_id], m.char_start, m.char_end, m.text)
        assert view.exact and view.page == m.page, (m.doc_id[:8], m.field, m.text)
        shown = view.text[view.start:view.end]
        assert shown == m.text or (view.continues and m.text.startswith(shown)), (m.field, shown, m.text)
        multi += view.n_pages > 1 and view.page > 1
    assert multi > 50 if corpus == "dev" else len(mentions) > 100


def test_a_span_moved_by_a_later_change_is_found_near_its_offset() -> None:
    pages = [(1, "Otsikko\nPäätös Hyväksyttiin."), (2, "[email] lisätty. Päätös Hylättiin.")]
    text_at = len("Otsikko\nPäätös Hyväksyttiin.") + 1 + len("matti@example.fi lisätty. Päätös ")
    view = page_view(pages, text_at, text_at + len("Hylättiin"), "Hylättiin")
    assert not view.exact and view.page == 2 and view.text[view.start:view.end] == "Hylättiin"
    gone = page_view(pages, 5, 9, "Poistettu")
    assert not gone.exact and gone.start == gone.end


def test_the_listing_filters_and_pages(site: str, dev_output: Path) -> None:
    total = len(pd.read_parquet(dev_output / "decisions"))
    page = get(site + "/")
    assert f"1–{min(50, total)} of {total}" in page and "older →" in page
    council = get(site + "/?body=valtuusto&outcome=PASSED")
    rows = council.count('class="decision"')
    assert 0 < rows < total and "Kunnanvaltuusto" in council
    assert get(site + "/?since=2026-01-01").count('class="decision"') == 1  # the 2026 officer decision


def test_search_shows_ranked_hits_with_snippets(site: str) -> None:
    page = get(site + "/?q=kouluja")
    assert re.search(r"\d+ decision\(s\) match", page) and "<mark>" in page and ", page " in page
    assert "peruskoulu" in page  # the compound the query was expanded to
    assert "nothing to search for" in get(site + "/?q=%2C%2C")


def test_a_decision_page_shows_every_field_votes_case_and_sources(site: str, dev_output: Path) -> None:
    decisions = pd.read_parquet(dev_output / "decisions")
    votes = pd.read_parquet(dev_output / "votes")
    voted = decisions[decisions.decision_id.isin(votes.decision_id)].iloc[0]
    page = get(site + "/decision/" + urllib.request.quote(voted.decision_id))
    for column in decisions.columns:
        assert "<th title=" in page and f">{column}</th>" in page, column
    for voter in votes[votes.decision_id == voted.decision_id].voter:
        assert html.escape(voter) in page
    assert "Case timeline" in page
    links = [html.unescape(h) for h in _HREF.findall(page)]
    assert len(links) > 10
    fragment = get(site + links[0] + "&fragment=1")
    assert "<mark" in fragment and "rule-id" in fragment and "page 1 of" in fragment
    assert get(site + links[0]).startswith("<!doctype html>")  # without script: a page of its own


def test_case_page_static_files_and_errors(site: str, dev_output: Path) -> None:
    case = pd.read_parquet(dev_output / "cases").sort_values("n_handlings").iloc[-1]
    page = get(site + "/case/" + case.case_id)
    assert page.count("<tr") == case.n_handlings + 1
    assert "addEventListener" in get(site + "/static/app.js") and "mark" in get(site + "/static/app.css")
    doc_id = case.doc_ids[0]
    for path, status in (("/decision/nope", 404), ("/nowhere", 404), ("/static/../server.py", 404),
                         ("/source?doc=x&start=1&end=2", 404), (f"/source?doc={doc_id}&start=a&end=2", 400)):
        with pytest.raises(urllib.error.HTTPError) as err:
            get(site + path)
        assert err.value.code == status, path


def test_the_large_output_benchmark_runs_on_a_small_output(tmp_path: Path) -> None:
    """benchmarks/explore.py on 300 decisions: the generated output reads like a run's (every
    mention where it says, cases across the board's and the council's documents), and each
    measurement runs."""
    import subprocess
    import sys

    from benchmarks.outputs import generate

    out = tmp_path / "out"
    generate(out, 300)
    pages = _stored_pages(out)
    for m in pd.read_parquet(out / "mentions").sample(300, random_state=1).itertuples():
        view = page_view(pages[m.doc_id], m.char_start, m.char_end, m.text)
        assert view.exact and view.page == m.page and view.text[view.start:view.end] == m.text
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "benchmarks/explore.py", "--out", str(out), "--repeat", "1"], cwd=root,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "median over the queries" in done.stdout and "a value's source" in done.stdout
    found = pd.read_parquet(out / "cases")
    assert (found.n_handlings > 1).sum() > 5 and found.bodies.map(len).max() > 1
