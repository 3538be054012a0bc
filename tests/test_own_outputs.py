"""What the tool writes is never counted as a form: the mark in every workbook, scored copies read
back as the unit's form, roll-ups refused, one roll-up per OUTBOX, stale scored copies moved.

The expected counts are those of the folders built here (three forms, their copies, a roll-up);
the expected findings of a scored copy are those of the unit's own file, read independently.
"""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest

from perfeval_xlsx.batch import discover, run_batch
from perfeval_xlsx.check import check_file
from perfeval_xlsx.reading.mark import ROLLUP, SCORED, TEMPLATE, read_mark
from perfeval_xlsx.score import score_file

from .conftest import BASE, FRAMEWORK_TEMPLATE, MOF_TEMPLATE, SAMPLES, SEED000, SEED001, run_cli

FORMS = (SEED000, SEED001, BASE)
ALL_SAMPLES = sorted(SAMPLES.glob("*.xlsx")) + sorted((SAMPLES / "broken").glob("*.xlsx"))
COST = SAMPLES / "broken" / "成本指标超支仍自评满分.xlsx"


def _inbox(tmp_path: Path) -> Path:
    inbox = tmp_path / "收表"
    inbox.mkdir()
    for f in FORMS:
        shutil.copy(f, inbox / f.name)
    return inbox


def _findings(result) -> list[tuple]:
    return sorted((f.code, f.sheet, f.cell, f.message) for f in result.findings)


def _strip_mark(path: Path, target: Path) -> Path:
    """The same workbook without its custom properties: as written before the mark existed."""
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename == "docProps/custom.xml":
                continue
            data = src.read(info)
            if info.filename in ("[Content_Types].xml", "_rels/.rels"):
                text = data.decode("utf-8")
                text = text.replace('<Override PartName="/docProps/custom.xml" '
                                    'ContentType="application/vnd.openxmlformats-officedocument.custom-properties+xml"/>', "")
                text = re.sub(r'<Relationship [^>]*Target="/?docProps/custom.xml"/>', "", text)
                data = text.encode("utf-8")
            dst.writestr(info, data)
    return target


# --------------------------------------------------------------------------- double counting


def test_score_then_batch_on_the_same_folder_counts_each_project_once(tmp_path):
    inbox, out = _inbox(tmp_path), tmp_path / "结果"
    assert run_cli("score", str(inbox)).returncode == 0  # writes *_评分.xlsx beside the forms
    assert len(list(inbox.glob("*_评分.xlsx"))) == 3
    result = run_cli("batch", str(inbox), "-o", str(out), "--json")
    data = json.loads(result.stdout)
    assert data["summary"]["total"] == 3  # not 6
    assert sorted(Path(d["file"]).name for d in data["files"]) == sorted(f.name for f in FORMS)
    skipped = {s["file"]: s["reason"] for s in data["skipped"]}
    assert sorted(skipped) == sorted(f"{f.stem}_评分.xlsx" for f in FORMS)
    for f in FORMS:  # one line each, saying why
        assert skipped[f"{f.stem}_评分.xlsx"] == f"这是本工具生成的评分副本（由“{f.name}”生成），不是单位提交的表，不重复计入。"
    rollup = out / Path(data["rollup"]).name
    rows = list(openpyxl.load_workbook(rollup, read_only=True)["项目汇总"].iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in rows].count("合计/平均") == 1 and len(rows) == 3 + 1
    from perfeval_xlsx.mail import load_batch, plan_messages

    plan = plan_messages(load_batch(out), sender="cwk@example.cn", to=["jxk@example.cn"])
    assert "共 3 个项目" in plan.messages[0].body
    assert len(plan.messages[0].attachments) == 1 + 3  # the roll-up and three scored copies


def test_a_rollup_in_the_inbox_is_no_project(tmp_path):
    inbox, out = _inbox(tmp_path), tmp_path / "结果"
    first = run_batch(inbox, out, jobs=1)
    shutil.copy(first.rollup, inbox / first.rollup.name)  # an old roll-up left in the inbox
    _strip_mark(first.rollup, inbox / "汇总_20200101-000000.xlsx")  # one from before the mark
    again = run_batch(inbox, tmp_path / "结果2", jobs=1)
    assert again.summary["total"] == 3
    reasons = {s.file: s.reason for s in again.skipped}
    assert reasons == {first.rollup.name: "这是本工具生成的汇总表，不是自评表，不计入项目。",
                       "汇总_20200101-000000.xlsx": "这是本工具生成的汇总表，不是自评表，不计入项目。"}
    # named explicitly, a roll-up is not read as a form either (it used to score "总分 282.4")
    result = check_file(inbox / first.rollup.name)
    assert result.status == "unreadable" and [f.code for f in result.findings] == ["E-NO-FORM"]
    assert "汇总表" in result.findings[0].message


