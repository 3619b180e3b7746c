"""A large generated output (tables, not documents): decisions with text, mentions, votes, pages.

    python benchmarks/outputs.py OUT [--decisions 100000]

Reading and extracting 100,000 decisions' worth of PDFs would take the benchmark most of an
hour, and what `minutes search`, `case` and `browse` are measured on is the output, so this
writes the tables directly, through `pipeline.store.Store`, as a run would: documents of ten
handlings each from sixty organisations and five bodies, Finnish-looking text with inflected
words and compounds (peruskoulun, koulukuljetukset), diary ids shared by the board's and the
council's handlings (the council's extract repeats the board's as history, current=false),
named votes on every tenth handling, and pages holding the text the mentions point into.
"""
from __future__ import annotations

import argparse
import bisect
import itertools
import random
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.document import PAGE_JOIN  # noqa: E402
from pipeline.store import Store  # noqa: E402

PER_DOCUMENT = 10
PAGE_CHARS = 2400  # a page ends at the first line end after this many characters
BODIES = ("Kunnanhallitus", "Kunnanvaltuusto", "Sivistyslautakunta", "Tekninen lautakunta", "Ympäristölautakunta")
PLACES = ("Aura", "Eura", "Hamina", "Iitti", "Joroinen", "Kemi", "Lieto", "Muhos", "Nokia", "Orivesi", "Pori",
          "Raahe", "Salo", "Tuusula", "Vaasa")
NOUNS = ("koulu", "päiväkoti", "kirjasto", "katu", "vesihuolto", "talousarvio", "asemakaava", "tontti", "vuokra",
         "avustus", "sopimus", "hankinta", "uimahalli", "puisto", "silta", "valaistus", "opetus", "palvelu",
         "liikunta", "kuljetus", "kiinteistö", "rakennus", "asunto", "terveys", "nuoriso", "kulttuuri", "metsä",
         "ranta", "satama", "jätehuolto", "ympäristö", "lupa", "maksu", "taksa", "selvitys", "ohjelma")
PREFIXES = ("perus", "lähi", "yhtenäis", "kunnan", "kaupungin", "uusi", "pää", "ranta", "keskus", "kylä")
ENDINGS = ("", "n", "ssa", "sta", "lle", "t", "ja", "jen", "an", "ksi")
VERBS = ("hyväksyy", "päättää", "esittää", "merkitsee tiedoksi", "myöntää", "valitsee", "hylkää")
FILLER = ("että", "ja", "sekä", "liitteen", "mukaisesti", "vuonna", "alkaen", "euroa", "enintään", "osalta",
          "kunta", "kustannukset", "toteutetaan", "määräraha", "käyttöön", "esityksen")
OUTCOMES = ("PASSED", "PASSED", "PASSED", "PASSED_VOTED", "NOTED", "TABLED", "RETURNED", "REJECTED", "ELECTION")


SYLLABLES = ("ka", "lo", "mi", "sa", "tu", "ve", "ri", "no", "pe", "hal", "kan", "mus", "tar", "sel", "vi", "jo")
# Other words: a large vocabulary drawn with a Zipf-like skew, as real text has, so that a topic
# word stands in a few per cent of the decisions, not in all of them.
LEXICON = sorted({"".join(random.Random(i).choices(SYLLABLES, k=2 + i % 3)) + "nen" * (i % 7 == 0)
                  for i in range(6000)})
_CUMULATIVE = list(itertools.accumulate(1 / (rank + 10) for rank in range(len(LEXICON))))


def _word(rng: random.Random, topic: str | None = None) -> str:
    noun = topic or rng.choice(NOUNS)
    if rng.random() < 0.35:
        noun = rng.choice(PREFIXES + NOUNS) + noun
    return noun + rng.choice(ENDINGS)


def _sentence(rng: random.Random, words: int, topics: tuple[str, ...]) -> str:
    """Filler, the decision's topic words (inflected, in compounds) and other words."""
    out = []
    for _ in range(words):
        draw = rng.random()
        out.append(rng.choice(FILLER) if draw < 0.35 else _word(rng, rng.choice(topics)) if draw < 0.55
                   else rng.choices(LEXICON, cum_weights=_CUMULATIVE)[0] + rng.choice(ENDINGS))
    return " ".join(out).capitalize() + "."


