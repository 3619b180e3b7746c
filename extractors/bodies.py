"""Deciding bodies (toimielin) and the organisation (kunta, kaupunki, hyvinvointialue).

History lines often abbreviate the body ("Kh", "Kv", "KhVi"): the full name is the body named
elsewhere in the same document whose letters the abbreviation follows ("Kh" → "Kunnanhallitus"
where the text says Kunnanhallitus, "Kaupunginhallitus" where it says that).
"""
from __future__ import annotations

import re
from collections import Counter
from functools import cache, lru_cache

from extractors.base import Mention, by_id, load_patterns

NAME = "bodies"


@cache
def _re(key: str) -> re.Pattern[str]:
    entry = by_id(NAME)[f"bodies.{key}"]
    return re.compile(entry["pattern"], re.IGNORECASE if entry.get("ignore_case") else 0)


def is_body(name: str) -> bool:
    return bool(_re("body_suffix").fullmatch(name.strip()) or _re("abbreviation").fullmatch(name.strip()))


def body_names(text: str) -> Counter[str]:
    """Full body names in the text, counted, in nominative where they stand so."""
    return Counter(_body_names(text))


@lru_cache(maxsize=4)  # segmentation and row assembly both ask, for the same text
def _body_names(text: str) -> Counter[str]:
    found: Counter[str] = Counter()
    for m in _re("body_suffix").finditer(text):
        end = m.end()
        if end < len(text) and text[end].isalpha():
            continue  # inflected ("Kunnanhallitukselle")
        found[m.group(0)] += 1
    return found


def first_body(text: str) -> tuple[str, int, int] | None:
    """The first body named in nominative, any case ("KUNNANVALTUUSTO" → "Kunnanvaltuusto")."""
    pattern = re.compile(_re("body_suffix").pattern, re.IGNORECASE)
    for m in pattern.finditer(text):
        if m.end() < len(text) and text[m.end()].isalpha():
            continue
        name = m.group(0)
        return (name.capitalize() if name.isupper() else name), m.start(), m.end()
    return None


@cache
def _sv_names() -> tuple[tuple[re.Pattern[str], str, str], ...]:
    return tuple((re.compile(e["pattern"], re.IGNORECASE), e["value"], e["id"]) for e in load_patterns(NAME)
                 if e.get("label") == "sv_name")


@cache
def name_pattern() -> re.Pattern[str]:
    """A body's name in nominative, any case, Finnish or Swedish: the letterhead's body."""
    sv = "|".join(e["pattern"] for e in load_patterns(NAME) if e.get("label") == "sv_name")
    return re.compile(r"(?<![\w-])(?:" + _re("body_suffix").pattern + "|" + sv + r")", re.IGNORECASE)


def finnish_name(name: str) -> str | None:
    """The Finnish name of a body printed in Swedish ("Stadsfullmäktige" → "Kaupunginvaltuusto")."""
    s = name.strip().rstrip(".")
    for rx, value, _ in _sv_names():
        if rx.fullmatch(s):
            return value
    return None


def abbreviates(abbr: str, full: str) -> bool:
    """Whether `abbr` is a short form of `full` ("Kh", "KVALT", "Tekn.ltk." of their bodies)."""
    a = abbr.replace(".", "").replace(" ", "")
    return 1 < len(a) <= 10 and len(a) < len(full) and _follows(a, full.replace(" ", ""))


def _follows(abbr: str, full: str) -> bool:
    a, f = abbr.lower(), full.lower()
    if not f.startswith(a[0]):
        return False
    pos = 1
    for ch in a[1:]:
        pos = f.find(ch, pos)
        if pos < 0:
            return False
        pos += 1
    return True


def expand(name: str, known: Counter[str]) -> str:
    """The full body name for an abbreviation, if the document names exactly one that fits."""
    if len(name) > 10 or _re("body_suffix").fullmatch(name):
        return name
    fits = [full for full in known if abbreviates(name, full)]
    if not fits:
        return name
    return max(fits, key=lambda f: (known[f], -len(f)))


def _tidy_org(word: str, kind: str) -> str:
    parts = word.lower().split("-")
    return "-".join(p.capitalize() for p in parts) + " " + kind.lower()


def organization(text: str, head_chars: int = 3000) -> tuple[str | None, Mention | None]:
    """The organisation named first in the document's head (its letterhead)."""
    head = text[:head_chars]
    best: tuple[int, str, Mention] | None = None
    for key in ("organization_caps", "organization", "organization_sv"):
        m = _re(key).search(head)
        if m and (best is None or m.start() < best[0]):
            value = _tidy_org(m.group(1), m.group(2))
            best = (m.start(), value, Mention("organization", m.group(0), value, m.start(), m.end(), f"bodies.{key}"))
    if best is None:
        return None, None
    return best[1], best[2]
