"""Dynasty tietopalvelu (Innofactor): the `DREQUEST.PHP` pages most municipalities publish with.

`base_url` is the site's `.../cgi/DREQUEST.PHP`. The pages, as open scrapers read them:

    DREQUEST.PHP?page=meeting_frames          the bodies (toimielimet), links page=meetings&id=<body>
    DREQUEST.PHP?page=meetings&id=<body>      a body's meetings, links page=meeting&id=<meeting>
    DREQUEST.PHP?page=meeting&id=<meeting>    a meeting: its items (page=meetingitem&id=<meeting>-<n>)
                                              and the minutes as one PDF, ../kokous/<meeting>.PDF

The minutes PDF is what is fetched (`documents = "minutes"`); a meeting without one (or an entry
with `documents = "items"`) gets its item pages, each one § as HTML.
"""
from __future__ import annotations

import re
from collections.abc import Iterator

from pipeline.fetch.base import Connector, DocumentRef, Meeting, finnish_date, links, query

_MINUTES_PDF = re.compile(r"/kokous/([0-9]+)\.pdf$", re.IGNORECASE)


class Dynasty(Connector):
    system = "dynasty"

    def _page(self, page: str, id_: str | None = None) -> str:
        return f"{self.source.base_url}?page={page}" + (f"&id={id_}" if id_ else "")

    def meetings(self) -> Iterator[Meeting]:
        frames = self._page("meeting_frames")
        bodies: dict[str, str] = {}
        for link in links(self.read(frames), frames):
            body_id = query(link.href, "id")
            if query(link.href, "page") == "meetings" and body_id and link.text and body_id not in bodies:
                bodies[body_id] = link.text
        for name, url, page in self.body_pages({name: self._page("meetings", i) for i, name in bodies.items()}):
            seen: set[str] = set()
            for link in links(page, url):
                meeting_id = query(link.href, "id")
                if query(link.href, "page") != "meeting" or not meeting_id or meeting_id in seen:
                    continue
                seen.add(meeting_id)
                day = finnish_date(link.text) or finnish_date(link.row)
                if self.recent(day):
                    yield Meeting(meeting_id, name, day, self._page("meeting", meeting_id))

    def documents(self, meeting: Meeting) -> list[DocumentRef]:
        found = links(self.read(meeting.url, meeting=meeting), meeting.url)
        if self.source.documents == "minutes":
            pdfs = [link.href for link in found
                    if (m := _MINUTES_PDF.search(link.href.split("?")[0])) and m.group(1) == meeting.id]
            if pdfs:
                return [self.document(pdfs[0], meeting, meeting.id, "pdf")]
        items: dict[str, str] = {}
        for link in found:
            item = query(link.href, "id")
            if query(link.href, "page") == "meetingitem" and item and item not in items:
                items[item] = link.href
        return [self.document(url, meeting, item, "page") for item, url in items.items()]
