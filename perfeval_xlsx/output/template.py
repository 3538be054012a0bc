"""Write a 自评表 with xlsxwriter: the blank template, or a filled form (the samples).

One writer serves both, so a sample is exactly what a unit gets by filling our template.
The sheet looks like the printed Ministry form (merged title and group cells, borders, 宋体),
prints on A4 landscape fitted to the page width with the indicator header repeated, and is
protected without a password: input cells are unlocked and shaded, labels are locked.
Formulas are written with their cached values, so every viewer shows a number.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.utility import xl_rowcol_to_cell

from perfeval_xlsx.forms.content import FormContent, FundsLine, Indicator, blank_content
from perfeval_xlsx.forms.layout import (
    COLUMN_INDEX,
    COMMON_UNITS,
    FUNDS_BLOCK_LABEL,
    GOAL_LABELS,
    GRADE_LABEL,
    GRADE_LABELS,
    HEADER_LABELS,
    INDICATOR_COLUMNS,
    NOT_APPLICABLE_MARK,
    OPERATORS,
    QUALITATIVE_GRADES,
    TOTAL_LABEL,
    FormLayout,
    get_layout,
)
from perfeval_xlsx.numbers import as_float
from perfeval_xlsx.output.atomic import replacing
from perfeval_xlsx.output.pagination import column_points, group_blocks, page_capacity, row_breaks, with_footer
from perfeval_xlsx.output.textfit import LINE_HEIGHT, line_height
from perfeval_xlsx.output.textfit import lines_needed as _lines_needed
from perfeval_xlsx.vocab import FONT, SHEET_INSTRUCTIONS, TITLE_FONT
from perfeval_xlsx.reading.mark import TEMPLATE, mark_properties

INPUT_FILL = "#FFF2CC"  # pale yellow: "fill me in"
LABEL_FILL = "#E7EEF7"  # pale blue-grey: printed labels
COMPUTED_FILL = "#F2F2F2"  # grey: computed, locked
OK_FILL, OK_FONT = "#E2EFDA", "#375623"
BAD_FILL, BAD_FONT = "#FCE4D6", "#9C0006"
# Fixed document dates keep the output byte-for-byte reproducible.
DOC_CREATED = datetime(2024, 1, 1)
LAST_COL = len(INDICATOR_COLUMNS) - 1  # J
#: an indicator row without a height of its own grows with what the unit types (Excel, WPS and
#: LibreOffice fit such rows to their wrapped text); blank, it is this tall
AUTO_ROW = 13.5
MARGINS = (0.4, 0.4, 0.6, 0.6)  # inches: left, right, top, bottom


def excel_number_text(value: float) -> str:
    """How Excel's `&` shows a number: 50, 7.5, 99.18."""
    value = round(float(value), 10)
    return str(int(value)) if value == int(value) else repr(value)




class _Formats:
    """Cached xlsxwriter formats built from a base style plus a few properties."""

    def __init__(self, workbook: xlsxwriter.Workbook):
        self._wb = workbook
        self._cache: dict[tuple, Any] = {}

    def __call__(self, **props: Any):
        base = {"font_name": FONT, "font_size": 10, "valign": "vcenter", "text_wrap": True}
        base.update(props)
        key = tuple(sorted(base.items()))
        if key not in self._cache:
            self._cache[key] = self._wb.add_format(base)
        return self._cache[key]

    # named styles
    def label(self, **kw):
        return self(**{"border": 1, "bold": True, "align": "center", "bg_color": LABEL_FILL, **kw})

    def group(self, **kw):
        return self(**{"border": 1, "bold": True, "align": "center", **kw})

    def text(self, **kw):
        return self(**{"border": 1, "align": "center", **kw})

    def input(self, **kw):
        return self(**{"border": 1, "align": "center", "locked": False, "bg_color": INPUT_FILL, **kw})

    def computed(self, **kw):
        return self(**{"border": 1, "align": "center", "bg_color": COMPUTED_FILL, **kw})


