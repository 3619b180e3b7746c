"""`minutes export`: every table, every value, in csv (UTF-8 with BOM), xlsx and sqlite."""
from __future__ import annotations

import contextlib
import csv
import io
import json
import sqlite3
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from pipeline.cli import main
from pipeline.export import XLSX_CELL_MAX, write_xlsx
from pipeline.schema import TABLES


def export(out: Path, fmt: str, dest: Path, *more: str) -> str:
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(["export", str(dest), "--format", fmt, "--out", str(out), *more]) == 0
    return buf.getvalue()


def test_csv_has_a_bom_every_table_and_lists_as_json(dev_output: Path, tmp_path: Path) -> None:
    export(dev_output, "csv", tmp_path)
    for name, table in TABLES.items():
        raw = (tmp_path / f"{name}.csv").read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf"), name
        with (tmp_path / f"{name}.csv").open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            assert next(reader) == table.names, name
            assert sum(1 for _ in reader) == len(pd.read_parquet(dev_output / name)), name
    decisions = pd.read_parquet(dev_output / "decisions").set_index("decision_id")
    with (tmp_path / "decisions.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = {r["decision_id"]: r for r in csv.DictReader(fh)}
    voted = decisions[decisions.recused.map(len) > 0].iloc[0]
    row = rows[voted.name]
    assert json.loads(row["recused"]) == list(voted.recused)
    assert row["meeting_date"] == voted.meeting_date.isoformat() and row["current"] in ("true", "false")
    assert row["title"] == voted.title  # ä, ö and § kept
    with (tmp_path / "meetings.csv").open(encoding="utf-8-sig", newline="") as fh:
        people = [json.loads(r["members_present"]) for r in csv.DictReader(fh) if r["members_present"]]
    assert people and all({"name", "role"} <= set(p[0]) for p in people if p)


def test_csv_keeps_spreadsheets_from_reading_formulas(tmp_path: Path) -> None:
    from pipeline.export import write_csv

    table = TABLES["failures"]
    rows = pa.Table.from_pylist([{"source_path": "=cmd|'/c calc'!A1", "stage": "- list line", "reason": "+1",
                                  "extractor_version": "@x"}], schema=table.schema)
    write_csv(table, rows, tmp_path / "f.csv", ";")
    text = (tmp_path / "f.csv").read_text(encoding="utf-8-sig")
    assert "'=cmd|'/c calc'!A1;'- list line" in text and ";'+1;" in text and "'@x" in text


def test_xlsx_has_a_sheet_per_table_with_typed_cells(dev_output: Path, tmp_path: Path) -> None:
    import openpyxl

    export(dev_output, "xlsx", tmp_path)
    book = openpyxl.load_workbook(tmp_path / "minutes.xlsx", read_only=True)
    assert set(book.sheetnames) == set(TABLES)
    sheet = book["decisions"]
    rows = list(sheet.iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    assert list(header) == TABLES["decisions"].names and len(body) == len(pd.read_parquet(dev_output / "decisions"))
    col = {name: i for i, name in enumerate(header)}
    assert all(isinstance(r[col["meeting_date"]], datetime) for r in body if r[col["meeting_date"]] is not None)
    assert all(isinstance(r[col["section"]], int) for r in body if r[col["section"]] is not None)
    assert any(r[col["current"]] is False for r in body)
    assert any(r[col["preparers"]] and json.loads(r[col["preparers"]]) for r in body)


def test_xlsx_cuts_a_text_past_the_cell_limit_and_says_so(tmp_path: Path) -> None:
    import openpyxl

    table = TABLES["failures"]
    long = "ä" * (XLSX_CELL_MAX + 10)
    data = pa.Table.from_pylist([{"source_path": "a.txt", "stage": "read", "reason": long, "extractor_version": "v"}],
                                schema=table.schema)
    assert write_xlsx({"failures": data}, tmp_path / "x.xlsx") == 1
    cell = openpyxl.load_workbook(tmp_path / "x.xlsx")["failures"]["E2"].value
    assert len(cell) == XLSX_CELL_MAX and cell.endswith("the csv and sqlite exports have it all]")


def test_sqlite_holds_every_table_with_types_and_json_lists(dev_output: Path, tmp_path: Path) -> None:
    export(dev_output, "sqlite", tmp_path)
    con = sqlite3.connect(tmp_path / "minutes.sqlite")
    for name in TABLES:
        assert con.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] == len(pd.read_parquet(dev_output / name))
    types = {r[1]: r[2] for r in con.execute("PRAGMA table_info(decisions)")}
    assert (types["section"], types["current"], types["meeting_date"], types["recused"]) == (
        "INTEGER", "INTEGER", "TEXT", "TEXT")
    names = con.execute("SELECT j.value FROM meetings, json_each(meetings.members_present) j LIMIT 1").fetchone()[0]
    assert "name" in json.loads(names)
    joined = con.execute("SELECT count(*) FROM decisions d JOIN votes v ON v.decision_id = d.decision_id").fetchone()[0]
    assert joined == len(pd.read_parquet(dev_output / "votes"))
    dates = [date.fromisoformat(d) for (d,) in con.execute("SELECT meeting_date FROM decisions WHERE meeting_date IS NOT NULL")]
    assert dates


def test_export_refuses_a_file_as_folder(dev_output: Path, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with contextlib.redirect_stderr(io.StringIO()):
        assert main(["export", str(tmp_path / "file"), "--format", "csv", "--out", str(dev_output)]) == 2
        assert main(["export", str(tmp_path), "--format", "csv", "--out", str(dev_output), "--delimiter", ";;"]) == 2
    with pytest.raises(SystemExit):
        with contextlib.redirect_stderr(io.StringIO()):
            main(["export", str(tmp_path), "--format", "json", "--out", str(dev_output)])
