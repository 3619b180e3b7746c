"""The browse page's HTML, made on the server: plain pages that work without script, and a
script (static/app.js) that opens a value's source beside it instead of on a page of its own.

Every text from the tables is escaped here: a document's words never become markup.
"""
from __future__ import annotations

from datetime import date
from html import escape
from typing import Any
from urllib.parse import quote, urlencode

from pipeline.browse.source import PageView
from pipeline.schema import DECISIONS, MEETINGS

# The mentions field that supplied a decisions column, where the column is not the field itself.
SOURCE_FIELD = {"diary_id_norm": "diary_id", "task_class": "diary_id", "outcome_rule": "outcome",
                "body_aliases": "body", "votes_yes": "votes", "votes_no": "votes", "votes_blank": "votes",
                "votes_absent": "votes"}
PROSE = {"proposal", "decision", "legality", "place"}


def page(title: str, body: str) -> str:
    return (f'<!doctype html><html lang="fi"><head><meta charset="utf-8"><title>{escape(title)} · minutes</title>'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<link rel="stylesheet" href="/static/app.css"></head><body>'
            '<header><a class="home" href="/">minutes</a><span>decisions, cases and where each value came from'
            f'</span></header><main>{body}</main><script src="/static/app.js"></script></body></html>')


def _text(value: Any) -> str:
    if value is None:
        return '<span class="none">—</span>'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        if not value:
            return '<span class="none">—</span>'
        return ", ".join(_item(v) for v in value)
    return escape(str(value))


def _item(value: Any) -> str:
    if isinstance(value, dict):  # a person with a role
        return escape(value.get("name") or "") + (f' <span class="role">({escape(value["role"])})</span>'
                                                   if value.get("role") else "")
    return escape(str(value))


def source_href(doc_id: str, m: dict[str, Any]) -> str:
    query = {"doc": doc_id, "start": m["char_start"], "end": m["char_end"], "rule": m.get("rule_id") or "",
             "field": m.get("field") or "", "text": m.get("text") or ""}
    return "/source?" + urlencode(query)


def _value_cell(value: Any, mentions: list[dict[str, Any]], doc_id: str, prose: bool) -> str:
    """A value, clickable where a mention says where it came from (each list item by its own, where they pair up)."""
    cls = "value prose" if prose else "value"
    if not mentions:
        return f'<span class="{cls} unsourced">{_text(value)}</span>'
    if isinstance(value, (list, tuple)) and len(value) == len(mentions) > 1:
        return ", ".join(f'<a class="value" href="{escape(source_href(doc_id, m))}" title="{escape(m["rule_id"])}">'
                         f"{_item(v)}</a>" for v, m in zip(value, mentions))
    first, more = mentions[0], mentions[1:]
    extra = "".join(f' <a class="value also" href="{escape(source_href(doc_id, m))}">p. {m["page"]}</a>'
                    for m in more)
    return (f'<a class="{cls}" href="{escape(source_href(doc_id, first))}" title="{escape(first["rule_id"])}">'
            f"{_text(value)}</a>{extra}")


def _fields_table(row: dict[str, Any], columns: tuple, by_field: dict[str, list[dict[str, Any]]], doc_id: str,
                  prefix: str = "") -> str:
    cells = []
    for col in columns:
        key = prefix + SOURCE_FIELD.get(col.name, col.name)
        found = by_field.get(key, [])
        cells.append(f'<tr><th title="{escape(col.doc)}">{escape(col.name)}</th><td>'
                     f"{_value_cell(row.get(col.name), found, doc_id, col.name in PROSE)}</td>"
                     f'<td class="rule">{escape(found[0]["rule_id"]) if found else ""}</td></tr>')
    return f'<table class="fields">{"".join(cells)}</table>'


