"""Answering a search: stems, compounds, filters, bm25 ranking, a snippet and a page for each hit.

Every word of the query must match (in the title, the proposal or the decision), as its stem or
as a part of a compound: a query word of `EXPAND_MIN` letters or more also matches the index's
terms that have it as a part (`words.compound_parts`): "koulu" finds peruskoulun (perus|koulu)
and koulukuljetukset (koulu|kuljetus), not koulutus ("tus" is no word). The vocabulary is the
index's own, as it stands when the query runs, so an index updated document by document
answers as one built at once.
"""
from __future__ import annotations

import bisect
import json
import re
import sqlite3
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from pipeline.search.index import FIELDS, WEIGHTS, index_path
from pipeline.search.words import compound_parts, pieces, stem, words

EXPAND_MIN = 4  # shorter stems (kun, tie) are parts of too many words to expand
EXPAND_MAX = 200  # terms a query word may expand to, the most frequent first
SNIPPET_BEFORE, SNIPPET_AFTER = 8, 22  # words around the first hit
RANK = f"bm25(fts, {', '.join(map(str, WEIGHTS))})"  # a match in the title weighs most (index.WEIGHTS)
_SPACE = re.compile(r"\s+")


class SearchError(ValueError):
    """A query that cannot be run: no words, or no index."""


@dataclass(frozen=True)
class Filters:
    organization: str | None = None  # a part of the name, any case ("helsing")
    body: str | None = None  # a part of the body's name ("valtuusto")
    since: date | None = None
    until: date | None = None
    outcomes: tuple[str, ...] = ()


@dataclass
class Hit:
    decision_id: str
    doc_id: str
    organization: str | None
    body: str | None
    meeting_date: str | None
    section: int | None
    outcome: str | None
    title: str | None
    source_path: str | None
    page: int | None
    field: str | None  # where the snippet comes from: title, proposal or decision
    snippet: list[tuple[str, bool]]  # (text, is a hit)
    score: float


@dataclass
class Result:
    hits: list[Hit]
    total: int
    terms: dict[str, list[str]] = field(default_factory=dict)  # query word → the index terms it matched
    seconds: float = 0.0


def open_index(out: Path) -> sqlite3.Connection:
    path = index_path(out)
    if not path.exists():
        raise SearchError(f"no search index in {out}: run `minutes ingest SRC --out {out}` (or `minutes reprocess "
                          f"--out {out}`), which builds it with the tables")
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)


def expand(con: sqlite3.Connection, word: str) -> list[str]:
    """The word's stem and the index terms with the stem, or the word as written (a compound's first
    part keeps its ending: vuokra|talo, where vuokra's stem is vuokr), as a part; the most frequent first."""
    term = stem(word)
    parts = [p for p in dict.fromkeys((term, word)) if len(p) >= EXPAND_MIN]
    found: dict[str, int] = {}
    for part in parts:
        found.update(con.execute("SELECT term, n FROM terms WHERE instr(term, ?) > 0 AND term != ?", (part, term)))
    if not found:
        return [term]
    wanted = sorted(set().union(*(pieces(t, p) for t in found for p in parts)))
    known: set[str] = set()
    for start in range(0, len(wanted), 900):
        chunk = wanted[start:start + 900]
        known.update(w for (w,) in con.execute(
            f"SELECT word FROM lexicon WHERE word IN ({','.join('?' * len(chunk))})", chunk))
    compounds = sorted((t for t in found if any(compound_parts(t, p, known.__contains__) for p in parts)),
                       key=lambda t: (-found[t], t))
    return [term, *compounds[:EXPAND_MAX]]


def _where(filters: Filters) -> tuple[str, list[object]]:
    """The SQL conditions of the filters (and their values) on the `hits` table."""
    wanted = [
        ("instr(h.organization_key, ?) > 0", filters.organization and filters.organization.casefold()),
        ("instr(h.body_key, ?) > 0", filters.body and filters.body.casefold()),
        ("h.meeting_date >= ?", filters.since and filters.since.isoformat()),
        ("h.meeting_date <= ?", filters.until and filters.until.isoformat()),
    ]
    sql = [condition for condition, value in wanted if value]
    args: list[object] = [value for _, value in wanted if value]
    if filters.outcomes:
        sql.append(f"h.outcome IN ({','.join('?' * len(filters.outcomes))})")
        args.extend(o.upper() for o in filters.outcomes)
    return "".join(f" AND {s}" for s in sql), args


