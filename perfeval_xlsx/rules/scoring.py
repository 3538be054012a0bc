"""Score indicator rows by the rules of the profile, column-wise with pandas.

`indicator_frame` turns validated rows (of one form or many) into one DataFrame; `apply_rules`
computes every row's 复核得分 at once with numpy; `score_form` adds budget execution, totals,
the grade and the findings that depend on scores (偏差原因, 超计划, self-score audit).

Each pandas call has a fixed cost that outweighs the arithmetic on a form's rows, so a form's
frame is made once, from its indicator columns and the scored ones together, and its rows are
turned into tuples once (`records`) for every row-wise step after it.
"""

from __future__ import annotations

import math
from collections import namedtuple
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from perfeval_xlsx.numbers import EPS, as_float, differs, format_number, round_half_up
from perfeval_xlsx.reading.values import EQ, GE, GT, LE, LT
from perfeval_xlsx.rules.findings import ERROR, Finding, finding
from perfeval_xlsx.rules.profile import Profile
from perfeval_xlsx.rules.validate import OPERATOR_WORDS, Validated, canonical_level1
from perfeval_xlsx.vocab import PROVISIONAL


COLUMNS = [
    "form", "sheet", "row", "level1", "level2", "level3", "kind", "operator", "target", "actual", "unit",
    "percent", "deadline_days", "late_days", "grade", "weight", "self_score", "reason_blank",
    "target_text", "actual_text", "has_error",
]
#: the columns of numbers (float; blank: NaN)
NUMBERS = ("target", "actual", "weight", "self_score", "deadline_days", "late_days")
#: the values `_rule_text` reads of a row, in the order `_rule_columns` zips them
_RuleRow = namedtuple("_RuleRow", "kind has_error operator target actual grade self_score late_days deadline_days reason_blank")


def records(frame: pd.DataFrame) -> list:
    """The rows of a frame as named tuples, cheaply (itertuples slices every column per call)."""
    Row = _row_type(tuple(frame.columns))
    return [Row(*values) for values in zip(*(column.tolist() for _, column in frame.items()), strict=True)]


@lru_cache(maxsize=16)
def _row_type(columns: tuple[str, ...]):
    return namedtuple("Row", columns)


def _indicator_columns(validated: list[Validated]) -> dict[str, Any]:
    """The columns of `indicator_frame`: the numbers as float arrays (blank: NaN), the others as
    lists, whose dtypes pandas infers when the frame is made."""
    rows = []
    for i, v in enumerate(validated):
        for r in v.rows:
            deadline_days = late = np.nan
            if r.kind == "date" and r.deadline is not None and r.done is not None:
                deadline_days = r.deadline.timetuple().tm_yday  # days from 1 January, inclusive
                late = (r.done - r.deadline).days
            rows.append((
                i, r.row.level3.sheet, r.row.row, r.row.level1, r.row.level2, r.row.name, r.kind, r.operator,
                r.target, r.actual, r.unit, r.percent, deadline_days, late, r.grade, r.weight,
                r.self_score, not r.reason, r.target_text, r.actual_text, r.has_error,
            ))
    # no rows: object columns, as DataFrame.from_records makes them (empty lists would be float)
    values = [list(column) for column in zip(*rows)] if rows else [np.empty(0, dtype=object)] * len(COLUMNS)
    columns = dict(zip(COLUMNS, values, strict=True))
    for name in NUMBERS:
        columns[name] = np.array(columns[name], dtype=float)  # numbers or None (→ NaN)
    return columns


def indicator_frame(validated: list[Validated]) -> pd.DataFrame:
    """One row per indicator of one or many forms (column `form` is the form's index)."""
    return pd.DataFrame(_indicator_columns(validated))


def apply_rules(frame: pd.DataFrame, profile: Profile) -> pd.DataFrame:
    """Add `score` (复核得分), `completion` (完成率, %) and `rule` (规则说明) to each row."""
    return frame.assign(**_rule_columns(frame, profile))


