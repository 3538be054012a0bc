"""Write the scored copy: the unit's own workbook with the scores filled in as values, problem
cells highlighted with a comment, and three sheets in front and behind: 评分汇总, 评分明细,
问题清单. The input file is never touched; the copy is written to a temporary file and renamed.

openpyxl keeps the unit's styles, merges, widths, print setup, protection and (standard) data
validations. It would save formulas without their results, which viewers, previews and pandas
show as empty, so every formula is replaced by the value it showed (its cached result), and the
cells we compute are written as values.

The printed form adds up: where no score can be computed the unit's own figure moves to the
原填自评得分 column, as where it differs from ours. Rows are made tall enough for their text,
and pages break between groups (see pagination). The workbook carries the mark of a scored copy
(reading.mark) with every value it changed, so that reading it again gives the unit's own form.
"""

from __future__ import annotations

import warnings
from copy import copy
from pathlib import Path
from typing import Any

from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils.cell import column_index_from_string, coordinate_from_string, get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from perfeval_xlsx import __version__
from perfeval_xlsx.check import CheckResult
from perfeval_xlsx.numbers import as_float as _num
from perfeval_xlsx.numbers import differs
from perfeval_xlsx.numbers import format_number
from perfeval_xlsx.output.atomic import replacing
from perfeval_xlsx.output.pagination import Block, column_points, group_blocks, page_capacity, row_breaks, with_footer
from perfeval_xlsx.output.textfit import line_height, lines_needed, row_height
from perfeval_xlsx.reading.mark import (
    SCORED,
    TEMPLATE,
    formula_original,
    mark_properties,
    original_name,
    sheet_fingerprint,
    workbook_mark,
)
from perfeval_xlsx.reading.safety import MISSING, cached_formula_values
from perfeval_xlsx.rules.findings import ERROR, INFO, SEVERITY_LABEL, SEVERITY_ORDER, WARNING
from perfeval_xlsx.rules.scoring import operator_word, records
from perfeval_xlsx.vocab import FONT, GRADES, PROVISIONAL, SHEET_DETAIL, SHEET_ISSUES, SHEET_SUMMARY, TITLE_FONT, scored_name as _scored_name
from perfeval_xlsx.forms.layout import field_labels

SUMMARY, DETAIL, ISSUES = SHEET_SUMMARY, SHEET_DETAIL, SHEET_ISSUES
SELF_SCORE_HEADER = "原填自评得分"
#: the three highlights, apart from each other and from the pale yellow of input cells in colour
#: and in grey (luma 0.299 R + 0.587 G + 0.114 B: input 242, 提示 214, 预警 180, 错误 123)
HIGHLIGHT = {ERROR: "D9534F", WARNING: "F4A460", INFO: "C5D9F1"}
FILL = {severity: PatternFill("solid", fgColor=color) for severity, color in HIGHLIGHT.items()}
LEGEND = {ERROR: "错误：须更正", WARNING: "预警：请核实", INFO: "提示：说明怎样理解"}
SCORE_FORMAT = "0.00"  # every 得分 and 总分 the tool writes, on every sheet
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
GRADE_FILL = {**dict(zip(GRADES, ("C6EFCE", "DDEBF7", "FFEB9C", "FFC7CE"))), PROVISIONAL: "FFC7CE"}
THIN = Side(style="thin", color="808080")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)


def scored_name(source: Path) -> str:
    suffix = ".xlsm" if source.suffix.lower() == ".xlsm" else ".xlsx"
    return _scored_name(source.stem, suffix)


def _values_for_formulas(wb, source: Path, known: dict[str, dict[str, Any]], form_sheet: str = "") -> dict[str, Any]:
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


class _FormEdits:
    """Writes into the unit's form sheet, remembering what each changed cell held before (the
    value the unit wrote, or the formula that showed nothing) so that reading the copy again
    gives the unit's own form."""

    def __init__(self, ws: Worksheet, formulas: dict[str, Any]):
        self.ws = ws
        self.originals: dict[str, Any] = dict(formulas)  # every formula, as the reader saw it

    def anchor(self, address: str):
        cell = self.ws[address]
        if type(cell).__name__ == "MergedCell":  # a follower of a merged range: its anchor
            col, row = coordinate_from_string(address)
            for rng in self.ws.merged_cells.ranges:
                if rng.min_row <= row <= rng.max_row and rng.min_col <= column_index_from_string(col) <= rng.max_col:
                    return self.ws.cell(rng.min_row, rng.min_col)
        return cell

    def set(self, address: str, value: Any, number_format: str | None = None):
        if not address:
            return None
        cell = self.anchor(address)
        if type(cell).__name__ == "MergedCell":  # inside overlapping merges openpyxl cannot resolve:
            return None  # left as the unit has it (评分汇总 and 评分明细 carry the score)
        self.originals.setdefault(cell.coordinate, cell.value)
        cell.value = value
        if number_format:
            cell.number_format = number_format
        return cell


