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
    ({"F7": None}, [("E-SPENT-MISSING", "F7")]),
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
