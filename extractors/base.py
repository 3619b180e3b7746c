"""What every extractor shares: the Mention it emits and its pattern file, validated at load.

A pattern file `extractors/patterns/<name>.jsonl` holds one JSON object per line:
`{"id": "<name>.<what>", "label": "...", "pattern": [...] | "...", ...}`. Token patterns are
spaCy Matcher patterns (a list of token dicts); phrase patterns are literal strings (a
heading's label as written, `extractors/headings.py`); `regex` patterns are Python regular
expressions, run on a line or on the text of a span a matcher already found. Ids are unique
and start with the file's name, so a `rule_id` in the output leads straight back to its line.
"""
from __future__ import annotations

import importlib
import json
import pkgutil
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache, wraps
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar

from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc, Span

from extractors import PATTERNS_DIR
from extractors.nlp import doc_text, token_bounds

if TYPE_CHECKING:
    from extractors.arraymatch import ArrayMatcher

_ID = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)+$")
_KINDS = ("token", "phrase", "regex")
T = TypeVar("T")


class PatternError(ValueError):
    """A pattern file is malformed: the message names the file, the line and what to fix."""


@dataclass(frozen=True)
class Mention:
    """A value found in the text: the unit of provenance."""

    kind: str
    text: str
    value: str | None
    start: int
    end: int
    rule_id: str

    def row(self, field: str | None = None, decision_ordinal: int | None = None) -> dict[str, Any]:
        return {
            "kind": self.kind, "text": self.text, "value": self.value, "char_start": self.start,
            "char_end": self.end, "rule_id": self.rule_id, "field": field, "decision_ordinal": decision_ordinal,
        }


_BUILDERS: list[Callable[[], Any]] = []


def built_once(fn: Callable[[], T]) -> Callable[[], T]:
    """`functools.cache` for an extractor's zero-argument builder (its matcher, its table of regexes),
    listed so that `prepare` can build them all."""
    cached = cache(fn)
    _BUILDERS.append(cached)
    return cached  # type: ignore[return-value]


def prepare() -> None:
    """Build every extractor's matchers and tables now rather than at its first document.

    The zygote calls it before it forks (pipeline/zygote.py): the ~0.1 s of CPU it takes is then
    spent once per batch instead of once per worker. The results are the same either way.
    """
    import extractors

    for module in pkgutil.iter_modules(extractors.__path__):  # imported, each lists its builders
        importlib.import_module(f"extractors.{module.name}")
    for build in _BUILDERS:
        build()


# The keys a pattern file's entries may carry, beside id, kind, pattern, ignore_case and note: a misspelt
# flag ("lower_okay") would otherwise be ignored in silence and the pattern would match as it was not meant to.
_COMMON_KEYS = frozenset({"id", "kind", "pattern", "ignore_case", "note"})
PATTERN_KEYS: dict[str, frozenset[str]] = {
    "appeals": frozenset({"label", "value", "weak", "greedy", "ban"}),
    "bodies": frozenset({"label", "value"}),
    "context": frozenset({"label", "value"}),
    "dates": frozenset({"label", "emits", "forms", "guards", "ordered", "priority"}),
    "diary_ids": frozenset({"label", "forms", "requires"}),
    "headings": frozenset({"label", "ambiguous", "closing", "lower_ok", "person", "person_in_heading"}),
    "meetings": frozenset({"label"}),
    "outcomes": frozenset({"label", "value", "weak", "greedy", "not_after", "not_with", "after"}),
    "people": frozenset(),
    "recusals": frozenset({"label", "greedy", "names"}),
    "sections": frozenset({"form", "weak"}),
    "votes": frozenset({"label", "explicit", "roles"}),
}


@cache
def load_patterns(name: str) -> tuple[dict[str, Any], ...]:
    """Read and validate `patterns/<name>.jsonl`; fail loudly at load, never at match time."""
    path = PATTERNS_DIR / f"{name}.jsonl"
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("//"):
            continue
        where = f"{path.name}:{lineno}"
        try:
            entry = json.loads(line)
        except json.JSONDecodeError as exc:
            raise PatternError(f"{where}: not valid JSON ({exc.msg})") from exc
        if name not in PATTERN_KEYS:
            raise PatternError(f"{path.name}: declare the keys its entries may carry in extractors.base.PATTERN_KEYS")
        unknown = sorted(set(entry) - _COMMON_KEYS - PATTERN_KEYS[name])
        if unknown:
            raise PatternError(f"{where}: unknown key(s) {unknown}; {path.name} entries take "
                               f"{sorted(_COMMON_KEYS | PATTERN_KEYS[name])}")
        pid = entry.get("id")
        if not isinstance(pid, str) or not _ID.match(pid) or not pid.startswith(name + "."):
            raise PatternError(f"{where}: id {pid!r} must look like '{name}.<what>' (lower case, dots)")
        if pid in seen:
            raise PatternError(f"{where}: duplicate id {pid!r}")
        seen.add(pid)
        kind = entry.setdefault("kind", "token" if isinstance(entry.get("pattern"), list) else "phrase")
        if kind not in _KINDS:
            raise PatternError(f"{where}: kind {kind!r} is not one of {_KINDS}")
        pattern = entry.get("pattern")
        if kind == "token" and not (isinstance(pattern, list) and all(isinstance(t, dict) for t in pattern)):
            raise PatternError(f"{where}: a token pattern is a list of spaCy token dicts")
        if kind in ("phrase", "regex") and not isinstance(pattern, str):
            raise PatternError(f"{where}: a {kind} pattern is a string")
        if kind == "regex":
            try:
                entry["compiled"] = re.compile(pattern, re.IGNORECASE if entry.get("ignore_case", True) else 0)
            except re.error as exc:
                raise PatternError(f"{where}: bad regular expression ({exc})") from exc
        out.append(entry)
    if not out:
        raise PatternError(f"{path.name}: no patterns")
    return tuple(out)


