"""What is new, announced: Atom feeds of the decisions new since the last run.

"New" is a decision whose decision_id was not in the output when the feeds were last written
(the ids seen are kept in `OUT/feeds/state.json`; on the first run every decision is new).
Earlier handlings a document repeats (`current` false: käsittelyhistoria) are not news and are
left out. A decision belongs to the organisation of the sources entry its document was fetched
for (the `fetches` row that wrote the file); files put in the raw folder by hand have none and
appear in no feed. Each run writes, atomically:

- `OUT/feeds/<organisation>.atom`: that organisation's new decisions;
- `OUT/feeds/filter-<name>.atom`: the new decisions a saved `[[filter]]` matches;

and, with `[feeds] webhook = URL`, POSTs the same decisions as JSON there.
"""
from __future__ import annotations

import json
import os
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from pipeline.fetch.sourcefile import SavedFilter, SourcesFile, slug
from pipeline.store import Store

ATOM = "http://www.w3.org/2005/Atom"
FEEDS = "feeds"
STATE = "state.json"
SUMMARY_CHARS = 600
_COLUMNS = ["decision_id", "doc_id", "section", "body", "meeting_date", "title", "outcome", "decision", "proposal",
            "current", "page_start"]


@dataclass
class FeedSummary:
    new: list[dict[str, Any]] = field(default_factory=list)  # the new decisions, with organization and link
    written: dict[str, int] = field(default_factory=dict)  # feed file -> entries
    webhook: str | None = None  # what became of the POST

    def lines(self) -> list[str]:
        out = [f"new decisions: {len(self.new)}"]
        out += [f"feed:      {name} ({n} entr{'y' if n == 1 else 'ies'})" for name, n in sorted(self.written.items())]
        if self.webhook:
            out.append(f"webhook:   {self.webhook}")
        return out


def _where_fetched(store: Store) -> dict[str, dict[str, Any]]:
    """Raw-folder path -> the last good fetch that wrote it (organisation, URL)."""
    if not store.path("fetches").exists():
        return {}
    rows = store.read("fetches", columns=["fetch_id", "path", "organization", "url", "final_url", "outcome"])
    found: dict[str, dict[str, Any]] = {}
    for row in sorted(rows.to_pylist(), key=lambda r: r["fetch_id"]):
        if row["path"] and row["outcome"] in ("new", "changed", "unchanged"):
            found[row["path"]] = row
    return found


def new_decisions(out: Path) -> tuple[list[dict[str, Any]], set[str]]:
    """The decisions new since the feeds were last written, each with its organisation and link; and
    every decision id now in the output (the next state)."""
    store = Store(out)
    if not store.path("decisions").exists():
        return [], set()
    decisions = store.read("decisions", columns=_COLUMNS).to_pylist()
    now_ids = {d["decision_id"] for d in decisions}
    state = out / FEEDS / STATE
    seen = set(json.loads(state.read_text(encoding="utf-8"))["seen"]) if state.is_file() else set()
    paths = dict(zip(*store.read("documents", columns=["doc_id", "source_path"]).to_pydict().values()))
    fetched = _where_fetched(store)
    new = []
    for d in decisions:
        origin = fetched.get(paths.get(d["doc_id"], ""))
        if d["decision_id"] in seen or d["current"] is False or origin is None:
            continue
        url = origin["final_url"] or origin["url"]
        link = f"{url}#page={d['page_start']}" if paths[d["doc_id"]].endswith(".pdf") and d["page_start"] else url
        new.append({**d, "organization": origin["organization"], "link": link, "source_path": paths[d["doc_id"]]})
    new.sort(key=lambda d: (d["meeting_date"] or datetime.min.date(), d["section"] or 0), reverse=True)
    return new, now_ids


