"""The two shipped templates: what they hold, how they behave, and that they are reproducible."""

from __future__ import annotations

import openpyxl
import pytest

from perfeval_xlsx.output.template import write_template

from .conftest import FRAMEWORK_TEMPLATE, MOF_TEMPLATE, run_cli, sheet_snapshot

INDICATOR_HEADER = ["一级指标", "二级指标", "三级指标", "指标性质", "年度指标值", "计量单位",
                    "实际完成值", "分值", "得分", "偏差原因分析及改进措施"]


def _find(ws, text: str) -> list[str]:
    return [c.coordinate for row in ws.iter_rows() for c in row if c.value == text]


def _row_of(ws, text: str) -> int:
    hits = _find(ws, text)
    assert hits, f"label {text!r} not found"
    return ws[hits[0]].row


def _indicator_rows(ws) -> range:
    header = _row_of(ws, "三级指标")
    total = _row_of(ws, "总分")
    return range(header + 1, total)


def _level_of_rows(ws, rows: range, col: str) -> list[str]:
    """The group label each row belongs to, following merged cells as a reader sees them."""
    out = []
    for r in rows:
        value = ws[f"{col}{r}"].value
        for rng in ws.merged_cells.ranges:
            if rng.min_col == ws[f"{col}{r}"].column and rng.min_row <= r <= rng.max_row:
                value = ws.cell(rng.min_row, rng.min_col).value
        out.append(value)
    return out


