"""Fill the grid from an .xlsx/.xlsm workbook loaded by openpyxl.

openpyxl gives each cell's value or formula, its data type and number format, and the merged
ranges; the cached results of formula cells come from the sheet's XML (safety.cached_formula_values),
since openpyxl gives either formulas or results, never both. Only a cell whose data type is
formula is a formula: text the unit typed starting with ``=`` stays text.
"""

from __future__ import annotations

from typing import Any

from perfeval_xlsx.reading.grid import GridCell, SheetGrid
from perfeval_xlsx.reading.safety import MISSING

STATES = {"visible": "visible", "hidden": "hidden", "veryHidden": "veryHidden"}


def sheet_from_openpyxl(ws, cached: dict[str, Any] | None = None) -> SheetGrid:
    """The grid of one openpyxl worksheet; `cached`: A1 address → a formula's cached result."""
    cached = cached or {}
    sheet = SheetGrid(ws.title, state=STATES.get(getattr(ws, "sheet_state", "visible"), "visible"))
    cells = sheet.cells
    for (r, c), cell in ws._cells.items():  # noqa: SLF001 - only the cells that exist
        value = cell.value
        if cell.data_type == "f":
            formula = getattr(value, "text", value)  # an ArrayFormula carries its text
            result = cached.get(cell.coordinate, MISSING)
            if result is MISSING:
                cells[(r, c)] = GridCell(None, cell.number_format or "General", formula=str(formula or "="), missing_cache=True)
            else:
                cells[(r, c)] = GridCell(result, cell.number_format or "General", formula=str(formula))
            continue
        if value is None:
            cells[(r, c)] = GridCell(None, cell.number_format or "General")
            continue
        if hasattr(value, "text") and not isinstance(value, str):  # rich text
            value = str(value)
        cells[(r, c)] = GridCell(value, cell.number_format or "General")
    for rng in ws.merged_cells.ranges:
        sheet.merged.append((rng.min_row, rng.min_col, rng.max_row, rng.max_col))
    return sheet
