"""The workbook a scored copy of an .xls/.et/.ods form is written from. The copy is always .xlsx.

Where LibreOffice is installed, the original is converted headless (reading.soffice: private
profile, timeout, recalculation on load) and the scores are written into the conversion, which
keeps the unit's layout — styles, merges, widths, print setup, validations. Where it is not (or
the conversion fails), the workbook is rebuilt from the grid the form was read from: values
(a formula as its result), merged cells, column widths, row heights, number formats, fonts,
fills, borders and alignment as far as the reader gave them, and 评分汇总 says so.
The original is never written to.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

from perfeval_xlsx.check import CheckResult
from perfeval_xlsx.reading.grid import CellStyle, WorkbookGrid
from perfeval_xlsx.vocab import FONT

FORMAT_NAMES = {"xls": "旧版 Excel/WPS 格式（.xls/.et）", "ods": "OpenDocument 格式（.ods）"}
NOTE_CONVERTED = "原表为{fmt}：本评分副本由 LibreOffice 转换为 .xlsx 后写入评分，原文件未改动。"
NOTE_REBUILT = ("注意：原表为{fmt}，{why}，本评分副本按读取到的表格内容重建（保留数值、合并单元格、列宽行高和能读取到的字体、"
                "边框、底色），原表的其他格式（图片、批注、数据有效性、打印设置等）未保留；原文件未改动。")
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
THIN = Side(style="thin", color="000000")


class CopySource:
    """Prepares `result.workbook` for a non-.xlsx form; `close()` removes the temporary files."""

    def __init__(self) -> None:
        self.folder: Path | None = None

    def prepare(self, result: CheckResult, source: Path) -> None:
        from perfeval_xlsx.reading.soffice import ConversionFailed, convert, soffice_binary

        fmt = FORMAT_NAMES.get(result.kind, "")
        why = "本机未安装 LibreOffice"
        if soffice_binary() is not None:
            try:
                self.folder = Path(tempfile.mkdtemp(prefix="perfeval-copy-"))
                converted = convert(source, "xlsx", self.folder)
                if self._use(result, converted):
                    result.copy_note = NOTE_CONVERTED.format(fmt=fmt)
                    return
                why = "LibreOffice 转换后的工作簿与原表不一致"
            except ConversionFailed as exc:
                why = "LibreOffice 转换超时" if "longer" in str(exc) else "LibreOffice 转换失败"
            except OSError:
                why = "LibreOffice 转换失败"
        result.workbook = workbook_from_grid(result.grid)
        titles = dict(zip(result.grid.sheetnames, result.workbook.sheetnames, strict=False))
        result.form.sheet = titles.get(result.form.sheet, result.form.sheet)  # a name Excel cannot hold, changed
        result.formula_source = None
        result.copy_note = NOTE_REBUILT.format(why=why, fmt=fmt)

    @staticmethod
    def _use(result: CheckResult, converted: Path) -> bool:
        from perfeval_xlsx.errors import FileProblem
        from perfeval_xlsx.reading.reader import open_workbook
        from perfeval_xlsx.reading.safety import cached_formula_values, inspect_file

        try:
            if inspect_file(converted) != "xlsx":
                return False
            wb = open_workbook(converted)
        except FileProblem:
            return False
        if result.form.sheet not in wb.sheetnames:
            return False
        try:
            cached = cached_formula_values(converted, result.form.sheet)
        except Exception:  # noqa: BLE001
            cached = {}
        result.workbook = wb
        result.formula_source = converted
        # the copy shows what LibreOffice computed on loading (also the results the file lacked)
        result.form.cached_values = {**result.form.cached_values, **cached}
        return True

    def close(self) -> None:
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None


def workbook_from_grid(grid: WorkbookGrid):
    """An openpyxl workbook holding the grid's sheets: values, merges, widths, heights, looks."""
    from openpyxl import Workbook
    from openpyxl.utils.cell import get_column_letter

    wb = Workbook()
    wb.remove(wb.active)
    looks: dict[CellStyle, tuple[Font, PatternFill | None, Border, Alignment]] = {}
    for index, sheet in enumerate(grid.sheets):
        ws = wb.create_sheet(_title(sheet.title, index, wb.sheetnames))
        ws.sheet_state = sheet.state if sheet.state in ("visible", "hidden", "veryHidden") else "visible"
        for (r, c), cell in sheet.cells.items():
            value = _cell_value(cell)
            target = ws.cell(r, c)
            if value is not None:
                target.value = value
                if isinstance(value, str) and value.startswith("="):
                    target.data_type = "s"  # text the unit typed, not a formula
            if cell.number_format and cell.number_format != "General":
                target.number_format = cell.number_format
            if cell.style is not None:
                font, fill, border, align = looks.get(cell.style) or looks.setdefault(cell.style, _look(cell.style))
                target.font, target.border, target.alignment = font, border, align
                if fill is not None:
                    target.fill = fill
        for r1, c1, r2, c2 in sheet.clipped_merges():
            if (r1, c1) != (r2, c2):
                ws.merge_cells(start_row=r1, start_column=c1, end_row=r2, end_column=c2)
        for c, width in sheet.col_widths.items():
            if c <= 1024:
                ws.column_dimensions[get_column_letter(c)].width = width
        for r, height in sheet.row_heights.items():
            if r <= 100000:
                ws.row_dimensions[r].height = height
        _fit_to_width(ws, sum(sheet.col_widths.get(c, 9) for c in range(1, sheet.max_col + 1)))
    if not wb.worksheets:
        wb.create_sheet("Sheet1")
    visible = [i for i, ws in enumerate(wb.worksheets) if ws.sheet_state == "visible"]
    wb.active = visible[0] if visible else 0
    return wb


def _fit_to_width(ws, width: float) -> None:
    """The print setup the original's reader does not give: A4, one page wide."""
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if width > 100 else "portrait"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True


def _title(title: str, index: int, taken: list[str]) -> str:
    """The sheet's own name (findings name it), unless Excel cannot hold it at all."""
    clean = re.sub(r"[\[\]:*?/\\]", "_", title) or f"Sheet{index + 1}"
    return clean if clean not in taken else f"{clean[:27]}_{index + 1}"


def _cell_value(cell) -> Any:
    if cell.missing_cache:
        return cell.literal or None  # a group label computed by a formula: its literal
    value = cell.value
    if isinstance(value, str):
        value = _ILLEGAL.sub("", value)
    return value


def _look(style: CellStyle) -> tuple[Font, PatternFill | None, Border, Alignment]:
    font = Font(name=style.font_name or FONT, size=style.font_size or 11, bold=style.bold, italic=style.italic,
                color=style.color or "000000")
    fill = PatternFill("solid", fgColor=style.fill) if style.fill else None
    left, right, top, bottom = style.border
    border = Border(left=THIN if left else Side(), right=THIN if right else Side(),
                    top=THIN if top else Side(), bottom=THIN if bottom else Side())
    align = Alignment(horizontal=style.horizontal, vertical=style.vertical, wrap_text=style.wrap or None)
    return font, fill, border, align
