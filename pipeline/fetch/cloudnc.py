"""CloudNC / CaseM (`<kunta>.cloudnc.fi`): bodies, their meetings, each meeting's PDFs.

`base_url` is the site's list of bodies, `https://<kunta>.cloudnc.fi/fi-FI/Toimielimet`. Its
structure, as open scrapers and the sites' own links show it:

    /fi-FI/Toimielimet                                  the bodies, each a link one level down
    /fi-FI/Toimielimet/<Toimielin>                      a body's meetings, links .../Kokous_<ddmmyyyy>
    /fi-FI/Toimielimet/<Toimielin>/Kokous_<ddmmyyyy>    a meeting: its documents as PDF downloads

Of a meeting's PDFs the minutes (pöytäkirja) are fetched; agendas (esityslista) are not.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from urllib.parse import unquote, urlsplit

from pipeline.fetch.base import Connector, DocumentRef, Meeting, links

_MEETING = re.compile(r"^Kokous_(\d{2})(\d{2})(\d{4})$", re.IGNORECASE)
_MINUTES = re.compile(r"p(?:ö|o)yt(?:ä|a)kirja|protokoll", re.IGNORECASE)
_PDF = re.compile(r"\.pdf$|/download/", re.IGNORECASE)


def _segments(url: str) -> list[str]:
    return [unquote(s) for s in urlsplit(url).path.split("/") if s]


class CloudNC(Connector):
    system = "cloudnc"

    def meetings(self) -> Iterator[Meeting]:
        base = self.source.base_url.rstrip("/")
        depth = len(_segments(base))
        bodies: dict[str, tuple[str, str]] = {}
        for link in links(self.read(base), base):
            parts = _segments(link.href)
            if (len(parts) == depth + 1 and link.href.startswith(base + "/") and link.text
                    and not _MEETING.match(parts[-1]) and parts[-1] not in bodies):
                bodies[parts[-1]] = (link.text, link.href)
        for name, url, page in self.body_pages(dict(bodies.values())):
            seen: set[str] = set()
            for link in links(page, url):
                found = _MEETING.match(_segments(link.href)[-1]) if _segments(link.href) else None
                if not found or link.href in seen:
                    continue
                seen.add(link.href)
                try:
                    day = date(int(found.group(3)), int(found.group(2)), int(found.group(1)))
                except ValueError:
                    day = None
                if self.recent(day):
                    yield Meeting(_segments(link.href)[-1], name, day, link.href)

    def documents(self, meeting: Meeting) -> list[DocumentRef]:
        found = links(self.read(meeting.url, meeting=meeting), meeting.url)
        minutes = [link.href for link in found
                   if _PDF.search(urlsplit(link.href).path) and (_MINUTES.search(link.text) or _MINUTES.search(link.href))]
        unique = list(dict.fromkeys(minutes))
        return [self.document(url, meeting, meeting.id if n == 0 else f"{meeting.id}-{n + 1}", "pdf")
                for n, url in enumerate(unique)]