class _SheetWriter:
    """Lays one form out on a worksheet and records where every value went."""

    def __init__(self, workbook, formats: _Formats, content: FormContent):
        self.wb = workbook
        self.f = formats
        self.c = content
        self.layout: FormLayout = content.form_layout
        self.ws = workbook.add_worksheet(self.layout.sheet_name)
        self.cells: dict[str, str] = {}  # "indicators[3].actual" -> "G17"
        self.heights: dict[int, float] = {}
        self.rates: dict[str, tuple[str, Any]] = {}  # funds rate key -> (cell, cached value)

    # -- helpers -------------------------------------------------------------------------
    def _place(self, key: str, row: int, col: int) -> None:
        self.cells[key] = xl_rowcol_to_cell(row, col)

    def _write(self, row: int, col: int, value: Any, fmt, last_col: int | None = None) -> None:
        """Write a value by its type (text stays text), over a merged range if last_col."""
        if last_col is not None and last_col > col:
            self.ws.merge_range(row, col, row, last_col, None, fmt)
        if value is None or value == "":
            self.ws.write_blank(row, col, None, fmt)
        elif isinstance(value, bool):
            raise TypeError(f"boolean value in a form cell at {xl_rowcol_to_cell(row, col)}")
        elif isinstance(value, (int, float)):
            self.ws.write_number(row, col, value, fmt)
        elif isinstance(value, (date, datetime)):
            date_fmt = self.f.input(num_format="yyyy-mm-dd")
            self.ws.write_datetime(row, col, datetime(value.year, value.month, value.day), date_fmt)
        else:
            self.ws.write_string(row, col, str(value), fmt)

    def _fit_height(self, row: int, text: Any, width: float, minimum: float = 20.0, font_size: float = 10.0) -> None:
        lines = _lines_needed("" if text is None else str(text), width, font_size)
        self.heights[row] = max(self.heights.get(row, minimum), minimum, lines * line_height(font_size) + 6)

    def _fit_run(self, top: int, bottom: int, text: str, width: float) -> None:
        """Give a merged run of rows enough height for its label, shared over the rows (a merged
        label does not make its rows grow by itself)."""
        needed = _lines_needed(text, width) * LINE_HEIGHT + 6
        rows = range(top, bottom + 1)
        have = sum(self.heights.get(r, AUTO_ROW) for r in rows)
        if have < needed:
            extra = (needed - have) / len(rows)
            for r in rows:
                self.heights[r] = self.heights.get(r, AUTO_ROW) + extra

    @staticmethod
    def _width(first: int, last: int) -> float:
        return sum(c.width for c in INDICATOR_COLUMNS[first : last + 1])

    # -- blocks --------------------------------------------------------------------------
    def write(self) -> dict[str, str]:
        ws = self.ws
        for i, col in enumerate(INDICATOR_COLUMNS):
            ws.set_column(i, i, col.width)
        self._title()
        self._header(2)
        funds_total_row = self._funds(5)
        goal_row = 6 + len(self.c.funds)
        self._goals(goal_row)
        table_header_row = goal_row + 2
        first, last = self._indicators(table_header_row)
        total_row = self._footer(last + 1, first, last, funds_total_row)
        self._status(total_row)
        self._page_setup(table_header_row, total_row + 2)
        self._page_breaks(table_header_row, first, total_row + 2)
        for row, height in sorted(self.heights.items()):
            ws.set_row(row, height)
        ws.protect(
            "",
            {
                "insert_rows": True,
                "format_rows": True,
                "format_columns": True,
                "select_locked_cells": True,
                "select_unlocked_cells": True,
            },
        )
        self.cells["_table_header_row"] = str(table_header_row + 1)
        return self.cells

    def _title(self) -> None:
        ws, f = self.ws, self.f
        ws.merge_range(0, 0, 0, LAST_COL - 1, self.layout.title,
                       f(font_name=TITLE_FONT, font_size=18, bold=True, align="center"))
        self.heights[0] = 34
        year = self.c.header.year
        year_cell = xl_rowcol_to_cell(4, 2, row_abs=True, col_abs=True)
        cached = f"（{year}年度）" if year else "（　　　　年度）"
        ws.merge_range(1, 0, 1, LAST_COL - 1, None, f(font_size=12, align="center"))
        ws.write_formula(1, 0, f'="（"&IF({year_cell}="","　　　　",{year_cell})&"年度）"',
                         f(font_size=12, align="center"), cached)
        self.heights[1] = 22

    def _header(self, row: int) -> None:
        ws, f, h = self.ws, self.f, self.c.header
        lab = f.label()
        ws.merge_range(row, 0, row, 1, HEADER_LABELS["project"], lab)
        self._write(row, 2, h.project, f.input(align="left"), LAST_COL)
        self._place("header.project", row, 2)
        ws.merge_range(row + 1, 0, row + 1, 1, HEADER_LABELS["department"], lab)
        self._write(row + 1, 2, h.department, f.input(align="left"), 4)
        self._place("header.department", row + 1, 2)
        ws.merge_range(row + 1, 5, row + 1, 6, HEADER_LABELS["unit"], lab)
        self._write(row + 1, 7, h.unit, f.input(align="left"), LAST_COL)
        self._place("header.unit", row + 1, 7)
        ws.merge_range(row + 2, 0, row + 2, 1, HEADER_LABELS["year"], lab)
        self._write(row + 2, 2, h.year, f.input(), 4)
        self._place("header.year", row + 2, 2)
        ws.data_validation(row + 2, 2, row + 2, 2, {
            "validate": "integer", "criteria": "between", "minimum": 2000, "maximum": 2100,
            "input_title": "年度", "input_message": "填写四位年份，如 2024。",
            "error_title": "年度有误", "error_message": "年度应为四位数字年份，如 2024。",
        })
        ws.merge_range(row + 2, 5, row + 2, 6, HEADER_LABELS["contact"], lab)
        self._write(row + 2, 7, h.contact, f.input(align="left"), LAST_COL)
        self._place("header.contact", row + 2, 7)
        for r in (row, row + 1, row + 2):
            self.heights[r] = 22
        self._fit_height(row, h.project, self._width(2, LAST_COL), 22)
        self._fit_height(row + 1, h.department, self._width(2, 4), 22)
        self._fit_height(row + 1, h.unit, self._width(7, LAST_COL), 22)

    def _funds(self, row: int) -> int:
        """The funds block; returns the sheet row of the total line (年度资金总额)."""
        ws, f, lay = self.ws, self.f, self.layout
        lines = self.c.funds
        ws.merge_range(row, 0, row + len(lines), 0, FUNDS_BLOCK_LABEL, f.label())
        ws.merge_range(row, 1, row, 2, "资金来源", f.label())
        ncols = len(lay.funds_columns)
        for j, col in enumerate(lay.funds_columns):
            ws.write_string(row, 3 + j, col.label, f.label())
        note_col = 3 + ncols
        if note_col <= LAST_COL:
            self._write(row, note_col, "备注", f.label(), LAST_COL)
        self.heights[row] = 30
        money = f.input(num_format="#,##0.00", align="right")
        for i, line in enumerate(lines):
            r = row + 1 + i
            ws.merge_range(r, 1, r, 2, line.label, f.text(bold=(i == 0), align="left" if i else "center"))
            for j, col in enumerate(lay.funds_columns):
                c = 3 + j
                key = f"funds[{i}].{col.key}"
                if col.computed:
                    if i == 0:
                        self._rate_formula(r, c, col.key, line)
                        self._place(key, r, c)
                    else:
                        ws.write_string(r, c, NOT_APPLICABLE_MARK, f.computed())
                elif col.key in ("weight", "score"):
                    if i == 0:
                        validation = self._weight_validation if col.key == "weight" else self._score_validation
                        self._write(r, c, getattr(line, col.key), f.input())
                        validation(r, c, r, c, "预算执行率" if col.key == "weight" else "执行率得分")
                        self._place(key, r, c)
                    else:
                        ws.write_string(r, c, NOT_APPLICABLE_MARK, f.computed())
                else:
                    self._write(r, c, getattr(line, col.key), money)
                    self._place(key, r, c)
            if note_col <= LAST_COL:
                self._write(r, note_col, None, f.input(align="left"), LAST_COL)
            self.heights[r] = 20
        amount_cols = [3 + j for j, c in enumerate(lay.funds_columns) if not c.computed and c.key not in ("weight", "score")]
        ws.data_validation(row + 1, min(amount_cols), row + len(lines), max(amount_cols), {
            "validate": "decimal", "criteria": ">=", "value": 0,
            "input_title": "金额（万元）",
            "input_message": "单位：万元。只填数字，如 320 或 7.94，不要带“万元”字样。",
            "error_title": "金额有误", "error_message": "金额应为不小于 0 的数字，单位万元，如 7.94。",
        })
        return row + 1

    def _rate_formula(self, r: int, c: int, key: str, line: FundsLine) -> None:
        """执行率 / 资金到位率 of the total line: a formula with its cached value."""
        cols = {col.key: 3 + j for j, col in enumerate(self.layout.funds_columns)}
        if key == "received_rate":
            num_key, den_key = "received", "budget"
        elif "received" in cols:  # framework: 预算执行率 = 实际支出资金 / 实际到位资金
            num_key, den_key = "spent", "received"
        else:  # mof-2020: 执行率 = 全年执行数 / 全年预算数
            num_key, den_key = "spent", "budget"
        num, den = xl_rowcol_to_cell(r, cols[num_key]), xl_rowcol_to_cell(r, cols[den_key])
        n, d = as_float(getattr(line, num_key)), as_float(getattr(line, den_key))
        cached: Any = n / d if n is not None and d is not None and d > 0 else ""
        self.ws.write_formula(
            r, c, f'=IF(AND(ISNUMBER({num}),ISNUMBER({den}),{den}>0),{num}/{den},"")',
            self.f.computed(num_format="0.00%"), cached,
        )
        self.rates[key] = (xl_rowcol_to_cell(r, c), cached)

    def _goals(self, row: int) -> None:
        ws, f = self.ws, self.f
        ws.merge_range(row, 0, row + 1, 0, GOAL_LABELS[0], f.label())
        ws.merge_range(row, 1, row, 5, GOAL_LABELS[1], f.label())
        ws.merge_range(row, 6, row, LAST_COL, GOAL_LABELS[2], f.label())
        self._write(row + 1, 1, self.c.goal_planned, f.input(align="left", valign="top"), 5)
        self._place("goals.planned", row + 1, 1)
        self._write(row + 1, 6, self.c.goal_actual, f.input(align="left", valign="top"), LAST_COL)
        self._place("goals.actual", row + 1, 6)
        self.heights[row] = 20
        self._fit_height(row + 1, self.c.goal_planned, self._width(1, 5), 72)
        self._fit_height(row + 1, self.c.goal_actual, self._width(6, LAST_COL), 72)

    def _indicators(self, header_row: int) -> tuple[int, int]:
        ws, f = self.ws, self.f
        for i, col in enumerate(INDICATOR_COLUMNS):
            ws.write_string(header_row, i, col.label, f.label())
        self.heights[header_row] = 30
        first = header_row + 1
        rows = self.c.indicators
        last = first + len(rows) - 1
        col = COLUMN_INDEX
        for i, ind in enumerate(rows):
            r = first + i
            locked_labels = ind.prefilled
            # 一级 and 二级 are written by _merge_groups; the rest cell by cell.
            self._write(r, col["level3"], ind.level3,
                        f.text(align="left") if locked_labels else f.input(align="left"))
            self._write(r, col["operator"], ind.operator, f.text() if locked_labels else f.input())
            self._write(r, col["target"], ind.target, f.text() if locked_labels else f.input())
            self._write(r, col["unit"], ind.unit, f.text() if locked_labels else f.input())
            if ind.computed_actual:
                self._computed_actual(r, ind.computed_actual)
            else:
                self._write(r, col["actual"], ind.actual, f.input())
            self._write(r, col["weight"], ind.weight, f.input())
            self._write(r, col["score"], ind.score, f.input())
            self._write(r, col["reason"], ind.reason, f.input(align="left"))
            for key in ("level1", "level2", "level3", "operator", "target", "unit", "actual", "weight", "score", "reason"):
                self._place(f"indicators[{i}].{key}", r, col[key])
            # a row's height is set only where its text needs more than one line: the others
            # keep growing with what the unit types
            lines = max((_lines_needed(value, INDICATOR_COLUMNS[col[key]].width)
                         for key, value in (("level3", ind.level3), ("target", ind.target), ("actual", ind.actual),
                                            ("reason", ind.reason)) if isinstance(value, str)), default=1)
            if lines > 1:
                self.heights[r] = max(20.0, lines * LINE_HEIGHT + 6)
        self._merge_groups(first, rows)
        self._indicator_validations(first, last)
        # a self-score above its 分值 turns red while the unit types it
        score, weight = (xl_rowcol_to_cell(first, col[k], col_abs=True) for k in ("score", "weight"))
        ws.conditional_format(first, col["score"], last, col["score"], {
            "type": "formula",
            "criteria": f"=AND(ISNUMBER({score}),ISNUMBER({weight}),{score}>{weight})",
            "format": self.wb.add_format({"bg_color": BAD_FILL, "font_color": BAD_FONT}),
        })
        return first, last

    def _computed_actual(self, r: int, rate_key: str) -> None:
        cell, rate = self.rates[rate_key]
        cached: Any = round(rate * 100, 2) if isinstance(rate, float) else ""
        self.ws.write_formula(r, COLUMN_INDEX["actual"], f'=IF(ISNUMBER({cell}),ROUND({cell}*100,2),"")',
                              self.f.computed(), cached)

    def _merge_groups(self, first: int, rows: list[Indicator]) -> None:
        """Merge runs of the same 一级 (with a live 分值 subtotal) and of the same 二级."""
        ws, f = self.ws, self.f
        weight_col = COLUMN_INDEX["weight"]

        def runs(keys: list[tuple]) -> list[tuple[int, int]]:
            out, start = [], 0
            for i in range(1, len(keys) + 1):
                if i == len(keys) or keys[i] != keys[start]:
                    out.append((start, i - 1))
                    start = i
            return out

        for a, b in runs([(ind.level1,) for ind in rows]):
            name = rows[a].level1
            top, bottom = first + a, first + b
            rng = f"{xl_rowcol_to_cell(top, weight_col)}:{xl_rowcol_to_cell(bottom, weight_col)}"
            subtotal = sum(as_float(ind.weight) or 0.0 for ind in rows[a : b + 1])
            cached = name if subtotal == 0 else f"{name}\n（{excel_number_text(subtotal)}分）"
            fmt = f.group()
            if bottom > top:
                ws.merge_range(top, 0, bottom, 0, None, fmt)
            self._fit_run(top, bottom, cached, INDICATOR_COLUMNS[0].width)
            if name:
                formula = f'=IF(SUM({rng})=0,"{name}","{name}"&CHAR(10)&"（"&SUM({rng})&"分）")'
                ws.write_formula(top, 0, formula, fmt, cached)
            else:
                ws.write_blank(top, 0, None, fmt)
        for a, b in runs([(ind.level1, ind.level2) for ind in rows]):
            top, bottom = first + a, first + b
            fmt = f.text(bold=True) if rows[a].prefilled else f.input(bold=True)
            if bottom > top:
                ws.merge_range(top, 1, bottom, 1, None, fmt)
            self._write(top, 1, rows[a].level2, fmt)
            self._fit_run(top, bottom, rows[a].level2, INDICATOR_COLUMNS[1].width)

    def _weight_validation(self, r1: int, c1: int, r2: int, c2: int, title: str = "分值") -> None:
        self.ws.data_validation(r1, c1, r2, c2, {
            "validate": "decimal", "criteria": "between", "minimum": 0.01, "maximum": 100,
            "input_title": title,
            "input_message": "填写本行分值（数字，大于 0）。全部分值（含预算执行率）合计必须为 100。",
            "error_title": "分值有误", "error_message": "分值应为大于 0、不超过 100 的数字。",
        })

    def _score_validation(self, r1: int, c1: int, r2: int, c2: int, title: str = "自评得分") -> None:
        self.ws.data_validation(r1, c1, r2, c2, {
            "validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 100,
            "input_title": title,
            "input_message": "填写自评得分（数字），不得大于本行分值。可不填，由财务部门复核计算。",
            "error_title": "得分有误", "error_message": "得分应为 0 到 100 之间的数字，且不大于分值。",
        })

    def _indicator_validations(self, first: int, last: int) -> None:
        ws, col = self.ws, COLUMN_INDEX
        ws.data_validation(first, col["operator"], last, col["operator"], {
            "validate": "list", "source": list(OPERATORS),
            "input_title": "指标性质",
            "input_message": "≥ ＞：越大越好（数量、质量、满意度）；≤ ＜：越小越好（成本、时长）；＝：等于目标；定性：无法用数字衡量。",
            "error_title": "指标性质有误", "error_message": "请从下拉列表中选择：≥ ＞ ＝ ＜ ≤ 定性。",
        })
        ws.data_validation(first, col["level2"], last, col["level2"], {
            "validate": "list", "source": list(self.layout.level2_names()), "show_error": False,
            "input_title": "二级指标", "input_message": "从下拉列表中选择二级指标名称。",
        })
        ws.data_validation(first, col["target"], last, col["target"], {
            "validate": "any",
            "input_title": "年度指标值",
            "input_message": "定量指标只填数字，如 800、85、2（单位写在“计量单位”列，百分比填 85、单位填 %）；时效指标填日期，如 2024-12-31；定性指标填目标描述，如“有效提高”。",
        })
        ws.data_validation(first, col["unit"], last, col["unit"], {
            "validate": "list", "source": list(COMMON_UNITS), "show_error": False,
            "input_title": "计量单位", "input_message": "可从下拉列表选择，也可直接输入，如 本、人次、万元、%。",
        })
        ws.data_validation(first, col["actual"], last, col["actual"], {
            "validate": "list", "source": list(QUALITATIVE_GRADES), "show_error": False,
            "input_title": "实际完成值",
            "input_message": "定量指标填实际数字，不带 ≥ 等符号和单位；定性指标从下拉列表选择三个等级之一。",
        })
        self._weight_validation(first, col["weight"], last, col["weight"])
        self._score_validation(first, col["score"], last, col["score"])
        ws.data_validation(first, col["reason"], last, col["reason"], {
            "validate": "any",
            "input_title": "偏差原因分析及改进措施",
            "input_message": "未完成目标（未得满分）时必须填写原因和改进措施；完成值超过目标 30% 以上时也须说明原因。",
        })

    def _footer(self, row: int, first: int, last: int, funds_total_row: int) -> int:
        ws, f, col = self.ws, self.f, COLUMN_INDEX
        wcol, scol = col["weight"], col["score"]
        w_rng = f"{xl_rowcol_to_cell(first, wcol)}:{xl_rowcol_to_cell(last, wcol)}"
        s_rng = f"{xl_rowcol_to_cell(first, scol)}:{xl_rowcol_to_cell(last, scol)}"
        weights = [as_float(i.weight) or 0.0 for i in self.c.indicators]
        scores = [as_float(i.score) or 0.0 for i in self.c.indicators]
        w_parts, s_parts = [w_rng], [s_rng]
        if self.layout.execution_weight is not None:
            w_parts.insert(0, xl_rowcol_to_cell(funds_total_row, wcol))
            s_parts.insert(0, xl_rowcol_to_cell(funds_total_row, scol))
            weights.append(as_float(self.c.funds[0].weight) or 0.0)
            scores.append(as_float(self.c.funds[0].score) or 0.0)
        self.total_weight = round(sum(weights), 2)
        ws.merge_range(row, 0, row, wcol - 1, TOTAL_LABEL, f.label(font_size=11))
        ws.write_formula(row, wcol, f"=ROUND(SUM({','.join(w_parts)}),2)", f.computed(bold=True), self.total_weight)
        ws.write_formula(row, scol, f"=ROUND(SUM({','.join(s_parts)}),2)", f.computed(bold=True), round(sum(scores), 2))
        self._place("total.weight", row, wcol)
        self._place("total.score", row, scol)
        self.heights[row] = 24
        ws.merge_range(row + 1, 0, row + 1, wcol - 1, GRADE_LABEL, f.label())
        self._write(row + 1, wcol, self.c.grade, f.input(bold=True), LAST_COL)
        self._place("grade", row + 1, wcol)
        bands = "、".join(f"{g}（≥{excel_number_text(v)}分）" if v else f"{g}（低于{excel_number_text(self.layout.grade_bands[-2][1])}分）"
                         for g, v in self.layout.grade_bands)
        ws.data_validation(row + 1, wcol, row + 1, wcol, {
            "validate": "list", "source": list(GRADE_LABELS),
            "input_title": "评价等级", "input_message": f"按总分选择：{bands}。",
            "error_title": "评价等级有误", "error_message": "请从下拉列表中选择：优、良、中、差。",
        })
        self.heights[row + 1] = 22
        note = ("说明：1. 浅黄色单元格为填写区，其余单元格已锁定；2. 金额单位为万元；3. 全部分值（含预算执行率）"
                "合计应为 100 分，右上角和“总分”行实时显示合计；4. 需要增加指标行时，先“审阅→撤销工作表保护”（无密码），"
                "在同一二级指标的行中间插入。详见“填表说明”工作表。")
        ws.merge_range(row + 2, 0, row + 2, LAST_COL, note, f(align="left", font_size=9))
        self._fit_height(row + 2, note, self._width(0, LAST_COL), 30, font_size=9)
        return row

    def _status(self, total_row: int) -> None:
        """The running total of 分值, in the 总分 row and in the top-right corner (frozen)."""
        ws, f = self.ws, self.f
        total = xl_rowcol_to_cell(total_row, COLUMN_INDEX["weight"])
        formula = f'=IF({total}=100,"分值合计 100 ✓","分值合计 "&{total}&"，应为 100")'
        w = self.total_weight
        cached = "分值合计 100 ✓" if w == 100 else f"分值合计 {excel_number_text(w)}，应为 100"
        ws.write_formula(total_row, LAST_COL, formula, f.computed(bold=True), cached)
        ws.merge_range(0, LAST_COL, 1, LAST_COL, None, f.computed(bold=True, font_size=11))
        ws.write_formula(0, LAST_COL, formula, f.computed(bold=True, font_size=11), cached)
        self._place("status", 0, LAST_COL)
        ok = self.wb.add_format({"bg_color": OK_FILL, "font_color": OK_FONT})
        bad = self.wb.add_format({"bg_color": BAD_FILL, "font_color": BAD_FONT})
        abs_total = xl_rowcol_to_cell(total_row, COLUMN_INDEX["weight"], row_abs=True, col_abs=True)
        for r in (0, total_row):
            ws.conditional_format(r, LAST_COL, r, LAST_COL, {"type": "formula", "criteria": f"={abs_total}=100", "format": ok})
            ws.conditional_format(r, LAST_COL, r, LAST_COL, {"type": "formula", "criteria": f"={abs_total}<>100", "format": bad})

    def _page_setup(self, table_header_row: int, last_row: int) -> None:
        ws = self.ws
        ws.set_landscape()
        ws.set_paper(9)  # A4
        ws.fit_to_pages(1, 0)
        ws.center_horizontally()
        left, right, top, bottom = MARGINS
        ws.set_margins(left=left, right=right, top=top, bottom=bottom)
        ws.set_footer("&C第 &P 页，共 &N 页")
        ws.repeat_rows(table_header_row)
        ws.print_area(0, 0, last_row, LAST_COL)
        ws.freeze_panes(2, 0)
        ws.hide_gridlines(2)
        ws.set_selection(xl_rowcol_to_cell(2, 2))
        ws.activate()

    def _page_breaks(self, table_header_row: int, first: int, last_row: int) -> None:
        """Manual breaks between groups: no 一级/二级 group split from its label, the 总分 and 评价等级
        rows never alone on a page (rows here are 0-based, pagination counts from 1)."""
        heights = {r + 1: h for r, h in self.heights.items()}
        rows = [(first + i + 1, ind.level1, ind.level2) for i, ind in enumerate(self.c.indicators)]
        blocks = with_footer(group_blocks(rows), last_row + 1)
        if blocks:  # the table's header row stays with its first rows
            blocks[0].first = table_header_row + 1
        width = sum(column_points(c.width) for c in INDICATOR_COLUMNS)
        capacity = page_capacity(paper=9, landscape=True, margins_in=MARGINS, sheet_width_pt=width)
        before = sum(heights.get(r, AUTO_ROW) for r in range(1, table_header_row + 1))
        repeated = heights.get(table_header_row + 1, AUTO_ROW)
        breaks = row_breaks(heights, blocks, capacity, before=before, repeated=repeated,
                            title_rows=(table_header_row + 1, table_header_row + 1), default=AUTO_ROW)
        if breaks:
            self.ws.set_h_pagebreaks(breaks)


