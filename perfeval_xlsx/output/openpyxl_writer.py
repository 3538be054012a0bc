"""The fallback writer of the scored copy: the unit's workbook loaded and saved by openpyxl.

Used where the patching writer (output.xlsx_patch) does not apply: a form converted from
.xls/.ods or rebuilt from its grid, a scored copy scored again, and any workbook the patcher
declines. openpyxl keeps the unit's styles, merges, widths, print setup, protection and standard
data validations, but not what it does not model (pictures without Pillow, shapes, the sheet's
extLst, rich text in cells); it would save formulas without their results, so every formula is
replaced by the value it showed (its cached result).
"""

from __future__ import annotations

import warnings
from copy import copy
from pathlib import Path
from typing import Any, Iterator

from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils.cell import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from perfeval_xlsx import __version__
from perfeval_xlsx.check import CheckResult
from perfeval_xlsx.errors import FileProblem
from perfeval_xlsx.output.atomic import replacing
from perfeval_xlsx.output.form_sheet import FormSheet, PageInfo, mark_form
from perfeval_xlsx.output.looks import BORDER_COLOR, COMMENT_AUTHOR, Look
from perfeval_xlsx.output.summary_sheets import FOOTER, SheetBuilder, detail_sheet, issues_sheet, summary_sheet
from perfeval_xlsx.reading.mark import SCORED, TEMPLATE, formula_original, mark_properties, original_name, sheet_fingerprint, workbook_mark
from perfeval_xlsx.reading.safety import MISSING, cached_formula_values
from perfeval_xlsx.vocab import SHEET_DETAIL, SHEET_ISSUES, SHEET_SUMMARY

THIN = Side(style="thin", color=BORDER_COLOR)
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)


class _Styles:
    """openpyxl objects per Look, and cell style arrays per Look: openpyxl otherwise hashes every
    Font/Alignment/Border object it is given, which dominates the time of writing a sheet."""

    def __init__(self) -> None:
        self._protos: dict[Look, Any] = {}

    @staticmethod
    def apply(cell, look: Look) -> None:
        if look.font is not None:
            f = look.font
            cell.font = Font(name=f.name, size=f.size, bold=f.bold, color=f.color)
        if look.fill is not None:
            cell.fill = PatternFill("solid", fgColor=look.fill)
        if look.align is not None:
            a = look.align
            cell.alignment = Alignment(horizontal=a.horizontal, vertical=a.vertical, wrap_text=a.wrap or None,
                                       shrink_to_fit=a.shrink or None)
        if look.border:
            cell.border = BOX
        if look.number_format:
            cell.number_format = look.number_format

    def set(self, cell, look: Look) -> None:
        proto = self._protos.get(look)
        if proto is not None:
            cell._style = copy(proto)  # noqa: SLF001
            return
        self.apply(cell, look)
        self._protos[look] = copy(cell._style)  # noqa: SLF001


def values_for_formulas(wb, source: Path, known: dict[str, dict[str, Any]], form_sheet: str = "") -> dict[str, Any]:
    """Replace every formula by the value it showed, so every viewer shows a number. Returns the
    formulas of `form_sheet` with what they showed (recorded as the unit's form had them)."""
    formulas_of_form: dict[str, Any] = {}
    for ws in wb.worksheets:
        formulas = [c for c in ws._cells.values() if c.data_type == "f"]  # noqa: SLF001
        if not formulas:
            continue
        cached = known.get(ws.title)
        if cached is None:
            try:
                cached = cached_formula_values(source, ws.title)
            except Exception:  # noqa: BLE001
                cached = {}
        for cell in formulas:
            value = cached.get(cell.coordinate, MISSING)
            if ws.title == form_sheet and isinstance(cell.value, str):
                formulas_of_form[cell.coordinate] = formula_original(cell.value) if value is MISSING \
                    else formula_original(cell.value, value)
            cell.value = None if value is MISSING or value == "" else value
    return formulas_of_form


