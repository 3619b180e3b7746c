"""`minutes case`, `search`, `export` and `browse`: the commands that read an output.

Registered in `pipeline.cli` by `add_commands`. Each first brings the cases tables and the
search index up to date with the tables if a run was stopped before it did
(`pipeline.derived.ensure_fresh`), then reads; none changes a table.
"""
from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import Any

DEFAULT_OUT = Path("data/processed")
HISTORY = "history"


def _ready(out: Path) -> bool:
    """Whether `out` holds tables (else say so); the cases and the index brought up to date first."""
    from pipeline.derived import ensure_fresh

    if not (out / "decisions").exists():
        print(f"minutes: no tables under {out}; run `minutes ingest SRC --out {out}` first", file=sys.stderr)
        return False
    warning = ensure_fresh(out)
    if warning:
        print(f"minutes: {warning}", file=sys.stderr)
    return True


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date: give YYYY-MM-DD") from None


def timeline_lines(store: Any, case: dict[str, Any]) -> list[str]:
    """A case as text: its heading and one line per handling, with the documents that record it."""
    import pyarrow as pa
    import pyarrow.compute as pc

    handlings = store.read("case_handlings")
    handlings = handlings.filter(pc.equal(handlings["case_id"], case["case_id"])).sort_by("position").to_pylist()
    decisions = store.read("decisions", columns=["decision_id", "doc_id", "page_start", "current"])
    decisions = decisions.filter(pc.is_in(decisions["decision_id"], value_set=pa.array(case["decision_ids"], pa.string())))
    rows = {r["decision_id"]: r for r in decisions.to_pylist()}
    docs = store.read("documents", columns=["doc_id", "source_path"])
    path_of = dict(zip(docs["doc_id"].to_pylist(), docs["source_path"].to_pylist()))
    span = f"{case['first_date']} – {case['last_date']}" if case["first_date"] else "no dates"
    lines = [
        f"case {case['case_id']}  {case['organization'] or '(organisation not named)'}"
        + (f"  Dnro {case['diary_id']}" if case["diary_id"] else ""),
        case["title"] or "(no title)",
        f"{' → '.join(case['bodies'])} · {case['n_handlings']} handling(s), {span} · latest: "
        f"{case['latest_outcome'] or '?'} ({case['latest_body'] or '?'})",
        "",
    ]
    for h in handlings:
        section = f"§ {h['section']}" if h["section"] is not None else "§ -"
        lines.append(f"  {h['position']:>2}  {str(h['meeting_date'] or '?'):<10}  {h['body'] or '?':<28} {section:<7} "
                     f"{h['outcome'] or '?'}")
        for decision_id in h["decision_ids"]:
            row = rows.get(decision_id, {})
            where = path_of.get(row.get("doc_id"), row.get("doc_id", "?"))
            note = "" if row.get("current") else f" ({HISTORY})"
            lines.append(f"        {where}, page {row.get('page_start', '?')}{note}  [{decision_id[:12]}…:"
                         f"{decision_id.rsplit(':', 1)[-1]}]")
    return lines


def _case(args: argparse.Namespace) -> int:
    from pipeline.cases import find
    from pipeline.store import Store

    if not _ready(args.out):
        return 2
    store = Store(args.out)
    found = find(store.read("cases"), args.id).to_pylist()
    if not found:
        print(f"minutes: no case matches {args.id!r}: give a case_id (or its first 6+ characters), a decision_id "
              "or a diary id (`minutes search` finds decisions)", file=sys.stderr)
        return 1
    if len(found) > 1:
        print(f"minutes: {len(found)} cases match {args.id!r}; give one of their case_ids:", file=sys.stderr)
        for case in found:
            print(f"  {case['case_id']}  {case['organization']}  {case['title']}", file=sys.stderr)
        return 2
    print("\n".join(timeline_lines(store, found[0])))
    return 0


