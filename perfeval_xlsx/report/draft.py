"""Draft the 项目支出绩效自评报告 of one scored form, in the seven sections practice fixes.

Every figure comes from the form as read, validated and scored (a CheckResult): the project,
the funds (万元), the budget execution, each indicator's 年度指标值 → 实际完成值, its 复核得分 and
分值, the unit's own 偏差原因, the total and the grade. Every sentence comes from the wording
template. What the form does not hold (背景, 主要经验及做法, 建议) is a 【请填写：…】 placeholder
from the template: nothing is invented.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from perfeval_xlsx.check import CheckResult
from perfeval_xlsx.forms.layout import get_layout
from perfeval_xlsx.reading.values import EQ, GE, GT, LE, LT
from perfeval_xlsx.report.model import (
    BODY,
    HEADING1,
    HEADING2,
    HEADING3,
    NOTICE,
    SIGNATURE,
    TABLE_TITLE,
    Paragraph,
    Report,
    Table,
)
from perfeval_xlsx.report.wording import Wording
from perfeval_xlsx.rules.findings import ERROR, SEVERITY_LABEL, WARNING
from perfeval_xlsx.rules.validate import OPERATOR_WORDS, canonical_level1
from perfeval_xlsx.vocab import PROVISIONAL, QUAL_ACHIEVED, QUAL_SHORT

#: column widths of the indicator table (mm): the text block of an A4 page is 156 mm wide
TABLE_WIDTHS = [15.0, 17.0, 28.0, 19.0, 19.0, 12.0, 12.0, 34.0]
CHINESE_DIGITS = "零一二三四五六七八九"


# ---------------------------------------------------------------------------- numbers


def decimal_text(value: float | None, digits: int = 2) -> str | None:
    """A number as finance reports write it: half-up to `digits` decimals, trailing zeros
    dropped, never in exponent form (320, 7.94, 267.81, 126.88)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    d = Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    text = f"{d:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def percent_text(value: float | None) -> str | None:
    text = decimal_text(value)
    return None if text is None else f"{text}%"


def number_text(value: float | None) -> str | None:
    """An indicator's value: as many decimals as it has (up to 6)."""
    return decimal_text(value, 6)


