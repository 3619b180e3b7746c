"""Small sites in each publishing system's URL structure, served on 127.0.0.1 for the fetch tests.

`SiteServer` is a threading HTTP server whose routes the tests write (no copies of real pages):
static pages and documents (with ETag / If-None-Match), a status sequence (500 then 200), a slow
answer, a redirect, an endless (or 200 MB) stream, an API key check. `build_sites` lays out one
organisation per system (Dynasty, CloudNC, Tweb, Ahjo) whose minutes are documents of the dev
corpus, so that ingest runs real extraction on what was fetched. Used by tests/test_fetch*.py and
the demo (`python -m tests.fetch_demo`).
"""
from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT / "tests" / "fixtures" / "corpus" / "dev"
API_KEY = "test-ahjo-key"


@dataclass
class Route:
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    statuses: list[int] = field(default_factory=list)  # answered first, in order (then 200 with the body)
    delay: float = 0.0  # seconds before answering
    location: str | None = None  # a redirect
    stream_mb: int = 0  # an endless-looking body of this many MB (1 MB chunks), instead of `body`
    declare_length: bool = True  # send Content-Length with a stream
    needs_key: bool = False  # 401 without "Authorization: Bearer <API_KEY>"

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.body).hexdigest()[:16] + '"'


class SiteServer:
    """Routes by path and query (else by path alone); counts and records every request."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.posts: list[tuple[str, bytes]] = []
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> SiteServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def add(self, path: str, route: Route) -> None:
        self.routes[path] = route

    def page(self, path: str, html: str, encoding: str = "utf-8") -> None:
        self.add(path, Route(html.encode(encoding), f"text/html; charset={encoding}"))

    def hits(self, path: str) -> list[dict[str, str]]:
        """The headers of every request made for a path (query included)."""
        with self.lock:
            return [headers for p, headers in self.requests if p == path]


def _handler(site: SiteServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # quiet
            pass

        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            with site.lock:
                site.requests.append((unquote(self.path), dict(self.headers)))
                path = unquote(self.path)  # CaseM's /download/noname/{guid}/n arrives as %7Bguid%7D
                route = site.routes.get(path) or site.routes.get(path.split("?")[0])
                status = route.statuses.pop(0) if route and route.statuses else 200
            if route is None:
                return self._send(404, b"<html><body>Sivua ei loydy</body></html>", "text/html")
            if route.delay:
                time.sleep(route.delay)
            if route.needs_key and self.headers.get("Authorization") != f"Bearer {API_KEY}":
                return self._send(401, b'{"error": "api key"}', "application/json")
            if route.location:
                self.send_response(302)
                self.send_header("Location", route.location)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return None
            if status != 200:
                return self._send(status, b"<html><body>Palvelinvirhe</body></html>", "text/html")
            if route.stream_mb:
                return self._stream(route)
            if self.headers.get("If-None-Match") == route.etag:
                self.send_response(304)
                self.send_header("ETag", route.etag)
                self.end_headers()
                return None
            return self._send(200, route.body, route.content_type, route.etag)

        def do_POST(self) -> None:  # noqa: N802 - a webhook: the body is kept in `site.posts`
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with site.lock:
                site.posts.append((unquote(self.path), body))
            self._send(204 if self.path != "/hook-broken" else 500, b"", "text/plain")

        def _send(self, status: int, body: bytes, content_type: str, etag: str | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            if etag:
                self.send_header("ETag", etag)
            self.end_headers()
            self.wfile.write(body)

        def _stream(self, route: Route) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/pdf")
            if route.declare_length:
                self.send_header("Content-Length", str(route.stream_mb << 20))
            self.end_headers()
            chunk = b"%PDF-1.4\n" + b"0" * ((1 << 20) - 9)
            try:
                for _ in range(route.stream_mb):
                    self.wfile.write(chunk)
            except (BrokenPipeError, ConnectionResetError):  # the client stopped at its limit
                pass
            self.close_connection = True

    return Handler


# -- the four systems ------------------------------------------------------------------------------

@dataclass
class Meeting:
    id: str
    day: date
    document: bytes  # the minutes (a PDF) or, for Tweb, one item page per § (HTML)
    items: list[bytes] = field(default_factory=list)  # Tweb item pages, windows-1252 HTML


def dev(name: str) -> bytes:
    return (DEV / name).read_bytes()


def tweb_item(text: str) -> bytes:
    """A Tweb item page: the text, one <p> a line, in windows-1252 as the sites write it."""
    lines = "\n".join(f"<p>{escape(line)}</p>" for line in text.splitlines())
    return (f'<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1252">'
            f"<title>Pöytäkirja</title></head><body>{lines}</body></html>").encode("windows-1252")


def _fi(day: date) -> str:
    return f"{day.day}.{day.month}.{day.year}"


def dynasty(site: SiteServer, root: str, bodies: dict[str, list[Meeting]]) -> str:
    """DREQUEST.PHP pages and kokous/<id>.PDF minutes; returns base_url."""
    cgi = f"{root}/cgi/DREQUEST.PHP"
    rows = "".join(f'<tr><td><a href="DREQUEST.PHP?page=meetings&amp;id={n}">{escape(name)}</a></td></tr>'
                   for n, name in enumerate(bodies, 1))
    site.page(f"{cgi}?page=meeting_frames", f"<html><body><table>{rows}</table></body></html>")
    for n, (name, meetings) in enumerate(bodies.items(), 1):
        rows = "".join(f'<tr><td><a href="DREQUEST.PHP?page=meeting&amp;id={m.id}">Pöytäkirja</a></td>'
                       f"<td>{_fi(m.day)}</td></tr>" for m in meetings)
        site.page(f"{cgi}?page=meetings&id={n}", f"<html><body><h1>{escape(name)}</h1><table>{rows}</table></body></html>")
        for m in meetings:
            site.page(f"{cgi}?page=meeting&id={m.id}",
                      f'<html><body><a href="../kokous/{m.id}.PDF">Pöytäkirja</a>'
                      f'<a href="DREQUEST.PHP?page=meetingitem&amp;id={m.id}-1">1 § Kokouksen avaus</a></body></html>')
            site.add(f"{root}/kokous/{m.id}.PDF", Route(m.document, "application/pdf"))
    return f"{site.url}{cgi}"


def cloudnc(site: SiteServer, root: str, bodies: dict[str, list[Meeting]]) -> str:
    """/fi-FI/Toimielimet/<body>/Kokous_<ddmmyyyy> pages and /download/ PDFs; returns base_url."""
    base = f"{root}/fi-FI/Toimielimet"
    site.page(base, "<html><body><ul>" + "".join(f'<li><a href="{base}/{name}">{escape(name)}</a></li>'
                                                for name in bodies) + "</ul></body></html>")
    for name, meetings in bodies.items():
        links = "".join(f'<li><a href="{base}/{name}/Kokous_{m.day:%d%m%Y}">Kokous {_fi(m.day)}</a></li>' for m in meetings)
        site.page(f"{base}/{name}", f"<html><body><ul>{links}</ul></body></html>")
        for m in meetings:
            pdf = f"{root}/download/noname/{{{m.id}}}/{m.id}"
            site.page(f"{base}/{name}/Kokous_{m.day:%d%m%Y}",
                      f'<html><body><a href="{pdf}">Pöytäkirja</a> <a href="{root}/download/noname/{{e{m.id}}}/1">'
                      "Esityslista</a></body></html>")
            site.add(pdf, Route(m.document, "application/pdf"))
    return f"{site.url}{base}"


def tweb(site: SiteServer, root: str, bodies: dict[str, list[Meeting]]) -> tuple[str, str]:
    """An RSS feed of meetings, pk_asil_tweb.htm item lists, fileshow item pages; returns (base_url, feed)."""
    base = f"{root}/ktwebbin/dbisa.dll/"
    items = ""
    for name, meetings in bodies.items():
        for m in meetings:
            items += (f"<item><title>{escape(name)} {_fi(m.day)}</title><category>{escape(name)}</category>"
                      f"<link>{site.url}{base}ktwebscr/pk_asil_tweb.htm?+bid={m.id}</link></item>")
            rows = "".join(f'<tr><td>{k}</td><td><a href="fileshow?doctype=3&amp;docid={m.id}{k}">Asia {k}</a></td></tr>'
                           for k in range(1, len(m.items) + 1))
            site.page(f"{base}ktwebscr/pk_asil_tweb.htm?+bid={m.id}",
                      f"<html><body><h1>{escape(name)} {_fi(m.day)}</h1><table>{rows}</table></body></html>",
                      "windows-1252")
            for k, page in enumerate(m.items, 1):
                site.add(f"{base}ktwebscr/fileshow?doctype=3&docid={m.id}{k}", Route(page, "text/html"))
    rss = (f'<?xml version="1.0" encoding="windows-1252"?><rss version="2.0"><channel><title>Pöytäkirjat</title>'
           f"{items}</channel></rss>")
    site.add(f"{base}ktwebscr/pk_rss.xml", Route(rss.encode("windows-1252"), "application/rss+xml"))
    return f"{site.url}{base}", "ktwebscr/pk_rss.xml"


def ahjo(site: SiteServer, root: str, bodies: dict[str, list[Meeting]]) -> str:
    """meetings/ and meetings/<id> JSON behind an API key, minutes PDFs by FileURI; returns base_url."""
    import json

    api = f"{root}/ahjorest/v1/"
    listed = []
    for n, (name, meetings) in enumerate(bodies.items(), 1):
        for m in meetings:
            listed.append({"MeetingID": m.id, "DateMeeting": f"{m.day.isoformat()}T16:00:00.000", "DecisionMaker": name,
                           "DecisionMakerID": f"0{n}900", "links": [{"rel": "self", "href": f"{api}meetings/{m.id}"}]})
            detail = {"MeetingID": m.id, "DecisionMaker": name, "Documents": [
                {"Type": "esityslista", "FileURI": f"{root}/files/{m.id}-agenda.pdf"},
                {"Type": "pöytäkirja", "FileURI": f"{root}/files/{m.id}.pdf", "NativeId": f"{{{m.id}}}"}]}
            site.add(f"{api}meetings/{m.id}", Route(json.dumps(detail).encode(), "application/json", needs_key=True))
            site.add(f"{root}/files/{m.id}.pdf", Route(m.document, "application/pdf", needs_key=True))
    site.add(f"{api}meetings/", Route(json.dumps({"meetings": listed}).encode(), "application/json", needs_key=True))
    return f"{site.url}{api}"


def build_sites(site: SiteServer, day: date, extra: Callable[[SiteServer], None] | None = None) -> dict[str, dict]:
    """One organisation per system, each with a meeting or two on `day` and before; the sources entries."""
    from datetime import timedelta

    earlier = day - timedelta(days=14)
    tweb_text = dev("dev05_tweb_kh_kv_history_cp1252.txt").decode("windows-1252")
    entries = {
        "dynasty": {"organization": "Dynastyn kunta", "system": "dynasty", "bodies": ["Aluehallitus"],
                    "base_url": dynasty(site, "/dyn", {
                        "Aluehallitus": [Meeting("2025101", earlier, dev("dev16_pdf_aluehallitus_full_dynasty.pdf"))],
                        "Tarkastuslautakunta": [Meeting("2025201", earlier, dev("dev13_pdf_kh_full_labelcolumn.pdf"))]})},
        "cloudnc": {"organization": "Casemin kaupunki", "system": "cloudnc", "bodies": "all",
                    "base_url": cloudnc(site, "/cnc", {
                        "Kaupunginhallitus": [Meeting("301", earlier, dev("dev13_pdf_kh_full_labelcolumn.pdf"))]})},
        "ahjo": {"organization": "Helsinki", "system": "ahjo", "bodies": ["Sivistyslautakunta"],
                 "api_key_env": "MINUTES_TEST_AHJO_KEY",
                 "base_url": ahjo(site, "/ahjo", {
                     "Sivistyslautakunta": [Meeting("02975202541", earlier,
                                                    dev("dev20_pdf_sivistyslautakunta_full_word.pdf"))]})},
    }
    base, feed = tweb(site, "/tw", {"Kunnanhallitus": [Meeting("4101", earlier, b"", [tweb_item(tweb_text)])]})
    entries["tweb"] = {"organization": "Twebin kunta", "system": "tweb", "bodies": "all", "base_url": base,
                       "feed": feed}
    site.add("/robots.txt", Route(b"User-agent: *\nDisallow: /private/\n", "text/plain"))
    if extra:
        extra(site)
    return entries


def sources_toml(entries: dict[str, dict], since: date, **fetch: object) -> str:
    """A sources file for the entries: polite defaults, sped up for tests by `fetch` (rate, timeout ...)."""
    def value(v: object) -> str:
        if isinstance(v, str):
            return '"' + v.replace('"', '\\"') + '"'
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return str(v).lower() if isinstance(v, bool) else str(v)

    settings = {"contact": "tests@example.org", **fetch}
    out = ["[fetch]", *[f"{k} = {value(v)}" for k, v in settings.items()], ""]
    for entry in entries.values():
        out += ["[[source]]", f'since = "{since.isoformat()}"', *[f"{k} = {value(v)}" for k, v in entry.items()], ""]
    return "\n".join(out)
