"""Write the scored copy: the unit's own workbook with the scores filled in as values, problem
cells highlighted with a comment, and three sheets in front and behind: 评分汇总, 评分明细,
问题清单. The input file is never touched; the copy is written to a temporary file and renamed.

openpyxl keeps the unit's styles, merges, widths, print setup, protection and (standard) data
validations. It would save formulas without their results, which viewers, previews and pandas
show as empty, so every formula is replaced by the value it showed (its cached result), and the
cells we compute are written as values.
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
from perfeval_xlsx.output.textfit import row_height
from perfeval_xlsx.reading.safety import MISSING, cached_formula_values
from perfeval_xlsx.rules.findings import ERROR, INFO, SEVERITY_LABEL, SEVERITY_ORDER, WARNING
from perfeval_xlsx.rules.scoring import operator_word, records
from perfeval_xlsx.vocab import FONT, GRADES, PROVISIONAL, SHEET_DETAIL, SHEET_ISSUES, SHEET_SUMMARY, TITLE_FONT, scored_name as _scored_name
from perfeval_xlsx.forms.layout import field_labels

SUMMARY, DETAIL, ISSUES = SHEET_SUMMARY, SHEET_DETAIL, SHEET_ISSUES
SELF_SCORE_HEADER = "原填自评得分"
FILL = {
    ERROR: PatternFill("solid", fgColor="FFC7CE"),
    WARNING: PatternFill("solid", fgColor="FFEB9C"),
}
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
GRADE_FILL = {**dict(zip(GRADES, ("C6EFCE", "DDEBF7", "FFEB9C", "FFC7CE"))), PROVISIONAL: "FFC7CE"}
THIN = Side(style="thin", color="808080")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)


def scored_name(source: Path) -> str:
    suffix = ".xlsm" if source.suffix.lower() == ".xlsm" else ".xlsx"
    return _scored_name(source.stem, suffix)


def _values_for_formulas(wb, source: Path, known: dict[str, dict[str, Any]]) -> None:
    """Replace every formula by the value it showed, so every viewer shows a number."""
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
            cell.value = None if value is MISSING or value == "" else value


def _set(ws: Worksheet, address: str, value: Any, number_format: str | None = None) -> None:
    if not address:
        return
    cell = ws[address]
    if type(cell).__name__ == "MergedCell":  # a follower of a merged range: write its anchor
        col, row = coordinate_from_string(address)
        for rng in ws.merged_cells.ranges:
            if (rng.min_row <= row <= rng.max_row and rng.min_col <= column_index_from_string(col) <= rng.max_col):
                cell = ws.cell(rng.min_row, rng.min_col)
                break
    cell.value = value
    if number_format:
        cell.number_format = number_format


def _fill_form(ws: Worksheet, result: CheckResult) -> None:
    form, s, v = result.form, result.score, result.validated
    ex = v.execution
    tolerance = v.profile.self_score_tolerance  # the one W-SELF-SCORE uses: kept ⇔ flagged
    differing: list[tuple[int, float]] = []
    if ex.rate_cell is not None and s.execution_rate is not None and ex.weight is not None:
        _set(ws, ex.rate_cell.address, s.execution_rate / 100, "0.00%")
    if ex.score_cell is not None and ex.weight is not None and s.execution_score is not None:
        _set(ws, ex.score_cell.address, s.execution_score)
        if ex.self_score is not None and differs(ex.self_score, s.execution_score, tolerance):
            differing.append((ex.score_cell.row, ex.self_score))
    by_row = {r.row.row: r for r in v.rows}
    for r in records(s.rows):
        ri = by_row[r.row]
        score = _num(r.score)
        if ri.row.score is None or not ri.row.score.address or score is None:
            continue
        _set(ws, ri.row.score.address, score)
        self_score = _num(ri.row.score.value) if isinstance(ri.row.score.value, (int, float)) else None
        if self_score is not None and differs(self_score, score, tolerance):
            differing.append((r.row, self_score))
    if form.total_score is not None and s.total is not None:
        _set(ws, form.total_score.address, s.total)
    if form.grade is not None and form.grade.address:
        _set(ws, form.grade.address, s.grade)
    if differing and "score" in form.columns:
        # the unit's own 得分, kept visible in a column right of the table
        last_col = max(column_index_from_string(c) for c in form.columns.values())
        col = get_column_letter(last_col + 1)
        if form.header_row:
            header = ws[f"{col}{form.header_row}"]
            header.value = SELF_SCORE_HEADER
            header.font = Font(name=FONT, bold=True, size=10)
            header.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
            header.border = BOX
            header.fill = PatternFill("solid", fgColor="FFEB9C")
        for row, value in differing:
            cell = ws[f"{col}{row}"]
            cell.value = value
            cell.font = Font(name=FONT, size=10, color="9C5700")
            cell.alignment = Alignment(horizontal="center", vertical="center")
            cell.border = BOX
        width = ws.column_dimensions[col].width
        if not width or width < 10:
            ws.column_dimensions[col].width = 10
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


def _mark_findings(ws: Worksheet, result: CheckResult) -> None:
    """Fill problem cells red (error) or amber (warning), with the messages in a comment."""
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
        text = "\n".join(f"【{SEVERITY_LABEL[f.severity]}】{f.message}" for f in findings)
        comment = Comment(text, "perfeval-xlsx")
        comment.width, comment.height = 320, min(60 + 40 * len(findings) + len(text) // 2, 400)
        cell.comment = comment


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


def _summary_sheet(wb, st: _Styles, result: CheckResult, source: Path) -> None:
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
    heads = ("预算执行", f"{labels['budget']}（万元）", f"{labels['spent']}（万元）", "执行率", "分值", "得分")
    for c, h in enumerate(heads, 1):
        ws.cell(row, c, h)
    st.header(ws, row, 6)
    row += 1
    values = ("预算执行率", ex.budget, ex.spent,
              None if s.execution_rate is None else s.execution_rate / 100,
              s.execution_weight, s.execution_score)
    for c, value in enumerate(values, 1):
        ws.cell(row, c, value)
        st.body(ws.cell(row, c), align="left" if c == 1 else "center",
              fmt={2: "#,##0.00", 3: "#,##0.00", 4: "0.00%"}.get(c))
    row += 2
    for c, h in enumerate(("一级指标", "分值", "得分", "得分率"), 1):
        ws.cell(row, c, h)
    st.header(ws, row, 4)
    row += 1
    parts = []
    if ex.weight is not None:
        parts.append(("预算执行率", ex.weight, s.execution_score))
    parts += [(g["name"], g["weight"], g["score"]) for g in s.level1]
    for name, weight, score in parts:
        rate = (score / weight) if weight and score is not None else None
        for c, value in enumerate((name, weight, score, rate), 1):
            ws.cell(row, c, value)
            st.body(ws.cell(row, c), align="left" if c == 1 else "center", fmt="0.00%" if c == 4 else None)
        row += 1
    total_weight = sum(w for _, w, _ in parts if w)
    for c, value in enumerate(("合计", round(total_weight, 2), s.total), 1):
        ws.cell(row, c, value)
        st.body(ws.cell(row, c), align="left" if c == 1 else "center", bold=True)
    st.body(ws.cell(row, 4))
    row += 2
    ws.cell(row, 1, "总分")
    ws.cell(row, 2, s.total)
    ws.cell(row, 3, "等级")
    ws.cell(row, 4, s.grade)
    for c in range(1, 5):
        st.body(ws.cell(row, c), align="center", bold=True, size=14 if c in (2, 4) else 12)
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


CENTERED = (1, 5, 8, 9, 11, 12, 13, 14)
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
        quant = x.kind == "quant"
        values = (
            x.row, x.level1, x.level2, x.level3, operator_word(x.operator),
            _num(x.target) if quant else x.target_text, _num(x.actual) if quant else x.actual_text,
            x.unit, None if _num(x.completion) is None else x.completion / 100, x.rule,
            _num(x.weight), _num(x.self_score), _num(x.score), _num(x.difference),
            "\n".join(by_row.get(x.row, [])) or None,
        )
        ws.append(values)
        for c in range(1, len(values) + 1):  # (ws[r] would scan every cell of the sheet)
            st.body(ws.cell(r, c), align="center" if c in CENTERED else "left", fmt="0.00%" if c == 9 else None)
        if by_row.get(x.row):
            ws.cell(r, 15).fill = FILL[ERROR] if any("【错误】" in m for m in by_row[x.row]) else FILL[WARNING]
        # only the columns of free text can need more than one line
        ws.row_dimensions[r].height = row_height((values[i], widths[i]) for i in WRAPPING)
        r += 1
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(heads))}{max(r - 1, 1)}"
    _page(ws, landscape=True, title_rows="1:1")


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
        value = f.value if isinstance(f.value, (int, float, str)) or f.value is None else str(f.value)
        values = (i, SEVERITY_LABEL[f.severity], f.sheet, f.cell, labels.get(f.field, f.field), value, f.message, f.code)
        for c, v in enumerate(values, 1):
            ws.cell(i + 1, c, v)
            st.body(ws.cell(i + 1, c), align="center" if c in (1, 2, 4) else "left")
        if f.severity in FILL:
            ws.cell(i + 1, 2).fill = FILL[f.severity]
        ws.row_dimensions[i + 1].height = row_height(zip(values, widths))
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
    styles = _Styles()  # style ids belong to this workbook
    for name in (SUMMARY, DETAIL, ISSUES):
        if name in wb.sheetnames:
            del wb[name]
    _values_for_formulas(wb, result.formula_source or source, {result.form.sheet: result.form.cached_values})
    ws = wb[result.form.sheet]
    _fill_form(ws, result)
    _mark_findings(ws, result)
    _summary_sheet(wb, styles, result, source)
    _detail_sheet(wb, styles, result)
    _issues_sheet(wb, styles, result)
    for sheet in wb.worksheets:
        sheet.sheet_view.tabSelected = sheet.title == SUMMARY
    with replacing(target) as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wb.save(tmp)
    return target
