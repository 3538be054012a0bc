"""What a filled form says, as plain values: the input of the form writer.

A blank template is the content of a layout with nothing filled in; a sample workbook is the
content of a readable TOML definition (``samples/definitions``).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field, fields
from datetime import date
from pathlib import Path
from typing import Any, Union

from perfeval_xlsx.errors import DefinitionError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

from perfeval_xlsx.forms.layout import FormLayout, get_layout

Value = Union[str, int, float, date, None]


@dataclass
class Header:
    project: str = ""
    department: str = ""
    unit: str = ""
    year: int | None = None
    contact: str = ""


@dataclass
class FundsLine:
    """One line of the funds block, amounts in 万元."""

    label: str
    budget_initial: Value = None  # 年初预算数 (mof-2020)
    budget: Value = None  # 全年预算数 / 预算资金
    received: Value = None  # 实际到位资金 (framework)
    spent: Value = None  # 全年执行数 / 实际支出资金
    weight: Value = None  # 分值 (total line of mof-2020)
    score: Value = None  # self-entered 得分


@dataclass
class Indicator:
    level1: str
    level2: str
    level3: str = ""
    operator: str = ""
    target: Value = None
    unit: str = ""
    actual: Value = None
    weight: Value = None
    score: Value = None
    reason: str = ""
    computed_actual: str | None = None  # framework money-rate rows: actual is a formula
    prefilled: bool = False  # a row of the standard form (labels locked in the template)


@dataclass
class FormContent:
    layout: str
    header: Header = field(default_factory=Header)
    funds: list[FundsLine] = field(default_factory=list)
    goal_planned: str = ""
    goal_actual: str = ""
    indicators: list[Indicator] = field(default_factory=list)
    grade: str = ""

    @property
    def form_layout(self) -> FormLayout:
        return get_layout(self.layout)


def blank_content(layout: FormLayout) -> FormContent:
    """The content of the blank template: every group, prefilled rows, blank rows to fill."""
    funds = [FundsLine(label=label) for label in layout.funds_rows]
    if layout.execution_weight is not None:
        funds[0].weight = layout.execution_weight
    indicators: list[Indicator] = []
    for group in layout.groups:
        for level2 in group.level2:
            prefilled = [p for p in layout.prefilled if p.level1 == group.level1 and p.level2 == level2]
            for p in prefilled:
                indicators.append(
                    Indicator(
                        p.level1, p.level2, p.level3, p.operator, p.target, p.unit,
                        weight=p.weight, computed_actual=p.computed_actual, prefilled=True,
                    )
                )
            if not prefilled:
                indicators.extend(Indicator(group.level1, level2) for _ in range(layout.blank_rows_per_level2))
    return FormContent(layout=layout.name, funds=funds, indicators=indicators)


def _build(cls, data: dict[str, Any], where: str):
    known = {f.name for f in fields(cls)}
    unknown = set(data) - known
    if unknown:
        raise DefinitionError(f"{where}: unknown field(s) {sorted(unknown)}; known: {sorted(known)}")
    try:
        return cls(**data)
    except TypeError as exc:
        raise DefinitionError(f"{where}: {exc}") from None


def content_from_dict(data: dict[str, Any], where: str = "definition") -> FormContent:
    """Build a FormContent from a parsed definition (see samples/definitions/*.toml)."""
    data = dict(data)
    layout = get_layout(data.pop("layout", "mof-2020"))
    header = _build(Header, data.pop("header", {}), f"{where} [header]")
    funds_given = data.pop("funds", [])
    funds = [_build(FundsLine, f, f"{where} [[funds]] #{i + 1}") for i, f in enumerate(funds_given)]
    if not funds:
        funds = blank_content(layout).funds
    indicators = []
    for i, row in enumerate(data.pop("indicators", [])):
        ind = _build(Indicator, row, f"{where} [[indicators]] #{i + 1}")
        if ind.computed_actual is None:
            # money-rate rows of the framework form take their actual value from the funds block
            for p in layout.prefilled:
                if p.computed_actual and p.level3 == ind.level3 and ind.actual is None:
                    ind.computed_actual = p.computed_actual
        indicators.append(ind)
    goals = data.pop("goals", {})
    content = FormContent(
        layout=layout.name,
        header=header,
        funds=funds,
        goal_planned=goals.get("planned", ""),
        goal_actual=goals.get("actual", ""),
        indicators=indicators,
        grade=data.pop("grade", ""),
    )
    data.pop("sample", None)  # file name, description, expectations: read by the sample builder
    if data:
        raise DefinitionError(f"{where}: unknown section(s) {sorted(data)}")
    return content


def load_definition(path: str | Path) -> dict[str, Any]:
    """Parse a TOML definition, resolving `base = "other.toml"` (a copy with changes)."""
    path = Path(path)
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    base = data.pop("base", None)
    if base is None:
        return data
    merged = load_definition(path.parent / base)
    merged.pop("sample", None)
    changes = data.pop("change", [])
    for key, value in data.items():
        merged[key] = value
    for change in changes:
        _apply_change(merged, change, path)
    return merged


def _apply_change(data: dict[str, Any], change: dict[str, Any], path: Path) -> None:
    """Apply one `[[change]]` of a derived definition: find a row by its 三级 name, set fields."""
    change = dict(change)
    section = change.pop("section", "indicators")
    match = change.pop("match")
    rows = data.get(section, [])
    targets = [r for r in rows if all(r.get(k) == v for k, v in match.items())]
    if len(targets) != 1:
        raise DefinitionError(f"{path}: change {match} matches {len(targets)} rows of [{section}], not one")
    targets[0].update(change)
