"""The text fields of one handling: proposal, decision, presenter, preparers, and where it ends.

Each function returns the value with the Mention that supports it, so that assemble can write
both the cell and its provenance.
"""
from __future__ import annotations

import re

from extractors import headings, people, prose
from extractors.base import Mention, by_id
from extractors.items import FRAME_LABELS, Handling, Item, Section

_PROPOSAL_LABELS = ("proposal", "proposal_revised")
# A presenter's change announced in Käsittely, the changed proposal after the colon: "Kunnanjohtaja muutti
# päätösehdotustaan seuraavasti:", "Pormestari täydensi päätösehdotusta. Muutettu päätösehdotus kuuluu
# seuraavasti:", "Esittelijä korjasi ehdotustaan:". By stem: muutt-, täydens-, korja-, tarkens-, tarkist-;
# the sentence may go on after a blank line (a forced break), in lower case.
_REVISED = re.compile(
    r"\b(?:muutt|muutet|täydens|täydennet|korjas|korjat|tarkens|tarkennet|tarkist)\w*[ \t]+"
    r"(?:[\w\-]+[ \t]+){0,3}?(?:päätös|pohja)?(?:ehdotu|esity)\w*\b(?:[^:\n]|\n(?![ \t]*\n)|\n[ \t]*\n(?=[ \t]*[a-zåäö])){0,160}?:[ \t]*\n"
    r"|muutetun ehdotuksen mukaan:[ \t]*\n", re.IGNORECASE)
_EVENT = re.compile(r"\b(poistui|saapui|totesi|ehdotti|kannatt|keskustelun|äänest|esitteli|puheenjohtaja|hyväksyi)", re.IGNORECASE)


def clean(text: str) -> str | None:
    """Section text as a field: trimmed, blank lines kept as paragraph breaks, chrome lines gone."""
    lines = [ln.rstrip() for ln in text.strip().split("\n")]
    out = "\n".join(ln for ln in lines if not re.fullmatch(r"[\s\-–_]{3,}", ln))
    out = re.sub(r"\n\s*\n(\s*\n)+", "\n\n", out).strip()
    return out or None


def span_mention(kind: str, text: str, start: int, end: int, rule_id: str) -> Mention:
    return Mention(kind, text[start:end], None, start, end, rule_id)


def _text_of(text: str, section: Section) -> tuple[str, int, int]:
    return text[section.start:section.end], section.start, section.end


def proposal(text: str, handling: Handling, narrative: bool = False, flat: bool = False
             ) -> tuple[str | None, Mention | None, str | None, Mention | None]:
    """The proposal text and, where the heading or first line names one, the presenter.

    `narrative`: the document writes its description without a heading, so a story paragraph after
    the proposal ends it (extractors/prose.py)."""
    sections = handling.of(*_PROPOSAL_LABELS)
    if not sections:
        return None, None, None, None
    sec = sections[-1]
    body, start, end = _text_of(text, sec)
    presenter, p_mention = None, None
    head = sec.heading
    if head.remainder and people.is_presenter_line(head.remainder):
        presenter, p_mention = _person_or_role(text, head.remainder_start, head.line_end, head.rule_id)
        start = head.line_end
        body = text[start:end]
    else:
        first = re.match(r"\s*([^\n]+)\n", body)
        if first and first.group(1).rstrip().endswith(":") and people.looks_like_person_line(first.group(1)):
            s = start + first.start(1)
            presenter, p_mention = _person_or_role(text, s, s + len(first.group(1)), head.rule_id)
            start += first.end()
            body = text[start:end]
    if presenter is None:
        # "Kaupunginhallituksen ehdotus:", "Teknisen johtajan ehdotus:": the proposer, in nominative.
        words = text[head.start:head.end].rstrip(":").split()
        if len(words) >= 2 and words[-1].lower().endswith("ehdotus") and words[0].lower() not in ("päätös", "esitys"):
            owner = " ".join(words[:-1])
            if owner.isupper():  # "KUNNANJOHTAJAN EHDOTUS": the role as written in running text, "Kunnanjohtaja"
                words = [w.lower() for w in words]
            presenter = " ".join(people.nominative(w) for w in words[:-1])
            presenter = presenter[:1].upper() + presenter[1:]
            p_mention = Mention("presenter", owner, presenter, head.start, head.start + len(owner), head.rule_id)
    # CloudNC: "Ehdotus" / "Esittelijä • X" / proposal text: the text went to the presenter section.
    if not (clean(body) or "").strip():
        nxt = [s for s in handling.sections if s.start > sec.start and s.label == "presenter"]
        if nxt:
            rest = _after_person_lines(text, nxt[0])
            if rest:
                start, end = rest
                body = text[start:end]
    if body.strip():
        end = prose.own_text_end(text, start + len(body) - len(body.lstrip()), end, deciding=False,
                                 narrative=narrative, flat=flat, told=_told_before(text, handling, sec))
        body = text[start:end]
    cleaned = clean(body)
    if cleaned is None:
        return None, None, presenter, p_mention
    return cleaned, span_mention("proposal", text, start, end, head.rule_id), presenter, p_mention


