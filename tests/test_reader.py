"""Reading forms by their labels: our templates, and units' own copies of the Ministry layout."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from openpyxl.styles import Alignment

from perfeval_xlsx.check import check_file
from perfeval_xlsx.forms.content import Indicator, content_from_dict, load_definition
from perfeval_xlsx.output.template import write_form
from perfeval_xlsx.reading.reader import read_form
from perfeval_xlsx.reading.safety import FileProblem
from perfeval_xlsx.rules.profile import load_profile
from perfeval_xlsx.rules.validate import validate

from .conftest import BASE, FRAMEWORK_TEMPLATE, MOF_TEMPLATE, SAMPLES, SEED000, SEED001

BASE_DEFINITION = SAMPLES / "definitions" / "broken" / "_base.toml"

# Two more 数量指标 rows than the base form: the rows a unit inserts.
EXTRA_ROWS = [
    dict(level1="产出指标", level2="数量指标", level3="发放党纪学习教育资料", operator="≥", target=1, unit="次", actual=1, weight=3, score=3),
    dict(level1="产出指标", level2="数量指标", level3="深入商会开展调研", operator="≥", target=50, unit="家", actual=61, weight=3, score=3),
]


def _base_content(extra: bool = True):
    data = load_definition(BASE_DEFINITION)
    if extra:
        rows = data["indicators"]
        # keep 产出 at 50: the two new rows take 6 of the 书籍配发 and 培训人数 rows' 分值
        rows[0].update(weight=3, score=3)
        rows[1].update(weight=3, score=3)
        data["indicators"] = rows[:3] + EXTRA_ROWS + rows[3:]
    return content_from_dict(data)


def _unit_copy(path: Path, content) -> None:
    """A unit's own copy of the Ministry layout, as finance bureaus hand it out: title rows, a
    different sheet name, 分值 before 年度指标值, no 指标性质/计量单位 columns (values folded),
    一级 group cells merged, 二级 names written once, inserted rows with blank group cells,
    spacer rows, full-width characters and numbers stored as text."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "附件2 绩效自评表"
    ws["A1"] = "附件2"
    ws.merge_cells("A2:H2")
    ws["A2"] = "项目支出绩效自评表"
    ws.merge_cells("A3:H3")
    ws["A3"] = f"（ {content.header.year} 年度）"
    ws["A5"] = "项目名称"
    ws.merge_cells("B5:H5")
    ws["B5"] = content.header.project
    ws["A6"], ws["B6"], ws["E6"], ws["F6"] = "主管部门", content.header.department, "实施单位", content.header.unit
    ws.merge_cells("B6:D6")
    ws.merge_cells("F6:H6")
    # funds block, the Ministry order: 年初预算数 | 全年预算数 | 全年执行数 | 分值 | 执行率 | 得分
    ws.merge_cells("A7:A11")
    ws["A7"] = "项目资金\n（万元）"
    for col, label in zip("CDEFGH", ("年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分")):
        ws[f"{col}7"] = label
    total = content.funds[0]
    ws["B8"], ws["C8"], ws["D8"], ws["E8"] = "年度资金总额", total.budget_initial, "７.９４", total.spent  # text, full-width
    ws["F8"], ws["G8"], ws["H8"] = total.weight, "100%", total.score
    for r, label in ((9, "其中：当年财政拨款"), (10, "上年结转资金"), (11, "其他资金")):
        ws[f"B{r}"] = label
        for col in "FGH":
            ws[f"{col}{r}"] = "—"
    ws["C9"] = ws["D9"] = ws["E9"] = 7.94
    ws.merge_cells("A12:A13")
    ws["A12"], ws["B12"], ws["F12"] = "年度总体目标", "预期目标", "实际完成情况"
    ws["B13"], ws["F13"] = content.goal_planned, content.goal_actual
    # row 14: a spacer. Indicator table from row 15, columns in the unit's order.
    for col, label in zip("ABCDEFGH", ("一级指标", "二级指标", "三级指标", "分值", "年度指标值", "实际完成值", "得分", "偏差原因分析及改进措施")):
        ws[f"{col}15"] = label
    r = 16
    groups: dict[str, list[int]] = {}
    last_level2 = None
    for i, ind in enumerate(content.indicators):
        if i == 8:
            r += 1  # a blank spacer row inside the table
        groups.setdefault(ind.level1, []).append(r)
        inserted = ind.level3 in {e["level3"] for e in EXTRA_ROWS}
        if ind.level2 != last_level2 and not inserted:
            ws[f"B{r}"] = ind.level2  # written once for its rows
        last_level2 = ind.level2
        ws[f"C{r}"] = ind.level3
        ws[f"D{r}"] = ind.weight
        ws[f"E{r}"] = _folded(ind.operator, ind.target, ind.unit)
        ws[f"F{r}"] = _folded("", ind.actual, ind.unit)
        ws[f"G{r}"] = str(ind.score) if i == 0 else ind.score  # a number stored as text
        ws[f"H{r}"] = ind.reason or None
        r += 1
    ws[f"C{r}"] = "指标1："  # a placeholder row left from the printed form
    for level1, rows in groups.items():
        weight = sum(ind.weight for ind in content.indicators if ind.level1 == level1)
        ws.merge_cells(f"A{rows[0]}:A{rows[-1]}")
        ws[f"A{rows[0]}"] = f"{level1[:2]} {level1[2:]} ({weight}分 )"
        ws[f"A{rows[0]}"].alignment = Alignment(wrap_text=True)
    ws[f"A{r + 1}"] = "总分"
    ws[f"D{r + 1}"] = 100
    ws[f"A{r + 2}"] = "评价等级"
    ws[f"B{r + 2}"] = content.grade
    wb.save(path)


