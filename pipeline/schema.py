"""Every output table, declared once.

Analysts load these tables into pandas and DuckDB and trust their types, so each table is one
`Table` here: an ordered list of typed, documented columns. The Parquet writer, the readers, the
evaluation and the generated data dictionary (`docs/data-dictionary.md`) all take their shape
from this module and nowhere else.
"""
from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from pipeline.repair_steps import REPAIR_STEPS  # a repair_<step> column per step

STR = pa.string()
INT = pa.int32()
BIG = pa.int64()
BOOL = pa.bool_()
FLOAT = pa.float64()
DATE = pa.date32()
TIME = pa.timestamp("s", tz="UTC")
STRS = pa.list_(pa.string())
INTS = pa.list_(pa.int32())
PEOPLE = pa.list_(pa.struct([pa.field("name", pa.string()), pa.field("role", pa.string())]))


@dataclass(frozen=True)
class Column:
    name: str
    type: pa.DataType
    doc: str
    nullable: bool = True
    free_text: bool = False  # prose (a decision, a page): the Parquet files keep no min/max statistics of it


@dataclass(frozen=True)
class Table:
    name: str
    doc: str
    columns: tuple[Column, ...]
    sort_by: tuple[str, ...]

    @property
    def schema(self) -> pa.Schema:
        return pa.schema([pa.field(c.name, c.type, nullable=c.nullable) for c in self.columns])

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def statistics(self) -> list[str]:
        """The columns whose min/max the Parquet files carry: the flat ones that are not prose.

        A reader skips row groups by them (a filter on doc_id, a date, a number); for prose they
        would only be the two longest strings of the file, stored in its footer.
        """
        return [c.name for c in self.columns if not c.free_text and not pa.types.is_nested(c.type)]


def _c(name: str, type_: pa.DataType, doc: str, nullable: bool = True) -> Column:
    return Column(name, type_, doc, nullable)


def _prose(name: str, doc: str, nullable: bool = True) -> Column:
    return Column(name, STR, doc, nullable, free_text=True)


DOC_ID = _c("doc_id", STR, "SHA-256 of the source file's bytes (hex): the same file always has the same id.", False)


DOCUMENTS = Table(
    "documents",
    "One row per source document that was read, processed or not.",
    (
        DOC_ID,
        _c("source_path", STR, "Path of the file relative to the input folder (POSIX separators).", False),
        _c("file_size", BIG, "Size of the source file in bytes."),
        _c("doc_type", STR, "minutes (pöytäkirja/ote), agenda (esityslista), officer_decision (viranhaltijapäätös) or other."),
        _c("doc_type_rule", STR, "rule_id of the evidence that decided doc_type."),
        _c("status", STR, "ok, partial (read but something was missing, see warnings) or failed (see failures).", False),
        _c("warnings", STRS, "Human-readable reasons why the document is partial."),
        _c("organization", STR, "Municipality or wellbeing services county named by the document (kunta, kaupunki, hyvinvointialue)."),
        _c("n_pages", INT, "Pages in the source (1 for text files)."),
        _c("n_chars", BIG, "Characters of repaired text that extraction ran on."),
        _c("page_starts", pa.list_(BIG), "Offset of each page in the repaired text (pages joined with a newline): "
           "maps a `mentions` offset to its page and to the place in that page's text."),
        _c("n_decisions", INT, "Rows this document contributed to `decisions`."),
        _c("engine", STR, "Reader used: pdfplumber, pypdfium2, text or html."),
        _c("encoding", STR, "Encoding detected for text and HTML files (utf-8, cp1252, iso8859-1 ...); null for PDFs."),
        _c("ocr_pages", INTS, "1-based pages whose text came from OCR."),
        _c("sections_stated", INTS, "The § the document says it holds: its stated range (Käsitellyt asiat 12–23 §) "
           "or its contents list; empty where it says neither."),
        _c("sections_found", INTS, "The § of the items found (their current handlings)."),
        _c("sections_missing", INTS, "Stated but not found: the document is partial and a warning names them."),
        _c("redacted", BOOL, "True where e-mail addresses and phone numbers were masked (--redact-contacts) in this "
           "document's rows and stored pages."),
        *(_c(f"repair_{s}", INT, f"Characters changed by the '{s}' repair step.") for s in REPAIR_STEPS),
        _c("seconds", FLOAT, "Wall time spent on this document."),
        _c("extractor_version", STR, "Version of the extractors and their patterns that produced the rows.", False),
        _c("processed_at", TIME, "When the rows were produced (UTC)."),
    ),
    ("source_path",),
)

