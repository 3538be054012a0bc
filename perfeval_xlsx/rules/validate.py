"""Validate a Form cell by cell and turn each indicator row into comparable numbers.

The output, `Validated`, is what the scorer needs: per row its kind (定量/时效/定性/不适用),
operator, target and actual in the same unit, 分值, self-score, and the findings so far, each
at the cell the user must look at. Every message reads: where — what is wrong — how to fix.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from openpyxl.utils.cell import coordinate_from_string

from perfeval_xlsx.forms.model import Cell, Form, IndicatorRow
from perfeval_xlsx.reading.values import (
    EQ,
    GE,
    GT,
    LE,
    LT,
    MONEY_UNITS,
    NO_OPERATOR,
    QUAL,
    Parsed,
    clean_unit,
    normalize_text,
    parse_operator_cell,
    parse_value,
    split_unit,
)
from perfeval_xlsx.rules.findings import Finding, finding
from perfeval_xlsx.rules.interpret import counts_incidents, direction, is_zero_word, read_outcome
from perfeval_xlsx.rules.profile import Profile
from perfeval_xlsx.numbers import EPS, RATE_TOLERANCE, WEIGHT_TOLERANCE, format_number
from perfeval_xlsx.forms.layout import field_labels

OPERATOR_WORDS = {GE: "≥", GT: "＞", EQ: "＝", LT: "＜", LE: "≤", QUAL: "定性"}
MONEY_FIELDS = ("budget", "spent", "budget_initial", "received")
NO_AMOUNT = {"—", "——", "———", "-", "--", "/", "无", "―", "－"}  # a money cell meaning none
RATE_ROWS = {"资金到位率": ("received", "budget"), "预算执行率": ("spent", "received")}


@dataclass
class RowInput:
    """One indicator row, interpreted."""

    row: IndicatorRow
    kind: str  # quant, date, qual, na, sub (其中… breakdown, not scored), invalid
    operator: str | None = None
    target: float | None = None
    actual: float | None = None  # in the target's unit
    unit: str = ""
    percent: bool = False
    deadline: date | None = None
    done: date | None = None
    grade: str | None = None
    weight: float | None = None
    self_score: float | None = None
    reason: str = ""
    target_text: str = ""
    actual_text: str = ""
    has_error: bool = False  # its values cannot be scored
    score_error: bool = False  # its self-score is wrong (the rule score still counts)


@dataclass
class Execution:
    """The funds block's numbers for 预算执行率."""

    budget: float | None = None
    spent: float | None = None
    received: float | None = None  # 实际到位资金 (framework)
    budget_initial: float | None = None  # 年初预算数
    parts: list[tuple[str, dict[str, float | None]]] = field(default_factory=list)  # 其中… lines: (label, amounts)
    weight: float | None = None  # None: the form has no 分值 for it (framework)
    self_score: float | None = None
    weight_cell: Cell | None = None
    score_cell: Cell | None = None
    rate_cell: Cell | None = None
    usable: bool = False


@dataclass
class Validated:
    form: Form
    profile: Profile
    rows: list[RowInput]
    execution: Execution
    findings: list[Finding] = field(default_factory=list)


def _text(cell: Cell | None) -> str:
    return "" if cell is None or cell.blank else str(cell.value).strip()


def _shown(value: Any) -> str:
    if isinstance(value, float):
        return format_number(value)
    if hasattr(value, "date") and hasattr(value, "hour") and not (value.hour or value.minute or value.second):
        return value.date().isoformat()  # a date cell: 2024-06-28, not 2024-06-28 00:00:00
    return str(value).strip() if value is not None else ""


