"""The output as the browse page reads it: the tables in an in-memory DuckDB, loaded once.

A page must come in well under a second on a 100,000-decision output, so every table but
`pages` is loaded into DuckDB when the server starts (a few seconds for 100,000 decisions, see
README "Measured") and each page is a few indexed-free columnar queries; a page's text is read
from the `pages` Parquet files when asked for (their row groups of 256 rows carry doc_id
statistics, so one document's pages are read without the rest). When a run changes the
tables, the next request loads them again.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from pipeline.derived import source_stamp
from pipeline.schema import TABLES

LOADED = ("documents", "decisions", "meetings", "votes", "mentions", "cases", "case_handlings")
PER_PAGE = 50


@dataclass(frozen=True)
class Listing:
    organization: str = ""
    body: str = ""
    outcome: str = ""
    since: date | None = None
    until: date | None = None


def _glob(out: Path, name: str) -> str:
    return (out / name / "*.parquet").as_posix().replace("'", "''")


class Output:
    """One output folder's tables, ready for the page's questions (safe to share between threads)."""

    def __init__(self, out: Path) -> None:
        self.out = Path(out)
        self._lock = threading.Lock()
        self._stamp: str | None = None
        self._con: Any = None
        self.facets: dict[str, list[str]] = {}

    def _load(self) -> None:
        import duckdb

        con = duckdb.connect()
        for name in LOADED:
            if (self.out / name).exists():
                con.execute(f"CREATE TABLE {name} AS SELECT * FROM read_parquet('{_glob(self.out, name)}', "
                            "union_by_name = true)")
            else:  # an output older than the table (and its refresh not made yet): empty, with its columns
                con.register("empty_table", TABLES[name].schema.empty_table())
                con.execute(f"CREATE TABLE {name} AS SELECT * FROM empty_table")
                con.unregister("empty_table")
        con.execute("""
            CREATE TABLE listing AS
            SELECT d.decision_id, d.meeting_date, d.body, d.section, d.title, d.outcome, d.current,
                   coalesce(d.organization, doc.organization) AS organization,
                   lower(coalesce(d.organization, doc.organization, '')) AS organization_key,
                   lower(coalesce(d.body, '')) AS body_key
            FROM decisions d LEFT JOIN documents doc USING (doc_id)""")
        con.execute("CREATE TABLE case_of AS SELECT unnest(decision_ids) AS decision_id, case_id FROM case_handlings")
        self.facets = {
            "organization": [r[0] for r in con.execute(
                "SELECT organization FROM listing WHERE organization IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 500").fetchall()],
            "body": [r[0] for r in con.execute(
                "SELECT body FROM listing WHERE body IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 500").fetchall()],
            "outcome": [r[0] for r in con.execute(
                "SELECT DISTINCT outcome FROM listing WHERE outcome IS NOT NULL ORDER BY 1").fetchall()],
        }
        old, self._con = self._con, con
        if old is not None:
            old.close()

    def cursor(self) -> Any:
        """A cursor on the tables as they are now (loaded again first if a run changed them)."""
        with self._lock:
            stamp = source_stamp(self.out)
            if stamp != self._stamp or self._con is None:
                self._load()
                self._stamp = stamp
            return self._con.cursor()

    def facets_now(self) -> dict[str, list[str]]:
        """The organisations, bodies and outcomes to offer in the filters, of the tables as they are now."""
        self.cursor().close()
        return self.facets

    def _rows(self, sql: str, args: list[Any] | tuple = ()) -> list[dict[str, Any]]:
        cur = self.cursor()
        try:
            result = cur.execute(sql, list(args))
            names = [d[0] for d in result.description]
            return [dict(zip(names, row)) for row in result.fetchall()]
        finally:
            cur.close()

    def listing(self, filters: Listing, offset: int = 0, limit: int = PER_PAGE) -> tuple[list[dict[str, Any]], int]:
        """Decisions within the filters, latest first, and how many there are."""
        where, args = ["TRUE"], []
        for column, value in (("organization_key", filters.organization), ("body_key", filters.body)):
            if value:
                where.append(f"contains({column}, ?)")
                args.append(value.casefold())
        if filters.outcome:
            where.append("outcome = ?")
            args.append(filters.outcome)
        if filters.since:
            where.append("meeting_date >= ?")
            args.append(filters.since)
        if filters.until:
            where.append("meeting_date <= ?")
            args.append(filters.until)
        cond = " AND ".join(where)
        rows = self._rows(f"SELECT * FROM listing WHERE {cond} ORDER BY meeting_date DESC NULLS LAST, organization, "
                          f"body, section, decision_id LIMIT {int(limit)} OFFSET {int(offset)}", args)
        total = self._rows(f"SELECT count(*) AS n FROM listing WHERE {cond}", args)[0]["n"]
        return rows, total

    def summaries(self, decision_ids: list[str]) -> dict[str, dict[str, Any]]:
        if not decision_ids:
            return {}
        rows = self._rows("SELECT * FROM listing WHERE decision_id IN (SELECT unnest(?))", [decision_ids])
        return {r["decision_id"]: r for r in rows}

    def decision(self, decision_id: str) -> dict[str, Any] | None:
        found = self._rows("SELECT * FROM decisions WHERE decision_id = ?", [decision_id])
        return found[0] if found else None

    def document(self, doc_id: str) -> dict[str, Any] | None:
        found = self._rows("SELECT * FROM documents WHERE doc_id = ?", [doc_id])
        return found[0] if found else None

    def meeting(self, meeting_id: str | None) -> dict[str, Any] | None:
        found = self._rows("SELECT * FROM meetings WHERE meeting_id = ?", [meeting_id]) if meeting_id else []
        return found[0] if found else None

    def mentions(self, doc_id: str, ordinal: int) -> list[dict[str, Any]]:
        """The mentions behind a decision's values, its meeting's and its document's organisation."""
        return self._rows("SELECT * FROM mentions WHERE doc_id = ? AND (decision_ordinal = ? OR field LIKE 'meeting.%' "
                          "OR (decision_ordinal IS NULL AND field = 'organization')) ORDER BY char_start",
                          [doc_id, ordinal])

    def votes(self, decision_id: str) -> list[dict[str, Any]]:
        return self._rows("SELECT * FROM votes WHERE decision_id = ? ORDER BY vote, voter", [decision_id])

    def case(self, decision_id: str) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        """The case a decision belongs to and its timeline."""
        found = self._rows("SELECT c.* FROM case_of o JOIN cases c USING (case_id) WHERE o.decision_id = ?",
                           [decision_id])
        if not found:
            return None, []
        return found[0], self.timeline(found[0]["case_id"])

    def timeline(self, case_id: str) -> list[dict[str, Any]]:
        return self._rows("SELECT * FROM case_handlings WHERE case_id = ? ORDER BY position", [case_id])

    def case_row(self, case_id: str) -> dict[str, Any] | None:
        found = self._rows("SELECT * FROM cases WHERE case_id = ?", [case_id])
        return found[0] if found else None

    def pages(self, doc_id: str) -> list[tuple[int, str]]:
        """A document's stored pages, read from the Parquet files (not kept in memory)."""
        if not (self.out / "pages").exists():
            return []
        cur = self.cursor()
        try:
            return [tuple(r) for r in cur.execute(
                f"SELECT page, text FROM read_parquet('{_glob(self.out, 'pages')}') WHERE doc_id = ? ORDER BY page",
                [doc_id]).fetchall()]
        finally:
            cur.close()

