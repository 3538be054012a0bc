"""The validator's checks of §3–§7, each on a copy of the clean base form with one cell changed."""

from __future__ import annotations

import openpyxl
import pytest

from perfeval_xlsx.check import check_file

from .conftest import BASE

# Base form (Ministry layout): header C3 项目名称, C4 主管部门, H4 实施单位, C5 年度; funds line 7
# (D 年初预算数, E 全年预算数, F 全年执行数, H 分值, I 得分), parts on rows 8–10; indicators rows 14–24
# (14 书籍配发 ≥800本, 19 培训班费用 ≤2万元, 22 有效提高 定性); 总分 row 25.


def _check(tmp_path, changes: dict[str, object]):
    wb = openpyxl.load_workbook(BASE)
    ws = wb["自评表"]
    for address, value in changes.items():
        ws[address] = value
    path = tmp_path / "changed.xlsx"
    wb.save(path)
    return check_file(path)


def _found(result):
    return [(f.code, f.cell) for f in result.findings]


@pytest.mark.parametrize("changes,expected", [
    ({"C3": None}, [("E-HEADER-MISSING", "C3")]),
    ({"H4": "  "}, [("E-HEADER-MISSING", "H4")]),
    ({"C5": None, "A2": "项目支出绩效自评表"}, [("W-YEAR-MISSING", "C5")]),
    ({"E7": 0}, [("E-BUDGET-MISSING", "E7")]),
    ({"E7": -3}, [("E-BUDGET-MISSING", "E7")]),
    ({"F7": None}, [("E-SPENT-INVALID", "F7")]),
    ({"F7": 8.5, "I7": 10}, [("W-OVER-BUDGET", "F7")]),
    ({"H14": 0}, [("E-WEIGHT-INVALID", "H14")]),
    ({"H14": -6}, [("E-WEIGHT-INVALID", "H14")]),
    ({"H14": None}, [("E-WEIGHT-INVALID", "H14")]),
    ({"H14": "见附表"}, [("E-NUMBER-TEXT", "H14")]),
    ({"A14": "产出指标(40分)"}, [("W-GROUP-HEADER", "A14")]),
    ({"I25": 95}, [("W-TOTAL-DIFF", "I25")]),
    ({"E14": "见附件"}, [("E-TARGET-INVALID", "E14")]),
    ({"E14": None}, [("E-TARGET-INVALID", "E14")]),
    ({"G14": None}, [("E-ACTUAL-MISSING", "G14")]),
    ({"G14": "约一千本"}, [("E-ACTUAL-INVALID", "G14")]),
    ({"G14": "≥1015"}, [("W-ACTUAL-OPERATOR", "G14")]),
    ({"G14": "1015人"}, [("E-UNIT-MISMATCH", "G14")]),
    ({"D14": None}, [("I-OPERATOR-DEFAULT", "D14")]),  # read as ≥
    ({"D19": None}, [("I-OPERATOR-DEFAULT", "D19")]),  # under 成本指标: read as ≤
    ({"D14": "大约"}, [("E-TARGET-INVALID", "D14")]),
    ({"G14": "1015余本"}, [("I-APPROX", "G14")]),
    ({"G22": None}, [("E-QUAL-GRADE", "G22")]),
    ({"I22": 11}, [("E-QUAL-SCORE-BAND", "I22")]),  # 达成 needs 12–15 of 15
    ({"E14": None, "G14": None, "H14": None, "I14": None, "H15": 12, "I15": 12}, [("E-ROW-EMPTY", "C14")]),
])
def test_one_change_one_finding(tmp_path, changes, expected):
    assert _found(_check(tmp_path, changes)) == expected


def test_operator_default_directions_are_scored(tmp_path):
    r = _check(tmp_path, {"D19": None, "G19": 2.5, "I19": 4.5, "J19": "超支说明"})  # ≤ by default: 6 × 0.75
    assert r.score.rows.set_index("row").loc[19, "score"] == 4.5


