"""The whole way from a listing page to decisions and a feed, on this machine: `make demo-fetch`.

Starts the test sites (tests/fetch_sites.py: Dynasty, CloudNC/CaseM, Tweb and Ahjo structures on
127.0.0.1, publishing minutes of the dev corpus), writes a sources file for them, and runs
`minutes fetch --ingest` (fetch, ingest, feeds) twice: between the runs a meeting appears and a
document changes, so the second run's feeds hold just those decisions.

    python -m tests.fetch_demo [--dir DIR]    # default: a temporary folder, kept and named at the end
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # fetch_sites, as the tests import it

import pandas as pd  # noqa: E402

from fetch_sites import API_KEY, Meeting, SiteServer, build_sites, dev, dynasty, sources_toml  # noqa: E402

MINUTES = Path(sys.executable).parent / "minutes"
ATOM = "{http://www.w3.org/2005/Atom}"
DAY = date.today()


def _run(sources: Path, raw: Path, out: Path) -> None:
    command = [str(MINUTES), "fetch", "--sources", str(sources), "--raw", str(raw), "--out", str(out), "--ingest",
               "--quiet"]
    print("$ " + " ".join(c if " " not in c else repr(c) for c in command), flush=True)
    subprocess.run(command, check=False, env={**os.environ, "MINUTES_TEST_AHJO_KEY": API_KEY})


def _show(out: Path) -> None:
    fetches = pd.read_parquet(out / "fetches").sort_values("fetch_id")
    run_id = fetches.run_id.max()
    rows = fetches[fetches.run_id == run_id]
    print("\nthe way, request by request (the fetches table):")
    for r in rows.itertuples():
        print(f"  {r.kind:8} {r.outcome:9} {r.url}" + (f"\n{'':22}-> {r.path}" if isinstance(r.path, str) else ""))
    documents = pd.read_parquet(out / "documents").set_index("source_path")
    print("\ndecisions per downloaded file (the documents table):")
    for path in sorted(p for p in rows.path.dropna().unique()):
        if path in documents.index:
            print(f"  {documents.loc[path, 'n_decisions']:3} decision(s)  {path}")


def _feeds(out: Path) -> None:
    print("\nfeeds of this run's new decisions:")
    for feed in sorted((out / "feeds").glob("*.atom")):
        entries = list(ET.parse(feed).getroot().iter(f"{ATOM}entry"))
        print(f"  {feed.relative_to(out)}: {len(entries)} entr{'y' if len(entries) == 1 else 'ies'}")
        for entry in entries[:3]:
            link = entry.find(f"{ATOM}link").get("href")
            print(f"    - {entry.findtext(f'{ATOM}title')[:90]}\n      [{entry.find(f'{ATOM}category').get('term')}] {link}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fetch_demo", description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, help="where the sources file, raw documents and tables go")
    args = parser.parse_args(argv)
    work = args.dir or Path(tempfile.mkdtemp(prefix="minutes-fetch-demo-"))
    sources, raw, out = work / "sources.toml", work / "raw", work / "processed"
    work.mkdir(parents=True, exist_ok=True)
    with SiteServer() as site:
        entries = build_sites(site, DAY)
        sources.write_text(sources_toml(entries, DAY - timedelta(days=120), rate=20, timeout=10)
                           + '\n[[filter]]\nname = "Hyväksytyt"\noutcome = ["PASSED"]\n', encoding="utf-8")
        print(f"test sites on {site.url}; sources file {sources}:\n")
        subprocess.run([str(MINUTES), "sources", "check", str(sources)], check=False)
        print("\n== run 1: everything is new ==")
        _run(sources, raw, out)
        _show(out)
        _feeds(out)

        print("\n== between the runs: Dynasty publishes a new Aluehallitus meeting ==")
        dynasty(site, "/dyn", {"Aluehallitus": [
            Meeting("2025101", DAY - timedelta(days=14), dev("dev16_pdf_aluehallitus_full_dynasty.pdf")),
            Meeting("2025102", DAY, dev("dev14_pdf_kv_full_ligatures_history.pdf"))], "Tarkastuslautakunta": []})
        print("\n== run 2: only the new meeting is downloaded; the feeds hold its decisions ==")
        _run(sources, raw, out)
        _show(out)
        _feeds(out)
    print(f"\neverything is in {work} (tables: {out}; feeds: {out / 'feeds'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
