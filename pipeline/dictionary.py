"""The data dictionary (docs/data-dictionary.md), generated from pipeline.schema.

Analysts read the dictionary, the writers use the schema: generating one from the other keeps
them from drifting apart. `python -m pipeline.dictionary` (or `make docs`) prints it, and a
test fails when the committed file is stale.
"""
from __future__ import annotations

import sys

import pyarrow as pa

from extractors.columns import DECISION_FIELDS, MEETING_FIELDS, Field
from pipeline.schema import JOINS, TABLES, Table

HEADER = """\
# Data dictionary

Generated from `pipeline/schema.py` by `python -m pipeline.dictionary` (`make docs`); do not edit
by hand. Each table is a folder of Parquet files under the output folder (`OUT/<table>/*.parquet`):
read it with `pandas.read_parquet("OUT/<table>")` or DuckDB's `read_parquet('OUT/<table>/*.parquet')`.
The files are Snappy-compressed and carry min/max statistics for every column that is neither a
list nor prose (prose: marked *free text* below), so filters on ids, dates and numbers skip row groups.
"""


def type_name(type_: pa.DataType) -> str:
    """Arrow type in short readable form: list<string>, timestamp[s, UTC], date32 ..."""
    if pa.types.is_list(type_):
        return f"list<{type_name(type_.value_type)}>"
    if pa.types.is_timestamp(type_):
        return f"timestamp[{type_.unit}{', ' + type_.tz if type_.tz else ''}]"
    if pa.types.is_date32(type_):
        return "date32"
    return str(type_)


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def table_markdown(table: Table) -> str:
    """One table's section: name, doc, sort order, then one row per column."""
    lines = [
        f"## {table.name}",
        "",
        table.doc,
        "",
        f"Rows sorted by {', '.join(f'`{c}`' for c in table.sort_by)}.",
        "",
        "| column | type | nullable | description |",
        "|---|---|---|---|",
    ]
    for col in table.columns:
        doc = _cell(col.doc) + (" *Free text.*" if col.free_text else "")
        lines.append(f"| `{col.name}` | {type_name(col.type)} | {'yes' if col.nullable else 'no'} | {doc} |")
    return "\n".join(lines) + "\n"


def joins_markdown() -> str:
    """The keys the tables join on (pipeline.schema.JOINS), as a table."""
    lines = ["## Joins", "", "| from | to | gives |", "|---|---|---|"]
    lines += [f"| `{a}` | `{b}` | {_cell(what)} |" for a, b, what in JOINS]
    return "\n".join(lines) + "\n"


def fields_markdown() -> str:
    """How each decisions and meetings column is read (extractors/columns.py, the field table)."""
    lines = ["## How each field is read", "",
             "From the field table, `extractors/columns.py`: the rows are assembled by a loop over it and "
             "`minutes eval` scores what it says. *Scored*: `exact` (equal), `text` (token F1 >= 0.9), `set` "
             "(names as sets), `provenance` (not in gold; every value must cite a mention).", "",
             "| field | columns | read from | else | scored |", "|---|---|---|---|---|"]

    def row(f: Field, table: str) -> str:
        cols = ", ".join(f"`{table}.{c}`" for c in f.columns)
        return f"| `{f.name}` | {cols} | {_cell(f.blocks)} | {_cell(f.fallback)} | {f.scoring} |"

    lines += [row(f, "decisions") for f in DECISION_FIELDS]
    lines += [row(f, "meetings") for f in MEETING_FIELDS]
    return "\n".join(lines) + "\n"


def generate() -> str:
    """The whole dictionary, deterministic (schema order), ending in one newline."""
    contents = "\n".join(f"- [{name}](#{name})" for name in TABLES) + \
        "\n- [Joins](#joins)\n- [How each field is read](#how-each-field-is-read)"
    sections = "\n".join(table_markdown(t) for t in TABLES.values())
    return f"{HEADER}\n{contents}\n\n{sections}\n{joins_markdown()}\n{fields_markdown()}"


def main() -> None:
    sys.stdout.buffer.write(generate().encode("utf-8"))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
