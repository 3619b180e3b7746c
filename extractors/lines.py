"""The document as lines: what segmentation reasons over.

Every structural decision (which line opens an item, a handling or a section, where a title
ends) is about whole lines and their neighbours, so the text is cut into lines once, each with
its offsets, and the neighbours are found by index rather than by searching the text again.
"""
from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from functools import cached_property

_CHROME_CHARS = frozenset(" \t-–—_=*#.·•|")


@dataclass(frozen=True, slots=True)
class Line:
    index: int
    start: int          # offset of the line's first character
    end: int            # offset of its end (the newline is not part of it)
    text: str           # the line as written

    @property
    def stripped(self) -> str:
        return self.text.strip()

    @property
    def blank(self) -> bool:
        return not self.text.strip()

    @property
    def content_start(self) -> int:
        """Offset of the first non-space character (the line's end where it is blank)."""
        lead = len(self.text) - len(self.text.lstrip())
        return self.start + lead if lead < len(self.text) else self.end

    @property
    def indent(self) -> int:
        return len(self.text) - len(self.text.lstrip(" \t"))

    @property
    def rule(self) -> bool:
        """A separator or chrome line: nothing but dashes, dots, underscores and the like."""
        s = self.text
        return bool(s.strip()) and all(ch in _CHROME_CHARS for ch in s)


class Lines:
    """The lines of one text, addressable by index and by offset."""

    def __init__(self, text: str) -> None:
        self.text = text
        out: list[Line] = []
        pos, n = 0, len(text)
        while pos <= n:
            nl = text.find("\n", pos)
            stop = n if nl < 0 else nl
            out.append(Line(len(out), pos, stop, text[pos:stop]))
            if nl < 0:
                break
            pos = nl + 1
        self.lines = out

    def __len__(self) -> int:
        return len(self.lines)

    def __getitem__(self, index: int) -> Line:
        return self.lines[index]

    @cached_property
    def _starts(self) -> list[int]:
        return [ln.start for ln in self.lines]

    def at(self, offset: int) -> Line:
        """The line holding `offset`."""
        return self.lines[max(0, bisect_right(self._starts, offset) - 1)]

    def between(self, start: int, end: int) -> list[Line]:
        """Lines that start in [start, end)."""
        first = bisect_right(self._starts, start - 1)
        out = []
        for ln in self.lines[first:]:
            if ln.start >= end:
                break
            out.append(ln)
        return out

    def next_content(self, index: int, limit: int | None = None) -> Line | None:
        """The first non-blank line after line `index` (before line `limit`)."""
        stop = len(self.lines) if limit is None else min(limit, len(self.lines))
        for ln in self.lines[index + 1:stop]:
            if not ln.blank:
                return ln
        return None

    def prev_content(self, index: int, floor: int = 0) -> Line | None:
        """The last non-blank line before line `index` (not before line `floor`)."""
        for ln in reversed(self.lines[floor:index]):
            if not ln.blank:
                return ln
        return None
