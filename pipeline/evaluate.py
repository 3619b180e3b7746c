"""Score the tables of `minutes ingest` against gold annotations (see GOLD.md).

The numbers answer two questions: does the pipeline find the right decisions (precision,
recall, F1 over paired decisions, doc_type accuracy, spurious sections), and are the fields of
the decisions it found right (per-field accuracy over paired decisions)? Every rule here is
the scoring intent of GOLD.md made exact, so two runs can be compared number by number.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path, PurePosixPath
from typing import Any

from extractors import columns
from pipeline.store import Store

DOC_SUFFIXES = (".txt", ".pdf", ".html")
# The fields and how each is scored come from the field table (extractors/columns.py): a column
# declared there is scored here without a second list to keep in step.
TEXT_FIELDS = columns.names("text")
SET_FIELDS = columns.names("set")  # names compared as sets
EXACT_FIELDS = columns.names("exact") + SET_FIELDS  # the exact aggregate: every field that is right or wrong
FIELD_ORDER = tuple(f.name for f in columns.DECISION_FIELDS if f.name in EXACT_FIELDS + TEXT_FIELDS)
MEETING_FIELDS = columns.names("exact", columns.MEETING_FIELDS)
TEXT_F1_MIN = 0.9
"""A text field is right at token F1 >= this (GOLD.md)."""
TITLE_PAIR_MIN = 0.5
"""Last pairing pass: a title must reach this token F1 to pair; below it two items are unrelated."""
VOTE_KEYS = ("yes", "no", "blank", "absent")

_DOC_COLUMNS = ["doc_id", "source_path", "doc_type", "status"]
_DEC_COLUMNS = ["doc_id", "ordinal", *dict.fromkeys(c for f in columns.DECISION_FIELDS if f.name in FIELD_ORDER
                                                    for c in f.columns)]
_MEETING_SCORED = tuple(f for f in columns.MEETING_FIELDS if f.name in MEETING_FIELDS)


@dataclass
class Score:
    """Right out of n comparisons; text fields also sum their token F1."""

    right: int = 0
    n: int = 0
    f1_sum: float = 0.0

    def add(self, ok: bool, f1: float | None = None) -> None:
        self.right += int(ok)
        self.n += 1
        if f1 is not None:
            self.f1_sum += f1

    @property
    def accuracy(self) -> float | None:
        return self.right / self.n if self.n else None

    @property
    def mean_f1(self) -> float | None:
        return self.f1_sum / self.n if self.n else None

    def as_dict(self, with_f1: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {"accuracy": self.accuracy, "right": self.right, "n": self.n}
        if with_f1:
            out["mean_f1"] = self.mean_f1
        return out


@dataclass
class FieldError:
    """One wrong value: which decision (e.g. '§ 58 2024-03-04'), which field, gold vs predicted."""

    decision: str
    field: str
    gold: Any
    predicted: Any


@dataclass
class DocumentResult:
    """The scoring of one gold document, kept for `--per-document`."""

    source_path: str
    doc_id: str | None
    missed: bool
    doc_type_gold: str | None
    doc_type_pred: str | None
    n_gold: int = 0
    n_pred: int = 0
    n_paired: int = 0
    spurious_sections: list[int | None] = field(default_factory=list)
    errors: list[FieldError] = field(default_factory=list)


@dataclass
class Report:
    """Corpus-level numbers plus one DocumentResult per gold document.

    Per-field scores live in the `fields` dict, so new groups (e.g. meeting-level fields such
    as 'meeting.date') can be added as keys without changing the shape.
    """

    documents: list[DocumentResult] = field(default_factory=list)
    fields: dict[str, Score] = field(default_factory=lambda: {f: Score() for f in FIELD_ORDER})
    doc_type: Score = field(default_factory=Score)
    n_gold: int = 0
    n_pred: int = 0
    n_paired: int = 0
    spurious_sections: int = 0

    @property
    def precision(self) -> float | None:
        return self.n_paired / self.n_pred if self.n_pred else None

    @property
    def recall(self) -> float | None:
        return self.n_paired / self.n_gold if self.n_gold else None

    @property
    def f1(self) -> float | None:
        total = self.n_gold + self.n_pred
        return 2 * self.n_paired / total if total else None

    def _aggregate(self, names: tuple[str, ...]) -> Score:
        agg = Score()
        for name in names:
            agg.right += self.fields[name].right
            agg.n += self.fields[name].n
            agg.f1_sum += self.fields[name].f1_sum
        return agg

    @property
    def exact_fields(self) -> Score:
        return self._aggregate(EXACT_FIELDS)

    @property
    def text_fields(self) -> Score:
        return self._aggregate(TEXT_FIELDS)

    @property
    def n_missed(self) -> int:
        return sum(d.missed for d in self.documents)

    @property
    def n_scored(self) -> int:
        return len(self.documents) - self.n_missed

    def as_dict(self) -> dict[str, Any]:
        """Plain, JSON-serialisable numbers (for tests and machine-readable output)."""
        return {
            "documents": {"total": len(self.documents), "scored": self.n_scored, "missed": self.n_missed},
            "doc_type": self.doc_type.as_dict(),
            "decisions": {"gold": self.n_gold, "predicted": self.n_pred, "paired": self.n_paired,
                          "precision": self.precision, "recall": self.recall, "f1": self.f1},
            "spurious_sections": self.spurious_sections,
            "fields": {k: v.as_dict(with_f1=k in TEXT_FIELDS) for k, v in self.fields.items()},
            "aggregates": {"exact_fields": self.exact_fields.as_dict(),
                           "text_fields": self.text_fields.as_dict(with_f1=True)},
            "per_document": [asdict(d) for d in self.documents],
        }


# ---------------------------------------------------------------- normalising and comparing

def collapse(value: Any) -> str | None:
    """White space collapsed; empty text counts as no text."""
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text or None


def token_f1(gold: str | None, pred: str | None) -> float:
    """Token F1 over white-space tokens (multiset overlap); both empty = 1, one empty = 0."""
    g, p = (gold or "").split(), (pred or "").split()
    if not g and not p:
        return 1.0
    common = sum((Counter(g) & Counter(p)).values())
    if not common:
        return 0.0
    prec, rec = common / len(p), common / len(g)
    return 2 * prec * rec / (prec + rec)


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat() if isinstance(value, date) else str(value)


def _names(values: Any) -> list[str]:
    return sorted({n for n in (collapse(v) for v in (values or [])) if n})


def _pred_value(row: dict[str, Any], name: str) -> Any:
    if name == "date":
        return _iso(row.get("meeting_date"))
    if name == "votes":
        votes = {k: row.get(f"votes_{k}") for k in VOTE_KEYS}
        return None if all(v is None for v in votes.values()) else votes
    return row.get(name)


def compare(name: str, gold: dict[str, Any], pred: dict[str, Any]) -> tuple[bool, float | None]:
    """Is the predicted field right? Text fields also return their token F1."""
    g, p = gold.get(name), _pred_value(pred, name)
    if name in TEXT_FIELDS:
        g, p = collapse(g), collapse(p)
        if g is None or p is None:
            return g is None and p is None, float(g is None and p is None)
        f1 = token_f1(g, p)
        return f1 >= TEXT_F1_MIN, f1
    if name == "votes":
        if g is None:
            return p is None, None
        p = p or {}
        return all(g.get(k) == p.get(k) for k in VOTE_KEYS), None
    if name == "body":
        p = collapse(p)
        if p is None:
            return collapse(g) is None, None
        known = {collapse(v).casefold() for v in [g, *(gold.get("body_aliases") or [])] if collapse(v)}
        return p.casefold() in known, None
    if name == "presenter":
        return collapse(g) == collapse(p), None
    if name in SET_FIELDS:
        return _names(g) == _names(p), None
    if name == "date":
        return _iso(g) == p, None
    return g == p, None


def _shown(name: str, row: dict[str, Any], gold: bool) -> Any:
    value = row.get(name) if gold else _pred_value(row, name)
    if name in SET_FIELDS:
        return _names(value)
    return _iso(value) if isinstance(value, date) else value


# ---------------------------------------------------------------- pairing

def _label(row: dict[str, Any], gold: bool) -> str:
    section = row.get("section")
    day = _iso(row.get("date") if gold else row.get("meeting_date"))
    return f"§ {section if section is not None else '-'} {day or '-'}"


def pair_decisions(gold: list[dict[str, Any]], pred: list[dict[str, Any]]) -> list[tuple[int, int]]:
    """Greedy one-to-one pairs (gold index, pred index): by (section, date), then section, then title.

    Within a pass, a gold decision with several candidates takes the one with the closest title,
    so two predictions of the same § do not steal each other's partner at random.
    """
    used_g: set[int] = set()
    used_p: set[int] = set()
    pairs: list[tuple[int, int]] = []
    g_titles = [collapse(g.get("title")) for g in gold]
    p_titles = [collapse(p.get("title")) for p in pred]
    g_keys = [(g.get("section"), _iso(g.get("date"))) for g in gold]
    p_keys = [(p.get("section"), _iso(p.get("meeting_date"))) for p in pred]

    def keyed(match) -> None:  # noqa: ANN001 - predicate on (gold key, pred key)
        for gi, gk in enumerate(g_keys):
            if gi in used_g:
                continue
            cands = [pi for pi, pk in enumerate(p_keys) if pi not in used_p and match(gk, pk)]
            if cands:
                best = max(cands, key=lambda pi: (token_f1(g_titles[gi], p_titles[pi]), -pi))
                used_g.add(gi)
                used_p.add(best)
                pairs.append((gi, best))

    keyed(lambda g, p: g == p and g != (None, None))
    keyed(lambda g, p: g[0] is not None and g[0] == p[0])
    scored = sorted(
        (-token_f1(g_titles[gi], p_titles[pi]), gi, pi)
        for gi in range(len(gold)) if gi not in used_g and g_titles[gi]
        for pi in range(len(pred)) if pi not in used_p and p_titles[pi]
    )
    for neg, gi, pi in scored:
        if -neg >= TITLE_PAIR_MIN and gi not in used_g and pi not in used_p:
            used_g.add(gi)
            used_p.add(pi)
            pairs.append((gi, pi))
    return sorted(pairs)


# ---------------------------------------------------------------- loading

def load_gold(gold_dir: Path) -> list[tuple[str, dict[str, Any]]]:
    """(document path relative to gold_dir, gold JSON) for every NAME.gold.json below gold_dir."""
    out = []
    for path in sorted(Path(gold_dir).rglob("*.gold.json")):
        stem = path.name[: -len(".gold.json")]
        doc = next((path.with_name(stem + s) for s in DOC_SUFFIXES if path.with_name(stem + s).exists()),
                   path.with_name(stem))
        try:
            gold = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ValueError(f"gold file {path} does not parse: {exc}") from exc
        out.append((doc.relative_to(gold_dir).as_posix(), gold))
    return out


def _find_document(rel: str, docs: list[dict[str, Any]], claimed: set[str]) -> dict[str, Any] | None:
    """The documents row for `rel`: same relative path, else (among rows no other gold document
    names exactly) the same file name with the longest shared path tail, else the same stem."""
    exact = [d for d in docs if d["source_path"] == rel]
    if exact:
        return exact[0]
    docs = [d for d in docs if d["source_path"] not in claimed]
    want = PurePosixPath(rel)

    def tail(d: dict[str, Any]) -> int:
        a, b = PurePosixPath(d["source_path"]).parts[::-1], want.parts[::-1]
        return next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))

    same_name = [d for d in docs if PurePosixPath(d["source_path"]).name == want.name]
    if same_name:
        return min(same_name, key=lambda d: (-tail(d), d["source_path"]))
    stem = want.stem if want.suffix.lower() in DOC_SUFFIXES else want.name
    same_stem = sorted((d for d in docs if PurePosixPath(d["source_path"]).stem == stem),
                       key=lambda d: d["source_path"])
    return same_stem[0] if same_stem else None


# ---------------------------------------------------------------- scoring

def _score_document(report: Report, rel: str, gold: dict[str, Any], doc: dict[str, Any] | None,
                    preds: list[dict[str, Any]]) -> DocumentResult:
    missed = doc is None or doc.get("status") == "failed"
    golds = list(gold.get("decisions") or [])
    preds = [] if missed else preds
    result = DocumentResult(rel, None if doc is None else doc["doc_id"], missed, gold.get("doc_type"),
                            None if missed else doc.get("doc_type"), len(golds), len(preds))
    type_ok = not missed and result.doc_type_gold == result.doc_type_pred
    report.doc_type.add(type_ok)
    if not type_ok:
        result.errors.append(FieldError("document", "doc_type", result.doc_type_gold, result.doc_type_pred))

    pairs = pair_decisions(golds, preds)
    result.n_paired = len(pairs)
    for gi, pi in pairs:
        for name in FIELD_ORDER:
            ok, f1 = compare(name, golds[gi], preds[pi])
            report.fields.setdefault(name, Score()).add(ok, f1)
            if not ok:
                result.errors.append(FieldError(_label(golds[gi], True), name, _shown(name, golds[gi], True),
                                                _shown(name, preds[pi], False)))
    paired_g, paired_p = {gi for gi, _ in pairs}, {pi for _, pi in pairs}
    for gi, g in enumerate(golds):
        if gi not in paired_g:
            result.errors.append(FieldError(_label(g, True), "missing decision", g.get("title"), None))
    gold_sections = {g.get("section") for g in golds}
    for pi, p in enumerate(preds):
        if p.get("section") not in gold_sections:
            result.spurious_sections.append(p.get("section"))
        if pi not in paired_p:
            result.errors.append(FieldError(_label(p, False), "extra decision", None, p.get("title")))
    report.n_gold += result.n_gold
    report.n_pred += result.n_pred
    report.n_paired += result.n_paired
    report.spurious_sections += len(result.spurious_sections)
    return result


def _score_meeting(report: Report, result: DocumentResult, gold: dict[str, Any] | None,
                   pred: dict[str, Any] | None) -> None:
    """Meeting-level fields (body, date, number); a gold null meeting wants no meetings row."""
    want = gold or {}
    got = pred or {}
    pairs = [(f.name, want.get(f.name.removeprefix("meeting.")), _iso(got.get(f.columns[0]))) for f in _MEETING_SCORED]
    for name, g, p in pairs:
        ok = (collapse(g) or "").lower() == (collapse(p) or "").lower()
        report.fields.setdefault(name, Score()).add(ok)
        if not ok:
            result.errors.append(FieldError("meeting", name, g, p))


def evaluate(gold_dir: Path, pred_dir: Path) -> Report:
    """Score the tables under pred_dir (from `minutes ingest gold_dir --out pred_dir`) against gold_dir."""
    store = Store(Path(pred_dir))
    docs = store.read("documents", columns=_DOC_COLUMNS).to_pylist()
    by_doc: dict[str, list[dict[str, Any]]] = {}
    for row in sorted(store.read("decisions", columns=_DEC_COLUMNS).to_pylist(),
                      key=lambda r: (r["doc_id"], r["ordinal"])):
        by_doc.setdefault(row["doc_id"], []).append(row)
    meetings = {}
    if store.path("meetings").exists():
        wanted = ["doc_id", *(f.columns[0] for f in _MEETING_SCORED)]
        meetings = {r["doc_id"]: r for r in store.read("meetings", columns=wanted).to_pylist()}
    report = Report()
    golds = load_gold(Path(gold_dir))
    claimed = {rel for rel, _ in golds}
    for rel, gold in golds:
        doc = _find_document(rel, docs, claimed)
        preds = by_doc.get(doc["doc_id"], []) if doc else []
        result = _score_document(report, rel, gold, doc, preds)
        if gold.get("doc_type") != "other":
            _score_meeting(report, result, gold.get("meeting"), meetings.get(doc["doc_id"]) if doc else None)
        report.documents.append(result)
    return report