def test_funds_total_taken_from_parts(tmp_path):
    r = _check(tmp_path, {"D7": None, "E7": None, "F7": None})
    assert _found(r) == [("W-FUNDS-FROM-PARTS", "E7")]
    assert r.score.execution_rate == 100 and r.score.execution_score == 10  # 7.94 / 7.94 from the 财政拨款 line


def test_weight_sum_wrong_suppresses_level1_warnings(tmp_path):
    r = _check(tmp_path, {"H24": 20, "I24": 20})  # 满意度 20: the sum is 110
    assert _found(r) == [("E-WEIGHT-SUM", "H25")]
    assert "合计为 110" in r.findings[0].message


def test_level1_weights_differ_from_profile(tmp_path):
    r = _check(tmp_path, {"H24": 5, "I24": 5, "H23": 20, "I23": 20})  # 满意度 5, 效益 35
    assert sorted(_found(r)) == [("W-WEIGHT-LEVEL1", "A22"), ("W-WEIGHT-LEVEL1", "A24")]


# -- defects found in review, one test each -------------------------------------------------

def _check_wb(tmp_path, edit, source=BASE):
    wb = openpyxl.load_workbook(source)
    edit(wb["自评表"])
    path = tmp_path / "edited.xlsx"
    wb.save(path)
    return check_file(path)


def test_a_new_level1_does_not_inherit_the_level2_above(tmp_path):
    """A 满意度 row with no 二级 after a row under 成本指标 is not a cost row (≥ by default)."""
    r = _check(tmp_path, {"B23": "成本指标", "B24": None, "D24": None})
    row = r.score.rows.set_index("row").loc[24]
    assert row["level2"] == "" and row["operator"] == "≥" and row["score"] == 10  # 93 ≥ 85
    assert _found(r) == [("I-OPERATOR-DEFAULT", "D24")]
    assert "正向" in r.findings[0].message


def test_merged_amounts_in_the_funds_block(tmp_path):
    def edit(ws):
        ws["F7"] = None
        ws.merge_cells("E7:F7")
    r = _check_wb(tmp_path, edit)
    assert ("E-MERGED-VALUES", "E7") in _found(r)
    assert r.score.execution_score is None and r.score.grade == "待更正"


def test_unit_in_the_target_text_wins_over_the_unit_column(tmp_path):
    # 计量单位 万元, target ≤10000元 = 1万元, actual 1.8万元: 6 × (1 − 0.8/1) = 1.2
    r = _check(tmp_path, {"E19": "≤10000元", "D19": None, "G19": 1.8, "I19": 1.2, "J19": "超支"})
    assert r.score.rows.set_index("row").loc[19, "score"] == 1.2 and r.findings == []


def test_target_unit_of_another_family_than_the_unit_column(tmp_path):
    assert _found(_check(tmp_path, {"E19": "≤2人", "D19": None})) == [("E-UNIT-MISMATCH", "E19")]


def test_operator_column_contradicting_the_target_text(tmp_path):
    r = _check(tmp_path, {"D19": "≥", "E19": "≤2", "G19": 2.5})
    assert _found(r) == [("E-OPERATOR-CONFLICT", "D19")]
    assert r.score.grade == "待更正"


def test_framework_rates_are_computed_from_the_money(tmp_path):
    from .conftest import SEED001

    def edit(ws):
        ws["F7"] = ws["F8"] = 5  # 实际支出资金 5 of 7.94 received
        ws["G19"], ws["G20"] = 100, 100  # rates typed by hand (the formulas replaced)
    r = _check_wb(tmp_path, edit, SEED001)
    assert ("W-RATE-MISMATCH", "G20") in _found(r)
    assert r.score.execution_rate == 62.97  # 5 / 7.94 = 62.972…%
    row = r.score.rows.set_index("level3").loc["预算执行率"]
    assert row["score"] == 3.15  # 5 × 0.62972 = 3.1486
    assert ("W-SELF-SCORE", "I20") in _found(r)


