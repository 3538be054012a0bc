"""The one parser of indicator values (scoring-rules.md §7)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from perfeval_xlsx.reading.values import (
    EQ, GE, GT, LE, LT, chinese_number, normalize_label, parse_operator_cell, parse_value, split_unit,
)


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