def _document(rng: random.Random, n: int, day: date, org: str, body: str) -> dict[str, list[dict[str, Any]]]:
    doc_id = f"{n:064x}"
    text, mentions, decisions, votes = "", [], [], []
    for ordinal in range(PER_DOCUMENT):
        section = 100 + ordinal + n % 50
        current = not (body == "Kunnanvaltuusto" and ordinal % 2 == 0)  # the council's extracts: board history first
        item = ordinal // 2 if body == "Kunnanvaltuusto" else ordinal
        diary = f"{1000 + (n // 2) * PER_DOCUMENT + item}/12.01.00/{day.year}"
        topics = tuple(rng.sample(NOUNS, 2))
        title = (f"{_word(rng, topics[0]).capitalize()} {_word(rng, topics[1])} "
                 f"{rng.choice(('muutos', 'hankinta', 'vuokraus', 'periaatteet'))}")
        proposal = " ".join(_sentence(rng, rng.randint(12, 24), topics) for _ in range(rng.randint(2, 4)))
        decision = _sentence(rng, rng.randint(6, 14), topics)
        meeting = day - timedelta(days=14) if not current else day
        handling_body = "Kunnanhallitus" if not current else body
        fields = {}
        for name, value in (("section", f"§ {section}"), ("body", handling_body), ("meeting_date", meeting.strftime("%d.%m.%Y")),
                            ("diary_id", diary), ("title", title), ("proposal", proposal), ("decision", decision)):
            fields[name] = (len(text), len(text) + len(value), value)
            text += value + "\n\n"
        outcome = rng.choice(OUTCOMES)
        fields["outcome"] = fields["decision"]
        row = {"doc_id": doc_id, "decision_id": f"{doc_id}:{ordinal}", "ordinal": ordinal, "organization": org,
               "meeting_id": f"{doc_id}:meeting" if current else None, "section": section, "body": handling_body,
               "meeting_date": meeting, "diary_id": diary, "diary_id_norm": diary, "title": title, "proposal": proposal,
               "decision": decision, "outcome": outcome, "current": current, "doc_type": "minutes",
               "char_start": fields["section"][0], "char_end": len(text), "extractor_version": "bench"}
        decisions.append(row)
        for name, (start, end, value) in fields.items():
            mentions.append({"doc_id": doc_id, "kind": name, "text": value, "value": value[:40], "char_start": start,
                             "char_end": end, "rule_id": f"bench.{name}", "decision_ordinal": ordinal, "field": name})
        if current and ordinal % 10 == 3:
            for v in range(9):
                start = len(text)
                voter = f"Jäsen {rng.choice(PLACES)}{v}"
                text += voter + "\n"
                votes.append({"doc_id": doc_id, "decision_id": row["decision_id"], "ordinal": ordinal, "voter": voter,
                              "vote": "yes" if v < 5 else "no", "rule_id": "bench.votes", "char_start": start,
                              "extractor_version": "bench"})
    # pages cut at line ends: joined with PAGE_JOIN ("\n") they are the text again, so the offsets
    # above are offsets in the repaired text, as extraction gives them
    text = text.rstrip("\n")
    pages, starts, at = [], [], 0
    while at < len(text):
        end = text.find(PAGE_JOIN, at + PAGE_CHARS)
        end = len(text) if end < 0 else end
        starts.append(at)
        pages.append({"doc_id": doc_id, "page": len(pages) + 1, "text": text[at:end], "engine": "text",
                      "reader_version": "bench"})
        at = end + len(PAGE_JOIN)
    for m in mentions:
        m["page"] = bisect.bisect_right(starts, m["char_start"])
    for r in decisions:
        r["page_start"] = bisect.bisect_right(starts, r["char_start"])
        r["page_end"] = bisect.bisect_right(starts, max(r["char_start"], r["char_end"] - 1))
    for v in votes:
        v["page"] = bisect.bisect_right(starts, v["char_start"])
    document = {"doc_id": doc_id, "source_path": f"{org.split()[0]}/{body}/{day}.pdf", "status": "ok",
                "organization": org, "doc_type": "minutes", "n_pages": len(pages), "n_decisions": len(decisions),
                "page_starts": starts, "extractor_version": "bench",
                "processed_at": datetime(2026, 1, 1, tzinfo=UTC), "seconds": float(n)}
    meeting = {"doc_id": doc_id, "meeting_id": f"{doc_id}:meeting", "organization": org, "body": body,
               "meeting_date": day, "doc_type": "minutes", "extractor_version": "bench"}
    return {"documents": [document], "decisions": decisions, "mentions": mentions, "votes": votes,
            "meetings": [meeting], "pages": pages}


def generate(out: Path, decisions: int = 100_000, seed: int = 17, commit_every: int = 1000) -> int:
    """Write an output of about `decisions` decisions into `out`; returns the documents written."""
    rng = random.Random(seed)
    store = Store(out)
    n_docs = max(1, decisions // PER_DOCUMENT)
    orgs = [f"{p}{s} kunta" for p in PLACES for s in ("n", "lan", "jan", "ven")][:60]
    batch: dict[str, list[dict[str, Any]]] = {}
    ids: set[str] = set()
    with store.lock():
        for n in range(n_docs):
            org = orgs[(n // 2) % len(orgs)]
            body = BODIES[1] if n % 2 else rng.choice(BODIES[:1] + BODIES[2:])
            day = date(2019, 1, 7) + timedelta(days=(n // 2) * 2 % 2500 + 14 * (n % 2))
            for table, rows in _document(rng, n, day, org, body).items():
                batch.setdefault(table, []).extend(rows)
            ids.add(f"{n:064x}")
            if len(ids) >= commit_every or n == n_docs - 1:
                store.replace(batch, {"doc_id": set(ids), "source_path": set()})
                batch, ids = {}, set()
    return n_docs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--decisions", type=int, default=100_000)
    args = parser.parse_args()
    print(f"{generate(args.out, args.decisions)} documents written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
