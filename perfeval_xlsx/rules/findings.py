"""Findings: every problem found in a form, as a record with a stable code.

The catalogue below is the one place where codes are defined and documented. A code never
changes meaning; new checks get new codes. Severity: ``error`` (the form must be corrected
before its score counts), ``warning`` (look at it), ``info`` (how a value was read).
Messages read: where — what is wrong — how to fix, in Chinese.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

ERROR, WARNING, INFO = "error", "warning", "info"
SEVERITY_ORDER = {ERROR: 0, WARNING: 1, INFO: 2}
SEVERITY_LABEL = {ERROR: "错误", WARNING: "预警", INFO: "提示"}

#: what a finding is about: the file as a whole, decided by its bytes alone (the same bytes always
#: give it, so a batch may reuse the result); opening the file (may pass on the next try); a cell
FILE, IO, FORM = "file", "io", "form"


@dataclass(frozen=True)
class Rule:
    code: str
    severity: str
    title: str  # Chinese, short: shown in 问题清单 and the console
    scope: str = FORM


CATALOGUE: dict[str, Rule] = {r.code: r for r in (
    # -- the file itself ---------------------------------------------------------------
    Rule("E-FILE-FORMAT", ERROR, "不是 Excel/WPS/LibreOffice 工作簿", FILE),
    Rule("E-FILE-CORRUPT", ERROR, "文件为空、不完整或已损坏", FILE),
    Rule("E-FILE-ENCRYPTED", ERROR, "工作簿设有打开密码", FILE),
    Rule("E-FILE-UNSAFE", ERROR, "文件结构异常，已拒绝读取", FILE),
    Rule("E-FILE-IO", ERROR, "文件无法打开", IO),
    Rule("E-NO-FORM", ERROR, "找不到自评表", FILE),
    Rule("E-MANY-FORMS", ERROR, "多个工作表都像自评表", FILE),
    Rule("E-INTERNAL", ERROR, "程序内部出错（不是填写问题）", IO),
    Rule("I-COPY-REWRITTEN", INFO, "评分副本由备用方式生成，原表部分格式可能未保留", FILE),
    # -- header and funds --------------------------------------------------------------
    Rule("E-HEADER-MISSING", ERROR, "表头必填项未填"),
    Rule("W-YEAR-MISSING", WARNING, "未填写年度"),
    Rule("E-BUDGET-MISSING", ERROR, "全年预算数缺失或不大于 0"),
    Rule("E-SPENT-INVALID", ERROR, "全年执行数未填或为负数"),
    Rule("W-OVER-BUDGET", WARNING, "执行数大于预算数"),
    Rule("W-FUNDS-FROM-PARTS", WARNING, "年度资金总额未填，按分项合计"),
    Rule("E-NUMBER-TEXT", ERROR, "数字单元格中是文字"),
    Rule("E-FORMULA-NO-VALUE", ERROR, "公式没有计算结果"),
    Rule("I-FORMULA-COMPUTED", INFO, "公式没有保存结果，已重新计算"),
    # -- weights -----------------------------------------------------------------------
    Rule("E-WEIGHT-INVALID", ERROR, "分值为空、为 0 或为负数"),
    Rule("E-WEIGHT-SUM", ERROR, "分值合计不等于 100"),
    Rule("W-WEIGHT-LEVEL1", WARNING, "一级指标分值与默认权重不同"),
    Rule("W-GROUP-HEADER", WARNING, "一级指标标注的分值与各行合计不符"),
    # -- indicator values --------------------------------------------------------------
    Rule("E-COLUMN-MISSING", ERROR, "指标表缺少必需的栏目"),
    Rule("E-MERGED-VALUES", ERROR, "两个数值合并在一个单元格中"),
    Rule("E-ROW-EMPTY", ERROR, "指标只有名称，没有内容"),
    Rule("E-TARGET-INVALID", ERROR, "年度指标值无法识别"),
    Rule("E-ACTUAL-MISSING", ERROR, "实际完成值未填"),
    Rule("E-ACTUAL-INVALID", ERROR, "实际完成值无法识别"),
    Rule("E-UNIT-MISMATCH", ERROR, "指标值与完成值单位不一致"),
    Rule("E-OPERATOR-CONFLICT", ERROR, "指标性质与指标值中的符号矛盾"),
    Rule("W-RATE-MISMATCH", WARNING, "填写的比率与资金栏计算的不一致"),
    Rule("I-UNIT-SYNONYM", INFO, "同义单位按同一单位比较"),
    Rule("W-UNIT-NEAR", WARNING, "相近单位按同一单位比较，请核实口径"),
    Rule("W-ACTUAL-OPERATOR", WARNING, "实际完成值带比较符号"),
    Rule("I-OPERATOR-DEFAULT", INFO, "未写比较符号，按默认方向理解"),
    Rule("W-OPERATOR-UNSURE", WARNING, "未写比较符号，标准类指标方向不确定"),
    Rule("I-APPROX", INFO, "“余”按整数理解"),
    Rule("W-PERCENT-AMBIGUOUS", WARNING, "小数按百分比理解"),
    Rule("I-ONTIME", INFO, "“按时完成”按期限内完成理解"),
    Rule("I-DATE-SERIAL", INFO, "日期序号按日期理解"),
    Rule("E-DATE-INVALID", ERROR, "时效指标的完成日期无法识别"),
    Rule("I-NOT-APPLICABLE", INFO, "指标不适用，不计分"),
    Rule("E-NOT-APPLICABLE", ERROR, "不允许有不适用的指标"),
    Rule("W-NA-VALUE", WARNING, "不适用的指标填了完成值"),
    Rule("E-TWO-VALUES", ERROR, "一个单元格中有多个数值"),
    Rule("I-RANGE", INFO, "区间指标值按下限（或上限）理解"),
    Rule("I-APPROX-TARGET", INFO, "约数指标值按“不低于”理解"),
    Rule("I-PERCENT-FRACTION", INFO, "小数的比率按百分比理解"),
    Rule("W-UNIT-ASSUMED", WARNING, "完成值未写单位，数值与指标值不合"),
    Rule("I-SUB-ROW", INFO, "“其中”分项不单独计分"),
    Rule("I-DATE-READ", INFO, "期间、季度、月份按截止日理解"),
    Rule("E-DATE-VAGUE", ERROR, "完成时间不具体，无法判断是否逾期"),
    Rule("W-DATE-YEAR", WARNING, "时效指标的年份早于本表年度"),
    Rule("I-MONEY-UNIT", INFO, "资金栏以元填写，已换算为万元"),
    # -- qualitative -------------------------------------------------------------------
    Rule("E-QUAL-GRADE", ERROR, "定性指标未填写等级"),
    Rule("I-QUAL-SYNONYM", INFO, "定性完成值按近义词理解"),
    Rule("I-QUAL-ECHO", INFO, "完成值与指标值相同，按“达成”理解"),
    Rule("I-QUAL-BINARY", INFO, "是/否、有/无、优良中差按等级理解"),
    Rule("I-QUAL-PERCENT", INFO, "定性指标完成值 100% 按“达成”理解"),
    Rule("I-QUAL-PARAPHRASE", INFO, "完成值换一种说法重复指标值，按“达成”理解"),
    Rule("E-QUAL-SCORE-BAND", ERROR, "定性得分不在等级对应区间"),
    Rule("E-QUAL-SCORE-MISSING", ERROR, "定性指标须自评得分"),
    # -- scores ------------------------------------------------------------------------
    Rule("E-SCORE-OVER-WEIGHT", ERROR, "得分大于分值"),
    Rule("W-REASON-MISSING", WARNING, "未得满分，未填偏差原因"),
    Rule("W-OVERSHOOT", WARNING, "超计划较大，未说明原因"),
    Rule("W-SELF-SCORE", WARNING, "自评得分与计算得分不一致"),
    Rule("W-TOTAL-DIFF", WARNING, "自填总分与计算总分不一致"),
)}


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str
    sheet: str
    cell: str
    field: str
    value: Any
    message: str

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["value"] = json_value(self.value)
        return d

    @property
    def sort_key(self) -> tuple:
        return (SEVERITY_ORDER[self.severity], _cell_key(self.cell), self.code)


def _cell_key(cell: str) -> tuple[int, str]:
    letters = "".join(ch for ch in cell if ch.isalpha())
    digits = "".join(ch for ch in cell if ch.isdigit())
    return (int(digits) if digits else 0, letters.rjust(3))


def json_value(value: Any) -> Any:
    """A finding's value as strict JSON can carry it (dates as ISO text; NaN and infinity,
    which JSON has no words for, as null)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def plain(value: Any) -> Any:
    """`value` (dicts, lists, numbers, numpy scalars, dates) as strict JSON can carry it: NaN and
    infinity become null, so that `json.dumps(..., allow_nan=False)` never fails and never
    prints `NaN` (`perfeval score --json` is read by other programs)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)) and getattr(value, "shape", None) == ():
        value = value.item()  # a numpy scalar
    return json_value(value)


def dumps(value: Any, **kwargs: Any) -> str:
    """Strict JSON text of `value` (see `plain`), Chinese kept as is."""
    import json

    return json.dumps(plain(value), ensure_ascii=False, allow_nan=False, **kwargs)


def finding(code: str, sheet: str, cell: str, field: str, value: Any, message: str) -> Finding:
    """Make a finding of a catalogued code; the message should start with where (the cell)."""
    rule = CATALOGUE[code]
    where = f"{cell}：" if cell else ""
    return Finding(code, rule.severity, sheet, cell, field, value, f"{where}{message}")


def status_of(findings: list[Finding], readable: bool = True) -> str:
    if not readable:
        return "unreadable"
    severities = {f.severity for f in findings}
    if ERROR in severities:
        return "errors"
    if WARNING in severities:
        return "warnings"
    return "ok"


def codes_of_scope(scope: str) -> frozenset[str]:
    return frozenset(code for code, rule in CATALOGUE.items() if rule.scope == scope)


def catalogue_markdown(with_scope: bool = False) -> str:
    """The catalogue as a Markdown table (README reference)."""
    if with_scope:
        rows = ["| 代码 | 级别 | 范围 | 含义 |", "| --- | --- | --- | --- |"]
        rows += [f"| `{r.code}` | {SEVERITY_LABEL[r.severity]} | {r.scope} | {r.title} |" for r in CATALOGUE.values()]
        return "\n".join(rows)
    rows = ["| code | severity | 含义 |", "| --- | --- | --- |"]
    rows += [f"| `{r.code}` | {r.severity} | {r.title} |" for r in CATALOGUE.values()]
    return "\n".join(rows)
