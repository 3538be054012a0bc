"""The one parser of indicator values (scoring-rules.md §7)."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest

from perfeval_xlsx.reading.values import (
    EQ,
    GE,
    GT,
    LE,
    LT,
    chinese_number,
    clean_unit,
    normalize_label,
    parse_operator_cell,
    parse_value,
    split_unit,
)
from perfeval_xlsx.rules.profile import load_profile


@pytest.mark.parametrize("text,op,number,unit", [
    ("≥800本", GE, 800, "本"),
    ("≤2万元", LE, 2, "万元"),
    ("=100%", EQ, 100, "%"),
    ("≥85%", GE, 85, "%"),
    ("＞＝８５％", GE, 85, "%"),  # full-width: NFKC gives >=85%
    ("≧40人", GE, 40, "人"),
    ("≦1.94万元", LE, 1.94, "万元"),
    ("> 3 次", GT, 3, "次"),
    ("<5天", LT, 5, "天"),
    ("不少于40人", GE, 40, "人"),
    ("不低于90%", GE, 90, "%"),
    ("至少1期", GE, 1, "期"),
    ("不超过2万元", LE, 2, "万元"),
    ("控制在4万元以内", LE, 4, "万元"),
    ("40人以上", GE, 40, "人"),
    ("1,015", None, 1015, ""),
    ("1015.0", None, 1015, ""),
    ("１，０１５本", None, 1015, "本"),
    ("90.4%", None, 90.4, "%"),
    ("90.4％", None, 90.4, "%"),
    ("1.94万", None, 1.94, "万"),
    ("一期", None, 1, "期"),
    ("两次", None, 2, "次"),
    ("十二个", None, 12, "个"),
])
def test_numbers_operators_units(text, op, number, unit):
    p = parse_value(text)
    assert (p.kind, p.operator, p.number, p.unit) == ("number", op, number, unit)


def test_approximate_count_is_read_with_a_note():
    p = parse_value("800余册")
    assert (p.kind, p.number, p.unit, p.approx) == ("number", 800, "册", True)
    assert [code for code, _ in p.notes] == ["I-APPROX"]


def test_percent_formatted_cell_is_read_in_percent():
    assert parse_value(0.904, "0.0%").number == pytest.approx(90.4)
    assert parse_value(0.904, "0.0%").unit == "%"
    assert parse_value(0.904, "General").number == 0.904  # bare: ambiguous, decided by the validator


@pytest.mark.parametrize("text,year,expected", [
    ("2024年12月31日", None, date(2024, 12, 31)),
    ("2024年12月31日前", None, date(2024, 12, 31)),
    ("2024-12-31", None, date(2024, 12, 31)),
    ("2024.12.31", None, date(2024, 12, 31)),
    ("2024/6/30", None, date(2024, 6, 30)),
    ("2024年6月", None, date(2024, 6, 30)),
    ("12月底", 2024, date(2024, 12, 31)),
    ("6月底前", 2023, date(2023, 6, 30)),
    ("年底前", 2024, date(2024, 12, 31)),
    ("9月25日", 2024, date(2024, 9, 25)),
])
def test_dates(text, year, expected):
    p = parse_value(text, year=year)
    assert (p.kind, p.date, p.operator) == ("date", expected, LE)


def test_date_cells_and_year_needed_for_month_only():
    assert parse_value(datetime(2024, 9, 25)).date == date(2024, 9, 25)
    assert parse_value("12月底").kind == "text"  # no year: not a date


@pytest.mark.parametrize("text,grade,description", [
    ("达成", "达成", ""),
    ("达成年度指标", "达成", ""),
    ("达成，完全达到预期", "达成", "完全达到预期"),
    ("部分达成", "部分达成", ""),
    ("部分达成年度指标并具有一定效果", "部分达成", ""),
    ("未达成年度指标且效果较差", "未达成", ""),
    ("未达成：受疫情影响", "未达成", "受疫情影响"),
])
def test_grades(text, grade, description):
    p = parse_value(text)
    assert (p.kind, p.grade, p.description) == ("grade", grade, description)


def test_grade_synonym_is_read_with_a_note():
    p = parse_value("完全达到预期", grade_synonyms={"完全达到预期": "达成", "达到预期": "达成"})
    assert (p.kind, p.grade) == ("grade", "达成")
    assert [code for code, _ in p.notes] == ["I-QUAL-SYNONYM"]
    assert parse_value("完全达到预期").kind == "text"  # without the profile's synonyms


@pytest.mark.parametrize("text", ["不适用", "—", "/", "无", "——", "-"])
def test_not_applicable(text):
    assert parse_value(text).kind == "na"


@pytest.mark.parametrize("text", ["有效提高", "约一千本", "效果明显", "严格执行相关制度规定", "十分满意"])
def test_text_is_not_a_number(text):
    assert parse_value(text).kind == "text"


def test_blank_and_numbers():
    assert parse_value(None).kind == "blank"
    assert parse_value("  ").kind == "blank"
    assert parse_value(7.94).number == 7.94


def test_operator_column():
    assert [parse_operator_cell(x) for x in ("≥", ">=", "＞", "＝", "≤", "<", "定性", "正向", "反向", "？")] == \
        [GE, GE, GT, EQ, LE, LT, "定性", GE, LE, None]


def test_units_and_labels():
    assert split_unit("万元") == (1e4, "元")
    assert split_unit("元") == (1.0, "元")
    assert split_unit("万人次") == (1e4, "人次")
    assert split_unit("%") == (1.0, "%")
    assert chinese_number("一百零五") == 105 and chinese_number("三千") == 3000 and chinese_number("两") == 2
    assert normalize_label("产出 指标 (50分 )") == "产出指标"
    assert normalize_label("年初目标值(A)") == "年初目标值"
    assert normalize_label("项目名称：") == "项目名称"


@pytest.mark.parametrize("text,op,number,unit", [
    ("40人及以上", GE, 40, "人"),
    ("90%及以上", GE, 90, "%"),
    ("5天及以下", LE, 5, "天"),
    ("≥85%（含）", GE, 85, "%"),
    ("≤2万元（含）", LE, 2, "万元"),
    ("≥90%（含90%）", GE, 90, "%"),
    ("满意度≥95%", GE, 95, "%"),
    ("≥-5%", GE, -5, "%"),
    ("-1万元", None, -1, "万元"),
])
def test_more_ways_of_writing_targets(text, op, number, unit):
    p = parse_value(text)
    assert (p.kind, p.operator, p.number, p.unit) == ("number", op, number, unit)


@pytest.mark.parametrize("text", ["2024年12月31日之前完成", "年底前完成", "12月底前完成"])
def test_deadlines_ending_in_done(text):
    p = parse_value(text, year=2024)
    assert (p.kind, p.date) == ("date", date(2024, 12, 31))


# -- issue 10: read every cell as a finance officer reads it ------------------------------------
# The word tables come from the profile (mof-2020.toml); expectations are the officer's reading.


WORDS = load_profile("mof-2020").words


def _p(text, year=2024):
    return parse_value(text, year=year, words=WORDS)


@pytest.mark.parametrize("text,op,number,unit", [
    ("═100%", EQ, 100, "%"),  # U+2550, printed as the equals sign by some provinces' systems
    ("﹦95%", EQ, 95, "%"),  # U+FE66 small equals
    ("≧95%", GE, 95, "%"),
    ("≦5万元", LE, 5, "万元"),
    ("大于或等于90%", GE, 90, "%"),
    ("小于或等于5天", LE, 5, "天"),
    ("不低于90%", GE, 90, "%"),
    ("95%以上", GE, 95, "%"),
    ("达到95%以上", GE, 95, "%"),
    ("控制在120万元以内", LE, 120, "万元"),
    ("15%及其以下", LE, 15, "%"),
    ("=12个", EQ, 12, "个"),  # point 1: text typed with a leading = is a value, not a formula
    ("= 120 人", EQ, 120, "人"),
])
def test_point2_operator_look_alikes_and_words(text, op, number, unit):
    p = _p(text)
    assert (p.kind, p.operator, p.number, p.unit) == ("number", op, number, unit)


def test_point2_operator_column_look_alikes():
    assert [parse_operator_cell(x) for x in ("═", "﹦", "≧", "≦", "大于或等于", "=")] == [EQ, EQ, GE, LE, GE, EQ]


@pytest.mark.parametrize("written,unit", [
    ("%(百分比)", "%"), ("百分比", "%"), ("（万元）", "万元"), ("个工作日", "工作日"), ("元/人、天", "元/人·天"),
])
def test_point3_unit_column_words(written, unit):
    assert clean_unit(written, WORDS) == unit


@pytest.mark.parametrize("text,number,unit", [
    ("百分之九十五", 95, "%"),
    ("≥100百分比", 100, "%"),
    ("3577. 95万人次", 3577.95, "万人次"),  # a space inside the number
    ("400元/人、天", 400, "元/人·天"),
    ("300元/人·月", 300, "元/人·月"),
    ("15个工作日", 15, "工作日"),
    ("550万粒", 550, "万粒"),
])
def test_point3_units_as_written(text, number, unit):
    p = _p(text)
    assert (p.kind, p.number, p.unit) == ("number", number, unit)
    assert split_unit("万人次") == (1e4, "人次") and split_unit("万元/人") == (1e4, "元/人")


@pytest.mark.parametrize("text,grade", [
    ("已完成部分工作", "部分达成"), ("达成率不高", "部分达成"), ("达成（部分）", "部分达成"), ("基本完成", "部分达成"),
    ("大部分完成", "部分达成"), ("未全部完成", "部分达成"), ("未能按期完成", "部分达成"),
    ("尚未完成", "未达成"), ("没有完成", "未达成"), ("未完成", "未达成"),
    ("达成", "达成"), ("未达成年度指标且效果较差", "未达成"), ("达成预期指标", "达成"), ("项目已全部完成", "达成"),
])
def test_point6_grade_read_from_the_whole_text(text, grade):
    assert _p(text).grade == grade


@pytest.mark.parametrize("text", ["已完成，但部分工作未完成", "没有按期完成", "推进中", "有所提高", "已完成一半", "完成情况一般"])
def test_point6_no_grade_when_the_text_is_ambiguous_or_says_none(text):
    assert _p(text).grade is None


@pytest.mark.parametrize("text,first,last", [
    ("1-12月", date(2024, 1, 1), date(2024, 12, 31)),
    ("2021.1.1-12.31", date(2021, 1, 1), date(2021, 12, 31)),
    ("2024年1-6月", date(2024, 1, 1), date(2024, 6, 30)),
    ("1年", date(2024, 1, 1), date(2024, 12, 31)),
    ("上半年", date(2024, 1, 1), date(2024, 6, 30)),
    ("第三季度", date(2024, 7, 1), date(2024, 9, 30)),
    ("三季度末", date(2024, 9, 30), date(2024, 9, 30)),
    ("6月底前", date(2024, 6, 30), date(2024, 6, 30)),
    ("年底前", date(2024, 12, 31), date(2024, 12, 31)),
    ("年内完成", date(2024, 1, 1), date(2024, 12, 31)),
    ("2024年12月下旬", date(2024, 12, 21), date(2024, 12, 31)),
    ("第四季度", date(2024, 10, 1), date(2024, 12, 31)),
    ("已于2024年6月28日完成", date(2024, 6, 28), date(2024, 6, 28)),
])
def test_point7_periods_and_durations(text, first, last):
    p = _p(text)
    assert (p.kind, p.date_from, p.date) == ("date", first, last)


def test_point7_on_time_wherever_the_words_stand_and_a_count_is_no_date():
    assert _p("项目已按期完成").kind == "ontime"
    assert _p("未能按期完成").kind == "late"
    p = _p("至少全年完成2次")
    assert (p.kind, p.operator, p.number, p.unit) == ("number", GE, 2, "次")


@pytest.mark.parametrize("text,number,high,unit", [
    ("90%-95%", 90, 95, "%"), ("3-5个", 3, 5, "个"), ("90%～95%", 90, 95, "%"), ("3至5个", 3, 5, "个"),
])
def test_point8_ranges(text, number, high, unit):
    p = _p(text)
    assert (p.kind, p.number, p.high, p.unit) == ("number", number, high, unit)


@pytest.mark.parametrize("text,word", [("约1000人", "约"), ("1000人左右", "左右"), ("800余册", "余")])
def test_point8_approximations_are_marked(text, word):
    p = _p(text)
    assert (p.kind, p.number, p.approx, p.approx_word) == ("number", float(re.sub(r"\D", "", text)), True, word)


@pytest.mark.parametrize("text,number,unit,note", [
    ("1015本（超额完成）", 1015, "本", "超额完成"),
    ("100%（已全部完成）", 100, "%", "已全部完成"),
    ("满意度97%", 97, "%", "满意度"),
    ("97.3%，较上年提高2个百分点", 97.3, "%", "较上年提高2个百分点"),
    ("完成3期培训", 3, "期", "完成培训"),
    ("512人次(含线上)", 512, "人次", "含线上"),
])
def test_point9_annotated_cells_read_the_number_and_keep_the_rest(text, number, unit, note):
    p = _p(text)
    assert (p.kind, p.number, p.unit, p.description) == ("number", number, unit, note)


@pytest.mark.parametrize("text", ["培训3期，参训120人", "20篇，其中省级5篇"])
def test_point9_two_measured_values_in_one_cell(text):
    assert _p(text).kind == "multi"


def test_point9_targets_that_say_what_they_are():
    p = _p("每亩300")
    assert (p.number, p.unit, p.per) == (300, "/亩", True)
    assert _p("每亩300元").unit == "元/亩"
    p = _p("提升10%")
    assert (p.operator, p.number, p.unit, p.soft_operator) == (GE, 10, "%", True)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_point14_nan_and_infinity_are_no_numbers(value):
    assert parse_value(value).kind == "text"


@pytest.mark.parametrize("text", ["9" * 400, "≥" + "9" * 400 + "元", "1e999本", "3-" + "9" * 400 + "个"])
def test_a_number_no_spreadsheet_holds_is_no_number(text):
    # 400 digits is infinity as a float: never a target or an actual to divide by (fuzz, seed 23)
    parsed = parse_value(text)
    assert parsed.kind == "text" and parsed.number is None and parsed.high is None