def _rule_columns(columns: Any, profile: Profile) -> dict[str, Any]:
    """The columns `apply_rules` adds, from the indicator columns (a frame or `_indicator_columns`)."""
    def floats(name: str) -> np.ndarray:
        return np.asarray(columns[name], dtype=float)

    def objects(name: str) -> np.ndarray:
        return np.asarray(columns[name], dtype=object)

    T, A, W = floats("target"), floats("actual"), floats("weight")
    op, kind = objects("operator"), objects("kind")
    quant = kind == "quant"
    positive = quant & np.isin(op, [GE, GT])
    reverse = quant & np.isin(op, [LE, LT])
    equal = quant & (op == EQ)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(T != 0, A / T, np.nan)
        # 正向: full when met, else W × A/T; T = 0: full when A ≥ 0
        pos = np.where(T == 0, np.where(A >= 0, W, 0.0), np.where(A >= T, W, W * ratio))
        # 反向: linear W × (1 − (A − T)/T), 0 from 2T on; or the ratio rule W × T/A
        if profile.reverse_rule == "linear":
            rev_over = np.where(A >= 2 * T, 0.0, W * (1 - (A - T) / T))
        else:
            rev_over = np.where(A > 0, W * T / A, W)
        rev = np.where(T == 0, np.where(A <= 0, W, 0.0), np.where(A <= T, W, rev_over))
        # ＝: within tolerance full, else W × max(0, 1 − |A − T|/T)
        dev = np.abs(A - T)
        eq = np.where(T == 0, np.where(A <= 0, W, 0.0),
                      np.where(dev <= profile.equal_tolerance + 1e-12, W, W * np.maximum(0.0, 1 - dev / np.abs(T))))
        # 时效: on time full, else W × max(0, 1 − days late / days from 1 January to the deadline)
        late, span = floats("late_days"), floats("deadline_days")
        on_date = np.where(late <= 0, W, W * np.maximum(0.0, 1 - late / span))
    # 定性: the self-score within its band counts; blank 达成 is full; otherwise the band's floor
    grade = objects("grade")
    self_score = floats("self_score")
    low = np.array([profile.qualitative_bands.get(g, (0.0, 0.0))[0] if g else 0.0 for g in grade])
    qual = np.where(~np.isnan(self_score), self_score, np.where(grade == "达成", W, W * low))

    raw = np.select(
        [positive, reverse, equal, kind == "date", kind == "qual"],
        [pos, rev, eq, on_date, qual], default=np.nan,
    )
    # over-completion: A ≥ ratio × T on a 正向 row, with no 偏差原因
    overshoot = positive & (T > 0) & (A >= profile.overshoot_ratio * T - EPS)
    reason_blank, has_error = np.asarray(columns["reason_blank"], dtype=bool), np.asarray(columns["has_error"], dtype=bool)
    unexplained = overshoot & reason_blank
    if profile.overshoot_deduction:
        raw = np.where(unexplained, raw - profile.overshoot_deduction * W, raw)
    score = round_half_up(np.clip(np.nan_to_num(raw, nan=0.0), 0.0, np.nan_to_num(W, nan=0.0)), profile.rounding)
    score = np.where(np.isnan(raw) | has_error & ~np.isin(kind, ["qual"]), np.nan, score)
    score = np.where(kind == "na", np.nan, score)
    completion = np.where(quant & ~np.isnan(ratio), round_half_up(np.abs(np.nan_to_num(ratio * 100)), 2), np.nan)
    rule_rows = zip(kind.tolist(), has_error.tolist(), op.tolist(), T.tolist(), A.tolist(), grade.tolist(),
                    self_score.tolist(), late.tolist(), span.tolist(), reason_blank.tolist(), strict=True)
    diff = self_score - score
    return {
        "score": score,
        "completion": completion,
        "overshoot": overshoot,
        "overshoot_unexplained": unexplained,
        "rule": [_rule_text(_RuleRow(*values), profile) for values in rule_rows],
        "difference": np.where(np.isnan(diff), np.nan, round_half_up(np.abs(diff), profile.rounding) * np.sign(diff)),
    }


def _pct(x: float) -> str:
    return f"{format_number(round_half_up(x, 2))}%"