DECISIONS = Table(
    "decisions",
    "One row per handling of a case by a body at a meeting (a §), earlier handlings included.",
    (
        DOC_ID,
        _c("decision_id", STR, "doc_id + ':' + ordinal: stable key of the row within its document.", False),
        _c("ordinal", INT, "Position of the handling in the document, from 0.", False),
        _c("organization", STR, "Municipality or wellbeing services county of the document (as in `documents`)."),
        _c("meeting_id", STR, "The `meetings` row of the meeting that made this handling, where the document "
           "records that meeting (its current handlings); null for earlier handlings (käsittelyhistoria)."),
        _c("section", INT, "The § number (pykälä); null for an officer decision without one."),
        _c("body", STR, "Deciding body (toimielin), in full where the document gives it."),
        _c("body_aliases", STRS, "Other spellings of the body in the document (Kh, KV ...)."),
        _c("meeting_date", DATE, "Date of the meeting (or the officer decision) that made this handling."),
        _c("diary_id", STR, "Case/diary number as written, label (Dnro, Asianro) removed."),
        _c("diary_id_norm", STR, "Canonical diary number: upper case, single spaces, no label."),
        _c("task_class", STR, "JHS 191 task class code from the diary number (e.g. 00.04.01), if any."),
        _prose("title", "The item's heading text."),
        _c("preparers", STRS, "Names under Valmistelija / Asian valmisteli (else the Lisätiedot contact)."),
        _c("presenter", STR, "Esittelijä: name, or the title/body where no name is given."),
        _prose("proposal", "Text of the (final) proposal: Päätösehdotus / Ehdotus / Esitys."),
        _prose("decision", "Text under Päätös."),
        _c("outcome", STR, "PASSED, PASSED_VOTED, PASSED_REVISED, PASSED_MODIFIED, REJECTED, NOTED, RETURNED, REMOVED, TABLED, ELECTION or UNKNOWN."),
        _c("outcome_rule", STR, "rule_id of the phrase that decided the outcome."),
        _c("unanimous", BOOL, "True where the text says yksimielisesti, false after a vote, null otherwise."),
        _c("votes_yes", INT, "JAA votes as counted in the text."),
        _c("votes_no", INT, "EI votes."),
        _c("votes_blank", INT, "TYHJÄ votes."),
        _c("votes_absent", INT, "POISSA."),
        _c("recused", STRS, "Members declared disqualified (esteellinen, jäävi) for the item."),
        _c("appeal", STR, "none, rectification, municipal_appeal, regional_appeal, administrative_appeal or null."),
        _c("current", BOOL, "True for the handling the document records, false for earlier ones (käsittelyhistoria)."),
        _c("doc_type", STR, "doc_type of the document the row comes from."),
        _c("page_start", INT, "1-based page where the handling starts."),
        _c("page_end", INT, "1-based page where the handling ends."),
        _c("char_start", BIG, "Offset of the handling in the document's repaired text."),
        _c("char_end", BIG, "End offset (exclusive) of the handling."),
        _c("extractor_version", STR, "Version of the extractors that produced the row.", False),
    ),
    ("doc_id", "ordinal"),
)

