"""Cases across documents (pipeline/cases.py), kept in step with the tables (pipeline/derived.py), and `minutes case`."""
from __future__ import annotations

import contextlib
import io
import shutil
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline import cases
from pipeline.cli import main
from pipeline.derived import is_fresh
from pipeline.run import reprocess, run_batch
from pipeline.schema import TABLES
from tests.conftest import FIXTURES

CASE_DOCS = FIXTURES / "cases"  # a board's minutes and the council's extract naming it "Kh 4.9.2019 § 287"


@pytest.fixture(scope="module")
def board_and_council(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cases-out")
    run_batch(CASE_DOCS, out)
    return out


def cli(*args: str) -> tuple[int, str]:
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
        code = main(list(args))
    return code, buf.getvalue()


def test_a_handling_seen_in_its_minutes_and_as_history_elsewhere_is_one_handling(board_and_council: Path) -> None:
    decisions = pd.read_parquet(board_and_council / "decisions")
    assert len(decisions) == 3 and decisions.diary_id.isna().all()  # no diary id to join by
    found = pd.read_parquet(board_and_council / "cases")
    assert len(found) == 1
    case = found.iloc[0]
    assert list(case.bodies) == ["Kunnanhallitus", "Kunnanvaltuusto"]
    assert (case.first_date, case.last_date) == (date(2019, 9, 4), date(2019, 9, 23))
    assert case.n_handlings == 2 and len(case.decision_ids) == 3 and len(case.doc_ids) == 2
    assert case.latest_outcome == "PASSED" and case.latest_body == "Kunnanvaltuusto"
    timeline = pd.read_parquet(board_and_council / "case_handlings").sort_values("position")
    board = timeline.iloc[0]
    assert (board.body, board.section, board.seen_current) == ("Kunnanhallitus", 287, True)
    assert len(board.decision_ids) == 2 and len(board.doc_ids) == 2
    own = decisions.set_index("decision_id").loc[board.decision_id]
    assert bool(own.current), "the handling's own minutes stand for it, not the history line"
    assert list(timeline.section) == [287, 45]


def test_every_decision_is_in_exactly_one_handling_of_one_case(dev_output: Path) -> None:
    decisions = pd.read_parquet(dev_output / "decisions")
    handlings = pd.read_parquet(dev_output / "case_handlings")
    found = pd.read_parquet(dev_output / "cases")
    listed = [d for ids in handlings.decision_ids for d in ids]
    assert sorted(listed) == sorted(decisions.decision_id)
    assert sorted(d for ids in found.decision_ids for d in ids) == sorted(decisions.decision_id)
    assert found.case_id.is_unique and handlings.groupby("case_id").position.max().sort_index().tolist() == \
        found.set_index("case_id").n_handlings.sort_index().tolist()
    history = found[found.diary_id == "211/05.00.00/2025"].iloc[0]  # Kh tabled it, Kh passed it, Kv decided
    assert (history.n_handlings, list(history.bodies), history.latest_outcome) == (
        3, ["Kunnanhallitus", "Kunnanvaltuusto"], "PASSED")


def _decisions(rows: list[dict]) -> tuple[pa.Table, pa.Table]:
    base = {"doc_type": "minutes", "outcome": "PASSED", "diary_id_norm": None, "title": "Asia", "current": True,
            "organization": "Testin kunta"}
    full = [{**base, **r, "decision_id": f"{r['doc_id']}:{r['ordinal']}"} for r in rows]
    table = pa.Table.from_pylist(full, schema=pa.schema([TABLES["decisions"].schema.field(c)
                                                        for c in cases.DECISION_COLUMNS]))
    documents = pa.Table.from_pylist([{"doc_id": r["doc_id"], "organization": None} for r in full])
    return table, documents


def test_an_abbreviated_body_joins_the_full_name_of_its_organisation() -> None:
    rows = [
        {"doc_id": "a", "ordinal": 0, "body": "Kunnanhallitus", "meeting_date": date(2019, 9, 4), "section": 287},
        {"doc_id": "b", "ordinal": 0, "body": "Kh", "meeting_date": date(2019, 9, 4), "section": 287, "current": False},
        {"doc_id": "b", "ordinal": 1, "body": "Kunnanvaltuusto", "meeting_date": date(2019, 9, 23), "section": 45},
    ]
    found, timeline = cases.build(*_decisions(rows))
    assert len(found) == 1 and found[0]["n_handlings"] == 2


def test_placeholders_organisations_and_items_keep_cases_apart() -> None:
    rows = [
        # KTweb's "0/00" placeholder is no diary id
        {"doc_id": "a", "ordinal": 0, "body": "Tekninen lautakunta", "meeting_date": date(2024, 1, 1), "section": 1,
         "diary_id_norm": "0/00", "title": "Katu"},
        {"doc_id": "b", "ordinal": 0, "body": "Tekninen lautakunta", "meeting_date": date(2024, 2, 1), "section": 9,
         "diary_id_norm": "0/00", "title": "Puisto"},
        # the same diary id in two organisations: two cases
        {"doc_id": "c", "ordinal": 0, "body": "Kunnanhallitus", "meeting_date": date(2024, 3, 1), "section": 5,
         "diary_id_norm": "12/2024", "organization": "Aan kunta"},
        {"doc_id": "d", "ordinal": 0, "body": "Kunnanhallitus", "meeting_date": date(2024, 3, 1), "section": 6,
         "diary_id_norm": "12/2024", "organization": "Been kunta"},
        # two items of one document with the same title, each its own handling
        {"doc_id": "e", "ordinal": 0, "body": "Kunnanvaltuusto", "meeting_date": date(2024, 4, 1), "section": 7,
         "title": "Valtuustoaloite"},
        {"doc_id": "e", "ordinal": 1, "body": "Kunnanvaltuusto", "meeting_date": date(2024, 4, 1), "section": 8,
         "title": "Valtuustoaloite"},
    ]
    found, _ = cases.build(*_decisions(rows))
    assert len(found) == 6


def test_the_case_command_prints_the_timeline(board_and_council: Path, dev_output: Path) -> None:
    code, text = cli("case", "211/05.00.00/2025", "--out", str(dev_output))
    assert code == 0, text
    assert "Kunnanhallitus → Kunnanvaltuusto · 3 handling(s), 2025-03-24 – 2025-05-05" in text
    lines = [line for line in text.splitlines() if "§" in line]
    assert [line.split()[1] for line in lines] == ["2025-03-24", "2025-04-14", "2025-05-05"]
    assert "dev07_seedstyle_kh_tabled_kh_kv.txt, page 1 (history)" in text
    decision_id = pd.read_parquet(board_and_council / "decisions").decision_id.iloc[0]
    code, text = cli("case", decision_id, "--out", str(board_and_council))
    assert code == 0 and "§ 287" in text and "§ 45" in text and text.count("(history)") == 1, text
    assert cli("case", "no-such-case", "--out", str(dev_output))[0] == 1
    assert cli("case", "x", "--out", str(dev_output / "nothing"))[0] == 2


def test_cases_follow_every_run_and_a_stale_output_is_caught_up(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    shutil.copy(CASE_DOCS / "kh_2019-09-04_koulukuljetus.txt", src)
    run_batch(src, out)
    assert len(pd.read_parquet(out / "cases")) == 1 and is_fresh(out)
    shutil.copy(CASE_DOCS / "kv_2019-09-23_koulukuljetus.txt", src)
    run_batch(src, out)  # the council's extract joins the board's case
    assert pd.read_parquet(out / "cases").n_handlings.tolist() == [2] and is_fresh(out)
    before = [(p.name, p.stat().st_mtime_ns) for p in (out / "cases").iterdir()]
    run_batch(src, out)  # nothing changed: nothing is rebuilt
    assert [(p.name, p.stat().st_mtime_ns) for p in (out / "cases").iterdir()] == before
    reprocess(out, isolate=False)
    assert is_fresh(out) and pd.read_parquet(out / "cases").n_handlings.tolist() == [2]
    # an output whose derived tables are gone (a run stopped before its refresh): the next reader rebuilds them
    shutil.rmtree(out / "cases")
    (out / "search.sqlite").unlink()
    assert not is_fresh(out)
    code, text = cli("case", pd.read_parquet(out / "case_handlings").case_id.iloc[0][:8], "--out", str(out))
    assert code == 0 and is_fresh(out), text
    assert len(pq.read_table(out / "cases")) == 1


def test_readme_example_keeps_integers_and_dates(dev_output: Path) -> None:
    frame = pd.read_parquet(dev_output / "decisions", dtype_backend="pyarrow")
    assert str(frame.section.dtype) == "int32[pyarrow]" and str(frame.meeting_date.dtype) == "date32[day][pyarrow]"
    assert frame.section.isna().any()  # nulls stay nulls without turning the column into floats