def test_scoring_a_folder_twice_scores_no_scored_copy(tmp_path):
    inbox = _inbox(tmp_path)
    assert run_cli("score", str(inbox)).returncode == 0
    second = run_cli("score", str(inbox))
    assert second.returncode == 0
    assert not list(inbox.glob("*_评分_评分*"))
    assert second.stderr.count("不重复计入") == 3
    assert second.stdout.count("→") == 3  # three forms scored, not six


@pytest.mark.parametrize("sample", ALL_SAMPLES, ids=lambda p: p.stem)
def test_a_scored_copy_is_read_as_the_units_own_form(tmp_path, sample):
    original = check_file(sample)
    copy = score_file(sample, tmp_path).output
    again = check_file(copy)
    assert _findings(again) == _findings(original)
    assert (again.status, again.score.total, again.score.grade) == (original.status, original.score.total,
                                                                    original.score.grade)
    assert again.project == original.project


def test_an_edited_scored_copy_is_a_form_again(tmp_path):
    copy = score_file(COST, tmp_path / "out").output
    inbox = tmp_path / "收表"
    inbox.mkdir()
    edited = inbox / copy.name
    wb = openpyxl.load_workbook(copy)
    wb["自评表"]["G19"] = 2  # the unit corrects its 党务培训班费用 (≤ 2 万元) in the copy it got back
    wb.save(edited)
    assert [p.name for p in discover(inbox, tmp_path / "out2").files] == [edited.name]
    result = check_file(edited)  # read as it now is: actual 2 meets ≤ 2, the rule gives the full 6
    row = next(r for r in result.score.rows.itertuples() if r.level3 == "党务培训班费用")
    assert (row.actual, row.score) == (2, 6)


def test_every_workbook_written_carries_its_mark(tmp_path):
    assert read_mark(MOF_TEMPLATE).kind == TEMPLATE and read_mark(FRAMEWORK_TEMPLATE).kind == TEMPLATE
    assert read_mark(BASE).kind == TEMPLATE  # the samples are filled templates: forms
    copy = score_file(COST, tmp_path).output
    mark = read_mark(copy)
    assert (mark.kind, mark.sheet, mark.source) == (SCORED, "自评表", COST.name)
    assert mark.originals["I19"] == 6  # the unit's self-score, which the copy replaced by 4.5
    assert openpyxl.load_workbook(copy)["自评表"]["I19"].value == 4.5
    rollup = run_batch(_inbox(tmp_path), tmp_path / "结果", jobs=1).rollup
    assert read_mark(rollup).kind == ROLLUP


def test_a_scored_copy_written_before_the_mark_is_left_out(tmp_path):
    inbox = tmp_path / "收表"
    inbox.mkdir()
    shutil.copy(BASE, inbox / "单位A.xlsx")
    copy = score_file(inbox / "单位A.xlsx", tmp_path / "out").output
    _strip_mark(copy, inbox / "单位A_评分.xlsx")
    assert read_mark(inbox / "单位A_评分.xlsx").legacy
    found = discover(inbox, tmp_path / "结果")
    assert [p.name for p in found.files] == ["单位A.xlsx"]
    assert [s.file for s in found.skipped] == ["单位A_评分.xlsx"] and "评分副本" in found.skipped[0].reason


def test_the_mark_survives_a_libreoffice_save(soffice, tmp_path):
    """An officer opens a scored copy and a roll-up in LibreOffice and saves them: still ours."""
    copy = score_file(COST, tmp_path / "out").output
    rollup = run_batch(_inbox(tmp_path), tmp_path / "结果", jobs=1).rollup
    books = [tmp_path / "scored.xlsx", tmp_path / "rollup.xlsx"]
    shutil.copy(copy, books[0])
    shutil.copy(rollup, books[1])
    saved = tmp_path / "saved"
    import subprocess

    subprocess.run([soffice, f"-env:UserInstallation=file://{tmp_path / 'lo'}", "--headless", "--norestore",
                    "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(saved), *map(str, books)],
                   capture_output=True, timeout=300)
    assert read_mark(saved / "scored.xlsx").kind == SCORED
    assert _findings(check_file(saved / "scored.xlsx")) == _findings(check_file(COST))
    assert check_file(saved / "rollup.xlsx").findings[0].code == "E-NO-FORM"


# --------------------------------------------------------------------------- one current roll-up


def test_one_rollup_per_outbox_unless_kept(tmp_path):
    inbox, out = _inbox(tmp_path), tmp_path / "结果"
    for _ in range(2):
        assert run_cli("batch", str(inbox), "-o", str(out)).returncode == 0
    assert len(list(out.glob("汇总_*.xlsx"))) == 1
    assert run_cli("batch", str(inbox), "-o", str(out), "--keep-rollups").returncode == 0
    assert len(list(out.glob("汇总_*.xlsx"))) == 2