class _Validator:
    def __init__(self, form: Form, profile: Profile):
        self.form = form
        self.profile = profile
        self.findings: list[Finding] = []
        self._seen_formula: set[str] = set()
        self.execution = Execution()

    # -- helpers -------------------------------------------------------------------------
    def add(self, code: str, cell: Cell | None, field_name: str, message: str, value: Any = None) -> None:
        address = cell.address if cell is not None else ""
        sheet = cell.sheet if cell is not None and cell.sheet else self.form.sheet
        if value is None and cell is not None:
            value = cell.value
        self.findings.append(finding(code, sheet, address, field_name, value, message))

    def formula_ok(self, cell: Cell | None, field_name: str) -> bool:
        if cell is not None and cell.missing_cache:
            if cell.address not in self._seen_formula:
                self._seen_formula.add(cell.address)
                self.add("E-FORMULA-NO-VALUE", cell, field_name,
                         "该单元格为公式但没有计算结果。请在 Excel/WPS 中打开并保存后重试。", value="")
            return False
        return True

    def number(self, cell: Cell | None, field_name: str, label: str, example: str) -> tuple[float | None, bool]:
        """A cell that must hold a number. Returns (value, ok); blank is (None, True)."""
        if cell is None or not self.formula_ok(cell, field_name):
            return None, cell is None
        if cell.blank:
            return None, True
        value = cell.value
        if isinstance(value, bool):
            value = str(value)
        if isinstance(value, datetime):  # a number in a date-formatted cell: what was typed
            from openpyxl.utils.datetime import to_excel

            value = to_excel(value)
        money = field_name in MONEY_FIELDS
        scale = MONEY_UNITS.get(getattr(self.form, "money_unit", "万元"), 1e4) / 1e4 if money else 1.0
        if isinstance(value, (int, float)) and math.isfinite(value):
            return float(value) * scale, True
        if money and isinstance(value, str) and normalize_text(value) in NO_AMOUNT:
            return None, True  # 上年结转资金 — : no amount
        parsed = parse_value(value, cell.number_format)
        if parsed.kind == "number" and not parsed.operator:
            if money:
                if parsed.unit == "":
                    return parsed.number * scale, True
                if parsed.unit == "万":
                    return parsed.number, True
                if parsed.unit in MONEY_UNITS:  # 7.94万元, 79400元, 79.4千元, 0.0794亿元 → 万元
                    return parsed.number * MONEY_UNITS[parsed.unit] / 1e4, True
            elif parsed.unit in ("", "分"):
                return parsed.number, True
        self.add("E-NUMBER-TEXT", cell, field_name,
                 f"{label}“{_shown(value)}”不是数字。请只填写数字，如 {example}。")
        return None, False

    # -- header and funds -----------------------------------------------------------------
    def header(self) -> None:
        h = self.form.header
        for key, label in (("project", "项目名称"), ("department", "主管部门"), ("unit", "实施单位")):
            cell = getattr(h, key)
            if cell is None:
                self.add("E-HEADER-MISSING", None, key, f"表头中没有找到“{label}”一栏。请在表头填写{label}。", value="")
            elif cell.blank:
                self.add("E-HEADER-MISSING", cell, key, f"“{label}”未填写。请填写{label}全称。", value="")
        if h.year_value is None:
            where = h.year or (Cell(self.form.sheet, h.labels["project"], None) if "project" in h.labels else None)
            self.add("W-YEAR-MISSING", where, "year", "未填写年度。请在表头填写四位年份，如 2024（时效指标的“年底前”等按此年度理解）。", value="")

    def funds(self) -> Execution:
        ex = Execution()
        names = field_labels(self.form.kind)  # as the form prints them: 全年预算数 or 预算资金
        budget_label, spent_label = names["budget"], names["spent"]
        total = self.form.funds_line("total")
        if total is None:
            self.add("E-BUDGET-MISSING", None, "budget",
                     f"没有找到项目资金栏（年度资金总额的{budget_label}、{spent_label}）。请使用模板中的“项目资金”栏填写。", value="")
            return ex
        ex.weight_cell, ex.score_cell, ex.rate_cell = total.weight, total.score, total.rate
        unit_cell = getattr(self.form, "money_unit_cell", None)
        if getattr(self.form, "money_unit", "万元") != "万元" and unit_cell is not None:
            self.add("I-MONEY-UNIT", unit_cell, "budget",
                     f"项目资金栏标注的单位是{self.form.money_unit}，金额已换算为万元（如 79400 元 = 7.94 万元）。")
        labels = {key: names[key] for key in ("budget_initial", "budget", "received", "spent", "weight", "score")}
        for key, label in labels.items():
            cell = getattr(total, key)
            if cell is not None and cell.merged_into:
                self.add("E-MERGED-VALUES", Cell(cell.sheet, cell.merged_into, None), key,
                         f"年度资金总额一行中，{label}与左侧栏目合并在同一个单元格中，无法分别读取。"
                         f"请取消合并单元格，把{label}单独填在 {coordinate_from_string(cell.address)[0]} 列。", value="")
        budget, budget_ok = self.number(total.budget, "budget", budget_label, "320 或 7.94（单位：万元）")
        spent, spent_ok = self.number(total.spent, "spent", spent_label, "267.81（单位：万元）")
        for line in self.form.funds:
            if line is total:
                continue
            amounts = {}
            for key in ("budget_initial", "budget", "received", "spent"):
                amounts[key] = self.number(getattr(line, key), key, f"{line.label}的{labels[key]}", "7.94（单位：万元）")[0]
            ex.parts.append((line.label, amounts))
        ex.budget_initial = self.number(total.budget_initial, "budget_initial", labels["budget_initial"], "320（单位：万元）")[0]
        ex.received = self.number(total.received, "received", labels["received"], "7.94（单位：万元）")[0]
        if budget_ok and (budget is None or budget == 0) and (spent is None or spent == 0):
            parts = [ln for ln in self.form.funds if ln is not total]
            sums = []
            for key in ("budget", "spent"):
                scale = MONEY_UNITS.get(getattr(self.form, "money_unit", "万元"), 1e4) / 1e4
                values = [ln_value * scale for ln in parts if (ln_value := _plain_number(getattr(ln, key))) is not None]
                sums.append(sum(values) if values else None)
            if sums[0]:
                budget, spent = sums
                self.add("W-FUNDS-FROM-PARTS", total.budget, "budget",
                         f"年度资金总额未填，已按{'、'.join(ln.label.removeprefix('其中：') for ln in parts)}合计：{budget_label} {format_number(budget)} 万元、"
                         f"{spent_label} {format_number(spent or 0)} 万元。请在年度资金总额一行填写合计数。", value="")
        if budget_ok and (budget is None or budget <= 0):
            shown = "未填写" if budget is None else f"为 {format_number(budget)}"
            self.add("E-BUDGET-MISSING", total.budget, "budget", f"{budget_label}{shown}。请填写大于 0 的{budget_label}（单位：万元）。")
            budget = None
        if spent_ok and spent is None and budget is not None:
            self.add("E-SPENT-INVALID", total.spent, "spent", f"{spent_label}未填写。请填写全年实际执行（支出）数，单位万元；未执行填 0。", value="")
        elif spent is not None and spent < 0:
            self.add("E-SPENT-INVALID", total.spent, "spent",
                     f"{spent_label}为负数（{format_number(spent)}）。请填写全年实际执行（支出）数，单位万元；未执行填 0。")
            spent = None
        if budget is not None and spent is not None and spent > budget + EPS:
            self.add("W-OVER-BUDGET", total.spent, "spent",
                     f"{spent_label} {format_number(spent)} 万元大于{budget_label} {format_number(budget)} 万元（超预算执行）。请核对金额；执行率得分最高为满分。")
        ex.budget, ex.spent = budget, spent
        ex.usable = budget is not None and spent is not None
        if total.weight is not None and not _is_dash(total.weight):
            ex.weight, ex.self_score = self.weight_and_score(total.weight, total.score, "预算执行率")  # the funds line
        return ex

    def weight_and_score(self, weight_cell: Cell, score_cell: Cell | None, what: str) -> tuple[float | None, float | None]:
        """分值 (a number > 0) and the self-entered 得分 (not above the 分值) of a row;
        `what` names the row in messages: 指标“…” or 预算执行率."""
        weight, weight_ok = self.number(weight_cell, "weight", "分值", "5")
        if weight_ok and (weight is None or weight <= 0):
            shown = "未填写" if weight is None else f"为 {format_number(weight)}"
            self.add("E-WEIGHT-INVALID", weight_cell, "weight", f"{what}的分值{shown}。请填写大于 0 的分值。",
                     value=weight_cell.value)
            weight = None
        score = self.number(score_cell, "score", "得分", "4.5")[0] if score_cell is not None else None
        if score is not None and weight is not None and score > weight + EPS:
            self.add("E-SCORE-OVER-WEIGHT", score_cell, "score",
                     f"得分不能大于分值：{what}得分 {format_number(score)} 大于分值 {format_number(weight)}。"
                     f"请改为不超过 {format_number(weight)} 的得分。")
            score = None
        return weight, score

    # -- indicator rows -------------------------------------------------------------------
    def columns_present(self) -> bool:
        """The indicator table must have 年度指标值, 实际完成值 and 分值 columns."""
        form = self.form
        missing = [label for key, label in (("target", "年度指标值"), ("actual", "实际完成值"), ("weight", "分值"))
                   if key not in form.columns]
        if not missing:
            return True
        col = form.columns.get("level3", "A")
        where = Cell(form.sheet, f"{col}{form.header_row}", None) if form.header_row else None
        self.add("E-COLUMN-MISSING", where, "columns",
                 f"指标表表头缺少“{'”“'.join(missing)}”栏，无法评分。请使用自评表模板，或在表头补上这些栏目"
                 "（也可写作：年度目标值/指标值、实际值/完成值、权重）。", value="")
        return False

    def row(self, ind: IndicatorRow, year: int | None) -> RowInput:
        p = self.profile
        out = RowInput(row=ind, kind="invalid", reason=_text(ind.reason))
        errors_before = len(self.findings)
        name = ind.name or f"第{ind.row}行"
        for cell, key in ((ind.target, "target"), (ind.actual, "actual"), (ind.reason, "reason"), (ind.operator, "operator"), (ind.unit, "unit")):
            self.formula_ok(cell, key)
        if all(c is None or (c.blank and not c.missing_cache) for c in (ind.target, ind.actual, ind.weight, ind.score)):
            self.add("E-ROW-EMPTY", ind.level3, "level3",
                     f"指标“{name}”只有名称，没有指标值、完成值和分值。请补充填写，或删除这一行。")
            out.has_error = True
            return out
        if _is_breakdown(ind):
            # `其中：…` under a scored row, without a 分值 of its own: shown, not scored (ours)
            out.kind = "sub"
            out.target_text, out.actual_text = _shown(ind.target.value), _shown(ind.actual.value)
            self.add("I-SUB-ROW", ind.level3, "level3",
                     f"“{name}”是上一指标的分项（其中…），没有分值，不单独计分。如需计分，请填写分值。")
            return out
        out.weight, out.self_score = self.weight_and_score(ind.weight, ind.score, f"指标“{name}”")
        if self._merged_values(ind, name):
            return self._finish(out, errors_before)

        # operator: its own column first, then the folded text, then the default direction
        op_cell = None if ind.operator is None or ind.operator.blank or normalize_text(ind.operator.value) in NO_OPERATOR \
            else ind.operator
        column_op = parse_operator_cell(op_cell.value) if op_cell is not None else None
        if op_cell is not None and column_op is None:
            self.add("E-TARGET-INVALID", op_cell, "operator",
                     f"指标性质“{_shown(op_cell.value)}”无法识别。请从下拉列表选择：≥ ＞ ＝ ＜ ≤ 定性。")
        target = parse_value(ind.target.value, ind.target.number_format, year=year, words=p.words)
        out.target_text = _shown(ind.target.value)
        out.actual_text = _shown(ind.actual.value)
        unit_col = clean_unit(_text(ind.unit), p.words)

        if target.kind == "na" and column_op != QUAL:
            incident = counts_incidents(name, p)
            if incident and normalize_text(ind.target.value) in p.reading.zero:
                # `无` where the name counts incidents (安全事故发生次数): none may happen, ≤ 0
                target = Parsed("number", raw=ind.target.value, text=target.text, operator=LE, number=0.0)
                self.add("I-OPERATOR-DEFAULT", ind.target, "target",
                         f"指标“{name}”计的是{incident}，年度指标值“{out.target_text}”按“≤ 0”（不得发生）理解。", value=out.target_text)
                column_op = column_op if column_op in (LE, LT, EQ) else None
            else:
                return self._not_applicable(out, ind, name, errors_before)
        if target.kind == "blank":
            if not ind.target.missing_cache:  # a formula without its result is reported already
                self.add("E-TARGET-INVALID", ind.target, "target",
                         f"指标“{name}”的年度指标值未填写。请填写指标值，如 800（定性指标填目标描述，如“有效提高”）。", value="")
            return self._finish(out, errors_before)
        if target.kind == "multi":
            self.add("E-TWO-VALUES", ind.target, "target",
                     f"年度指标值“{out.target_text}”中有多个数值（{'；'.join(target.values)}），无法确定按哪一个评分。"
                     "请只填写本指标的一个指标值，其余另设指标或写在说明中。")
            return self._finish(out, errors_before)

        explicit_qual = column_op == QUAL
        if column_op in (GE, GT, EQ, LT, LE) and target.kind not in ("number", "date"):
            self.add("E-TARGET-INVALID", ind.target, "target",
                     f"指标性质为“{column_op}”，但年度指标值“{out.target_text}”不是数字或日期。请填写数字，如 800"
                     f"（{self._unit_hint()}）；如属定性指标，请把指标性质改为“定性”。")
            return self._finish(out, errors_before)
        if not explicit_qual and target.kind not in ("number", "date") and _value_like(target.text):
            # a short target with a number in it that is not a readable value is not a 定性 target
            what = "日期" if any(ch in target.text for ch in "年月日") else "数字"
            hint = ("请写完整日期，如 2024-12-31（表头未填年度时，“12月底”无法确定年份）。" if what == "日期" else
                    f"请写成比较符号加数字，如 ≥800（{self._unit_hint()}）。")
            self.add("E-TARGET-INVALID", ind.target, "target", f"年度指标值“{out.target_text}”无法识别为{what}。{hint}")
            return self._finish(out, errors_before)
        if target.kind == "number" and not explicit_qual:
            self._quantitative(out, ind, target, column_op, unit_col, name, year)
        elif target.kind == "date" and not explicit_qual:
            self._date(out, ind, target, name, year)
        else:
            self._qualitative(out, ind, target, name)
        return self._finish(out, errors_before)

    def _not_applicable(self, out: RowInput, ind: IndicatorRow, name: str, errors_before: int) -> RowInput:
        p = self.profile
        out.kind = "na"
        if p.na_policy == "error":
            self.add("E-NOT-APPLICABLE", ind.target, "target",
                     f"指标“{name}”填为不适用，本评分规则不允许不适用的指标。请填写指标值，或删除这一行并调整分值。")
        else:
            self.add("I-NOT-APPLICABLE", ind.target, "target",
                     f"指标“{name}”不适用，不计分；总分按其余分值折算为百分制。")
            actual = parse_value(ind.actual.value, ind.actual.number_format, words=p.words)
            if actual.kind not in ("blank", "na"):
                self.add("W-NA-VALUE", ind.actual, "actual",
                         f"年度指标值为“{out.target_text}”（不适用），但实际完成值填了“{out.actual_text}”。"
                         "该指标按不适用不计分；如该指标适用，请填写年度指标值。")
        return self._finish(out, errors_before)

    def _unit_hint(self) -> str:
        return "单位写在“计量单位”列" if "unit" in self.form.columns else "单位写在数字后面，如 800本"

    def _merged_values(self, ind: IndicatorRow, name: str) -> bool:
        """Two values merged into one cell (e.g. 年度指标值 and 实际完成值): one error at the
        visible cell instead of a blank one reported where the user cannot see it."""
        for cell, label in ((ind.actual, "实际完成值"), (ind.target, "年度指标值"), (ind.weight, "分值")):
            if cell is not None and cell.merged_into and coordinate_from_string(cell.merged_into)[1] == cell.row:
                visible = Cell(cell.sheet, cell.merged_into, None)
                column = coordinate_from_string(cell.address)[0]
                self.add("E-MERGED-VALUES", visible, "actual" if label == "实际完成值" else "target",
                         f"指标“{name}”的{label}与左侧栏目合并在同一个单元格中。请取消合并单元格，把{label}单独填在 {column} 列。",
                         value="")
                return True
        return False

    def _finish(self, out: RowInput, errors_before: int) -> RowInput:
        """A row has an error when its values cannot be scored; an error in the self-score
        alone does not stop the rule score from being computed."""
        errors = [f for f in self.findings[errors_before:] if f.severity == "error"]
        out.has_error = out.has_error or any(f.field != "score" for f in errors)
        out.score_error = any(f.field == "score" for f in errors)
        return out

    def _quantitative(self, out: RowInput, ind: IndicatorRow, target: Parsed, column_op: str | None,
                      unit_col: str, name: str, year: int | None) -> None:
        p = self.profile
        if column_op and target.operator and not target.soft_operator and _direction(column_op) != _direction(target.operator):
            self.add("E-OPERATOR-CONFLICT", ind.operator, "operator",
                     f"指标性质“{OPERATOR_WORDS[column_op]}”与年度指标值“{out.target_text}”中的“{OPERATOR_WORDS[target.operator]}”矛盾。"
                     "请统一为一个方向（成本、用时类一般为 ≤，数量、质量、满意度类一般为 ≥）。")
            return
        op = column_op or target.operator
        if op is None and ind.operator is not None and not ind.operator.blank \
                and normalize_text(ind.operator.value) not in NO_OPERATOR:
            op = GE  # the operator cell is unreadable: already an error, do not guess aloud
        t_unit = target.unit or unit_col
        defaulted_by = None
        if op is None:
            if target.number == 0 and not target.is_range:
                op, why = LE, "年度指标值为 0，按“≤ 0”（不得发生）理解"
            elif target.approx or target.is_range:
                op, why = GE, ""
            else:
                op, word = direction(name, ind.level2, t_unit, p)
                defaulted_by = word
                kind = "反向（≤，越少越好）" if op == LE else "正向（≥，越多越好）"
                why = f"根据{word}按{kind}理解" if word else f"按{kind}理解"
            if why:
                self.add("I-OPERATOR-DEFAULT", ind.operator or ind.target, "operator",
                         f"指标“{name}”没有写比较符号，{why}。如不对，请在指标性质中选择。", value=out.target_text)
        for code, detail in target.notes:
            self.add(code, ind.target, "target", f"年度指标值{detail}。")
        t_number = target.number
        if target.is_range:
            bound = target.high if op in (LE, LT) else t_number
            self.add("I-RANGE", ind.target, "target",
                     f"年度指标值“{out.target_text}”是一个区间，按{'不超过上限' if op in (LE, LT) else '不低于下限'} "
                     f"{format_number(bound)}{target.unit} 评分（超出区间另一端不扣分）。")
            t_number = bound
        elif target.approx and target.approx_word not in ("余", "多"):
            self.add("I-APPROX-TARGET", ind.target, "target",
                     f"年度指标值“{out.target_text}”是约数，按“≥ {format_number(t_number)}{target.unit}”理解。")
        # the unit written with the number wins over the 计量单位 column (as for the actual value)
        if self._cost_row(ind) and t_unit in ("万", "亿", "千"):
            t_unit = t_unit + "元"  # 100万 under 成本指标: 万元 (ours)
        t_factor, t_base = split_unit(t_unit)
        if target.unit and unit_col and t_number != 0 and self._family(split_unit(unit_col)[1]) != self._family(t_base) \
                and not _per_unit_match(split_unit(unit_col)[1], t_base):
            self.add("E-UNIT-MISMATCH", ind.target, "unit",
                     f"年度指标值“{out.target_text}”的单位“{target.unit}”与计量单位“{unit_col}”不一致。请统一单位。")
            return
        actual = parse_value(ind.actual.value, ind.actual.number_format, year=year, words=p.words)
        fraction_target = (t_base in ("%", "") and "%" not in target.text and "%" not in (ind.target.number_format or "")
                           and 0 < t_number <= 1 and not target.unit)
        if fraction_target and (t_base == "%" and _plain_number_above(ind.actual.value, 1)
                                or actual.kind == "number" and actual.unit == "%" and (actual.number or 0) > 1):
            t_number = round(t_number * 100, 10)
            t_base, t_unit = "%", "%"
            self.add("W-PERCENT-AMBIGUOUS", ind.target, "target",
                     f"年度指标值 {format_number(target.number)} 按 {format_number(t_number)}% 理解（完成值为百分数）。"
                     f"请填写 {format_number(t_number)}%。")
        out.operator, out.unit, out.percent = op, t_unit, t_base == "%"
        out.target = t_number
        if actual.kind == "blank":
            if not ind.actual.missing_cache:
                self.add("E-ACTUAL-MISSING", ind.actual, "actual",
                         f"指标“{name}”的实际完成值未填写。请填写实际完成的数字，如 {format_number(t_number)}。", value="")
            return
        if actual.kind == "multi":
            self.add("E-TWO-VALUES", ind.actual, "actual",
                     f"实际完成值“{out.actual_text}”中有多个数值（{'；'.join(actual.values)}），无法确定按哪一个评分。"
                     f"请只填写本指标的完成值，如 {format_number(t_number)}，其余写在偏差原因中或另设指标。")
            return
        if t_number == 0 and op in (LE, LT, EQ) and (actual.kind == "na" or is_zero_word(out.actual_text, p)):
            actual = Parsed("number", raw=ind.actual.value, text=actual.text, number=0.0)  # 无, 未发生: none happened
        if actual.kind != "number":
            self.add("E-ACTUAL-INVALID", ind.actual, "actual",
                     f"实际完成值“{out.actual_text}”无法识别为数字。请填写数字，如 {format_number(t_number)}（{self._unit_hint()}）。")
            return
        if actual.is_range or actual.approx and actual.approx_word not in ("余", "多"):
            self.add("E-ACTUAL-INVALID", ind.actual, "actual",
                     f"实际完成值“{out.actual_text}”是{'区间' if actual.is_range else '约数'}，不是实际完成的数值。"
                     f"请填写准确的完成数，如 {format_number(actual.number)}。")
            return
        if actual.soft_operator and not target.soft_operator:
            self.add("E-ACTUAL-INVALID", ind.actual, "actual",
                     f"实际完成值“{out.actual_text}”是一个变化量（增减），而年度指标值“{out.target_text}”是应达到的水平。"
                     f"请填写实际达到的数值，如 {format_number(t_number)}{target.unit}。")
            return
        if actual.operator and not actual.soft_operator:
            self.add("W-ACTUAL-OPERATOR", ind.actual, "actual",
                     f"实际完成值应填写实际数值，不应带比较符号：“{out.actual_text}”已按 {format_number(actual.number)} 理解。请删去比较符号。")
        for code, detail in actual.notes:
            self.add(code, ind.actual, "actual", f"实际完成值{detail}。")
        a_unit = actual.unit or unit_col or t_unit  # a bare number is in the 计量单位 column's unit
        if self._cost_row(ind) and a_unit in ("万", "亿", "千"):
            a_unit = a_unit + "元"
        a_factor, a_base = split_unit(a_unit)
        value = actual.number
        if fraction_target and t_base == "" and not actual.unit and not unit_col and 0 < value <= 1 \
                and any(normalize_text(name).endswith(w) for w in p.reading.rate_names):
            # both written as fractions under a rate's name (≥0.9, 0.85): percentages (ours)
            t_number, value = round(t_number * 100, 10), round(value * 100, 10)
            t_base = a_base = t_unit = "%"
            out.target, out.unit, out.percent = t_number, "%", True
            self.add("I-PERCENT-FRACTION", ind.target, "target",
                     f"指标值 {format_number(target.number)} 和完成值 {format_number(actual.number)} 按 "
                     f"{format_number(t_number)}% 和 {format_number(value)}% 理解。")
        # a bare fraction (0.904, 1.02) against a percentage (≥85%): read as 90.4%, 102%
        if t_base == "%" and not actual.unit and 0 < value <= 2 and t_number >= 10:
            value = round(value * 100, 10)
            a_base, a_factor = "%", 1.0
            fix = "并在计量单位写 %" if "unit" in self.form.columns else "并带上 %，如 90.4%"
            self.add("W-PERCENT-AMBIGUOUS", ind.actual, "actual",
                     f"实际完成值 {format_number(actual.number)} 按 {format_number(value)}% 理解（指标值为百分比）。"
                     f"请填写 {format_number(value)} {fix}，或把单元格设为百分比格式。")
        if a_base == "" and t_base:
            a_base = t_base
        if t_base == "" and a_base:
            t_base = a_base
            out.unit = a_unit
        if _per_unit_match(t_base, a_base):  # 每亩300 against 每亩300元: both 元/亩
            t_base = a_base = max(t_base, a_base, key=len)
            out.unit = t_base if t_factor == 1 else out.unit
        times = _times_a_year(t_base, a_base)
        if times and times != 1:
            # 每季度1次 against 4次 on a form of one year: 4 a year (ours)
            self.add("I-UNIT-SYNONYM", ind.target, "unit",
                     f"年度指标值“{out.target_text}”按全年 {format_number(t_number * times)}{a_base} 理解（每{t_base.split('/')[-1]} "
                     f"{format_number(t_number)}{a_base} × {times}）。")
            t_number, out.target, t_base, out.unit = t_number * times, t_number * times, a_base, a_unit
        if a_base != t_base and t_number != 0:
            near = any(a_base in g and t_base in g for g in p.reading.near_units)
            if _per_year(a_base, t_base):
                out.unit = min(a_base, t_base, key=len)  # 每年1次 on a form of one year: 次
            if self._family(a_base) == self._family(t_base) or _per_year(a_base, t_base):
                self.add("I-UNIT-SYNONYM", ind.actual, "unit",
                         f"完成值单位“{a_base}”与指标值单位“{t_base}”按同一单位比较。")
            elif near:
                self.add("W-UNIT-NEAR", ind.actual, "unit",
                         f"完成值单位“{a_base}”与指标值单位“{t_base}”不同，已按同一单位比较。请核实计量口径，"
                         "或把两者写成同一单位。")
            else:
                self.add("E-UNIT-MISMATCH", ind.actual, "unit",
                         f"实际完成值的单位“{a_unit}”与年度指标值的单位“{t_unit}”不是同一类，无法比较。"
                         f"请把两者写成同一单位（金额可用元或万元）。")
                return
        if t_number == 0 and a_base != t_base:
            a_factor = t_factor  # 0 of anything is 0: 0投诉 against 2次
        out.actual = value * a_factor / t_factor
        if not actual.unit and t_number > 0 and value > 0:
            out.actual = self._assumed_unit(out, ind, t_number, t_factor, t_base, value, a_factor)
        out.kind = "quant"
        standard = next((w for w in p.reading.standard if w in normalize_text(name)), None)
        if defaulted_by and defaulted_by.startswith("二级指标") and standard and out.actual < t_number:
            self.add("W-OPERATOR-UNSURE", ind.actual, "operator",
                     f"指标“{name}”是{standard}，没有写比较符号，已按成本指标“≤”评分（完成值低于{standard}得满分）。"
                     f"如{standard}应足额执行，请在指标性质中选择“＝”。")
        self._money_rate(out, ind, name)

    def _cost_row(self, ind: IndicatorRow) -> bool:
        return "成本" in ind.level2

    def _assumed_unit(self, out: RowInput, ind: IndicatorRow, t_number: float, t_factor: float, t_base: str,
                      value: float, a_factor: float) -> float:
        """A bare actual that is only plausible in another unit of the target's family (≤2万元
        against 19400; ≥5万人次 against 48000) is read in that unit with a warning (ours)."""
        actual = value * a_factor / t_factor
        ratio = actual / t_number
        if 0.01 < ratio < 100 or not (t_base == "元" or t_factor != 1):
            return actual
        factors = dict(MONEY_UNITS) if t_base == "元" else {t_base: 1.0, f"万{t_base}": 1e4, f"亿{t_base}": 1e8}
        name, factor = min(factors.items(), key=lambda kv: abs(math.log(value * kv[1] / (t_number * t_factor))))
        assumed = value * factor / t_factor
        if 0.2 <= assumed / t_number <= 5:
            self.add("W-UNIT-ASSUMED", ind.actual, "unit",
                     f"实际完成值 {format_number(value)} 没有写单位，按年度指标值的单位“{out.unit}”读是指标值的 "
                     f"{format_number(round(ratio, 2))} 倍，不合常理；已按“{name}”理解（{format_number(round(assumed, 6))}{out.unit}）。"
                     "请在完成值后写明单位。")
            return assumed
        self.add("W-UNIT-ASSUMED", ind.actual, "unit",
                 f"实际完成值 {format_number(value)} 没有写单位，是年度指标值 {format_number(t_number)}{out.unit} 的 "
                 f"{format_number(round(ratio, 2))} 倍，可能写错了单位。请核实并写明单位。")
        return actual

    def _family(self, base: str) -> str:
        return self.profile.unit_family(base)

    def _money_rate(self, out: RowInput, ind: IndicatorRow, name: str) -> None:
        """资金到位率 / 预算执行率 rows of the framework form are computed from the money
        (到位率 = 实际到位资金 ÷ 预算资金; 执行率 = 实际支出资金 ÷ 实际到位资金)."""
        if self.form.kind != "framework" or name not in RATE_ROWS or not out.percent:
            return
        num_key, den_key = RATE_ROWS[name]
        num, den = getattr(self.execution, num_key), getattr(self.execution, den_key)
        if num is None or not den:
            return
        computed = num / den * 100
        if abs(computed - out.actual) > RATE_TOLERANCE:
            labels = {"received": "实际到位资金", "budget": "预算资金", "spent": "实际支出资金"}
            self.add("W-RATE-MISMATCH", ind.actual, "actual",
                     f"实际完成值 {format_number(out.actual)}% 与资金栏计算的{name} {format_number(round(computed, 2))}% 不一致"
                     f"（{labels[num_key]} {format_number(num)} ÷ {labels[den_key]} {format_number(den)}）。已按资金栏计算；请核对金额或完成值。")
            out.actual = computed

    def _date(self, out: RowInput, ind: IndicatorRow, target: Parsed, name: str, year: int | None) -> None:
        p = self.profile
        out.kind, out.operator, out.deadline = "date", LE, target.date
        deadline = target.date
        if year is not None and deadline.year < year:
            self.add("W-DATE-YEAR", ind.target, "target",
                     f"年度指标值“{out.target_text}”的截止日期 {deadline:%Y-%m-%d} 早于本表年度 {year} 年，可能沿用了往年的指标。"
                     "请核实并改为本年度的完成时限。")
        if target.period in ("period", "quarter", "half", "one-year", "xun"):
            self.add("I-DATE-READ", ind.target, "target", f"年度指标值“{out.target_text}”按 {deadline:%Y-%m-%d} 前完成理解。")
        actual = parse_value(ind.actual.value, ind.actual.number_format, year=year, words=p.words)
        if actual.kind == "blank":
            if not ind.actual.missing_cache:
                self.add("E-ACTUAL-MISSING", ind.actual, "actual",
                         f"时效指标“{name}”的实际完成日期未填写。请填写完成日期，如 {deadline:%Y-%m-%d}。", value="")
            out.kind = "invalid"
            return
        if actual.kind == "date":
            first, last = actual.date_from or actual.date, actual.date
            if first == last or last <= deadline:
                out.done = last
                if first != last:
                    self.add("I-DATE-READ", ind.actual, "actual",
                             f"完成时间“{out.actual_text}”按不晚于 {last:%Y-%m-%d} 理解，未逾期。")
                return
            late = "晚于" if first > deadline else "可能晚于"
            self.add("E-DATE-VAGUE", ind.actual, "actual",
                     f"完成时间“{out.actual_text}”（{first:%Y-%m-%d} 至 {last:%Y-%m-%d}）{late}截止日期 {deadline:%Y-%m-%d}，"
                     f"无法计算逾期天数。请填写具体完成日期，如 {last:%Y-%m-%d}。")
            out.kind = "invalid"
            return
        if actual.kind == "ontime":
            out.done = deadline
            self.add("I-ONTIME", ind.actual, "actual", f"“{out.actual_text}”按在 {deadline:%Y-%m-%d} 前完成理解。")
            return
        if actual.kind == "number" and not actual.unit and 20000 <= (actual.number or 0) <= 80000:
            # a date typed into a cell formatted as a number shows Excel's day count (45560)
            from openpyxl.utils.datetime import from_excel

            out.done = from_excel(actual.number).date()
            self.add("I-DATE-SERIAL", ind.actual, "actual",
                     f"实际完成值 {format_number(actual.number)} 按 Excel 日期序号理解为 {out.done:%Y-%m-%d}。请把单元格设为日期格式。")
            return
        if actual.kind == "late":
            self.add("E-DATE-INVALID", ind.actual, "actual",
                     f"时效指标的实际完成值“{out.actual_text}”说明未按期完成，但没有写完成日期，无法计算逾期天数。"
                     f"请填写实际完成日期，如 {deadline:%Y-%m-%d}。")
        else:
            self.add("E-DATE-INVALID", ind.actual, "actual",
                     f"时效指标的实际完成值“{out.actual_text}”无法识别为日期。请填写完成日期，如 {deadline:%Y-%m-%d}。")
        out.kind = "invalid"

    def _qualitative(self, out: RowInput, ind: IndicatorRow, target: Parsed, name: str) -> None:
        p = self.profile
        out.kind, out.operator = "qual", QUAL
        actual = parse_value(ind.actual.value, ind.actual.number_format, words=p.words)
        outcome = read_outcome(_shown(ind.target.value), out.actual_text, actual, p, target) if actual.kind != "blank" else None
        grade = outcome.grade if outcome is not None else None
        if grade is not None and outcome.code:
            self.add(outcome.code, ind.actual, "actual", f"{outcome.detail}。")
        if grade is None:
            if ind.actual.missing_cache:
                out.kind = "invalid"
                return
            seen = f"“{out.actual_text}”不是规定的完成等级" if out.actual_text else "未填写"
            if outcome is not None and outcome.conflict:
                seen = f"“{out.actual_text}”中“{'”“'.join(outcome.conflict)}”说法不一，无法确定等级"
            self.add("E-QUAL-GRADE", ind.actual, "actual",
                     f"定性指标“{name}”的实际完成值{seen}。定性指标实际完成值请填写“达成”“部分达成”“未达成”三项中的一个"
                     "（即：达成年度指标／部分达成年度指标并具有一定效果／未达成年度指标且效果较差），说明可写在等级后。",
                     value=out.actual_text)
            out.kind = "invalid"
            return
        out.grade = grade
        w = out.weight
        if w is None:
            return
        low, high = p.qualitative_bands[grade]
        s = out.self_score
        lo, hi = round(low * w, 6), round(high * w, 6)
        if s is None:
            if grade != "达成":
                self.add("E-QUAL-SCORE-MISSING", ind.score or ind.actual, "score",
                         f"定性指标“{name}”为“{grade}”，须自评一个 {format_number(lo)}—{format_number(hi)} 分之间的得分"
                         f"（分值 {format_number(w)} 的 {low:.0%}—{high:.0%}）。请填写得分。", value="")
            return
        upper_ok = s <= hi + EPS if grade == "达成" else s < hi - EPS
        if not (s >= lo - EPS and upper_ok):
            rng = f"{format_number(lo)}（含）—{format_number(hi)}" + ("（含）" if grade == "达成" else "")
            self.add("E-QUAL-SCORE-BAND", ind.score, "score",
                     f"定性指标“{name}”为“{grade}”，得分应在 {rng} 分之间，自评 {format_number(s)} 分不在此区间。"
                     "请调整得分，或修改完成等级。")
            out.self_score = None  # not used: the grade's rule applies until it is corrected

    # -- weights ----------------------------------------------------------------------------
    def weights(self, rows: list[RowInput], ex: Execution) -> None:
        form, p = self.form, self.profile
        rows = [r for r in rows if r.kind != "sub"]
        valid = [r for r in rows if r.weight is not None]
        if any(r.weight is None and r.kind != "invalid" for r in rows) or any(
                f.code == "E-WEIGHT-INVALID" for f in self.findings):
            return  # the sum is meaningless until every 分值 is a number
        exec_weight = ex.weight or 0.0
        total = round(sum(r.weight for r in valid) + exec_weight, 6)
        cell = form.total_weight if form.total_weight is not None else (valid[0].row.weight if valid else None)
        if abs(total - 100) > WEIGHT_TOLERANCE:
            parts = f"（含预算执行率 {format_number(exec_weight)} 分）" if exec_weight else ""
            self.add("E-WEIGHT-SUM", cell, "weight",
                     f"全部分值合计为 {format_number(total)}{parts}，应为 100。请检查各行分值。", value=total)
            return
        # 一级 totals against the profile's defaults
        totals: dict[str, float] = {}
        first_cell: dict[str, Cell] = {}
        for r in valid:
            key = canonical_level1(r.row.level1, p)
            totals[key] = totals.get(key, 0.0) + r.weight
            if key not in first_cell:
                group = next((g for g in form.groups if r.row.row in g.rows), None)
                first_cell[key] = group.cell if group is not None else r.row.level3
        defaults = "、".join(f"{k} {format_number(v)}" for k, v in p.level1_weights.items())
        if p.execution_weight:
            defaults = f"预算执行率 {format_number(p.execution_weight)}、" + defaults
        for key, default in p.level1_weights.items():
            have = round(totals.get(key, 0.0), 6)
            if abs(have - default) > WEIGHT_TOLERANCE:
                self.add("W-WEIGHT-LEVEL1", first_cell.get(key, cell), "weight",
                         f"一级指标“{key}”分值合计 {format_number(have)}，与默认权重 {format_number(default)} 不同（默认：{defaults}）。"
                         "如属特殊情况调整权重，可忽略本提示。", value=have)
        for key, have in totals.items():
            if key not in p.level1_weights:
                self.add("W-WEIGHT-LEVEL1", first_cell[key], "weight",
                         f"一级指标“{key}”（{format_number(have)} 分）不在默认权重中（默认：{defaults}）。"
                         "如属特殊情况调整权重，可忽略本提示。", value=have)
        if p.execution_weight and ex.weight is not None and abs(ex.weight - p.execution_weight) > WEIGHT_TOLERANCE:
            self.add("W-WEIGHT-LEVEL1", ex.weight_cell, "weight",
                     f"预算执行率分值 {format_number(ex.weight)}，与默认权重 {format_number(p.execution_weight)} 不同。"
                     "如属特殊情况调整权重，可忽略本提示。", value=ex.weight)
        # a label such as 产出指标(50分) against its rows
        for group in form.groups:
            if group.declared_weight is None:
                continue
            have = round(sum(r.weight for r in valid if r.row.row in group.rows), 6)
            if abs(have - group.declared_weight) > WEIGHT_TOLERANCE:
                self.add("W-GROUP-HEADER", group.cell, "level1",
                         f"“{group.name}”标注 {format_number(group.declared_weight)} 分，但其下各行分值合计 {format_number(have)}。"
                         "请修改标注或各行分值。")