_LINE_BREAK: dict[str, Any] = {"IS_SPACE": True, "OP": "?"}


def across_lines(pattern: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The pattern with a line break (a whitespace token) allowed between any two of its tokens.

    spaCy makes a token of a newline and the indentation after it, so a phrase wrapped onto the next
    line ("… eikä" / "aluevalituksella", "1" / "tyhjä ääni") would otherwise match only unwrapped."""
    out: list[dict[str, Any]] = []
    for token in pattern:
        if out and "IS_SPACE" not in out[-1] and "IS_SPACE" not in token:
            out.append(dict(_LINE_BREAK))
        out.append(token)
    return out


def token_matcher(nlp: Language, name: str) -> Matcher:
    """A Matcher holding every token pattern of a file, each under its own id, each allowed to wrap
    across lines (`across_lines`).

    It skips the spans where no pattern can match (extractors/prefilter.py): same matches, less time.
    """
    from extractors.prefilter import PrefilteredMatcher

    matcher = PrefilteredMatcher(nlp.vocab, validate=True)
    for entry in load_patterns(name):
        if entry["kind"] == "token":
            matcher.add(entry["id"], [across_lines(entry["pattern"])], greedy=entry.get("greedy"))
    return matcher


F = TypeVar("F")


def named(names: list[str], known: Mapping[str, Any], what: str, where: str) -> list[Any]:
    """The objects a pattern names (guards, requirements ...); an unknown name fails at load."""
    unknown = [n for n in names if n not in known]
    if unknown:
        raise PatternError(f"{where}: unknown {what} {unknown}; known: {sorted(known)}")
    return [known[n] for n in names]


def span_forms(nlp: Language, name: str, make_form: Callable[[dict[str, Any], str], F]
               ) -> tuple[ArrayMatcher | Matcher, dict[int, tuple[F, ...]]]:
    """A matcher of cheap span patterns and, per match key, the regex forms (`forms`) a span may take.

    Token patterns find candidate spans with built-in token flags only; each `regex` entry is a form
    that must match the whole span and whose id becomes the mention's rule_id.
    """
    entries = load_patterns(name)
    forms = {e["id"]: make_form(e, f"{name}.jsonl {e['id']}") for e in entries if e["kind"] == "regex"}
    by_key: dict[int, tuple[F, ...]] = {}
    for e in entries:
        if e["kind"] == "token":
            missing = [f for f in e.get("forms", []) if f not in forms]
            if missing or not e.get("forms"):
                raise PatternError(f"{name}.jsonl {e['id']}: 'forms' must list regex entries of the file ({missing})")
            by_key[nlp.vocab.strings.add(e["id"])] = tuple(forms[f] for f in e["forms"])
    return span_matcher(nlp, name), by_key


def span_matcher(nlp: Language, name: str) -> ArrayMatcher | Matcher:
    """The file's token patterns matched as arrays (extractors/arraymatch.py) where they allow it, else
    by a Matcher. Callers of `span_forms` take the matches as a set, so either one does; the array
    one is several times faster on these short patterns over numbers."""
    from extractors.arraymatch import ArrayMatcher

    entries = [e for e in load_patterns(name) if e["kind"] == "token"]
    if any(e.get("greedy") or not ArrayMatcher.supports(e["pattern"]) for e in entries):
        return token_matcher(nlp, name)
    matcher = ArrayMatcher(nlp.vocab)
    for entry in entries:
        matcher.add(entry["id"], [entry["pattern"]])
    return matcher


def matched_spans(matcher: ArrayMatcher | Matcher, doc: Doc) -> Iterator[tuple[int, int, int, int, str]]:
    """(key, first token, end token, start offset, text) of each match: what `span_forms` forms are tried on.

    The text is sliced from the document by token offsets read once (a Span's text joins its tokens).
    """
    text, (starts, ends) = doc_text(doc), token_bounds(doc)
    for key, s, e in matcher(doc):
        yield key, s, e, starts[s], text[starts[s]:ends[e - 1]]


def regexes(name: str) -> list[tuple[str, re.Pattern[str], dict[str, Any]]]:
    return [(e["id"], e["compiled"], e) for e in load_patterns(name) if e["kind"] == "regex"]


@cache
def by_id(name: str) -> Mapping[str, dict[str, Any]]:
    """The file's entries by id, built once: extractors look an entry up for every match (read only)."""
    return MappingProxyType({e["id"]: e for e in load_patterns(name)})


def as_span(doclike: Doc | Span | None) -> Span | None:
    """Extractors take a whole Doc or a block of it; both become a Span (None stays None)."""
    if doclike is None:
        return None
    return doclike[:] if isinstance(doclike, Doc) else doclike


def per_span(fn: Callable[[Span], list[T]]) -> Callable[[Span], list[T]]:
    """Remember `fn(span)` per document and token range.

    A handling's blocks are read by several classifiers (the outcome, unanimity and the vote
    count all look for the same cues in the same decision text); the matchers run once per
    block. The result is the same list each time, given as a copy; its items are not changed.
    """
    key = f"minutes.memo.{fn.__module__}.{fn.__qualname__}"

    @wraps(fn)
    def remembered(span: Span) -> list[T]:
        memo = span.doc.user_data.setdefault(key, {})
        found = memo.get((span.start, span.end))
        if found is None:
            found = memo[(span.start, span.end)] = fn(span)
        return list(found)

    return remembered
