"""Headings that open the sections of an item (Valmistelija, Päätösehdotus, Päätös, Käsittely, Beslut ...).

A label is a heading by its place and by what follows it, never by the word alone:
- it starts a line (after indentation, a bullet or a markdown '#'), written with a capital;
- it stands alone on its line, or before a colon, a column gap ("Päätös      Hyväksyttiin."), an
  annotation in parentheses ("PÄÄTÖSEHDOTUS (Tekninen johtaja …)"), or before text on the same
  line or glued to it ("EhdotusKaupunginhallitus päättää");
- text after a single space or glued must read as the section's text: it starts with a capital
  (or is a person line after a person label: "Valmistelija kunnanjohtaja X"), except where the
  document writes its labels that way and the label takes lower-case text ("Tiedoksi hakija",
  "Esittelijäpuheenjohtaja Elina Nurmi"). How a document writes its labels is read from the labels
  that can be nothing else, so "Päätös on ehdotuksen mukainen." stays a sentence;
- a common word ("Asia", "Esitys") with text on its line needs a colon or a column gap unless the
  document writes all its labels so; a vote order "Kaupunginhallituksen ehdotus JAA, …" is not one;
- in a label-column document, a label word on a line indented to the text column is text.
The label table (patterns/headings.jsonl) holds the Finnish and Swedish labels by role.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from spacy.tokens import Doc

from extractors.base import Mention, built_once, by_id, load_patterns
from extractors.nlp import doc_text
from extractors.people import looks_like_person_line
from extractors.prose import in_voice

NAME = "headings"
_GLUED_CAPITAL = re.compile(r"[a-zåäö][A-ZÅÄÖ]")  # inside a label: two words glued together
_VOTE_WORDS = re.compile(r"(?:JAA|EI|TYHJÄ|POISSA)\b")
_MAX_LABEL_INDENT = 6
_STYLE_MIN = 2


@dataclass(frozen=True)
class Heading:
    label: str
    rule_id: str
    start: int          # start of the heading word(s)
    end: int            # end of the heading incl. a colon
    line_end: int       # end of the heading's line
    remainder: str      # text after the heading on the same line
    remainder_start: int
    form: str = "own_line"   # own_line, colon, column, same_line, glued, annotated

    def mention(self, text: str) -> Mention:
        return Mention("heading", text[self.start:self.end], self.label, self.start, self.end, self.rule_id)


def _literal(pattern: str) -> str:
    """A label as written, or in capitals; its first letter in either case ("Päätös", "PÄÄTÖS"), but
    not with a capital inside ("PäätösEhdotus" is "Päätös" glued to "Ehdotus")."""
    words = pattern.split()
    sep = r"[ \t]+"
    first = f"[{words[0][0].upper()}{words[0][0].lower()}]" + re.escape(words[0][1:])
    as_written = sep.join([first] + [re.escape(w) for w in words[1:]])
    caps = sep.join(re.escape(w.upper()) for w in words)
    return f"(?:{as_written}|{caps})"


_LINE_START = re.compile(r"(?m)^(?P<lead>[ \t]*(?:#{1,4}[ \t]*|[•·\-–*][ \t]+)?)(?=[A-ZÅÄÖ])")


@built_once
def _table() -> tuple[dict[str, re.Pattern[str]], dict[str, list[tuple[re.Pattern[str], dict]]]]:
    """Each label's own regex, grouped by the label's first letter, and per letter one regex of them
    all that tells at once whether any may begin at a line start: there the longest label that fits
    wins ("OIKAISUVAATIMUSOHJE JA VALITUSOSOITUS" over "Oikaisuvaatimusohje")."""
    entries = [e for e in load_patterns(NAME) if e.get("label") != "guard"]
    bodies: dict[str, list[str]] = {}
    by_letter: dict[str, list[tuple[re.Pattern[str], dict]]] = {}
    for e in entries:
        if e["kind"] == "regex":
            body = e["pattern"] if e.get("ignore_case", True) is False else f"(?i:{e['pattern']})"
            letters = "*"
        else:
            body = _literal(e["pattern"])
            letters = e["pattern"][0].lower()
        bodies.setdefault(letters, []).append(body)
        by_letter.setdefault(letters, []).append((re.compile(body, re.MULTILINE), e))  # "$": end of line
    anywhere = bodies.get("*", [])
    any_of = {letter: re.compile("|".join(f"(?:{b})" for b in found + anywhere), re.MULTILINE)
              for letter, found in bodies.items() if letter != "*"}
    any_of["*"] = re.compile("|".join(f"(?:{b})" for b in anywhere), re.MULTILINE)
    return any_of, by_letter


@dataclass
class _Raw:
    entry: dict
    start: int
    end: int
    line_start: int
    line_end: int
    indent: int
    form: str
    colon: bool
    rem_start: int


def _form(text: str, end: int, line_end: int) -> tuple[str, bool, int]:
    """How the label stands: (form, has colon, where the text after it starts)."""
    pos = end
    colon = False
    while pos < line_end and text[pos] in " \t":
        pos += 1
    if pos < line_end and text[pos] == ":":
        colon = True
        pos += 1
        while pos < line_end and text[pos] in " \t":
            pos += 1
    if pos >= line_end:
        return ("colon" if colon else "own_line"), colon, line_end
    if colon:
        return "colon", True, pos
    gap = pos - end
    if gap == 0:
        return "glued", False, pos
    if text[pos] == "(":
        return "annotated", False, pos
    if gap >= 2 or "\t" in text[end:pos]:
        return "column", False, pos
    return "same_line", False, pos


def _raw(text: str) -> list[_Raw]:
    any_of, by_letter = _table()
    out = []
    for m in _LINE_START.finditer(text):
        start = m.end()
        letter = text[start].lower()
        if not (any_of.get(letter) or any_of["*"]).match(text, start):
            continue  # no label begins here: most lines
        best: tuple[int, dict] | None = None
        for pattern, entry in by_letter.get(letter, []) + by_letter.get("*", []):
            found = pattern.match(text, start)
            if found is not None and _GLUED_CAPITAL.search(found.group(0)):
                continue  # "PäätösEsittelijän ehdotus": two words glued, the label is the first ("Päätös")
            if found is not None and (best is None or found.end() > best[0]):
                best = (found.end(), entry)
        if best is None:
            continue
        end, entry = best
        line_end = text.find("\n", end)
        line_end = len(text) if line_end < 0 else line_end
        form, colon, rem = _form(text, end, line_end)
        out.append(_Raw(entry, start, end, m.start(), line_end, start - m.start(), form, colon, rem))
    return out


def _style(text: str, raws: list[_Raw]) -> Counter[str]:
    """How this document writes its labels, read from labels that can be nothing else: the ones
    alone on their line, before a colon or a column gap, or before a capital on the same line."""
    style: Counter[str] = Counter()
    for r in raws:
        if r.entry.get("ambiguous"):
            continue
        first = text[r.rem_start:r.rem_start + 1]
        if r.form in ("own_line", "colon", "column", "annotated"):
            style[r.form] += 1
        elif first[:1].isupper():
            style[r.form] += 1
    return style


def _accept(text: str, r: _Raw, style: Counter[str], label_indent: int | None) -> bool:
    entry = r.entry
    if r.indent > _MAX_LABEL_INDENT or (label_indent is not None and r.indent > label_indent + 2
                                        and style["column"] >= _STYLE_MIN):
        return False
    if r.form == "glued" and r.end < len(text):
        nxt, last = text[r.end], text[r.end - 1]
        if not nxt.isalpha() and not (nxt.isdigit() and style["glued"] >= _STYLE_MIN):
            return False  # "Päätös2025" is a word; "Käsittely2. varapuheenjohtaja …" where labels are glued
        if nxt.isalpha() and last.isupper() and nxt.isupper():
            return False  # "PÄÄTÖSVALTAISUUDEN" is one word in capitals, not "PÄÄTÖS" glued to text
    rem = text[r.rem_start:r.line_end]
    first = rem[:1]
    if r.form in ("own_line", "colon"):
        return True
    if _VOTE_WORDS.match(rem):
        return False  # "Kaupunginhallituksen ehdotus JAA, X:n ehdotus EI": a vote order
    if r.form == "annotated":
        return True
    if r.form == "column":
        return not entry.get("ambiguous") or style["column"] >= _STYLE_MIN or first.isupper()
    written_so = style[r.form] >= _STYLE_MIN
    if entry.get("ambiguous") and not written_so:
        # a common word is a label by what follows: "Esitys Kaupunginhallitus toteaa …" is a proposal,
        # "Valmistelu Salonen Jussi, kaavoitusarkkitehti, puh. …" a preparer
        return in_voice(entry["label"], rem) or bool(entry.get("person")) and looks_like_person_line(rem)
    if first.isupper() or first.isdigit() or first in "\"'”«•":
        if r.form == "glued" or len(rem) < 2:
            return True
        letters = [ch for ch in rem if ch.isalpha()]
        return not (len(letters) > 1 and all(ch.isupper() for ch in letters))  # a line in capitals: a title
    if entry.get("person") and looks_like_person_line(rem):
        return r.form != "glued" or written_so
    # Running text, not a label's: "Esittelijä peruutti esityksensä. …", "Esittelijä muutti ehdotustaan seuraavasti:"
    sentence = rem.rstrip().endswith((".", ":", "!", "?")) and len(rem.split()) >= 3 or ", että" in rem
    return bool(entry.get("lower_ok")) and written_so and not sentence


def find(source: Doc | str) -> list[Heading]:
    """Every heading in the document (a Doc or its text), in text order."""
    text = source if isinstance(source, str) else doc_text(source)
    raws = _raw(text)
    style = _style(text, raws)
    columns = Counter(r.indent for r in raws if r.form == "column" and not r.entry.get("ambiguous"))
    label_indent = min(columns) if columns else None
    out = []
    for r in raws:
        if not _accept(text, r, style, label_indent):
            continue
        head_end = r.end
        if r.colon:
            head_end = text.index(":", r.end) + 1
        rem = text[r.rem_start:r.line_end].strip()
        out.append(Heading(r.entry["label"], r.entry["id"], r.start, head_end, r.line_end, rem,
                           r.rem_start if rem else r.line_end, r.form))
    return out


_CLOSING_RULES = frozenset({"headings.closing_appeal_page"})


def is_closing(text: str, head: Heading) -> bool:
    """A closing page's heading: certification ("Otteen oikeaksi todistaa") or a heading the label
    table marks as closing ("Muutoksenhakuohjeet", "Anvisningar för sökande av ändring")."""
    return head.label == "closing" or head.rule_id in _CLOSING_RULES or bool(by_id(NAME).get(head.rule_id, {}).get("closing"))