def _folded(operator: str, value, unit: str) -> str:
    op = {"≥": "≥", "≤": "≤", "＝": "＝", "定性": ""}.get(operator, operator)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{op}{value}{unit}"


def _values(path: Path) -> dict:
    form = read_form(path)
    v = validate(form, load_profile("mof-2020"))
    total = form.funds_line("total")
    rows = [
        (r.row.level1, r.row.level2, r.row.name, r.kind, r.operator, r.target, r.actual,
         load_profile("mof-2020").unit_family(r.unit), r.weight, r.self_score, r.grade, r.reason)
        for r in v.rows
    ]
    return {
        "project": form.project,
        "funds": (v.execution.budget, v.execution.spent, v.execution.weight, v.execution.self_score),
        "appropriation": form.funds_line("appropriation").budget.value,
        "rows": rows,
        "goals": (form.goals["planned"].value, form.goals["actual"].value),
        "grade": form.grade.value if form.grade else None,
        "total_weight": float(form.total_weight.value),
        "findings": sorted(f.code for f in v.findings),
        "_total_row": total.row,
    }


def test_units_own_ministry_copy_reads_like_the_template(tmp_path):
    content = _base_content()
    ours, theirs = tmp_path / "ours.xlsx", tmp_path / "theirs.xlsx"
    write_form(content, ours)
    _unit_copy(theirs, content)
    a, b = _values(ours), _values(theirs)
    a.pop("_total_row"), b.pop("_total_row")
    assert len(a["rows"]) == 13
    assert a == b
    assert a["findings"] == []  # clean, both ways
    # the hand-checked values of a folded row
    books = next(r for r in b["rows"] if r[2] == "商会党建书籍配发")
    assert books[3:9] == ("quant", "≥", 800, 1015, "本", 3)
    cost = next(r for r in b["rows"] if r[2] == "购买学习资料和书籍等费用")
    assert cost[3:8] == ("quant", "≤", 1.94, 1.94, "万元")
    assert b["funds"] == (7.94, 7.94, 10, 10)


def test_unit_copy_keeps_cell_addresses(tmp_path):
    content = _base_content()
    theirs = tmp_path / "theirs.xlsx"
    _unit_copy(theirs, content)
    form = read_form(theirs)
    assert form.sheet == "附件2 绩效自评表"
    books = next(r for r in form.indicators if r.name == "商会党建书籍配发")
    assert (books.target.address, books.actual.address, books.weight.address, books.score.address) == ("E16", "F16", "D16", "G16")
    assert form.header.project.address == "B5" and form.header.year_value == 2024
    assert form.funds_line("total").budget.address == "D8"
    inserted = next(r for r in form.indicators if r.name == "深入商会开展调研")
    assert (inserted.level1, inserted.level2) == ("产出指标", "数量指标")  # blank group cells: the rows above
    assert [g.declared_weight for g in form.groups] == [50, 30, 10]


