"""Helsinki's Ahjo decision API (JSON): meetings since a date, each meeting's minutes PDF.

`base_url` is the API root (`https://ahjo.hel.fi:9802/ahjorest/v1/`); the key comes from the
environment variable the entry names in `api_key_env` and is sent as `Authorization: Bearer
<key>` with every request. The shapes read, as the City of Helsinki's own Drupal integration
(paatokset.hel.fi) reads them:

    meetings/?start=<yyyy-mm-dd>&end=<yyyy-mm-dd>   {"meetings": [{"MeetingID", "DateMeeting",
                                                     "DecisionMaker", "DecisionMakerID", "links":
                                                     [{"rel": "self", "href"}]}], "links": [{"rel": "next"}]}
    meetings/<MeetingID>                            the meeting, with "Documents": [{"Type":
                                                     "pöytäkirja", "FileURI", "NativeId"}]

Bodies are matched by name (DecisionMaker) or id (DecisionMakerID). Only minutes are fetched.
"""
from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import date
from typing import Any
from urllib.parse import urljoin

from pipeline.fetch.base import Connector, DocumentRef, Meeting, finnish_date
from pipeline.fetch.client import FetchFailed

MAX_PAGES = 50  # of the meetings list: a loop of "next" links ends here


def _json(data: bytes, url: str) -> dict[str, Any]:
    try:
        found = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise FetchFailed(f"{url} did not answer JSON ({exc}); check base_url (the API root, .../ahjorest/v1/)") from None
    if not isinstance(found, dict):
        raise FetchFailed(f"{url} answered JSON that is not an object; check base_url")
    return found


def _link(item: dict[str, Any], rel: str) -> str | None:
    for link in item.get("links") or []:
        if isinstance(link, dict) and link.get("rel") == rel and link.get("href"):
            return str(link["href"])
    return None


class Ahjo(Connector):
    system = "ahjo"

    def headers(self) -> dict[str, str]:
        name = self.source.api_key_env or "AHJO_API_KEY"
        key = os.environ.get(name)
        if not key:
            raise FetchFailed(f"{name} is not set: export the Ahjo API key as {name} (api_key_env of the "
                              f"{self.source.organization} entry) before fetching")
        return {"Authorization": f"Bearer {key}"}

    def meetings(self) -> Iterator[Meeting]:
        root = self.source.base_url.rstrip("/") + "/"
        url: str | None = urljoin(root, f"meetings/?start={self.source.since}&end={date.today()}")
        for _ in range(MAX_PAGES):
            if url is None:
                return
            answer = _json(self.read(url), url)
            for item in answer.get("meetings") or []:
                name = str(item.get("DecisionMaker") or "")
                ids = {name, str(item.get("DecisionMakerID") or "")}
                if not item.get("MeetingID") or not any(self.source.follows(i) for i in ids if i):
                    continue
                day = finnish_date(str(item.get("DateMeeting") or ""))
                self_url = _link(item, "self") or urljoin(root, f"meetings/{item['MeetingID']}")
                if self.recent(day):
                    yield Meeting(str(item["MeetingID"]), name, day, urljoin(url, self_url))
            next_url = _link(answer, "next")
            url = urljoin(url, next_url) if next_url else None

    def documents(self, meeting: Meeting) -> list[DocumentRef]:
        found = _json(self.read(meeting.url, meeting=meeting), meeting.url)
        refs = []
        for n, doc in enumerate(d for d in found.get("Documents") or [] if isinstance(d, dict)
                                and str(d.get("Type", "")).casefold() in ("pöytäkirja", "poytakirja", "minutes")
                                and d.get("FileURI")):
            ids = meeting.id if n == 0 else f"{meeting.id}-{n + 1}"
            refs.append(self.document(urljoin(meeting.url, str(doc["FileURI"])), meeting, ids, "pdf"))
        return refs
