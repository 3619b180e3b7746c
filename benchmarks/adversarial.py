"""Adversarial texts through the whole `minutes ingest`: is the time per document linear in its size?

    .venv/bin/python benchmarks/adversarial.py [--kb 100 400] [--only NAME ...] [--timeout 600]

Each input is made here at every size given (default 100 KB and 400 KB) from the dev corpus or
from nothing: long lines of decomposed accents (NFD) and of mojibake, runs of combining marks,
punctuation runs (§, underscores, mixed), one-line minutes, deep and wide HTML, a page of §
lines, of headings and of dates, one huge word, random Unicode. Each file is ingested alone by
`minutes ingest FILE --out TMP --quiet` as a command, and the document's own time is read from
`documents.seconds` (the worker's wall time for it: read, repair, extract); the command's wall
time is printed beside it. The target (issue 15): every input under 2 s per 100 KB of input at
every size, and the time per 100 KB not growing with the size (the ratio column: the largest
size's seconds per 100 KB over the smallest's). Exit code 0 when every input meets the target.
"""
from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path

import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT / "tests" / "fixtures" / "corpus" / "dev"
MINUTES = (DEV / "dev02_cloudnc_kh_vote_recusal.txt").read_text(encoding="utf-8")
TARGET = 2.0  # seconds per 100 KB


def _fill(unit: str, size: int) -> str:
    """`unit` repeated to `size` bytes of UTF-8."""
    per = max(1, len(unit.encode("utf-8")))
    return (unit * (size // per + 1))[: max(1, size // per) * len(unit)]


def _minutes(size: int) -> str:
    return _fill(MINUTES + "\n", size)


def _html_deep(size: int) -> str:
    depth = size // 40
    return "<html><body>" + "<div><p>Päätös" * depth + "</p></div>" * depth + "</body></html>"


def _html_wide(size: int) -> str:
    row = "<tr>" + "<td>§ 12</td><td>Hyväksyttiin</td>" * 4 + "</tr>\n"
    return "<html><body><table>" + _fill(row, size) + "</table></body></html>"


def _noise(size: int) -> str:
    rng = random.Random(15)
    chars = [chr(c) for c in range(0x20, 0x3000) if unicodedata.category(chr(c))[0] not in "CZ"]
    return "".join(rng.choice(chars) if rng.random() > 0.1 else rng.choice(" \n") for _ in range(size // 2))


# name -> (file suffix, text of about `size` bytes)
INPUTS: dict[str, tuple[str, Callable[[int], str]]] = {
    "nfd_lines": (".txt", lambda n: unicodedata.normalize("NFD", _minutes(n))),
    "nfd_one_line": (".txt", lambda n: unicodedata.normalize("NFD", _minutes(n)).replace("\n", " ")),
    "mojibake_one_line": (".txt", lambda n: _minutes(n // 2).encode("utf-8").decode("cp1252", "replace")
                          .replace("\n", " ")),
    "combining_marks": (".txt", lambda n: _fill("a" + "\u0301\u0308\u0323" * 30 + " ", n)),
    "section_signs": (".txt", lambda n: _fill("§", n)),
    "underscores": (".txt", lambda n: _fill("_", n)),
    "mixed_punctuation": (".txt", lambda n: _fill("!?.,;:()[]{}\"'«»–—…/\\|#%&*+=<>~^§", n)),
    "punctuation_words": (".txt", lambda n: _fill("((((((((" + "a" * 256, n)),
    "one_line_minutes": (".txt", lambda n: _minutes(n).replace("\n", " ")),
    "one_huge_word": (".txt", lambda n: _fill("päätös", n)),
    "section_lines": (".txt", lambda n: "".join(f"§ {i} Asia {i}\n" for i in range(n // 14))),
    "heading_lines": (".txt", lambda n: _fill("Päätös\nPäätösehdotus\nEsittelijä\nKäsittely\n", n)),
    "date_lines": (".txt", lambda n: _fill("1.1.2025 12.12.2025 klo 9.00 Dnro 12/00.01/2025\n", n)),
    "vote_lines": (".txt", lambda n: _fill("JAA 8 EI 3 TYHJÄ 1 Matti Meikäläinen esteellinen\n", n)),
    "random_unicode": (".txt", _noise),
    "html_deep": (".html", _html_deep),
    "html_wide_table": (".html", _html_wide),
}


def measure(name: str, kb: int, timeout: float) -> tuple[float, float, str]:
    """(document seconds, command seconds, status) of one input of `kb` KB, ingested alone."""
    suffix, make = INPUTS[name]
    with tempfile.TemporaryDirectory(prefix="minutes-adv-") as tmp:
        path = Path(tmp) / f"{name}{suffix}"
        path.write_text(make(kb * 1000), encoding="utf-8")
        out = Path(tmp) / "out"
        started = time.perf_counter()
        proc = subprocess.run([str(Path(sys.executable).parent / "minutes"), "ingest", str(path), "--out", str(out),
                               "--quiet", "--timeout", str(timeout), "--max-text-mb", "50"],
                              capture_output=True, text=True, cwd=ROOT)
        command = time.perf_counter() - started
        documents = pq.read_table(out / "documents").to_pylist()
        if not documents:
            reason = pq.read_table(out / "failures").to_pylist()[0]["reason"]
            return command, command, f"failed: {reason[:60]}"
        return documents[0]["seconds"], command, documents[0]["status"] if proc.returncode in (0, 1) else "error"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kb", type=int, nargs="+", default=[100, 400], help="input sizes in KB (default 100 400)")
    parser.add_argument("--only", nargs="+", choices=sorted(INPUTS), help="only these inputs")
    parser.add_argument("--timeout", type=float, default=600.0, help="--timeout for each ingest (default 600)")
    args = parser.parse_args(argv)
    sizes = sorted(args.kb)
    print(f"{'input':<20}" + "".join(f"{f'{kb} KB s':>12}{'s/100KB':>9}" for kb in sizes) + f"{'ratio':>7}  command s")
    worst, ok = 0.0, True
    for name in args.only or INPUTS:
        cells, rates, commands = "", [], []
        for kb in sizes:
            seconds, command, status = measure(name, kb, args.timeout)
            rate = seconds / (kb / 100)
            rates.append(rate)
            commands.append(f"{command:.2f}")
            cells += f"{seconds:>12.2f}{rate:>9.2f}"
            if status.startswith(("failed", "error")):
                cells += f" ({status})"
        ratio = rates[-1] / rates[0] if rates[0] > 0.05 else 1.0  # tiny times: the ratio is noise
        worst = max(worst, *rates)
        ok &= max(rates) < TARGET
        print(f"{name:<20}{cells}{ratio:>7.2f}  {' '.join(commands)}")
    print(f"worst: {worst:.2f} s per 100 KB (target under {TARGET:g}): {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
