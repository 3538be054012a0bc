"""Each rule of scoring-rules.md §4–§8, with inputs and the hand-computed result.

Most cases go end to end: a form is written with one indicator changed, then read, validated
and scored, so the parser, the validator and the rule engine are all on the path.
"""

from __future__ import annotations

import copy
from datetime import date

import pytest

from perfeval_xlsx.check import check_file
from perfeval_xlsx.forms.content import content_from_dict, load_definition
from perfeval_xlsx.numbers import round_half_up
from perfeval_xlsx.output.template import write_form
from perfeval_xlsx.rules.profile import load_profile, profile_from_dict

from .conftest import SAMPLES, SEED000, SEED001

BASE = load_definition(SAMPLES / "definitions" / "broken" / "_base.toml")
# base rows: 0 书籍配发 ≥800本 W6 | 1 培训人数 ≥40人 W6 | 2 培训班 ≥1期 W6 | 3 培训率 ≥85% W6 |
# 4 及时率 ＝100% W6 | 5 培训班费用 ≤2万元 W6 | 6 书籍费 ≤4万元 W7 | 7 资料费 ≤1.94万元 W7 |
# 8 有效提高 定性 W15 | 9 覆盖率 ≥90% W15 | 10 满意度 ≥85% W10; funds 7.94/7.94, W10.


def _form(tmp_path, row: int, profile=None, name="t.xlsx", funds=None, **changes):
    data = copy.deepcopy(BASE)
    data["indicators"][row].update(changes)
    if funds:
        data["funds"][0].update(funds)
    path = tmp_path / name
    write_form(content_from_dict(data), path)
    return check_file(path, profile)


def _row(result, row: int):
    return result.score.rows.iloc[row]


def _codes(result, severity=None):
    return [f.code for f in result.findings if severity is None or f.severity == severity]


# -- 正向 (≥ ＞) ------------------------------------------------------------------------------

def test_positive_met_scores_full(tmp_path):
    r = _form(tmp_path, 0, actual=1015, score=6)  # 1015 ≥ 800
    assert _row(r, 0)["score"] == 6 and r.findings == []


def test_positive_missed_scores_in_proportion(tmp_path):
    r = _form(tmp_path, 0, actual=600, score=4.5, reason="书籍到货延迟")
    assert _row(r, 0)["score"] == 4.5  # 6 × 600/800
    assert _row(r, 0)["completion"] == 75.0
    assert r.score.total == 98.5  # 100 − 1.5
    assert r.findings == []


def test_strictly_greater_is_scored_like_at_least(tmp_path):
    r = _form(tmp_path, 1, operator="＞", actual=30, score=4.5, reason="疫情")
    assert _row(r, 1)["score"] == 4.5  # 6 × 30/40


def test_positive_with_zero_target(tmp_path):
    r = _form(tmp_path, 2, target=0, actual=0, score=6)
    assert _row(r, 2)["score"] == 6  # T = 0 with ≥: A ≥ 0 → W


# -- 反向 (≤ ＜) ------------------------------------------------------------------------------

@pytest.mark.parametrize("actual,expected,rule_part", [
    (1.8, 6, "未超过指标值"),       # A ≤ T
    (2, 6, "未超过指标值"),
    (2.5, 4.5, "超出目标25%"),      # 6 × (1 − 0.5/2)
    (3, 3, "超出目标50%"),          # 1.5T: 6 × (1 − 1/2)
    (3.9, 0.3, "按线性扣减"),       # 6 × (1 − 1.9/2) = 0.3
    (4, 0, "2倍及以上"),            # 2T
    (5, 0, "2倍及以上"),            # beyond
])
def test_reverse_linear(tmp_path, actual, expected, rule_part):
    r = _form(tmp_path, 5, actual=actual, score=expected, reason="超支说明")
    row = _row(r, 5)
    assert row["score"] == expected
    assert rule_part in row["rule"]


