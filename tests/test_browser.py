"""The browse page in a real browser: headless Chromium from the system's packages (`make
browser-deps` installs Debian's `chromium` where it can) searches, opens a decision, clicks a
value and sees its span marked in the page it was read from; the decision page's screenshot is
written (to MINUTES_SCREENSHOT when set, as `make screenshot` does for the README).
"""
from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest

from chromium import Page, browser, chromium_path
from pipeline.browse.server import start

pytestmark = pytest.mark.skipif(
    chromium_path() is None,
    reason="headless Chromium is not installed (Debian: `apt-get install chromium`, which `make test` runs as root "
           "with apt-get); the browser tests are skipped")


@pytest.fixture(scope="module")
def page(dev_output: Path) -> Iterator[tuple[Page, str]]:
    server, thread = start(dev_output)
    try:
        with browser() as tab:
            yield tab, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def _click_value(tab: Page, field: str) -> None:
    tab.evaluate(f"""[...document.querySelectorAll('table.fields tr')]
        .find(r => r.querySelector('th').textContent === '{field}').querySelector('a.value').click()""")


def test_search_open_a_decision_and_see_where_a_value_was_read(page: tuple[Page, str], tmp_path: Path) -> None:
    tab, site = page
    tab.goto(site + "/")
    tab.evaluate("document.querySelector('input[name=q]').value = 'talousarvio'; "
                 "document.querySelector('input[name=body]').value = 'valtuusto'; "
                 "document.querySelector('form.filters').submit()")
    tab.wait_for("location.search.includes('q=talousarvio') && document.readyState === 'complete' "
                 "&& !!document.querySelector('#found')")
    assert "decision(s) match" in tab.evaluate("document.querySelector('#found').textContent")
    assert tab.evaluate("document.querySelectorAll('table.results mark').length") > 0
    title = tab.evaluate("document.querySelector('a.decision').textContent")
    tab.evaluate("document.querySelector('a.decision').click()")
    tab.wait_for("location.pathname.startsWith('/decision/') && document.readyState === 'complete' "
                 "&& !!document.querySelector('table.fields')")
    assert tab.evaluate("document.querySelector('h1').textContent") == title

    _click_value(tab, "outcome")
    marked = tab.wait_for("document.querySelector('#source mark') && document.querySelector('#source mark').textContent")
    rule = tab.evaluate("document.querySelector('#source .rule-id').textContent")
    assert rule.startswith("outcomes.") and marked.strip()
    assert tab.evaluate("location.pathname.startsWith('/decision/')"), "the source opens beside the values"
    # the marked span is the mention's text, in the page the mention names
    assert tab.evaluate("document.querySelector('#source').textContent.includes('page ')")
    _click_value(tab, "meeting_date")
    tab.wait_for("document.querySelector('#source code').textContent === 'meeting_date'")
    assert tab.evaluate("document.querySelector('#source .rule-id').textContent").startswith(("dates.", "sections."))
    assert tab.evaluate("document.querySelectorAll('a.value.active').length") == 1

    shot = Path(os.environ.get("MINUTES_SCREENSHOT") or tmp_path / "decision.png")
    _click_value(tab, "decision")
    tab.wait_for("document.querySelector('#source code').textContent === 'decision'")
    tab.screenshot(shot)
    width, height = struct.unpack(">II", shot.read_bytes()[16:24])  # the PNG header's size
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and width >= 1000 and height >= 600


def test_the_case_timeline_links_the_handlings(page: tuple[Page, str], dev_output: Path) -> None:
    import pandas as pd

    tab, site = page
    case = pd.read_parquet(dev_output / "cases").set_index("diary_id").loc["211/05.00.00/2025"]
    tab.goto(f"{site}/case/{case.case_id}")
    links = tab.evaluate("[...document.querySelectorAll('table.timeline a')].map(a => a.textContent)")
    assert links == ["TABLED", "PASSED", "PASSED"]
    tab.evaluate("document.querySelectorAll('table.timeline a')[0].click()")
    tab.wait_for("location.pathname.startsWith('/decision/') && document.readyState === 'complete' "
                 "&& !!document.querySelector('tr.here')")
    assert "an earlier handling" in tab.evaluate("document.querySelector('p.meta').textContent")
