"""`minutes fetch` and `minutes sources check`: the operators' door into `pipeline.fetch`.

Exit codes as `minutes ingest`: 0 every request (and document) ok, 1 some failed (see the
`fetches` table and the summary), 2 usage error (a bad sources file), 3 another run holds the
output folder.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXIT_LOCKED = 3


def load_sources(path: Path):  # noqa: ANN201 - a SourcesFile, or None after printing why not
    """The sources file, or None after saying on stderr what is wrong with it (a usage error)."""
    from pipeline.fetch.sourcefile import SourcesError, load

    try:
        return load(path)
    except SourcesError as exc:
        print(f"minutes: {exc}", file=sys.stderr)
        return None


def _fetch(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from pipeline.fetch.run import run_fetch
    from pipeline.store import OutputLocked

    sources = load_sources(args.sources)
    if sources is None:
        return 2
    only = set(args.only) if args.only else None
    if only and not any(s.organization in only or s.slug in only for s in sources.sources):
        print(f"minutes: --only {' '.join(sorted(only))} names no organisation of {args.sources}", file=sys.stderr)
        return 2
    bar = tqdm(unit="doc", desc="fetch", disable=args.quiet or None, file=sys.stderr, leave=False)
    try:
        summary = run_fetch(sources, args.raw, args.out, only=only, on_listed=lambda n: bar.reset(total=n),
                            progress=lambda doc: bar.update(1))
    except OutputLocked as exc:
        bar.close()
        print(f"minutes: {exc}", file=sys.stderr)
        return EXIT_LOCKED
    bar.close()
    print(f"minutes fetch {args.sources} -> {args.raw} (log: {args.out / 'fetches'})")
    for line in summary.lines():
        print("  " + line)
    failed = bool(summary.request_failures)
    if args.ingest:
        code = _ingest_and_announce(args, sources)
        if code in (2, EXIT_LOCKED):
            return code
        failed = failed or code == 1
    return 1 if failed else 0


def _ingest_and_announce(args: argparse.Namespace, sources) -> int:  # noqa: ANN001 - a SourcesFile
    """`minutes ingest RAW --out OUT`, then the feeds of the decisions it made new."""
    from pipeline.cli import main as minutes
    from pipeline.fetch.feeds import write_feeds

    ingest = ["ingest", str(args.raw), "--out", str(args.out)] + (["--quiet"] if args.quiet else [])
    code = minutes(ingest)
    if code in (2, EXIT_LOCKED):
        return code
    feeds = write_feeds(sources, args.out)
    print(f"minutes feeds -> {args.out / 'feeds'}")
    for line in feeds.lines():
        print("  " + line)
    return code


def _check(args: argparse.Namespace) -> int:
    sources = load_sources(args.file)
    if sources is None:
        return 2
    m = sources.manners
    print(f"{args.file}: {len(sources.sources)} source(s), {len(sources.filters)} saved filter(s); ok")
    print(f"  requests: User-Agent {m.agent!r}; {m.rate:g}/s and {m.concurrency} at once per host; timeout "
          f"{m.timeout:g} s; {m.retries} retries on timeouts and 5xx; at most {m.max_mb:g} MB and "
          f"{m.max_redirects} redirects")
    for s in sources.sources:
        bodies = "every body the site lists" if s.bodies is None else ", ".join(s.bodies)
        what = {"dynasty": "minutes PDFs (item pages where there is none)" if s.documents == "minutes"
                else "item pages", "cloudnc": "minutes PDFs", "tweb": "item pages (RSS feed "
                f"{s.feed})", "ahjo": f"minutes PDFs (API key from ${s.api_key_env})"}[s.system]
        print(f"  {s.organization} ({s.system}): {what} of {bodies}, meetings since {s.since}; "
              f"from {s.base_url} into RAW/{s.slug}/<body>/")
        if s.options:
            print(f"    unknown keys, ignored: {', '.join(sorted(s.options))}")
    for f in sources.filters:
        conditions = [f"{k} {', '.join(v)}" for k, v in (("organization", f.organizations), ("body", f.bodies),
                                                        ("outcome", f.outcomes), ("words", f.words)) if v]
        print(f"  filter {f.name!r}: {'; '.join(conditions)} -> feeds/filter-{f.slug}.atom")
    if sources.webhook:
        print(f"  webhook: new decisions are POSTed to {sources.webhook}")
    return 0


def add_commands(sub: argparse._SubParsersAction, default_raw: Path, default_out: Path) -> None:
    """Register `fetch` and `sources check` on the `minutes` parser."""
    fetch = sub.add_parser("fetch", help="download new or changed minutes from the sites a sources file lists")
    fetch.add_argument("--sources", type=Path, required=True, help="the sources file (TOML; see sources.example.toml)")
    fetch.add_argument("--raw", type=Path, default=default_raw, help="where documents go (default data/raw)")
    fetch.add_argument("--out", type=Path, default=default_out,
                       help="output folder: the fetches table, and the tables and feeds with --ingest (default data/processed)")
    fetch.add_argument("--only", nargs="+", metavar="ORG", help="only these organisations of the sources file")
    fetch.add_argument("--ingest", action="store_true",
                       help="then ingest RAW into OUT and write the feeds of the new decisions (the nightly job)")
    fetch.add_argument("--quiet", action="store_true", help="no progress bar")
    fetch.set_defaults(func=_fetch)

    sources = sub.add_parser("sources", help="work with a sources file")
    verbs = sources.add_subparsers(dest="verb", required=True)
    check = verbs.add_parser("check", help="validate a sources file and say what each entry would fetch")
    check.add_argument("file", type=Path, help="the sources file (TOML)")
    check.set_defaults(func=_check)