def test_negative_spending_is_an_error_and_scores_nothing(tmp_path):
    r = _check(tmp_path, {"F7": -1})
    assert _found(r) == [("E-SPENT-INVALID", "F7")]
    assert r.score.execution_score is None and r.score.grade == "待更正"


@pytest.mark.parametrize("target", ["#N/A", "≥800本？", "12万±"])
def test_target_with_a_number_that_cannot_be_read_is_not_qualitative(tmp_path, target):
    r = _check(tmp_path, {"E14": target, "D14": None, "F14": None})
    assert _found(r) == [("E-TARGET-INVALID", "E14")]


@pytest.mark.parametrize("target", ["约1000本", "1000本左右"])
def test_an_approximate_target_is_at_least_that_number(tmp_path, target):
    """Issue 10 point 8: 约1000本 / 1000本左右 as a target is ≥ 1000 with an info finding;
    the base row's 1015 meets it (full 6)."""
    r = _check(tmp_path, {"E14": target, "D14": None, "F14": None})
    assert _found(r) == [("I-APPROX-TARGET", "E14")]
    row = r.score.rows.set_index("row").loc[14]
    assert (row["operator"], row["target"], row["actual"], row["score"]) == ("≥", 1000, 1015, 6)


def test_month_only_deadline_without_a_year(tmp_path):
    r = _check(tmp_path, {"C5": None, "E18": "12月底前", "D18": None, "F18": None, "G18": "2024-12-20"})
    hits = [f for f in r.findings if f.code == "E-TARGET-INVALID"]
    assert [f.cell for f in hits] == ["E18"] and "完整日期" in hits[0].message


def test_group_label_written_on_every_row(tmp_path):
    def edit(ws):
        ws.unmerge_cells("A14:A21")
        for row in range(14, 22):
            ws[f"A{row}"] = "产出指标(50分)"
    assert _check_wb(tmp_path, edit).findings == []


def test_weights_with_three_decimals_are_full_when_met(tmp_path):
    r = _check(tmp_path, {"H16": 5.995, "I16": 5.995, "H17": 6.005, "I17": 6.005})
    assert r.findings == []


def test_bare_fractions_around_one_against_percentages(tmp_path):
    r = _check(tmp_path, {"G17": 1.02})  # ≥85%: 1.02 is 102%
    assert _found(r) == [("W-PERCENT-AMBIGUOUS", "G17")]
    assert r.score.rows.set_index("row").loc[17, "score"] == 6
    r = _check(tmp_path, {"E17": 0.85})  # a target of 0.85 with unit % against 90.4
    assert _found(r) == [("W-PERCENT-AMBIGUOUS", "E17")]
    assert r.score.rows.set_index("row").loc[17, "target"] == 85


def test_target_formula_without_its_result_is_one_error(tmp_path):
    # a formula no engine can compute (one that can is computed: tests/test_reader.py)
    assert _found(_check(tmp_path, {"E14": '=NOSUCHFUNCTION("≥800")'})) == [("E-FORMULA-NO-VALUE", "E14")]


def test_target_and_actual_merged_into_one_cell(tmp_path):
    def edit(ws):
        ws["G14"] = None
        ws.merge_cells("F14:G14")
    assert _found(_check_wb(tmp_path, edit)) == [("E-MERGED-VALUES", "F14")]


def test_missing_actual_column_is_one_finding(tmp_path):
    r = _check(tmp_path, {"G13": "备注"})
    assert _found(r) == [("E-COLUMN-MISSING", "C13")]
    assert "实际完成值" in r.findings[0].message


def test_typed_total_as_text_and_with_errors(tmp_path):
    assert _found(_check(tmp_path, {"I25": "98.5分"})) == [("W-TOTAL-DIFF", "I25")]
    r = _check(tmp_path, {"I25": 90, "H14": 0})
    assert ("W-TOTAL-DIFF", "I25") in _found(r) and "暂估" in [f for f in r.findings if f.code == "W-TOTAL-DIFF"][0].message


