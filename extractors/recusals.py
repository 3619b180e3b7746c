"""Members declared disqualified (esteellinen / jäävi) for one handling.

Minutes name the person next to a fixed cue (patterns/recusals.jsonl): before it ("Jaana
Koskiranta ilmoitti olevansa esteellinen", "X ja Y poistuivat esteellisinä", "X jääväsi
itsensä") or after a label ("Esteelliset: A, B"), or as bullets under an "Esteellisyys"
heading. Names are runs of capitalised words; a title in front ("Jäsen", "valtuutettu",
"Kaupunginhallituksen jäsen") is dropped, the name itself is kept as written (surname-first
stays). A cue with no name beside it ("Esteellisyys todettiin.", "henkilö on esteellinen" in
statute text) yields nothing.
"""
from __future__ import annotations

import re

from spacy.matcher import Matcher
from spacy.tokens import Doc, Span, Token

from extractors.base import Mention, as_span, built_once, by_id, regexes, token_matcher
from extractors.nlp import doc_text, get_nlp, span_text

NAME = "recusals"
KIND = "recused"
_NAME_TOKEN = re.compile(r"^[A-ZÅÄÖÜ][\w'’]*(?:-[A-ZÅÄÖÜa-zåäöü][\w'’]*)*$")
_CONNECTORS = frozenset({",", "ja", "sekä"})
_MAX_NAMES = 12
_MAX_WORDS = 4


@built_once
def _matcher() -> Matcher:
    return token_matcher(get_nlp(), NAME)


@built_once
def _rx() -> dict[str, re.Pattern[str]]:
    return {pid: rx for pid, rx, _ in regexes(NAME)}


def _is_name_token(tok: Token) -> bool:
    text = tok.text
    return bool(_NAME_TOKEN.match(text)) and any(c.islower() for c in text) and len(text) > 1


def _is_title(tok: Token) -> bool:
    return bool(_rx()["recusals.title"].match(tok.lower_))


def _is_line_break(tok: Token) -> bool:
    return tok.is_space and tok.text.count("\n") == 1


def _walk_back(span: Span, i: int) -> list[Token]:
    """Tokens of the name run that ends just before token i (doc index), left to right."""
    out: list[Token] = []
    j = i - 1
    while j >= span.start and len(out) < _MAX_NAMES * (_MAX_WORDS + 1):
        tok = span.doc[j]
        if out and not tok.whitespace_ and tok.is_alpha and span.doc[j + 1].is_alpha:
            break  # a label glued to the name ("BehandlingKari Juntunen var jävig"): names stand apart
        if _is_name_token(tok) or _is_title(tok) or (tok.lower_ in _CONNECTORS and out):
            out.append(tok)
        elif not (_is_line_break(tok) and out):
            break
        j -= 1
    out.reverse()
    return [t for t in out if not t.is_space]


def _walk_forward(span: Span, i: int) -> list[Token]:
    """Tokens of the name run that starts at token i, to the first non-name token."""
    out: list[Token] = []
    j = i
    while j < span.end and len(out) < _MAX_NAMES * (_MAX_WORDS + 1):
        tok = span.doc[j]
        if _is_name_token(tok) or _is_title(tok) or (tok.lower_ in _CONNECTORS and out):
            out.append(tok)
        elif tok.is_space and not out:
            pass
        else:
            break
        j += 1
    while out and out[-1].lower_ in _CONNECTORS:
        out.pop()
    return out


def _chunks(tokens: list[Token]) -> list[list[Token]]:
    chunks: list[list[Token]] = [[]]
    for tok in tokens:
        if tok.lower_ in _CONNECTORS:
            chunks.append([])
        else:
            chunks[-1].append(tok)
    return [c for c in chunks if c]


