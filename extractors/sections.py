"""Item (§, pykälä) and handling lines: where one case's handling by a body begins.

Three kinds of line matter: an item line ("§ 323", "§ 412 Title", "57 § TITLE"), a handling
line naming body, date and § ("Kaupunginhallitus 08.12.2025 § 323", "Kh 10.10.2022 § 237",
"Kunnanhallitus § 244 10.11.2025") and Dynasty's "Pöytäkirja 04.03.2024/Pykälä 58". Each must
be a whole line: a statute reference ("kuntalain 136 §:n", "HL 28 § 1 mom") sits inside a
sentence and never is. Tables of contents (runs of item lines with nothing between) are marked
so that segmentation can skip them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from extractors.base import Mention, built_once, load_patterns

NAME = "sections"
BODY = r"[A-ZÅÄÖ][\w\-–]*(?:[ \t]+(?:ja[ \t]+)?[A-Za-zÅÄÖåäö][\w\-–]*){0,5}?"
DATE = r"\d{1,2}\.\d{1,2}\.(?:\d{4}|\d{2})"
_LINE = re.compile(r"[^\n]*")
_TOC_MIN_RUN = 3


@dataclass(frozen=True)
class Marker:
    kind: str            # item, handling, pykala
    section: int
    start: int           # line start
    end: int             # line end
    rule_id: str
    body: str | None = None
    date: str | None = None
    title: str | None = None
    section_start: int = 0
    section_end: int = 0
    toc: bool = False

    def mention(self, text: str) -> Mention:
        return Mention("section", text[self.section_start:self.section_end], str(self.section),
                       self.section_start, self.section_end, self.rule_id)


@built_once
def _line_patterns() -> tuple[tuple[str, str, re.Pattern[str]], ...]:
    out = []
    for entry in load_patterns(NAME):
        if entry["label"] == "mention":
            continue
        source = entry["pattern"].replace("BODY", BODY).replace("DATE", DATE)
        flags = re.IGNORECASE if entry.get("ignore_case") else 0
        out.append((entry["id"], entry["label"], re.compile(source, flags)))
    return tuple(out)


_BODY_END = re.compile(r"(hallitus|valtuusto|lautakunta|jaosto|toimikunta|johtokunta|neuvosto|kokous|"
                       r"johtaja|päällikkö|hallitus|jaos|paj|vi|s)$", re.IGNORECASE)


def _is_bodyish(body: str) -> bool:
    """A handling line's body is a body's name or an abbreviation ("Kh", "KhVi"), not a phrase."""
    words = body.split()
    if any(ch.isdigit() for ch in body) or not words or len(words) > 6:
        return False
    if len(words) == 1 and len(body) <= 10:
        return True
    return bool(_BODY_END.search(words[-1]))


def find_markers(text: str) -> list[Marker]:
    """Every item/handling line in text order; runs of bare item lines are flagged as a ToC."""
    markers: list[Marker] = []
    patterns = _line_patterns()
    for line in _LINE.finditer(text):
        s = line.group(0)
        signed = "§" in s or "ykälä" in s
        if not signed and not any(map(str.isdigit, s[:80])):
            continue
        for rule_id, label, pattern in patterns:
            if not signed and ("§" in pattern.pattern or "Pykälä" in pattern.pattern):
                continue
            m = pattern.fullmatch(s)
            if not m:
                continue
            groups = m.groupdict()
            body = groups.get("body")
            if body is not None and not _is_bodyish(body):
                continue
            title = (groups.get("title") or "").strip() or None
            if title and re.match(r"^[-–]\s*\d", title):
                continue  # a range "§ 146 – 149"
            off = line.start()
            markers.append(Marker(
                label, int(m.group("section")), off, line.end(), rule_id, body, groups.get("date"), title,
                off + m.start("section"), off + m.end("section"),
            ))
            break
    return _flag_toc(text, markers)


def _flag_toc(text: str, markers: list[Marker]) -> list[Marker]:
    """Item lines that follow each other with at most a title line between are a list of contents."""
    out = list(markers)
    run: list[int] = []

    def close() -> None:
        if len(run) >= _TOC_MIN_RUN:
            for i in run:
                m = out[i]
                out[i] = Marker(m.kind, m.section, m.start, m.end, m.rule_id, m.body, m.date, m.title,
                                m.section_start, m.section_end, toc=True)
        run.clear()

    for i, m in enumerate(out):
        if m.kind != "item":
            close()
            continue
        if run:
            prev = out[run[-1]]
            gap = [ln for ln in text[prev.end:m.start].split("\n") if ln.strip()]
            if len(gap) > (0 if prev.title else 1) or m.section <= prev.section:
                close()
        run.append(i)
    close()
    return out