MENTIONS = Table(
    "mentions",
    "Every value the extractors found, with where it stands and which pattern found it: the provenance.",
    (
        DOC_ID,
        _c("kind", STR, "What was found: section, date, diary_id, heading, outcome, vote, ...", False),
        _c("text", STR, "The text as it stands in the repaired document."),
        _c("value", STR, "The normalised value (ISO date, integer, code ...)."),
        _c("char_start", BIG, "Start offset in the document's repaired text.", False),
        _c("char_end", BIG, "End offset (exclusive).", False),
        _c("page", INT, "1-based page of char_start."),
        _c("rule_id", STR, "id of the pattern that matched (extractors/patterns/*.jsonl).", False),
        _c("decision_ordinal", INT, "ordinal of the decision row the mention was used for, if any."),
        _c("field", STR, "The decisions/meetings column this mention supplied, if any."),
    ),
    ("doc_id", "char_start", "kind"),
)

FAILURES = Table(
    "failures",
    "One row per document that could not be processed: nothing is lost silently.",
    (
        _c("doc_id", STR, "SHA-256 of the bytes, when they could be read."),
        _c("source_path", STR, "Path relative to the input folder.", False),
        _c("stage", STR, "Where it failed: read, repair, extract, store.", False),
        _c("error_type", STR, "Class of the error."),
        _prose("reason", "What went wrong and what to do about it, in plain words.", False),
        _c("extractor_version", STR, "Extractor version of the run.", False),
        _c("failed_at", TIME, "When (UTC)."),
        _c("retry", BOOL, "True where trying again may pass (time limit, memory, a worker killed from outside, the "
           "file changed while read): the next run tries the file again. Otherwise it is tried again when its "
           "bytes, the extractor version or the limits change (`minutes failures` lists what stands)."),
        _c("limits", STR, "The limits of the run that failed it (timeout, max_memory, max_text): other limits try it again."),
    ),
    ("source_path",),
)

MEETINGS = Table(
    "meetings",
    "One row per meeting a document records (kokous): from the letterhead and, in full minutes, the cover page.",
    (
        DOC_ID,
        _c("meeting_id", STR, "doc_id + ':meeting': key of the row.", False),
        _c("organization", STR, "Municipality or wellbeing services county."),
        _c("body", STR, "The body that met (toimielin)."),
        _c("meeting_date", DATE, "Date of the meeting."),
        _c("start_time", STR, "Start time HH:MM (kokousaika)."),
        _c("end_time", STR, "End time HH:MM."),
        _prose("place", "Kokouspaikka as written."),
        _c("number", STR, "Meeting number as written, e.g. 12/2025."),
        _c("chair", STR, "Puheenjohtaja."),
        _c("secretary", STR, "Pöytäkirjanpitäjä / sihteeri."),
        _c("members_present", PEOPLE, "Saapuvilla olleet jäsenet, each with the role written beside the name."),
        _c("members_absent", STRS, "Poissa olleet jäsenet."),
        _c("others_present", PEOPLE, "Muut saapuvilla olleet, with role (esittelijä, pöytäkirjanpitäjä ...)."),
        _c("checkers", STRS, "Pöytäkirjantarkastajat."),
        _prose("legality", "The legality and quorum statement as written (laillisuus ja päätösvaltaisuus)."),
        _c("quorum", BOOL, "True where the statement finds the meeting päätösvaltainen."),
        _c("section_first", INT, "First § the minutes cover (käsitellyt asiat)."),
        _c("section_last", INT, "Last § the minutes cover."),
        _c("doc_type", STR, "doc_type of the document."),
        _c("extractor_version", STR, "Version of the extractors that produced the row.", False),
    ),
    ("doc_id",),
)

