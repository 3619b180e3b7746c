"""Scoring against gold (pipeline.evaluate): small gold and prediction folders built in tmp_path."""
from __future__ import annotations

import copy
import hashlib
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from pipeline.cli import main
from pipeline.evaluate import EXACT_FIELDS, FIELD_ORDER, MEETING_FIELDS, TEXT_FIELDS, evaluate, token_f1
from pipeline.report import format_report
from pipeline.store import Store

PROPOSAL = ("Kaupunginhallitus esittää valtuustolle, että kaupunki solmii Keski-Suomen kuntien, "
            "Keski-Suomen liiton ja Keski-Suomen hyvinvointialueen strategisen yhteistyösopimuksen "
            "1.1.2026 alkaen ja valtuuttaa kaupunginjohtajan allekirjoittamaan sopimuksen.")


def decision(**over: Any) -> dict[str, Any]:
    base = {
        "section": 323, "body": "Kaupunginhallitus", "body_aliases": ["Kh"], "date": "2025-12-08",
        "diary_id": "598/00.04.01/2025", "title": "Strateginen yhteistyösopimus 1.1.2026 alkaen",
        "preparers": ["Anni Riihimäki", "Pekka Virtanen"], "presenter": "Kaupunginjohtaja",
        "proposal": PROPOSAL, "decision": "Hyväksyttiin.", "outcome": "PASSED", "unanimous": None,
        "votes": None, "recused": [], "appeal": "none", "current": True,
    }
    base.update(over)
    return base


def gold_doc(decisions: list[dict[str, Any]], doc_type: str = "minutes") -> dict[str, Any]:
    return {"doc_type": doc_type, "organization": "Viitasaaren kaupunki", "meeting": None, "decisions": decisions}


def doc_id(path: str) -> str:
    return hashlib.sha256(path.encode()).hexdigest()


def doc_row(path: str, doc_type: str | None = "minutes", status: str = "ok") -> dict[str, Any]:
    return {"doc_id": doc_id(path), "source_path": path, "doc_type": doc_type, "status": status,
            "extractor_version": "test"}


def pred_row(path: str, ordinal: int, gold: dict[str, Any]) -> dict[str, Any]:
    """A decisions row that says exactly what the gold decision says."""
    did = doc_id(path)
    row = {k: v for k, v in gold.items() if k not in ("date", "votes")}
    row["meeting_date"] = date.fromisoformat(gold["date"]) if gold["date"] else None
    for k in ("yes", "no", "blank", "absent"):
        row[f"votes_{k}"] = (gold["votes"] or {}).get(k)
    row.update(doc_id=did, decision_id=f"{did}:{ordinal}", ordinal=ordinal, extractor_version="test")
    return row


def write_gold(gold_dir: Path, docs: dict[str, dict[str, Any]]) -> None:
    for rel, gold in docs.items():
        path = gold_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("document text\n", encoding="utf-8")
        name = path.name.rsplit(".", 1)[0]
        (path.parent / f"{name}.gold.json").write_text(json.dumps(gold, ensure_ascii=False), encoding="utf-8")


def write_pred(pred_dir: Path, documents: list[dict], decisions: list[dict], failures: list[dict] = ()) -> None:
    Store(pred_dir).replace({"documents": documents, "decisions": decisions, "failures": list(failures)},
                            {"doc_id": set(), "source_path": set()})


def perfect(gold_dir: Path, pred_dir: Path, docs: dict[str, dict[str, Any]]) -> None:
    """Gold documents and a prediction that repeats them exactly."""
    write_gold(gold_dir, docs)
    rows = [pred_row(rel, i, d) for rel, g in docs.items() for i, d in enumerate(g["decisions"])]
    write_pred(pred_dir, [doc_row(rel, g["doc_type"]) for rel, g in docs.items()], rows)


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    return tmp_path / "gold", tmp_path / "pred"


