"""What became of the proposal in one handling of an item (a §), and whether it was unanimous.

The segmenter hands over the Päätös block (`decision`) and the Käsittely / Kokouskäsittely /
Äänestykset blocks (`processing`). `find` reports every outcome cue (patterns/outcomes.jsonl);
`classify` turns the cues into one outcome code with this precedence, first rule that fires wins:

 1. no decision text                                  -> UNKNOWN   (outcomes.no_decision)
 2. REMOVED cue in the decision                        -> REMOVED   (poistettiin esityslistalta)
 3. TABLED cue in the decision                         -> TABLED    (pöydälle)
 4. RETURNED cue in the decision                       -> RETURNED  (also after a vote: dev08)
 5. REJECTED cue in the decision                       -> REJECTED  (hylkäsi päätösehdotuksen only;
                                                          "päätti hylätä oikaisuvaatimuksen" is PASSED)
 6. ELECTION cue in the decision                       -> ELECTION  (valittiin, valitsi, nimesi, vaali)
 7. NOTED cue before any PASSED cue in the decision,
    with no modification/revision cue there           -> NOTED     (merkittiin tiedoksi, todettiin)
 8. PASSED_MODIFIED cue in the decision, COUNTER_WON in
    either block, or (with a proposal, and no text
    saying the proposal itself won: PROPOSAL_WON) an
    explicit JAA/EI count the EI side won              -> PASSED_MODIFIED
 9. REVISED cue in either block                        -> PASSED_REVISED (the presenter changed it)
10. a vote: VOTE cue in either block or votes_found   -> PASSED_VOTED
11. otherwise                                          -> PASSED    (deciding mention: the PASSED cue)

Rule ids are pattern ids (outcomes.<cue>) except five that belong to the code above:
outcomes.no_decision, outcomes.vote_no_majority, outcomes.votes_found, outcomes.default_passed
(decision text with no cue) and outcomes.default_passed_no_proposal (the same without a
proposal, e.g. an officer decision).

Decision-type cues (2-7) are read from the decision only: Käsittely is full of motions that
lost ("ehdotti, että asia palautetaan"), so a return motion there must not make the item RETURNED.
Old Word-era minutes write the whole handling under PÄÄTÖS, so a cue inside a motion clause
("X ehdotti Y:n kannattamana, että asia jätetään pöydälle") is not a decision either: decision-type
cues in the same sentence after a motion verb and "että" are skipped.
"""
from __future__ import annotations

import json
import re

from spacy.matcher import Matcher
from spacy.tokens import Doc, Span

from extractors import votes as votes_mod
from extractors.base import Mention, as_span, built_once, by_id, per_span, token_matcher
from extractors.nlp import get_nlp, span_text

NAME = "outcomes"
KIND = "outcome_phrase"
_DECISION_CLASSES = ("REMOVED", "TABLED", "RETURNED", "REJECTED", "ELECTION")
# A motion: "ehdotti ... että <cue>" within one sentence before the cue.
_MOTION = re.compile(r"\b(?:ehdotti|ehdottivat|esitti|esittivät|vaati|vaativat|teki\s+\S*ehdotuksen|"
                     r"ehdotuksen|ehdotus|kannattamana|muutoksella|lisäyksellä|täydennyksellä|muutoksin|lisäyksin)\b"
                     r"[^.!?]*\b(?:että|jotta)\b[^.!?]*$", re.IGNORECASE)
_SENTENCE_START = re.compile(r"[.!?]\s+|\n\s*\n")


@built_once
def _matcher() -> Matcher:
    return token_matcher(get_nlp(), NAME)


@built_once
def _not_after() -> dict[str, re.Pattern[str]]:
    return {pid: re.compile(e["not_after"]) for pid, e in by_id(NAME).items() if e.get("not_after")}


@built_once
def _after() -> dict[str, re.Pattern[str]]:
    """The word a cue must follow, as written ("Vähäkankaan" before "ehdotusta ei vastustettu"): tested
    here rather than as the pattern's first token, which would let almost every word start a match."""
    return {pid: re.compile(e["after"]) for pid, e in by_id(NAME).items() if e.get("after")}


@built_once
def _not_with() -> dict[str, re.Pattern[str]]:
    return {pid: re.compile(e["not_with"], re.IGNORECASE) for pid, e in by_id(NAME).items() if e.get("not_with")}


def _rest_of_sentence(cue: Span) -> str:
    after = cue.doc[cue.end:min(len(cue.doc), cue.end + 40)].text
    stop = re.search(r"[.!?](?:\s|$)", after)
    return after[:stop.start()] if stop else after


def _in_motion(cue: Span) -> bool:
    """True when the cue sits in a motion clause of its sentence ("ehdotti, että asia ...")."""
    before = cue.doc[max(0, cue.start - 80):cue.start].text
    starts = list(_SENTENCE_START.finditer(before))
    sentence = before[starts[-1].end():] if starts else before
    return bool(_MOTION.search(sentence))


def _cues(span: Doc | Span | None) -> list[Mention]:
    """Every cue, unanimity included, in text order; a longer match hides a shorter one of its rule."""
    span = as_span(span)
    if span is None or not span_text(span).strip():
        return []
    return _block_cues(span)


