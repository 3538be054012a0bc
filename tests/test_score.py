"""`perfeval score`: the scored copy, its summary sheets, and the JSON, read back independently."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from perfeval_xlsx.rules.profile import ProfileError, load_profile, profile_from_dict
from perfeval_xlsx.score import score_file

from .conftest import BASE, SAMPLES, SEED000, SEED001, convert_to_pdf, run_cli, sheet_snapshot

COST = SAMPLES / "broken" / "成本指标超支仍自评满分.xlsx"
REPORT_SCORES = {  # seed 001's table: 三级 → 得分
    "立项依据充分性": 4, "立项程序规范性": 4, "绩效目标合理性": 3, "绩效指标明确性": 3, "预算编制科学性": 3,
    "资金分配合理性": 2, "资金到位率": 5, "预算执行率": 5, "资金使用合规性": 3, "管理制度健全性": 3,
    "制度执行有效性": 4, "商会党建书籍配发": 5, "党务培训班培训人数": 5, "组织党支部开展党务培训班": 5,
    "直属商会党支部党务工作者培训率": 5, "党支部开展党务培训班完成及时率": 5, "党务培训班费用": 5,
    "购买商会党建书籍": 5, "购买学习资料和书籍等费用": 5, "有效提高商会党建各项工作": 10, "服务对象满意度": 10,
}


def _json(*args: str) -> tuple[int, list[dict]]:
    result = run_cli("score", "--json", *args)
    assert "Traceback" not in result.stderr
    return result.returncode, json.loads(result.stdout)


def test_seed001_under_framework_70(tmp_path):
    code, [data] = _json(str(SEED001), "-o", str(tmp_path), "--profile", "framework-70")
    assert code == 0
    assert {i["level3"]: i["score"] for i in data["indicators"]} == REPORT_SCORES
    assert (data["total"], data["grade"], data["execution_rate"]) == (99, "优", 100)
    assert data["findings"] == []  # 62 of 40 (155%) carries its reason: no over-completion warning
    training = next(i for i in data["indicators"] if i["level3"] == "党务培训班培训人数")
    assert "超计划较大（完成率155%），已说明原因" in training["rule"]


def test_seed000_execution_score(tmp_path):
    code, [data] = _json(str(SEED000), "-o", str(tmp_path))
    assert code == 0  # warnings only
    assert (data["execution_rate"], data["execution_score"]) == (83.69, 4.18)
    assert data["total"] == 97.58 and data["grade"] == "优"


def test_json_shape(tmp_path):
    _, [data] = _json(str(COST), "-o", str(tmp_path))
    assert set(data) >= {"file", "status", "project", "findings", "execution_rate", "execution_score", "total",
                         "grade", "indicators", "output"}
    assert set(data["indicators"][0]) >= {"sheet", "row", "level1", "level2", "level3", "operator", "target", "actual",
                                          "unit", "weight", "self_score", "score", "rule"}
    cost = next(i for i in data["indicators"] if i["level3"] == "党务培训班费用")
    assert (cost["operator"], cost["target"], cost["actual"], cost["unit"], cost["weight"], cost["self_score"], cost["score"]) == \
        ("≤", 2, 2.5, "万元", 6, 6, 4.5)
    assert cost["rule"] == "反向指标：超出目标25%，按线性扣减"
    assert data["total"] == 98.5  # 100 − (6 − 4.5)


def test_scored_copy_read_back_matches_json(tmp_path):
    _, [data] = _json(str(COST), "-o", str(tmp_path))
    out = Path(data["output"])
    assert out == tmp_path / "成本指标超支仍自评满分_评分.xlsx"
    wb = openpyxl.load_workbook(out, data_only=True)
    assert wb.sheetnames[0] == "评分汇总" and {"评分明细", "问题清单", "自评表", "填表说明"} <= set(wb.sheetnames)
    ws = wb["自评表"]
    for ind in data["indicators"]:
        assert ws[f"I{ind['row']}"].value == ind["score"], ind["level3"]
    assert ws["I25"].value == data["total"] == 98.5  # the 总分 row: a value, not a formula
    assert ws["H26"].value == "优"  # 评价等级
    assert ws["G7"].value == 1 and ws["I7"].value == 10  # 执行率 100%, its 得分
    assert ws["K13"].value == "原填自评得分" and ws["K19"].value == 6  # the unit's own 得分 kept beside
    assert ws["I19"].fill.fgColor.rgb.endswith("F4A460")  # warning: orange
    assert "应为 4.5 分" in ws["I19"].comment.text
    # no formula is left without a value: every viewer shows numbers
    formulas = openpyxl.load_workbook(out)["自评表"]
    assert not [c.coordinate for row in formulas.iter_rows() for c in row if c.data_type == "f"]
    assert ws["A14"].value.startswith("产出指标")  # a group label that was a formula, now its value
    # pandas reads the same numbers from 评分明细
    detail = pd.read_excel(out, sheet_name="评分明细")
    assert detail["复核得分"].tolist() == [i["score"] for i in data["indicators"]]
    assert detail["自评得分"].tolist() == [i["self_score"] for i in data["indicators"]]
    assert detail.loc[detail["三级指标"] == "党务培训班费用", "差异"].item() == 1.5
    issues = pd.read_excel(out, sheet_name="问题清单")
    assert issues[["级别", "单元格", "代码"]].values.tolist() == [["预警", "I19", "W-SELF-SCORE"]]
    summary = wb["评分汇总"]
    cells = {c.value for row in summary.iter_rows() for c in row if c.value is not None}
    assert {"总分", 98.5, "等级", "优", "非公有制党建工作经费"} <= cells


def test_errors_make_the_grade_provisional(tmp_path):
    code, [data] = _json(str(SAMPLES / "broken" / "自评得分超过分值.xlsx"), "-o", str(tmp_path))
    assert code == 1 and data["grade"] == "待更正"
    ws = openpyxl.load_workbook(data["output"], data_only=True)["自评表"]
    assert ws["I24"].fill.fgColor.rgb.endswith("D9534F")  # error: red
    assert "得分不能大于分值" in ws["I24"].comment.text
    assert ws["I24"].value == 10  # the rule score: 93% ≥ 85%


def test_input_is_never_modified_and_rerun_is_identical(tmp_path):
    before = hashlib.sha256(COST.read_bytes()).hexdigest()
    first = score_file(COST, tmp_path / "a").output
    second = score_file(COST, tmp_path / "b").output
    assert hashlib.sha256(COST.read_bytes()).hexdigest() == before
    assert sheet_snapshot(first) == sheet_snapshot(second)
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["成本指标超支仍自评满分_评分.xlsx"]  # no temp files


def test_users_workbook_is_kept(tmp_path):
    out = score_file(BASE, tmp_path).output
    before, after = sheet_snapshot(BASE)["自评表"], sheet_snapshot(out)["自评表"]
    assert after["merged"] == before["merged"]
    assert after["validations"] == before["validations"]
    assert after["widths"] == before["widths"]
    assert after["protected"] is True and after["freeze"] == before["freeze"]
    assert after["print_titles"] == before["print_titles"]
    wb = openpyxl.load_workbook(out)
    assert wb["自评表"].page_setup.orientation == "landscape"
    assert "填表说明" in wb.sheetnames


def test_scoring_a_scored_copy_again(tmp_path):
    """A scored copy is read as the unit's own form: its 得分 cells hold our 复核得分, but the
    unit's self-score of 6 (the rule gives 4.5) is what it reads, so the same warning comes back."""
    out = score_file(COST, tmp_path / "once").output
    again = score_file(out, tmp_path / "twice")
    assert [(f.code, f.cell) for f in again.result.findings] == [("W-SELF-SCORE", "I19")]
    assert again.result.status == "warnings" and again.result.score.total == 98.5
    wb = openpyxl.load_workbook(again.output, data_only=True)
    assert wb.sheetnames.count("评分汇总") == 1
    # named after the unit's file, not "…_评分_评分"
    assert again.output.name == "成本指标超支仍自评满分_评分.xlsx"
    assert wb["评分汇总"]["B8"].value == "成本指标超支仍自评满分.xlsx"  # 源文件: the unit's form
    assert wb["自评表"]["K19"].value == 6  # the unit's own 得分, beside ours again