def _instructions(workbook, formats: _Formats, layout: FormLayout) -> None:
    ws = workbook.add_worksheet(SHEET_INSTRUCTIONS)
    ws.set_column(0, 0, 20)
    ws.set_column(1, 1, 96)
    ws.merge_range(0, 0, 0, 1, f"{layout.title} 填表说明", formats(font_name=TITLE_FONT, font_size=16, bold=True, align="center"))
    ws.set_row(0, 30)
    row = 2
    from perfeval_xlsx.forms.instructions import instruction_sections

    for heading, items in instruction_sections(layout):
        ws.merge_range(row, 0, row, 1, heading, formats(bold=True, font_size=11, bg_color=LABEL_FILL, border=1))
        ws.set_row(row, 20)
        row += 1
        for name, text in items:
            ws.write_string(row, 0, name, formats(bold=True, border=1, align="center"))
            ws.write_string(row, 1, text, formats(border=1, align="left"))
            ws.set_row(row, max(20.0, _lines_needed(text, 96) * LINE_HEIGHT + 6))
            row += 1
        row += 1
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
    ws.hide_gridlines(2)
    ws.protect("", {"select_locked_cells": True, "format_columns": True, "format_rows": True})


def write_form(content: FormContent, path: str | Path) -> dict[str, str]:
    """Write the form to `path` atomically; returns where each value was placed (A1 cells)."""
    path = Path(path)
    layout = content.form_layout
    with replacing(path) as tmp_name:
        workbook = xlsxwriter.Workbook(str(tmp_name), {
            "default_format_properties": {"font_name": FONT, "font_size": 10},
        })
        workbook.set_properties({
            "title": layout.title,
            "subject": "项目支出绩效自评",
            "author": "perfeval-xlsx",
            "company": "",
            "created": DOC_CREATED,
        })
        for name, value in mark_properties(TEMPLATE, ""):
            workbook.set_custom_property(name, value)
        formats = _Formats(workbook)
        cells = _SheetWriter(workbook, formats, content).write()
        _instructions(workbook, formats, layout)
        workbook.close()
    return cells


def write_template(layout_name: str, path: str | Path) -> dict[str, str]:
    """Write the blank template of a layout (`mof-2020` or `framework`)."""
    layout = get_layout(layout_name)
    return write_form(blank_content(layout), path)