@per_span
def _block_cues(span: Span) -> list[Mention]:
    entries = by_id(NAME)
    guards = _not_after()
    found: dict[tuple[str, int], Mention] = {}
    for m in _matcher()(span, as_spans=True):
        rid = m.label_
        guard = guards.get(rid)
        if guard and m.start > 0 and guard.match(m.doc[m.start - 1].lower_):
            continue
        need = _after().get(rid)
        if need and (m.start == 0 or not need.match(m.doc[m.start - 1].text)):
            continue
        if entries[rid]["value"] in _DECISION_CLASSES and _in_motion(m):
            continue
        unless = _not_with().get(rid)
        if unless is not None and unless.search(_rest_of_sentence(m)):
            continue
        mention = Mention(KIND, m.text, entries[rid]["value"], m.start_char, m.end_char, rid)
        key = (rid, m.end_char)
        if key not in found or found[key].start > mention.start:
            found[key] = mention
    return sorted(found.values(), key=lambda x: (x.start, -x.end))


def find(span: Doc | Span | None) -> list[Mention]:
    """Outcome cues in a block (kind "outcome_phrase", value = the outcome code signalled)."""
    return [m for m in _cues(span) if m.value != "UNANIMOUS"]


def _first(mentions: list[Mention], *values: str, weak: bool | None = None) -> Mention | None:
    entries = by_id(NAME)
    for m in mentions:
        if m.value in values and (weak is None or bool(entries[m.rule_id].get("weak")) == weak):
            return m
    return None


def _no_side_won(processing: Span | None, decision: Span | None) -> Mention | None:
    """An explicit JAA/EI count where EI won: the proposal (JAA) lost to a counter-proposal."""
    for block in (processing, decision):
        counts, mention = votes_mod.votes_for(block) if block is not None else (None, None)
        if counts and mention and votes_mod.is_explicit(mention):
            yes, no = counts.get("yes"), counts.get("no")
            if yes is not None and no is not None and no > yes:
                return mention
    return None


def classify(
    decision: Doc | Span | None,
    processing: Doc | Span | None,
    votes_found: bool,
    has_proposal: bool,
) -> tuple[str, str | None, Mention | None]:
    """(outcome code, rule id, deciding mention) for one handling; precedence in the module docstring."""
    decision, processing = as_span(decision), as_span(processing)
    if decision is None or not span_text(decision).strip():
        return "UNKNOWN", "outcomes.no_decision", None
    dec = find(decision)
    proc = find(processing)
    for code in _DECISION_CLASSES:
        hit = _first(dec, code)
        if hit:
            return code, hit.rule_id, hit
    noted = _first(dec, "NOTED")
    passed_cue = _first(dec, "PASSED", weak=False)
    changed = _first(dec, "PASSED_MODIFIED", "COUNTER_WON", "REVISED")
    if noted and not changed and (passed_cue is None or noted.start < passed_cue.start):
        return "NOTED", noted.rule_id, noted
    modified = _first(dec, "PASSED_MODIFIED", "COUNTER_WON") or _first(proc, "COUNTER_WON")
    if modified:
        return "PASSED_MODIFIED", modified.rule_id, modified
    if has_proposal and not (_first(dec, "PROPOSAL_WON") or _first(proc, "PROPOSAL_WON")):
        lost = _no_side_won(processing, decision)
        if lost:
            return "PASSED_MODIFIED", "outcomes.vote_no_majority", lost
    revised = _first(dec, "REVISED") or _first(proc, "REVISED")
    if revised:
        return "PASSED_REVISED", revised.rule_id, revised
    vote = _first(dec, "VOTE") or _first(proc, "VOTE")
    if vote:
        return "PASSED_VOTED", vote.rule_id, vote
    if votes_found:
        counted = votes_mod.find(processing) + votes_mod.find(decision)
        return "PASSED_VOTED", "outcomes.votes_found", counted[0] if counted else None
    passed = passed_cue or _first(dec, "PASSED")
    if passed:
        return "PASSED", passed.rule_id, passed
    # Decision text with no cue at all (Ahjo's restated decision, an officer's "päättää").
    return "PASSED", "outcomes.default_passed" if has_proposal else "outcomes.default_passed_no_proposal", None


def _vote_evidence(block: Span | None) -> Mention | None:
    cue = _first(find(block), "VOTE")
    if cue:
        return cue
    counted = votes_mod.find(block)
    return counted[0] if counted else None


def unanimity(decision: Doc | Span | None, processing: Doc | Span | None) -> tuple[bool | None, Mention | None]:
    """True where the handling says yksimielisesti; False where a vote was taken (a vote wins); else None."""
    decision, processing = as_span(decision), as_span(processing)
    for block in (decision, processing):
        evidence = _vote_evidence(block)
        if evidence:
            return False, Mention("unanimous", evidence.text, json.dumps(False), evidence.start, evidence.end, evidence.rule_id)
    for block in (decision, processing):
        for m in _cues(block):
            if m.value == "UNANIMOUS":
                return True, Mention("unanimous", m.text, json.dumps(True), m.start, m.end, m.rule_id)
    return None, None