def _direction(op: str) -> str:
    return {GE: "up", GT: "up", LE: "down", LT: "down", EQ: "eq"}.get(op, op)


def _value_like(text: str) -> bool:
    """A target text that meant to be a value (a number or a date) but cannot be read: it has
    a digit and little else (12月底前 without a year, #N/A). A sentence with a number in it
    (1-6期培训结束后及时考核) is a 定性 target (ours: four or more other characters)."""
    if text.startswith("#"):
        return True
    if not any(ch.isdigit() for ch in text):
        return False
    rest = re.sub(r"[\d.,%‰~\-/:：年月日号底末前后内止]", "", text)
    return len(rest) < 4


def _is_breakdown(ind: IndicatorRow) -> bool:
    """A `其中：…` row without 分值 and 得分: a breakdown of the scored row above it."""
    name = normalize_text(ind.level3.value) if ind.level3 is not None and not ind.level3.blank else ""
    return name.startswith("其中") and (ind.weight is None or ind.weight.blank) and (ind.score is None or ind.score.blank)


PERIODS_A_YEAR = {"年": 1, "半年": 2, "季度": 4, "季": 4, "月": 12}


def _times_a_year(target_unit: str, actual_unit: str) -> int | None:
    """`次/季度` against `次`: 4 (a form covers one year); None when the units are not so."""
    base, _, period = target_unit.partition("/")
    return PERIODS_A_YEAR.get(period) if period and base == actual_unit else None


