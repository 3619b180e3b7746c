"""The one spaCy pipeline: `spacy.blank("fi")`, built once per process.

No trained Finnish model exists on the registries and none may be downloaded, so every
extractor is a rule-based matcher over the blank tokenizer. Matchers are built once and kept.
"""
from __future__ import annotations

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
    new = set(text.split()).difference(_WARMED)
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
    doc = nlp.make_doc(text)
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
