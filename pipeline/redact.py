"""`--redact-contacts`: e-mail addresses and phone numbers masked in the text columns, for publishing.

Minutes name their preparers with a direct line and an address ("Lisätiedot: Tonttipäällikkö
Hannu Leinonen, puh. 040 806 3312, etunimi.sukunimi(a)hel.fi"). Such contacts are personal data
that a published table need not carry, while the numbers decisions are about (dates, diary ids
"598/00.04.01/2025", sums "1 450 000 euroa", business ids "0201256-6", postal codes) must stay as
written. So the phone pattern is narrow on purpose: a Finnish number starts with 0 and a
non-zero digit (040, 09, 0800) or with +358/00358, has 5 to 8 more digits in groups separated by
single spaces or hyphens, and is not glued to a longer number, date or id; an international one
starts with + (or 00) and a country code, and has 7 to 12 more digits. E-mail addresses are
masked also as people write them to dodge harvesters: "nimi(a)hel.fi", "nimi [at] hel [dot] fi",
"nimi at hel.fi", "nimi ät hel piste fi".

Masking happens to the page texts as soon as they are read or loaded, before repair and
extraction (`pipeline.document.process_document`), so every row, every offset and the stored
pages come from the masked text, and a later `reprocess` extracts the same rows again. The rows'
text columns (`TEXT_COLUMNS`: every column of people's words, not ids or codes) are masked once
more before they are written, for what extraction joined across lines. `documents.redacted`
records it per document.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

EMAIL_MASK = "[email]"
PHONE_MASK = "[phone]"

_AT = r"(?:\s?@\s?|\s?[(\[{<]\s?(?:a|at|ät)\s?[)\]}>]\s?|\s(?:at|ät)\s)"  # @, (a), [at], {at}, " at ", " ät "
_DOT = r"(?:\.|\s?[(\[{<]\s?(?:dot|piste)\s?[)\]}>]\s?|\s(?:dot|piste)\s)"  # ., [dot], (piste), " dot "
_EMAIL = re.compile(
    r"(?<![\w.+-])[\w+-]+(?:" + _DOT + r"[\w+-]+)*"    # etunimi.sukunimi, etunimi [dot] sukunimi
    + _AT + r"[\w-]+(?:" + _DOT + r"[\w-]+)*" + _DOT + r"[a-z]{2,}\b",
    re.IGNORECASE,
)
_SEP = r"[ \u00a0\-]"
_PHONE = re.compile(
    r"(?<![\w+/.,:\-])(?<!\d[ \u00a0])"      # not the tail of a longer number, date or id
    r"(?!\d{7}-\d\b)"                          # not a business id (Y-tunnus 0201256-6)
    r"(?:(?:(?:\+|00)358" + _SEP + r"?(?:\(0\)" + _SEP + r"?)?[1-9]\d{0,2}"   # +358 40, +358 (0)9
    r"|\(?0[1-9]\d{0,2}\)?)"                   # 040, 09, (09), 0800
    r"(?:" + _SEP + r"?\d){5,8}"               # the subscriber number
    r"|(?:\+|00)(?!358)[1-9]\d{0,2}" + _SEP + r"?(?:\(0\)" + _SEP + r"?)?"  # +46, +44 (0), 0049
    r"(?:\(?\d{1,4}\)?" + _SEP + r"?)(?:\d" + _SEP + r"?){5,10}\d)"  # area code and number: 7 to 12 digits
    r"(?!\d)"
)
# Every column that holds people's words, per table; ids, codes, numbers and dates are kept.
TEXT_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "documents": ("warnings", "organization"),
    "decisions": ("body", "body_aliases", "title", "preparers", "presenter", "proposal", "decision", "recused"),
    "meetings": ("organization", "body", "place", "chair", "secretary", "members_present", "members_absent",
                 "others_present", "checkers", "legality"),
    "votes": ("voter",),
    "mentions": ("text", "value"),
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
        return [_redact_value(v) for v in value]
    if isinstance(value, dict):  # a person with a role (members_present)
        return {k: _redact_value(v) for k, v in value.items()}
    return value


def redact_rows(rows: Mapping[str, list[dict[str, Any]]]) -> None:
    """Mask the text columns of one document's rows in place (see TEXT_COLUMNS)."""
    for table, columns in TEXT_COLUMNS.items():
        for row in rows.get(table, []):
            for column in columns:
                if row.get(column) is not None:
                    row[column] = _redact_value(row[column])
