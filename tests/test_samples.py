"""The sample workbooks: rebuilt from their definitions, holding the source reports' figures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from .conftest import BASE, SAMPLES, SEED000, SEED001, sheet_snapshot

BROKEN = SAMPLES / "broken"


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("samples")
    result = subprocess.run([sys.executable, str(SAMPLES / "build.py"), "--out", str(out)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return out


def _committed() -> list[Path]:
    return sorted(p for p in SAMPLES.rglob("*.xlsx"))


def test_every_committed_sample_is_rebuilt_identically(rebuilt):
    built = sorted(p.relative_to(rebuilt) for p in rebuilt.rglob("*.xlsx"))
    assert built == [p.relative_to(SAMPLES) for p in _committed()]
    for rel in built:
        assert sheet_snapshot(rebuilt / rel) == sheet_snapshot(SAMPLES / rel), f"{rel} differs from its definition"
    for name in ("manifest.json", "README.md"):
        assert (rebuilt / name).read_text(encoding="utf-8") == (SAMPLES / name).read_text(encoding="utf-8"), name


def _table(path: Path) -> tuple[openpyxl.worksheet.worksheet.Worksheet, list[int]]:
    ws = openpyxl.load_workbook(path, data_only=True)["自评表"]
    header = next(c.row for row in ws.iter_rows() for c in row if c.value == "三级指标")
    total = next(c.row for row in ws.iter_rows() for c in row if c.value == "总分")
    return ws, [r for r in range(header + 1, total) if ws.cell(r, 3).value]


def test_seed001_holds_the_reports_table():
    """Seed 001's table 项目各部分权重和绩效分值, row by row: 三级, 分值, 得分 (total 99)."""
    ws, rows = _table(SEED001)
    report = [
        ("立项依据充分性", 4, 4), ("立项程序规范性", 4, 4), ("绩效目标合理性", 3, 3), ("绩效指标明确性", 3, 3),
        ("预算编制科学性", 3, 3), ("资金分配合理性", 3, 2), ("资金到位率", 5, 5), ("预算执行率", 5, 5),
        ("资金使用合规性", 3, 3), ("管理制度健全性", 3, 3), ("制度执行有效性", 4, 4),
        ("商会党建书籍配发", 5, 5), ("党务培训班培训人数", 5, 5), ("组织党支部开展党务培训班", 5, 5),
        ("直属商会党支部党务工作者培训率", 5, 5), ("党支部开展党务培训班完成及时率", 5, 5),
        ("党务培训班费用", 5, 5), ("购买商会党建书籍", 5, 5), ("购买学习资料和书籍等费用", 5, 5),
        ("有效提高商会党建各项工作", 10, 10), ("服务对象满意度", 10, 10),
    ]
    assert [(ws.cell(r, 3).value, ws.cell(r, 8).value, ws.cell(r, 9).value) for r in rows] == report
    assert len(rows) == 21
    total_row = rows[-1] + 1
    assert ws.cell(total_row, 8).value == 100 and ws.cell(total_row, 9).value == 99
    actual = {ws.cell(r, 3).value: (ws.cell(r, 4).value, ws.cell(r, 5).value, ws.cell(r, 6).value, ws.cell(r, 7).value) for r in rows}
    assert actual["商会党建书籍配发"] == ("≥", 800, "本", 1015)
    assert actual["党务培训班培训人数"] == ("≥", 40, "人", 62)
    assert actual["组织党支部开展党务培训班"] == ("≥", 1, "期", 1)
    assert actual["直属商会党支部党务工作者培训率"] == ("≥", 85, "%", 90.4)
    assert actual["党支部开展党务培训班完成及时率"][3] == 100
    assert actual["党务培训班费用"] == ("≤", 2, "万元", 2)
    assert actual["购买商会党建书籍"] == ("≤", 4, "万元", 4)
    assert actual["购买学习资料和书籍等费用"] == ("≤", 1.94, "万元", 1.94)
    assert actual["有效提高商会党建各项工作"][:2] == ("定性", "有效提高")
    assert actual["有效提高商会党建各项工作"][3].startswith("达成")
    assert actual["服务对象满意度"] == ("≥", 85, "%", 93)
    assert actual["资金分配合理性"][3] == "部分达成"
    assert actual["资金到位率"][3] == 100 and actual["预算执行率"][3] == 100  # 7.94 / 7.94
    reason = {ws.cell(r, 3).value: ws.cell(r, 10).value for r in rows}
    assert "实际参会人数增多" in reason["党务培训班培训人数"]  # 62/40 = 155%: the report's reason
    # money: 7.94万元 budgeted, received and spent
    funds = next(c.row for row in ws.iter_rows() for c in row if c.value == "年度资金总额")
    assert [ws.cell(funds, c).value for c in (4, 5, 6, 7, 8)] == [7.94, 7.94, 7.94, 1, 1]
    assert ws["C3"].value == "非公有制党建工作经费" and ws["C5"].value == 2024


