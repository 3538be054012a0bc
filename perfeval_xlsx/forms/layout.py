"""The two standard forms: their labels, columns and indicator groups, as data.

Everything a form shows a finance officer (labels, group names, column headers) is defined
here once. The template writer lays these out; the reader (later) looks for the same labels.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from perfeval_xlsx.vocab import GRADES, QUAL_LONG

# Operators a finance system stores as 指标性质 / 计算符号, in the order of the dropdown.
OPERATORS: tuple[str, ...] = ("≥", "＞", "＝", "＜", "≤", "定性")

# The three 定性 grades of 财预〔2020〕10号 (exact labels; short forms 达成/部分达成/未达成).
QUALITATIVE_GRADES: tuple[str, ...] = QUAL_LONG

GRADE_LABELS: tuple[str, ...] = GRADES

# Units offered (not enforced) in the 计量单位 dropdown.
COMMON_UNITS: tuple[str, ...] = (
    "%", "万元", "元", "个", "人", "人次", "本", "册", "期", "次", "场", "家", "项", "份", "天", "日期",
)


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    width: float


# The indicator table, left to right. Our template splits the folded target (`≥800本`) into
# 指标性质 / 年度指标值 / 计量单位, as finance systems store it.
INDICATOR_COLUMNS: tuple[Column, ...] = (
    Column("level1", "一级指标", 10),
    Column("level2", "二级指标", 13),
    Column("level3", "三级指标", 26),
    Column("operator", "指标性质", 10),
    Column("target", "年度指标值", 13),
    Column("unit", "计量单位", 11),
    Column("actual", "实际完成值", 14),
    Column("weight", "分值", 8),
    Column("score", "得分", 8),
    Column("reason", "偏差原因分析及改进措施", 32),
)
COLUMN_INDEX: dict[str, int] = {c.key: i for i, c in enumerate(INDICATOR_COLUMNS)}


@dataclass(frozen=True)
class FundsColumn:
    key: str  # attribute of content.FundsLine, or a computed rate
    label: str
    computed: bool = False


@dataclass(frozen=True)
class PrefilledRow:
    """A row the framework form ships filled in: a judgment (定性) or a money-rate row."""

    level1: str
    level2: str
    level3: str
    weight: float
    operator: str = "定性"
    target: str | float | None = None
    unit: str = ""
    computed_actual: str | None = None  # key of a funds rate the actual value is taken from


@dataclass(frozen=True)
class Group:
    level1: str
    default_weight: float
    level2: tuple[str, ...]


@dataclass(frozen=True)
class FormLayout:
    name: str
    title: str
    file_name: str
    funds_columns: tuple[FundsColumn, ...]  # placed in columns D.. of the sheet
    funds_rows: tuple[str, ...]  # first is the total line (carries 分值/得分 in mof-2020)
    groups: tuple[Group, ...]
    prefilled: tuple[PrefilledRow, ...] = ()
    execution_weight: float | None = None  # 分值 of the funds total line; None: no such cell
    blank_rows_per_level2: int = 3
    sheet_name: str = "自评表"
    grade_bands: tuple[tuple[str, float], ...] = tuple(zip(GRADES, (90, 80, 60, 0)))
    level2_choices: tuple[str, ...] = field(default=())

    def level2_names(self) -> tuple[str, ...]:
        return self.level2_choices or tuple(n for g in self.groups for n in g.level2)


# Labels of the header block, as printed on the Ministry form.
HEADER_LABELS = {
    "project": "项目名称",
    "department": "主管部门",
    "unit": "实施单位",
    "year": "年度",
    "contact": "填报人及电话",
}
GOAL_LABELS = ("年度总体目标", "预期目标", "实际完成情况")
FUNDS_BLOCK_LABEL = "项目资金\n（万元）"
TOTAL_LABEL = "总分"
GRADE_LABEL = "评价等级（自评）"
NOT_APPLICABLE_MARK = "—"

MOF_2020 = FormLayout(
    name="mof-2020",
    title="项目支出绩效自评表",
    file_name="项目支出绩效自评表.xlsx",
    funds_columns=(
        FundsColumn("budget_initial", "年初预算数"),
        FundsColumn("budget", "全年预算数"),
        FundsColumn("spent", "全年执行数"),
        FundsColumn("execution_rate", "执行率", computed=True),
        FundsColumn("weight", "分值"),
        FundsColumn("score", "得分"),
    ),
    funds_rows=("年度资金总额", "其中：当年财政拨款", "上年结转资金", "其他资金"),
    groups=(
        Group("产出指标", 50, ("数量指标", "质量指标", "时效指标", "成本指标")),
        Group("效益指标", 30, ("经济效益指标", "社会效益指标", "生态效益指标", "可持续影响指标")),
        Group("满意度指标", 10, ("服务对象满意度指标",)),
    ),
    execution_weight=10,
)

# Seed 001's table: the 决策/过程 rows of the common framework with their 分值.
_FRAMEWORK_PREFILLED = (
    PrefilledRow("决策", "项目立项", "立项依据充分性", 4, target="依据充分"),
    PrefilledRow("决策", "项目立项", "立项程序规范性", 4, target="程序规范"),
    PrefilledRow("决策", "绩效目标", "绩效目标合理性", 3, target="目标合理"),
    PrefilledRow("决策", "绩效目标", "绩效指标明确性", 3, target="指标明确"),
    PrefilledRow("决策", "资金投入", "预算编制科学性", 3, target="编制科学"),
    PrefilledRow("决策", "资金投入", "资金分配合理性", 3, target="分配合理"),
    PrefilledRow("过程", "资金管理", "资金到位率", 5, "≥", 100, "%", computed_actual="received_rate"),
    PrefilledRow("过程", "资金管理", "预算执行率", 5, "≥", 100, "%", computed_actual="execution_rate"),
    PrefilledRow("过程", "资金管理", "资金使用合规性", 3, target="使用合规"),
    PrefilledRow("过程", "组织实施", "管理制度健全性", 3, target="制度健全"),
    PrefilledRow("过程", "组织实施", "制度执行有效性", 4, target="执行有效"),
)

FRAMEWORK = FormLayout(
    name="framework",
    title="项目绩效评价表（共性框架）",
    file_name="项目绩效评价表（共性框架）.xlsx",
    funds_columns=(
        FundsColumn("budget", "预算资金"),
        FundsColumn("received", "实际到位资金"),
        FundsColumn("spent", "实际支出资金"),
        FundsColumn("received_rate", "资金到位率", computed=True),
        FundsColumn("execution_rate", "预算执行率", computed=True),
    ),
    funds_rows=("年度资金总额", "其中：财政拨款", "其他资金"),
    groups=(
        Group("决策", 20, ("项目立项", "绩效目标", "资金投入")),
        Group("过程", 20, ("资金管理", "组织实施")),
        Group("产出", 40, ("产出数量", "产出质量", "产出时效", "产出成本")),
        Group("效益", 10, ("项目效益",)),
        Group("满意度", 10, ("满意度指标",)),
    ),
    prefilled=_FRAMEWORK_PREFILLED,
    grade_bands=tuple(zip(GRADES, (90, 80, 70, 0))),
    level2_choices=(
        "产出数量", "产出质量", "产出时效", "产出成本",
        "经济效益", "社会效益", "生态效益", "可持续影响", "项目效益", "满意度指标",
    ),
)

LAYOUTS: dict[str, FormLayout] = {MOF_2020.name: MOF_2020, FRAMEWORK.name: FRAMEWORK}


#: what each finding's `field` is called on the form (the funds columns differ per form: see field_labels)
FIELD_LABELS = {
    "project": "项目名称", "department": "主管部门", "unit": "实施单位", "year": "年度",
    "weight": "分值", "score": "得分", "target": "年度指标值", "actual": "实际完成值", "operator": "指标性质",
    "reason": "偏差原因分析及改进措施", "level1": "一级指标", "level3": "三级指标", "total": "总分", "file": "文件",
}


def field_labels(kind: str) -> dict[str, str]:
    """The labels of the form of `kind` (mof-2020 or framework): its funds columns as it prints them
    (全年预算数 on the Ministry form, 预算资金 on the framework form) plus the common fields."""
    labels = {c.key: c.label for layout in (FRAMEWORK, MOF_2020) for c in layout.funds_columns}
    labels.update({c.key: c.label for c in LAYOUTS.get(kind, MOF_2020).funds_columns})
    labels.update(FIELD_LABELS)
    return labels


def get_layout(name: str) -> FormLayout:
    try:
        return LAYOUTS[name]
    except KeyError:
        known = "、".join(LAYOUTS)
        raise ValueError(f"未知的表样“{name}”。可选：{known}。") from None