class OpenpyxlFormSheet(FormSheet):
    def __init__(self, ws: Worksheet, formulas: dict[str, Any]) -> None:
        super().__init__()
        self.ws, self.title = ws, ws.title
        self.originals.update(formulas)  # every formula, as the reader saw it
        self.merged = [(r.min_row, r.min_col, r.max_row, r.max_col) for r in ws.merged_cells.ranges]

    def value(self, row, col):
        cell = self.ws._cells.get((row, col))  # noqa: SLF001
        return None if cell is None else cell.value

    def values(self) -> Iterator[tuple[int, int, Any]]:
        for (r, c), cell in list(self.ws._cells.items()):  # noqa: SLF001
            yield r, c, cell.value

    def text_look(self, row, col):
        cell = self.ws._cells[(row, col)]  # noqa: SLF001
        a = cell.alignment
        size = float(cell.font.sz or 11) if cell.font is not None else 11.0
        return bool(a.wrap_text), bool(a.shrink_to_fit), bool(a.textRotation), size

    def column_widths(self, upto):
        fmt = self.ws.sheet_format
        default = fmt.defaultColWidth or ((fmt.baseColWidth or 8) + 0.43)
        widths = [default] * (upto + 1)
        for dim in self.ws.column_dimensions.values():
            if dim.width and dim.min:
                for c in range(dim.min, min(dim.max or dim.min, upto) + 1):
                    widths[c] = dim.width
        return widths

    def row_heights(self, rows):
        ws = self.ws
        default = ws.sheet_format.defaultRowHeight or 15.0
        return {r: (ws.row_dimensions[r].height if r in ws.row_dimensions and ws.row_dimensions[r].height else default)
                for r in rows}

    def column_width(self, col):
        dims = self.ws.column_dimensions  # (reading a missing one would make one, 13 wide)
        return dims[col].width if col in dims else None

    def print_area(self):
        area = self.ws.print_area
        if not area:
            return []
        return list(area) if isinstance(area, list) else str(area).split(",")

    def print_title_rows(self):
        return self.ws.print_title_rows or None

    def has_row_breaks(self):
        return bool(self.ws.row_breaks.brk)

    def page(self):
        ws = self.ws
        setup, props, m = ws.page_setup, ws.sheet_properties.pageSetUpPr, ws.page_margins
        return PageInfo(paper=int(setup.paperSize) if setup.paperSize else None,
                        landscape=setup.orientation == "landscape",
                        fit_to_page=bool(props is not None and props.fitToPage), fit_height=setup.fitToHeight,
                        scale=setup.scale, margins=(m.left or 0.7, m.right or 0.7, m.top or 0.75, m.bottom or 0.75))

    def writable(self, row, col):
        return type(self.ws.cell(row, col)).__name__ != "MergedCell"  # (inside overlapping merges)

    def put(self, row, col, value, number_format):
        cell = self.ws.cell(row, col)
        cell.value = value
        if number_format:
            cell.number_format = number_format

    def restyle(self, row, col, look):
        _Styles.apply(self.ws.cell(row, col), look)

    def comment(self, row, col, text, width, height):
        comment = Comment(text, COMMENT_AUTHOR)
        comment.width, comment.height = width, height
        self.ws.cell(row, col).comment = comment

    def set_row_height(self, row, height):
        self.ws.row_dimensions[row].height = height

    def set_column_width(self, col, width):
        self.ws.column_dimensions[col].width = width

    def set_print_area(self, ranges):
        self.ws.print_area = ranges

    def set_print_title_rows(self, rows):
        self.ws.print_title_rows = rows

    def set_row_breaks(self, rows):
        from openpyxl.worksheet.pagebreak import Break

        self.ws.row_breaks.brk = [Break(id=b) for b in rows]


class OpenpyxlBuilder(SheetBuilder):
    def __init__(self, ws: Worksheet, styles: _Styles) -> None:
        self.ws, self.styles = ws, styles

    def cell(self, row, col, value, look=None):
        cell = self.ws.cell(row, col)
        if value is not None:  # (a merged range's other cells take a style only)
            cell.value = value
        if look is not None:
            self.styles.set(cell, look)

    def merge(self, first_row, first_col, last_row, last_col):
        self.ws.merge_cells(start_row=first_row, start_column=first_col, end_row=last_row, end_column=last_col)

    def column_width(self, col, width):
        self.ws.column_dimensions[get_column_letter(col)].width = width

    def row_height(self, row, height):
        self.ws.row_dimensions[row].height = height

    def freeze(self, row):
        self.ws.freeze_panes = f"A{row}"

    def auto_filter(self, ref):
        self.ws.auto_filter.ref = ref

    def page(self, landscape, title_rows=None):
        ws = self.ws
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.orientation = "landscape" if landscape else "portrait"
        ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.print_options.horizontalCentered = True
        ws.page_margins.left = ws.page_margins.right = 0.4
        ws.oddFooter.center.text = FOOTER
        if title_rows:
            ws.print_title_rows = title_rows
        ws.sheet_view.showGridLines = False