@pytest.mark.parametrize("actual,expected", [(1.8, 6), (2.5, 4.8), (3, 4), (4, 3), (5, 2.4)])
def test_reverse_ratio_rule(tmp_path, actual, expected):
    data = load_profile("mof-2020")
    ratio = profile_from_dict({**_profile_dict(), "rules": {**_profile_dict()["rules"], "reverse_rule": "ratio"}})
    assert ratio.reverse_rule == "ratio" and data.reverse_rule == "linear"
    r = _form(tmp_path, 5, profile=ratio, actual=actual, score=expected, reason="超支说明")
    assert _row(r, 5)["score"] == expected  # 6 × 2/A


def test_reverse_with_zero_target(tmp_path):
    assert _row(_form(tmp_path, 5, target=0, actual=0, score=6), 5)["score"] == 6
    assert _row(_form(tmp_path, 5, name="b.xlsx", target=0, actual=0.1, score=0, reason="发生少量费用"), 5)["score"] == 0


def test_cost_exceeded_but_self_scored_full(tmp_path):
    r = _form(tmp_path, 5, actual=2.5, score=6, reason="参训人数增加")
    assert _row(r, 5)["score"] == 4.5
    assert _codes(r) == ["W-SELF-SCORE"]
    assert "应为 4.5 分" in r.findings[0].message


# -- 等于 (＝) --------------------------------------------------------------------------------

@pytest.mark.parametrize("actual,expected", [(100, 6), (90, 5.4), (110, 5.4), (40, 2.4), (250, 0)])
def test_equal(tmp_path, actual, expected):
    r = _form(tmp_path, 4, actual=actual, score=expected, reason="偏差说明")
    assert _row(r, 4)["score"] == expected  # 6 × max(0, 1 − |A − 100|/100)


def test_equal_within_tolerance(tmp_path):
    tolerant = profile_from_dict({**_profile_dict(), "rules": {**_profile_dict()["rules"], "equal_tolerance": 1}})
    assert _row(_form(tmp_path, 4, profile=tolerant, actual=99.2, score=6), 4)["score"] == 6
    assert _row(_form(tmp_path, 4, name="b.xlsx", actual=99.2, score=5.95, reason="x"), 4)["score"] == 5.95  # 6 × 0.992 = 5.952


def test_equal_with_zero_target(tmp_path):
    assert _row(_form(tmp_path, 4, target=0, actual=0, score=6), 4)["score"] == 6
    assert _row(_form(tmp_path, 4, name="b.xlsx", target=0, actual=3, score=0, reason="x"), 4)["score"] == 0


# -- over-completion ------------------------------------------------------------------------

def test_overshoot_with_reason_is_fine(tmp_path):
    r = _form(tmp_path, 1, actual=62)  # 155% of 40, the base row carries the report's reason
    assert _row(r, 1)["score"] == 6 and r.findings == []
    assert "超计划较大（完成率155%），已说明原因" in _row(r, 1)["rule"]


def test_overshoot_without_reason_warns(tmp_path):
    r = _form(tmp_path, 1, actual=62, reason="")
    assert _codes(r) == ["W-OVERSHOOT"]
    assert r.findings[0].cell == "J15" and "超计划较大，请说明原因" in r.findings[0].message
    assert _row(r, 1)["score"] == 6  # no deduction by default


def test_overshoot_just_below_the_ratio(tmp_path):
    r = _form(tmp_path, 1, actual=51.9, reason="")  # 129.75% < 130%
    assert r.findings == []


def test_overshoot_deduction_when_set(tmp_path):
    deducting = profile_from_dict({**_profile_dict(), "rules": {**_profile_dict()["rules"], "overshoot_deduction": 0.1}})
    assert _row(_form(tmp_path, 1, profile=deducting, actual=62, reason="", score=5.4), 1)["score"] == 5.4  # 6 − 0.6
    assert _row(_form(tmp_path, 1, name="b.xlsx", profile=deducting, actual=62, score=6), 1)["score"] == 6  # explained


# -- percentages and units ------------------------------------------------------------------