def matches(decision: dict[str, Any], saved: SavedFilter) -> bool:
    """Whether a decision passes every condition a saved filter gives."""
    def among(value: str | None, wanted: tuple[str, ...]) -> bool:
        return not wanted or (value or "").casefold() in {w.casefold() for w in wanted}

    text = " ".join(filter(None, (decision.get("title"), decision.get("decision"), decision.get("proposal")))).casefold()
    return (among(decision.get("organization"), saved.organizations) and among(decision.get("body"), saved.bodies)
            and (not saved.outcomes or decision.get("outcome") in saved.outcomes)
            and (not saved.words or any(w in text for w in saved.words)))


def _text(parent: ET.Element, tag: str, text: str, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
    element.text = text
    return element


def atom(title: str, feed_id: str, decisions: list[dict[str, Any]], updated: datetime) -> bytes:
    """An Atom 1.0 feed of decisions, newest meeting first."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    _text(feed, "title", title)
    _text(feed, "id", feed_id)
    _text(feed, "updated", updated.isoformat())
    _text(_text(feed, "author", ""), "name", "minutes")
    for d in decisions:
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        day = d["meeting_date"].strftime("%-d.%-m.%Y") if d["meeting_date"] else "date unknown"
        section = f" § {d['section']}" if d["section"] is not None else ""
        _text(entry, "title", f"{d['body'] or d['organization']} {day}{section}: {d['title'] or '(no title)'}")
        _text(entry, "id", f"urn:minutes:decision:{d['decision_id']}")
        _text(entry, "updated", updated.isoformat())
        ET.SubElement(entry, f"{{{ATOM}}}link", {"rel": "alternate", "href": d["link"]})
        ET.SubElement(entry, f"{{{ATOM}}}category", {"term": d["outcome"] or "UNKNOWN", "label": "outcome"})
        text = " ".join((d["decision"] or d["proposal"] or "").split())
        summary = f"{d['organization']}, {d['body'] or ''}, {day}. Outcome: {d['outcome'] or 'UNKNOWN'}. " + (
            text[:SUMMARY_CHARS] + ("…" if len(text) > SUMMARY_CHARS else ""))
        _text(entry, "summary", summary)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    with os.fdopen(fd, "wb") as sink:
        sink.write(data)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def write_feeds(sources: SourcesFile, out: Path, now: datetime | None = None) -> FeedSummary:
    """Write this run's feeds (and POST the webhook), then remember every decision id as seen."""
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    out = Path(out)
    new, now_ids = new_decisions(out)
    summary = FeedSummary(new=new)
    folder = out / FEEDS
    for source in {s.organization: s for s in sources.sources}.values():
        mine = [d for d in new if d["organization"] == source.organization]
        name = f"{source.slug}.atom"
        _write(folder / name, atom(f"{source.organization}: new decisions", f"urn:minutes:feed:{source.slug}", mine, now))
        summary.written[name] = len(mine)
    for saved in sources.filters:
        mine = [d for d in new if matches(d, saved)]
        name = f"filter-{saved.slug}.atom"
        _write(folder / name, atom(f"{saved.name}: new decisions", f"urn:minutes:filter:{saved.slug}", mine, now))
        summary.written[name] = len(mine)
    if sources.webhook:
        summary.webhook = post_webhook(sources.webhook, new, now)
    _write(folder / STATE, json.dumps({"seen": sorted(now_ids), "written_at": now.isoformat()}).encode())
    return summary


def post_webhook(url: str, decisions: list[dict[str, Any]], now: datetime) -> str:
    """POST the new decisions as JSON; a failure is reported, never fatal (the feeds are written)."""
    payload = {"run_at": now.isoformat(), "decisions": [
        {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in d.items()
         if k in ("decision_id", "organization", "body", "meeting_date", "section", "title", "outcome", "link")}
        for d in decisions]}
    try:
        response = httpx.post(url, json=payload, timeout=30)
    except httpx.HTTPError as exc:
        return f"POST to {url} failed ({type(exc).__name__}: {exc}); the feeds are written, the next run posts its own"
    if response.status_code >= 400:
        return f"POST to {url} answered {response.status_code}; the feeds are written, the next run posts its own"
    return f"POST to {url}: {len(decisions)} decision(s), answered {response.status_code}"
