"""Cases (asiat) across documents: which handlings belong together, and in what order.

A case goes from a committee to the board to the council (lautakunta → kunnanhallitus →
kunnanvaltuusto), each in its own minutes, and a later extract repeats the earlier handlings as
history lines ("Kh 4.9.2019 § 287"), which the extractors give as rows with `current=false`.
Rows are joined into one case, within an organisation, when

- they share a normalised diary id (diaarinumero; KTweb's "0/00" placeholder aside);
- they are one item of one document: consecutive rows with the same title, the history lines
  and the handling the document records (at most one current row per item);
- they are the same handling, the key being organisation + body + meeting date + §: a handling
  seen in its own minutes and as history in a later extract is one handling of the case, and it
  links the two documents even where neither gives a diary id.

Bodies are compared case-folded; a short form ("Kh") that fits exactly one full body name of
the same organisation (its letters in order, the first alike) counts as that body, as the
extractors already do within one document.
"""
from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import date
from typing import Any

import pyarrow as pa

DECISION_COLUMNS = ("doc_id", "decision_id", "ordinal", "organization", "body", "meeting_date", "section",
                    "diary_id_norm", "title", "outcome", "current", "doc_type")
_PLACEHOLDER = re.compile(r"^[^1-9]*$")  # no digit but zeros: "0/00" stands for no diary id
_SPACE = re.compile(r"\s+")
ABBREVIATION_MAX = 10  # a body name this short may be an abbreviation (as in extractors/bodies.py)
_LAST = date.max  # handlings without a date go last in a timeline


def _fold(text: str | None) -> str:
    return _SPACE.sub(" ", text).strip().casefold() if text else ""


def _fits(short: str, full: str) -> bool:
    """Whether `short` abbreviates `full`: the same first letter, then its letters in order ("Kh", "KhVi")."""
    rest = iter(full[1:])
    return full[:1] == short[:1] and all(ch in rest for ch in short[1:])


class _Links:
    """Union-find over row numbers: the rows of one case end with one root."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def root(self, i: int) -> int:
        parent = self.parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def join(self, i: int, j: int) -> None:
        a, b = self.root(i), self.root(j)
        if a != b:
            self.parent[max(a, b)] = min(a, b)


def _columns(decisions: pa.Table, documents: pa.Table) -> dict[str, list[Any]]:
    """The decision columns as lists, the organisation taken from `documents` where a row lacks it
    (outputs written before decisions carried it)."""
    cols = {name: decisions[name].to_pylist() for name in DECISION_COLUMNS}
    org_of = dict(zip(documents["doc_id"].to_pylist(), documents["organization"].to_pylist()))
    cols["organization"] = [o if o is not None else org_of.get(d) for o, d in
                            zip(cols["organization"], cols["doc_id"])]
    return cols


def _body_keys(orgs: list[str], bodies: list[str | None]) -> list[str]:
    """Each row's body as compared: folded, an abbreviation expanded when it fits one full name."""
    folded = [_fold(b) for b in bodies]
    full: dict[str, set[str]] = defaultdict(set)
    for org, body in zip(orgs, folded):
        if len(body) > ABBREVIATION_MAX:
            full[org].add(body)
    expanded: dict[tuple[str, str], str] = {}
    keys = []
    for org, body in zip(orgs, folded):
        if body and len(body) <= ABBREVIATION_MAX:
            if (org, body) not in expanded:
                fits = [f for f in full[org] if _fits(body, f)]
                expanded[org, body] = fits[0] if len(fits) == 1 else body
            body = expanded[org, body]
        keys.append(body)
    return keys


def _link(cols: dict[str, list[Any]], orgs: list[str], handling: list[tuple]) -> _Links:
    n = len(orgs)
    links = _Links(n)
    order = sorted(range(n), key=lambda i: (cols["doc_id"][i], cols["ordinal"][i]))
    item_start, item_current = -1, False
    for pos, i in enumerate(order):
        prev = order[pos - 1] if pos else -1
        same_item = (prev >= 0 and cols["doc_id"][prev] == cols["doc_id"][i]
                     and _fold(cols["title"][prev]) == _fold(cols["title"][i])
                     and not (cols["current"][i] and item_current))
        if same_item:
            links.join(item_start, i)
            item_current = item_current or bool(cols["current"][i])
        else:
            item_start, item_current = i, bool(cols["current"][i])
    first: dict[tuple, int] = {}
    for i in range(n):
        diary = cols["diary_id_norm"][i]
        keys = [("handling", *handling[i])] if handling[i][0] != "row" else []
        if diary and not _PLACEHOLDER.match(diary):
            keys.append(("diary", orgs[i], diary))
        for key in keys:
            links.join(first.setdefault(key, i), i)
    return links


def _handling_keys(cols: dict[str, list[Any]], orgs: list[str], bodies: list[str]) -> list[tuple]:
    """(organisation, body, date, §) of each row, or ("row", decision_id) where one is missing."""
    keys = []
    for i, (org, body) in enumerate(zip(orgs, bodies)):
        day, section = cols["meeting_date"][i], cols["section"][i]
        keys.append((org, body, day, section) if body and day and section is not None
                    else ("row", cols["decision_id"][i]))
    return keys