def test_fraction_in_a_percent_cell_and_bare_fraction(tmp_path):
    # 0.904 typed bare against an 85% target: read as 90.4% with a warning
    r = _form(tmp_path, 3, actual=0.904)
    assert _row(r, 3)["actual"] == pytest.approx(90.4) and _row(r, 3)["score"] == 6
    assert _codes(r) == ["W-PERCENT-AMBIGUOUS"]
    # 0.8 → 80% of 85%: 6 × 80/85 = 5.647… → 5.65
    r = _form(tmp_path, 3, name="b.xlsx", actual=0.8, score=5.65, reason="部分党务工作者因工作冲突未参训")
    assert _row(r, 3)["score"] == 5.65
    # 90.4 with % in the text
    r = _form(tmp_path, 3, name="c.xlsx", actual="90.4%")
    assert _row(r, 3)["actual"] == pytest.approx(90.4) and r.findings == []


def test_money_in_yuan_against_wan_yuan(tmp_path):
    r = _form(tmp_path, 5, actual="19400元")  # 1.94万元 ≤ 2万元
    assert _row(r, 5)["actual"] == pytest.approx(1.94) and _row(r, 5)["score"] == 6
    r = _form(tmp_path, 5, name="b.xlsx", actual="25000元", score=4.5, reason="场地费上涨")
    assert _row(r, 5)["score"] == 4.5  # 2.5万元: 6 × (1 − 0.25)


def test_unit_families_that_do_not_convert(tmp_path):
    r = _form(tmp_path, 1, actual="3万元")
    assert _codes(r) == ["E-UNIT-MISMATCH"] and r.score.grade == "待更正"


def test_unit_synonyms(tmp_path):
    r = _form(tmp_path, 0, actual="1015册")  # target in 本
    assert _row(r, 0)["score"] == 6 and _codes(r) == ["I-UNIT-SYNONYM"]


# -- dates (时效) -----------------------------------------------------------------------------

def test_on_time_and_late_dates(tmp_path):
    r = _form(tmp_path, 4, operator="", target="2024年12月31日前", unit="", actual=date(2024, 9, 25))
    assert _row(r, 4)["score"] == 6 and r.findings == []
    # 30 days late on a 31 December deadline: 6 × (1 − 30/366) (2024 is a leap year) = 5.508… → 5.51
    r = _form(tmp_path, 4, name="b.xlsx", operator="", target="2024-12-31", unit="", actual="2025-01-30",
              score=5.51, reason="年底集中采购，验收推迟")
    assert _row(r, 4)["score"] == 5.51
    assert "逾期30天" in _row(r, 4)["rule"]


def test_late_date_without_reason_warns(tmp_path):
    # deadline 30 June 2024 (day 182), done 18 July: 6 × (1 − 18/182) = 5.4065… → 5.41
    r = _form(tmp_path, 4, operator="", target="6月底前", unit="", actual="2024年7月18日", score=5.41)
    assert _row(r, 4)["score"] == 5.41
    assert _codes(r) == ["W-REASON-MISSING"]


# -- 定性 --------------------------------------------------------------------------------------

@pytest.mark.parametrize("actual,score,expected,codes", [
    ("达成", None, 15, []),                       # blank self-score with 达成: W
    ("达成", 13.5, 13.5, ["W-REASON-MISSING"]),   # 90% of 15, inside 80–100%; not full: reason needed
    ("达成年度指标", 12, 12, ["W-REASON-MISSING"]),  # 80% (含)
    ("部分达成", 10.5, 10.5, ["W-REASON-MISSING"]),  # 70%: inside 60–80%, not full: reason needed
    ("部分达成", None, 9, ["E-QUAL-SCORE-MISSING", ]),  # must self-score; counted at the band floor 60%
    ("部分达成", 12, 9, ["E-QUAL-SCORE-BAND"]),   # 80% belongs to 达成
    ("未达成", 3, 3, ["W-REASON-MISSING"]),       # 20%
    ("达成", 10, 15, ["E-QUAL-SCORE-BAND"]),      # 66.7% is not 达成
    ("完全达到预期", None, 15, ["I-QUAL-SYNONYM"]),
    ("有效提高", None, 15, ["I-QUAL-ECHO"]),      # repeats the target: 达成
    ("工作成效明显", 15, None, ["E-QUAL-GRADE"]),
])
def test_qualitative(tmp_path, actual, score, expected, codes):
    r = _form(tmp_path, 8, actual=actual, score=score)
    row = _row(r, 8)
    assert (None if row["score"] != row["score"] else row["score"]) == expected
    assert _codes(r) == codes