def _per_year(a: str, b: str) -> bool:
    """`次/年` (每年1次) and `次` on a form that covers one year (ours)."""
    return a == f"{b}/年" or b == f"{a}/年"


def _per_unit_match(a: str, b: str) -> bool:
    """`/亩` (written 每亩300) and `元/亩`: the same unit with its numerator left out."""
    return a != b and (a.startswith("/") and b.endswith(a) or b.startswith("/") and a.endswith(b))


def _plain_number_above(value: Any, limit: float) -> bool:
    parsed = parse_value(value)
    return parsed.kind == "number" and parsed.number is not None and parsed.number > limit


def _plain_number(cell: Cell | None) -> float | None:
    if cell is None or cell.blank or isinstance(cell.value, bool):
        return None
    return float(cell.value) if isinstance(cell.value, (int, float)) else None


def _is_dash(cell: Cell) -> bool:
    return isinstance(cell.value, str) and normalize_text(cell.value) in ("—", "——", "-", "/")


def canonical_level1(name: str, profile: Profile) -> str:
    """`产出指标`, `产出` → 产出; `满意度指标完成情况分析` → 满意度 (the profile's keys); a label
    written otherwise through the profile's aliases (`效果指标` → 效益, `项目决策` → 决策)."""
    for key in profile.level1_weights:
        if name == key or name.startswith(key):
            return key
    text = normalize_text(name)
    for alias, key in sorted(profile.level1_aliases.items(), key=lambda kv: -len(kv[0])):
        if text == alias or text.startswith(alias):
            return key
    return name


def validate(form: Form, profile: Profile) -> Validated:
    v = _Validator(form, profile)
    v.header()
    execution = v.execution = v.funds()
    if not v.columns_present():
        return Validated(form=form, profile=profile, rows=[], execution=execution, findings=v.findings)
    rows = [v.row(ind, form.header.year_value) for ind in form.indicators]
    v.weights(rows, execution)
    return Validated(form=form, profile=profile, rows=rows, execution=execution, findings=v.findings)
