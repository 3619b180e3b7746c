"""Every decisions and meetings column, declared once: who fills it, from which blocks, its
fallback, and how it is scored.

Row assembly (extractors/assemble.py) is a loop over DECISION_FIELDS; `minutes eval`
(pipeline/evaluate.py), the provenance tests and the data dictionary (pipeline/dictionary.py)
take their field lists from here. This module is data: it imports nothing heavy, so the
dictionary and the evaluator can read it without loading spaCy; `fill` names the function
("module:function") that assemble resolves.

Scoring kinds follow GOLD.md: `exact` (equal values; body also matches an alias), `text`
(token F1 >= 0.9), `set` (names as sets), `provenance` (not scored against gold, but every
non-null value must cite a mention), `derived` (computed from another column, no mention).
"""
from __future__ import annotations

from dataclasses import dataclass

SCORINGS = ("exact", "text", "set", "provenance", "derived")


@dataclass(frozen=True)
class Field:
    name: str                       # the field's name in gold and in `minutes eval`
    columns: tuple[str, ...]        # the table columns it fills
    fill: str | None                # "module:function" that fills them (None: filled by another field)
    blocks: str                     # where it is read from
    fallback: str                   # what it falls back to where its blocks say nothing
    scoring: str                    # one of SCORINGS
    cite_as: str | None = None      # the `mentions.field` its mentions carry, where not its first column
    default: object = None          # the value set where the text says nothing (no mention: nothing to cite)

    @property
    def cited(self) -> str:
        """The `mentions.field` value of the mentions that justify this field's values."""
        return self.cite_as or self.columns[0]

    def __post_init__(self) -> None:
        if self.scoring not in SCORINGS:
            raise ValueError(f"field {self.name}: scoring {self.scoring!r} is not one of {SCORINGS}")


_F = "extractors.fill:"

DECISION_FIELDS: tuple[Field, ...] = (
    Field("section", ("section",), _F + "section",
          "the handling's own line (\"Kh 4.9.2019 § 287\"), else the item's § line", "null (an officer decision without §)",
          "exact"),
    Field("current", ("current", "char_start", "char_end"), _F + "current",
          "segmentation: the handling naming the meeting's own body and date", "the item's only handling", "exact"),
    Field("body", ("body", "body_aliases"), _F + "body",
          "the handling's line, a history-table row of the same §; abbreviations expanded against the bodies the "
          "document names; Swedish names to Finnish", "the meeting's body (letterhead), the officer's title",
          "exact"),
    Field("date", ("meeting_date",), _F + "date",
          "the handling's own line, else its history entry (table row, Dynasty page header)",
          "the meeting's labelled date (Kokousaika / Aika / Tid), the officer decision's date", "exact"),
    Field("diary_id", ("diary_id", "diary_id_norm", "task_class"), _F + "diary_id",
          "the item's header block and the handling's head (before its first section), with any label or none; "
          "the end of a handling line", "the item's header block for every handling of the item", "exact"),
    Field("title", ("title",), _F + "title",
          "the item's § line, or the lines after its header block (wrapped titles joined; the contents list "
          "decides where it ends)", "the line above a history table; an extract's last plain line before its "
          "first handling", "text"),
    Field("preparers", ("preparers",), _F + "preparers",
          "Valmistelija / Valmistelijat ja lisätiedot / Asian valmisteli / Beredning", "the Lisätiedot contact",
          "set"),
    Field("presenter", ("presenter",), _F + "presenter",
          "Esittelijä / Asian esitteli / Föredragande, or the proposal heading (\"Päätösehdotus Hyvinvointialuejohtaja "
          "X\", \"Kunnanjohtajan ehdotus\")", "null", "exact"),
    Field("proposal", ("proposal",), _F + "proposal",
          "Päätösehdotus / Ehdotus / Esitys / X:n ehdotus / Beslutsförslag, without the presenter line; the "
          "presenter's changed text in Käsittely", "null", "text"),
    Field("decision", ("decision",), _F + "decision",
          "Päätös / Beslut", "a decision sentence without a heading (\"Kunnanhallitus päätti …\"); null in an agenda",
          "text"),
    Field("votes", ("votes_yes", "votes_no", "votes_blank", "votes_absent"), _F + "count_votes",
          "Käsittely and Päätös first, then anywhere in the handling: counts in any order, named lists counted",
          "null (never inferred from attendance)", "exact", cite_as="votes"),
    Field("outcome", ("outcome", "outcome_rule"), _F + "outcome",
          "Päätös, read with Käsittely: cues by stem (muutt-, täydenn-, lisäy-, hylkä-, palaut-, pöydä-, poist-, "
          "valit-) and the vote", "UNKNOWN without decision text", "exact", default="UNKNOWN"),
    Field("unanimous", ("unanimous",), _F + "unanimous",
          "Päätös and Käsittely: yksimielisesti / yksimielinen; false after a vote", "null", "exact"),
    Field("recused", ("recused",), _F + "recused",
          "the whole handling: esteellinen / jäävi / poistui esteellisenä / Esteelliset: / var jävig", "empty",
          "set"),
    Field("appeal", ("appeal",), _F + "appeal",
          "the item's Muutoksenhaku block, clause by clause", "the closing pages' lists by § (each list's remedy "
          "from its own line); an extract's closing instructions", "exact"),
)

MEETING_FIELDS: tuple[Field, ...] = (
    Field("meeting.organization", ("organization",), None, "the letterhead", "null", "provenance"),
    Field("meeting.body", ("body",), None, "the current handlings' body, the letterhead", "null", "exact"),
    Field("meeting.date", ("meeting_date",), None, "the labelled meeting time, the current handlings' date",
          "the letterhead's date", "exact"),
    Field("meeting.number", ("number",), None, "the letterhead: PÖYTÄKIRJA 5/2024", "null", "exact"),
    Field("meeting.times", ("start_time", "end_time"), None, "the labelled meeting time", "a time beside the "
          "letterhead's date", "provenance"),
    Field("meeting.cover", ("place", "chair", "secretary", "members_present", "members_absent", "others_present",
                            "checkers", "legality", "quorum"), None, "the cover's label blocks",
          "the items: the legality item's decision, the checkers' election", "provenance"),
    Field("meeting.sections", ("section_first", "section_last"), None, "the stated range (Käsitellyt asiat 12–23 §)",
          "the first and last current §", "provenance"),
)


def names(scoring: str, fields: tuple[Field, ...] = DECISION_FIELDS) -> tuple[str, ...]:
    """The fields scored so (`names("exact")` → section, current, body, date …)."""
    return tuple(f.name for f in fields if f.scoring == scoring)


def cited_fields() -> tuple[Field, ...]:
    """Decision fields whose every non-null value must have a mention (the provenance tests); `current`
    is the segmentation's verdict on the whole handling, not a value read at one place."""
    return tuple(f for f in DECISION_FIELDS if f.scoring != "derived" and f.name != "current")


# Columns no field reads from the text: keys and the document's own facts, set where the row is written
# (pipeline/document.py). With the fields above they are every column of the two tables, each once.
BOOKKEEPING: dict[str, tuple[str, ...]] = {
    "decisions": ("doc_id", "decision_id", "ordinal", "organization", "meeting_id", "doc_type", "page_start",
                  "page_end", "extractor_version"),
    "meetings": ("doc_id", "meeting_id", "doc_type", "extractor_version"),
}