VOTES = Table(
    "votes",
    "One row per named voter in a vote (äänestys) where the minutes list the voters.",
    (
        DOC_ID,
        _c("decision_id", STR, "The decisions row the vote belongs to.", False),
        _c("ordinal", INT, "ordinal of that decision in its document.", False),
        _c("voter", STR, "The member as written.", False),
        _c("vote", STR, "yes (JAA), no (EI), blank (TYHJÄ) or absent (POISSA).", False),
        _c("rule_id", STR, "Pattern that read the list."),
        _c("char_start", BIG, "Where the voter's name stands in the repaired text."),
        _c("page", INT, "1-based page of the name."),
        _c("extractor_version", STR, "Version of the extractors that produced the row.", False),
    ),
    ("doc_id", "ordinal", "vote", "voter"),
)

PAGES = Table(
    "pages",
    "One row per page of text as the reader left it (layout done, repair not yet): kept so that "
    "re-extraction never reads a source file again while its bytes are unchanged.",
    (
        DOC_ID,
        _c("page", INT, "1-based page number.", False),
        _prose("text", "Page text after layout (running headers/footers removed, label columns split), before repair.", False),
        _c("ocr", BOOL, "True where the text came from OCR."),
        _c("engine", STR, "Reader that produced the text: pdfplumber, pypdfium2, text or html.", False),
        _c("reader_version", STR, "Digest of the reading and layout code (pipeline.pages.READER_VERSION); pages of another version are read again.", False),
        _c("file_size", BIG, "Size of the source file in bytes (the same on every page)."),
        _c("encoding", STR, "Encoding detected for a text or HTML file (the same on every page); null for PDFs."),
        _c("read_warnings", STRS, "The reader's warnings about the whole document (the same on every page)."),
    ),
    ("doc_id", "page"),
)

FETCHES = Table(
    "fetches",
    "One row per request `minutes fetch` made (listing page, document, robots.txt), kept as a log: a "
    "run appends its rows and never replaces earlier ones, so every download and every failure stays on record.",
    (
        _c("fetch_id", STR, "run_id + ':' + the request's number in the run: key of the row.", False),
        _c("run_id", STR, "When the fetch run started (UTC, ISO 8601): the rows of one run share it.", False),
        _c("organization", STR, "The sources entry's organisation (kunta, kaupunki, hyvinvointialue)."),
        _c("system", STR, "Publishing system: dynasty, cloudnc, tweb or ahjo."),
        _c("body", STR, "The body (toimielin) the request was for, where known."),
        _c("meeting_id", STR, "The publishing system's id of the meeting, where known."),
        _c("meeting_date", DATE, "Date of that meeting, where the listing gave it."),
        _c("kind", STR, "What was asked for: listing (a page or API answer naming meetings or documents) or document.", False),
        _c("url", STR, "The URL requested (after redirects: `final_url`).", False),
        _c("final_url", STR, "The URL that answered, when redirects were followed."),
        _c("fetched_at", TIME, "When the request finished (UTC).", False),
        _c("status", INT, "HTTP status of the last answer; null when none came (timeout, refused by robots.txt)."),
        _c("outcome", STR, "new, changed, unchanged (304, or the same bytes), listed (a listing read) or failed.", False),
        _c("attempts", INT, "Requests made for it: more than 1 after retries (timeouts and 5xx only)."),
        _c("bytes", BIG, "Bytes received."),
        _c("sha256", STR, "SHA-256 of the bytes received (hex); for a document the doc_id `minutes ingest` gives the file."),
        _c("path", STR, "The file written or kept, relative to the raw folder (`<organisation>/<body>/<name>`)."),
        _c("content_type", STR, "Content-Type the server sent."),
        _c("etag", STR, "ETag the server sent: the next run asks with If-None-Match."),
        _c("last_modified", STR, "Last-Modified the server sent: the next run asks with If-Modified-Since."),
        _c("seconds", FLOAT, "Wall time of the request, retries and waits for the rate limit included."),
        _prose("reason", "Why the fetch failed, and what to do about it; null when it did not."),
    ),
    ("fetched_at", "fetch_id"),
)

