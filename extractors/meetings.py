"""The meeting a set of minutes records, from its cover page (kokoustiedot).

Covers are label blocks: "Kokousaika", "Kokouspaikka", "Saapuvilla olleet jäsenet", "Poissa",
"Muut saapuvilla olleet", "Laillisuus ja päätösvaltaisuus", "Käsitellyt asiat", "Allekirjoitukset",
"Pöytäkirjan tarkastus", the label on its own line or glued to its first line, in any case.
People lists come one per line ("Hannu Kivimäki puheenjohtaja"), two columns to a line
("Kari Hyvönen, puheenjohtaja Seija Räsänen") or separated by semicolons; signature blocks put the
names on one line and their roles on the next.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

from extractors.base import Mention, built_once, load_patterns
from extractors.people import is_name_word

NAME = "meetings"
_NAME_RUN = re.compile(r"[A-ZÅÄÖÜ][\w'’\-]+[ \t]+[A-ZÅÄÖÜ][\w'’\-]+")
_PARENS = re.compile(r"\([^)]*\)")
_SEP = re.compile(r"^[\s,;:–-]+|[\s,;:–-]+$")


@dataclass
class Person:
    name: str
    role: str | None
    start: int
    end: int


@dataclass
class Cover:
    """What the cover says, each value with the mention that supports it."""

    values: dict[str, object] = field(default_factory=dict)
    mentions: dict[str, list[Mention]] = field(default_factory=dict)

    def put(self, column: str, value: object, *mentions: Mention) -> None:
        """Set a value once: the first block that states it wins over later repeats."""
        if value in (None, [], "") or column in self.values:
            return
        self.values[column] = value
        found = [m for m in mentions if m is not None]
        if found:
            self.mentions.setdefault(column, []).extend(found)


@built_once
def _labels() -> tuple[tuple[str, str, re.Pattern[str]], ...]:
    out = []
    for e in load_patterns(NAME):
        if e["label"] in ("number", "range", "quorum_no", "quorum_yes"):
            continue
        rx = re.compile(r"(?im)^[ \t]*(" + e["pattern"] + r")[ \t]*:?(?=[ \t]|$)")
        out.append((e["id"], e["label"], rx))
    return tuple(out)


@cache
def _rx(pid: str) -> re.Pattern[str]:
    e = next(p for p in load_patterns(NAME) if p["id"] == pid)
    return re.compile(e["pattern"], re.IGNORECASE | re.MULTILINE)


def blocks(text: str, start: int, end: int) -> list[tuple[str, str, int, int, int]]:
    """(label, rule_id, label_start, content_start, content_end) for each label block."""
    found: dict[int, tuple[str, str, int, int]] = {}
    for rule_id, label, rx in _labels():
        for m in rx.finditer(text, start, end):
            s = m.start(1)
            if s not in found or m.end(1) > found[s][3]:
                found[s] = (label, rule_id, s, m.end())
    ordered = [found[k] for k in sorted(found)]
    out = []
    for k, (label, rule_id, s, content) in enumerate(ordered):
        stop = ordered[k + 1][2] if k + 1 < len(ordered) else end
        out.append((label, rule_id, s, content, stop))
    return out


def people_in(text: str, start: int, end: int) -> list[Person]:
    """Names with the role text that follows each (up to the next name)."""
    out: list[Person] = []
    for line in re.finditer(r"[^\n]+", text[start:end]):
        base = start + line.start()
        s = line.group(0)
        masked = _PARENS.sub(lambda m: " " * len(m.group(0)), s)
        runs = [m for m in _NAME_RUN.finditer(masked) if all(is_name_word(w) for w in m.group(0).split())]
        for k, m in enumerate(runs):
            role_end = runs[k + 1].start() if k + 1 < len(runs) else len(s)
            role = _SEP.sub("", s[m.end():role_end]).strip() or None
            out.append(Person(m.group(0), role, base + m.start(), base + m.end()))
    return out


def _signed(text: str, start: int, end: int) -> list[Person]:
    """Signature blocks: names on one line, their roles ("Puheenjohtaja") on the next."""
    lines = [(m.start() + start, m.group(0)) for m in re.finditer(r"[^\n]+", text[start:end])]
    out: list[Person] = []
    for (s1, names_line), (_, roles_line) in zip(lines, lines[1:]):
        names = people_in(names_line, 0, len(names_line))
        roles = roles_line.split()
        if len(names) != len(roles) and roles:
            # "Allekirjoitukset Hannu Kivimäki Kirsi Huttunen": the label is glued; names pair up.
            words = list(re.finditer(r"\S+", names_line))
            caps = [w for w in words if is_name_word(w.group(0))]
            if len(caps) == 2 * len(roles):
                names = [Person(f"{a.group(0)} {b.group(0)}", None, a.start(), b.end()) for a, b in zip(caps[::2], caps[1::2])]
        if names and len(roles) == len(names) and all(r[:1].isupper() and not is_name_word(r) or r.lower().endswith(("tarkastaja", "johtaja", "pitäjä"))
                                                     for r in roles):
            out.extend(Person(p.name, r, s1 + p.start, s1 + p.end) for p, r in zip(names, roles))
    return out


def _mention(kind: str, text: str, start: int, end: int, rule_id: str, value: object = None) -> Mention:
    return Mention(kind, text[start:end], None if value is None else str(value), start, end, rule_id)


def parse_cover(text: str, start: int, end: int, times: list[Mention]) -> Cover:
    """Read the label blocks between `start` and `end` (the front matter of full minutes)."""
    cover = Cover()
    for label, rule_id, s, c, e in blocks(text, start, end):
        body = text[c:e]
        if label == "time":
            for t in times:
                if c <= t.start < e and t.value and cover.values.get("start_time") is None:
                    first, _, last = t.value.partition("/")
                    cover.put("start_time", first, t)
                    if last:
                        cover.put("end_time", last, t)
        elif label == "place":
            place = " ".join(body.split())
            if place:
                cover.put("place", place, _mention("place", text, c, e, rule_id, place))
        elif label in ("present", "absent", "others"):
            people = people_in(text, c, e)
            column = {"present": "members_present", "absent": "members_absent", "others": "others_present"}[label]
            if label == "absent":
                value: object = [p.name for p in people]
            else:
                value = [{"name": p.name, "role": p.role} for p in people]
            cover.put(column, value, *[_mention("person", text, p.start, p.end, rule_id, p.name) for p in people])
        elif label == "legality":
            statement = " ".join(body.split())
            if statement:
                cover.put("legality", statement, _mention("legality", text, c, e, rule_id, statement))
                no, yes = _rx("meetings.quorum_no").search(statement), _rx("meetings.quorum_yes").search(statement)
                cover.put("quorum", False if no else (True if yes else None),
                          _mention("legality", text, c, e, "meetings.quorum_no" if no else "meetings.quorum_yes"))
        elif label == "sections":
            m = _rx("meetings.section_range").search(text, c, min(e, c + 200))
            if m:
                cover.put("section_first", int(m.group(1)), _mention("section", text, m.start(), m.end(), "meetings.section_range", m.group(1)))
                cover.put("section_last", int(m.group(2)), _mention("section", text, m.start(), m.end(), "meetings.section_range", m.group(2)))
        elif label in ("signatures", "checking"):
            for p in _signed(text, c, e):
                role = (p.role or "").lower()
                men = _mention("person", text, p.start, p.end, rule_id, p.name)
                if "tarkastaja" in role:
                    cover.values["checkers"] = list(cover.values.get("checkers", [])) + [p.name]
                    cover.mentions.setdefault("checkers", []).append(men)
                elif "puheenjohtaja" in role and "vara" not in role:
                    cover.put("chair", p.name, men)
                elif "pitäjä" in role or "sihteeri" in role:
                    cover.put("secretary", p.name, men)
    _roles_from_lists(cover)
    return cover


def _roles_from_lists(cover: Cover) -> None:
    """Chair and secretary from the member lists' roles where no signature block names them."""
    people = list(cover.values.get("members_present", [])) + list(cover.values.get("others_present", []))
    cited = {m.value: m for column in ("members_present", "others_present") for m in cover.mentions.get(column, [])}
    for p in people:
        role = (p.get("role") or "").lower()
        if re.search(r"(?<!vara)puheenjohtaja|\bpj\b", role):
            cover.put("chair", p["name"], cited.get(p["name"]))
        if re.search(r"pöytäkirjan?pitäjä|sihteeri", role):
            cover.put("secretary", p["name"], cited.get(p["name"]))


def number(text: str, head_end: int) -> tuple[str | None, Mention | None]:
    """The meeting number ("12/2025") from the letterhead."""
    for pid in ("meetings.number", "meetings.number_line"):
        m = _rx(pid).search(text, 0, head_end)
        if m:
            return m.group(1), _mention("number", text, m.start(1), m.end(1), pid, m.group(1))
    return None, None