def test_seed001_partial_judgment_row():
    r = check_file(SEED001)
    row = r.score.rows.set_index("level3").loc["资金分配合理性"]
    assert (row["grade"], row["weight"], row["score"]) == ("部分达成", 3, 2)


# -- not applicable -------------------------------------------------------------------------

def test_not_applicable_rescales(tmp_path):
    # 覆盖率 (W15) not applicable; 书籍配发 missed: 6 × 600/800 = 4.5.
    data = copy.deepcopy(BASE)
    data["indicators"][9].update(target="不适用", actual=None, score=None)
    data["indicators"][0].update(actual=600, score=4.5, reason="到货延迟")
    write_form(content_from_dict(data), tmp_path / "na.xlsx")
    r = check_file(tmp_path / "na.xlsx")
    # scored: 100 − 15 − 1.5 = 83.5 of 85 → 83.5 / 85 × 100 = 98.235… → 98.24
    assert r.score.total == 98.24 and r.score.grade == "优"
    assert _codes(r) == ["I-NOT-APPLICABLE"]


def test_not_applicable_refused_by_profile(tmp_path):
    strict = profile_from_dict({**_profile_dict(), "rules": {**_profile_dict()["rules"], "na_policy": "error"}})
    r = _form(tmp_path, 9, profile=strict, target="不适用", actual=None, score=None)
    assert _codes(r) == ["E-NOT-APPLICABLE"] and r.score.grade == "待更正"


# -- budget execution (§4) -------------------------------------------------------------------

def test_seed000_execution():
    r = check_file(SEED000)
    assert (r.score.execution_rate, r.score.execution_score) == (83.69, 4.18)  # 5 × 267.81/320 = 4.1845…


def test_over_budget_is_capped_with_a_warning(tmp_path):
    r = _form(tmp_path, 0, funds={"spent": 8.5})  # 8.5 / 7.94 = 107.05%
    assert r.score.execution_rate == 107.05 and r.score.execution_score == 10
    assert _codes(r) == ["W-OVER-BUDGET"]


def test_execution_below_budget(tmp_path):
    r = _form(tmp_path, 0, funds={"spent": 6.5, "score": 8.19})  # 10 × 6.5/7.94 = 8.186… → 8.19
    assert r.score.execution_score == 8.19 and r.findings == []


def test_missing_budget(tmp_path):
    r = _form(tmp_path, 0, funds={"budget": None})
    assert "E-BUDGET-MISSING" in _codes(r)


# -- grades and rounding (§5, §8) ----------------------------------------------------------

def test_grade_bands_at_their_edges():
    mof, fw = load_profile("mof-2020"), load_profile("framework-70")
    assert mof.grade_for(round_half_up(89.995)) == "优"  # shown as 90.00
    assert mof.grade_for(89.99) == "良"
    assert mof.grade_for(90) == "优" and mof.grade_for(80) == "良" and mof.grade_for(79.99) == "中"
    assert mof.grade_for(70) == "中" and mof.grade_for(69.99) == "中"
    assert mof.grade_for(60) == "中" and mof.grade_for(59.99) == "差"
    assert fw.grade_for(90) == "优" and fw.grade_for(89.99) == "良"
    assert fw.grade_for(70) == "中" and fw.grade_for(69.99) == "差"