def _has_value(cell) -> bool:
    return cell is not None and not cell.blank and cell.value not in (None, "")


def _fill_form(edits: _FormEdits, result: CheckResult) -> None:
    ws = edits.ws
    form, s, v = result.form, result.score, result.validated
    ex = v.execution
    tolerance = v.profile.self_score_tolerance  # the one W-SELF-SCORE uses: kept ⇔ flagged
    moved: list[tuple[int, Any]] = []  # (row, the unit's own 得分) shown in 原填自评得分
    if ex.rate_cell is not None and s.execution_rate is not None and ex.weight is not None:
        edits.set(ex.rate_cell.address, s.execution_rate / 100, "0.00%")
    if ex.score_cell is not None and ex.weight is not None:
        if s.execution_score is not None:
            edits.set(ex.score_cell.address, s.execution_score, SCORE_FORMAT)
            if ex.self_score is not None and differs(ex.self_score, s.execution_score, tolerance):
                moved.append((ex.score_cell.row, ex.self_score))
        elif _has_value(ex.score_cell):  # no score can be computed: the unit's figure is not ours
            moved.append((ex.score_cell.row, ex.score_cell.value))
            edits.set(ex.score_cell.address, None)
    by_row = {r.row.row: r for r in v.rows}
    for r in records(s.rows):
        ri = by_row[r.row]
        cell = ri.row.score
        if cell is None or not cell.address:
            continue
        score = _num(r.score)
        if score is None:
            if _has_value(cell):
                moved.append((r.row, cell.value))
                edits.set(cell.address, None)
            continue
        edits.set(cell.address, score, SCORE_FORMAT)
        self_score = _num(cell.value) if isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool) else None
        if self_score is not None and differs(self_score, score, tolerance):
            moved.append((r.row, self_score))
        elif self_score is None and _has_value(cell):  # a text such as “6分”
            moved.append((r.row, cell.value))
    if form.total_score is not None and s.total is not None:
        edits.set(form.total_score.address, s.total, SCORE_FORMAT)
    if form.grade is not None and form.grade.address:
        edits.set(form.grade.address, s.grade)
    if not form.columns:
        return
    last_col = max(column_index_from_string(c) for c in form.columns.values())
    col = get_column_letter(last_col + 1)
    notes: list[tuple[int, str]] = []
    if s.na_weight and form.total_row and s.total is not None:
        notes.append((form.total_row, f"不适用指标 {format_number(s.na_weight)} 分不计，总分已按其余 "
                                      f"{format_number(100 - s.na_weight)} 分折算为百分制"))
    if not moved and not notes:
        return
    # the unit's own 得分, kept visible in a column right of the table
    if form.header_row and moved:
        header = edits.set(f"{col}{form.header_row}", SELF_SCORE_HEADER)
        if header is not None:  # (None: inside merges openpyxl cannot resolve)
            header.font = Font(name=FONT, bold=True, size=10)
            header.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
            header.border = BOX
            header.fill = HEADER_FILL
    for row, value in moved:
        cell = edits.set(f"{col}{row}", value)
        if cell is None:
            continue
        cell.font = Font(name=FONT, size=10, color="595959")
        cell.alignment = Alignment(horizontal="center", vertical="center")
        cell.border = BOX
    for row, text in notes:
        cell = edits.set(f"{col}{row}", text)
        if cell is None:
            continue
        cell.font = Font(name=FONT, size=9, color="595959")
        cell.alignment = Alignment(horizontal="left", vertical="center", wrap_text=True)
    width = ws.column_dimensions[col].width
    wanted = 16 if notes else 10
    if not width or width < wanted:
        ws.column_dimensions[col].width = wanted
    _widen_print_area(ws, last_col + 1)


def _widen_print_area(ws: Worksheet, last_col: int) -> None:
    """A print area that ends left of the new column is widened to show it."""
    area = ws.print_area
    if not area:
        return
    ranges = []
    for part in (area if isinstance(area, list) else str(area).split(",")):
        ref = part.split("!")[-1].replace("$", "")
        if ":" not in ref:
            ranges.append(ref)
            continue
        first, last = ref.split(":")
        col, row = coordinate_from_string(last)
        if column_index_from_string(col) < last_col:
            last = f"{get_column_letter(last_col)}{row}"
        ranges.append(f"{first}:{last}")
    ws.print_area = ranges


