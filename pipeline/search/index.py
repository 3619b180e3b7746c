"""The search index, `OUT/search.sqlite`: kept in step with the tables, one document at a time.

SQLite's FTS5 (in Python's standard library) holds the stems of each decision's title,
proposal and decision (`pipeline.search.words`), ranked by bm25; the `hits` table beside it
holds what a result is filtered by and where each field starts in the document (for the page),
`texts` the texts for the snippet: apart, so that filtering thousands of matches reads small rows. `sync` compares the documents the index holds with the
`documents` table (doc_id and when it was processed) and re-indexes only what changed, so a run
pays for its own documents, not for the output. It runs after every run's commit, under the
output's lock (`pipeline.derived`); readers open the file while it is written (WAL mode).

`lexicon` counts, for every word and stem in the index, the decisions holding it: the
vocabulary compounds are split against (`pipeline.search.query`); `terms` does the same for the
stems alone, the terms FTS5 holds.
"""
from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa

from pipeline.search.words import stem, stems, words

INDEX_NAME = "search.sqlite"
FORMAT = "2"  # a change of the index's tables or of the stemming rules: the index is built again
FIELDS = ("title", "proposal", "decision")
WEIGHTS = (4.0, 1.0, 2.0)  # bm25 weight of a match in the title, the proposal, the decision
_SCHEMA = f"""
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE docs(doc_id TEXT PRIMARY KEY, stamp TEXT NOT NULL, source_path TEXT, page_starts TEXT);
CREATE TABLE hits(
    rowid INTEGER PRIMARY KEY, decision_id TEXT UNIQUE NOT NULL, doc_id TEXT NOT NULL, ordinal INTEGER,
    organization TEXT, organization_key TEXT, body TEXT, body_key TEXT, meeting_date TEXT, section INTEGER,
    outcome TEXT, current INTEGER, page_start INTEGER, title_at INTEGER, proposal_at INTEGER, decision_at INTEGER);
CREATE INDEX hits_doc ON hits(doc_id);
CREATE TABLE texts(rowid INTEGER PRIMARY KEY, title TEXT, proposal TEXT, decision TEXT);
CREATE TABLE lexicon(word TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE terms(term TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
CREATE VIRTUAL TABLE fts USING fts5({", ".join(FIELDS)}, tokenize='unicode61 remove_diacritics 0');
"""
_DECISION_COLUMNS = ("decision_id", "doc_id", "ordinal", "organization", "body", "meeting_date", "section",
                     "outcome", "current", "page_start", *FIELDS)


def index_path(out: Path) -> Path:
    return Path(out) / INDEX_NAME


def connect(path: Path) -> sqlite3.Connection:
    con = sqlite3.connect(path, timeout=30)
    con.execute("PRAGMA journal_mode=WAL")
    return con


def stamp_of(out: Path) -> str | None:
    """The stamp of the tables the index was last brought in step with (None: no index yet)."""
    path = index_path(out)
    if not path.exists():
        return None
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        row = con.execute("SELECT value FROM meta WHERE key = 'source'").fetchone()
        return row[0] if row else None
    except sqlite3.DatabaseError:  # not an index of ours (or damaged): `sync` builds it again
        return None
    finally:
        con.close()


def _open(out: Path) -> sqlite3.Connection:
    """The index, made anew when missing, damaged or of another format."""
    path = index_path(out)
    if path.exists():
        con = connect(path)
        try:
            row = con.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
        except sqlite3.DatabaseError:
            row = None
        if row and row[0] == FORMAT:
            return con
        con.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    con = connect(path)
    con.executescript(_SCHEMA)
    con.execute("INSERT INTO meta VALUES ('format', ?)", (FORMAT,))
    con.commit()
    return con


def document_stamp(processed_at: Any, version: str | None, seconds: Any) -> str:
    """What tells one processing of a document from another (a re-extraction changes all three)."""
    return f"{processed_at}|{version}|{seconds}"


def sync(out: Path, documents: pa.Table, read_decisions: Any, read_fields: Any, source: str) -> tuple[int, int]:
    """Bring the index in step with `documents`; return (documents removed, documents added).

    `read_decisions(doc_ids)` and `read_fields(doc_ids)` give the decisions rows and the
    mentions of their text fields of those documents (Arrow tables); `source` is the tables'
    stamp, recorded for `stamp_of`.
    """
    now = {d: (document_stamp(p, v, s), path, starts, org) for d, p, v, s, path, starts, org in zip(
        *(documents[c].to_pylist() for c in ("doc_id", "processed_at", "extractor_version", "seconds",
                                             "source_path", "page_starts", "organization")))}
    con = _open(out)
    try:
        held = dict(con.execute("SELECT doc_id, stamp FROM docs"))
        gone = [d for d, s in held.items() if d not in now or now[d][0] != s]
        new = sorted(d for d, (s, *_) in now.items() if held.get(d) != s)
        with con:
            _remove(con, gone)
            if new:
                _add(con, read_decisions(new), read_fields(new), now, new)
            con.execute("INSERT OR REPLACE INTO meta VALUES ('source', ?)", (source,))
    finally:
        con.close()
    return len(gone), len(new)