def test_template_rows_inserted_by_the_user(tmp_path):
    """Rows inserted inside a group of our template (Excel extends the merges and sums)."""
    path = tmp_path / "inserted.xlsx"
    cells = write_form(_base_content(extra=True), path)
    form = read_form(path)
    assert [r.name for r in form.indicators][:5] == ["商会党建书籍配发", "党务培训班培训人数", "组织党支部开展党务培训班",
                                                     "发放党纪学习教育资料", "深入商会开展调研"]
    assert form.indicators[4].actual.address == cells["indicators[4].actual"]
    assert check_file(path).status == "ok"


@pytest.mark.parametrize("path,kind,rows", [
    (SEED001, "framework", 21), (SEED000, "mof-2020", 13), (BASE, "mof-2020", 11),
    (MOF_TEMPLATE, "mof-2020", 0), (FRAMEWORK_TEMPLATE, "framework", 11),
])
def test_our_forms(path, kind, rows):
    form = read_form(path)
    assert (form.kind, len(form.indicators)) == (kind, rows)


def test_seed001_formula_actuals_read_through_cached_values():
    form = read_form(SEED001)
    rate = next(r for r in form.indicators if r.name == "预算执行率")
    assert rate.actual.formula and rate.actual.value == 100


def test_formula_without_cached_value_is_computed(tmp_path):
    """A formula saved without its result (openpyxl, finance-system exports) is computed by a
    formula engine and scored, with an info finding naming the cell."""
    wb = openpyxl.load_workbook(BASE)
    ws = wb["自评表"]
    ws["G14"] = "=800+215"  # openpyxl writes no cached result; 1015 本 as in the sample
    path = tmp_path / "formula.xlsx"
    wb.save(path)
    result = check_file(path)
    assert [(f.code, f.cell, f.value) for f in result.findings] == [("I-FORMULA-COMPUTED", "G14", 1015)]
    assert result.status == "ok" and result.score.total == 100


def test_formula_no_engine_can_compute_is_an_error_naming_the_cell(tmp_path):
    wb = openpyxl.load_workbook(BASE)
    ws = wb["自评表"]
    ws["G14"] = "=NOSUCHFUNCTION(800)"  # neither the formulas package nor LibreOffice knows it
    path = tmp_path / "formula.xlsx"
    wb.save(path)
    result = check_file(path)
    hits = [f for f in result.findings if f.code == "E-FORMULA-NO-VALUE"]
    assert [(f.cell, f.severity) for f in hits] == [("G14", "error")]
    assert "请在 Excel/WPS 中打开并保存后重试" in hits[0].message
    assert result.status == "errors"


def _save(wb, path: Path) -> Path:
    wb.save(path)
    return path


def test_workbook_without_a_form(tmp_path):
    wb = openpyxl.Workbook()
    wb.active["A1"] = "会议签到表"
    with pytest.raises(FileProblem) as exc:
        read_form(_save(wb, tmp_path / "other.xlsx"))
    assert exc.value.code == "E-NO-FORM" and "三级指标" in exc.value.message


def test_workbook_with_several_forms(tmp_path):
    wb = openpyxl.load_workbook(BASE)
    copy = wb.copy_worksheet(wb["自评表"])
    copy.title = "项目二"
    with pytest.raises(FileProblem) as exc:
        read_form(_save(wb, tmp_path / "two.xlsx"))
    assert exc.value.code == "E-MANY-FORMS" and "项目二" in exc.value.message


def test_hidden_copy_of_the_form_is_ignored(tmp_path):
    wb = openpyxl.load_workbook(BASE)
    copy = wb.copy_worksheet(wb["自评表"])
    copy.title = "旧版"
    copy.sheet_state = "hidden"
    form = read_form(_save(wb, tmp_path / "hidden.xlsx"))
    assert form.sheet == "自评表"


def test_scored_summary_sheets_are_not_taken_for_the_form(tmp_path):
    wb = openpyxl.load_workbook(BASE)
    detail = wb.create_sheet("评分明细")
    for col, label in enumerate(("一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分"), 1):
        detail.cell(1, col, label)
    assert read_form(_save(wb, tmp_path / "scored.xlsx")).sheet == "自评表"


