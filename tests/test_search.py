"""Search (pipeline/search): Finnish stems and compounds, filters, ranking, snippets and pages, the
incremental index against one built at once, and `minutes search`."""
from __future__ import annotations

import contextlib
import io
import shutil
import sqlite3
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from pipeline.cli import main
from pipeline.document import page_of, repaired_text
from pipeline.read import read_document
from pipeline.run import run_batch
from pipeline.search.query import Filters, SearchError, open_index, search
from pipeline.search.words import compound_parts, stem, stems
from tests.conftest import DEV, FIXTURES

CASE_DOCS = FIXTURES / "cases"


@pytest.fixture(scope="module")
def index(dev_output: Path) -> sqlite3.Connection:
    return open_index(dev_output)


def ids(result) -> list[str]:  # noqa: ANN001 - a query.Result
    return [h.decision_id for h in result.hits]


@pytest.mark.parametrize(("forms", "same"), [
    (["koulu", "koulun", "kouluissa", "kouluja"], True),
    (["päätös", "päätöksen", "päätöksellä"], True),  # our -ks rule: Snowball leaves päätöks
    (["kuljetus", "kuljetuksen", "kuljetukset"], True),
    (["taksa", "taksan"], True),
    (["koulu", "koulutus"], False),
])
def test_inflected_forms_share_a_stem(forms: list[str], same: bool) -> None:
    assert (len({stem(f) for f in forms}) == 1) is same


def test_compound_parts_are_known_words_around_the_query() -> None:
    known = {"kuljetus", "perus", "periaat", "alue"}.__contains__
    assert compound_parts("peruskoulu", "koulu", known)  # the head: perus|koulu
    assert compound_parts("yhtenäiskoulu", "koulu", known)  # any modifier of 3+ letters
    assert compound_parts("koulukuljetus", "koulu", known)  # koulu|kuljetus: a known word follows
    assert compound_parts("koulukuljetusperiaat", "koulu", known)  # koulu|kuljetus|periaat
    assert not compound_parts("koulutus", "koulu", known)  # a derivation: "tus" is no word
    assert not compound_parts("koulu", "koulu", known)  # the word itself is no compound of it
    assert not compound_parts("ankoulu", "koulu", known)  # "an" is too short to be a part


def test_inflections_and_compounds_are_found(index: sqlite3.Connection) -> None:
    kouluja = search(index, "kouluja")
    assert {"peruskoulu", "koulukuljetus", "yhtenäiskoulu"} <= set(kouluja.terms["kouluja"])
    titles = [h.title for h in kouluja.hits]
    assert any("Kouluverkkoselvitys" in t for t in titles) and any("Perusopetuksen" in t for t in titles)
    assert search(index, "koulutus").total < kouluja.total  # koulutus is training, not a school
    assert search(index, "päätöksen").total == search(index, "päätös").total > 0
    assert search(index, "hallitus").terms["hallitus"][:1] == ["hallitus"]
    assert "kunnanhallitus" in search(index, "hallitus").terms["hallitus"]
    # every word must match
    both = search(index, "koulu talousarvio")
    assert 0 < both.total < min(search(index, "koulu").total, search(index, "talousarvio").total)


def test_school_finds_the_comprehensive_school(tmp_path: Path) -> None:
    run_batch(CASE_DOCS, tmp_path)
    found = search(open_index(tmp_path), "koulu")
    # the board's two handlings speak of "peruskoulun oppilaiden koulukuljetukset"; the council's only of
    # "koulukuljetukset", which is koulu|kuljetus only where the index knows "kuljetus" as a word of its own
    assert found.total == 2 and found.terms["koulu"] == ["koulu", "peruskoulu"]
    assert any(t.lower() == "peruskoulun" for h in found.hits for t, hit in h.snippet if hit)


