"""Search, cases and the browse page on a large output: 100,000 generated decisions by default.

    python benchmarks/explore.py [--decisions 100000] [--out DIR] [--repeat 5]

Writes the output with benchmarks/outputs.py (or reuses `--out` when it holds one), then times,
in this one run (medians of `--repeat`; the machine is shared, so the medians matter more
than the extremes, which are printed too):

- the refresh after a run's commit: cases and the search index built from nothing, then again
  after ten documents changed (the cases rebuilt whole, the index by document);
- `minutes search` queries (the library call `pipeline.search.query.search`, the index open):
  single words, inflected forms, compound parts, two words, with filters; target under 100 ms;
- `minutes browse`: the server's start (loading the tables), then every kind of page over HTTP
  on 127.0.0.1 (listing, filtered listing, search, decision, case, a value's source); target
  under a second a page.
"""
from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.outputs import _document, generate  # noqa: E402
from pipeline import cases, derived  # noqa: E402
from pipeline.store import Store  # noqa: E402
from pipeline.search.query import Filters, open_index, search  # noqa: E402

QUERIES: list[tuple[str, Filters]] = [
    ("koulu", Filters()), ("kouluja", Filters()), ("päiväkoti", Filters()), ("talousarvio", Filters()),
    ("vuokra", Filters()), ("kirjastossa", Filters()), ("asemakaava", Filters()), ("uimahalli", Filters()),
    ("silta", Filters()), ("kuljetus", Filters()), ("hankinta koulu", Filters()), ("avustus nuoriso", Filters()),
    ("koulu", Filters(body="valtuusto")), ("puisto", Filters(organization="pori")),
    ("taksa", Filters(since=date(2021, 1, 1), until=date(2022, 12, 31))), ("sopimus", Filters(outcomes=("TABLED",))),
]


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float, float, Any]:
    """(median, min, max) seconds of `repeat` calls, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), min(times), max(times), result


def row(name: str, stats: tuple[float, float, float, Any], note: str = "") -> None:
    med, lo, hi, _ = stats
    print(f"  {name:<44} {med * 1000:9.1f} ms  (min {lo * 1000:.1f}, max {hi * 1000:.1f}){note}")


def refresh_times(out: Path, repeat: int) -> None:
    store = Store(out)
    for name in ("cases", "case_handlings"):
        shutil.rmtree(out / name, ignore_errors=True)
    (out / "search.sqlite").unlink(missing_ok=True)
    with store.lock():
        started = time.perf_counter()
        derived.refresh(store)
        full = time.perf_counter() - started
    decisions = store.read("decisions", columns=list(cases.DECISION_COLUMNS))
    documents = store.read("documents")
    print(f"\nrefresh after a commit ({decisions.num_rows:,} decisions, {documents.num_rows:,} documents):")
    print(f"  cases + search index from nothing {full:10.2f} s")
    row("cases.build alone (all decisions)", timed(lambda: cases.build(decisions, documents), repeat))
    rng = random.Random(99)
    changed = []
    for n in range(10):  # ten documents extracted again: new rows, a new processed_at
        rows = _document(rng, n, date(2019, 1, 7), "Auran kunta", "Kunnanhallitus")
        rows["documents"][0]["seconds"] = -1.0 - n
        changed.append(rows)
    merged = {t: [r for rows in changed for r in rows[t]] for t in changed[0]}
    with store.lock():
        store.replace(merged, {"doc_id": {r["doc_id"] for r in merged["documents"]}, "source_path": set()})
        started = time.perf_counter()
        derived.refresh(store)
        print(f"  after 10 documents changed:       {time.perf_counter() - started:10.2f} s "
              "(cases rebuilt whole, index by document)")


def search_times(out: Path, repeat: int) -> None:
    con = open_index(out)
    print(f"\nsearch (median of {repeat} per query; target under 100 ms):")
    medians = []
    for text, filters in QUERIES:
        stats = timed(lambda: search(con, text, filters), repeat)
        medians.append(stats[0])
        note = f"  {stats[3].total:,} hits" + (f"  [{_filters(filters)}]" if _filters(filters) else "")
        row(repr(text), stats, note)
    print(f"  median over the queries {statistics.median(medians) * 1000:.1f} ms, slowest query's median "
          f"{max(medians) * 1000:.1f} ms")


def _filters(filters: Filters) -> str:
    return ", ".join(f"{k}={v}" for k, v in vars(filters).items() if v)


def browse_times(out: Path, repeat: int) -> None:
    from pipeline.browse.server import start

    started = time.perf_counter()
    server, thread = start(out)
    print(f"\nbrowse (target under 1 s a page): the server loaded the tables in {time.perf_counter() - started:.2f} s")
    site = f"http://127.0.0.1:{server.server_address[1]}"
    store = Store(out)
    decisions = store.read("decisions", columns=["decision_id"])["decision_id"].to_pylist()
    case_ids = store.read("cases", columns=["case_id"])["case_id"].to_pylist()
    mentions = store.read("mentions", columns=["doc_id", "char_start", "char_end", "text"]).slice(0, 200_000)
    rng = random.Random(5)

    def get(path: str) -> int:
        with urllib.request.urlopen(site + path, timeout=60) as response:
            return len(response.read())

    def source() -> int:
        m = mentions.slice(rng.randrange(mentions.num_rows), 1).to_pylist()[0]
        return get(f"/source?doc={m['doc_id']}&start={m['char_start']}&end={m['char_end']}&fragment=1")

    pages = [
        ("listing /", lambda: get("/")),
        ("listing, filtered", lambda: get("/?body=valtuusto&outcome=PASSED&since=2020-01-01&offset=100")),
        ("search ?q=koulu", lambda: get("/?q=koulu")),
        ("search, two words and a filter", lambda: get("/?q=hankinta+koulu&organization=aura")),
        ("a decision (random)", lambda: get("/decision/" + rng.choice(decisions).replace(":", "%3A"))),
        ("a case (random)", lambda: get("/case/" + rng.choice(case_ids))),
        ("a value's source (random mention)", source),
    ]
    try:
        for name, fn in pages:
            fn()  # warm: the first of each kind
            row(name, timed(fn, repeat))
    finally:
        server.shutdown()
        thread.join(timeout=10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=100_000)
    parser.add_argument("--out", type=Path, help="output folder to write (or reuse); default a temporary one")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    temp = None if args.out else Path(tempfile.mkdtemp(prefix="minutes-explore-"))
    out = args.out or temp / "out"
    try:
        if not (out / "decisions").exists():
            started = time.perf_counter()
            n = generate(out, args.decisions)
            print(f"generated {n:,} documents ({args.decisions:,} decisions) in {time.perf_counter() - started:.1f} s")
        refresh_times(out, max(1, args.repeat // 2))
        search_times(out, args.repeat)
        browse_times(out, args.repeat)
    finally:
        if temp:
            shutil.rmtree(temp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