_STORY_UNDER = frozenset({"preparer", "contact", "presenter", "description", "history"})


def _told_before(text: str, handling: Handling, sec: Section) -> bool:
    """Whether the handling tells its story (a paragraph of sentences) before the proposal's heading:
    before its first heading or under a person's heading ("Valmistelija …" / the story), not in a
    decision or a Käsittely that an agenda-order document prints before its proposal."""
    before = [x for x in handling.sections if x.heading.start < sec.heading.start]
    regions = [(handling.start, before[0].heading.start if before else sec.heading.start)]
    regions += [(x.start, x.end) for x in before if x.label in _STORY_UNDER]
    for para in (p for a, b in regions for p in re.split(r"\n[ \t]*\n", text[a:b])):
        s = " ".join(para.split())
        if _is_sentence(s) and not people.looks_like_person_line(s) and not people.PERSONISH.search(s):
            return True
    return False


def _after_person_lines(text: str, section: Section) -> tuple[int, int] | None:
    """Where the text after a presenter's person lines starts (CloudNC puts the proposal there)."""
    pos = section.start
    for line in re.finditer(r"[^\n]*\n?", text[section.start:section.end]):
        s = line.group(0).strip()
        if s and not people.looks_like_person_line(s):
            return section.start + line.start(), section.end
        pos = section.start + line.end()
    return None if pos >= section.end else (pos, section.end)


def _person_or_role(text: str, start: int, end: int, rule_id: str) -> tuple[str | None, Mention | None]:
    found, mentions = people.people(text[start:end], start, "presenter", rule_id)
    if found:
        return found[0].name, mentions[0]
    for line in re.finditer(r"[^\n]+", text[start:end]):
        role = people.role_of(line.group(0))
        if role:
            s = start + line.start() + (len(line.group(0)) - len(line.group(0).lstrip(" •\t")))
            return role, Mention("presenter", text[s:s + len(role)], role, s, s + len(role), rule_id)
    return None, None


def presenter(text: str, handling: Handling) -> tuple[str | None, Mention | None]:
    for sec in handling.of("presenter"):
        head = sec.heading
        start = head.remainder_start if head.remainder else sec.start
        end = sec.end
        name, mention = _person_or_role(text, start, end, head.rule_id)
        if name:
            return name, mention
    return None, None


def _is_sentence(line: str) -> bool:
    return len(line.split()) > 6 and line.rstrip().endswith((".", "!", "?", ":"))


def preparers(text: str, handling: Handling, item: Item) -> tuple[list[str], list[Mention]]:
    for labels in (("preparer",), ("contact",)):
        names: list[str] = []
        mentions: list[Mention] = []
        for sec in handling.of(*labels):
            head = sec.heading
            if by_id("headings").get(head.rule_id, {}).get("person_in_heading"):
                found, ms = people.people(text[head.start:head.end], head.start, "preparer", head.rule_id)
                names += [p.name for p in found if p.name not in names]
                mentions += ms
                continue
            start = head.remainder_start if head.remainder else sec.start
            stop = start
            gap = False
            for line in re.finditer(r"[^\n]*\n?", text[start:sec.end]):
                s = line.group(0).strip()
                if not s:
                    gap = stop > start
                    continue
                if gap and not people.PERSONISH.search(s):
                    break  # after a blank line only another contact line ("…, puh. 044 …") goes on the list
                if not people.looks_like_person_line(s) and (not people.names_in_line(s) or _is_sentence(s)):
                    break  # "Konepaja Halme Oy hakee lupaa …": the description, its first line under the preparer's
                stop = start + line.end()
            found, ms = people.people(text[start:stop], start, "preparer", head.rule_id)
            names += [p.name for p in found if p.name not in names]
            mentions += ms
        if names:
            return names, mentions
    return [], []