def test_rounding_half_up():
    assert round_half_up(4.185) == 4.19  # Python's round() gives 4.18 for this float
    assert round_half_up(2.675) == 2.68
    assert round_half_up(4.18453125) == 4.18
    assert round_half_up(0.005) == 0.01


def test_rounding_half_up_in_a_score(tmp_path):
    # 6 × 837/1000 = 5.022; 5 × 837/1000 = 4.185 → 4.19 (row 1: W6 → use a W5 row)
    r = _form(tmp_path, 9, target=1000, unit="人", actual=837, weight=15, score=12.56, reason="x")
    assert _row(r, 9)["score"] == 12.56  # 15 × 0.837 = 12.555 → 12.56


def test_seed001_scores_every_row_as_the_report():
    r = check_file(SEED001)
    rows = r.score.rows.set_index("level3")
    assert rows["score"].tolist() == rows["self_score"].tolist()  # report's 得分 column, row by row
    assert (r.score.total, r.score.grade, r.score.execution_rate) == (99, "优", 100)


def _profile_dict() -> dict:
    from perfeval_xlsx.rules.profile import tomllib  # tomli on Python 3.10

    from perfeval_xlsx.rules.profile import PROFILE_DIR

    with (PROFILE_DIR / "mof-2020.toml").open("rb") as fh:
        return tomllib.load(fh)


# -- issue 10: each kind of cell seen in published forms, end to end -----------------------------
# Base rows: 0 书籍配发 ≥800本 | 1 培训人数 ≥40人 | 3 培训率 ≥85% | 4 及时率 ＝100% (时效) |
# 5 培训班费用 ≤2万元 (成本) | 8 有效提高 定性 W15 | 10 满意度 ≥85% W10; all others W6.

def _one(r, row):
    x = _row(r, row)
    return x["operator"], x["target"], x["actual"], x["unit"], (None if x["score"] != x["score"] else x["score"])


def test_point1_text_starting_with_equals_is_a_value(tmp_path):
    # written with xlsxwriter's write_string: the cells hold the text `=1015本` and `=`
    r = _form(tmp_path, 0, operator="", target="=1015本", unit="", actual=1015)
    assert _one(r, 0) == ("＝", 1015, 1015, "本", 6) and r.findings == []
    r = _form(tmp_path, 0, name="b.xlsx", operator="=", target=1015, actual=1015)
    assert _one(r, 0) == ("＝", 1015, 1015, "本", 6) and r.findings == []