@pytest.mark.parametrize("profile,path", [("mof-2020", MOF_TEMPLATE), ("framework", FRAMEWORK_TEMPLATE)])
def test_shipped_template_is_what_the_command_produces(tmp_path, profile, path):
    out = tmp_path / "t.xlsx"
    result = run_cli("template", "--profile", profile, "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert sheet_snapshot(out) == sheet_snapshot(path)


@pytest.mark.parametrize("profile", ["mof-2020", "framework"])
def test_template_bytes_are_reproducible(tmp_path, profile):
    a, b = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    write_template(profile, a)
    write_template(profile, b)
    assert a.read_bytes() == b.read_bytes()


def test_mof_template_layout():
    wb = openpyxl.load_workbook(MOF_TEMPLATE, data_only=True)
    assert wb.sheetnames == ["自评表", "填表说明"]
    ws = wb["自评表"]
    assert ws["A1"].value == "项目支出绩效自评表"
    assert "A1:I1" in {str(r) for r in ws.merged_cells.ranges}
    for label in ("项目名称", "主管部门", "实施单位", "年度", "年度总体目标", "预期目标", "实际完成情况", "总分"):
        assert _find(ws, label), label
    # funds block: the Ministry columns and lines
    funds_header = _row_of(ws, "年初预算数")
    assert [ws.cell(funds_header, c).value for c in range(4, 10)] == ["年初预算数", "全年预算数", "全年执行数", "执行率", "分值", "得分"]
    assert [ws.cell(funds_header + i, 2).value for i in range(1, 5)] == ["年度资金总额", "其中：当年财政拨款", "上年结转资金", "其他资金"]
    assert ws.cell(funds_header + 1, 8).value == 10  # 预算执行率 default 分值
    assert ws.cell(funds_header + 2, 8).value == "—"
    # indicator table
    header = _row_of(ws, "三级指标")
    assert [ws.cell(header, c).value for c in range(1, 11)] == INDICATOR_HEADER
    rows = _indicator_rows(ws)
    level1 = _level_of_rows(ws, rows, "A")
    level2 = _level_of_rows(ws, rows, "B")
    assert [l.split("\n")[0] for l in dict.fromkeys(level1)] == ["产出指标", "效益指标", "满意度指标"]
    expected_level2 = ["数量指标", "质量指标", "时效指标", "成本指标", "经济效益指标", "社会效益指标",
                       "生态效益指标", "可持续影响指标", "服务对象满意度指标"]
    assert list(dict.fromkeys(level2)) == expected_level2
    for name in expected_level2:
        assert level2.count(name) >= 3, f"fewer than three blank rows under {name}"
    assert all(ws.cell(r, 3).value is None for r in rows)  # blank, ready to fill


def test_framework_template_prefilled_rows():
    ws = openpyxl.load_workbook(FRAMEWORK_TEMPLATE, data_only=True)["自评表"]
    formulas = openpyxl.load_workbook(FRAMEWORK_TEMPLATE)["自评表"]
    assert ws["A1"].value == "项目绩效评价表（共性框架）"
    funds_header = _row_of(ws, "预算资金")
    assert [ws.cell(funds_header, c).value for c in range(4, 9)] == ["预算资金", "实际到位资金", "实际支出资金", "资金到位率", "预算执行率"]
    rows = _indicator_rows(ws)
    level1 = [l.split("\n")[0] for l in _level_of_rows(ws, rows, "A")]
    assert list(dict.fromkeys(level1)) == ["决策", "过程", "产出", "效益", "满意度"]
    # the 决策/过程 rows of seed 001's table with their default 分值
    prefilled = {ws.cell(r, 3).value: ws.cell(r, 8).value for r in rows if ws.cell(r, 3).value}
    assert prefilled == {
        "立项依据充分性": 4, "立项程序规范性": 4, "绩效目标合理性": 3, "绩效指标明确性": 3,
        "预算编制科学性": 3, "资金分配合理性": 3, "资金到位率": 5, "预算执行率": 5,
        "资金使用合规性": 3, "管理制度健全性": 3, "制度执行有效性": 4,
    }
    assert sum(prefilled.values()) == 40
    # 资金到位率 / 预算执行率 take their actual value from the funds block
    for name in ("资金到位率", "预算执行率"):
        r = next(r for r in rows if ws.cell(r, 3).value == name)
        assert str(formulas.cell(r, 7).value).startswith("=IF(ISNUMBER(")
        assert ws.cell(r, 7).value is None  # cached: empty until money is entered
        assert (ws.cell(r, 4).value, ws.cell(r, 5).value, ws.cell(r, 6).value) == ("≥", 100, "%")
    for name in ("产出数量", "产出质量", "产出时效", "产出成本", "项目效益", "满意度指标"):
        assert _level_of_rows(ws, rows, "B").count(name) >= 3


@pytest.mark.parametrize("path,status", [
    (MOF_TEMPLATE, "分值合计 10，应为 100"),  # only the funds 分值 (10) is filled in
    (FRAMEWORK_TEMPLATE, "分值合计 40，应为 100"),  # the 决策/过程 rows: 4+4+3+3+3+3+5+5+3+3+4
])
def test_running_total_of_weights_has_a_cached_value(path, status):
    """Every viewer (and pandas) shows the running total, not an empty formula cell."""
    wb = openpyxl.load_workbook(path, data_only=True)
    ws = wb["自评表"]
    assert ws["J1"].value == status
    total_row = _row_of(ws, "总分")
    assert ws.cell(total_row, 10).value == status
    formulas = openpyxl.load_workbook(path)["自评表"]
    assert formulas["J1"].value.startswith("=IF(")
    assert formulas.cell(total_row, 8).value.startswith("=ROUND(SUM(")


@pytest.mark.parametrize("path", [MOF_TEMPLATE, FRAMEWORK_TEMPLATE])
def test_protection_locks_labels_and_unlocks_inputs(path):
    ws = openpyxl.load_workbook(path)["自评表"]
    assert ws.protection.sheet is True
    assert not ws.protection.password  # no password: a user may unprotect to insert rows
    assert ws.protection.insertRows is False  # openpyxl: False means "allowed"
    assert ws["A3"].value == "项目名称" and ws["A3"].protection.locked
    assert ws["C3"].protection.locked is False  # 项目名称 input
    assert ws["C3"].fill.fgColor.rgb.endswith("FFF2CC")  # visibly shaded
    rows = _indicator_rows(ws)
    blank = [r for r in rows if ws.cell(r, 3).value is None]
    for r in blank:
        for col in "CDEFGHIJ":
            cell = ws[f"{col}{r}"]
            assert cell.protection.locked is False, cell.coordinate
            assert cell.fill.fgColor.rgb.endswith("FFF2CC"), cell.coordinate
    header = _row_of(ws, "三级指标")
    assert all(ws.cell(header, c).protection.locked for c in range(1, 11))
    assert ws.cell(rows[0], 1).protection.locked  # 一级 group label


@pytest.mark.parametrize("path", [MOF_TEMPLATE, FRAMEWORK_TEMPLATE])
def test_print_setup_and_view(path):
    ws = openpyxl.load_workbook(path)["自评表"]
    assert ws.page_setup.orientation == "landscape"
    assert ws.page_setup.paperSize == 9  # A4
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.page_setup.fitToWidth in (None, 1)  # 1 page wide (1 is the OOXML default)
    assert ws.page_setup.fitToHeight == 0  # as many pages tall as needed
    header = _row_of(ws, "三级指标")
    assert ws.print_title_rows == f"${header}:${header}"
    assert ws.freeze_panes == "A3"
    assert ws["A1"].font.name == "黑体" and ws["C3"].font.name == "宋体"
    assert ws.column_dimensions["C"].width >= 20 and ws.column_dimensions["J"].width >= 30
    assert ws[f"J{header}"].alignment.wrap_text


def _validations(ws) -> dict[str, tuple]:
    return {str(dv.sqref): (dv.type, dv.formula1, dv.prompt, dv.showErrorMessage)
            for dv in ws.data_validations.dataValidation}


@pytest.mark.parametrize("path", [MOF_TEMPLATE, FRAMEWORK_TEMPLATE])
def test_dropdowns_and_number_checks(path):
    ws = openpyxl.load_workbook(path)["自评表"]
    rows = _indicator_rows(ws)
    dv = _validations(ws)
    col_range = lambda c: f"{c}{rows[0]}:{c}{rows[-1]}"  # noqa: E731
    assert dv[col_range("D")][:2] == ("list", '"≥,＞,＝,＜,≤,定性"')
    assert dv[col_range("D")][3] is True  # other operators are refused
    assert dv[col_range("G")][:2] == ("list", '"达成年度指标,部分达成年度指标并具有一定效果,未达成年度指标且效果较差"')
    assert dv[col_range("G")][3] is False  # numbers may still be typed on quantitative rows
    level2_names = "数量指标" if path == MOF_TEMPLATE else "产出数量"
    assert dv[col_range("B")][0] == "list" and level2_names in dv[col_range("B")][1]
    assert dv[col_range("H")][:2] == ("decimal", "0.01")
    assert "合计必须为 100" in dv[col_range("H")][2]
    assert dv[col_range("I")][0] == "decimal"
    money = [k for k, v in dv.items() if v[0] == "decimal" and "万元" in (v[2] or "")]
    assert money, "money cells need a number check with a Chinese input message"


@pytest.mark.parametrize("path", [MOF_TEMPLATE, FRAMEWORK_TEMPLATE])
def test_dropdowns_survive_openpyxl_round_trip(tmp_path, path):
    """openpyxl drops x14 cross-sheet list validations; ours must all survive a load-and-save."""
    before = _validations(openpyxl.load_workbook(path)["自评表"])
    assert len(before) >= 9
    out = tmp_path / "saved.xlsx"
    openpyxl.load_workbook(path).save(out)
    after = _validations(openpyxl.load_workbook(out)["自评表"])
    assert after == before


@pytest.mark.parametrize("path", [MOF_TEMPLATE, FRAMEWORK_TEMPLATE])
def test_instructions_sheet(path):
    ws = openpyxl.load_workbook(path)["填表说明"]
    text = "\n".join(str(c.value) for row in ws.iter_rows() for c in row if c.value)
    for needle in ("指标性质", "年度指标值", "计量单位", "实际完成值", "偏差原因分析及改进措施",
                   "达成年度指标", "部分达成年度指标并具有一定效果", "未达成年度指标且效果较差",
                   "2024-12-31", "%", "撤销工作表保护", "财预〔2020〕10号", "合计必须为 100"):
        assert needle in text, needle
    assert ws.protection.sheet


def test_grade_bands_in_instructions_follow_the_form():
    mof = "\n".join(str(c.value) for row in openpyxl.load_workbook(MOF_TEMPLATE)["填表说明"].iter_rows() for c in row if c.value)
    fw = "\n".join(str(c.value) for row in openpyxl.load_workbook(FRAMEWORK_TEMPLATE)["填表说明"].iter_rows() for c in row if c.value)
    assert "中：60（含）—80 分" in mof and "差：60 分以下" in mof
    assert "中：70（含）—80 分" in fw and "差：70 分以下" in fw


def test_template_writes_atomically_and_leaves_no_temp_files(tmp_path):
    write_template("mof-2020", tmp_path / "a.xlsx")
    assert [p.name for p in tmp_path.iterdir()] == ["a.xlsx"]


def test_template_into_a_folder_uses_the_standard_name(tmp_path):
    result = run_cli("template", "-p", "framework", "-o", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "项目绩效评价表（共性框架）.xlsx").exists()