def test_filters_narrow_and_ranking_puts_titles_first(index: sqlite3.Connection) -> None:
    everything = search(index, "talousarvio", limit=100)
    assert everything.hits[0].title.lower().startswith("talousarvio")  # the title counts the most
    assert [h.score for h in everything.hits] == sorted((h.score for h in everything.hits), reverse=True)
    council = search(index, "talousarvio", Filters(body="VALTUUSTO"), limit=100)
    assert 0 < council.total < everything.total and all("valtuusto" in h.body.lower() for h in council.hits)
    org = search(index, "talousarvio", Filters(organization="sonkajärv"), limit=100)
    assert org.total and all(h.organization == "Sonkajärven kunta" for h in org.hits)
    dated = search(index, "talousarvio", Filters(since=date(2025, 1, 1), until=date(2025, 12, 31)), limit=100)
    assert dated.total and all("2025-01-01" <= h.meeting_date <= "2025-12-31" for h in dated.hits)
    noted = search(index, "talousarvio", Filters(outcomes=("noted",)), limit=100)
    assert noted.total and {h.outcome for h in noted.hits} == {"NOTED"}
    assert search(index, "talousarvio", limit=2, offset=2).hits[0].decision_id == everything.hits[2].decision_id
    with pytest.raises(SearchError):
        search(index, " ,. ")


def test_each_hit_gives_its_document_page_and_the_words_that_matched(dev_output: Path,
                                                                     index: sqlite3.Connection) -> None:
    """The page is the page the first marked word stands on in the document, checked against the text itself."""
    mentions = pd.read_parquet(dev_output / "mentions")
    docs = pd.read_parquet(dev_output / "documents").set_index("doc_id")
    checked = 0
    for query in ("talousarvio", "koulu", "hallitus", "vuokra", "valtuusto", "äänestys", "esteellinen"):
        for hit in search(index, query, limit=50).hits:
            doc = docs.loc[hit.doc_id]
            assert hit.source_path == doc.source_path
            word = next(t for t, marked in hit.snippet if marked)
            assert stem(word.lower()) in set().union(*search(index, query).terms.values())
            ordinal = int(hit.decision_id.rsplit(":", 1)[1])
            span = mentions[(mentions.doc_id == hit.doc_id) & (mentions.decision_ordinal == ordinal)
                            & (mentions.field == hit.field)].iloc[0]
            text = repaired_text(read_document(DEV / doc.source_path))[0]
            at = text.index(word, span.char_start)
            assert hit.page == page_of(at, list(doc.page_starts)), (query, hit.title)
            checked += 1
    assert checked > 40
    assert any(h.page > 1 for h in search(index, "talousarvio", limit=50).hits)


def snapshot(out: Path) -> dict[str, list]:
    con = sqlite3.connect(out / "search.sqlite")
    found = {table: sorted(con.execute(f"SELECT * FROM {table}").fetchall())
             for table in ("lexicon", "terms")}
    found["hits"] = sorted(con.execute("SELECT h.decision_id, t.title, t.proposal, t.decision FROM hits h "
                                       "JOIN texts t ON t.rowid = h.rowid").fetchall())
    con.close()
    return found


def test_an_index_updated_run_by_run_answers_as_one_built_at_once(tmp_path: Path) -> None:
    names = sorted(p.name for p in DEV.glob("*.txt"))
    src, once, steps = tmp_path / "src", tmp_path / "once", tmp_path / "steps"
    src.mkdir()
    for name in names[:5]:
        shutil.copy(DEV / name, src / name)
    run_batch(src, steps)
    for name in names[5:]:
        shutil.copy(DEV / name, src / name)
    (src / names[0]).unlink()
    run_batch(src, steps, prune=True)  # adds documents and removes one
    (tmp_path / "all").mkdir()
    for name in names[1:]:
        shutil.copy(DEV / name, tmp_path / "all" / name)
    run_batch(tmp_path / "all", once)
    assert snapshot(steps) == snapshot(once)
    for query in ("koulu", "hallitus talousarvio", "päätös", "vuokra"):
        assert ids(search(open_index(steps), query, limit=100)) == ids(search(open_index(once), query, limit=100))


def test_the_search_command(dev_output: Path) -> None:
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main(["search", "koulu", "--out", str(dev_output), "--body", "lautakunta", "--limit", "3"])
    text = buf.getvalue()
    assert code == 0, text
    assert "decision(s) match (koulu: koulu" in text and "[" in text and ", page " in text
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["search", "zzzyyyxxx", "--out", str(dev_output)]) == 1  # nothing found
    with contextlib.redirect_stderr(io.StringIO()):
        assert main(["search", "koulu", "--out", str(dev_output / "none")]) == 2


def test_stems_of_a_text() -> None:
    assert stems("Peruskoulun oppilaiden koulukuljetukset") == ["peruskoulu", "oppil", "koulukuljetus"]
    assert read_document(DEV / "dev06_seedstyle_kh_kv_history.txt").pages  # the corpus is at hand
