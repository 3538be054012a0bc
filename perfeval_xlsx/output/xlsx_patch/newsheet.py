"""A sheet the tool writes from scratch (评分汇总, 评分明细, 问题清单) as worksheet XML, with the
workbook's shared strings and styles."""

from __future__ import annotations

from typing import Any

from openpyxl.utils.cell import get_column_letter

from perfeval_xlsx.output.looks import Look
from perfeval_xlsx.output.summary_sheets import FOOTER, SheetBuilder
from perfeval_xlsx.output.xlsx_patch.parts import attr, text
from perfeval_xlsx.output.xlsx_patch.sheet import _number, cell_xml
from perfeval_xlsx.output.xlsx_patch.strings import SharedStrings
from perfeval_xlsx.output.xlsx_patch.styles import StyleBook
from perfeval_xlsx.output.xlsx_patch.workbook import FILTER, Workbook

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


class XmlBuilder(SheetBuilder):
    def __init__(self, title: str, styles: StyleBook, strings: SharedStrings, workbook: Workbook,
                 selected: bool = False) -> None:
        self.title, self.styles, self.strings, self.workbook, self.selected = title, styles, strings, workbook, selected
        self.cells: dict[tuple[int, int], tuple[Any, int]] = {}
        self.merges: list[str] = []
        self.widths: dict[int, float] = {}
        self.heights: dict[int, float] = {}
        self.frozen: int | None = None
        self.filter: str | None = None
        self.landscape = False
        self._looks: dict[int, tuple[Look, int]] = {}
        self._row_formats: dict[tuple[int, ...], list[tuple[str, int]]] = {}  # looks of a row → (column, s)
        self.rendered: dict[int, str] = {}  # row → its cells' XML
        self.max_col = 1

    def cell(self, row, col, value, look=None):
        self.cells[(row, col)] = (value, self._s(look))

    def _s(self, look: Look | None) -> int:
        if look is None:
            return 0
        known = self._looks.get(id(look))  # (by identity: hashing a Look each time costs)
        if known is None:
            known = self._looks[id(look)] = (look, self.styles.derive(0, look))
        return known[1]

    def row(self, row, values, looks):
        """Rendered at once (the tables of 评分明细 and 问题清单 are written row by row)."""
        key = tuple(map(id, looks))  # (every Look seen is kept in _looks: an id is never reused)
        formats = self._row_formats.get(key)
        if formats is None:
            formats = self._row_formats[key] = [(get_column_letter(c), self._s(look)) for c, look in enumerate(looks, 1)]
        strings = self.strings
        self.rendered[row] = "".join([cell_xml(f"{letter}{row}", value, s, strings)
                                      for (letter, s), value in zip(formats, values, strict=True)])
        self.max_col = max(self.max_col, len(values))

    def merge(self, first_row, first_col, last_row, last_col):
        self.merges.append(f"{get_column_letter(first_col)}{first_row}:{get_column_letter(last_col)}{last_row}")

    def column_width(self, col, width):
        self.widths[col] = width

    def row_height(self, row, height):
        self.heights[row] = height

    def freeze(self, row):
        self.frozen = row

    def auto_filter(self, ref):
        self.filter = ref
        from openpyxl.utils.cell import absolute_coordinate, quote_sheetname

        self.workbook.add_local(FILTER, self.title, f"{quote_sheetname(self.title)}!{absolute_coordinate(ref)}", hidden=True)

    def page(self, landscape, title_rows=None):
        self.landscape = landscape
        if title_rows:
            self.workbook.set_title_rows(self.title, title_rows)

    def _value(self, ref: str, value: Any, s: int) -> str:
        return cell_xml(ref, value, s, self.strings)

    def xml(self) -> bytes:
        rows: dict[int, list[tuple[int, Any, int]]] = {}
        for (r, c), (value, s) in self.cells.items():
            rows.setdefault(r, []).append((c, value, s))
        for r in list(self.heights) + list(self.rendered):
            rows.setdefault(r, [])
        max_row = max(rows, default=1)
        max_col = max(max((c for (_r, c) in self.cells), default=1), self.max_col)
        out = [f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">',
               '<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>',
               f'<dimension ref="A1:{get_column_letter(max_col)}{max_row}"/>',
               f'<sheetViews><sheetView showGridLines="0"{" tabSelected=" + chr(34) + "1" + chr(34) if self.selected else ""} '
               'workbookViewId="0">']
        if self.frozen:
            split = self.frozen - 1
            out.append(f'<pane ySplit="{split}" topLeftCell="A{self.frozen}" activePane="bottomLeft" state="frozen"/>'
                       f'<selection pane="bottomLeft" activeCell="A{self.frozen}" sqref="A{self.frozen}"/>')
        out.append('</sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"/>')
        if self.widths:
            out.append("<cols>" + "".join(f'<col min="{c}" max="{c}" width="{_number(w)}" customWidth="1"/>'
                                          for c, w in sorted(self.widths.items())) + "</cols>")
        out.append("<sheetData>")
        for r in sorted(rows):
            height = f' ht="{_number(self.heights[r])}" customHeight="1"' if r in self.heights else ""
            cells = self.rendered.get(r) or "".join(self._value(f"{get_column_letter(c)}{r}", value, s)
                                                    for c, value, s in sorted(rows[r], key=lambda x: x[0]))
            out.append(f'<row r="{r}"{height}>{cells}</row>' if cells else f'<row r="{r}"{height}/>')
        out.append("</sheetData>")
        if self.filter:
            out.append(f"<autoFilter ref={attr(self.filter)}/>")
        if self.merges:
            out.append(f'<mergeCells count="{len(self.merges)}">' + "".join(f'<mergeCell ref="{m}"/>' for m in self.merges)
                       + "</mergeCells>")
        out.append('<printOptions horizontalCentered="1"/>'
                   '<pageMargins left="0.4" right="0.4" top="1" bottom="1" header="0.5" footer="0.5"/>'
                   f'<pageSetup paperSize="9" orientation="{"landscape" if self.landscape else "portrait"}" fitToHeight="0"/>'
                   f"<headerFooter><oddFooter>{text('&C' + FOOTER)}</oddFooter></headerFooter></worksheet>")
        return "".join(out).encode()
