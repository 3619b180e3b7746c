"""Floors on documents in styles the rules were not written for (tests/fixtures/stylegen).

The fixed set is seeds 1 and 2 × 40 of `../shared/corpus/stylegen` (txt, PDF and HTML, with gold and
each document's axis values in `manifest.json`), committed so that the suite needs nothing outside
the project. The floors start at what the extractors reach and only rise; a fix made for one
generated document and not for its style shows up in `make eval-styles` on fresh seeds, not here.
"""
from __future__ import annotations

import filecmp
import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from pipeline.evaluate import EXACT_FIELDS, TEXT_FIELDS, Report, evaluate

FIXTURES = Path(__file__).parent / "fixtures" / "stylegen"
GENERATOR = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "stylegen" / "generate.py"
SETS = {"s1": (1, 40), "s2": (2, 40)}  # folder: (seed, count)

FLOORS = {"f1": 1.0, "exact_fields": 1.0, "text_fields": 0.998, "doc_type": 1.0}
FIELD_FLOOR = 0.995      # every field, the sets (preparers, recused) and presenter included
AXIS_MIN_DOCS = 5        # axis values with fewer documents are too few to hold to a floor
AXIS_FLOORS = {"f1": 1.0, "exact": 0.995, "text": 0.98}


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    from pipeline.run import run_batch

    out = tmp_path_factory.mktemp("stylegen-out")
    summary = run_batch(FIXTURES, out, workers=2)
    assert summary.failed == 0
    return evaluate(FIXTURES, out)


def test_the_fixed_set_is_there() -> None:
    for folder, (_, count) in SETS.items():
        manifest = json.loads((FIXTURES / folder / "manifest.json").read_text(encoding="utf-8"))
        assert len(manifest) == count
        assert len(list((FIXTURES / folder).glob("*.gold.json"))) == count


def test_overall_floors(report: Report) -> None:
    got = {"f1": report.f1, "exact_fields": report.exact_fields.accuracy, "text_fields": report.text_fields.accuracy,
           "doc_type": report.doc_type.accuracy}
    low = {k: (round(got[k], 4), floor) for k, floor in FLOORS.items() if got[k] < floor}
    assert not low, f"stylegen scores fell below their floors (got, floor): {low}"
    assert report.n_missed == 0 and report.spurious_sections == 0


def test_every_field_floor(report: Report) -> None:
    low = {name: round(score.accuracy, 4) for name, score in report.fields.items()
           if score.n and score.accuracy < FIELD_FLOOR}
    assert not low, f"fields under {FIELD_FLOOR}: {low}"


def _by_axis(report: Report) -> dict[tuple[str, str], dict[str, float]]:
    """Decision F1 and exact/text accuracy per axis value, from the per-document results."""
    axes: dict[str, dict[str, str]] = {}
    for folder in SETS:
        for name, values in json.loads((FIXTURES / folder / "manifest.json").read_text(encoding="utf-8")).items():
            axes[f"{folder}/{name}"] = values
    sums: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for doc in report.documents:
        stem = doc.source_path.rsplit(".", 1)[0]
        wrong = defaultdict(int)
        for error in doc.errors:
            wrong[error.field] += 1
        for axis, value in axes[stem].items():
            s = sums[(axis, value)]
            s["docs"] += 1
            s["gold"] += doc.n_gold
            s["pred"] += doc.n_pred
            s["paired"] += doc.n_paired
            s["exact_n"] += doc.n_paired * len(EXACT_FIELDS)
            s["exact_wrong"] += sum(wrong[f] for f in EXACT_FIELDS)
            s["text_n"] += doc.n_paired * len(TEXT_FIELDS)
            s["text_wrong"] += sum(wrong[f] for f in TEXT_FIELDS)
    out = {}
    for key, s in sums.items():
        if s["docs"] < AXIS_MIN_DOCS:
            continue
        total = s["gold"] + s["pred"]
        out[key] = {"f1": 2 * s["paired"] / total if total else 1.0,
                    "exact": 1 - s["exact_wrong"] / s["exact_n"] if s["exact_n"] else 1.0,
                    "text": 1 - s["text_wrong"] / s["text_n"] if s["text_n"] else 1.0}
    return out


def test_no_axis_value_falls_below_its_floor(report: Report) -> None:
    scores = _by_axis(report)
    assert len(scores) > 100  # most of the 211 axis values are drawn often enough
    low = sorted((round(v[m], 3), f"{axis}={value}", m) for (axis, value), v in scores.items()
                 for m, floor in AXIS_FLOORS.items() if v[m] < floor)
    assert not low, f"axis values under their floors (score, axis value, measure): {low[:20]}"


FONTS = (Path("/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed-Bold.ttf"),
         Path("/usr/share/fonts/truetype/crosextra/Carlito-Bold.ttf"))


@pytest.mark.skipif(not GENERATOR.exists(), reason="the generator (../shared/corpus/stylegen) is not beside the project")
@pytest.mark.skipif(not all(f.exists() for f in FONTS), reason="the generator's fonts are missing: `make style-fonts`")
def test_the_fixtures_are_what_the_generator_makes(tmp_path: Path) -> None:
    """Nobody edited a generated document or its gold by hand."""
    for folder, (seed, count) in SETS.items():
        subprocess.run([sys.executable, str(GENERATOR), "--seed", str(seed), "--count", str(count),
                        "--out", str(tmp_path / folder)], check=True, capture_output=True)
        names = sorted(p.name for p in (FIXTURES / folder).iterdir())
        assert names == sorted(p.name for p in (tmp_path / folder).iterdir())
        match, mismatch, errors = filecmp.cmpfiles(FIXTURES / folder, tmp_path / folder, names, shallow=False)
        assert not mismatch and not errors, f"{folder}: differs from the generator's output: {mismatch + errors}"