def test_point1_text_starting_with_equals_after_libreoffice_saves_it(tmp_path, soffice):
    import subprocess

    _form(tmp_path, 0, operator="", target="=1015本", unit="", actual=1015)
    out = tmp_path / "lo"
    done = subprocess.run([soffice, f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}", "--headless", "--norestore",
                           "--convert-to", "xlsx", "--outdir", str(out), str(tmp_path / "t.xlsx")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    r = check_file(out / "t.xlsx")
    assert _one(r, 0)[:2] == ("＝", 1015) and [f.code for f in r.findings if f.severity == "error"] == []


@pytest.mark.parametrize("row,target,actual,expected,score", [
    (3, "═85%", "90.4%", ("＝", 85, 90.4, "%"), 5.62),          # 6 × (1 − 5.4/85) = 5.6188
    (3, "大于或等于85%", "90.4%", ("≥", 85, 90.4, "%"), 6),
    (3, "达到85%以上", "80%", ("≥", 85, 80, "%"), 5.65),          # 6 × 80/85 = 5.647
    (5, "控制在2万元以内", "2.5万元", ("≤", 2, 2.5, "万元"), 4.5),  # 6 × (1 − 0.5/2)
    (5, "≦2万元", "1.5万元", ("≤", 2, 1.5, "万元"), 6),
])
def test_point2_operator_words_and_look_alikes(tmp_path, row, target, actual, expected, score):
    r = _form(tmp_path, row, operator="", target=target, unit="", actual=actual, score=score, reason="偏差说明")
    assert _one(r, row) == (*expected, score)
    assert _codes(r, "error") == []


def test_point3_units_convert_within_the_row(tmp_path):
    r = _form(tmp_path, 1, operator="", target="≥5万人次", unit="", actual="48000人次", score=5.76, reason="x")
    assert _one(r, 1) == ("≥", 5, 4.8, "万人次", 5.76)  # 48000人次 = 4.8万人次: 6 × 0.96
    r = _form(tmp_path, 3, name="b.xlsx", unit="%(百分比)")
    assert _one(r, 3) == ("≥", 85, 90.4, "%", 6) and r.findings == []
    r = _form(tmp_path, 5, name="c.xlsx", operator="", target="≤300元/人·月", unit="", actual="320元/人·月", score=5.6, reason="x")
    assert _one(r, 5) == ("≤", 300, 320, "元/人·月", 5.6)  # 6 × (1 − 20/300)
    r = _form(tmp_path, 5, name="d.xlsx", operator="", target="≤300元/人·月", unit="", actual="3600元/人·年")
    assert _codes(r) == ["E-UNIT-MISMATCH"]  # per year against per month: not converted silently


def test_point3_a_bare_amount_only_plausible_in_another_money_unit(tmp_path):
    r = _form(tmp_path, 5, operator="", target="≤2万元", unit="", actual=19400)
    assert _one(r, 5) == ("≤", 2, 1.94, "万元", 6)  # read as 19400元 = 1.94万元
    assert _codes(r) == ["W-UNIT-ASSUMED"] and "按“元”理解" in r.findings[0].message
    r = _form(tmp_path, 5, name="b.xlsx", operator="", target="≤2万元", unit="", actual=1.94)
    assert _one(r, 5) == ("≤", 2, 1.94, "万元", 6) and r.findings == []


@pytest.mark.parametrize("row,name,target,actual,expected,score,word", [
    (0, "财务核算差错率", "2%", "3%", ("≤", 2, 3, "%"), 3, "差错率"),      # 6 × (1 − 1/2)
    (0, "业务办结时限", "15个工作日", "12个工作日", ("≤", 15, 12, "工作日"), 6, "时限"),
    (5, "政府采购节约率", "5%", "6.3%", ("≥", 5, 6.3, "%"), 6, "节约率"),  # a 率 named higher-is-better beats 成本
    (5, "资金支付率", "90%", "85%", ("≥", 90, 85, "%"), 5.67, "支付率"),  # 6 × 85/90 = 5.667
    (0, "事故隐患整改率", "95%", "97%", ("≥", 95, 97, "%"), 6, "整改率"),  # the word ending last decides, not 事故
    (5, "人均培训支出", "500元", "620元", ("≤", 500, 620, "元"), 4.56, "二级指标“成本指标”"),  # 6 × (1 − 120/500)
    (0, "人均培训成本", "500元", "620元", ("≤", 500, 620, "元"), 4.56, "名称中的“成本”"),  # under 数量指标
])
def test_point4_direction_from_the_indicators_name(tmp_path, row, name, target, actual, expected, score, word):
    r = _form(tmp_path, row, level3=name, operator="", target=target, unit="", actual=actual, score=score, reason="x")
    assert _one(r, row) == (*expected, score)
    assert _codes(r) == ["I-OPERATOR-DEFAULT"] and word in r.findings[0].message


def test_point4_a_payment_standard_below_its_amount_is_asked(tmp_path):
    r = _form(tmp_path, 5, level3="培训补贴标准", operator="", target="3000元/人", unit="", actual="2600元/人")
    assert _one(r, 5) == ("≤", 3000, 2600, "元/人", 6)
    assert sorted(_codes(r)) == ["I-OPERATOR-DEFAULT", "W-OPERATOR-UNSURE"]


@pytest.mark.parametrize("target,actual,score", [("0起", "1起", 0), ("0", "0", 6), ("无", "无", 6), ("无", "1起", 0),
                                                  ("0投诉", "2次", 0)])
def test_point5_zero_targets_mean_none_may_happen(tmp_path, target, actual, score):
    r = _form(tmp_path, 0, level3="安全事故发生次数", operator="", target=target, unit="", actual=actual, score=score,
              reason="发生说明")
    x = _row(r, 0)
    assert (x["operator"], x["target"], x["actual"], x["score"]) == ("≤", 0, float(actual[0]) if actual[0].isdigit() else 0, score)
    assert _codes(r) == ["I-OPERATOR-DEFAULT"]


def test_point5_none_outside_an_incident_row_is_not_applicable(tmp_path):
    r = _form(tmp_path, 9, level3="对生态环境的影响", operator="", target="无", unit="", actual="无", score=None)
    assert _row(r, 9)["kind"] == "na" and _codes(r) == ["I-NOT-APPLICABLE"]
    assert r.score.total == 100  # 85 of the other 85 分, rescaled
    r = _form(tmp_path, 9, name="b.xlsx", operator="", target="不适用", unit="", actual="100%", score=None)
    assert sorted(_codes(r)) == ["I-NOT-APPLICABLE", "W-NA-VALUE"]


@pytest.mark.parametrize("target,actual,score,grade,code", [
    ("有效提高", "未全部完成", 10.5, "部分达成", "I-QUAL-SYNONYM"),   # 9–12 is the 部分达成 band of 15
    ("有效提高", "已完成部分工作", 9, "部分达成", "I-QUAL-SYNONYM"),
    ("有效提高", "达成（部分）", 11, "部分达成", "I-QUAL-SYNONYM"),
    ("有效提高", "尚未完成", 4.5, "未达成", "I-QUAL-SYNONYM"),
    ("按期完成", "未能按期完成", 10, "部分达成", "I-QUAL-SYNONYM"),
    ("是", "否", 0, "未达成", "I-QUAL-BINARY"),
    ("及时", "不及时", 3, "未达成", "I-QUAL-BINARY"),
    ("有", "无", 2, "未达成", "I-QUAL-BINARY"),
    ("优良中低差", "中", 10.5, "部分达成", "I-QUAL-BINARY"),
    ("优良中低差", "良", None, "达成", "I-QUAL-BINARY"),
    ("充分", "100%", None, "达成", "I-QUAL-PERCENT"),
    ("改善条件", "明显改善", None, "达成", "I-QUAL-PARAPHRASE"),
])
def test_point6_qualitative_outcomes_with_qualifiers(tmp_path, target, actual, score, grade, code):
    r = _form(tmp_path, 8, target=target, actual=actual, score=score, reason="说明")
    x = _row(r, 8)
    assert (x["grade"], x["score"]) == (grade, 15 if score is None else score)
    assert _codes(r) == [code]


@pytest.mark.parametrize("actual,conflict", [("已完成，但部分工作未完成", "已完成"), ("有所提高", None), ("推进中", None)])
def test_point6_an_ambiguous_outcome_asks_for_one_of_the_three_grades(tmp_path, actual, conflict):
    r = _form(tmp_path, 8, target="显著提高", actual=actual, score=12)
    assert _codes(r) == ["E-QUAL-GRADE"]
    message = r.findings[0].message
    assert "“达成”“部分达成”“未达成”" in message and (conflict is None or conflict in message)


@pytest.mark.parametrize("target,actual,score,codes", [
    ("上半年", "2024年7月15日", 5.51, ["I-DATE-READ"]),     # 30 June is day 182 of 2024: 6 × (1 − 15/182) = 5.505
    ("1-12月", "已按期完成", 6, ["I-DATE-READ", "I-ONTIME"]),
    ("第三季度", "2024年9月20日", 6, ["I-DATE-READ"]),
    ("年底前", "第四季度", 6, ["I-DATE-READ"]),               # the whole quarter is before the deadline
    ("1年", "年内完成", 6, ["I-DATE-READ", "I-DATE-READ"]),
    ("三季度末", "第四季度", None, ["E-DATE-VAGUE", "I-DATE-READ"]),  # late, but by how many days?
    ("2021.1.1-12.31", "2024年12月20日", 0, ["W-DATE-YEAR", "I-DATE-READ"]),  # an old target copied
])
def test_point7_periods_and_completion_texts(tmp_path, target, actual, score, codes):
    r = _form(tmp_path, 4, operator="", target=target, unit="", actual=actual, score=score, reason="说明")
    x = _row(r, 4)
    assert (None if x["score"] != x["score"] else x["score"]) == score
    assert sorted(_codes(r)) == sorted(codes)


def test_point8_ranges_and_approximations(tmp_path):
    r = _form(tmp_path, 3, operator="", target="85%-90%", unit="", actual="80%", score=5.65, reason="x")
    assert _one(r, 3) == ("≥", 85, 80, "%", 5.65) and _codes(r) == ["I-RANGE"]  # 6 × 80/85
    r = _form(tmp_path, 1, name="b.xlsx", operator="", target="约40人", unit="", actual="62人")
    assert _one(r, 1) == ("≥", 40, 62, "人", 6) and _codes(r) == ["I-APPROX-TARGET"]
    r = _form(tmp_path, 1, name="c.xlsx", actual="约60人")
    assert _codes(r) == ["E-ACTUAL-INVALID"] and "约数" in r.findings[0].message


def test_point9_annotated_and_multi_value_cells(tmp_path):
    r = _form(tmp_path, 0, actual="1015本（超额完成）")
    assert _one(r, 0) == ("≥", 800, 1015, "本", 6) and r.findings == []
    r = _form(tmp_path, 10, name="b.xlsx", actual="满意度93%，较上年提高2个百分点")
    assert _one(r, 10) == ("≥", 85, 93, "%", 10) and r.findings == []
    r = _form(tmp_path, 2, name="c.xlsx", actual="完成1期培训")
    assert _one(r, 2) == ("≥", 1, 1, "期", 6) and r.findings == []
    r = _form(tmp_path, 2, name="d.xlsx", actual="培训1期，参训62人")
    assert _codes(r) == ["E-TWO-VALUES"] and "请只填写本指标的完成值" in r.findings[0].message


def test_point10_a_fraction_target_against_a_percentage(tmp_path):
    r = _form(tmp_path, 3, operator="", target="≥0.85", unit="", actual="90.4%")
    assert _one(r, 3) == ("≥", 85, 90.4, "%", 6) and _codes(r) == ["W-PERCENT-AMBIGUOUS"]


def test_reading_tables_are_profile_data_with_defaults_and_named_errors():
    """Every reading decision is a table of the profile; a profile without one uses mof-2020's,
    a bad one is a ProfileError naming the field."""
    from perfeval_xlsx.errors import ProfileError
    from perfeval_xlsx.reading.values import LE
    from perfeval_xlsx.rules.interpret import direction

    base = {k: v for k, v in _profile_dict().items() if k not in ("direction", "reading", "qualitative", "units")}
    plain = profile_from_dict(base)
    assert plain.reading == load_profile("mof-2020").reading  # the shipped tables
    assert load_profile("framework-70").reading == plain.reading
    own = profile_from_dict({**base, "direction": {"lower": ["到期率"], "higher": []}})
    assert direction("贷款到期率", "质量指标", "%", own) == (LE, "名称中的“到期率”")
    assert direction("财务核算差错率", "质量指标", "%", own)[0] == "≥"  # its own table replaces mof-2020's
    with pytest.raises(ProfileError, match="direction.lower"):
        profile_from_dict({**base, "direction": {"lower": "差错率"}})
    with pytest.raises(ProfileError, match="qualitative.binary.pairs"):
        profile_from_dict({**base, "qualitative": {"binary": {"pairs": [["是"]]}}})
    with pytest.raises(ProfileError, match="weights.level1_aliases"):
        profile_from_dict({**base, "weights": {**base["weights"], "level1_aliases": {"效果": "效应"}}})
