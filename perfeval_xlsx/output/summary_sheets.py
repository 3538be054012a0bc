"""The three sheets a scored copy adds — 评分汇总 in front, 评分明细 and 问题清单 behind — as
content for a `SheetBuilder`, so that both writers (patching and openpyxl) write the same sheets.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import date, datetime
from pathlib import Path
from typing import Any

from openpyxl.utils.cell import coordinate_from_string, get_column_letter

from perfeval_xlsx import __version__
from perfeval_xlsx.check import CheckResult
from perfeval_xlsx.forms.layout import field_labels
from perfeval_xlsx.numbers import as_float as _num
from perfeval_xlsx.numbers import format_number
from perfeval_xlsx.output.form_sheet import message_without_cell
from perfeval_xlsx.output.looks import (
    ALERT_TEXT,
    DATE_FORMAT,
    GRADE_FILL,
    HEADER,
    HIGHLIGHT,
    MONEY_FORMAT,
    NOTE_TEXT,
    PERCENT_FORMAT,
    SCORE_FORMAT,
    FontLook,
    Look,
    body,
    legend_cells,
    small,
    title,
)
from perfeval_xlsx.output.textfit import row_height
from perfeval_xlsx.rules.findings import ERROR, INFO, SEVERITY_LABEL, SEVERITY_ORDER, WARNING
from perfeval_xlsx.rules.scoring import operator_word
from perfeval_xlsx.vocab import SHEET_ISSUES


class SheetBuilder(ABC):
    """A new sheet, written cell by cell (rows in any order)."""

    @abstractmethod
    def cell(self, row: int, col: int, value: Any, look: Look | None = None) -> None: ...

    def row(self, row: int, values, looks) -> None:
        """A whole row from column A on: values[i] with looks[i]."""
        for col, (value, look) in enumerate(zip(values, looks, strict=True), 1):
            self.cell(row, col, value, look)

    @abstractmethod
    def merge(self, first_row: int, first_col: int, last_row: int, last_col: int) -> None: ...

    @abstractmethod
    def column_width(self, col: int, width: float) -> None: ...

    @abstractmethod
    def row_height(self, row: int, height: float) -> None: ...

    @abstractmethod
    def freeze(self, row: int) -> None:
        """Rows above `row` stay in view."""

    @abstractmethod
    def auto_filter(self, ref: str) -> None: ...

    @abstractmethod
    def page(self, landscape: bool, title_rows: str | None = None) -> None:
        """A4, fitted to the page width, centred, 0.4-inch side margins, page numbers in the
        footer, no grid lines; `title_rows` repeated on every page."""


FOOTER = "第 &P 页，共 &N 页"
SUMMARY_WIDTHS = (18, 16, 16, 14, 12, 14)


def summary_sheet(ws: SheetBuilder, result: CheckResult, source: Path) -> None:
    s, v, p = result.score, result.validated, result.project
    for col, width in enumerate(SUMMARY_WIDTHS, 1):
        ws.column_width(col, width)
    ws.merge(1, 1, 1, 6)
    ws.cell(1, 1, "项目支出绩效自评 评分汇总", title())
    ws.row_height(1, 30)
    ws.merge(2, 1, 2, 6)
    ws.cell(2, 1, f"评分规则：{v.profile.name}（{v.profile.description}）", small(horizontal="center", wrap=True))
    ws.row_height(2, 28)
    row = 4
    for label, value in (("项目名称", p.get("name")), ("主管部门", p.get("department")), ("实施单位", p.get("unit")),
                         ("年度", p.get("year")), ("源文件", source.name)):
        ws.cell(row, 1, label, HEADER)
        ws.merge(row, 2, row, 6)
        ws.cell(row, 2, value if value is not None else "（未填）", body())
        for c in range(3, 7):
            ws.cell(row, c, None, body())
        ws.row_height(row, 20)
        row += 1
    row += 1
    ex = v.execution
    labels = field_labels(result.form.kind)
    heads = ("预算执行", f"{labels['budget']}（万元）", f"{labels['spent']}（万元）", "预算执行率", "分值", "得分")
    for c, h in enumerate(heads, 1):
        ws.cell(row, c, h, HEADER)
    ws.row_height(row, row_height(zip(heads, SUMMARY_WIDTHS, strict=False), minimum=20))
    row += 1
    values = ("执行情况", ex.budget, ex.spent,
              None if s.execution_rate is None else s.execution_rate / 100,
              s.execution_weight, s.execution_score)
    for c, value in enumerate(values, 1):
        ws.cell(row, c, value, body("left" if c == 1 else "center",
                                    {2: MONEY_FORMAT, 3: MONEY_FORMAT, 4: PERCENT_FORMAT, 6: SCORE_FORMAT}.get(c)))
    ws.row_height(row, 20)
    row += 2
    # 得分÷分值, not “得分率”: it is no rate of spending, and it stands under 预算执行率
    heads = ("一级指标", "分值", "得分", "得分÷分值")
    for c, h in enumerate(heads, 1):
        ws.cell(row, c, h, HEADER)
    ws.row_height(row, row_height(zip(heads, SUMMARY_WIDTHS, strict=False), minimum=20))
    row += 1
    parts = []
    if ex.weight is not None:
        parts.append(("预算执行", ex.weight, s.execution_score))
    parts += [(g["name"], g["weight"], g["score"]) for g in s.level1]
    for name, weight, score in parts:
        share = (score / weight) if weight and score is not None else None
        for c, value in enumerate((name, weight, score, share), 1):
            ws.cell(row, c, value, body("left" if c == 1 else "center", {3: SCORE_FORMAT, 4: PERCENT_FORMAT}.get(c)))
        row += 1
    total_weight = sum(w for _, w, _ in parts if w)
    for c, value in enumerate(("合计", round(total_weight, 2), s.total), 1):
        ws.cell(row, c, value, body("left" if c == 1 else "center", SCORE_FORMAT if c == 3 else None, bold=True))
    ws.cell(row, 4, None, body())
    row += 2
    for c, value in enumerate(("总分", s.total, "等级", s.grade), 1):
        look = body("center", SCORE_FORMAT if c == 2 else None, bold=True, size=14 if c in (2, 4) else 12)
        if c == 4:
            look = Look(look.font, GRADE_FILL.get(s.grade, "FFFFFF"), look.align, look.border, look.number_format)
        ws.cell(row, c, value, look)
    ws.row_height(row, 30)
    if s.na_weight:
        row += 1
        ws.merge(row, 1, row, 6)
        ws.cell(row, 1, f"注：不适用指标 {format_number(s.na_weight)} 分不计，总分已按其余 "
                        f"{format_number(100 - s.na_weight)} 分折算为百分制。", small(color=None))
    row += 2
    counts = {sev: sum(1 for f in result.findings if f.severity == sev) for sev in (ERROR, WARNING, INFO)}
    ws.merge(row, 1, row, 6)
    ws.cell(row, 1, f"问题：错误 {counts[ERROR]} 个，预警 {counts[WARNING]} 个，提示 {counts[INFO]} 个（详见“{SHEET_ISSUES}”工作表）。",
            Look(FontLook(size=11, bold=bool(counts[ERROR]), color=ALERT_TEXT if counts[ERROR] else "000000")))
    if counts[ERROR]:
        row += 1
        ws.merge(row, 1, row, 6)
        ws.cell(row, 1, "存在错误：总分为暂估，等级“待更正”。请按问题清单更正后重新提交评分。",
                Look(FontLook(size=11, color=ALERT_TEXT)))
    row += 2
    for col, (text, look) in enumerate(legend_cells((ERROR, WARNING, INFO)), 1):
        ws.cell(row, col, text, look)
    ws.row_height(row, 20)
    row += 2
    ws.merge(row, 1, row, 6)
    ws.cell(row, 1, f"复核得分按《项目支出绩效评价管理办法》（财预〔2020〕10号）规则计算；评分工具 perfeval-xlsx {__version__}。",
            small())
    if result.copy_note:  # the copy is not the unit's workbook as it was (output/convert.py)
        row += 1
        ws.merge(row, 1, row, 6)
        ws.cell(row, 1, result.copy_note, small(color=NOTE_TEXT, wrap=True, vertical="top"))
        ws.row_height(row, 40)
    ws.page(landscape=False)


CENTERED = (1, 5, 6, 7, 8, 9, 11, 12, 13, 14)
DETAIL_FORMATS = {9: PERCENT_FORMAT, 12: SCORE_FORMAT, 13: SCORE_FORMAT, 14: SCORE_FORMAT}
WRAPPING = (1, 2, 3, 5, 6, 9, 14)  # indices of 二级, 三级, 指标值, 实际完成值, 规则说明, 问题 (+一级)
DETAIL_HEADS = ("表中行号", "一级指标", "二级指标", "三级指标", "性质", "指标值", "实际完成值", "单位", "完成率",
                "规则说明", "分值", "自评得分", "复核得分", "差异", "问题")
DETAIL_WIDTHS = (8, 10, 12, 24, 6, 14, 14, 7, 9, 36, 7, 9, 9, 7, 40)
ISSUES_HEADS = ("序号", "级别", "工作表", "单元格", "栏目", "填写内容", "问题说明", "代码")
ISSUES_WIDTHS = (6, 7, 12, 8, 14, 18, 70, 20)
_SEVERITY_OF = {label: severity for severity, label in SEVERITY_LABEL.items()}


def as_date(text: Any) -> Any:
    """A 时效 target or actual as a date cell where it reads as one (``2024-06-28``)."""
    if isinstance(text, datetime):
        return text.date()
    if isinstance(text, str) and len(text) >= 10:
        try:
            return date.fromisoformat(text[:10]) if len(text) == 10 or text[10] in " T" else text
        except ValueError:
            return text
    return text


def _heads(ws: SheetBuilder, heads, widths) -> None:
    for c, (h, w) in enumerate(zip(heads, widths, strict=True), 1):
        ws.cell(1, c, h, HEADER)
        ws.column_width(c, w)


def detail_sheet(ws: SheetBuilder, result: CheckResult) -> None:
    _heads(ws, DETAIL_HEADS, DETAIL_WIDTHS)
    ws.row_height(1, 30)
    by_row: dict[int, list[str]] = {}
    for f in result.findings:
        if f.cell and f.sheet == result.form.sheet:
            by_row.setdefault(coordinate_from_string(f.cell)[1], []).append(f"【{SEVERITY_LABEL[f.severity]}】{f.message}")
    plain = [body("center" if c in CENTERED else "left", DETAIL_FORMATS.get(c)) for c in range(1, len(DETAIL_HEADS) + 1)]
    dated_look = {c: body("center" if c in CENTERED else "left", DATE_FORMAT) for c in (6, 7)}
    problem = {sev: Look(plain[14].font, color, plain[14].align, True) for sev, color in HIGHLIGHT.items()}
    r = 2
    for x in result.score.records:
        quant, dated = x.kind == "quant", x.kind == "date"
        values = (
            x.row, x.level1, x.level2, x.level3, operator_word(x.operator),
            _num(x.target) if quant else as_date(x.target_text) if dated else x.target_text,
            _num(x.actual) if quant else as_date(x.actual_text) if dated else x.actual_text,
            x.unit, None if _num(x.completion) is None else x.completion / 100, x.rule,
            _num(x.weight), _num(x.self_score), _num(x.score), _num(x.difference),
            "\n".join(by_row.get(x.row, [])) or None,
        )
        looks = plain
        if dated or by_row.get(x.row):
            looks = list(plain)
            for c in (6, 7):
                if isinstance(values[c - 1], date):
                    looks[c - 1] = dated_look[c]
            if by_row.get(x.row):
                worst = _SEVERITY_OF[min(by_row[x.row], key=lambda m: SEVERITY_ORDER[_SEVERITY_OF[m[1:3]]])[1:3]]
                if worst in problem:
                    looks[14] = problem[worst]
        ws.row(r, values, looks)
        # only the columns of free text can need more than one line
        ws.row_height(r, row_height((values[i], DETAIL_WIDTHS[i]) for i in WRAPPING))
        r += 1
    ws.freeze(2)
    ws.auto_filter(f"A1:{get_column_letter(len(DETAIL_HEADS))}{max(r - 1, 1)}")
    ws.page(landscape=True, title_rows="1:1")


def issues_sheet(ws: SheetBuilder, result: CheckResult) -> None:
    _heads(ws, ISSUES_HEADS, ISSUES_WIDTHS)
    findings = sorted(result.findings, key=lambda f: f.sort_key)
    labels = field_labels(result.form.kind if result.form is not None else "")
    plain = [body("center" if c in (1, 2, 4) else "left") for c in range(1, len(ISSUES_HEADS) + 1)]
    dated = body("left", DATE_FORMAT)
    severity = {sev: Look(plain[1].font, color, plain[1].align, True) for sev, color in HIGHLIGHT.items()}
    for i, f in enumerate(findings, 1):
        value = f.value if isinstance(f.value, (int, float, str)) or f.value is None else as_date(f.value)
        if not isinstance(value, (int, float, str, type(None))) and not hasattr(value, "isoformat"):
            value = str(value)
        # the cell has its own column: the message does not repeat it
        values = (i, SEVERITY_LABEL[f.severity], f.sheet, f.cell, labels.get(f.field, f.field), value,
                  message_without_cell(f), f.code)
        looks = list(plain)
        if hasattr(value, "isoformat"):
            looks[5] = dated
        if f.severity in severity:
            looks[1] = severity[f.severity]
        ws.row(i + 1, values, looks)
        ws.row_height(i + 1, row_height((v, w) for v, w in zip(values, ISSUES_WIDTHS, strict=True) if isinstance(v, str)))
    if not findings:
        ws.cell(2, 1, "没有发现问题。", Look(FontLook()))
    ws.freeze(2)
    ws.auto_filter(f"A1:H{max(len(findings) + 1, 2)}")
    ws.page(landscape=True, title_rows="1:1")