def test_seed000_holds_the_reports_weights_and_budget():
    ws, rows = _table(SEED000)
    funds = next(c.row for row in ws.iter_rows() for c in row if c.value == "年度资金总额")
    budget, spent, rate, weight, score = (ws.cell(funds, c).value for c in (5, 6, 7, 8, 9))
    assert (budget, spent, weight, score) == (320, 267.81, 5, 4.18)
    assert round(rate * 100, 2) == 83.69  # 267.81 / 320 = 83.690625 %
    # the report's own weights: 立项15, 绩效目标10, 预算执行5 (+ the 5 of 执行率), 数量15, 质量10,
    # 经济效益15, 社会效益15, 满意度10
    by_level2: dict[str, float] = {}
    last = None
    for r in rows:
        level2 = ws.cell(r, 2).value
        if level2 is None:  # merged: belongs to the row above
            level2 = last
        last = level2
        by_level2[level2] = by_level2.get(level2, 0) + ws.cell(r, 8).value
    assert by_level2 == {"项目立项": 15, "绩效目标": 10, "资金管理": 5, "数量指标": 15, "质量指标": 10,
                         "经济效益指标": 15, "社会效益指标": 15, "服务对象满意度指标": 10}
    total_row = rows[-1] + 1
    assert ws.cell(total_row, 8).value == 100
    assert ws.cell(total_row, 9).value == 97.58  # 4.18 + 15 + 10 + 5 + (5 + 5 + 3.4) + 10 + 15 + 15 + 10
    assert ws["J1"].value == "分值合计 100 ✓"


def _inputs(path: Path) -> dict[str, object]:
    """Cells as typed (formulas as text), so derived values do not count as changes."""
    ws = openpyxl.load_workbook(path)["自评表"]
    return {c.coordinate: c.value for row in ws.iter_rows() for c in row if c.value is not None}


# Each broken file is the base form with one mistake. Rows of the base (Ministry form):
# 14 书籍配发, 15 培训人数, 16 培训班, 17 培训率, 18 及时率, 19 培训班费用, 20 书籍费, 21 资料费,
# 22 有效提高, 23 覆盖率, 24 满意度, 25 总分; funds total line on row 7.
BROKEN_CHANGES = {
    "成本指标超支仍自评满分.xlsx": {"G19": 2.5, "J19": "参训人数增加，场地和资料费用相应增加。"},
    "分值合计不等于100.xlsx": {"H14": 5, "I14": 5},
    "未完成目标未写偏差原因.xlsx": {"G15": 36, "I15": 5.4, "J15": None},
    "金额单元格填了文字.xlsx": {"F7": "待财务核对"},
    "自评得分超过分值.xlsx": {"I24": 12},
    "定性指标未选等级.xlsx": {"G22": "工作成效明显"},
}
EXPECTED_FINDINGS = {
    "成本指标超支仍自评满分.xlsx": ("W-SELF-SCORE", "I19"),
    "分值合计不等于100.xlsx": ("E-WEIGHT-SUM", "H25"),
    "未完成目标未写偏差原因.xlsx": ("W-REASON-MISSING", "J15"),
    "金额单元格填了文字.xlsx": ("E-NUMBER-TEXT", "F7"),
    "自评得分超过分值.xlsx": ("E-SCORE-OVER-WEIGHT", "I24"),
    "定性指标未选等级.xlsx": ("E-QUAL-GRADE", "G22"),
}


def test_broken_files_are_the_base_with_one_mistake():
    base = _inputs(BASE)
    assert sorted(p.name for p in BROKEN.glob("*.xlsx")) == sorted(BROKEN_CHANGES)
    for name, changes in BROKEN_CHANGES.items():
        broken = _inputs(BROKEN / name)
        differing = {k for k in base.keys() | broken.keys() if base.get(k) != broken.get(k)}
        assert differing == set(changes), name
        assert {k: broken.get(k) for k in changes} == changes, name


def test_manifest_names_the_expected_finding_of_each_broken_file():
    manifest = {m["file"]: m for m in json.loads((SAMPLES / "manifest.json").read_text(encoding="utf-8"))}
    for name, (code, cell) in EXPECTED_FINDINGS.items():
        findings = manifest[f"broken/{name}"]["findings"]
        assert [(f["code"], f["cell"], f["sheet"]) for f in findings] == [(code, cell, "自评表")], name
    for good in (SEED001, SEED000, BASE):
        assert manifest[good.name]["findings"] == []


def test_base_form_is_clean_by_construction():
    """The base: default weights 10/50/30/10, every target met, self-scores full, total 100."""
    ws, rows = _table(BASE)
    weights = [ws.cell(r, 8).value for r in rows]
    assert sum(weights[:8]) == 50 and sum(weights[8:10]) == 30 and weights[10] == 10
    assert ws["H7"].value == 10 and ws["G7"].value == 1  # 7.94 / 7.94
    assert ws.cell(rows[-1] + 1, 9).value == 100
