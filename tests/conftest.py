"""Shared fixtures: the corpus copies in tests/fixtures (the suite runs without ../shared)."""
from __future__ import annotations

import csv
import json
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from spacy.tokens import Span

FIXTURES = Path(__file__).parent / "fixtures"
CORPUS = FIXTURES / "corpus"
DEV = CORPUS / "dev"
SEEDS = CORPUS / "seeds"
CASES = Path(__file__).parent / "cases"


def case_rows(name: str) -> list[dict[str, str]]:
    """Rows of tests/cases/<name>.csv, as pytest params with a readable id each."""
    with (CASES / f"{name}.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def random_span(parts: list[str], cut: tuple[int, int]) -> Span:
    """The words joined into a document, cut between two token positions (clamped): for property tests."""
    from extractors.nlp import make_doc

    doc = make_doc(" ".join(parts))
    a, b = sorted(cut)
    return doc[min(a, len(doc)) : min(b, len(doc))]


@cache
def dev_text(name: str) -> str:
    """A dev document's text, its pages joined and then repaired as one text."""
    from pipeline.read import read_document
    from pipeline.repair import repair

    return repair("\n".join(p.text for p in read_document(DEV / name).pages))[0]


def output_rows(out: Path) -> dict[str, list[dict]]:
    """Every table's rows in a fixed order, the columns that hold times aside: what an output
    holds, whichever files its commits left."""
    import pyarrow.parquet as pq

    found = {}
    for folder in sorted(p for p in out.iterdir() if p.is_dir() and not p.name.startswith(".")):
        table = pq.read_table(folder)
        table = table.drop_columns([c for c in ("processed_at", "seconds", "failed_at") if c in table.column_names])
        found[folder.name] = sorted(table.to_pylist(), key=repr)
    return found


def gold(path: Path) -> dict:
    return json.loads(path.with_name(path.name.split(".")[0] + ".gold.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def dev_output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The dev corpus ingested once for the whole session."""
    from pipeline.run import run_batch

    out = tmp_path_factory.mktemp("dev-out")
    run_batch(DEV, out)
    return out


@pytest.fixture(scope="session")
def seeds_output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from pipeline.run import run_batch

    out = tmp_path_factory.mktemp("seeds-out")
    run_batch(SEEDS, out)
    return out


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201 - yields prefect_server.Server
    """One real `prefect server start` (own PREFECT_HOME, free loopback port) shared by the slow tests."""
    from prefect_server import running_server

    with running_server(tmp_path_factory.mktemp("prefect-home")) as server:
        yield server
