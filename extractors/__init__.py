"""Everything from repaired text to rows: `extract(text)` is the one entry point.

The meeting context, segmentation, doc_type, the field extractors (one module per thing
extracted, its patterns as data beside it) and row assembly live here; `pipeline/` reads files,
repairs text, stores tables and runs batches. Every pattern has an `id`; every value found
carries that id to the output (`rule_id`).
EXTRACTOR_VERSION changes whenever the code version or any pattern file changes, so stored
output made by older rules can be told apart and re-extracted.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from extractors.assemble import Extraction

__version__ = "0.1.0"

PATTERNS_DIR = Path(__file__).parent / "patterns"
_RULE_SOURCES = (
    (Path(__file__).parent, "*.py"),
    (PATTERNS_DIR, "*.jsonl"),
    (Path(__file__).parent.parent / "pipeline", "repair.py"),
)


def _patterns_digest() -> str:
    """Digest of every file whose change changes what is extracted."""
    h = hashlib.sha256()
    for folder, glob in _RULE_SOURCES:
        for path in sorted(folder.rglob(glob)):
            h.update(path.name.encode())
            h.update(path.read_bytes())
    return h.hexdigest()[:8]


EXTRACTOR_VERSION = f"{__version__}+{_patterns_digest()}"


def extract(text: str) -> Extraction:
    """The rows of one document's repaired text: decisions, meetings, votes and their mentions.

    Imported lazily: reading `EXTRACTOR_VERSION` must not load spaCy.
    """
    from extractors.assemble import extract as _extract

    return _extract(text)
