"""Every line that could open an item (§) or a handling, with what the line itself says.

A candidate is evidence, not a decision: "Tekninen lautakunta § 12 3.3.2025" opens an item in full
minutes and names an earlier handling in an extract, and "§ 12 Title" may be a contents entry.
This module only reads each line (patterns/sections.jsonl: the line forms, each with an id):
the § number, the form, the body and date printed on it, a title, a tail (a diary id after a
wide gap). extractors/segment.py chooses among the candidates with the whole document in view.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from extractors.base import Mention, built_once, load_patterns
from extractors.lines import Lines

NAME = "sections"
_MACROS = {
    "NUM": r"(?P<section>\d{1,4})",
    "BODY": r"(?P<body>[A-ZÅÄÖ][\w\-–.]*(?:[ \t]+(?:ja[ \t]+)?[\w\-–.]+){0,5}?)",
    "DATE": r"(?P<date>\d{1,2}\.[ \t]?\d{1,2}\.[ \t]?(?:\d{4}|\d{2})(?!\d))",
    "TITLE": r"(?P<title>\S[^\n]*?)",
    "TAIL": r"(?:[ \t]{2,}|[ \t]+(?=(?:Dnro|Dno|Asianro|Asianumero|Diaarinumero|Ärendenr|[A-ZÅÄÖ]{2,8}Dno|HEL|\d+[/-]\d)))"
            r"(?P<tail>\S[^\n]*?)",
}
_BODY_END = re.compile(r"(hallitus|valtuusto|lautakunta|jaosto|toimikunta|johtokunta|neuvosto|kokous|johtaja|"
                       r"päällikkö|jaos|paj|styrelse|styrelsen|fullmäktige|nämnd|nämnden|sektion|direktion|"
                       r"toimielin|kollegio)$", re.IGNORECASE)
# One-word abbreviations of bodies: "Kh", "KhVi", "KVALT", "Khall.", "Teklk", "AH".
_ABBREVIATION = re.compile(r"^(?:[A-ZÅÄÖ]{1,7}|[A-ZÅÄÖ][a-zåäö]{0,4}(?:[A-ZÅÄÖ][a-zåäö]{0,4}){0,2}\.?|"
                           r"[A-ZÅÄÖ][a-zåäö]{0,9}\.(?:[a-zåäö]{1,6}\.?){0,3})$")
# Capitalised words that start lines but are no body: an inflected noun ("Kuntalain"), a document word.
_NOT_BODY = re.compile(r"^(?:liite|liitteet|osa|sivu|kohta|nro|vuosi|luku|laki|pöytäkirja|esityslista|"
                       r"pykälä|asia|asiat|sida|page|bilaga|ärende|paragraf|[\w\-]*lain|[\w\-]*laki)$", re.IGNORECASE)
_TITLE_BAD_START = re.compile(r"^(?:[-–—][ \t]*\d|mom\b|momentin\b|kohd|:n\b|\d+[ \t]*mom\b|\(\d)", re.IGNORECASE)
_PAGE_REF = re.compile(r"(?:[ \t]*\.{2,}[ \t]*|[ \t]{2,})(\d{1,4})[ \t]*$")
_UPPER_SHARE = 0.8
_MIN_UPPER_TITLE = 6


@dataclass(frozen=True, slots=True)
class Candidate:
    line: int                 # index of the line (extractors.lines)
    start: int                # the line's start offset
    end: int                  # the line's end offset
    form: str                 # the line's shape: sign_num, num_sign, body_date_sign, pykala, ...
    rule_id: str
    section: int
    section_start: int
    section_end: int
    body: str | None = None
    body_start: int = -1
    date: str | None = None
    date_start: int = -1
    title: str | None = None
    title_start: int = -1
    tail: str | None = None
    tail_start: int = -1
    page_ref: int | None = None    # a page number after leaders, as a contents entry has
    weak: bool = False

    @property
    def dated(self) -> bool:
        """A line naming a body and a date: the form of a handling line ("Kh 4.9.2019 § 287")."""
        return self.body is not None and self.date is not None

    def mention(self, text: str) -> Mention:
        return Mention("section", text[self.section_start:self.section_end], str(self.section),
                       self.section_start, self.section_end, self.rule_id)


@built_once
def _forms() -> tuple[tuple[str, str, bool, re.Pattern[str]], ...]:
    out = []
    for entry in load_patterns(NAME):
        source = entry["pattern"]
        for macro, expansion in _MACROS.items():
            source = source.replace(macro, expansion)
        flags = re.IGNORECASE if entry.get("ignore_case") else 0
        out.append((entry["id"], entry["form"], bool(entry.get("weak")), re.compile(source, flags)))
    return tuple(out)


@built_once
def _any_form() -> re.Pattern[str]:
    """All the forms as one regex (their groups unnamed): whether a line can be a candidate at all."""
    parts = []
    for _, _, _, pattern in _forms():
        source = _NAMED_GROUP.sub("(?:", pattern.pattern)
        parts.append(f"(?i:{source})" if pattern.flags & re.IGNORECASE else f"(?:{source})")
    return re.compile("|".join(parts))


_NAMED_GROUP = re.compile(r"\(\?P<\w+>")


def body_like(body: str) -> bool:
    """A body's name or abbreviation ("Kunnanhallitus", "Tekninen lautakunta", "Kh", "KVALT", "Khall.").

    Not an inflected word or a phrase: "Kuntalain 136 §" is a statute, "Asia 12 §" no body."""
    words = body.split()
    if not words or len(words) > 6 or any(ch.isdigit() for ch in body):
        return False
    if len(words) == 1:
        word = words[0]
        if _NOT_BODY.match(word.rstrip(".")):
            return False
        return bool(_ABBREVIATION.match(word)) or bool(_BODY_END.search(word.rstrip(".")))
    return bool(_BODY_END.search(words[-1].rstrip(".,")))


def _one_upper_word(title: str) -> bool:
    word = title.strip()
    return " " not in word and len(word) >= _MIN_UPPER_TITLE and word.isalpha() and word.isupper()


def _title_ok(title: str, form: str, next_line: str = "") -> bool:
    if _TITLE_BAD_START.match(title):
        return False
    first = title.lstrip("\"”«'(")[:1]
    if not first or not (first.isupper() or first.isdigit()):
        return False
    if not any(ch.isalpha() for ch in title):
        return False  # "§ 81 94": a range whose dash was lost, "§ 12 3.3.2025": a reference
    if form == "bare_upper":
        # A title in capitals: two words at least, or one word wrapped onto a next line in capitals.
        letters = [ch for ch in title if ch.isalpha()]
        upper = sum(ch.isupper() for ch in letters)
        if len(letters) < _MIN_UPPER_TITLE or upper < _UPPER_SHARE * len(letters):
            return False
        nxt = [ch for ch in next_line if ch.isalpha()]
        return " " in title.strip() or bool(nxt) and all(ch.isupper() for ch in nxt)
    return True


def _candidate(rule_id: str, form: str, weak: bool, m: re.Match[str], ln_index: int, start: int, end: int,
               next_line: str) -> Candidate | None:
    groups = m.groupdict()
    body = groups.get("body")
    if body is not None and not body_like(body):
        return None
    title = groups.get("title")
    page_ref = None
    title_start = -1
    if title is not None:
        page = _PAGE_REF.search(title)
        if page and page.start() > 0:
            page_ref = int(page.group(1))
            title = title[: page.start()]
        title = title.strip() or None
        if title is not None and not _title_ok(title, form, next_line):
            if form != "bare_upper" or not _one_upper_word(title):
                return None
            weak = True  # "132 ILMOITUSASIAT": an item where the document's range or contents confirm it
        if title is not None:
            title_start = start + m.start("title")
    section = int(groups["section"])
    if section == 0:
        return None
    date = groups.get("date")
    tail = groups.get("tail")
    return Candidate(
        ln_index, start, end, form, rule_id, section, start + m.start("section"), start + m.end("section"),
        body, start + m.start("body") if body is not None else -1,
        date, start + m.start("date") if date is not None else -1,
        title, title_start, tail.strip() if tail else None, start + m.start("tail") if tail else -1,
        page_ref, weak,
    )


_QUICK = re.compile(r"\d")


def find(lines: Lines) -> list[Candidate]:
    """Every candidate line, in text order (one per line: the first form in the file that fits)."""
    out: list[Candidate] = []
    forms = _forms()
    any_form = _any_form()
    for ln in lines.lines:
        s = ln.text
        if len(s) > 300 or not _QUICK.search(s) or any_form.fullmatch(s) is None:
            continue  # no form fits: most lines, told by one regex of them all
        for rule_id, form, weak, pattern in forms:
            m = pattern.fullmatch(s)
            if m is None:
                continue
            nxt = lines[ln.index + 1].text if ln.index + 1 < len(lines) else ""
            found = _candidate(rule_id, form, weak, m, ln.index, ln.start, ln.end, nxt)
            if found is not None:
                out.append(found)
                break
    return out
