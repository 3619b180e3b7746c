"""What segmentation finds: items (§), their handlings and the headed sections inside them.

Kept apart from the segmentation itself (extractors/segment.py) so that the readers of these
shapes (titles, fields, the fill functions, the meeting) need not import how they are found.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from extractors.candidates import Candidate
from extractors.context import Context
from extractors.headings import Heading
from extractors.lines import Lines

# Labels that frame a document rather than open the item's own text: an officer decision puts
# "Päätöspäivämäärä" and "Päätöksen tekijä" above its title and diary number.
FRAME_LABELS = frozenset({"other", "decision_date", "officer", "description", "attachments", "distribution",
                          "history", "closing", "chrome"})
SUBSTANTIVE = frozenset({"proposal", "proposal_revised", "decision", "processing", "presenter", "preparer", "contact"})

@dataclass
class Section:
    heading: Heading
    start: int            # where the section's content starts (after the heading)
    end: int

    @property
    def label(self) -> str:
        return self.heading.label


@dataclass
class Handling:
    start: int
    end: int
    marker: Candidate | None
    sections: list[Section] = field(default_factory=list)
    current: bool = False

    def of(self, *labels: str) -> list[Section]:
        return [s for s in self.sections if s.label in labels]


@dataclass
class Item:
    start: int
    end: int
    marker: Candidate | None
    handlings: list[Handling] = field(default_factory=list)
    title: str | None = None
    title_start: int = 0
    title_end: int = 0
    header: list[Candidate] = field(default_factory=list)     # every candidate of its header block


@dataclass
class Segmentation:
    items: list[Item]
    candidates: list[Candidate]
    headings: list[Heading]
    context: Context
    lines: Lines
    front_end: int                  # where the first item starts: the cover/front matter ends here
    toc: list[Candidate] = field(default_factory=list)
    closing: int | None = None      # where the closing pages start (appeal instructions, certification)
    own: dict[int, bool | None] = field(default_factory=dict)   # candidate line → names the meeting's own body/date

    @property
    def markers(self) -> list[Candidate]:
        return self.candidates