def _word_counts(texts: Iterable[tuple[str | None, ...]]) -> tuple[Counter[str], Counter[str]]:
    """For each word or stem, and for each stem: in how many of these decisions it stands."""
    lexicon: Counter[str] = Counter()
    terms: Counter[str] = Counter()
    for fields in texts:
        seen: set[str] = set()
        for text in fields:
            seen.update(w for w, _, _ in words(text))
        stemmed = {stem(w) for w in seen}
        lexicon.update(seen | stemmed)
        terms.update(stemmed)
    return lexicon, terms


def _count(con: sqlite3.Connection, counts: tuple[Counter[str], Counter[str]], sign: int) -> None:
    """Add (sign 1) or take away (-1) the counts of `_word_counts` in `lexicon` and `terms`."""
    for table, column, counter in (("lexicon", "word", counts[0]), ("terms", "term", counts[1])):
        con.executemany(f"INSERT INTO {table} VALUES (?, ?) ON CONFLICT({column}) DO UPDATE SET n = n + excluded.n",
                        [(w, sign * n) for w, n in counter.items()])
        if sign < 0:
            con.execute(f"DELETE FROM {table} WHERE n <= 0")


def _remove(con: sqlite3.Connection, doc_ids: list[str]) -> None:
    for start in range(0, len(doc_ids), 500):
        chunk = doc_ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        rows = f"SELECT rowid FROM hits WHERE doc_id IN ({marks})"
        texts = con.execute(f"SELECT title, proposal, decision FROM texts WHERE rowid IN ({rows})", chunk)
        _count(con, _word_counts(texts.fetchall()), -1)
        con.execute(f"DELETE FROM fts WHERE rowid IN ({rows})", chunk)
        con.execute(f"DELETE FROM texts WHERE rowid IN ({rows})", chunk)
        con.execute(f"DELETE FROM hits WHERE doc_id IN ({marks})", chunk)
        con.execute(f"DELETE FROM docs WHERE doc_id IN ({marks})", chunk)


def _field_starts(fields: pa.Table) -> dict[tuple[str, int, str], int]:
    """(doc_id, ordinal, field) → where the field's text starts in the repaired text."""
    cols = [fields[c].to_pylist() for c in ("doc_id", "decision_ordinal", "field", "char_start")]
    return {(d, o, f): s for d, o, f, s in zip(*cols)}


def _add(con: sqlite3.Connection, decisions: pa.Table, fields: pa.Table, docs: dict[str, tuple],
         new: list[str]) -> None:
    """Index the decisions of the documents `new` (each recorded in `docs`, with or without decisions)."""
    starts = _field_starts(fields)
    cols = {c: decisions[c].to_pylist() for c in _DECISION_COLUMNS}
    next_id = (con.execute("SELECT max(rowid) FROM hits").fetchone()[0] or 0) + 1
    hits, fts, texts_rows = [], [], []
    for i, decision_id in enumerate(cols["decision_id"]):
        doc_id, ordinal = cols["doc_id"][i], cols["ordinal"][i]
        texts = [cols[f][i] for f in FIELDS]
        day, org = cols["meeting_date"][i], cols["organization"][i] or docs[doc_id][3]
        hits.append((next_id + i, decision_id, doc_id, ordinal, org, (org or "").casefold(),
                     cols["body"][i], (cols["body"][i] or "").casefold(),
                     day.isoformat() if day else None, cols["section"][i], cols["outcome"][i],
                     None if cols["current"][i] is None else int(cols["current"][i]), cols["page_start"][i],
                     *(starts.get((doc_id, ordinal, f)) for f in FIELDS)))
        texts_rows.append((next_id + i, *texts))
        fts.append((next_id + i, *(" ".join(stems(t)) for t in texts)))
    con.executemany(f"INSERT INTO hits VALUES ({','.join('?' * 16)})", hits)
    con.executemany("INSERT INTO texts VALUES (?, ?, ?, ?)", texts_rows)
    con.executemany("INSERT INTO fts(rowid, title, proposal, decision) VALUES (?, ?, ?, ?)", fts)
    _count(con, _word_counts(zip(*(cols[f] for f in FIELDS))), 1)
    con.executemany("INSERT OR REPLACE INTO docs VALUES (?, ?, ?, ?)", [
        (d, docs[d][0], docs[d][1], None if docs[d][2] is None else json.dumps(docs[d][2])) for d in new])