def message_without_cell(f) -> str:
    """A finding's message without its leading ``H25：`` where the cell is shown beside it."""
    prefix = f"{f.cell}：" if f.cell else ""
    return f.message[len(prefix):] if prefix and f.message.startswith(prefix) else f.message


def _mark_findings(ws: Worksheet, result: CheckResult) -> set[str]:
    """Fill problem cells by their worst finding (错误 red, 预警 orange, 提示 blue), with the
    messages in a comment. Returns the severities shown (for the legend)."""
    shown: set[str] = set()
    by_cell: dict[str, list] = {}
    for f in result.findings:
        if f.cell and f.sheet == ws.title:
            by_cell.setdefault(f.cell, []).append(f)
    for address, findings in by_cell.items():
        worst = min(findings, key=lambda f: SEVERITY_ORDER[f.severity]).severity
        try:
            cell = ws[address]
        except (ValueError, IndexError):
            continue
        if type(cell).__name__ == "MergedCell":
            continue
        if worst in FILL:
            cell.fill = FILL[worst]
            shown.add(worst)
        text = "\n".join(f"【{SEVERITY_LABEL[f.severity]}】{message_without_cell(f)}" for f in findings)
        comment = Comment(text, "perfeval-xlsx")
        comment.width, comment.height = 320, min(60 + 40 * len(findings) + len(text) // 2, 400)
        cell.comment = comment
    return shown


def _legend_cells(ws: Worksheet, row: int, first_col: int, severities, write) -> None:
    """颜色说明 and one filled cell per severity shown, on `row` from `first_col` on."""
    label = write(row, first_col, "颜色说明：")
    if label is None:  # the row lies inside merges openpyxl cannot resolve: no legend there
        return
    label.font = Font(name=FONT, size=9, bold=True)
    label.alignment = Alignment(horizontal="right", vertical="center")
    col = first_col + 1
    for severity in (ERROR, WARNING, INFO):
        if severity not in severities:
            continue
        cell = write(row, col, LEGEND[severity])
        if cell is None:
            continue
        cell.fill = FILL[severity]
        cell.font = Font(name=FONT, size=9)
        cell.border = BOX
        cell.alignment = Alignment(horizontal="center", vertical="center", shrink_to_fit=True)
        col += 1
    note = write(row, col, "鼠标停在标色的单元格上可看到说明；各问题见“问题清单”工作表。")
    if note is not None:
        note.font = Font(name=FONT, size=9, color="595959")
        note.alignment = Alignment(horizontal="left", vertical="center")


def _form_legend(edits: _FormEdits, result: CheckResult, severities: set[str]) -> int | None:
    """The legend two rows below the form's last row, inside the print area; returns its row."""
    if not severities:
        return None
    ws = edits.ws
    last = max([result.form.total_row or 0, result.form.grade.row if result.form.grade is not None else 0,
                max((r.row for r in result.form.indicators), default=0)])
    used = [r for (r, c) in ws._cells if r > last and ws._cells[(r, c)].value not in (None, "")]  # noqa: SLF001
    row = (max(used) if used else last) + 2

    def write(r: int, c: int, value: str):
        return edits.set(f"{get_column_letter(c)}{r}", value)

    _legend_cells(ws, row, 1, severities, write)
    area = ws.print_area
    if area:
        _extend_print_area_rows(ws, row)
    return row


def _extend_print_area_rows(ws: Worksheet, last_row: int) -> None:
    ranges = []
    for part in (ws.print_area if isinstance(ws.print_area, list) else str(ws.print_area).split(",")):
        ref = part.split("!")[-1].replace("$", "")
        if ":" in ref:
            first, last = ref.split(":")
            col, row = coordinate_from_string(last)
            if row < last_row:
                last = f"{col}{last_row}"
            ref = f"{first}:{last}"
        ranges.append(ref)
    ws.print_area = ranges


# --------------------------------------------------------------------------- rows and pages


def _column_widths(ws: Worksheet, upto: int) -> list[float]:
    """Width (character units) of columns 1..upto, index 0 unused."""
    default = ws.sheet_format.defaultColWidth or ((ws.sheet_format.baseColWidth or 8) + 0.43)
    widths = [default] * (upto + 1)
    for dim in ws.column_dimensions.values():
        if dim.width and dim.min:
            for c in range(dim.min, min(dim.max or dim.min, upto) + 1):
                widths[c] = dim.width
    return widths


def _row_heights(ws: Worksheet, rows) -> dict[int, float]:
    default = ws.sheet_format.defaultRowHeight or 15.0
    return {r: (ws.row_dimensions[r].height if r in ws.row_dimensions and ws.row_dimensions[r].height else default)
            for r in rows}


def _fit_rows(ws: Worksheet, last_row: int) -> dict[int, float]:
    """Make every row down to `last_row` tall enough for its wrapped text (rows only grow; a
    merged range shares what it needs over its rows). Returns the heights of rows 1..last_row."""
    cells = ws._cells  # noqa: SLF001
    max_col = max((c for (r, c) in cells if r <= last_row), default=1)
    widths = _column_widths(ws, max_col + 1)
    spans: dict[tuple[int, int], tuple[int, int, int, int]] = {}
    for rng in ws.merged_cells.ranges:
        if rng.min_row <= last_row:
            spans[(rng.min_row, rng.min_col)] = (rng.min_row, rng.min_col, rng.max_row, rng.max_col)
    heights = _row_heights(ws, range(1, last_row + 1))
    needs: list[tuple[int, int, float]] = []  # (first row, last row, points)
    for (r, c), cell in cells.items():
        if r > last_row or cell.value is None or isinstance(cell.value, bool):
            continue
        alignment = cell.alignment
        if not alignment.wrap_text or alignment.shrink_to_fit or alignment.textRotation:
            continue
        text = cell.value if isinstance(cell.value, str) else format_number(cell.value) \
            if isinstance(cell.value, (int, float)) else str(cell.value)
        top, left, bottom, right = spans.get((r, c), (r, c, r, c))
        width = sum(widths[min(k, len(widths) - 1)] for k in range(left, right + 1))
        size = float(cell.font.sz or 11) if cell.font is not None else 11.0
        lines = lines_needed(text, width, size)
        if lines > 1:
            needs.append((top, min(bottom, last_row), lines * line_height(size) + 4))
    for top, bottom, need in sorted(needs, key=lambda n: n[1] - n[0]):  # single rows first
        have = sum(heights[k] for k in range(top, bottom + 1))
        if need > have + 0.5:
            extra = (need - have) / (bottom - top + 1)
            for k in range(top, bottom + 1):
                heights[k] = round(heights[k] + extra, 2)
                ws.row_dimensions[k].height = heights[k]
    return heights


def _sheet_groups(ws: Worksheet, form) -> list[Block]:
    """The 一级 groups of the form as printed (their merged label cells, blank rows included),
    each with its 二级 groups; the rows between two groups belong to the one above."""
    cols = {k: column_index_from_string(form.columns[k]) for k in ("level1", "level2") if k in form.columns}
    spans: dict[int, list[tuple[int, int]]] = {c: [] for c in cols.values()}
    for rng in ws.merged_cells.ranges:
        if rng.min_col in spans and rng.max_row > rng.min_row:
            spans[rng.min_col].append((rng.min_row, rng.max_row))

    def span(key: str, row: int) -> tuple[int, int]:
        col = cols.get(key)
        return next(((a, b) for a, b in spans.get(col, []) if a <= row <= b), (row, row))

    tops: dict[tuple[int, int], set[tuple[int, int]]] = {}
    for ind in form.indicators:
        top = span("level1", ind.row)
        child = span("level2", ind.row)
        tops.setdefault(top, set()).add((max(child[0], top[0]), min(child[1], top[1])))
    if not tops:
        return group_blocks([(ind.row, ind.level1, ind.level2) for ind in form.indicators])
    blocks = [Block(a, b, [Block(x, y) for x, y in sorted(children)]) for (a, b), children in sorted(tops.items())]
    for block, after in zip(blocks, blocks[1:] + [None], strict=True):
        if after is not None and after.first > block.last + 1:
            block.last = after.first - 1  # blank rows (or a group left blank) go with the group above
        block.children[0].first = block.first
        for child, nxt in zip(block.children, block.children[1:] + [None], strict=True):
            child.last = nxt.first - 1 if nxt is not None else block.last
    return blocks


def _paginate_form(ws: Worksheet, result: CheckResult, heights: dict[int, float], footer_last: int,
                   ours: bool) -> None:
    """Print titles (the indicator header) and manual breaks between groups: no group printed
    apart from its label, the totals never alone on a page. A unit's own breaks are kept,
    except in our template, whose breaks were worked out for the blank form."""
    form = result.form
    if not form.header_row or not form.indicators or not form.columns:
        return
    if not ws.print_title_rows:
        ws.print_title_rows = f"{form.header_row}:{form.header_row}"
    if ws.row_breaks.brk and not ours:
        return
    setup, props = ws.page_setup, ws.sheet_properties.pageSetUpPr
    fit = bool(props is not None and props.fitToPage)
    if fit and setup.fitToHeight not in (0, "0"):  # fitted to a number of pages tall: no breaks
        ws.row_breaks.brk = []
        return
    last_col = max(column_index_from_string(c) for c in form.columns.values()) + 1
    widths = _column_widths(ws, last_col)
    sheet_width = sum(column_points(w) for w in widths[1:last_col + 1])
    m = ws.page_margins
    capacity = page_capacity(paper=int(setup.paperSize) if setup.paperSize else 9,
                             landscape=setup.orientation == "landscape",
                             margins_in=(m.left or 0.7, m.right or 0.7, m.top or 0.75, m.bottom or 0.75),
                             sheet_width_pt=sheet_width, scale=None if fit else (setup.scale or 100), fit_width=fit)
    blocks = with_footer(_sheet_groups(ws, form), footer_last)
    blocks[0].first = form.header_row
    titles = str(ws.print_title_rows).replace("$", "").split(":")
    try:
        title_rows = (int(titles[0]), int(titles[-1]))
    except ValueError:
        title_rows = (form.header_row, form.header_row)
    repeated = sum(heights.get(r, 15.0) for r in range(title_rows[0], title_rows[1] + 1))
    before = sum(heights.get(r, 15.0) for r in range(1, form.header_row))
    breaks = row_breaks(heights, blocks, capacity, before=before, repeated=repeated, title_rows=title_rows)
    from openpyxl.worksheet.pagebreak import Break

    ws.row_breaks.brk = [Break(id=b) for b in breaks]


class _Styles:
    """Styles applied by copying a prototype's style array: openpyxl otherwise hashes every
    Font/Alignment/Border object it is given, which dominates the time of writing a sheet."""

    def __init__(self) -> None:
        self._protos: dict[tuple, Any] = {}

    def body(self, cell, *, align: str = "left", fmt: str | None = None, bold: bool = False, size: int = 10) -> None:
        key = ("body", align, fmt, bold, size)
        proto = self._protos.get(key)
        if proto is not None:
            cell._style = copy(proto)  # noqa: SLF001
            return
        cell.font = Font(name=FONT, size=size, bold=bold)
        cell.alignment = Alignment(horizontal=align, vertical="center", wrap_text=True)
        cell.border = BOX
        if fmt:
            cell.number_format = fmt
        self._protos[key] = copy(cell._style)  # noqa: SLF001

    def header(self, ws: Worksheet, row: int, columns: int) -> None:
        for c in range(1, columns + 1):
            cell = ws.cell(row, c)
            proto = self._protos.get(("header",))
            if proto is not None:
                cell._style = copy(proto)  # noqa: SLF001
                continue
            cell.font = Font(name=FONT, bold=True, size=10)
            cell.fill = HEADER_FILL
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
            cell.border = BOX
            self._protos[("header",)] = copy(cell._style)  # noqa: SLF001


def _page(ws: Worksheet, landscape: bool, title_rows: str | None = None) -> None:
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"
    if title_rows:
        ws.print_title_rows = title_rows
    ws.sheet_view.showGridLines = False


def _put(ws: Worksheet, row: int, col: int, value: Any):
    cell = ws.cell(row, col)
    cell.value = value
    return cell


def _set_mark(wb, ws: Worksheet, originals: dict[str, Any], source_name: str) -> None:
    """Our mark, replacing any earlier one; the unit's own custom properties are kept."""
    from openpyxl.packaging.custom import StringProperty

    props = wb.custom_doc_props
    props.props = [p for p in props.props if not str(p.name).startswith("perfeval-xlsx")]
    for name, value in mark_properties(SCORED, __version__, sheet=ws.title, fingerprint=sheet_fingerprint(ws),
                                       source=source_name, originals=originals):
        props.append(StringProperty(name=name, value=value))


def _summary_sheet(wb, st: _Styles, result: CheckResult, source: Path, severities: set[str] = frozenset()) -> None:
    ws = wb.create_sheet(SUMMARY, 0)
    s, v, p = result.score, result.validated, result.project
    for col, width in zip("ABCDEF", (18, 16, 16, 14, 12, 14)):
        ws.column_dimensions[col].width = width
    ws.merge_cells("A1:F1")
    ws["A1"] = "项目支出绩效自评 评分汇总"
    ws["A1"].font = Font(name=TITLE_FONT, size=16, bold=True)
    ws["A1"].alignment = Alignment(horizontal="center", vertical="center")
    ws.row_dimensions[1].height = 30
    ws.merge_cells("A2:F2")
    ws["A2"] = f"评分规则：{v.profile.name}（{v.profile.description}）"
    ws["A2"].font = Font(name=FONT, size=9, color="595959")
    ws["A2"].alignment = Alignment(horizontal="center", wrap_text=True)
    ws.row_dimensions[2].height = 28
    row = 4
    for label, value in (("项目名称", p.get("name")), ("主管部门", p.get("department")), ("实施单位", p.get("unit")),
                         ("年度", p.get("year")), ("源文件", source.name)):
        ws.cell(row, 1, label)
        st.header(ws, row, 1)
        ws.merge_cells(start_row=row, start_column=2, end_row=row, end_column=6)
        ws.cell(row, 2, value if value is not None else "（未填）")
        for c in range(2, 7):
            st.body(ws.cell(row, c))
        ws.row_dimensions[row].height = 20
        row += 1
    row += 1
    ex = v.execution
    labels = field_labels(result.form.kind)
    widths = (18, 16, 16, 14, 12, 14)
    heads = ("预算执行", f"{labels['budget']}（万元）", f"{labels['spent']}（万元）", "预算执行率", "分值", "得分")
    for c, h in enumerate(heads, 1):
        ws.cell(row, c, h)
    st.header(ws, row, 6)
    ws.row_dimensions[row].height = row_height(zip(heads, widths, strict=False), minimum=20)
    row += 1
    values = ("执行情况", ex.budget, ex.spent,
              None if s.execution_rate is None else s.execution_rate / 100,
              s.execution_weight, s.execution_score)
    for c, value in enumerate(values, 1):
        ws.cell(row, c, value)
        st.body(ws.cell(row, c), align="left" if c == 1 else "center",
                fmt={2: "#,##0.00", 3: "#,##0.00", 4: "0.00%", 6: SCORE_FORMAT}.get(c))
    ws.row_dimensions[row].height = 20
    row += 2
    # 得分÷分值, not “得分率”: it is no rate of spending, and it stands under 预算执行率
    heads = ("一级指标", "分值", "得分", "得分÷分值")
    for c, h in enumerate(heads, 1):
        ws.cell(row, c, h)
    st.header(ws, row, 4)
    ws.row_dimensions[row].height = row_height(zip(heads, widths, strict=False), minimum=20)
    row += 1
    parts = []
    if ex.weight is not None:
        parts.append(("预算执行", ex.weight, s.execution_score))
    parts += [(g["name"], g["weight"], g["score"]) for g in s.level1]
    for name, weight, score in parts:
        share = (score / weight) if weight and score is not None else None
        for c, value in enumerate((name, weight, score, share), 1):
            ws.cell(row, c, value)
            st.body(ws.cell(row, c), align="left" if c == 1 else "center",
                    fmt={3: SCORE_FORMAT, 4: "0.00%"}.get(c))
        row += 1
    total_weight = sum(w for _, w, _ in parts if w)
    for c, value in enumerate(("合计", round(total_weight, 2), s.total), 1):
        ws.cell(row, c, value)
        st.body(ws.cell(row, c), align="left" if c == 1 else "center", bold=True, fmt=SCORE_FORMAT if c == 3 else None)
    st.body(ws.cell(row, 4))
    row += 2
    ws.cell(row, 1, "总分")
    ws.cell(row, 2, s.total)
    ws.cell(row, 3, "等级")
    ws.cell(row, 4, s.grade)
    for c in range(1, 5):
        st.body(ws.cell(row, c), align="center", bold=True, size=14 if c in (2, 4) else 12,
                fmt=SCORE_FORMAT if c == 2 else None)
    ws.cell(row, 4).fill = PatternFill("solid", fgColor=GRADE_FILL.get(s.grade, "FFFFFF"))
    ws.row_dimensions[row].height = 30
    if s.na_weight:
        row += 1
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=6)
        ws.cell(row, 1, f"注：不适用指标 {format_number(s.na_weight)} 分不计，总分已按其余 {format_number(100 - s.na_weight)} 分折算为百分制。")
        ws.cell(row, 1).font = Font(name=FONT, size=9)
    row += 2
    counts = {sev: sum(1 for f in result.findings if f.severity == sev) for sev in (ERROR, WARNING, INFO)}
    ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=6)
    ws.cell(row, 1, f"问题：错误 {counts[ERROR]} 个，预警 {counts[WARNING]} 个，提示 {counts[INFO]} 个（详见“{ISSUES}”工作表）。")
    ws.cell(row, 1).font = Font(name=FONT, size=11, bold=bool(counts[ERROR]), color="9C0006" if counts[ERROR] else "000000")
    if counts[ERROR]:
        row += 1
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=6)
        ws.cell(row, 1, "存在错误：总分为暂估，等级“待更正”。请按问题清单更正后重新提交评分。")
        ws.cell(row, 1).font = Font(name=FONT, size=11, color="9C0006")
    row += 2
    _legend_cells(ws, row, 1, (ERROR, WARNING, INFO), lambda r, c, value: _put(ws, r, c, value))
    ws.row_dimensions[row].height = 20
    row += 2
    ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=6)
    ws.cell(row, 1, f"复核得分按《项目支出绩效评价管理办法》（财预〔2020〕10号）规则计算；评分工具 perfeval-xlsx {__version__}。")
    ws.cell(row, 1).font = Font(name=FONT, size=9, color="595959")
    if result.copy_note:  # the copy is not the unit's workbook as it was (output/convert.py)
        row += 1
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=6)
        ws.cell(row, 1, result.copy_note)
        ws.cell(row, 1).font = Font(name=FONT, size=9, color="9C5700")
        ws.cell(row, 1).alignment = Alignment(wrap_text=True, vertical="top")
        ws.row_dimensions[row].height = 40
    _page(ws, landscape=False)
    wb.active = 0


