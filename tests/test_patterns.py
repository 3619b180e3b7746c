"""Pattern files are data checked at load: a mistake fails loudly with the file, line and fix."""
from __future__ import annotations

from pathlib import Path

import pytest

from extractors import PATTERNS_DIR, base
from extractors.base import PATTERN_KEYS, PatternError


def test_every_pattern_file_is_declared_and_loads() -> None:
    names = sorted(p.stem for p in PATTERNS_DIR.glob("*.jsonl"))
    assert names == sorted(PATTERN_KEYS)
    for name in names:
        assert base.load_patterns(name)


def _load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, lines: list[str]) -> tuple:
    (tmp_path / f"{name}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setattr(base, "PATTERNS_DIR", tmp_path)
    return base.load_patterns.__wrapped__(name)


@pytest.mark.parametrize("line, message", [
    ('{"id": "headings.x", "pattern": "Päätös", "label": "decision", "lower_okay": true}', "unknown key(s) ['lower_okay']"),
    ('{"id": "x", "pattern": "Päätös", "label": "decision"}', "must look like 'headings.<what>'"),
    ('{"id": "headings.x", "pattern": "(", "kind": "regex", "label": "decision"}', "bad regular expression"),
    ('{"id": "headings.x", "pattern": "Päätös", "kind": "glob"}', "kind 'glob' is not one of"),
    ('{"id": "headings.x", "pattern": ["Päätös"], "kind": "token"}', "a token pattern is a list of spaCy token dicts"),
    ('{"id": "headings.x" "pattern": "Päätös"}', "not valid JSON"),
])
def test_a_bad_entry_names_its_line_and_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, line: str,
                                                message: str) -> None:
    with pytest.raises(PatternError, match=r"headings\.jsonl:2: .*") as err:
        _load(tmp_path, monkeypatch, "headings", ["// a comment", line])
    assert message in str(err.value)


def test_a_good_entry_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    found = _load(tmp_path, monkeypatch, "headings",
                  ['{"id": "headings.x", "pattern": "Päätös", "label": "decision", "lower_ok": true, "note": "why"}'])
    assert found[0]["kind"] == "phrase" and found[0]["lower_ok"] is True


def test_duplicate_ids_and_undeclared_files_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    entry = '{"id": "headings.x", "pattern": "Päätös", "label": "decision"}'
    with pytest.raises(PatternError, match="duplicate id 'headings.x'"):
        _load(tmp_path, monkeypatch, "headings", [entry, entry])
    with pytest.raises(PatternError, match="PATTERN_KEYS"):
        _load(tmp_path, monkeypatch, "newthing", ['{"id": "newthing.x", "pattern": "a"}'])
