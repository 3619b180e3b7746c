"""docs/data-dictionary.md is generated from pipeline.schema and must not go stale."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from extractors.columns import BOOKKEEPING, DECISION_FIELDS, MEETING_FIELDS
from pipeline.dictionary import generate, type_name
from pipeline.schema import TABLES, STRS, TIME

DOC = Path(__file__).resolve().parents[1] / "docs" / "data-dictionary.md"


def test_committed_dictionary_is_current() -> None:
    assert DOC.exists(), "docs/data-dictionary.md is missing: run `make docs`"
    assert DOC.read_text(encoding="utf-8") == generate(), "docs/data-dictionary.md is stale: run `make docs`"


def test_every_table_and_column_is_documented() -> None:
    text = generate()
    for table in TABLES.values():
        assert f"## {table.name}\n\n{table.doc}\n" in text
        for col in table.columns:
            assert f"| `{col.name}` | {type_name(col.type)} | {'yes' if col.nullable else 'no'} |" in text
    assert generate() == text  # deterministic


def test_type_names_are_readable() -> None:
    assert type_name(STRS) == "list<string>"
    assert type_name(TIME) == "timestamp[s, UTC]"


def test_module_prints_the_dictionary() -> None:
    out = subprocess.run([sys.executable, "-m", "pipeline.dictionary"], capture_output=True, check=True,
                         cwd=DOC.parents[1]).stdout
    assert out.decode("utf-8") == generate()


@pytest.mark.parametrize("table, fields", [("decisions", DECISION_FIELDS), ("meetings", MEETING_FIELDS)])
def test_every_column_is_declared_once(table: str, fields: tuple) -> None:
    """The field table and the schema agree: each column is filled by one field or is bookkeeping."""
    declared = [c for f in fields for c in f.columns] + list(BOOKKEEPING[table])
    assert sorted(declared) == sorted(c.name for c in TABLES[table].columns)
