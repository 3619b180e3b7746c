"""`minutes export`: every table as CSV files, one Excel workbook or one SQLite database.

Analysts who do not read Parquet still get every value, typed where the format has types:

| value | csv | xlsx | sqlite |
|---|---|---|---|
| list (`preparers`, `members_present` ...) | JSON text `["A", "B"]` | JSON text | JSON text (`json_each` reads it) |
| date | `2025-05-26` | an Excel date | TEXT `2025-05-26` |
| time (UTC) | `2025-11-22T10:31:05Z` | an Excel date and time (UTC) | TEXT, the same |
| true/false | `true` / `false` | TRUE / FALSE | INTEGER 1 / 0 |
| null | empty | empty cell | NULL |

CSV files are UTF-8 with a byte order mark, so that Excel reads the letters right, one per
table (`DIR/<table>.csv`, comma-separated unless `--delimiter`). A text cell that begins with
=, +, - or @ would be taken for a formula by a spreadsheet (a list line "- Kunnanhallitus"
shows as #NAME?, a hostile document could run one), so in CSV such a cell begins with an
apostrophe; the xlsx and sqlite exports keep every text exactly (xlsx cells are written as text).
Excel holds at most 32,767 characters a cell and 1,048,576 rows a sheet: a longer text is cut
there (counted, and said at the end), a longer table goes on in a sheet "<table> (2)".
"""
from __future__ import annotations

import csv
import json
import os
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from pipeline.schema import TABLES, Table
from pipeline.store import Store

FORMATS = ("csv", "xlsx", "sqlite")
XLSX_CELL_MAX = 32_767
XLSX_ROWS_MAX = 1_048_576
_FORMULA_START = ("=", "+", "-", "@")
_CUT_NOTE = " […cut: Excel holds 32,767 characters a cell; the csv and sqlite exports have it all]"
_SQL_TYPES = {"int32": "INTEGER", "int64": "INTEGER", "bool": "INTEGER", "double": "REAL"}
_INDEXED = ("doc_id", "decision_id", "case_id", "meeting_id")
_BATCH = 10_000


@dataclass
class Exported:
    files: list[Path] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    cut_cells: int = 0  # xlsx: texts cut at Excel's cell limit


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _iso_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value.tzinfo else value.isoformat()


def _converter(type_: pa.DataType, fmt: str) -> Callable[[Any], Any]:
    """How one column's values are written in a format (None stays None)."""
    if pa.types.is_nested(type_):
        return lambda v: None if v is None else _json(v)
    if pa.types.is_timestamp(type_):
        if fmt == "xlsx":  # Excel has no time zones: the UTC time, as the column says
            return lambda v: None if v is None else v.astimezone(UTC).replace(tzinfo=None)
        return lambda v: None if v is None else _iso_time(v)
    if pa.types.is_date(type_):
        return (lambda v: v) if fmt == "xlsx" else (lambda v: None if v is None else v.isoformat())
    if pa.types.is_boolean(type_):
        if fmt == "csv":
            return lambda v: None if v is None else ("true" if v else "false")
        return (lambda v: v) if fmt == "xlsx" else (lambda v: None if v is None else int(v))
    return lambda v: v


def _rows(data: pa.Table, fmt: str) -> Iterator[list[Any]]:
    """The table's rows as lists of values ready for the format."""
    convert = [_converter(f.type, fmt) for f in data.schema]
    for batch in data.to_batches(max_chunksize=_BATCH):
        columns = [[c(v) for v in col.to_pylist()] for c, col in zip(convert, batch.columns)]
        yield from (list(row) for row in zip(*columns))


def _spreadsheet_text(value: Any) -> Any:
    return "'" + value if isinstance(value, str) and value.startswith(_FORMULA_START) else value


def _temporary(target: Path) -> Path:
    """A file beside the target to write first (renamed over it when complete), with the usual mode."""
    return target.with_name(f".tmp-{os.getpid()}-{target.name}")