def one_doc(dirs, golds: list[dict], preds: list[dict], rel: str = "a/doc.txt"):
    """Score one minutes document with these gold and predicted decisions."""
    gold_dir, pred_dir = dirs
    write_gold(gold_dir, {rel: gold_doc(golds)})
    write_pred(pred_dir, [doc_row(rel)], [pred_row(rel, i, p) for i, p in enumerate(preds)])
    return evaluate(gold_dir, pred_dir)


HISTORY = [
    decision(section=97, date="2025-11-03", current=False, appeal=None),
    decision(section=31, body="Kaupunginvaltuusto", body_aliases=["Kv"], outcome="PASSED_VOTED", unanimous=False,
             votes={"yes": 24, "no": 10, "blank": 1, "absent": 0}, recused=["Matti Meikäläinen"],
             appeal="municipal_appeal", decision="Ehdotus hyväksyttiin äänestyksen jälkeen."),
]


def test_perfect_prediction_scores_one_everywhere(dirs) -> None:
    perfect(*dirs, {"a/doc.txt": gold_doc(HISTORY), "b/news.txt": gold_doc([], "other"),
                    "c/od.pdf": gold_doc([decision(section=None, presenter=None, proposal=None)], "officer_decision")})
    report = evaluate(*dirs)
    d = report.as_dict()
    assert d["decisions"] == {"gold": 3, "predicted": 3, "paired": 3, "precision": 1.0, "recall": 1.0, "f1": 1.0}
    assert d["doc_type"]["accuracy"] == 1.0 and d["doc_type"]["n"] == 3
    assert set(d["fields"]) == set(FIELD_ORDER) | set(MEETING_FIELDS)
    for name in FIELD_ORDER:
        score = d["fields"][name]
        assert score["accuracy"] == 1.0 and score["n"] == 3, name
    assert d["fields"]["proposal"]["mean_f1"] == 1.0
    assert d["aggregates"]["exact_fields"] == {"accuracy": 1.0, "right": 3 * len(EXACT_FIELDS), "n": 3 * len(EXACT_FIELDS)}
    assert d["aggregates"]["text_fields"]["n"] == 3 * len(TEXT_FIELDS)
    assert d["spurious_sections"] == 0
    assert d["documents"] == {"total": 3, "scored": 3, "missed": 0}
    assert all(not doc.errors for doc in report.documents)
    json.dumps(d)  # machine-readable


def test_missing_decision_lowers_recall(dirs) -> None:
    report = one_doc(dirs, HISTORY, HISTORY[1:])
    assert (report.n_gold, report.n_pred, report.n_paired) == (2, 1, 1)
    assert report.recall == 0.5 and report.precision == 1.0
    assert report.f1 == pytest.approx(2 / 3)
    assert [e.field for e in report.documents[0].errors] == ["missing decision"]


def test_statute_section_is_spurious_and_lowers_precision(dirs) -> None:
    statute = decision(section=41, title="Kuntalain 41 §:n mukaisesti", proposal=None, decision=None)
    report = one_doc(dirs, HISTORY, [*HISTORY, statute])
    assert report.spurious_sections == 1
    assert report.documents[0].spurious_sections == [41]
    assert report.precision == pytest.approx(2 / 3) and report.recall == 1.0
    assert "spurious §          1" in format_report(report)


@pytest.mark.parametrize("body, right", [("Kaupunginhallitus", True), ("KH", True), ("kaupunginhallitus ", True),
                                         ("Kunnanhallitus", False), (None, False)])
def test_body_matches_gold_body_or_alias_ignoring_case(dirs, body, right) -> None:
    report = one_doc(dirs, [decision()], [decision(body=body, body_aliases=[])])
    assert report.fields["body"].accuracy == (1.0 if right else 0.0)


