"""The printed report of `minutes eval`: a fixed-width summary, then each document's errors."""
from __future__ import annotations

import json
from typing import Any

from pipeline.evaluate import TEXT_FIELDS, Report, collapse

def _num(value: float | None) -> str:
    return "    -" if value is None else f"{value:5.3f}"


def _short(value: Any, width: int = 70) -> str:
    text = repr(collapse(value)) if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= width else text[: width - 1] + "…"


def format_report(report: Report, per_document: bool = False) -> str:
    """A compact fixed-width summary; with per_document, every document's errors after it."""
    lines = [
        f"documents       {len(report.documents):5d}   scored {report.n_scored}, missed {report.n_missed}",
        f"doc_type        {_num(report.doc_type.accuracy)}   n={report.doc_type.n}",
        f"decisions       gold {report.n_gold}, predicted {report.n_pred}, paired {report.n_paired}",
        f"decision P/R/F1 {_num(report.precision)} {_num(report.recall)} {_num(report.f1)}",
        f"spurious §      {report.spurious_sections:5d}   predicted sections that are no gold section"
        " of their document",
        "",
        f"{'field':<15} {'acc':>5} {'n':>6}  {'mean F1':>7}",
    ]
    for name, score in report.fields.items():
        f1 = f"  {_num(score.mean_f1):>7}" if name in TEXT_FIELDS else ""
        lines.append(f"{name:<15} {_num(score.accuracy)} {score.n:6d}{f1}")
    for name, score in (("exact fields", report.exact_fields), ("text fields", report.text_fields)):
        f1 = f"  {_num(score.mean_f1):>7}" if name == "text fields" else ""
        lines.append(f"{name:<15} {_num(score.accuracy)} {score.n:6d}{f1}")
    if per_document:
        for doc in report.documents:
            state = "MISSED" if doc.missed else f"paired {doc.n_paired}/{doc.n_gold} gold, {doc.n_pred} predicted"
            lines += ["", f"{doc.source_path}  [{state}]" + (" ok" if not doc.errors else "")]
            if doc.spurious_sections:
                lines.append(f"  spurious §: {', '.join(str(s) for s in doc.spurious_sections)}")
            for err in doc.errors:
                lines.append(f"  {err.decision:<18} {err.field:<16} gold {_short(err.gold)}")
                lines.append(f"  {'':<18} {'':<16} pred {_short(err.predicted)}")
    return "\n".join(lines)
