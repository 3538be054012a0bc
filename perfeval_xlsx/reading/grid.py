"""The neutral cell grid every reader fills and the form reader works on.

A workbook, whatever its format (.xlsx/.xlsm through openpyxl or its XML, .xls/.et through xlrd,
.ods through its content.xml), becomes a `WorkbookGrid`: its sheets in order, each a `SheetGrid`
of the cells that exist, keyed by (row, column) counted from 1 as the user sees them (`A1` is
(1, 1)), with the merged ranges, column widths and row heights the reader found.

A `GridCell` holds what a viewer shows — the typed value or a formula's cached result — with the
cell's number format written the Excel way (``0.00%``, ``yyyy-mm-dd``, ``General``), so that
`reading.values` sees the same thing from every format. A formula whose result the file does not
hold has ``missing_cache`` set; its first text literal (`literal`) still names a group label
computed by a formula. Style information (`CellStyle`) is optional: it is only used to rebuild a
scored copy when LibreOffice is not there to convert the original.

Limits: a grid never holds more than `MAX_CELLS` cells (a reader refuses such a file), and a
merged range is clipped to the sheet's used area before the reader expands it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any

from openpyxl.utils.cell import get_column_letter

MAX_CELLS = 60_000  # a 自评表 has a few hundred (a 120-row form about 1,500); more is refused in seconds
MAX_ROWS, MAX_COLS = 1_048_576, 16_384  # the largest sheet Excel has

_LITERAL_RE = re.compile(r'"([^"]+)"')


def formula_literal(formula: Any) -> str:
    """The first text literal of a formula (our 一级 labels) when it has no cached value."""
    m = _LITERAL_RE.search(str(formula or ""))
    return m.group(1) if m else ""


@dataclass(frozen=True)
class CellStyle:
    """What a reader gives of a cell's look (each field None when not known)."""

    font_name: str | None = None
    font_size: float | None = None
    bold: bool = False
    italic: bool = False
    color: str | None = None  # RRGGBB
    fill: str | None = None  # RRGGBB of a solid background
    border: tuple[bool, bool, bool, bool] = (False, False, False, False)  # left, right, top, bottom
    horizontal: str | None = None  # left | center | right
    vertical: str | None = None  # top | center | bottom
    wrap: bool = False


@dataclass(slots=True)  # (a form has thousands: smaller and quicker to make)
class GridCell:
    value: Any = None  # what a viewer shows: a number, text, bool, datetime/date/time, or None
    number_format: str = "General"
    formula: str | None = None  # the formula as written, when the cell's data type is formula
    missing_cache: bool = False  # a formula whose result the file does not hold
    literal_text: str | None = None  # a formula's first text literal, when the reader knows it but not the formula
    style: CellStyle | None = None
    xf: int = 0  # an .xlsx cell's style index (s=), for the patching writer
    pos: int = -1  # where its <c> starts in the sheet XML (.xlsx)

    @property
    def is_formula(self) -> bool:
        return self.formula is not None or self.missing_cache

    @property
    def literal(self) -> str:
        return self.literal_text if self.literal_text is not None else formula_literal(self.formula)


@dataclass
class SheetGrid:
    title: str
    cells: dict[tuple[int, int], GridCell] = field(default_factory=dict)
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)  # min_row, min_col, max_row, max_col
    state: str = "visible"  # visible | hidden | veryHidden
    col_widths: dict[int, float] = field(default_factory=dict)  # column → width in characters (Excel's unit)
    row_heights: dict[int, float] = field(default_factory=dict)  # row → height in points
    #: where an .xlsx sheet's rows and cells start in its XML (for the patching writer), with the
    #: length and CRC-32 of the bytes those positions are of
    row_pos: dict[int, int] = field(default_factory=dict)
    xml_check: tuple[int, int] | None = None

    def get(self, row: int, col: int) -> GridCell | None:
        return self.cells.get((row, col))

    def value(self, address: str) -> Any:
        from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

        col, row = coordinate_from_string(address)
        cell = self.cells.get((row, column_index_from_string(col)))
        return None if cell is None else cell.value

    @property
    def max_row(self) -> int:
        return max(self.cells)[0] if self.cells else 0

    @property
    def max_col(self) -> int:
        return max(map(itemgetter(1), self.cells), default=0)

    def clipped_merges(self) -> Iterator[tuple[int, int, int, int]]:
        """The merged ranges cut to the used area (plus one row and column): a range claiming
        the whole sheet must not make the reader expand a billion cells."""
        last_row, last_col = self.max_row + 1, self.max_col + 1
        for r1, c1, r2, c2 in self.merged:
            if r1 > last_row or c1 > last_col or r2 < r1 or c2 < c1:
                continue
            yield r1, c1, min(r2, last_row), min(c2, last_col)

    def formula_cells(self) -> Iterator[tuple[str, GridCell]]:
        for (r, c), cell in self.cells.items():
            if cell.formula is not None or cell.missing_cache:  # (is_formula)
                yield f"{get_column_letter(c)}{r}", cell


@dataclass
class WorkbookGrid:
    path: Path
    kind: str  # xlsx | xls | ods: the file's real format (told by its bytes)
    reader: str  # openpyxl | xlsx-xml | xlrd | ods: what filled the grid
    sheets: list[SheetGrid] = field(default_factory=list)
    #: an .xlsx read from its XML: the file's bytes as read (its scored copy is made of these, not
    #: of the file as it may be by then) and its mark (reading.mark.Mark, or None)
    data: bytes | None = None
    mark: Any = None

    def sheet(self, title: str) -> SheetGrid | None:
        return next((s for s in self.sheets if s.title == title), None)

    @property
    def sheetnames(self) -> list[str]:
        return [s.title for s in self.sheets]


def integral(value: float) -> int | float:
    """7.94 stays, 800.0 becomes 800: what openpyxl gives for a number Excel wrote."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    return value