def _rule_text(r: Any, p: Profile) -> str:
    """規則说明 in Chinese words, e.g. `反向指标：超出目标25%，按线性扣减`."""
    if r.kind == "na":
        return "不适用：不计分，总分按其余分值折算"
    if r.kind == "sub":
        return "其中项：上一指标的分项，不单独计分"
    if r.kind == "invalid" or r.has_error and r.kind != "qual":
        return "有错误，暂不计分"
    if r.kind == "date":
        if r.late_days <= 0:
            return "时效指标：按期完成，得满分"
        return f"时效指标：逾期{int(r.late_days)}天，按逾期天数占计划天数（{int(r.deadline_days)}天）比例扣减"
    if r.kind == "qual":
        band = p.qualitative_bands.get(r.grade, (0, 0))
        base = f"定性指标：{r.grade}，得分区间为分值的{band[0]:.0%}—{band[1]:.0%}"
        if np.isnan(r.self_score):
            return base + ("，未自评按满分" if r.grade == "达成" else "，须自评得分")
        return base + "，采用自评得分"
    T, A = r.target, r.actual
    if r.operator in (GE, GT):
        if T == 0:
            return "正向指标：指标值为0，完成即得满分"
        rate = A / T * 100
        if A >= T:
            text = "正向指标：达到指标值，得满分"
            if A >= p.overshoot_ratio * T - EPS:
                text += f"；超计划较大（完成率{_pct(rate)}）" + ("，已说明原因" if not r.reason_blank else "，未说明原因")
                if r.reason_blank and p.overshoot_deduction:
                    text += f"，扣减分值的{p.overshoot_deduction:.0%}"
            return text
        return f"正向指标：完成率{_pct(rate)}，按完成值÷指标值计分"
    if r.operator in (LE, LT):
        if T == 0:
            return "反向指标：指标值为0，未发生得满分，否则不得分"
        if A <= T:
            return "反向指标：未超过指标值，得满分"
        over = (A - T) / T * 100
        if p.reverse_rule == "ratio":
            return f"反向指标：超出目标{_pct(over)}，按指标值÷完成值计分"
        if A >= 2 * T:
            return f"反向指标：超出目标{_pct(over)}，达到指标值2倍及以上，得0分"
        return f"反向指标：超出目标{_pct(over)}，按线性扣减"
    if r.operator == EQ:
        if T == 0:
            return "等于指标：指标值为0，未发生得满分，否则不得分"
        dev = abs(A - T)
        if dev <= p.equal_tolerance + 1e-12:
            return "等于指标：与指标值一致，得满分"
        return f"等于指标：偏离目标{_pct(dev / abs(T) * 100)}，按偏离比例扣减"
    return ""


@dataclass
class FormScore:
    rows: pd.DataFrame
    execution_rate: float | None  # percent, 2 decimals
    execution_score: float | None
    execution_weight: float | None
    total: float | None
    grade: str
    level1: list[dict[str, Any]]  # {name, weight, score}
    findings: list[Finding] = field(default_factory=list)
    na_weight: float = 0.0

    @property
    def records(self) -> list:
        """`rows` as named tuples, made once (the summary, the writer and the report all read them);
        score_form leaves here the ones it scored from."""
        cached = self.__dict__.get("_records")
        if cached is None:
            cached = self.__dict__["_records"] = records(self.rows)
        return cached


def _score_findings(v: Validated, rows: list) -> list[Finding]:
    """The findings that depend on the scores, from the scored rows (`records` of the frame)."""
    out: list[Finding] = []
    tol = v.profile.self_score_tolerance
    by_row = {r.row.row: r for r in v.rows}
    # full marks: the 分值 as rounded, for every row at once
    full_marks = round_half_up(np.array([r.weight for r in rows], dtype=float), v.profile.rounding) - EPS
    for r, full_mark in zip(rows, full_marks.tolist(), strict=True):
        ri = by_row[r.row]
        ind = ri.row
        if math.isnan(r.score) or ri.has_error or ri.score_error:
            continue
        name = ind.name
        reason_cell = ind.reason or ind.level3
        full = r.score >= full_mark
        if not full and r.reason_blank:
            out.append(finding("W-REASON-MISSING", reason_cell.sheet or v.form.sheet, reason_cell.address, "reason", "",
                               f"指标“{name}”未得满分（{format_number(r.score)}/{format_number(r.weight)}），"
                               "须填写偏差原因分析及改进措施。请说明未完成的原因和改进办法。"))
        if r.overshoot_unexplained:
            out.append(finding("W-OVERSHOOT", reason_cell.sheet or v.form.sheet, reason_cell.address, "reason", "",
                               f"超计划较大，请说明原因：指标“{name}”完成值 {format_number(r.actual)} 达到指标值 "
                               f"{format_number(r.target)} 的 {_pct(r.actual / r.target * 100)}"
                               f"（{format_number(v.profile.overshoot_ratio * 100)}% 及以上须说明）。请在偏差原因中说明，如目标是否定得偏低。"))
        if r.kind != "qual" and not math.isnan(r.self_score) and differs(r.self_score, r.score, tol):
            cell = ind.score
            out.append(finding("W-SELF-SCORE", cell.sheet, cell.address, "score", r.self_score,
                               f"自评得分与计算得分不一致：指标“{name}”自评 {format_number(r.self_score)} 分，"
                               f"按规则（{r.rule}）应为 {format_number(r.score)} 分。请核对实际完成值和得分；以计算得分为准。"))
    return out