@pytest.mark.parametrize("value", ["79.4千元", "0.000794亿元", "7.94万", "79400元"])
def test_money_units_in_the_funds_block(tmp_path, value):
    r = _check(tmp_path, {"E7": value})
    assert r.findings == [] and r.score.execution_rate == 100


@pytest.mark.parametrize("value", ["5元", "5%"])
def test_a_weight_is_not_money_or_a_percentage(tmp_path, value):
    assert _found(_check(tmp_path, {"H14": value})) == [("E-NUMBER-TEXT", "H14")]


def test_completion_date_typed_as_a_day_count(tmp_path):
    # 45560 is 2024-09-25 in Excel's day count: before the 2024-12-31 deadline
    r = _check(tmp_path, {"D18": None, "E18": "2024-12-31", "F18": None, "G18": 45560})
    assert _found(r) == [("I-DATE-SERIAL", "G18")] and "2024-09-25" in r.findings[0].message
    assert r.score.rows.set_index("row").loc[18, "score"] == 6


def test_a_grade_that_is_not_one_of_the_three_says_so(tmp_path):
    r = _check(tmp_path, {"G22": "待定"})
    assert "“待定”不是规定的完成等级" in r.findings[0].message


# -- issue 10: money cells, layouts and strict JSON -------------------------------------------


def test_point1_text_typed_after_an_apostrophe_is_not_a_formula(tmp_path):
    def edit(ws):
        for address, text in (("D14", "="), ("E14", "=800"), ("D18", "="), ("E18", "=100%")):
            ws[address] = text
            ws[address].data_type = "s"  # a text cell, as Excel stores `'=800`
        ws["F18"] = None
    r = _check_wb(tmp_path, edit)
    assert [f for f in r.findings if f.severity == "error"] == []
    rows = r.score.rows.set_index("row")
    assert tuple(rows.loc[14, ["operator", "target", "actual", "score"]]) == ("＝", 800, 1015, 4.39)  # 6 × (1 − 215/800)
    assert tuple(rows.loc[18, ["operator", "target", "actual", "unit", "score"]]) == ("＝", 100, 100, "%", 6)


@pytest.mark.parametrize("dash", ["—", "-", "/", "无", "— — —"])
def test_point11_money_cells_written_as_a_dash_mean_none(tmp_path, dash):
    r = _check(tmp_path, {"D9": dash, "E9": dash, "F9": dash, "D10": dash})
    assert r.findings == [] and r.score.execution_rate == 100


def test_point11_funds_block_in_yuan(tmp_path):
    changes = {"A6": "项目资金（元）"}
    for col in "DEF":
        changes[f"{col}7"] = changes[f"{col}8"] = 79400
    r = _check(tmp_path, changes)
    assert _found(r) == [("I-MONEY-UNIT", "A6")]
    ex = r.validated.execution
    assert (ex.budget, ex.spent, r.score.execution_rate, r.score.execution_score) == (7.94, 7.94, 100, 10)


def test_point12_framework_money_labels_in_one_row_and_amounts_below(tmp_path):
    from .conftest import SEED001

    def edit(ws):
        for address in ("B7", "B8", "B9", "D8", "E8", "F8", "G8", "H8", "G9", "H9"):
            ws[address] = None
        ws["G19"], ws["G20"] = 100, 100  # rates typed (openpyxl keeps no cached results of the formulas)
    r = _check_wb(tmp_path, edit, SEED001)
    assert r.findings == []
    ex = r.validated.execution
    assert (ex.budget, ex.received, ex.spent) == (7.94, 7.94, 7.94) and r.score.total == 99


