"""HTML minutes (Dynasty item pages, Ahjo exports, CloudNC pages saved from a browser).

The text is what a reader sees: block elements (p, div, li, h1–h6, tr, br) end a line, table cells
in one row stay on one line separated by two spaces (so a label column reads "Päätös  Hyväksyttiin."
as a glued heading), and script, style and head are dropped, as is the page's furniture: <nav> and
<footer>, and elements whose class or id names them so (footer, nav, menu, breadcrumb, toolbar,
chrome): a site's footer "Keiteleen kunta" or a viewer's "Lataa Kuuntele" is no part of the minutes.
The encoding comes from the BOM, the <meta charset>, then the same detection as plain text.
"""
from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser

from pipeline.errors import ReadError
from pipeline.read import Page
from pipeline.read.text import detect_encoding

_BLOCK = frozenset({
    "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table", "section",
    "article", "header", "footer", "blockquote", "pre", "dt", "dd", "dl", "hr", "form", "main", "nav",
})
_CELL = frozenset({"td", "th"})
_SKIP = frozenset({"script", "style", "head", "noscript", "template", "svg", "nav", "footer"})
_VOID = frozenset({"br", "hr", "img", "meta", "link", "input", "wbr", "col", "area", "base", "source", "embed", "param"})
_FURNITURE = re.compile(r"(?:^|[\s_-])(?:footer|nav|navigation|menu|breadcrumbs?|toolbar|chrome|skip-?link)(?:$|[\s_-])",
                        re.IGNORECASE)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_\-]+)""", re.IGNORECASE)
_SPACES = re.compile(r"[ \t]+")  # a no-break space stays: repair turns it into a space after ftfy has seen it ("Â\xa0")
_BLANKS = re.compile(r"\n[ \t]*(?:\n[ \t]*){2,}")


def _furniture(tag: str, attrs: list[tuple[str, str | None]]) -> bool:
    if tag in _SKIP:
        return True
    return any(name in ("class", "id", "role") and value and _FURNITURE.search(value) for name, value in attrs)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.open: list[tuple[str, bool]] = []   # open elements, each with whether it is skipped
        self.skip = 0
        self.cells_in_row = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _VOID:
            skipped = _furniture(tag, attrs)
            self.open.append((tag, skipped))
            self.skip += skipped
            if skipped:
                return
        if self.skip:
            return
        if tag in _CELL:
            if self.cells_in_row:
                self.parts.append("  ")
            self.cells_in_row += 1
        elif tag in _BLOCK:
            self.parts.append("\n")
            if tag == "tr":
                self.cells_in_row = 0

    def handle_endtag(self, tag: str) -> None:
        if any(t == tag for t, _ in self.open):  # close it and whatever was left open inside it
            while self.open:
                t, skipped = self.open.pop()
                self.skip -= skipped
                if t == tag:
                    break
        if not self.skip and tag in _BLOCK and tag != "br":
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(_SPACES.sub(" ", data.replace("\n", " ")))


def html_encoding(data: bytes) -> str:
    meta = _META_CHARSET.search(data[:4096])
    if meta and not data.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        name = meta.group(1).decode("ascii").lower()
        try:
            data.decode(name)
            return name
        except (LookupError, UnicodeDecodeError):
            pass
    return detect_encoding(data)


def read_html(data: bytes) -> tuple[list[Page], str, list[str]]:
    encoding = html_encoding(data)
    markup = data.decode(encoding, errors="replace")
    if "<" not in markup[:10_000]:
        raise ReadError("the .html file holds no HTML markup; rename it to .txt if it is plain text")
    parser = _Text()
    parser.feed(markup)
    parser.close()
    text = unescape("".join(parser.parts))
    text = "\n".join(line.strip() for line in text.split("\n"))
    text = _BLANKS.sub("\n\n", text).strip() + "\n"
    return [Page(1, text)], encoding, []
