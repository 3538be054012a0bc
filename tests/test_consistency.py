"""Places that must agree because they share one definition (each test failed before vocab.py,
numbers.py and result.py gave the shared words, tolerances and per-file result one home)."""

from __future__ import annotations

import openpyxl
import pytest

from perfeval_xlsx.batch import run_batch
from perfeval_xlsx.check import check_file
from perfeval_xlsx.result import FileResult
from perfeval_xlsx.rules.profile import load_profile
from perfeval_xlsx.score import score_file

from .conftest import BASE, SEED001


def _changed(src, tmp_path, changes: dict[str, object], name: str = "form.xlsx"):
    wb = openpyxl.load_workbook(src)
    ws = wb.worksheets[0]
    for address, value in changes.items():
        ws[address] = value
    path = tmp_path / name
    wb.save(path)
    return path


def test_a_framework_form_message_names_its_own_funds_column(tmp_path):
    # seed 001's framework form: D7 is 预算资金 (the Ministry form calls it 全年预算数)
    result = check_file(_changed(SEED001, tmp_path, {"D7": "待核"}))
    texts = [f.message for f in result.findings if f.code == "E-NUMBER-TEXT"]
    assert texts == ["D7：预算资金“待核”不是数字。请只填写数字，如 320 或 7.94（单位：万元）。"]
    assert not any("全年预算数" in f.message for f in result.findings)


def test_the_ministry_form_message_still_says_全年预算数(tmp_path):
    result = check_file(_changed(BASE, tmp_path, {"E7": "待核"}))
    assert [f.message for f in result.findings if f.code == "E-NUMBER-TEXT"] == [
        "E7：全年预算数“待核”不是数字。请只填写数字，如 320 或 7.94（单位：万元）。"]


def _kept_self_scores(path) -> dict[int, float]:
    """Rows whose unit-typed score the scored copy keeps in its 原填自评得分 column."""
    ws = openpyxl.load_workbook(path).worksheets[1]  # 评分汇总 is first; the unit's form second
    header = next((c for row in ws.iter_rows() for c in row if c.value == "原填自评得分"), None)
    if header is None:
        return {}
    return {r: ws.cell(r, header.column).value for r in range(header.row + 1, ws.max_row + 1)
            if isinstance(ws.cell(r, header.column).value, (int, float))}


@pytest.mark.parametrize("typed,flagged", [(5.99, False), (5.98, True)])
def test_a_kept_self_score_always_has_its_finding_and_only_then(tmp_path, typed, flagged):
    # row 14 (书籍配发 ≥800本, 分值 6) is met: rule score 6. The profile tolerance is 0.01:
    # 5.99 is within it (neither flagged nor kept), 5.98 is not (flagged and kept beside).
    outcome = score_file(_changed(BASE, tmp_path, {"I14": typed}), tmp_path / "out")
    codes = [(f.code, f.cell) for f in outcome.result.findings]
    kept = _kept_self_scores(outcome.output)
    assert (("W-SELF-SCORE", "I14") in codes) is flagged
    assert (14 in kept) is flagged
    if flagged:
        assert kept[14] == typed


def test_the_rollup_counts_a_profile_s_own_grade_names(tmp_path):
    profile = tmp_path / "甲乙丙丁.toml"
    profile.write_text(
        'name = "jyb"\n[weights]\nexecution = 10\n[weights.level1]\n"产出" = 50\n"效益" = 30\n"满意度" = 10\n'
        '[grades]\n"甲" = 95\n"乙" = 85\n"丙" = 60\n"丁" = 0\n', encoding="utf-8")
    inbox = tmp_path / "in"
    inbox.mkdir()
    (inbox / "a.xlsx").write_bytes(BASE.read_bytes())  # the base form totals 100: 甲
    result = run_batch(inbox, tmp_path / "out", jobs=1, profile=load_profile(profile))
    ws = openpyxl.load_workbook(result.rollup)["图表"]
    counts = {row[0]: row[1] for row in ws.iter_rows(values_only=True) if row and isinstance(row[1], (int, float))}
    assert counts.get("甲") == 1
    assert counts.get("优") == 0  # the Ministry names still show, with nothing in them


def test_the_file_result_is_strict_json_and_survives_a_round_trip():
    import json
    import math

    r = FileResult(file="a.xlsx", status="ok", total=float("nan"), findings=({"value": math.inf},),
                   indicators=({"target": float("nan"), "actual": 1.5},))
    data = json.loads(json.dumps(r.to_dict(), allow_nan=False))
    assert data["total"] is None and data["findings"][0]["value"] is None
    assert data["indicators"][0] == {"target": None, "actual": 1.5}
    assert FileResult.from_dict(data).to_dict() == data