CENTERED = (1, 5, 6, 7, 8, 9, 11, 12, 13, 14)
DETAIL_FORMATS = {9: "0.00%", 12: SCORE_FORMAT, 13: SCORE_FORMAT, 14: SCORE_FORMAT}
DATE_FORMAT = "yyyy-mm-dd"


def _as_date(text: Any) -> Any:
    """A 时效 target or actual as a date cell where it reads as one (``2024-06-28``)."""
    from datetime import date, datetime

    if isinstance(text, datetime):
        return text.date()
    if isinstance(text, str) and len(text) >= 10:
        try:
            return date.fromisoformat(text[:10]) if len(text) == 10 or text[10] in " T" else text
        except ValueError:
            return text
    return text
WRAPPING = (1, 2, 3, 5, 6, 9, 14)  # indices of 二级, 三级, 指标值, 实际完成值, 规则说明, 问题 (+一级)


def _detail_sheet(wb, st: _Styles, result: CheckResult) -> None:
    ws = wb.create_sheet(DETAIL)
    heads = ("表中行号", "一级指标", "二级指标", "三级指标", "性质", "指标值", "实际完成值", "单位", "完成率",
             "规则说明", "分值", "自评得分", "复核得分", "差异", "问题")
    widths = (8, 10, 12, 24, 6, 14, 14, 7, 9, 36, 7, 9, 9, 7, 40)
    for c, (h, w) in enumerate(zip(heads, widths), 1):
        ws.cell(1, c, h)
        ws.column_dimensions[get_column_letter(c)].width = w
    st.header(ws, 1, len(heads))
    ws.row_dimensions[1].height = 30
    by_row: dict[int, list[str]] = {}
    for f in result.findings:
        if f.cell and f.sheet == result.form.sheet:
            by_row.setdefault(coordinate_from_string(f.cell)[1], []).append(f"【{SEVERITY_LABEL[f.severity]}】{f.message}")
    r = 2
    for x in records(result.score.rows):
        quant, dated = x.kind == "quant", x.kind == "date"
        values = (
            x.row, x.level1, x.level2, x.level3, operator_word(x.operator),
            _num(x.target) if quant else _as_date(x.target_text) if dated else x.target_text,
            _num(x.actual) if quant else _as_date(x.actual_text) if dated else x.actual_text,
            x.unit, None if _num(x.completion) is None else x.completion / 100, x.rule,
            _num(x.weight), _num(x.self_score), _num(x.score), _num(x.difference),
            "\n".join(by_row.get(x.row, [])) or None,
        )
        ws.append(values)
        for c in range(1, len(values) + 1):  # (ws[r] would scan every cell of the sheet)
            fmt = DATE_FORMAT if c in (6, 7) and not isinstance(values[c - 1], (str, int, float, type(None))) \
                else DETAIL_FORMATS.get(c)
            st.body(ws.cell(r, c), align="center" if c in CENTERED else "left", fmt=fmt)
        if by_row.get(x.row):
            worst = min(by_row[x.row], key=lambda m: SEVERITY_ORDER[_SEVERITY_OF[m[1:3]]])
            ws.cell(r, 15).fill = FILL[_SEVERITY_OF[worst[1:3]]]
        # only the columns of free text can need more than one line
        ws.row_dimensions[r].height = row_height((values[i], widths[i]) for i in WRAPPING)
        r += 1
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(heads))}{max(r - 1, 1)}"
    _page(ws, landscape=True, title_rows="1:1")