def test_point12_breakdown_rows_without_a_weight_are_shown_not_scored(tmp_path):
    r = _check(tmp_path, {"C16": "其中：女性学员", "D16": "≥", "E16": 20, "F16": "人", "G16": 25, "H16": None, "I16": None,
                          "H15": 12, "I15": 12})
    assert _found(r) == [("I-SUB-ROW", "C16")]
    rows = r.score.rows.set_index("row")
    assert rows.loc[16, "kind"] == "sub" and rows.loc[16, "score"] != rows.loc[16, "score"]  # NaN: not scored
    assert r.score.total == 100 and r.score.grade == "优"


def test_point12_level1_labels_written_otherwise(tmp_path):
    assert _check(tmp_path, {"A22": "效果指标"}).findings == []  # = 效益指标 (30分)
    from .conftest import SEED001

    def edit(ws):
        ws["A13"] = "项目决策(20分)"
        ws["G19"], ws["G20"] = 100, 100
    assert _check_wb(tmp_path, edit, SEED001).findings == []


def test_point12_level2_with_extra_words_and_extra_columns(tmp_path):
    changes = {"B24": "服务对象满意度指标等", "K13": "权重占比", "L13": "折算得分", "M13": "指标解释"}
    for row in range(14, 25):
        changes.update({f"K{row}": "6%", f"L{row}": 5.5, f"M{row}": "按年度统计"})
    r = _check(tmp_path, changes)
    assert r.findings == [] and r.score.total == 100
    assert r.form.columns["weight"] == "H" and r.form.columns["score"] == "I"


def _with_cached(source, tmp_path, address: str, cached: str):
    """A copy of `source` where `address` is a formula whose cached result is `cached` (NaN)."""
    import re
    import zipfile

    wb = openpyxl.load_workbook(source)
    wb["自评表"][address] = "=7.94*1"
    staged = tmp_path / "staged.xlsx"
    wb.save(staged)
    path = tmp_path / "nan.xlsx"
    with zipfile.ZipFile(staged) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                text = data.decode("utf-8")
                text, n = re.subn(rf'(<c r="{address}"[^>]*>)<f>7.94\*1</f><v\s*/?>(?:</v>)?', rf"\1<f>7.94*1</f><v>{cached}</v>", text)
                assert n == 1
                data = text.encode("utf-8")
            zout.writestr(info, data)
    return path


def test_point14_json_is_strict_even_when_a_cached_value_is_nan(tmp_path):
    import json

    from .conftest import run_cli

    path = _with_cached(BASE, tmp_path, "E7", "NaN")
    r = check_file(path)
    assert _found(r) == [("E-NUMBER-TEXT", "E7")]

    def refuse(constant):
        raise ValueError(f"not strict JSON: {constant}")

    for command in (["check", "--json", str(path)], ["score", "--json", "-o", str(tmp_path / "out"), str(path)]):
        done = run_cli(*command)
        assert done.returncode == 1, done.stderr
        data = json.loads(done.stdout, parse_constant=refuse)
        # a number no spreadsheet holds is kept as the text the file has, so the message can show it
        assert data[0]["findings"][0]["code"] == "E-NUMBER-TEXT" and data[0]["findings"][0]["value"] == "NaN"


def test_point14_plain_values_for_json():
    import math

    import numpy as np

    from perfeval_xlsx.rules.findings import dumps, plain

    assert plain({"a": float("nan"), "b": [np.float64("inf"), np.int64(3), 2.5], "c": (None, "x")}) == \
        {"a": None, "b": [None, 3, 2.5], "c": [None, "x"]}
    assert dumps({"total": math.nan, "名称": "表"}) == '{"total": null, "名称": "表"}'


def test_a_400_digit_target_is_named_at_its_cell_not_an_internal_error(tmp_path):
    # a damaged cost target (the cell as text: too long for any number) against the bare actual 2
    # used to reach a unit guess dividing by infinity (E-INTERNAL)
    for value in ("9" * 400, "≤" + "9" * 400 + "万元"):
        assert _found(_check(tmp_path, {"E19": value})) == [("E-TARGET-INVALID", "E19")]
