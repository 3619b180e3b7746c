"""Vote counts (JAA / EI / TYHJÄ / POISSA) and named voter lists in one handling's blocks.

The Matcher finds count items (patterns/votes.jsonl): "24 JAA-ääntä", "JAA 3", "Jaa-äänet: 5",
"Jaa 8 kpl", "Ja-röster: 25", "1 tyhjä", "poissa 0" and the bare pair "äänin 8-5". Items
that follow each other inside one sentence (name lists and parentheses may sit between them)
and state different counts form one statement, reported as one Mention whose value is JSON
{"yes", "no", "blank", "absent"} (null = not stated). A statement needs a yes or a no count,
so "jäsen, poissa 45 §" on an attendance list is never a vote.

"äänin X-Y" is read in written order, yes first. It is also often majority first ("on äänin
4-3 päättänyt palauttaa" where JAA got 3), so `votes_for` prefers an explicit JAA/EI statement.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass

from spacy.matcher import Matcher
from spacy.tokens import Doc, Span

from extractors.base import Mention, as_span, built_once, by_id, per_span, regexes, token_matcher
from extractors.nlp import doc_text, get_nlp, span_text

NAME = "votes"
KIND = "votes"
ROLES = ("yes", "no", "blank", "absent")
_MAX_GAP = 1500
_NAME_WORD = re.compile(r"^[A-ZÅÄÖÜ][\w'’]*(?:-[A-ZÅÄÖÜ][\w'’]*)*\.?$")


@dataclass(frozen=True)
class _Item:
    rule_id: str
    roles: tuple[str, ...]
    counts: tuple[int, ...]
    start: int
    end: int


@built_once
def _matcher() -> Matcher:
    return token_matcher(get_nlp(), NAME)


@built_once
def _rx() -> dict[str, re.Pattern[str]]:
    return {pid: rx for pid, rx, _ in regexes(NAME)}


@per_span
def _items(span: Span) -> list[_Item]:
    """Count items, left to right, overlaps dropped (the earlier, then the longer, wins)."""
    entries = by_id(NAME)
    numbers = _rx()["votes.numbers"]
    raw = sorted(_matcher()(span, as_spans=True), key=lambda s: (s.start, -s.end))
    out: list[_Item] = []
    last_end = -1
    for m in raw:
        if m.start < last_end:
            continue
        entry = entries[m.label_]
        roles = tuple(entry["roles"])
        counts = tuple(int(n) for n in numbers.findall(m.text))[: len(roles)]
        if len(counts) != len(roles):
            continue
        out.append(_Item(m.label_, roles, counts, m.start_char, m.end_char))
        last_end = m.end
    return out


def _joins(group: list[_Item], item: _Item, text: str, base: int) -> bool:
    if not group:
        return True
    taken = {r for it in group for r in it.roles}
    if taken & set(item.roles):
        return False
    gap = text[group[-1].end - base : item.start - base]
    return len(gap) <= _MAX_GAP and not _rx()["votes.sentence_break"].search(gap)


def _statements(span: Span) -> list[list[_Item]]:
    text, base = span_text(span), span.start_char
    groups: list[list[_Item]] = []
    for item in _items(span):
        if groups and _joins(groups[-1], item, text, base):
            groups[-1].append(item)
        else:
            groups.append([item])
    return [g for g in groups if any(r in ("yes", "no") for it in g for r in it.roles)]


def _value(group: list[_Item]) -> dict[str, int | None]:
    counts: dict[str, int | None] = dict.fromkeys(ROLES)
    for it in group:
        for role, n in zip(it.roles, it.counts):
            counts[role] = n
    return counts


def _mention(group: list[_Item], span: Span) -> Mention:
    start, end = group[0].start, group[-1].end
    lead = next((it for it in group if "yes" in it.roles), group[0])
    text = doc_text(span.doc)[start:end]
    return Mention(KIND, text, json.dumps(_value(group)), start, end, lead.rule_id)


def find(span: Doc | Span | None) -> list[Mention]:
    """One Mention per vote statement; value is JSON {"yes","no","blank","absent"}."""
    span = as_span(span)
    if span is None or not _may_hold_a_vote(span):
        return []
    return [_mention(g, span) for g in _statements(span)]


def is_explicit(mention: Mention) -> bool:
    """True where the yes/no counts come from JAA/EI labels, not from a bare "äänin X-Y"."""
    return mention.kind == KIND and not mention.rule_id.startswith("votes.aanin")


def _completeness(counts: dict[str, int | None]) -> int:
    return sum(v is not None for v in counts.values())


_ROLE_OF = {"jaa": "yes", "ei": "no", "tyhjä": "blank", "poissa": "absent", "ja": "yes", "nej": "no",
            "blanka": "blank", "frånvarande": "absent"}
_ROLE_LINE = re.compile(r"^[ \t•*\-–]*(JAA|EI|TYHJÄ|POISSA|Jaa|Ei|Tyhjä|Poissa|Ja|Nej|Blanka|Frånvarande)"
                        r"[ \t]*:[ \t]*([^\n]*)$", re.MULTILINE)
_CONTINUES = re.compile(r"[ \t]*\n[ \t]*([^\n]+)")


def _listed(text: str) -> list[tuple[str, str, int, int]]:
    """(role, the names' text, start, end) of each named list: "Jaa: A, B, C," and the lines that
    carry the list on ("D, E"), as far as they read as names."""
    out = []
    for m in _ROLE_LINE.finditer(text):
        body, end = m.group(2).rstrip(), m.end()
        while True:
            nxt = _CONTINUES.match(text, end)
            if nxt is None or _ROLE_LINE.match(text, nxt.start(1)) or text.count("\n", end, nxt.start(1)) > 1:
                break
            longer = body + " " + nxt.group(1).strip()
            if not _names(longer.rstrip(",").removesuffix(" ja"), 0, "", "", None):
                break  # the list has ended: "Puheenjohtaja totesi, että …"
            body, end = longer, nxt.end()
        out.append((_ROLE_OF[m.group(1).lower()], body.rstrip(", "), m.start(2), end))
    return out


def named_counts(span: Doc | Span | None) -> tuple[dict[str, int | None] | None, Mention | None]:
    """Counts from named lists where no number is stated: a list counts its names; a side that is not
    listed stays null (never inferred from attendance)."""
    span = as_span(span)
    if span is None or not span_text(span).strip():
        return None, None
    text, base = span_text(span), span.start_char
    counts: dict[str, int | None] = dict.fromkeys(ROLES)
    first, last = None, None
    for role, body, start, end in _listed(text):
        names = _names(body, 0, role, "votes.named_list", None)
        if not names or counts[role] is not None:
            continue
        counts[role] = len(names)
        first = start if first is None else first
        last = end
    if counts["yes"] is None and counts["no"] is None or first is None:
        return None, None
    return counts, Mention(KIND, text[first:last], json.dumps(counts), base + first, base + last, "votes.named_list")


# Every count statement names a side ("JAA 3", "Ei: 4", "äänin 6–3", "24 JAA-ääntä", "Ja-röster: 25",
# "Nej 3"): a text without any of these words holds no vote, and the matchers need not read it. Plain
# substring tests (a false alarm only costs the matcher's reading): a regex over a handling is slower.
_SIDE_WORDS = ("jaa", "äänin", "ääntä", "ääniä", "äänet", "röster", "nej", "blanka")
_EI_LINE = re.compile(r"(?m)^[ \t]*Ei\b")


def _may_hold_a_vote(span: Span) -> bool:
    """Whether the span may name a side of a vote (a cheap test before the matchers)."""
    part = span_text(span)
    low = part.lower()
    return any(w in low for w in _SIDE_WORDS) or "EI" in part or _EI_LINE.search(part) is not None


def votes_for(span: Doc | Span | None) -> tuple[dict[str, int | None] | None, Mention | None]:
    """The one count for a handling.

    Explicit JAA/EI statements beat a bare "äänin X-Y". Where several distinct votes were taken
    the last one is kept (it is the one that decided the item). Other statements of that vote
    only fill counts the chosen one leaves open (a bare pair may be in either order); nothing
    is summed.
    """
    span = as_span(span)
    if span is None or not _may_hold_a_vote(span):  # named lists too name a side ("JAA: …")
        return None, None
    mentions = [_mention(g, span) for g in _statements(span)]
    if not mentions:
        return named_counts(span)
    explicit = [m for m in mentions if is_explicit(m)] or mentions
    last = json.loads(explicit[-1].value)
    pair = (last["yes"], last["no"])
    key = set(pair)
    same = [m for m in explicit if (json.loads(m.value)["yes"], json.loads(m.value)["no"]) == pair]
    best = max(same, key=lambda m: _completeness(json.loads(m.value)))
    counts = json.loads(best.value)
    for m in mentions:
        other = json.loads(m.value)
        if {other["yes"], other["no"]} == key:
            for role in ("blank", "absent"):
                if counts[role] is None and other[role] is not None:
                    counts[role] = other[role]
    return counts, best


def _names(text: str, offset: int, role: str, rule_id: str, expected: int | None) -> list[tuple[str, str, Mention]]:
    """Split a comma / "ja" list of names; every piece must look like a name, or none is taken."""
    pieces: list[tuple[str, str, int]] = []
    for m in re.finditer(r"[^,]+", text):
        for part in re.finditer(r"(?:(?!\s(?:ja|sekä)\s).)+", m.group(0), re.DOTALL):
            raw = part.group(0)
            name = " ".join(raw.split())
            if not name:
                continue
            words = name.split()
            if not 1 <= len(words) <= 4 or not all(_NAME_WORD.match(w) for w in words):
                return []
            lead = len(raw) - len(raw.lstrip())
            pieces.append((name, raw.strip(), offset + m.start() + part.start() + lead))
    if not pieces or (expected is not None and expected != len(pieces)):
        return []
    return [(n, role, Mention("voter", raw, role, s, s + len(raw), rule_id)) for n, raw, s in pieces]


def named_votes(span: Doc | Span | None) -> list[tuple[str, str, Mention]]:
    """(voter name, "yes"/"no"/"blank"/"absent", mention) from named lists beside the counts."""
    span = as_span(span)
    if span is None or not span_text(span).strip():
        return []
    text, base = span_text(span), span.start_char
    out: list[tuple[str, str, Mention]] = []
    for group in _statements(span):
        for it in group:
            if it.rule_id.startswith("votes.aanin"):
                continue
            role, count = it.roles[0], it.counts[0]
            if count == 0:
                continue
            rest = text[it.end - base :]
            paren = re.match(r"\s*\(([^()]*)\)", rest)
            if paren:
                out += _names(paren.group(1), it.end + paren.start(1), role, it.rule_id, None)
                continue
            line = re.match(r"[ \t]*\n(?:[ \t]*\n)*[ \t]*([^\n]*)", rest)
            if line:
                body = re.sub(r"^[ \t•*\-–]+", "", line.group(1))
                lead = len(line.group(1)) - len(body)
                out += _names(body.rstrip(), it.end + line.start(1) + lead, role, it.rule_id, count)
    for role, body, start, _ in _listed(text):
        out += _names(body, base + start, role, "votes.named_list", None)
    seen: set[tuple[str, int]] = set()
    unique = []
    for name, role, mention in out:
        if (name, mention.start) not in seen:
            seen.add((name, mention.start))
            unique.append((name, role, mention))
    return unique
