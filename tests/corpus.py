"""The reading corpus: indicator rows from published 自评表 and constructed hard cases, each with
the reading and score an experienced finance officer gives it (分值 10).

`read(case)` puts one row through the real reading path — the value parser, the validator and
the scorer — as the only indicator of a minimal Ministry form (年度资金总额 row with 分值 90 so
that the 分值 add up to 100). `judge(case, reading)` compares the tool's reading with the
officer's. Run `python -m tests.corpus` for the table of misses and the three figures of
issue 10 (published pairs read as the officer reads them, silent wrong scores on constructed
cases, needless errors).

Cells are given either as printed (text, the way finance systems export them) or as Excel stores
what a unit types (`95%` → 0.95 in a %-formatted cell, `1015` → a number; text starting with
`=` stays text, as after an apostrophe).
"""

from __future__ import annotations

import csv
import re
import sys
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path

from perfeval_xlsx.forms.model import Cell, Form, FundsLine, Header, IndicatorRow
from perfeval_xlsx.reading.values import split_unit
from perfeval_xlsx.rules.profile import load_profile
from perfeval_xlsx.rules.scoring import score_form
from perfeval_xlsx.rules.validate import validate

DATA = Path(__file__).resolve().parent / "data"
FILES = {"published": DATA / "reading_corpus_published.tsv", "constructed": DATA / "reading_corpus_constructed.tsv",
         "reviewer": DATA / "reading_corpus_reviewer.tsv"}  # reviewer: constructed cases added while reviewing
WEIGHT = 10.0
ROW = 14
SHEET = "自评表"
OPS = {">=": "≥", ">": "＞", "=": "＝", "<=": "≤", "<": "＜"}
# findings that do not say how a value was read: they cannot stand for an officer's question
NOT_A_QUESTION = {"W-REASON-MISSING", "W-OVERSHOOT", "W-SELF-SCORE", "W-WEIGHT-LEVEL1", "W-GROUP-HEADER"}


@dataclass(frozen=True)
class Case:
    corpus: str  # published / constructed / reviewer (constructed too)
    line: int  # line in the TSV file (1 = the header)
    source_url: str
    form: str
    level2: str
    indicator: str
    nature: str
    unit_col: str
    target: str
    actual: str
    officer_op: str
    officer_target: str
    officer_actual: str
    officer_unit: str
    officer_score: str
    note: str

    @property
    def id(self) -> str:
        return f"{self.corpus[:3]}{self.line:03d}"

    @property
    def year(self) -> int:
        m = re.search(r"(20\d{2})", self.form) if self.corpus == "published" else None
        return int(m.group(1)) if m else 2024

    @property
    def band(self) -> tuple[float, float] | None:
        m = re.fullmatch(r"(\d+)-(\d+)", self.officer_score)
        return (float(m.group(1)) / 100 * WEIGHT, float(m.group(2)) / 100 * WEIGHT) if m else None


def load(corpus: str) -> list[Case]:
    with FILES[corpus].open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
    head = rows[0]
    assert head == ["source_url", "form", "level2", "indicator", "nature", "unit_col", "target", "actual", "officer_op",
                    "officer_target", "officer_actual", "officer_unit", "officer_score", "note"], head
    out = []
    for i, row in enumerate(rows[1:], start=2):
        if not any(x.strip() for x in row):
            continue
        assert len(row) == len(head), (corpus, i, row)
        out.append(Case(corpus, i, *row))
    return out


def all_cases() -> list[Case]:
    return [c for corpus in FILES for c in load(corpus)]


# -- the real reading path ------------------------------------------------------------------

def _level1(level2: str) -> str:
    if "满意" in level2:
        return "满意度指标"
    if any(w in level2 for w in ("效益", "效果", "可持续", "环境", "影响")):
        return "效益指标"
    return "产出指标"


def excel_typed(text: str) -> tuple[object, str]:
    """What Excel stores when a unit types `text` into a General cell: (value, number format)."""
    if text == "":
        return None, "General"
    t = text.strip()
    if re.fullmatch(r"-?\d+(\.\d+)?", t):
        return float(t) if "." in t else int(t), "General"
    if re.fullmatch(r"-?\d{1,3}(,\d{3})+(\.\d+)?", t):
        return float(t.replace(",", "")), "#,##0"
    m = re.fullmatch(r"(-?\d+(?:\.\d+)?)%", t)
    if m:
        decimals = len(m.group(1).split(".")[1]) if "." in m.group(1) else 0
        return float(m.group(1)) / 100, "0%" if not decimals else "0." + "0" * decimals + "%"
    return text, "General"