def test_default_output_is_beside_the_input(tmp_path):
    src = tmp_path / "单位A.xlsx"
    src.write_bytes(BASE.read_bytes())
    result = run_cli("score", str(src))
    assert result.returncode == 0
    assert (tmp_path / "单位A_评分.xlsx").exists()
    assert "总分 100" in result.stdout and "等级 优" in result.stdout


def test_unreadable_file_gives_exit_2_and_no_output(tmp_path):
    bad = tmp_path / "坏.xlsx"
    bad.write_bytes(b"not a workbook")
    code, data = _json(str(bad), str(BASE), "-o", str(tmp_path / "out"))
    assert code == 2
    assert data[0]["status"] == "unreadable" and data[0]["output"] is None and data[0]["total"] is None
    assert data[1]["status"] == "ok" and Path(data[1]["output"]).exists()


def test_scored_copy_opens_in_libreoffice(soffice, tmp_path):
    out = score_file(COST, tmp_path).output
    copy = tmp_path / "scored.xlsx"
    copy.write_bytes(out.read_bytes())
    convert_to_pdf(soffice, [copy], tmp_path)
    pdf = copy.with_suffix(".pdf").read_bytes()
    assert pdf.startswith(b"%PDF")


# -- profiles ------------------------------------------------------------------------------

