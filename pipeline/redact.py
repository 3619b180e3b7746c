"""`--redact-contacts`: e-mail addresses and phone numbers masked in the text columns, for publishing.

Minutes name their preparers with a direct line and an address ("Lisätiedot: Tonttipäällikkö
Hannu Leinonen, puh. 040 806 3312, etunimi.sukunimi(a)hel.fi"). Such contacts are personal data
that a published table need not carry, while the numbers decisions are about (dates, diary ids
"598/00.04.01/2025", sums "1 450 000 euroa", business ids "0201256-6", postal codes) must stay as
written. So the phone pattern is narrow on purpose: a Finnish number starts with 0 and a
non-zero digit (040, 09, 0800) or with +358/00358, has 5 to 8 more digits in groups separated by
single spaces or hyphens, and is not glued to a longer number, date or id.

Masking happens to rows before they are written: the repaired text that mention offsets refer
to is never stored, so offsets stay what they were. Stored pages are masked too, so nothing in
the output folder carries a contact; a later `reprocess` extracts from the masked pages.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

EMAIL_MASK = "[email]"
PHONE_MASK = "[phone]"

_EMAIL = re.compile(
    r"(?<![\w.+-])[\w.+-]+"
    r"(?:@|[ \t]?\((?:a|at)\)[ \t]?|[ \t]?\[(?:a|at)\][ \t]?)"  # etunimi.sukunimi(a)hel.fi, (at), [at]
    r"[\w-]+(?:\.[\w-]+)+",
    re.IGNORECASE,
)
_SEP = r"[ \u00a0\-]"
_PHONE = re.compile(
    r"(?<![\w+/.,:\-])(?<!\d[ \u00a0])"      # not the tail of a longer number, date or id
    r"(?!\d{7}-\d\b)"                          # not a business id (Y-tunnus 0201256-6)
    r"(?:(?:\+|00)358" + _SEP + r"?(?:\(0\)" + _SEP + r"?)?[1-9]\d{0,2}"   # +358 40, +358 (0)9
    r"|\(?0[1-9]\d{0,2}\)?)"                   # 040, 09, (09), 0800
    r"(?:" + _SEP + r"?\d){5,8}"               # the subscriber number
    r"(?!\d)"
)
TEXT_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "decisions": ("title", "proposal", "decision", "presenter", "preparers"),
    "mentions": ("text", "value"),
    "meetings": ("place", "legality", "chair", "secretary"),
    "pages": ("text",),
}
"""The columns masked per table: free text, and the name columns a contact may trail into."""


def redact(text: str) -> str:
    """`text` with every e-mail address and phone number replaced by a mask; idempotent."""
    return _PHONE.sub(PHONE_MASK, _EMAIL.sub(EMAIL_MASK, text))


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        return [redact(v) if isinstance(v, str) else v for v in value]
    return value


def redact_rows(rows: Mapping[str, list[dict[str, Any]]]) -> None:
    """Mask the text columns of one document's rows in place (see TEXT_COLUMNS)."""
    for table, columns in TEXT_COLUMNS.items():
        for row in rows.get(table, []):
            for column in columns:
                if row.get(column) is not None:
                    row[column] = _redact_value(row[column])