_SEVERITY_OF = {label: severity for severity, label in SEVERITY_LABEL.items()}


def _issues_sheet(wb, st: _Styles, result: CheckResult) -> None:
    ws = wb.create_sheet(ISSUES)
    heads = ("序号", "级别", "工作表", "单元格", "栏目", "填写内容", "问题说明", "代码")
    widths = (6, 7, 12, 8, 14, 18, 70, 20)
    for c, (h, w) in enumerate(zip(heads, widths), 1):
        ws.cell(1, c, h)
        ws.column_dimensions[get_column_letter(c)].width = w
    st.header(ws, 1, len(heads))
    findings = sorted(result.findings, key=lambda f: f.sort_key)
    labels = field_labels(result.form.kind if result.form is not None else "")
    for i, f in enumerate(findings, 1):
        value = f.value if isinstance(f.value, (int, float, str)) or f.value is None else _as_date(f.value)
        if not isinstance(value, (int, float, str, type(None))) and not hasattr(value, "isoformat"):
            value = str(value)
        # the cell has its own column: the message does not repeat it
        values = (i, SEVERITY_LABEL[f.severity], f.sheet, f.cell, labels.get(f.field, f.field), value,
                  message_without_cell(f), f.code)
        for c, v in enumerate(values, 1):
            ws.cell(i + 1, c, v)
            st.body(ws.cell(i + 1, c), align="center" if c in (1, 2, 4) else "left",
                    fmt=DATE_FORMAT if c == 6 and hasattr(v, "isoformat") else None)
        if f.severity in FILL:
            ws.cell(i + 1, 2).fill = FILL[f.severity]
        ws.row_dimensions[i + 1].height = row_height((v, w) for v, w in zip(values, widths, strict=True) if isinstance(v, str))
    if not findings:
        ws.cell(2, 1, "没有发现问题。")
        ws.cell(2, 1).font = Font(name=FONT, size=10)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:H{max(len(findings) + 1, 2)}"
    _page(ws, landscape=True, title_rows="1:1")