def decision_page(d: dict[str, Any], doc: dict[str, Any] | None, mentions: list[dict[str, Any]],
                  votes: list[dict[str, Any]], case: dict[str, Any] | None, timeline: list[dict[str, Any]],
                  meeting: dict[str, Any] | None) -> str:
    by_field: dict[str, list[dict[str, Any]]] = {}
    for m in mentions:
        if m["field"]:
            by_field.setdefault(m["field"], []).append(m)
    doc_id = d["doc_id"]
    section = f"§ {d['section']}" if d["section"] is not None else ""
    where = escape(doc["source_path"]) if doc else escape(doc_id)
    head = (f'<h1>{escape(d["title"] or "(no title)")}</h1><p class="meta">{_text(d.get("organization"))} · '
            f'{_text(d["body"])} {section} · {_text(d["meeting_date"])} · <b class="outcome">{_text(d["outcome"])}</b>'
            f'{"" if d["current"] else " · <i>an earlier handling, recorded as history</i>"}</p>'
            f'<p class="meta">from {where}, pages {d["page_start"]}–{d["page_end"]} · '
            "click a value to see where it was read</p>")
    parts = [head, "<h2>Values</h2>", _fields_table(d, DECISIONS.columns, by_field, doc_id)]
    if votes:
        rows = "".join(
            f'<tr><td><a class="value" href="{escape(_vote_href(doc_id, v))}" title="{escape(v["rule_id"] or "")}">'
            f'{escape(v["voter"])}</a></td><td class="vote-{escape(v["vote"])}">{escape(v["vote"])}</td></tr>'
            for v in votes)
        parts.append(f'<h2>Votes ({len(votes)})</h2><table class="votes"><tr><th>voter</th><th>vote</th></tr>{rows}</table>')
    if case:
        parts.append(timeline_html(case, timeline, d["decision_id"]))
    if meeting:
        parts.append("<h2>Meeting</h2>" + _fields_table(meeting, MEETINGS.columns, by_field, doc_id, "meeting."))
    return page(d["title"] or "decision",
                f'<div class="split"><article>{"".join(parts)}</article>'
                '<aside id="source"><p class="hint">The source of a value shows here: the page it was '
                "read from, the span marked, and the rule that read it.</p></aside></div>")


def _vote_href(doc_id: str, v: dict[str, Any]) -> str:
    start = v["char_start"]
    return source_href(doc_id, {"char_start": start, "char_end": start + len(v["voter"]), "rule_id": v["rule_id"],
                                "field": "votes", "text": v["voter"]})


def timeline_html(case: dict[str, Any], timeline: list[dict[str, Any]], current: str | None = None) -> str:
    rows = []
    for h in timeline:
        mark = ' class="here"' if current and current in h["decision_ids"] else ""
        seen = "" if h["seen_current"] else ' <span class="role">(history only)</span>'
        rows.append(f'<tr{mark}><td>{_text(h["meeting_date"])}</td><td>{_text(h["body"])}</td>'
                    f'<td>{"§ " + str(h["section"]) if h["section"] is not None else ""}</td>'
                    f'<td><a href="/decision/{quote(h["decision_id"])}">{_text(h["outcome"])}</a>{seen}</td>'
                    f'<td>{len(h["doc_ids"])}</td></tr>')
    return (f'<h2>Case timeline <a class="small" href="/case/{quote(case["case_id"])}">{escape(case["case_id"])}</a>'
            f'</h2><p class="meta">{_text(case["diary_id"])} · {" → ".join(escape(b) for b in case["bodies"])} · '
            f'{case["n_handlings"]} handling(s)</p><table class="timeline"><tr><th>date</th><th>body</th><th>§</th>'
            f'<th>outcome</th><th>documents</th></tr>{"".join(rows)}</table>')


def case_page(case: dict[str, Any], timeline: list[dict[str, Any]]) -> str:
    head = f'<h1>{escape(case["title"] or "(no title)")}</h1><p class="meta">{_text(case["organization"])}</p>'
    return page(case["title"] or "case", head + timeline_html(case, timeline))


