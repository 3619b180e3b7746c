"""Rule-based extractors: one module per thing extracted, its patterns as data beside it.

Every pattern has an `id`; every value found carries that id to the output (`rule_id`).
EXTRACTOR_VERSION changes whenever the code version or any pattern file changes, so stored
output made by older rules can be told apart and re-extracted.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

__version__ = "0.1.0"

PATTERNS_DIR = Path(__file__).parent / "patterns"
_RULE_SOURCES = (
    (Path(__file__).parent, "*.py"),
    (PATTERNS_DIR, "*.jsonl"),
    (Path(__file__).parent.parent / "pipeline", "segment.py"),
    (Path(__file__).parent.parent / "pipeline", "assemble.py"),
    (Path(__file__).parent.parent / "pipeline", "fields.py"),
    (Path(__file__).parent.parent / "pipeline", "meeting.py"),
    (Path(__file__).parent.parent / "pipeline", "doctype.py"),
    (Path(__file__).parent.parent / "pipeline", "repair.py"),
)


def _patterns_digest() -> str:
    """Digest of every file whose change changes what is extracted."""
    h = hashlib.sha256()
    for folder, glob in _RULE_SOURCES:
        for path in sorted(folder.glob(glob)):
            h.update(path.name.encode())
            h.update(path.read_bytes())
    return h.hexdigest()[:8]


EXTRACTOR_VERSION = f"{__version__}+{_patterns_digest()}"