def write_scored_copy(result: CheckResult, source: Path, target: Path) -> Path:
    """Write the scored copy of `source` (already read into `result` with its workbook)."""
    wb = result.workbook
    if wb is None:
        raise ValueError("write_scored_copy needs check_file(..., keep_workbook=True)")
    before = getattr(wb, "perfeval_mark", None) or workbook_mark(wb)  # our template, or a scored copy
    ours = before is not None and before.kind in (TEMPLATE, SCORED)
    source_name = original_name(wb, source.name)
    styles = _Styles()  # style ids belong to this workbook
    for name in (SUMMARY, DETAIL, ISSUES):
        if name in wb.sheetnames:
            del wb[name]
    no_result = _values_for_formulas(wb, result.formula_source or source, {result.form.sheet: result.form.cached_values}, result.form.sheet)
    ws = wb[result.form.sheet]
    edits = _FormEdits(ws, no_result)
    _fill_form(edits, result)
    severities = _mark_findings(ws, result)
    legend_row = _form_legend(edits, result, severities)
    form = result.form
    footer_last = max([form.total_row or 0, form.grade.row if form.grade is not None else 0,
                       *(r.row for r in form.indicators)])
    heights = _fit_rows(ws, max(legend_row or 0, footer_last, form.header_row or 0) + 1)
    if footer_last:
        _paginate_form(ws, result, heights, legend_row or footer_last, ours)
    _summary_sheet(wb, styles, result, Path(source_name), severities)
    _detail_sheet(wb, styles, result)
    _issues_sheet(wb, styles, result)
    for sheet in wb.worksheets:
        sheet.sheet_view.tabSelected = sheet.title == SUMMARY
    _set_mark(wb, ws, edits.originals, source_name)
    with replacing(target) as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _no_unsavable_numbers(wb)
        wb.save(tmp)
    return target


def _no_unsavable_numbers(wb) -> None:
    """An integer too large for a float (a 400-digit number in a damaged file) cannot be saved by
    openpyxl: it is kept as the text it was, which is also how the reader took it."""
    for ws in wb.worksheets:
        for cell in getattr(ws, "_cells", {}).values():
            value = cell._value if hasattr(cell, "_value") else None
            if type(value) is int and not -(2 ** 1023) < value < 2 ** 1023:
                cell.value = str(value)