def search(con: sqlite3.Connection, text: str, filters: Filters = Filters(), limit: int = 20,
           offset: int = 0) -> Result:
    """The decisions matching every word of `text` within `filters`, best first (bm25)."""
    started = time.perf_counter()
    query_words = list(dict.fromkeys(w for w, _, _ in words(text)))
    if not query_words:
        raise SearchError(f"nothing to search for in {text!r}: give one or more words")
    terms = {w: expand(con, w) for w in query_words}
    match = " AND ".join("(" + " OR ".join(f'"{t}"' for t in group) + ")" for group in terms.values())
    where, args = _where(filters)
    joined = f"FROM fts JOIN hits h ON h.rowid = fts.rowid WHERE fts MATCH ?{where}"
    rows = con.execute(
        f"SELECT h.decision_id, h.doc_id, h.organization, h.body, h.meeting_date, h.section, h.outcome, "
        f"t.title, t.proposal, t.decision, h.title_at, h.proposal_at, h.decision_at, h.page_start, r.score "
        f"FROM (SELECT h.rowid AS rowid, {RANK} AS score {joined} ORDER BY score LIMIT ? OFFSET ?) r "
        "JOIN hits h ON h.rowid = r.rowid JOIN texts t ON t.rowid = r.rowid ORDER BY r.score",
        [match, *args, limit, offset]).fetchall()
    counted = joined if where else "FROM fts WHERE fts MATCH ?"  # no filter: FTS5 alone counts
    total = con.execute(f"SELECT count(*) {counted}", [match, *args]).fetchone()[0]
    matched = set().union(*terms.values())
    docs = _documents(con, {r[1] for r in rows})
    hits = [_hit(row, matched, docs) for row in rows]
    return Result(hits, total, terms, time.perf_counter() - started)


def _documents(con: sqlite3.Connection, doc_ids: set[str]) -> dict[str, tuple[str | None, list[int] | None]]:
    ids = sorted(doc_ids)
    found = con.execute(f"SELECT doc_id, source_path, page_starts FROM docs WHERE doc_id IN ({','.join('?' * len(ids))})",
                        ids).fetchall() if ids else []
    return {d: (path, json.loads(starts) if starts else None) for d, path, starts in found}


def _hit(row: tuple, matched: set[str], docs: dict[str, tuple[str | None, list[int] | None]]) -> Hit:
    (decision_id, doc_id, org, body, day, section, outcome, title, proposal, decision, *field_at, page_start,
     rank) = row
    texts = dict(zip(FIELDS, (title, proposal, decision)))
    at = dict(zip(FIELDS, field_at))
    counts = {f: sum(stem(w) in matched for w, _, _ in words(texts[f])) for f in ("decision", "proposal", "title")}
    best = max(counts, key=lambda f: counts[f]) if any(counts.values()) else None
    snippet, offset = snippet_of(texts[best], matched) if best else ([], None)
    source_path, page_starts = docs.get(doc_id, (None, None))
    page = page_start
    if best and offset is not None and at[best] is not None and page_starts:
        # the field's text is its span in the repaired text with the surrounding blank lines taken off:
        # the hit stands within a few characters of this offset
        page = max(1, bisect.bisect_right(page_starts, at[best] + offset))
    return Hit(decision_id, doc_id, org, body, day, section, outcome, title, source_path, page, best, snippet,
               -rank)


def snippet_of(text: str | None, matched: set[str]) -> tuple[list[tuple[str, bool]], int | None]:
    """Some words around the first hit in `text`, cut into (text, is a hit) pieces, and the hit's offset."""
    found = list(words(text))
    first = next((i for i, (w, _, _) in enumerate(found) if stem(w) in matched), None)
    if text is None or first is None:
        return [], None
    lo, hi = max(0, first - SNIPPET_BEFORE), min(len(found), first + SNIPPET_AFTER)
    start, end = found[lo][1], found[hi - 1][2]
    out: list[tuple[str, bool]] = [("…", False)] if lo else []
    pos = start
    for w, s, e in found[lo:hi]:
        if stem(w) in matched:
            out.append((_space(text[pos:s]), False))
            out.append((text[s:e], True))
            pos = e
    out.append((_space(text[pos:end]), False))
    if hi < len(found):
        out.append(("…", False))
    return [(t, h) for t, h in out if t], found[first][1]


def _space(text: str) -> str:
    """Runs of white space (line breaks of the source) as one space."""
    return _SPACE.sub(" ", text)