@dataclass
class Reading:
    kind: str = ""
    operator: str | None = None
    target: float | None = None
    actual: float | None = None
    unit: str = ""
    deadline: date | None = None
    done: date | None = None
    grade: str | None = None
    score: float | None = None
    findings: list = field(default_factory=list)  # (code, severity, cell) on the row

    @property
    def errors(self) -> list[str]:
        return [code for code, severity, _ in self.findings if severity == "error"]

    @property
    def questions(self) -> list[str]:
        return [code for code, severity, _ in self.findings if severity in ("error", "warning") and code not in NOT_A_QUESTION]


@cache
def _profile():
    return load_profile("mof-2020")


def read(case: Case, typed: bool = False) -> Reading:
    """The tool's reading of one corpus row (as printed, or as Excel stores what was typed)."""
    def cell(col: str, text: str, allow_typed: bool = True) -> Cell:
        value, fmt = excel_typed(text) if typed and allow_typed else ((text if text != "" else None), "General")
        return Cell(SHEET, f"{col}{ROW}", value, fmt)

    band = case.band
    self_score = round((band[0] + band[1]) / 2, 2) if band else None
    header = Header(project=Cell(SHEET, "C3", "项目"), department=Cell(SHEET, "C4", "主管部门"),
                    unit=Cell(SHEET, "H4", "实施单位"), year=Cell(SHEET, "C5", case.year), year_value=case.year)
    funds = [FundsLine("total", "年度资金总额", 7, budget=Cell(SHEET, "E7", 100), spent=Cell(SHEET, "F7", 100),
                       weight=Cell(SHEET, "H7", 100 - WEIGHT), score=Cell(SHEET, "I7", None))]
    ind = IndicatorRow(
        row=ROW, level1=_level1(case.level2), level2=case.level2, level3=Cell(SHEET, f"C{ROW}", case.indicator or None),
        operator=cell("D", case.nature, allow_typed=False), target=cell("E", case.target), unit=cell("F", case.unit_col, False),
        actual=cell("G", case.actual), weight=Cell(SHEET, f"H{ROW}", WEIGHT), score=Cell(SHEET, f"I{ROW}", self_score),
        reason=Cell(SHEET, f"J{ROW}", "偏差原因已说明。"),
    )
    form = Form(path="corpus", sheet=SHEET, kind="mof-2020", header=header, funds=funds, goals={}, indicators=[ind],
                groups=[], columns={k: c for k, c in zip(("level1", "level2", "level3", "operator", "target", "unit", "actual",
                                                          "weight", "score", "reason"), "ABCDEFGHIJ", strict=True)},
                header_row=ROW - 1)
    validated = validate(form, _profile())
    scored = score_form(validated)
    r = validated.rows[0]
    df = scored.rows.iloc[0]
    score = None if df["score"] != df["score"] else float(df["score"])
    findings = [(f.code, f.severity, f.cell) for f in scored.findings if f.cell.endswith(str(ROW)) and f.cell[:1] in "ABCDEFGHIJ"]
    return Reading(kind=r.kind, operator=r.operator, target=r.target, actual=r.actual, unit=r.unit, deadline=r.deadline,
                   done=r.done, grade=r.grade, score=score, findings=findings)


# -- the officer's reading ------------------------------------------------------------------

def _same_number(tool: float | None, tool_unit: str, officer: str, officer_unit: str) -> bool:
    if tool is None or officer == "":
        return tool is None and officer == ""
    value = float(officer)
    tf, tb = split_unit(tool_unit) if tool_unit else (1.0, "")
    of, ob = split_unit(officer_unit) if officer_unit else (1.0, "")
    if tb and ob and tb == ob:
        return abs(tool * tf - value * of) <= 1e-6 * max(1.0, abs(value * of))
    return abs(tool - value) <= 1e-6 * max(1.0, abs(value))


def _same_unit(case: Case, tool_unit: str) -> bool:
    """The tool's unit is the officer's (same base; 册 for 本 by the profile's synonyms; `/亩`
    for 元/亩 when the numerator was not written), or blank where the row writes no unit."""
    officer = case.officer_unit
    if not officer or case.officer_target in ("0", "0.0"):
        return True  # 0 of anything is 0 (0投诉 against 2次)
    if not tool_unit:
        written = "".join((case.target, case.actual, case.unit_col))
        return not re.search(r"[^\d.,\s≥≤<>=＞＜≧≦═﹦%-]", re.sub(r"[\d.]", "", written))
    profile = _profile()
    tb, ob = split_unit(tool_unit)[1], split_unit(officer)[1]
    tb, ob = tb.replace("、", "·"), ob.replace("、", "·")
    return profile.unit_family(tb) == profile.unit_family(ob) or (tb.startswith("/") and ob.endswith(tb))


