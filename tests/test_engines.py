"""Same tables whichever way they are made: both PDF engines, 1 or 2 workers, fast paths or slow.

The speed work (benchmarks/) rests on these: pypdfium2 instead of pdfplumber, documents in
parallel processes, and three shortcuts (a tokenizer cache, ftfy only on lines it can change,
matchers skipped where no pattern can match) must not change a single cell.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import ftfy
import pyarrow.parquet as pq
import pytest
import spacy
from hypothesis import given, settings
from hypothesis import strategies as st

import extractors.prefilter as prefilter
from extractors.assemble import extract
from pipeline.cli import main
from extractors.nlp import make_doc
from pipeline.read import DEFAULT_ENGINE, ENGINES, read_document
from pipeline.repair import _FTFY, fix_text
from pipeline.run import repaired_text
from tests.conftest import CORPUS, DEV

TABLES = ("documents", "decisions", "mentions", "meetings", "votes", "pages", "failures")
# Columns that say when, how fast or with which engine a row was made, not what it says.
VOLATILE = {"seconds", "processed_at", "failed_at", "engine"}
DOCUMENTS = sorted(p for p in CORPUS.glob("*/*") if p.suffix in (".pdf", ".txt"))


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _plain(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)) or hasattr(value, "tolist"):
        return tuple(_plain(v) for v in (value.tolist() if hasattr(value, "tolist") else value))
    return value


def tables(out: Path) -> dict[str, list[tuple]]:
    """Every table as a sorted list of rows, volatile columns left out."""
    found = {}
    for name in TABLES:
        if not (out / name).exists():
            continue
        rows = pq.read_table(out / name).to_pylist()
        found[name] = sorted((tuple((k, _plain(v)) for k, v in sorted(r.items()) if k not in VOLATILE)
                              for r in rows), key=repr)
    return found


def ingest(src: Path, out: Path, *args: str) -> dict[str, list[tuple]]:
    assert main(["ingest", str(src), "--out", str(out), "--quiet", *args]) == 0
    return tables(out)


@pytest.fixture(scope="module")
def dev_pdfs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = tmp_path_factory.mktemp("dev-pdfs")
    for pdf in sorted(DEV.glob("*.pdf")):
        shutil.copy(pdf, src / pdf.name)
    return src


def test_default_engine_is_pypdfium2() -> None:
    assert DEFAULT_ENGINE == "pypdfium2" and set(ENGINES) == {"pdfplumber", "pypdfium2"}


@pytest.mark.slow
def test_engines_give_the_same_tables_on_every_dev_pdf(dev_pdfs: Path, tmp_path: Path) -> None:
    made = {engine: ingest(dev_pdfs, tmp_path / engine, "--engine", engine) for engine in ENGINES}
    plumber, pdfium = made["pdfplumber"], made["pypdfium2"]
    assert len(plumber["documents"]) == 8 and len(plumber["decisions"]) > 40
    assert plumber.keys() == pdfium.keys()
    for name in plumber:
        assert plumber[name] == pdfium[name], f"the {name} table differs between the engines"
    engines = {dict(r)["engine"] for r in pq.read_table(tmp_path / "pypdfium2" / "documents").to_pylist()}
    assert engines == {"pypdfium2"}


@pytest.mark.slow
def test_two_workers_give_the_same_tables_as_one(tmp_path: Path) -> None:
    one = ingest(DEV, tmp_path / "one", "--workers", "1")
    two = ingest(DEV, tmp_path / "two", "--workers", "2")
    assert len(one["documents"]) == 20 and len(one["decisions"]) == 67
    assert one == two


# --------------------------------------------------------------------------- fast paths


@pytest.fixture(scope="module")
def dev_texts() -> list[str]:
    return [repaired_text(read_document(path))[0] for path in DOCUMENTS]


def test_matcher_prefilter_changes_no_result(dev_texts: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    def rows(text: str) -> tuple:
        ex = extract(text)
        return repr((ex.doc_type, ex.decisions, ex.mentions, ex.votes, ex.meetings))

    fast = [rows(t) for t in dev_texts]
    monkeypatch.setattr(prefilter.PrefilteredMatcher, "may_match", lambda self, doclike: True)
    assert [rows(t) for t in dev_texts] == fast


def test_prefilter_skips_spans_without_the_words() -> None:
    from extractors import recusals

    matcher = recusals._matcher()
    doc = make_doc("Kunnanhallitus hyväksyi ehdotuksen. Jäsen Outi Laine ilmoitti olevansa esteellinen.")
    assert not matcher.may_match(doc[:5]) and matcher.may_match(doc[:])
    assert recusals.names(doc[:]) == ["Outi Laine"]


@pytest.mark.parametrize(("regex", "words"), [
    ("^merki(ttiin|tsi)$", ["merkitsi", "merkittiin"]),
    ("^(päätös|pohja)?ehdotus$|^esitys$", ["ehdotus", "esitys", "pohjaehdotus", "päätösehdotus"]),
    ("^jaa-?äänet$", ["jaa-äänet", "jaaäänet"]),
    ("^oikaisuvaatimu\\w*$", None),  # open: any ending
    ("^\\d{1,3}$", None),
    ("hyväksyttiin", None),  # unanchored: a substring of longer words too
    ("^(?i:ei)$", None),  # inline flags
])
def test_literal_words(regex: str, words: list[str] | None) -> None:
    assert prefilter.literal_words(regex) == words


def test_tokenizer_cache_gives_the_same_tokens(dev_texts: list[str]) -> None:
    plain = spacy.blank("fi")
    plain.max_length = 10**8
    for text in dev_texts + dev_texts:  # the second round is served from the cache
        cached = [(t.text, t.whitespace_, t.idx, t.norm_) for t in make_doc(text)]
        assert cached == [(t.text, t.whitespace_, t.idx, t.norm_) for t in plain.make_doc(text)]


def test_ftfy_shortcut_on_dev_texts(dev_texts: list[str]) -> None:
    for path in DOCUMENTS:
        if path.suffix == ".txt":
            raw = read_document(path).pages[0].text
            assert fix_text(raw) == ftfy.fix_text(raw, _FTFY)
    for text in dev_texts:
        assert fix_text(text) == ftfy.fix_text(text, _FTFY)


# Characters that make or break mojibake, HTML entities, ligatures and the shortcut's own set.
_TRICKY = "aAäöÄÖåÅéü§–’•&<>;#x \n\t\xa0ÃÂâ€Šš¢£ŸžÎÐÙ\x80\x93ƟƩƫﬁ"


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=_TRICKY, max_size=40))
def test_ftfy_shortcut_equals_ftfy(text: str) -> None:
    assert fix_text(text) == ftfy.fix_text(text, _FTFY)


def test_ftfy_shortcut_still_repairs() -> None:
    assert fix_text("PÃ¶ytÃ¤kirja Â§ 23\nHyväksyttiin.\n") == "Pöytäkirja § 23\nHyväksyttiin.\n"
    assert fix_text("Ä§") == ftfy.fix_text("Ä§", _FTFY) != "Ä§"  # § right after Ä can be mojibake
