"""The one spaCy pipeline: `spacy.blank("fi")`, built once per process.

No trained Finnish model exists on the registries and none may be downloaded, so every
extractor is a rule-based matcher over the blank tokenizer. Matchers are built once and kept.
"""
from __future__ import annotations

from functools import cache

import spacy
from spacy.language import Language
from spacy.tokens import Doc

# Minutes run to hundreds of thousands of characters; the default cap is for parsers with
# quadratic memory, which a tokenizer-only pipeline does not have.
MAX_LENGTH = 20_000_000


@cache
def get_nlp() -> Language:
    nlp = spacy.blank("fi")
    nlp.max_length = MAX_LENGTH
    return nlp


def make_doc(text: str) -> Doc:
    """Tokenize only: the extractors' matchers run on the tokens."""
    return get_nlp().make_doc(text)