def write_csv(table: Table, data: pa.Table, target: Path, delimiter: str = ",") -> None:
    tmp = _temporary(target)
    try:
        with tmp.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh, delimiter=delimiter)
            writer.writerow(table.names)
            for row in _rows(data, "csv"):
                writer.writerow(["" if v is None else _spreadsheet_text(v) for v in row])
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def write_xlsx(tables: dict[str, pa.Table], target: Path) -> int:
    """One sheet per table (more where it has more rows than a sheet holds); returns the cells cut."""
    import xlsxwriter

    tmp = _temporary(target)
    cut = 0
    try:
        book = xlsxwriter.Workbook(str(tmp), {"constant_memory": True, "strings_to_numbers": False,
                                              "strings_to_formulas": False, "strings_to_urls": False})
        bold = book.add_format({"bold": True})
        formats = {"date": book.add_format({"num_format": "yyyy-mm-dd"}),
                   "time": book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})}
        for name, data in tables.items():
            kinds = ["date" if pa.types.is_date(f.type) else "time" if pa.types.is_timestamp(f.type) else None
                     for f in data.schema]
            sheet, row_no, part = None, XLSX_ROWS_MAX, 1
            for row in _rows(data, "xlsx"):
                if row_no >= XLSX_ROWS_MAX:  # a new sheet: the first, or the next part of a long table
                    sheet = book.add_worksheet(name if part == 1 else f"{name} ({part})")
                    sheet.write_row(0, 0, TABLES[name].names, bold)
                    sheet.freeze_panes(1, 0)
                    row_no, part = 1, part + 1
                for col, (value, kind) in enumerate(zip(row, kinds)):
                    if value is None:
                        continue
                    if kind:
                        sheet.write_datetime(row_no, col, value, formats[kind])
                    elif isinstance(value, str):
                        if len(value) > XLSX_CELL_MAX:
                            value, cut = value[:XLSX_CELL_MAX - len(_CUT_NOTE)] + _CUT_NOTE, cut + 1
                        sheet.write_string(row_no, col, value)
                    else:
                        sheet.write(row_no, col, value)
                row_no += 1
            if sheet is None:  # an empty table still has its sheet and header
                book.add_worksheet(name).write_row(0, 0, TABLES[name].names, bold)
        book.close()
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return cut


def write_sqlite(tables: dict[str, pa.Table], target: Path) -> None:
    tmp = _temporary(target)
    try:
        con = sqlite3.connect(tmp)
        with con:
            for name, data in tables.items():
                table = TABLES[name]
                columns = ", ".join(f'"{f.name}" {_sql_type(f.type)}' for f in data.schema)
                con.execute(f'CREATE TABLE "{name}" ({columns})')
                insert = f'INSERT INTO "{name}" VALUES ({",".join("?" * len(table.names))})'
                rows = _rows(data, "sqlite")
                while chunk := [r for _, r in zip(range(_BATCH), rows)]:
                    con.executemany(insert, chunk)
                for key in (c for c in _INDEXED if c in table.names):
                    con.execute(f'CREATE INDEX "{name}_{key}" ON "{name}"("{key}")')
        con.close()
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _sql_type(type_: pa.DataType) -> str:
    return _SQL_TYPES.get(str(type_), "TEXT")


def export(out: Path, fmt: str, dest: Path, delimiter: str = ",") -> Exported:
    """Write every table of the output `out` into `dest` in the format `fmt` (see the module)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    store = Store(out)
    dest.mkdir(parents=True, exist_ok=True)
    tables = {name: store.read(name) for name in TABLES if store.path(name).exists()}
    result = Exported(rows={name: data.num_rows for name, data in tables.items()})
    if fmt == "csv":
        for name, data in tables.items():
            target = dest / f"{name}.csv"
            write_csv(TABLES[name], data, target, delimiter)
            result.files.append(target)
    elif fmt == "xlsx":
        result.files.append(dest / "minutes.xlsx")
        result.cut_cells = write_xlsx(tables, result.files[0])
    else:
        result.files.append(dest / "minutes.sqlite")
        write_sqlite(tables, result.files[0])
    return result

