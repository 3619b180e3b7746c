"""`minutes browse`: a local web page over an output, served on 127.0.0.1 only.

The standard library's threading HTTP server; the page's style and script are files of this
package (static/), nothing comes from the network. Routes:

| path | page |
|---|---|
| `/` | filter the decisions (organisation, body, outcome, dates), or search them (`q`: ranked, with snippets) |
| `/decision/<decision_id>` | every field, the named votes, the case timeline, the meeting; each value links to its source |
| `/case/<case_id>` | a case's timeline |
| `/source?doc=&start=&end=&rule=&field=&text=` | the page of the document with the span marked (`fragment=1`: the panel only) |
"""
from __future__ import annotations

import sqlite3
import sys
import threading
import time
from html import escape
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from pipeline.browse import render
from pipeline.browse.data import PER_PAGE, Listing, Output
from pipeline.browse.source import page_view
from pipeline.search.query import Filters, SearchError, open_index, search

HOST = "127.0.0.1"
STATIC = Path(__file__).parent / "static"
_STATIC_TYPES = {"app.css": "text/css; charset=utf-8", "app.js": "text/javascript; charset=utf-8"}


class Handler(BaseHTTPRequestHandler):
    output: Output  # set on the subclass `make_server` makes
    server_version = "minutes-browse"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        """Quiet: a page per line on the terminal would drown the URL to open."""

    def do_GET(self) -> None:  # noqa: N802 - the base class's name
        url = urlsplit(self.path)
        params = {k: v[0] for k, v in parse_qs(url.query).items()}
        path = unquote(url.path)
        try:
            if path == "/":
                self._send(self._index(params))
            elif path.startswith("/decision/"):
                self._decision(path.removeprefix("/decision/"))
            elif path.startswith("/case/"):
                self._case(path.removeprefix("/case/"))
            elif path == "/source":
                self._source(params)
            elif path.startswith("/static/") and path.removeprefix("/static/") in _STATIC_TYPES:
                name = path.removeprefix("/static/")
                self._send((STATIC / name).read_text(encoding="utf-8"), _STATIC_TYPES[name])
            else:
                self._send(render.page("not found", "<h1>Not found</h1>"), status=HTTPStatus.NOT_FOUND)
        except (ValueError, KeyError) as exc:  # a malformed parameter (a number that is not one)
            self._send(render.page("bad request", f"<h1>Bad request</h1><p>{escape(str(exc))}</p>"),
                       status=HTTPStatus.BAD_REQUEST)

    def _send(self, body: str, kind: str = "text/html; charset=utf-8", status: HTTPStatus = HTTPStatus.OK) -> None:
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def _index(self, params: dict[str, str]) -> str:
        out = self.output
        offset = max(0, int(params.get("offset", "0") or 0))
        listing = Listing(params.get("organization", ""), params.get("body", ""), params.get("outcome", ""),
                          render.iso(params.get("since")), render.iso(params.get("until")))
        form = render.search_form(params, out.facets_now())
        query = params.get("q", "").strip()
        if not query:
            rows, total = out.listing(listing, offset)
            keep = {k: v for k, v in params.items() if k != "offset" and v}
            body = form + render.pager(keep, offset, len(rows), total, PER_PAGE) + render.results_table(rows)
            return render.page("decisions", body)
        filters = Filters(listing.organization or None, listing.body or None, listing.since, listing.until,
                          (listing.outcome,) if listing.outcome else ())
        try:
            con = open_index(out.out)
        except SearchError as exc:
            return render.page("search", form + f'<p class="warn">{escape(str(exc))}</p>')
        try:
            result = search(con, query, filters, limit=PER_PAGE, offset=offset)
        except SearchError as exc:
            return render.page("search", form + f'<p class="warn">{escape(str(exc))}</p>')
        except sqlite3.OperationalError as exc:  # a query FTS5 cannot parse
            return render.page("search", form + f'<p class="warn">the search failed: {escape(str(exc))}</p>')
        finally:
            con.close()
        summaries = out.summaries([h.decision_id for h in result.hits])
        rows = [summaries[h.decision_id] for h in result.hits if h.decision_id in summaries]
        snippets = {h.decision_id: render.snippet_html(h.snippet, f"{h.source_path}, page {h.page}")
                    for h in result.hits}
        terms = "; ".join(f"{w}: {', '.join(t[:6])}" for w, t in result.terms.items())
        keep = {k: v for k, v in params.items() if k != "offset" and v}
        head = (f'<p class="meta" id="found">{result.total} decision(s) match · {escape(terms)} · '
                f"{result.seconds * 1000:.1f} ms</p>")
        return render.page(f"search: {query}", form + head + render.pager(keep, offset, len(rows), result.total,
                                                                          PER_PAGE) + render.results_table(rows, snippets))

    def _decision(self, decision_id: str) -> None:
        out = self.output
        d = out.decision(decision_id)
        if d is None:
            self._send(render.page("not found", f"<h1>No decision {escape(decision_id)}</h1>"),
                       status=HTTPStatus.NOT_FOUND)
            return
        case, timeline = out.case(decision_id)
        self._send(render.decision_page(d, out.document(d["doc_id"]), out.mentions(d["doc_id"], d["ordinal"]),
                                        out.votes(decision_id), case, timeline, out.meeting(d.get("meeting_id"))))

    def _case(self, case_id: str) -> None:
        case = self.output.case_row(case_id)
        if case is None:
            self._send(render.page("not found", f"<h1>No case {escape(case_id)}</h1>"),
                       status=HTTPStatus.NOT_FOUND)
            return
        self._send(render.case_page(case, self.output.timeline(case_id)))

    def _source(self, params: dict[str, str]) -> None:
        doc_id = params["doc"]
        pages = self.output.pages(doc_id)
        if not pages:
            self._send(render.page("no pages", f"<p>No stored pages for {escape(doc_id)}.</p>"),
                       status=HTTPStatus.NOT_FOUND)
            return
        view = page_view(pages, int(params["start"]), int(params["end"]), params.get("text") or None)
        fragment = render.source_fragment(view, self.output.document(doc_id), params.get("rule", ""),
                                          params.get("field", ""))
        self._send(fragment if params.get("fragment") else render.page("source", fragment))


def make_server(out: Path, port: int = 0) -> ThreadingHTTPServer:
    """A server for `out` on 127.0.0.1 (port 0: a free one), its tables loaded."""
    output = Output(Path(out))
    output.cursor().close()  # load now: the first page should not wait for it
    handler = type("BoundHandler", (Handler,), {"output": output})
    server = ThreadingHTTPServer((HOST, port), handler)
    server.daemon_threads = True
    return server


def start(out: Path, port: int = 0) -> tuple[ThreadingHTTPServer, threading.Thread]:
    """The server running in a thread (tests, benchmarks); stop it with `server.shutdown()`."""
    server = make_server(out, port)
    thread = threading.Thread(target=server.serve_forever, name="minutes-browse", daemon=True)
    thread.start()
    return server, thread


def serve(out: Path, port: int = 8765) -> None:
    """Serve until Ctrl-C."""
    started = time.perf_counter()
    server = make_server(out, port)
    print(f"minutes browse: {out} loaded in {time.perf_counter() - started:.1f} s; open "
          f"http://{HOST}:{server.server_address[1]}/  (Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("minutes browse: stopped", file=sys.stderr)
    finally:
        server.server_close()