def revised_proposal(text: str, processing: list[Section]) -> tuple[str | None, Mention | None]:
    """A presenter's changed proposal, written out in the Käsittely section."""
    for sec in processing:
        chunk = text[sec.start:sec.end]
        m = _REVISED.search(chunk)
        if not m:
            continue
        start = sec.start + m.end()
        paragraphs = re.split(r"(\n\s*\n)", text[start:sec.end])
        end = start
        for k in range(0, len(paragraphs), 2):
            para = paragraphs[k]
            if para.strip() and _EVENT.search(para) and k > 0:
                break
            end += len(para) + (len(paragraphs[k + 1]) if k + 1 < len(paragraphs) else 0)
        value = clean(text[start:end])
        if value:
            return value, span_mention("proposal", text, start, end, "assemble.revised_proposal")
    return None, None


def decision_text(text: str, handling: Handling, narrative: bool = False, flat: bool = False,
                  org: str | None = None) -> tuple[str | None, Mention | None, Section | None]:
    """The text under Päätös, without an officer's signature or, where descriptions have no heading,
    the story that follows the decision."""
    secs = handling.of("decision")
    if not secs:
        return _decision_sentence(text, handling, flat)
    sec = secs[-1]
    start, end = sec.start, sec.end
    lead = len(text[start:end]) - len(text[start:end].lstrip())
    if lead < end - start:
        end = prose.signed_end(text, start + lead, end, org)
        end = prose.own_text_end(text, start + lead, end, deciding=True, narrative=narrative, flat=flat, org=org)
    value = clean(text[start:end])
    if value is None:
        return None, None, sec
    return value, span_mention("decision", text, start, end, sec.heading.rule_id), sec


def _decision_sentence(text: str, handling: Handling, flat: bool) -> tuple[str | None, Mention | None, Section | None]:
    """A decision stated without a heading, after the proposal ("Kaupunginhallituksen ehdotus: …" /
    "Kaupunginhallitus päätti hyväksyä ehdotuksen."): the first paragraph after the proposal's own
    text that decides (a past-tense decision verb, "Hyväksyttiin.", "Merkittiin tiedoksi.")."""
    props = handling.of(*_PROPOSAL_LABELS)
    if not props:
        return None, None, None
    sec = props[-1]
    lead = len(text[sec.start:sec.end]) - len(text[sec.start:sec.end].lstrip())
    if lead >= sec.end - sec.start:
        return None, None, None
    own_end = prose.own_text_end(text, sec.start + lead, sec.end, deciding=False, narrative=True, flat=flat)
    after = [s for s in handling.sections if s.start >= sec.end and s.label in ("other", "description")]
    for start, end in [(own_end, sec.end)] + [(s.start, s.end) for s in after]:
        found = prose.deciding_paragraph(text, start, end, flat)
        if found is not None:
            a, b = found
            value = clean(text[a:b])
            if value:
                return value, span_mention("decision", text, a, b, "fields.decision_sentence"), \
                    Section(sec.heading, a, b)
    return None, None, None


def content_end(text: str, handling: Handling) -> int:
    """Where the handling's own text ends: closing pages after the last item (appeal instructions
    for the whole minutes, "Otteen oikeaksi todistaa") are not part of it."""
    decided = [k for k, sec in enumerate(handling.sections) if sec.label in ("decision", "proposal", "proposal_revised")]
    after = handling.sections[decided[-1] + 1:] if decided else []
    return next((sec.heading.start for sec in after if headings.is_closing(text, sec.heading)), handling.end)


def first_substantive(handling: Handling) -> int:
    """Where the item's own sections begin ("Lataa", "Tausta" and the like do not count)."""
    return next((s.heading.start for s in handling.sections if s.label not in FRAME_LABELS), handling.end)