def test_text_fields_pass_at_token_f1_threshold(dirs) -> None:
    near = PROPOSAL.replace("valtuuttaa", "valtuutta")  # one token of 26 differs
    assert 0.9 <= token_f1(PROPOSAL, near) < 1.0
    spaced = "  " + PROPOSAL.replace(" ", " \n  ") + "\n"
    other = "Kaupunginhallitus merkitsee tiedoksi talousarvion toteutumisen."
    golds = [decision(section=s) for s in (1, 2, 3, 4, 5)]
    preds = [decision(section=1, proposal=near), decision(section=2, proposal=spaced),
             decision(section=3, proposal=other), decision(section=4, proposal=None),
             decision(section=5, proposal=PROPOSAL[: len(PROPOSAL) // 2])]
    report = one_doc(dirs, golds, preds)
    wrong = {e.decision for e in report.documents[0].errors if e.field == "proposal"}
    assert wrong == {"§ 3 2025-12-08", "§ 4 2025-12-08", "§ 5 2025-12-08"}
    assert report.fields["proposal"].right == 2
    assert 0.3 < report.fields["proposal"].mean_f1 < 0.8


def test_text_null_handling(dirs) -> None:
    golds = [decision(section=1, decision=None), decision(section=2, decision=None), decision(section=3)]
    preds = [decision(section=1, decision=None), decision(section=2, decision="Hyväksyttiin."),
             decision(section=3, decision="   ")]
    report = one_doc(dirs, golds, preds)
    assert report.fields["decision"].right == 1 and report.fields["decision"].n == 3


@pytest.mark.parametrize("gold_votes, pred_votes, right", [
    (None, None, True),
    (None, {"yes": 7}, False),
    ({"yes": 6, "no": 3, "blank": None, "absent": None}, {"yes": 6, "no": 3}, True),
    ({"yes": 6, "no": 3, "blank": None, "absent": None}, {"yes": 6, "no": 3, "blank": 0, "absent": 0}, False),
    ({"yes": 6, "no": 3, "blank": 0, "absent": 0}, {"yes": 6, "no": 3, "blank": 0, "absent": 0}, True),
    ({"yes": 6, "no": 3, "blank": 0, "absent": 0}, {"yes": 6, "no": 4, "blank": 0, "absent": 0}, False),
    ({"yes": 6, "no": 3, "blank": 0, "absent": 0}, None, False),
])
def test_votes(dirs, gold_votes, pred_votes, right) -> None:
    report = one_doc(dirs, [decision(votes=gold_votes)], [decision(votes=pred_votes)])
    assert report.fields["votes"].accuracy == (1.0 if right else 0.0)


def test_lists_compare_as_sets_of_names(dirs) -> None:
    golds = [decision(section=1), decision(section=2), decision(section=3, recused=["Matti  Meikäläinen"])]
    preds = [decision(section=1, preparers=["Pekka Virtanen", "Anni  Riihimäki"]),
             decision(section=2, preparers=["Anni Riihimäki"]),
             decision(section=3, recused=["Matti Meikäläinen"])]
    report = one_doc(dirs, golds, preds)
    assert report.fields["preparers"].right == 2
    assert report.fields["recused"].right == 3


def test_failed_document_is_missed_and_its_doc_type_wrong(dirs) -> None:
    gold_dir, pred_dir = dirs
    write_gold(gold_dir, {"ok.txt": gold_doc([decision()]), "broken.pdf": gold_doc(HISTORY),
                          "half.pdf": gold_doc([decision(section=5)])})
    write_pred(pred_dir, [doc_row("ok.txt"), doc_row("half.pdf", None, status="failed")],
               [pred_row("ok.txt", 0, decision())],
               [{"source_path": "broken.pdf", "stage": "read", "reason": "encrypted", "extractor_version": "test"}])
    report = evaluate(gold_dir, pred_dir)
    assert report.as_dict()["documents"] == {"total": 3, "scored": 1, "missed": 2}
    assert report.doc_type.right == 1 and report.doc_type.n == 3
    assert (report.n_gold, report.n_pred, report.n_paired) == (4, 1, 1)
    assert report.recall == 0.25
    broken = next(d for d in report.documents if d.source_path == "broken.pdf")
    assert broken.missed and broken.doc_id is None
    assert sum(e.field == "missing decision" for e in broken.errors) == 2
    out = format_report(report, per_document=True)
    assert "broken.pdf  [MISSED]" in out and "scored 1, missed 2" in out


def test_pairing_prefers_section_and_date(dirs) -> None:
    # The same item handled twice under the same § number and title (tabled, then passed).
    golds = [decision(section=31, date="2025-11-03", outcome="TABLED", decision="Jätettiin pöydälle."),
             decision(section=31, date="2025-12-08")]
    report = one_doc(dirs, golds, list(reversed(golds)))
    assert report.n_paired == 2
    assert report.fields["date"].accuracy == 1.0 and report.fields["outcome"].accuracy == 1.0


def test_pairing_falls_back_to_section_then_title(dirs) -> None:
    golds = [decision(section=10, title="Talousarvion toteutuminen syyskuu 2025"),
             decision(section=11, title="Kiinteistön myynti Hervannan yritysalueelta")]
    preds = [decision(section=10, date="2025-12-09", title="Talousarvion toteutuminen syyskuu 2025"),
             decision(section=111, title="Kiinteistön myynti Hervannan yritysalueelta")]
    report = one_doc(dirs, golds, preds)
    assert report.n_paired == 2 and report.precision == 1.0
    assert report.fields["date"].right == 1 and report.fields["section"].right == 1
    assert report.spurious_sections == 1
    errors = {(e.decision, e.field, e.gold, e.predicted) for e in report.documents[0].errors}
    assert errors == {("§ 10 2025-12-08", "date", "2025-12-08", "2025-12-09"), ("§ 11 2025-12-08", "section", 11, 111)}


def test_unrelated_titles_do_not_pair(dirs) -> None:
    report = one_doc(dirs, [decision(section=10, title="Talousarvion toteutuminen")],
                     [decision(section=12, title="Kokouksen laillisuus ja päätösvaltaisuus")])
    assert report.n_paired == 0 and report.f1 == 0.0


def test_prediction_found_by_file_name_when_paths_differ(dirs) -> None:
    gold_dir, pred_dir = dirs
    write_gold(gold_dir, {"doc.txt": gold_doc([decision()])})
    write_pred(pred_dir, [doc_row("dev/doc.txt")], [pred_row("dev/doc.txt", 0, decision())])
    report = evaluate(gold_dir, pred_dir)
    assert report.n_scored == 1 and report.n_paired == 1


def test_cli_eval_prints_report(dirs, capsys) -> None:
    gold_dir, pred_dir = dirs
    perfect(gold_dir, pred_dir, {"a/doc.txt": gold_doc(HISTORY)})
    assert main(["eval", str(gold_dir), "--pred", str(pred_dir)]) == 0
    out = capsys.readouterr().out
    assert "decision P/R/F1 1.000 1.000 1.000" in out
    assert "exact fields    1.000" in out and "text fields     1.000" in out


def test_cli_eval_per_document_lists_errors(dirs, capsys) -> None:
    gold_dir, pred_dir = dirs
    write_gold(gold_dir, {"a/doc.txt": gold_doc(HISTORY)})
    wrong = copy.deepcopy(HISTORY)
    wrong[1]["outcome"] = "PASSED"
    write_pred(pred_dir, [doc_row("a/doc.txt")], [pred_row("a/doc.txt", i, d) for i, d in enumerate(wrong)])
    assert main(["eval", str(gold_dir), "--pred", str(pred_dir), "--per-document"]) == 0
    out = capsys.readouterr().out
    assert "a/doc.txt  [paired 2/2 gold, 2 predicted]" in out
    assert "outcome" in out and "'PASSED_VOTED'" in out
