"""One golden test per document: its rows match its gold file field by field.

The dev corpus and the style fixtures (tests/fixtures/styles: Turku, Word-era, a wellbeing services
county in Dynasty, KTweb with dashes lost, Swedish interface labels) are ingested once; each
document is then scored alone, and any field that differs is listed in the failure.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from pipeline.evaluate import evaluate
from pipeline.run import run_batch
from tests.conftest import DEV, FIXTURES

STYLES = FIXTURES / "styles"


def _docs(folder: Path) -> list[str]:
    return sorted(p.name.split(".")[0] for p in folder.glob("*.gold.json"))


@pytest.fixture(scope="module")
def reports(dev_output: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    styles_out = tmp_path_factory.mktemp("styles-out")
    run_batch(STYLES, styles_out)
    out = {}
    for folder, pred in ((DEV, dev_output), (STYLES, styles_out)):
        for doc in evaluate(folder, pred).documents:
            out[doc.source_path.split(".")[0]] = doc
    return out


@pytest.mark.parametrize("name", _docs(DEV) + _docs(STYLES))
def test_document_matches_its_gold(reports: dict[str, object], name: str) -> None:
    doc = reports[name]
    assert not doc.missed, f"{name} was not processed"
    errors = [f"{e.decision} {e.field}: gold {e.gold!r} / pred {e.predicted!r}" for e in doc.errors]
    assert not errors, "\n".join(errors)


def test_meeting_values_are_traced(dev_output: Path) -> None:
    meetings = pd.read_parquet(dev_output / "meetings")
    mentions = pd.read_parquet(dev_output / "mentions")
    cited = set(zip(mentions.doc_id, mentions["field"]))
    missing = []
    for row in meetings.to_dict("records"):
        for column in ("organization", "body", "meeting_date", "start_time", "place", "number", "chair",
                       "secretary", "checkers", "legality", "section_first"):
            value = row[column]
            empty = value is None or (not hasattr(value, "__len__") and pd.isna(value)) or \
                (hasattr(value, "__len__") and len(value) == 0)
            if not empty and (row["doc_id"], f"meeting.{column}") not in cited:
                missing.append((row["doc_id"][:8], column))
    assert not missing, f"meeting values without provenance: {missing}"


def test_full_minutes_cover(dev_output: Path) -> None:
    """dev13: the cover of a full set of minutes, field by field."""
    docs = pd.read_parquet(dev_output / "documents")
    doc_id = docs.loc[docs.source_path.str.startswith("dev13"), "doc_id"].item()
    m = pd.read_parquet(dev_output / "meetings").set_index("doc_id").loc[doc_id]
    assert (m.start_time, m.end_time) == ("16:00", "18:42")
    assert m.place == "Kaupungintalo, kaupunginhallituksen kokoushuone"
    assert m.number == "9/2025"
    assert (m.chair, m.secretary) == ("Hannu Kivimäki", "Kirsi Huttunen")
    assert list(m.checkers) == ["Anne Hakkarainen", "Juha Moilanen"]
    assert list(m.members_absent) == ["Riitta Hämäläinen"]
    present = {p["name"]: p["role"] for p in m.members_present}
    assert len(present) == 9 and present["Leena Saarinen"] == "1. varapuheenjohtaja"
    others = {p["name"]: p["role"] for p in m.others_present}
    assert others["Mika Lehtola"] == "kaupunginjohtaja, esittelijä"
    assert bool(m.quorum) and (m.section_first, m.section_last) == (180, 188)


def test_named_votes(dev_output: Path) -> None:
    """dev02: the named JAA/EI/TYHJÄ/POISSA lists become rows of the votes table."""
    docs = pd.read_parquet(dev_output / "documents")
    doc_id = docs.loc[docs.source_path.str.startswith("dev02"), "doc_id"].item()
    votes = pd.read_parquet(dev_output / "votes")
    votes = votes[votes.doc_id == doc_id]
    assert votes.groupby("vote").size().to_dict() == {"yes": 8, "no": 4, "blank": 1, "absent": 1}
    assert set(votes.loc[votes.vote == "blank", "voter"]) == {"Ketola Anu"}
    assert (votes.decision_id == f"{doc_id}:0").all()


@pytest.mark.parametrize(("prefix", "section", "pages"), [
    ("dev13", 188, (6, 7)), ("dev16", 310, (8, 8)), ("dev20", 63, (4, 5)), ("dev15", 47, (5, 5)),
])
def test_last_item_ends_before_the_closing_pages(dev_output: Path, prefix: str, section: int,
                                                 pages: tuple[int, int]) -> None:
    """The appeal instructions printed once for the whole minutes are not part of the last item."""
    docs = pd.read_parquet(dev_output / "documents")
    doc_id = docs.loc[docs.source_path.str.startswith(prefix), "doc_id"].item()
    dec = pd.read_parquet(dev_output / "decisions")
    row = dec[(dec.doc_id == doc_id) & (dec.section == section)].iloc[0]
    assert (row.page_start, row.page_end) == pages
