"""The one spaCy pipeline: `spacy.blank("fi")`, built once per process.

No trained Finnish model exists on the registries and none may be downloaded, so every
extractor is a rule-based matcher over the blank tokenizer. Matchers are built once and kept.
"""
from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable
from functools import cache

import spacy
from spacy.attrs import IDX, LENGTH
from spacy.language import Language
from spacy.tokens import Doc, Span

# Minutes run to hundreds of thousands of characters; the default cap is for parsers with
# quadratic memory, which a tokenizer-only pipeline does not have.
MAX_LENGTH = 20_000_000
_TEXT = "minutes.text"
_BOUNDS = "minutes.bounds"
# Distinct words kept in the tokenizer's cache (a few MB); words past it are tokenized each time.
_CACHE_SIZE = 200_000
_WARMED: set[str] = set()
# spaCy strips prefixes and suffixes one at a time, each time searching the rest of the chunk
# between spaces: a chunk costs (affixes stripped) x (its length). A run of 10,000 "§" (each an
# affix) took 16.5 s, 40,000 took 265 s. So runs of punctuation and symbols longer than
# `_RUN_PIECE` and chunks longer than `_CHUNK_PIECE` are tokenized in pieces of those lengths:
# at most _RUN_PIECE affixes per _CHUNK_PIECE characters, a bounded cost per character. Such
# runs are never words (each "§" or "_" of them is its own token either way); the text, and so
# every character offset, is left exactly as it was.
_RUN_PIECE = 8
_CHUNK_PIECE = 256
_LONG = re.compile(r"[^\w\s]{%d,}|\S{%d,}" % (_RUN_PIECE + 1, _CHUNK_PIECE + 1))
_PUNCT_RUN = re.compile(r"[^\w\s]{%d,}" % (_RUN_PIECE + 1))
_CHUNK = re.compile(r"\S{%d,}" % (_CHUNK_PIECE + 1))


@cache
def get_nlp() -> Language:
    nlp = spacy.blank("fi")
    nlp.max_length = MAX_LENGTH
    nlp.tokenizer.max_cache_size = _CACHE_SIZE
    return nlp


def _warm_cache(nlp: Language, text: str) -> None:
    """Put the text's new words into the tokenizer's cache, one word per call.

    spaCy caches the tokens of each whitespace-separated chunk, but stops caching for the rest
    of a call once any chunk hit a special case (spaCy #1250), and Finnish minutes hit one on
    their first lines ("klo", "esim."): a whole document was tokenized without the cache, at
    ~1 ms per page. A chunk tokenized alone gives the same tokens as inside the text.
    """
    if len(_WARMED) >= _CACHE_SIZE:
        return
    new = {c for c in set(text.split()).difference(_WARMED) if len(c) <= _CHUNK_PIECE and not _PUNCT_RUN.search(c)}
    tokenizer = nlp.tokenizer
    for chunk in new:
        tokenizer(chunk)
    _WARMED.update(new)


def make_doc(text: str, splits: Iterable[int] = ()) -> Doc:
    """Tokenize only: the extractors' matchers run on the tokens. The text is kept for `doc_text`.

    `splits` are offsets where a token must end although no space is there: a heading glued to
    its text ("PäätösMerkittiin tiedoksi.") is two words to every matcher. The text stays as it is.
    """
    nlp = get_nlp()
    _warm_cache(nlp, text)
    doc = nlp.make_doc(text) if _LONG.search(text) is None else _in_pieces(nlp, text)
    cuts = sorted(set(splits))
    if cuts:
        _split_at(doc, cuts)
    doc.user_data[_TEXT] = text
    return doc


def _split_at(doc: Doc, cuts: list[int]) -> None:
    starts = doc.to_array(IDX).tolist()
    with doc.retokenize() as retokenizer:
        for cut in cuts:
            i = bisect_right(starts, cut) - 1
            if i < 0:
                continue
            token = doc[i]
            inside = cut - token.idx
            if 0 < inside < len(token.text):
                retokenizer.split(token, [token.text[:inside], token.text[inside:]], heads=[(token, 1), (token, 1)])


def _cuts(text: str) -> list[int]:
    """Where long punctuation runs and long chunks are cut (see `_RUN_PIECE`): never at a space."""
    cuts = {start + k for m in _PUNCT_RUN.finditer(text) for start in [m.start()]
            for k in range(_RUN_PIECE, m.end() - start, _RUN_PIECE)}
    cuts.update(start + k for m in _CHUNK.finditer(text) for start in [m.start()]
                for k in range(_CHUNK_PIECE, m.end() - start, _CHUNK_PIECE))
    return sorted(cuts)


def _in_pieces(nlp: Language, text: str) -> Doc:
    """The text tokenized piece by piece between `_cuts`, as one Doc of the same text.

    A cut falls inside a run of non-space characters, so a piece's last token has no trailing
    space and the next piece starts right after it: words and spaces rebuild the text exactly.
    """
    words: list[str] = []
    spaces: list[bool] = []
    start = 0
    for end in [*_cuts(text), len(text)]:
        piece = nlp.make_doc(text[start:end])
        words.extend(t.text for t in piece)
        spaces.extend(bool(t.whitespace_) for t in piece)
        start = end
    doc = Doc(nlp.vocab, words=words, spaces=spaces)
    if doc.text != text:  # a broken promise above would shift every offset: fail loudly, never silently
        raise ValueError("tokenizing in pieces changed the text; please report this document")
    return doc


def span_text(span: Span) -> str:
    """`span.text`, sliced from the document's text: Span.text joins every token on each access."""
    return doc_text(span.doc)[span.start_char:span.end_char]


def doc_text(doc: Doc) -> str:
    """The document's text; `doc.text` rebuilds it from every token on each access (~1 ms per page)."""
    text = doc.user_data.get(_TEXT)
    if text is None:
        text = doc.user_data[_TEXT] = doc.text
    return text


def token_bounds(doc: Doc) -> tuple[list[int], list[int]]:
    """Each token's start and end offsets in the text, read once: `doc[i].idx` builds a Token per call."""
    found = doc.user_data.get(_BOUNDS)
    if found is None:
        starts = doc.to_array(IDX)
        found = doc.user_data[_BOUNDS] = (starts.tolist(), (starts + doc.to_array(LENGTH)).tolist())
    return found
