"""A form as read from a workbook: every value keeps its sheet and cell address."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from openpyxl.utils.cell import coordinate_from_string


class Cell(NamedTuple):  # (immutable like a frozen dataclass, and a third of its cost to make: a form reads thousands)
    sheet: str
    address: str  # A1 address in the sheet
    value: Any  # the value as a viewer shows it (a formula's cached result)
    number_format: str = "General"
    formula: bool = False
    missing_cache: bool = False  # a formula with no cached result
    merged_into: str | None = None  # inside a merged range whose value belongs to this other cell

    @property
    def row(self) -> int:
        return coordinate_from_string(self.address)[1]

    @property
    def blank(self) -> bool:
        return self.value is None or (isinstance(self.value, str) and not self.value.strip())


@dataclass
class Header:
    project: Cell | None = None
    department: Cell | None = None
    unit: Cell | None = None
    year: Cell | None = None
    year_value: int | None = None  # parsed year (from the 年度 cell or a `（2024年度）` title)
    labels: dict[str, str] = field(default_factory=dict)  # field → address of its label


@dataclass
class FundsLine:
    key: str  # total, appropriation, carryover, other
    label: str
    row: int
    budget_initial: Cell | None = None
    budget: Cell | None = None
    received: Cell | None = None
    spent: Cell | None = None
    rate: Cell | None = None
    weight: Cell | None = None
    score: Cell | None = None


@dataclass
class GroupLabel:
    """A 一级 label as written, e.g. `产出指标(50分)`, and the rows it covers."""

    name: str
    declared_weight: float | None
    cell: Cell
    rows: list[int] = field(default_factory=list)


@dataclass
class IndicatorRow:
    row: int
    level1: str
    level2: str
    level3: Cell
    target: Cell
    actual: Cell
    weight: Cell
    operator: Cell | None = None
    unit: Cell | None = None
    score: Cell | None = None
    reason: Cell | None = None

    @property
    def name(self) -> str:
        value = self.level3.value
        return str(value).strip() if value is not None and str(value).strip() else self.level2


@dataclass
class Form:
    path: str
    sheet: str
    kind: str  # "mof-2020" or "framework"
    header: Header
    funds: list[FundsLine]
    goals: dict[str, Cell | None]
    indicators: list[IndicatorRow]
    groups: list[GroupLabel]
    columns: dict[str, str]  # indicator field → column letter
    total_weight: Cell | None = None  # the 总分 row's 分值 cell
    total_score: Cell | None = None  # the 总分 row's 得分 cell
    grade: Cell | None = None
    total_row: int | None = None
    header_row: int | None = None  # the row of the indicator table's column labels
    cached_values: dict[str, Any] = field(default_factory=dict, repr=False)  # formula cell → its cached result
    money_unit: str = "万元"  # the unit the funds block states (`项目资金（元）`); amounts are read into 万元
    money_unit_cell: Cell | None = None  # the label that states it

    def funds_line(self, key: str) -> FundsLine | None:
        return next((f for f in self.funds if f.key == key), None)

    @property
    def project(self) -> dict[str, Any]:
        h = self.header
        text = lambda c: (str(c.value).strip() if c is not None and not c.blank else None)  # noqa: E731
        return {"name": text(h.project), "department": text(h.department), "unit": text(h.unit), "year": h.year_value}
