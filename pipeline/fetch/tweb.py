"""Tweb / KTweb (Triplan, `<kunta>.tweb.fi/ktwebbin/...`): an RSS feed of meetings, then item pages.

`base_url` is the site's root (`https://<kunta>.tweb.fi/ktwebbin/dbisa.dll/`) and `feed` the
address of its RSS feed of meetings (relative to base_url, or absolute). Each feed item is a
meeting: its title "<Toimielin> <d.m.yyyy>" (or a <category> naming the body) and a link to the
meeting's item list, `ktwebscr/pk_asil_tweb.htm?+bid=<meeting>`. That page links each item
(§) as `ktwebscr/fileshow?doctype=3&docid=<item>`: the documents fetched, HTML in windows-1252
(or a PDF on some sites; saved as what it is). Tweb pages without a declared charset are read as
windows-1252, as the sites write them.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from urllib.parse import urljoin

from pipeline.fetch.base import Connector, DocumentRef, Meeting, decode, finnish_date, links, query
from pipeline.fetch.client import FetchFailed

ENCODING = "windows-1252"
_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_TRAILING_DATE = re.compile(r"\s*[-–,]?\s*(?:\w+\s+)?\d{1,2}\.\d{1,2}\.\d{4}.*$")


class Tweb(Connector):
    system = "tweb"

    def meetings(self) -> Iterator[Meeting]:
        feed = urljoin(self.source.base_url, self.source.feed or "")
        text = _DECLARATION.sub("", decode(self.read(feed), None, ENCODING))
        try:
            channel = ET.fromstring(text)
        except ET.ParseError as exc:
            raise FetchFailed(f"the feed at {feed} is not RSS ({exc}); check feed in the sources file") from None
        for item in channel.iter("item"):
            title = (item.findtext("title") or "").strip()
            link = urljoin(feed, (item.findtext("link") or "").strip())
            body = (item.findtext("category") or "").strip() or _TRAILING_DATE.sub("", title).strip()
            day = finnish_date(title) or finnish_date(item.findtext("description") or "")
            if link and body and self.source.follows(body) and self.recent(day):
                yield Meeting(query(link, "bid") or link, body, day, link)

    def documents(self, meeting: Meeting) -> list[DocumentRef]:
        page = self.read(meeting.url, meeting=meeting)
        items: dict[str, str] = {}
        for link in links(page, meeting.url, ENCODING):
            docid = query(link.href, "docid")
            if "fileshow" in link.href and docid and query(link.href, "doctype") == "3" and docid not in items:
                items[docid] = link.href
        return [self.document(url, meeting, f"{meeting.id}-{docid}", "page") for docid, url in items.items()]