def _search(args: argparse.Namespace) -> int:
    from pipeline.search.query import Filters, SearchError, open_index, search

    if not _ready(args.out):
        return 2
    filters = Filters(args.organization, args.body, args.since, args.until, tuple(args.outcome or ()))
    try:
        result = search(open_index(args.out), " ".join(args.words), filters, limit=args.limit)
    except SearchError as exc:
        print(f"minutes: {exc}", file=sys.stderr)
        return 2
    expanded = "; ".join(f"{w}: {', '.join(t[:8])}{' …' if len(t) > 8 else ''}" for w, t in result.terms.items())
    print(f"{result.total} decision(s) match ({expanded}); {result.seconds * 1000:.1f} ms")
    bold = sys.stdout.isatty()
    for n, hit in enumerate(result.hits, 1):
        section = f" § {hit.section}" if hit.section is not None else ""
        print(f"\n{n:>3}. {hit.meeting_date or '?'}  {hit.body or '?'}{section}  {hit.outcome or '?'}  "
              f"{hit.organization or ''}")
        print(f"     {hit.title or '(no title)'}")
        if hit.snippet:
            print("     " + "".join((f"\033[1m{t}\033[0m" if bold else f"[{t}]") if is_hit else t
                                     for t, is_hit in hit.snippet))
        print(f"     {hit.source_path or hit.doc_id}, page {hit.page} ({hit.field})  decision {hit.decision_id}")
    return 0 if result.total else 1


def _export(args: argparse.Namespace) -> int:
    from pipeline.export import export

    if args.dest.exists() and not args.dest.is_dir():
        print(f"minutes: {args.dest} is a file; give a folder to write the export into", file=sys.stderr)
        return 2
    if len(args.delimiter) != 1:
        print("minutes: --delimiter must be one character (',' or ';' for Excel in a Finnish locale)", file=sys.stderr)
        return 2
    if not _ready(args.out):
        return 2
    result = export(args.out, args.format, args.dest, args.delimiter)
    print(f"minutes export {args.out} -> {', '.join(str(f) for f in result.files)}")
    print("  " + ", ".join(f"{name} {n}" for name, n in result.rows.items()))
    if result.cut_cells:
        print(f"  {result.cut_cells} text(s) longer than Excel's 32,767 characters a cell were cut; "
              "the csv and sqlite exports hold them whole")
    return 0


def _browse(args: argparse.Namespace) -> int:
    from pipeline.browse.server import serve

    if not _ready(args.out):
        return 2
    try:
        serve(args.out, args.port)
    except OSError as exc:
        print(f"minutes: cannot serve on 127.0.0.1:{args.port}: {exc}; give another --port", file=sys.stderr)
        return 2
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register the reading commands on the `minutes` parser."""
    case = sub.add_parser("case", help="print a case's timeline: its handlings across bodies and documents")
    case.add_argument("id", help="case_id (or its first 6+ characters), a decision_id, or a diary id")
    case.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default data/processed)")
    case.set_defaults(func=_case)

    search = sub.add_parser("search", help="search titles, proposals and decisions (Finnish stems and compounds)")
    search.add_argument("words", nargs="+", help="words that must all match, in any inflection")
    search.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default data/processed)")
    search.add_argument("--organization", help="only this organisation (a part of its name, any case)")
    search.add_argument("--body", help="only this body (a part of its name, any case: valtuusto)")
    search.add_argument("--since", type=_date, help="only handlings on or after YYYY-MM-DD")
    search.add_argument("--until", type=_date, help="only handlings on or before YYYY-MM-DD")
    search.add_argument("--outcome", nargs="+", metavar="OUTCOME", help="only these outcomes (PASSED, TABLED ...)")
    search.add_argument("--limit", type=int, default=20, help="hits to show (default 20)")
    search.set_defaults(func=_search)

    exp = sub.add_parser("export", help="write every table as csv files, an xlsx workbook or an sqlite database")
    exp.add_argument("dest", type=Path, metavar="DIR", help="folder to write into")
    exp.add_argument("--format", choices=("csv", "xlsx", "sqlite"), required=True)
    exp.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder to read (default data/processed)")
    exp.add_argument("--delimiter", default=",", help="csv field separator (default ','; ';' for a Finnish Excel)")
    exp.set_defaults(func=_export)

    browse = sub.add_parser("browse", help="serve a local page (127.0.0.1) to search decisions and see their sources")
    browse.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default data/processed)")
    browse.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (default 8765; 0: any free one)")
    browse.set_defaults(func=_browse)