def _rank(cols: dict[str, list[Any]], i: int) -> tuple:
    """Which row stands for a handling: its own minutes (current, an outcome, minutes) first."""
    outcome = cols["outcome"][i]
    return (not cols["current"][i], outcome in (None, "UNKNOWN"), cols["doc_type"][i] != "minutes",
            cols["doc_id"][i], cols["ordinal"][i])


def _digest(*parts: object) -> str:
    return hashlib.sha256("\x1f".join("" if p is None else str(p) for p in parts).encode()).hexdigest()[:16]


def _collapse(values: Iterable[str | None]) -> list[str]:
    """The values in order, a repeat of the one before dropped."""
    out: list[str] = []
    for v in values:
        if v and (not out or out[-1] != v):
            out.append(v)
    return out


def build(decisions: pa.Table, documents: pa.Table) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The `cases` and `case_handlings` rows of an output's decisions (see the module's rules)."""
    cols = _columns(decisions, documents)
    orgs = [_fold(o) for o in cols["organization"]]
    handling = _handling_keys(cols, orgs, _body_keys(orgs, cols["body"]))
    links = _link(cols, orgs, handling)
    groups: dict[int, dict[tuple, list[int]]] = defaultdict(lambda: defaultdict(list))
    for i in range(len(orgs)):
        groups[links.root(i)][handling[i]].append(i)
    cases, timeline = [], []
    for members in groups.values():
        case, rows = _case(cols, list(members.values()))
        cases.append(case)
        timeline.extend(rows)
    return cases, timeline


def _case(cols: dict[str, list[Any]], handlings: list[list[int]]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One case's row and its timeline rows from its handlings (each a list of row numbers)."""
    chosen = [min(rows, key=lambda i: _rank(cols, i)) for rows in handlings]
    order = sorted(range(len(handlings)), key=lambda h: (
        cols["meeting_date"][chosen[h]] or _LAST, cols["section"][chosen[h]] or 0, _fold(cols["body"][chosen[h]]),
        cols["decision_id"][chosen[h]]))
    all_rows = [i for rows in handlings for i in rows]
    diaries = Counter(d for i in all_rows if (d := cols["diary_id_norm"][i]) and not _PLACEHOLDER.match(d))
    diary = min(diaries, key=lambda d: (-diaries[d], d)) if diaries else None
    first = chosen[order[0]]
    org = cols["organization"][first]
    case_id = _digest(_fold(org), diary) if diary else _digest(
        _fold(org), cols["body"][first], cols["meeting_date"][first], cols["section"][first], cols["decision_id"][first])
    timeline, doc_ids, decision_ids = [], [], []
    for position, h in enumerate(order, 1):
        rows = sorted(handlings[h], key=lambda i: _rank(cols, i))
        best = chosen[h]
        outcome = next((cols["outcome"][i] for i in rows if cols["outcome"][i] not in (None, "UNKNOWN")),
                       cols["outcome"][best])
        docs = list(dict.fromkeys(cols["doc_id"][i] for i in rows))
        ids = [cols["decision_id"][i] for i in rows]
        doc_ids += docs
        decision_ids += ids
        timeline.append({
            "case_id": case_id, "position": position, "organization": cols["organization"][best],
            "body": cols["body"][best], "meeting_date": cols["meeting_date"][best], "section": cols["section"][best],
            "title": next((cols["title"][i] for i in rows if cols["title"][i]), None), "outcome": outcome,
            "decision_id": cols["decision_id"][best], "decision_ids": ids, "doc_ids": docs,
            "seen_current": any(bool(cols["current"][i]) for i in rows),
        })
    dated = [t for t in timeline if t["meeting_date"]]
    last = timeline[-1]
    case = {
        "case_id": case_id, "organization": org, "diary_id": diary,
        "title": next((t["title"] for t in reversed(timeline) if t["title"]), None),
        "bodies": _collapse(t["body"] for t in timeline),
        "first_date": dated[0]["meeting_date"] if dated else None,
        "last_date": dated[-1]["meeting_date"] if dated else None,
        "latest_outcome": last["outcome"], "latest_body": last["body"], "n_handlings": len(timeline),
        "doc_ids": list(dict.fromkeys(doc_ids)), "decision_ids": decision_ids,
    }
    return case, timeline


_DIARY_SPACE = re.compile(r"\s+")


def find(cases_table: pa.Table, ident: str) -> pa.Table:
    """The cases an identifier names: a case_id (or its first 6+ characters), a decision_id of one
    of its rows, or a diary id as written (any case and spacing)."""
    import pyarrow.compute as pc

    ident = ident.strip()
    mask = pc.starts_with(cases_table["case_id"], ident.lower()) if len(ident) >= 6 else None
    diary = _DIARY_SPACE.sub(" ", ident).upper()
    by_diary = pc.fill_null(pc.equal(cases_table["diary_id"], diary), False)
    rows = pc.list_flatten(cases_table["decision_ids"])
    parents = pc.list_parent_indices(cases_table["decision_ids"]).filter(pc.equal(rows, ident))
    by_decision = pc.is_in(pa.array(range(cases_table.num_rows)), value_set=parents)
    for other in (by_diary, by_decision):
        mask = other if mask is None else pc.or_(mask, other)
    return cases_table.filter(mask)