def _clean(chunk: list[Token]) -> list[Token]:
    """Drop titles, headings and sentence-initial adverbs in front of a name."""
    title, stop, adverb = _rx()["recusals.title"], _rx()["recusals.not_name"], _rx()["recusals.sentence_adverb"]
    cut = -1
    for k, tok in enumerate(chunk):
        if title.match(tok.lower_) or stop.match(tok.lower_):
            cut = k
    chunk = chunk[cut + 1 :]
    if len(chunk) >= 3 and adverb.match(chunk[0].lower_):
        chunk = chunk[1:]
    return chunk if 1 <= len(chunk) <= _MAX_WORDS else []


def _mentions(tokens: list[Token], rule_id: str) -> list[Mention]:
    out = []
    for chunk in _chunks(tokens):
        name = _clean(chunk)
        if name:
            doc = name[0].doc
            start, end = name[0].idx, name[-1].idx + len(name[-1].text)
            text = doc_text(doc)[start:end]
            out.append(Mention(KIND, text, " ".join(text.split()), start, end, rule_id))
    return out


def _bullet_names(span: Span) -> list[Mention]:
    """Names on bullet lines under an "Esteellisyys" heading: "• Matti Meikäläinen (HL 28 §...)"."""
    out: list[Mention] = []
    text, base = span_text(span), span.start_char
    for block in _rx()["recusals.heading_bullets"].finditer(text):
        for line in re.finditer(r"[ \t]*[•\-–*·][ \t]*([^\n]*)", block.group(1)):
            start = base + block.start(1) + line.start(1)
            tokens = span.doc.char_span(start, start + len(line.group(1)), alignment_mode="expand")
            if tokens is None or not len(tokens):
                continue
            run = _walk_forward(span, tokens.start)
            after = run[-1].i + 1 if run else tokens.start
            if not run or (after < tokens.end and span.doc[after].text not in ("(", ",", ".")):
                continue
            out += _mentions(run, "recusals.heading_bullets")
    return out


def _label_line_names(span: Span) -> list[Mention]:
    """Names after a label without a colon ("Esteelliset Pekka Jokinen", "Esteelliset" / "Liisa Pitkänen"):
    only lines that hold names and nothing else, so a sentence after the word is never read as names."""
    out: list[Mention] = []
    text, base = span_text(span), span.start_char
    for m in _rx()["recusals.label_line"].finditer(text):
        pos = m.end()
        for _ in range(_MAX_NAMES):
            line_end = text.find("\n", pos)
            line_end = len(text) if line_end < 0 else line_end
            tokens = span.doc.char_span(base + pos, base + line_end, alignment_mode="expand")
            if tokens is None or not len(tokens) or not text[pos:line_end].strip():
                break
            run = _walk_forward(span, tokens.start)
            rest = span.doc[run[-1].i + 1:tokens.end] if run else tokens
            if not run or rest.text.strip(" \t.,"):
                break  # running text, not a list of names
            out += _mentions(run, "recusals.label_line")
            pos = line_end + 1
    return out


def find(span: Doc | Span | None) -> list[Mention]:
    """Recused people in a block (kind "recused", value = the name as written)."""
    span = as_span(span)
    if span is None or not span_text(span).strip():
        return []
    entries = by_id(NAME)
    found: list[Mention] = []
    for m in sorted(_matcher()(span, as_spans=True), key=lambda s: s.start):
        if entries[m.label_]["names"] == "before":
            found += _mentions(_walk_back(span, m.start), m.label_)
        else:
            found += _mentions(_walk_forward(span, m.end), m.label_)
    found += _bullet_names(span) + _label_line_names(span)
    seen: set[tuple[str, int]] = set()
    unique: list[Mention] = []
    for m in sorted(found, key=lambda x: x.start):
        if (m.value or "", m.start) not in seen:
            seen.add((m.value or "", m.start))
            unique.append(m)
    return unique


def names(span: Doc | Span | None) -> list[str]:
    """The distinct recused names in text order (what the gold `recused` list holds)."""
    out: list[str] = []
    for m in find(span):
        if m.value and m.value not in out:
            out.append(m.value)
    return out
