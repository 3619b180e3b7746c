"""Names of people from person lines: preparers (valmistelija), presenters (esittelijä), contacts.

Person lines come as "Tonttipäällikkö Hannu Leinonen, puh. 040 ...", Dynasty's surname-first
"Korhonen Tiina, suun terveydenhuollon johtaja, puh. ...", Ahjo's title and name on two lines
("pormestari" / "Heikki Lahdenperä"), or a title or body alone ("Kaupunginjohtaja:",
"kunnanhallitus"). A name is a run of two to four capitalised words that are not titles; names
are kept as written (Dynasty's order stays).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from extractors.base import Mention, built_once, by_id

NAME = "people"
_WORD = re.compile(r"[A-ZÅÄÖÜa-zåäöüé][\w\-'’]*\.?")
_CAP = re.compile(r"^[A-ZÅÄÖÜ][a-zåäöüéA-ZÅÄÖÜ'’]*(?:-[A-ZÅÄÖÜ][a-zåäöüé'’]+)*$")
_CUT = re.compile(r",|;|\(|\s(?:puh|p|puhelin|tel|gsm)\b\.?|\s\S+@\S+|\s\S+\(a\)\S+|\s\S+\(at\)\S+|\s\d")
_BULLET = re.compile(r"^[\s•\-–*·]+")
_SPLIT_AND = re.compile(r"\s+(?:ja|sekä|och)\s+")
PERSONISH = re.compile(r"\b(?:puh|p|puhelin|tel)\b\.?|@|\(a\)|\(at\)")


@dataclass(frozen=True)
class Person:
    name: str
    start: int
    end: int


@built_once
def _word_res() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    e = by_id(NAME)
    return tuple(re.compile(e[k]["pattern"] + r"$", re.IGNORECASE) for k in
                 ("people.title_suffix", "people.role_word", "people.not_a_name"))  # type: ignore[return-value]


def is_title(word: str) -> bool:
    title, role, _ = _word_res()
    w = word.rstrip(".:").lower()
    return bool(title.match(w) or role.match(w))


def is_name_word(word: str) -> bool:
    """A capitalised word that is no title or common noun; a word in capitals is a heading's, not a name's."""
    _, _, not_name = _word_res()
    return (bool(_CAP.match(word)) and any(ch.islower() for ch in word) and not is_title(word)
            and not not_name.match(word.lower()))


def names_in_line(line: str, offset: int = 0) -> list[Person]:
    """Names in one person line (a line may hold "A ja B")."""
    chunk = _BULLET.sub("", line)
    base = offset + (len(line) - len(chunk))
    out: list[Person] = []
    pos = 0
    # Each person's part is cut at its own contact details: "insinööri A B, puh. 040 … ja insinööri C D, puh. …"
    for part in _SPLIT_AND.split(chunk):
        at = chunk.find(part, pos)
        pos = at + len(part)
        cut = _CUT.search(part)
        part = part[: cut.start()] if cut else part
        words = list(_WORD.finditer(part))
        run: list[re.Match[str]] = []
        best: list[re.Match[str]] = []
        for w in words:
            if is_name_word(w.group(0)):
                run.append(w)
            else:
                if len(run) >= 2:
                    best = run
                run = []
        if len(run) >= 2:
            best = run
        if 2 <= len(best) <= 4:
            s, e = best[0].start(), best[-1].end()
            out.append(Person(part[s:e], base + at + s, base + at + e))
    return out


def looks_like_person_line(line: str) -> bool:
    """A short line naming a person or a role, as opposed to running text."""
    s = _BULLET.sub("", line).strip()
    if not s or len(s.split()) > 14 * (1 + len(_SPLIT_AND.findall(s))):  # 14 words a person
        return False
    if PERSONISH.search(s):
        return True
    core = s.rstrip(":").strip()
    words = core.split()
    if core.endswith(".") or len(words) > 6:
        return False
    if names_in_line(core):
        return _CAP.match(words[-1].rstrip(",")) is not None
    return len(words) <= 2 and (s.endswith(":") or all(is_title(w) or not is_name_word(w) for w in words) and len(words) == 1)


_BODY_WORD = re.compile(r"(?:hallitus|valtuusto|lautakunta|jaosto|toimikunta|johtokunta)$", re.IGNORECASE)
_CONNECTORS = frozenset({"ja", "sekä", "vt.", "va.", "ma.", "vs.", "och", "esittelijä", "esittelijänä"})


def is_presenter_line(line: str) -> bool:
    """Only names and titles, as a proposal heading carries its presenter ("Päätösehdotus
    Hyvinvointialuejohtaja Svahn Sanna", "Ehdotus (kunnanjohtaja)"); a sentence ("Kunnanhallitus
    päättää myöntää Kankaan Eläkeläisyhdistys …") is the proposal itself."""
    s = _BULLET.sub("", line).strip().strip("()").rstrip(":").strip()
    cut = _CUT.search(s)
    words = (s[: cut.start()] if cut else s).replace(",", " ").split()
    if not words or len(words) > 6:
        return False
    named = [w for w in words if is_name_word(w) or is_title(w) or _BODY_WORD.search(w)]
    return len(named) == len([w for w in words if w.lower() not in _CONNECTORS]) and bool(named)


def role_of(line: str) -> str | None:
    """A title or body standing alone ("Kaupunginjohtaja:", "kunnanhallitus") as written."""
    s = _BULLET.sub("", line).strip().rstrip(":").strip()
    if not s or len(s.split()) > 4 or s.endswith(".") or any(ch.isdigit() for ch in s):
        return None
    return s


def _cut_mid_name(line: str, nxt: str) -> bool:
    """Whether a person's name runs over the line break: the line's last person has no name yet
    ("… ja talousjohtaja Anu") and the next line goes on with one ("Huttunen, puh. 050 …")."""
    last = _SPLIT_AND.split(line)[-1].strip()
    if not last or _CUT.search(last) or names_in_line(last):
        return False
    words = nxt.strip().replace(",", " ").split()
    return bool(words) and is_name_word(words[0]) and is_name_word(last.split()[-1])


def people(text: str, offset: int, kind: str, rule_id: str) -> tuple[list[Person], list[Mention]]:
    """Every name in a person block, with mentions for provenance."""
    found: list[Person] = []
    pos = 0
    lines = text.split("\n")
    k = 0
    while k < len(lines):
        line = lines[k]
        if k + 1 < len(lines) and _cut_mid_name(line, lines[k + 1]):
            line = line + " " + lines[k + 1]  # "… ja talousjohtaja Anu" / "Huttunen, puh. …": one person line
            k += 1
        for p in names_in_line(line, offset + pos):
            if p.name not in {f.name for f in found}:
                found.append(p)
        pos += len(line) + 1
        k += 1
    # the mention's text as it stands (a name wrapped over a line break keeps its break), the value as read
    return found, [Mention(kind, text[p.start - offset:p.end - offset], p.name, p.start, p.end, rule_id) for p in found]


_GENITIVE = ((re.compile(r"uksen$"), "us"), (re.compile(r"isen$"), "inen"), (re.compile(r"kunnan$"), "kunta"),
             (re.compile(r"nnan$"), "nta"),
             (re.compile(r"jän$"), "jä"), (re.compile(r"([aä])n$"), r"\1"))


def nominative(genitive: str) -> str:
    """'Kaupunginhallituksen' → 'Kaupunginhallitus', 'Puheenjohtajan' → 'Puheenjohtaja'."""
    for pattern, repl in _GENITIVE:
        if pattern.search(genitive):
            return pattern.sub(repl, genitive)
    return genitive