def judge(case: Case, r: Reading) -> str:
    """'' when the tool reads the row as the officer does, else what differs."""
    op = case.officer_op
    if op == "ask":
        return "" if r.questions else f"officer asks; tool read {r.kind} {r.operator} score {r.score} without a question"
    if r.errors:
        return f"needless error {','.join(r.errors)}"
    if op == "na":
        return "" if r.kind == "na" else f"officer na; tool {r.kind}"
    if op == "qual":
        if r.kind != "qual" or r.grade != case.officer_actual:
            return f"officer qual {case.officer_actual}; tool {r.kind} {r.grade}"
    elif op == "date":
        if r.kind != "date":
            return f"officer date; tool {r.kind}"
        if str(r.deadline) != case.officer_target or (case.officer_actual and str(r.done) != case.officer_actual):
            return f"dates {r.deadline}/{r.done} vs {case.officer_target}/{case.officer_actual}"
    else:
        if r.kind != "quant" or r.operator != OPS[op]:
            return f"officer {OPS[op]}; tool {r.kind} {r.operator}"
        if not _same_number(r.target, r.unit, case.officer_target, case.officer_unit) or \
                not _same_number(r.actual, r.unit, case.officer_actual, case.officer_unit):
            return f"numbers {r.target}/{r.actual} {r.unit} vs {case.officer_target}/{case.officer_actual} {case.officer_unit}"
        if not _same_unit(case, r.unit):
            return f"unit {r.unit!r} vs {case.officer_unit!r}"
    band = case.band
    if band:
        if r.score is None or not (band[0] - 1e-9 <= r.score <= band[1] + 1e-9):
            return f"score {r.score} not in {case.officer_score}%"
    elif case.officer_score:
        if r.score is None or abs(r.score - float(case.officer_score)) > 0.01 + 1e-9:
            return f"score {r.score} vs {case.officer_score}"
    return ""


def silent_wrong(case: Case, r: Reading) -> bool:
    """The tool gives a score the officer would not, and says nothing (no error or warning)."""
    if r.questions or r.score is None:
        return False
    if case.officer_op in ("ask", "na"):
        return True
    band = case.band
    if band:
        return not (band[0] - 1e-9 <= r.score <= band[1] + 1e-9)
    return bool(case.officer_score) and abs(r.score - float(case.officer_score)) > 0.01 + 1e-9


def summary(typed: bool = False) -> tuple[dict[str, float], list[tuple[Case, str]]]:
    cases = all_cases()
    misses, figures = [], {}
    published = [c for c in cases if c.corpus == "published"]
    constructed = [c for c in cases if c.corpus != "published"]
    readings = {c.id: read(c, typed) for c in cases}
    for c in cases:
        why = judge(c, readings[c.id])
        if why:
            misses.append((c, why))
    figures["published read as the officer reads them (%)"] = 100 * sum(1 for c in published if not judge(c, readings[c.id])) / len(published)
    figures["silent wrong scores on constructed cases"] = sum(1 for c in constructed if silent_wrong(c, readings[c.id]))
    not_asked = [c for c in cases if c.officer_op != "ask"]
    figures["needless errors (%)"] = 100 * sum(1 for c in not_asked if readings[c.id].errors) / len(not_asked)
    figures["published pairs"] = len(published)
    figures["constructed cases"] = len(constructed)
    return figures, misses


def main() -> None:  # pragma: no cover - a report for people
    for typed in (False, True):
        figures, misses = summary(typed)
        print(f"\n== cells {'as Excel stores what was typed' if typed else 'as printed (text)'} ==")
        print("| row | indicator | target | actual | officer | tool |")
        print("| --- | --- | --- | --- | --- | --- |")
        for c, why in misses:
            officer = f"{c.officer_op} {c.officer_target} {c.officer_actual} {c.officer_unit} {c.officer_score}".strip()
            print(f"| {c.id} | {c.indicator[:18]} | {c.target} | {c.actual} | {officer} | {why} |")
        for k, v in figures.items():
            print(f"{k}: {v:.2f}" if isinstance(v, float) else f"{k}: {v}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
