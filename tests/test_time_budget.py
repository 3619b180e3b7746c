"""A time budget per generated adversarial text: repair and extraction stay linear in the size.

Quadratic spots show only on long inputs built to find them (a 54 KB line of decomposed accents
took repair 107 s; 10,000 "§" took the tokenizer 16.5 s), so Hypothesis builds texts of up to
~60,000 characters from the pieces that found them: runs of punctuation, symbols and combining
marks, decomposed and double-encoded minutes, one-line minutes, huge words. Each example must
finish within a budget derived from its size, 10x the target (2 s per 100 KB) plus a second, so
that a loaded 2-core machine does not make it flake, while a quadratic cost (tens of seconds at
these sizes) still fails. `derandomize`: the same examples on every run. The benchmark with the
measured figures is `benchmarks/adversarial.py`.
"""
from __future__ import annotations

import time
import unicodedata

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from extractors import extract
from pipeline.repair import repair
from tests.conftest import DEV

MINUTES = (DEV / "dev03_ahjo_kh_tabled.txt").read_text(encoding="utf-8")
SECONDS_PER_CHAR = 10 * 2.0 / 100_000
MAX_CHARS = 60_000

_UNITS = st.sampled_from([
    "§", "_", "!?", "(", ")", "\"", "…", "–", ".", "-", "/", "«»", "*", "#", "=",
    "\u0301", "a\u0308", "o\u0308 ", "Ã¤", "Ã¶Ã¤", "\u00a0", "ä", "päätös", "§ 12\n", "Päätös\n", "1.1.2025 ",
])


@st.composite
def adversarial(draw: st.DrawFn) -> str:
    """A few long runs of short units, glued to pieces of real minutes (plain, NFD, one line, mojibake)."""
    parts = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["run", "minutes", "nfd", "one_line", "mojibake"]))
        if kind == "run":
            unit = draw(_UNITS)
            parts.append(unit * (draw(st.integers(1, 15_000)) // len(unit) + 1))
        else:
            start = draw(st.integers(0, len(MINUTES) - 1))
            piece = (MINUTES * 4)[start:start + draw(st.integers(100, 12_000))]
            parts.append({"minutes": piece, "nfd": unicodedata.normalize("NFD", piece),
                          "one_line": piece.replace("\n", " "),
                          "mojibake": piece.encode("utf-8").decode("cp1252", "replace")}[kind])
        parts.append(draw(st.sampled_from(["", " ", "\n"])))
    return "".join(parts)[:MAX_CHARS]


@settings(max_examples=25, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(adversarial())
def test_repair_and_extraction_stay_within_a_budget_linear_in_the_size(text: str) -> None:
    started = time.perf_counter()
    repaired, _ = repair(text)
    extract(repaired)
    elapsed = time.perf_counter() - started
    budget = 1.0 + SECONDS_PER_CHAR * len(text)
    assert elapsed < budget, f"{len(text)} characters took {elapsed:.1f} s, budget {budget:.1f} s"