def _set_mark(wb, ws: Worksheet, originals: dict[str, Any], source_name: str) -> None:
    """Our mark, replacing any earlier one; the unit's own custom properties are kept."""
    from openpyxl.packaging.custom import StringProperty

    props = wb.custom_doc_props
    props.props = [p for p in props.props if not str(p.name).startswith("perfeval-xlsx")]
    for name, value in mark_properties(SCORED, __version__, sheet=ws.title, fingerprint=sheet_fingerprint(ws),
                                       source=source_name, originals=originals):
        props.append(StringProperty(name=name, value=value))


def write_with_openpyxl(result: CheckResult, source: Path, target: Path) -> Path:
    """Write the scored copy of `source` from its workbook loaded by openpyxl (`result.workbook`)."""
    wb = result.workbook
    if wb is None:
        raise ValueError("write_with_openpyxl needs the workbook loaded by openpyxl")
    before = getattr(wb, "perfeval_mark", None) or workbook_mark(wb)  # our template, or a scored copy
    ours = before is not None and before.kind in (TEMPLATE, SCORED)
    source_name = original_name(wb, source.name)
    for name in (SHEET_SUMMARY, SHEET_DETAIL, SHEET_ISSUES):
        if name in wb.sheetnames:
            del wb[name]
    no_result = values_for_formulas(wb, result.formula_source or source, {result.form.sheet: result.form.cached_values},
                                    result.form.sheet)
    ws = wb[result.form.sheet]
    sheet = OpenpyxlFormSheet(ws, no_result)
    mark_form(sheet, result, ours)
    styles = _Styles()  # style ids belong to this workbook
    summary_sheet(OpenpyxlBuilder(wb.create_sheet(SHEET_SUMMARY, 0), styles), result, Path(source_name))
    wb.active = 0
    detail_sheet(OpenpyxlBuilder(wb.create_sheet(SHEET_DETAIL), styles), result)
    issues_sheet(OpenpyxlBuilder(wb.create_sheet(SHEET_ISSUES), styles), result)
    for each in wb.worksheets:
        each.sheet_view.tabSelected = each.title == SHEET_SUMMARY
    _set_mark(wb, ws, sheet.originals, source_name)
    with replacing(target) as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _no_unsavable_numbers(wb)
        _save(wb, tmp)
    return target


def _save(wb, path: Path) -> None:
    """`wb.save(path)`, with the archive closed however the save ends: openpyxl leaves it open
    when a save fails, and its finaliser then prints a traceback long after (an .xlsm without
    _rels/.rels fails so: its VBA parts are copied from the damaged package)."""
    import datetime
    import zipfile

    from openpyxl.writer.excel import ExcelWriter

    try:
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
            wb.properties.modified = datetime.datetime.now(tz=datetime.timezone.utc).replace(tzinfo=None)  # (as save does)
            ExcelWriter(wb, archive).write_data()
    except KeyError:  # a part the package must have is missing from the unit's file
        raise FileProblem("E-FILE-CORRUPT", "文件缺少必需的组成部分，Excel 也无法正常打开，评分副本未能生成。"
                                            "请在 Excel/WPS 中打开并重新保存后再提交。") from None


def _no_unsavable_numbers(wb) -> None:
    """An integer too large for a float (a 400-digit number in a damaged file) cannot be saved by
    openpyxl: it is kept as the text it was, which is also how the reader took it."""
    for ws in wb.worksheets:
        for cell in getattr(ws, "_cells", {}).values():
            value = cell._value if hasattr(cell, "_value") else None
            if type(value) is int and not -(2 ** 1023) < value < 2 ** 1023:
                cell.value = str(value)