def chinese_number(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 21 → 二十一 (headings （一） …)."""
    if n < 10:
        return CHINESE_DIGITS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else CHINESE_DIGITS[tens]) + "十" + (CHINESE_DIGITS[ones] if ones else "")


def _nan(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _clean(text: Any) -> str:
    """A unit's text on one line: line breaks inside a cell dropped."""
    return re.sub(r"\s*\n\s*", "", str(text or "")).strip()


def _quoted(text: str) -> str:
    """The unit's 偏差原因 as quoted inside a sentence: without its closing punctuation."""
    return text.rstrip("。．.；;，,、 ")


# ---------------------------------------------------------------------------- one indicator


@dataclass
class Line:
    """One indicator row, with everything a sentence or the table needs."""

    row: int
    level1: str  # as written in the form
    group: str  # canonical 一级 (the profile's name)
    level2: str
    name: str
    case: str  # the [analysis.indicator] key
    facts: dict[str, Any]
    target: str  # shown in the table
    actual: str
    weight: float | None
    score: float | None
    reason: str
    missed: bool
    over: bool
    applicable: bool
    valid: bool


def _line(r: Any, ri: Any, result: CheckResult, wording: Wording) -> Line:
    profile = result.validated.profile
    digits = profile.rounding
    reason = _clean(ri.reason) if ri is not None else ""
    name = str(r.level3)
    weight = None if _nan(r.weight) else float(r.weight)
    score = None if _nan(r.score) else float(r.score)
    op_word = OPERATOR_WORDS.get(r.operator, "") if r.operator else ""
    unit = "%" if r.percent and not r.unit else (r.unit or "")
    facts: dict[str, Any] = {
        "name": name, "level1": r.level1, "level2": r.level2, "weight": decimal_text(weight, digits),
        "score": decimal_text(score, digits), "reason": _quoted(reason) if reason else None,
        "grade": r.grade or None,
    }
    missed = over = False
    applicable = valid = True
    if r.kind == "na":
        case, applicable = "not_applicable", False
        target, actual = _clean(r.target_text), _clean(r.actual_text)
    elif r.kind == "invalid" or score is None or (r.has_error and r.kind != "qual"):
        case, valid = "invalid", False
        target, actual = _clean(r.target_text), _clean(r.actual_text)
        facts["problem"] = _row_problem(result, r.row) or str(r.rule)
    elif r.kind == "quant":
        T, A = float(r.target), float(r.actual)
        target = f"{op_word}{number_text(T)}{unit}"
        actual = f"{number_text(A)}{unit}"
        facts["completion"] = percent_text(r.completion) if not _nan(r.completion) else "—"
        if r.operator in (GE, GT):
            if T > 0 and A < T:
                case, missed = "missed", True
            elif bool(r.overshoot):
                case, over = "over", True
            else:
                case = "met"
        elif r.operator in (LE, LT):
            if A <= T:
                case = "cost_met"
            else:
                case, missed = "cost_over", True
                facts["excess"] = percent_text((A - T) / T * 100) if T else None
        elif r.operator == EQ:
            if abs(A - T) <= profile.equal_tolerance + 1e-12:
                case = "equal_met"
            else:
                case, missed = "equal_off", True
                facts["deviation"] = percent_text(abs(A - T) / abs(T) * 100) if T else None
        else:
            case = "met"
    elif r.kind == "date":
        target, actual = _clean(r.target_text), _clean(r.actual_text)
        late = 0 if _nan(r.late_days) else int(r.late_days)
        if late > 0:
            case, missed = "date_late", True
            facts["late_days"] = str(late)
        else:
            case = "date_met"
    else:  # qual
        target, actual = _clean(r.target_text), _clean(r.actual_text)
        case = "qual"
        missed = r.grade != QUAL_ACHIEVED
    facts["target"], facts["actual"] = target or None, actual or None
    full = score is not None and weight is not None and score >= weight - 1e-9
    if reason:
        facts["reason_text"] = wording.render("analysis.indicator.reason", facts) or ""
    elif valid and applicable and (not full or over):
        facts["reason_text"] = wording.render("analysis.indicator.reason_missing", facts) or ""
    else:
        facts["reason_text"] = ""
    return Line(row=int(r.row), level1=str(r.level1), group=canonical_level1(str(r.level1), profile),
                level2=str(r.level2), name=name, case=case, facts=facts, target=target, actual=actual,
                weight=weight, score=score, reason=reason, missed=missed and valid and applicable,
                over=over, applicable=applicable, valid=valid)


def _row_of(cell: str) -> int | None:
    digits = "".join(ch for ch in cell if ch.isdigit())
    return int(digits) if digits else None


def _row_problem(result: CheckResult, row: int) -> str | None:
    for f in result.findings:
        if f.severity == ERROR and _row_of(f.cell) == row:
            return _quoted(f.message)
    return None


# ---------------------------------------------------------------------------- the report


class _Doc:
    def __init__(self, wording: Wording, facts: dict[str, Any]):
        self.wording = wording
        self.facts = facts
        self.blocks: list[Paragraph | Table] = []

    def say(self, key: str, style: str = BODY, extra: dict[str, Any] | None = None, prefix: str = "") -> str | None:
        text = self.wording.render(key, {**self.facts, **(extra or {})})
        if text:
            self.blocks.append(Paragraph(prefix + text, style))
        return text

    def add(self, text: str | None, style: str = BODY) -> None:
        if text:
            self.blocks.append(Paragraph(text, style))


def _bands(wording: Wording, grades: tuple[tuple[str, float], ...]) -> str:
    parts = []
    upper = 100.0
    for i, (label, lower) in enumerate(grades):
        values = {"grade": label, "lower": decimal_text(lower), "upper": decimal_text(upper)}
        if i == len(grades) - 1 and lower <= 0:
            parts.append(wording.render("method.band_last", values) or "")
        else:
            parts.append(wording.render("method.band", values) or "")
        upper = lower
    return "、".join(p for p in parts if p)


def _money_parts(wording: Wording, ex: Any) -> str | None:
    items = []
    for label, amounts in ex.parts:
        budget = amounts.get("budget")
        if budget is None:
            continue
        name = re.sub(r"^其中[：:]", "", _clean(label))
        text = wording.render("basic.part", {"label": name, "budget": decimal_text(budget)})
        if text:
            items.append(text)
    return ("其中：" + "、".join(items)) if items else None


def _count(n: int) -> str | None:
    return str(n) if n else None


def form_facts(result: CheckResult, lines: list[Line], wording: Wording) -> dict[str, Any]:
    """The placeholders every paragraph may use."""
    v, s, form = result.validated, result.score, result.form
    profile, ex = v.profile, v.execution
    project = result.project
    errors = sum(1 for f in result.findings if f.severity == ERROR)
    warnings = sum(1 for f in result.findings if f.severity == WARNING)
    goal = lambda key: _clean(form.goals.get(key).value) if form.goals.get(key) is not None and not form.goals[key].blank else None  # noqa: E731
    arrival = next((ln for ln in lines if "资金到位率" in ln.name and ln.valid), None)
    arrival_rate = None
    if ex.received is not None and ex.budget:
        arrival_rate = percent_text(ex.received / ex.budget * 100)
    elif arrival is not None:
        arrival_rate = arrival.actual
    level2s = {(ln.group, ln.level2) for ln in lines}
    goal_groups = set(wording.get("basic.goal_level1"))
    kinds: dict[str, int] = {}
    for ln in lines:
        if ln.group in goal_groups:
            kinds[ln.level2] = kinds.get(ln.level2, 0) + 1
    level1_items = []
    if ex.weight is not None:
        level1_items.append(wording.render("conclusion.execution_item", {
            "execution_weight": decimal_text(ex.weight), "execution_score": decimal_text(s.execution_score)}))
    for entry in s.level1:
        level1_items.append(wording.render("conclusion.level1_item", {
            "name": entry["name"], "weight": decimal_text(entry["weight"]), "score": decimal_text(entry["score"])}))
    applicable = [ln for ln in lines if ln.applicable]
    reverse = wording.get("method.reverse_rule")
    bands = profile.qualitative_bands
    qual_bands = "、".join(
        f"{decimal_text(low * 100)}%{'（含）' if low > 0 else ''}—{decimal_text(high * 100)}%"
        for low, high in (bands.get(g, (0.0, 0.0)) for g in QUAL_SHORT))
    return {
        "project": project.get("name"), "department": project.get("department"), "unit": project.get("unit"),
        "year": str(project["year"]) if project.get("year") else None, "form_title": get_layout(form.kind).title,
        "total": decimal_text(s.total, profile.rounding), "grade": s.grade, "profile": profile.name,
        "errors": str(errors), "warnings": str(warnings),
        "budget_initial": decimal_text(ex.budget_initial), "budget": decimal_text(ex.budget),
        "received": decimal_text(ex.received), "spent": decimal_text(ex.spent), "parts": _money_parts(wording, ex),
        "execution_rate": percent_text(s.execution_rate), "arrival_rate": arrival_rate,
        "execution_score": decimal_text(s.execution_score, profile.rounding),
        "execution_weight": decimal_text(s.execution_weight),
        "goal_planned": goal("planned"), "goal_actual": goal("actual"),
        "indicator_count": _count(len(applicable)), "level3_count": str(len(lines)),
        "level1_count": str(len({ln.group for ln in lines}) + (1 if ex.weight is not None else 0)),
        "level2_count": str(len(level2s) + (1 if ex.weight is not None else 0)),
        "indicator_kinds": "、".join(f"{k}{n}个" for k, n in kinds.items()) or None,
        "goal_count": _count(sum(kinds.values())),
        "met_count": _count(sum(1 for ln in applicable if ln.valid and not ln.missed)),
        "missed_count": _count(sum(1 for ln in lines if ln.missed)),
        "over_count": _count(sum(1 for ln in lines if ln.over)),
        "na_count": _count(sum(1 for ln in lines if not ln.applicable)),
        "missed_names": "、".join(f"“{ln.name}”" for ln in lines if ln.missed) or None,
        "over_names": "、".join(f"“{ln.name}”" for ln in lines if ln.over) or None,
        "overshoot": percent_text(profile.overshoot_ratio * 100),
        "bands": _bands(wording, profile.grades), "qual_bands": qual_bands,
        "reverse_rule": reverse.get(profile.reverse_rule), "level1_scores": "；".join(t for t in level1_items if t) or None,
    }


def draft_report(result: CheckResult, wording: Wording) -> Report:
    """The report of one checked and scored form (status ok, warnings or errors)."""
    if result.score is None or result.validated is None:
        raise ValueError("draft_report needs a readable, scored form")
    by_row = {ri.row.row: ri for ri in result.validated.rows}
    lines = [_line(r, by_row.get(int(r.row)), result, wording) for r in result.score.records]
    facts = form_facts(result, lines, wording)
    provisional = result.score.grade == PROVISIONAL or any(f.severity == ERROR for f in result.findings)
    doc = _Doc(wording, facts)
    title = wording.render("title.text", facts) or ""
    subtitle = wording.render("title.subtitle", facts)
    if provisional:
        doc.say("provisional.notice", NOTICE)

    _basic(doc)
    _method(doc)
    _conclusion(doc, result, lines, provisional)
    _analysis(doc, result, lines)
    _lessons(doc, lines)
    doc.say("suggestions.heading", HEADING1)
    doc.say("suggestions.text")
    _other(doc, result)
    doc.say("signature.unit", SIGNATURE)
    doc.say("signature.date", SIGNATURE)
    header = wording.render("provisional.header", facts) if provisional else None
    return Report(title=title, subtitle=subtitle, blocks=doc.blocks, header=header, provisional=provisional)


def _basic(doc: _Doc) -> None:
    doc.say("basic.heading", HEADING1)
    doc.say("basic.overview_heading", HEADING2)
    doc.say("basic.overview")
    doc.say("basic.background")
    funds = doc.wording.render("basic.funds", doc.facts)
    if funds:
        doc.add((doc.wording.render("basic.funds_label", doc.facts) or "") + funds)
    doc.say("basic.goals_heading", HEADING2)
    doc.say("basic.goals_planned")
    doc.say("basic.goals_indicators")


def _method(doc: _Doc) -> None:
    doc.say("method.heading", HEADING1)
    doc.say("method.purpose_heading", HEADING2)
    doc.say("method.purpose")
    doc.say("method.scope")
    doc.say("method.standards_heading", HEADING2)
    for key in ("principles", "system", "methods", "standards"):
        doc.say(f"method.{key}")
    doc.say("method.process_heading", HEADING2)
    doc.say("method.process")
    doc.say("method.scoring")


def _conclusion(doc: _Doc, result: CheckResult, lines: list[Line], provisional: bool) -> None:
    doc.say("conclusion.heading", HEADING1)
    doc.say("conclusion.result_heading", HEADING2)
    doc.say("conclusion.result_provisional" if provisional else "conclusion.result")
    doc.say("conclusion.level1")
    doc.say("conclusion.table_title", TABLE_TITLE)
    doc.blocks.append(_indicator_table(doc, result, lines))
    doc.say("conclusion.achievements_heading", HEADING2)
    doc.say("conclusion.achievements_actual")
    doc.say("conclusion.achievements_counts")


def _indicator_table(doc: _Doc, result: CheckResult, lines: list[Line]) -> Table:
    w, f = doc.wording, doc.facts
    digits = result.validated.profile.rounding
    ex = result.validated.execution
    rows: list[list[str]] = []
    merges: list[tuple[int, int, int, int]] = []
    if ex.weight is not None:
        rows.append([w.render("conclusion.table_execution", f) or "", "", "",
                     w.render("conclusion.table_execution_target", f) or "",
                     w.render("conclusion.table_execution_actual", f) or "",
                     decimal_text(ex.weight) or "", f.get("execution_score") or "—", ""])
        merges.append((0, 0, 0, 2))
    first = len(rows)
    not_applicable = w.render("conclusion.table_not_applicable", f) or "—"
    for ln in lines:
        score = not_applicable if not ln.applicable else (decimal_text(ln.score, digits) or "—")
        rows.append([ln.level1, ln.level2, ln.name, ln.target, ln.actual, decimal_text(ln.weight) or "", score, ln.reason])
    # merge the 一级 and 二级 cells of consecutive rows, as the form prints them
    for col, key in ((0, lambda ln: ln.level1), (1, lambda ln: (ln.level1, ln.level2))):
        start = 0
        for i in range(1, len(lines) + 1):
            if i == len(lines) or key(lines[i]) != key(lines[start]):
                if i - 1 > start:
                    merges.append((first + start, col, first + i - 1, col))
                    for j in range(start + 1, i):
                        rows[first + j][col] = ""
                start = i
    total_weight = sum(ln.weight or 0 for ln in lines) + (ex.weight or 0)
    total_row = len(rows)
    rows.append([w.render("conclusion.table_total", f) or "", "", "", "", "", decimal_text(total_weight) or "",
                 f.get("total") or "—", ""])
    rows.append([w.render("conclusion.table_grade", f) or "", "", "", "", "", f.get("grade") or "", "", ""])
    merges += [(total_row, 0, total_row, 4), (total_row + 1, 0, total_row + 1, 4), (total_row + 1, 5, total_row + 1, 7)]
    return Table(headers=list(w.get("conclusion.table_headers")), rows=rows, widths_mm=list(TABLE_WIDTHS),
                 merges=merges, left=frozenset({2, 7}), strong=frozenset({total_row, total_row + 1}))


def _analysis(doc: _Doc, result: CheckResult, lines: list[Line]) -> None:
    w = doc.wording
    digits = result.validated.profile.rounding
    doc.say("analysis.heading", HEADING1)
    groups: dict[str, list[Line]] = {}
    for ln in lines:
        groups.setdefault(ln.group, []).append(ln)
    names = w.get("analysis.groups")
    headings = {g: w.render("analysis.group_heading", {**doc.facts, "group": names.get(g, g)}) or g for g in groups}
    number = 0
    execution_heading = w.render("analysis.execution_heading", doc.facts)
    has_execution = result.validated.execution.weight is not None
    if has_execution and execution_heading not in headings.values():
        number += 1
        doc.add(f"（{chinese_number(number)}）{execution_heading}", HEADING2)
        doc.say("analysis.execution")
    for group, members in groups.items():
        number += 1
        doc.add(f"（{chinese_number(number)}）{headings[group]}", HEADING2)
        if has_execution and headings[group] == execution_heading:
            doc.say("analysis.execution")
        level2: dict[str, list[Line]] = {}
        for ln in members:
            level2.setdefault(ln.level2, []).append(ln)
        weight = sum(ln.weight or 0 for ln in members)
        score = sum(ln.score or 0 for ln in members if ln.applicable)
        doc.say("analysis.group_intro", extra={
            "level1": group, "group": names.get(group, group), "level2_count": str(len(level2)),
            "level3_count": str(len(members)), "weight": decimal_text(weight), "score": decimal_text(score, digits)})
        for i, (name, rows) in enumerate(level2.items(), 1):
            extra = {"level2": name, "weight": decimal_text(sum(ln.weight or 0 for ln in rows)),
                     "score": decimal_text(sum(ln.score or 0 for ln in rows if ln.applicable), digits)}
            doc.say("analysis.level2_heading", HEADING3, extra=extra, prefix=f"{i}.")
            for ln in rows:
                doc.say(f"analysis.indicator.{ln.case}", extra=ln.facts)
            if len(rows) > 1:
                doc.say("analysis.level2_close", extra=extra)


def _lessons(doc: _Doc, lines: list[Line]) -> None:
    doc.say("lessons.heading", HEADING1)
    doc.say("lessons.experience_heading", HEADING2)
    doc.say("lessons.experience")
    doc.say("lessons.problems_heading", HEADING2)
    missed = [ln for ln in lines if ln.missed]
    if missed:
        doc.say("lessons.problems_intro")
        for i, ln in enumerate(missed, 1):
            doc.say("lessons.problem_qual" if ln.case == "qual" else "lessons.problem", extra=ln.facts, prefix=f"{i}.")
    elif any(ln.valid and ln.applicable for ln in lines):
        doc.say("lessons.problems_none")
    doc.say("lessons.problems_more")


def _other(doc: _Doc, result: CheckResult) -> None:
    doc.say("other.heading", HEADING1)
    shown = [f for f in result.findings if f.severity in (ERROR, WARNING)]
    if not shown:
        doc.say("other.none")
        return
    doc.say("other.findings_intro")
    for i, f in enumerate(shown, 1):
        doc.say("other.finding", extra={"severity": SEVERITY_LABEL[f.severity], "message": f.message}, prefix=f"{i}.")