def score_form(v: Validated, frame: pd.DataFrame | None = None) -> FormScore:
    """Score one validated form; `frame` may be its slice of a batch-wide scored frame."""
    p = v.profile
    if frame is None:
        columns = _indicator_columns([v])
        frame = pd.DataFrame(columns | _rule_columns(columns, p))  # apply_rules(indicator_frame([v]), p), in one go
    rows = records(frame)
    findings = list(v.findings) + _score_findings(v, rows)
    ex = v.execution
    rate = score = None
    if ex.usable and ex.budget:
        raw_rate = ex.spent / ex.budget
        rate = round_half_up(raw_rate * 100, 2)
        if ex.weight is not None:
            score = round_half_up(ex.weight * min(max(raw_rate, 0.0), 1.0), p.rounding)
            if ex.self_score is not None and differs(ex.self_score, score, p.self_score_tolerance):
                cell = ex.score_cell
                findings.append(finding("W-SELF-SCORE", cell.sheet, cell.address, "score", ex.self_score,
                                        f"自评得分与计算得分不一致：预算执行率 {format_number(rate)}%，"
                                        f"执行率得分应为 {format_number(ex.weight)}×{format_number(rate)}% = {format_number(score)} 分，"
                                        f"自评 {format_number(ex.self_score)} 分。请核对；以计算得分为准。"))
    exec_weight = ex.weight
    if ex.weight is None:
        # framework forms: 预算执行率 is an indicator row
        first = next((r for r in rows if "预算执行率" in str(r.level3)), None)
        if first is not None:
            if not math.isnan(first.actual):
                rate = round_half_up(first.actual, 2)
            score = None if math.isnan(first.score) else float(first.score)
            exec_weight = as_float(first.weight)
    weights = frame["weight"].to_numpy()
    na_weight = float(np.nansum(weights[frame["kind"].to_numpy() == "na"]))
    scored = np.nansum(frame["score"].to_numpy()) + (score if (ex.weight is not None and score is not None) else 0.0)
    total: float | None = float(scored)
    if na_weight and p.na_policy == "rescale" and na_weight < 100:
        total = total / (100 - na_weight) * 100
    total = round_half_up(total, p.rounding)
    has_errors = any(f.severity == ERROR for f in findings)
    grade = PROVISIONAL if has_errors else p.grade_for(total)
    # the self-entered 总分, when typed rather than a formula
    tc = v.form.total_score
    typed = _typed_number(tc) if tc is not None and not tc.formula else None
    if typed is not None and differs(typed, total, p.self_score_tolerance):
        findings.append(finding("W-TOTAL-DIFF", tc.sheet, tc.address, "total", tc.value,
                                f"自填总分 {format_number(typed)} 与计算总分 {format_number(total)} 不一致"
                                + ("（表中有错误，计算总分为暂估）" if has_errors else "") + "。请核对；以计算总分为准。"))
    level1: dict[str, dict[str, Any]] = {}
    for r in rows:
        key = canonical_level1(r.level1, p)
        entry = level1.setdefault(key, {"name": key, "weight": 0.0, "score": 0.0})
        entry["weight"] += 0 if math.isnan(r.weight) else r.weight
        entry["score"] += 0 if math.isnan(r.score) else r.score
    for entry in level1.values():
        entry["weight"], entry["score"] = round_half_up(entry["weight"], 2), round_half_up(entry["score"], 2)
    findings.sort(key=lambda f: f.sort_key)
    result = FormScore(rows=frame, execution_rate=rate, execution_score=score, execution_weight=exec_weight,
                       total=total, grade=grade, level1=list(level1.values()), findings=findings, na_weight=na_weight)
    result.__dict__["_records"] = rows  # made above: the `records` property need not make them again
    return result


def _typed_number(cell) -> float | None:
    from perfeval_xlsx.reading.values import parse_value

    if cell.blank:
        return None
    if isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool):
        return float(cell.value)
    parsed = parse_value(cell.value)
    return parsed.number if parsed.kind == "number" and parsed.unit in ("", "分") else None


def operator_word(op: str | None) -> str:
    return OPERATOR_WORDS.get(op, "") if op else ""