def source_fragment(view: PageView, doc: dict[str, Any] | None, rule: str, field: str) -> str:
    text = view.text
    marked = (escape(text[:view.start]) + f'<mark id="hit">{escape(text[view.start:view.end])}</mark>'
              + escape(text[view.end:])) if view.end > view.start else escape(text)
    note = "" if view.exact else (
        '<p class="warn">The text is not at its recorded offset in the stored page (the page was changed after '
        "extraction, e.g. redacted); " + ("it was found near it." if view.end > view.start else "it was not found.")
        + "</p>")
    more = f'<p class="meta">… continues on page {view.page + 1}</p>' if view.continues else ""
    where = escape(doc["source_path"]) if doc else ""
    return (f'<div class="source"><p class="meta"><b>{where}</b> · page {view.page} of {view.n_pages}</p>'
            f'<p class="meta">field <code>{escape(field)}</code> · rule <code class="rule-id">{escape(rule)}</code></p>'
            f'{note}<pre class="page">{marked}</pre>{more}</div>')


def _options(values: list[str], chosen: str) -> str:
    return "".join(f'<option value="{escape(v)}"{" selected" if v == chosen else ""}>{escape(v)}</option>'
                   for v in values)


def search_form(params: dict[str, str], facets: dict[str, list[str]]) -> str:
    def field(name: str, label: str, kind: str = "text", extra: str = "") -> str:
        return (f'<label>{label}<input type="{kind}" name="{name}" value="{escape(params.get(name, ""))}"{extra}>'
                "</label>")

    lists = "".join(f'<datalist id="{name}-list">{_options(values, "")}</datalist>'
                    for name, values in facets.items() if name != "outcome")
    search = field("q", "Search", "search", ' autofocus placeholder="koulu, talousarvio …"')
    organization = field("organization", "Organisation", extra=' list="organization-list"')
    body = field("body", "Body", extra=' list="body-list"')
    return (f'<form class="filters" action="/" method="get">{search}{organization}{body}'
            f'<label>Outcome<select name="outcome"><option value="">any</option>'
            f'{_options(facets.get("outcome", []), params.get("outcome", ""))}</select></label>'
            f'{field("since", "Since", "date")}{field("until", "Until", "date")}'
            f'<button type="submit">Show</button>{lists}</form>')


def results_table(rows: list[dict[str, Any]], snippets: dict[str, str] | None = None) -> str:
    out = []
    for r in rows:
        snippet = (snippets or {}).get(r["decision_id"], "")
        section = f"§ {r['section']}" if r["section"] is not None else ""
        out.append(f'<tr><td>{_text(r["meeting_date"])}</td><td>{_text(r["organization"])}</td>'
                   f'<td>{_text(r["body"])} {section}</td><td><a class="decision" href="/decision/'
                   f'{quote(r["decision_id"])}">{escape(r["title"] or "(no title)")}</a>{snippet}</td>'
                   f'<td class="outcome">{_text(r["outcome"])}</td></tr>')
    return ('<table class="results"><tr><th>date</th><th>organisation</th><th>body</th><th>title</th>'
            f'<th>outcome</th></tr>{"".join(out)}</table>')


def snippet_html(pieces: list[tuple[str, bool]], where: str) -> str:
    text = "".join(f"<mark>{escape(t)}</mark>" if hit else escape(t) for t, hit in pieces)
    return f'<div class="snippet">{text}</div><div class="where">{escape(where)}</div>'


def pager(params: dict[str, str], offset: int, shown: int, total: int, per_page: int) -> str:
    links = []
    if offset > 0:
        links.append(f'<a href="/?{escape(urlencode({**params, "offset": max(0, offset - per_page)}))}">← newer</a>')
    if offset + shown < total:
        links.append(f'<a href="/?{escape(urlencode({**params, "offset": offset + per_page}))}">older →</a>')
    return f'<p class="pager">{offset + 1 if shown else 0}–{offset + shown} of {total} {" ".join(links)}</p>'


def iso(value: str | None) -> date | None:
    """A date parameter (YYYY-MM-DD) or None when empty or not a date."""
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None