# Derived tables: built from `decisions` after every run's commit (pipeline/cases.py), never by a worker.
CASES = Table(
    "cases",
    "One row per case (asia) within an organisation, followed across documents and bodies: the handlings "
    "that share a normalised diary id, or that name each other in their history lines (käsittelyhistoria), "
    "or that are the same handling (organisation, body, date, §) seen in more than one document.",
    (
        _c("case_id", STR, "Stable key of the case: a digest of its organisation and diary id (else of its first handling).", False),
        _c("organization", STR, "Municipality or wellbeing services county."),
        _c("diary_id", STR, "Normalised diary number (diary_id_norm) of the case, if any handling gives one."),
        _prose("title", "The item's heading in the latest handling that gives one."),
        _c("bodies", STRS, "Bodies that handled the case, in the order of the handlings (a body again after another is listed again)."),
        _c("first_date", DATE, "Date of the first handling."),
        _c("last_date", DATE, "Date of the latest handling."),
        _c("latest_outcome", STR, "Outcome of the latest handling (see decisions.outcome)."),
        _c("latest_body", STR, "Body of the latest handling."),
        _c("n_handlings", INT, "Handlings of the case: the same handling seen in several documents counts once.", False),
        _c("doc_ids", STRS, "Documents the case appears in (see documents.doc_id)."),
        _c("decision_ids", STRS, "Every decisions row of the case (a handling seen twice has two)."),
    ),
    ("organization", "first_date", "case_id"),
)

CASE_HANDLINGS = Table(
    "case_handlings",
    "One row per handling of a case, in order: the case's timeline. A handling seen in its own minutes and "
    "as history in a later document is one row, with both decisions rows in `decision_ids`.",
    (
        _c("case_id", STR, "The cases row.", False),
        _c("position", INT, "1-based place of the handling in the case's timeline (by date, then §).", False),
        _c("organization", STR, "Municipality or wellbeing services county."),
        _c("body", STR, "Deciding body."),
        _c("meeting_date", DATE, "Date of the meeting that made the handling."),
        _c("section", INT, "The § number."),
        _prose("title", "The item's heading."),
        _c("outcome", STR, "Outcome (from the handling's own minutes where they are in the output)."),
        _c("decision_id", STR, "The decisions row that stands for the handling: its own minutes first, else the latest document.", False),
        _c("decision_ids", STRS, "Every decisions row recording this handling."),
        _c("doc_ids", STRS, "Documents recording this handling."),
        _c("seen_current", BOOL, "True where a document records the handling as its own (current=true), not only as history."),
    ),
    ("case_id", "position"),
)

# How the tables join (the data dictionary lists them): (from, to, what the join gives).
JOINS: tuple[tuple[str, str, str], ...] = (
    ("decisions.doc_id", "documents.doc_id", "the document a handling was read from"),
    ("decisions.meeting_id", "meetings.meeting_id", "the meeting that made a current handling"),
    ("votes.decision_id", "decisions.decision_id", "the named votes of a handling"),
    ("mentions.doc_id, mentions.decision_ordinal", "decisions.doc_id, decisions.ordinal",
     "where each value of a handling stands (mentions.field names the column)"),
    ("pages.doc_id, pages.page", "mentions.doc_id, mentions.page", "the page text a value was read from"),
    ("case_handlings.case_id", "cases.case_id", "a case's timeline"),
    ("unnest(case_handlings.decision_ids)", "decisions.decision_id", "the decisions rows of a handling"),
    ("unnest(cases.doc_ids)", "documents.doc_id", "the documents a case appears in"),
)

TABLES: dict[str, Table] = {t.name: t for t in (DOCUMENTS, DECISIONS, MEETINGS, VOTES, MENTIONS, FAILURES, PAGES,
                                                FETCHES, CASES, CASE_HANDLINGS)}
DERIVED = ("cases", "case_handlings")  # rebuilt from the others, never written by a batch


def table(name: str) -> Table:
    try:
        return TABLES[name]
    except KeyError:
        raise KeyError(f"unknown table {name!r}; the tables are {sorted(TABLES)}") from None