def test_shipped_profiles():
    mof, fw = load_profile("mof-2020"), load_profile("framework-70")
    assert (mof.execution_weight, mof.level1_weights) == (10, {"产出": 50, "效益": 30, "满意度": 10})
    assert [g for g, _ in mof.grades] == ["优", "良", "中", "差"] and mof.grades[2][1] == 60
    assert fw.grades[2][1] == 70 and fw.level1_weights["决策"] == 20
    assert mof.qualitative_bands["部分达成"] == (0.6, 0.8)


@pytest.mark.parametrize("change,field", [
    ({"rules": {"reverse_rule": "cubic"}}, "rules.reverse_rule"),
    ({"rules": {"na_policy": "skip"}}, "rules.na_policy"),
    ({"rules": {"overshoot_ratio": "1.3"}}, "overshoot_ratio"),
    ({"grades": {"优": 80, "良": 90}}, "grades"),
    ({"qualitative": {"达成": [0.9, 0.8]}}, "qualitative.达成"),
    ({"colour": "red"}, "colour"),
])
def test_bad_profile_names_the_field(change, field):
    from perfeval_xlsx.rules.profile import tomllib  # tomli on Python 3.10

    from perfeval_xlsx.rules.profile import PROFILE_DIR

    with (PROFILE_DIR / "mof-2020.toml").open("rb") as fh:
        data = tomllib.load(fh)
    for key, value in change.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    with pytest.raises(ProfileError) as exc:
        profile_from_dict(data, "my.toml")
    assert field in str(exc.value)


def test_scoring_a_units_own_ministry_copy(tmp_path):
    """A unit's own layout (分值 in D, 得分 in G, folded values): scores land in its own cells."""
    from .test_reader import _base_content, _unit_copy

    src = tmp_path / "单位自制表.xlsx"
    _unit_copy(src, _base_content())
    outcome = score_file(src, tmp_path / "out")
    assert outcome.result.status == "ok" and outcome.result.score.total == 100
    ws = openpyxl.load_workbook(outcome.output, data_only=True)["附件2 绩效自评表"]
    by_name = {ws[f"C{r}"].value: ws[f"G{r}"].value for r in range(16, 31) if ws[f"C{r}"].value}
    assert by_name["商会党建书籍配发"] == 3 and by_name["购买学习资料和书籍等费用"] == 7
    total_row = next(r for r in range(16, 40) if ws[f"A{r}"].value == "总分")
    assert ws[f"G{total_row}"].value == 100
    assert ws[f"B{total_row + 1}"].value == "优"
    assert ws["H8"].value == 10 and ws["G8"].value == 1  # 执行率 as a value, its 得分


def test_outputs_are_readable_by_colleagues(tmp_path):
    """Scored copies and templates get the usual permissions (umask), not mkstemp's 0600."""
    import os
    import stat

    old = os.umask(0o022)
    try:
        scored = score_file(BASE, tmp_path).output
        from perfeval_xlsx.output.template import write_template

        write_template("mof-2020", tmp_path / "t.xlsx")
    finally:
        os.umask(old)
    for path in (scored, tmp_path / "t.xlsx"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path
