"""A drafted report as plain data: paragraphs with a style name, and tables.

The drafting (draft.py, summary.py) decides what is said; the writer (docx.py) decides how it
looks. Tests read a Report's text without opening Word.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# paragraph styles (docx.py gives each its typography)
TITLE, SUBTITLE, NOTICE = "title", "subtitle", "notice"
HEADING1, HEADING2, HEADING3 = "heading1", "heading2", "heading3"
BODY, TABLE_TITLE, SIGNATURE = "body", "table_title", "signature"


@dataclass
class Paragraph:
    text: str
    style: str = BODY


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]
    widths_mm: list[float]
    #: (first row, first column, last row, last column) of merged cells, rows counted in `rows`
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)
    #: columns whose text is left-aligned (the others are centred)
    left: frozenset[int] = frozenset()
    #: rows set in bold (totals)
    strong: frozenset[int] = frozenset()


@dataclass
class Report:
    title: str
    subtitle: str | None
    blocks: list[Paragraph | Table]
    header: str | None = None  # printed at the top of every page (a provisional report)
    provisional: bool = False

    def paragraphs(self) -> list[str]:
        """Every text of the report in reading order (table cells row by row)."""
        out = [self.title] + ([self.subtitle] if self.subtitle else [])
        for block in self.blocks:
            if isinstance(block, Paragraph):
                out.append(block.text)
            else:
                out.append("\t".join(block.headers))
                out.extend("\t".join(row) for row in block.rows)
        return out

    def text(self) -> str:
        return "\n".join(self.paragraphs())