def test_indicator_dataclass_round_trip():
    """The writer's content and the reader's rows agree on 三级 names for every sample."""
    content = _base_content(extra=False)
    assert [i.level3 for i in content.indicators] == [r.name for r in read_form(BASE).indicators]
    assert isinstance(content.indicators[0], Indicator)


def _official_layout(path: Path, content) -> None:
    """The printed attachment of 财预〔2020〕10号 as finance bureaus send it: a `绩效指标` column A
    merged down the whole table, 一级 in B, values folded, `指标1：` placeholders left in."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "项目支出绩效自评表"
    ws.merge_cells("A1:I1")
    ws["A1"] = "项目支出绩效自评表"
    ws.merge_cells("A2:I2")
    ws["A2"] = f"（{content.header.year}年度）"
    ws["A3"], ws["C3"] = "项目名称", content.header.project
    ws["A4"], ws["C4"], ws["F4"], ws["G4"] = "主管部门", content.header.department, "实施单位", content.header.unit
    ws["A5"] = "项目资金（万元）"
    for col, label in zip("DEFGHI", ("年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分")):
        ws[f"{col}5"] = label
    total = content.funds[0]
    ws["B6"], ws["D6"], ws["E6"], ws["F6"], ws["G6"], ws["H6"], ws["I6"] = (
        "年度资金总额", total.budget_initial, total.budget, total.spent, total.weight, 1, total.score)
    ws["B7"], ws["B8"], ws["B9"] = "其中：当年财政拨款", "上年结转资金", "其他资金"
    ws["D7"] = ws["E7"] = ws["F7"] = 7.94
    ws["A10"], ws["B10"], ws["F10"] = "年度总体目标", "预期目标", "实际完成情况"
    ws["B11"], ws["F11"] = content.goal_planned, content.goal_actual
    for col, label in zip("ABCDEFGHI", ("绩效指标", "一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分", "偏差原因分析及改进措施")):
        ws[f"{col}12"] = label
    r = 13
    for level1 in dict.fromkeys(i.level1 for i in content.indicators):
        ws[f"B{r}"] = level1
        for level2 in dict.fromkeys(i.level2 for i in content.indicators if i.level1 == level1):
            ws[f"C{r}"] = level2
            for ind in (i for i in content.indicators if i.level2 == level2):
                ws[f"D{r}"], ws[f"E{r}"] = ind.level3, _folded(ind.operator, ind.target, ind.unit)
                ws[f"F{r}"], ws[f"G{r}"], ws[f"H{r}"], ws[f"I{r}"] = _folded("", ind.actual, ind.unit), ind.weight, ind.score, ind.reason or None
                r += 1
            ws[f"D{r}"] = "……"  # the printed form's spare row
            r += 1
    ws.merge_cells(f"A12:A{r - 1}")
    ws[f"A{r}"], ws[f"G{r}"] = "总分", 100
    wb.save(path)


def test_official_printed_layout_reads_like_the_template(tmp_path):
    content = _base_content()
    ours, theirs = tmp_path / "ours.xlsx", tmp_path / "official.xlsx"
    write_form(content, ours)
    _official_layout(theirs, content)
    a, b = _values(ours), _values(theirs)
    for d in (a, b):
        d.pop("_total_row"), d.pop("grade")
    assert a == b
    form = read_form(theirs)
    assert form.columns["level1"] == "B" and form.columns["level3"] == "D"
    assert len(form.indicators) == 13


def test_xml_reader_takes_each_rows_height_as_the_file_gives_it(tmp_path):
    # the heights the patching writer grows rows from: what the file says, row by row; a row
    # without its own height (or with one no reader can use) has none, and the sheet default applies
    from perfeval_xlsx.reading.xlsx_xml import read_xlsx

    path = tmp_path / "heights.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    for r in range(1, 6):
        ws.cell(r, 1, f"第{r}行")
    ws.row_dimensions[2].height = 33.75
    ws.row_dimensions[4].height = 12
    wb.save(path)
    grid = read_xlsx(path)
    assert grid.sheets[0].row_heights == {2: 33.75, 4: 12.0}
    assert grid.data == path.read_bytes()  # the bytes it read: the scored copy is made of these
