""".xls, WPS .et and .ods forms: read through the same grid as .xlsx, scored the same, copied as .xlsx.

The files come from real clients: every sample converted by LibreOffice itself to .xls and .ods
(one headless run per format for the whole session), a unit's own .xls written by xlwt with
merged group cells (its expected score worked out by hand below), password-protected files
saved by LibreOffice through its UNO interface. Hostile files are answered in a child process
whose time and memory are measured, as in test_check.py.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import random
import shutil
import subprocess
import threading
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest

from perfeval_xlsx.check import check_file, score_summary
from perfeval_xlsx.reading.grid import SheetGrid
from perfeval_xlsx.reading.soffice import ConversionFailed, convert
from perfeval_xlsx.score import score_file

from .conftest import BASE, SAMPLES, SEED000, convert_to_pdf, measure_check, need_soffice, run_cli, soffice_binary
from .test_batch import read_table, scored_copy_total

MANIFEST = {m["file"]: m for m in json.loads((SAMPLES / "manifest.json").read_text(encoding="utf-8"))}
SAMPLE_FILES = sorted(MANIFEST)
# the samples' totals as samples/README.md states them (worked out from the source reports)
HAND_TOTALS = {
    "2021_新疆工商联_项目支出（自评表）.xlsx": (97.58, "优"),
    "2024_乌鲁木齐市工商联_非公有制党建工作经费（共性框架）.xlsx": (99.0, "优"),
    "2024_乌鲁木齐市工商联_非公有制党建工作经费（自评表）.xlsx": (100.0, "优"),
}
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"




@pytest.fixture(scope="session")
def converted(tmp_path_factory) -> dict[str, dict[str, Path]]:
    """Every sample as LibreOffice itself saves it as .xls and as .ods: {sample: {"xls", "ods"}}."""
    binary = need_soffice()
    folder = tmp_path_factory.mktemp("converted")
    copies = []
    for i, name in enumerate(SAMPLE_FILES):
        copy = folder / f"s{i}.xlsx"  # ASCII names: the conversion is about content, not file names
        shutil.copyfile(SAMPLES / name, copy)
        copies.append(copy)
    out: dict[str, dict[str, Path]] = {name: {} for name in SAMPLE_FILES}
    for fmt in ("xls", "ods"):
        subprocess.run([binary, f"-env:UserInstallation={(folder / ('lo-' + fmt)).as_uri()}", "--headless", "--norestore",
                        "--convert-to", fmt, "--outdir", str(folder / fmt), *map(str, copies)],
                       capture_output=True, timeout=600, check=False)
        for name, copy in zip(SAMPLE_FILES, copies, strict=True):
            path = folder / fmt / f"{copy.stem}.{fmt}"
            assert path.is_file(), f"LibreOffice did not write {path.name}"
            out[name][fmt] = path
    return out


def _comparable(result) -> dict:
    summary = score_summary(result)
    return {
        "status": result.status, "profile": result.profile, "project": result.project,
        "total": summary["total"], "grade": summary["grade"], "execution_rate": summary["execution_rate"],
        "execution_score": summary["execution_score"],
        "indicators": [(i["row"], i["level1"], i["level2"], i["level3"], i["weight"], i["self_score"], i["score"])
                       for i in summary["indicators"]],
        "findings": [(f.code, f.severity, f.sheet, f.cell, f.field) for f in result.findings],
    }


# --------------------------------------------------------------------------- the samples, converted


@pytest.mark.parametrize("name", SAMPLE_FILES)
@pytest.mark.parametrize("fmt", ["xls", "ods"])
def test_each_sample_saved_by_libreoffice_scores_as_its_xlsx(converted, name, fmt):
    original = check_file(SAMPLES / name)
    other = check_file(converted[name][fmt])
    assert _comparable(other) == _comparable(original)
    # and the expectations written by hand: the manifest's findings, the README's totals
    expected = [(e["code"], e["severity"], e["sheet"], e["cell"]) for e in MANIFEST[name]["findings"]]
    if name.startswith("broken/"):
        assert [(f.code, f.severity, f.sheet, f.cell) for f in other.findings] == expected
    else:
        assert other.status in ("ok", "warnings") and (other.score.total, other.score.grade) == HAND_TOTALS[name]
    assert [f.message for f in other.findings] == [f.message for f in original.findings]


def test_wps_et_that_is_biff_inside_is_read_as_xls(converted, tmp_path):
    et = tmp_path / "WPS表格.et"
    shutil.copyfile(converted[BASE.name]["xls"], et)
    result = check_file(et)
    assert result.status == "ok" and result.score.total == 100 and result.findings == []


def test_et_that_is_not_biff_gets_one_clear_message(tmp_path):
    et = tmp_path / "其他.et"
    et.write_bytes(random.Random(3).randbytes(3000))
    result = check_file(et)
    assert [f.code for f in result.findings] == ["E-FILE-FORMAT"]
    assert "另存为 .xlsx" in result.findings[0].message


# --------------------------------------------------------------------------- a unit's .xls written by xlwt


def write_xlwt_form(path: Path) -> Path:
    """A unit's own 自评表 saved as .xls by xlwt (not LibreOffice, not us): group cells merged
    over their rows (产出指标 over 5 rows, 数量指标 over 2), targets folded as `≥1200人次`, no
    计量单位 column, a %-formatted actual (0.92 shown as 92%) and a date-formatted one."""
    import xlwt

    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("绩效自评")
    box = "borders: left thin, right thin, top thin, bottom thin; align: vert centre, wrap on;"
    st = xlwt.easyxf(box)
    bold = xlwt.easyxf(box + "font: bold on; align: horiz centre;")
    pct = xlwt.easyxf(box, num_format_str="0%")
    day = xlwt.easyxf(box, num_format_str="yyyy-mm-dd")
    ws.write_merge(0, 0, 0, 7, "项目支出绩效自评表", xlwt.easyxf("font: bold on, height 360; align: horiz centre;"))
    ws.write_merge(1, 1, 0, 7, "（2024年度）", xlwt.easyxf("align: horiz centre;"))
    ws.write(2, 0, "项目名称", bold)
    ws.write_merge(2, 2, 1, 7, "社区居家养老服务补助", st)
    ws.write(3, 0, "主管部门", bold)
    ws.write_merge(3, 3, 1, 3, "某区民政局", st)
    ws.write(3, 4, "实施单位", bold)
    ws.write_merge(3, 3, 5, 7, "某街道办事处", st)
    for c, h in enumerate(["项目资金（万元）", "资金来源", "年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分"]):
        ws.write(4, c, h, bold)
    ws.write_merge(5, 6, 0, 0, "", st)
    for c, v in enumerate(["年度资金总额", 50, 50, 45, 10, "", 9], 1):
        ws.write(5, c, v, st)
    for c, v in enumerate(["其中：当年财政拨款", 50, 50, 45, "—", "—", "—"], 1):
        ws.write(6, c, v, st)
    for c, h in enumerate(["一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分", "偏差原因分析及改进措施"]):
        ws.write(8, c, h, bold)
    ws.write_merge(9, 13, 0, 0, "产出指标", bold)
    ws.write_merge(9, 10, 1, 1, "数量指标", st)
    ws.write_merge(14, 15, 0, 0, "效益指标", bold)
    ws.write(16, 0, "满意度指标", bold)
    rows = [  # sheet row (0-based), 二级 (None: merged above), 三级, 指标值, 完成值, 分值, 自评得分, 偏差原因
        (9, None, "服务老年人人次", "≥1200人次", "1300人次", 15, 15, ""),
        (10, None, "新建助餐点数量", "≥10个", "8个", 15, 12, "两处场地未落实，已列入下年计划。"),
        (11, "质量指标", "投诉按时处理率", "≥95%", "96%", 10, 10, ""),
        (12, "时效指标", "补助资金发放时间", "2024年12月31日前", datetime.datetime(2024, 11, 30), 5, 5, ""),
        (13, "成本指标", "人均服务成本", "≤300元", "320元", 5, 5, "物价上涨，人均成本超出。"),
        (14, "社会效益指标", "老年人生活质量", "有效提升", "达成", 20, None, ""),
        (15, "可持续影响指标", "服务长效机制", "建立长效机制", "部分达成", 10, 7, "制度已起草，尚待印发。"),
        (16, "服务对象满意度指标", "服务对象满意度", "≥90%", 0.92, 10, 10, ""),
    ]
    for r, level2, name, target, actual, weight, score, reason in rows:
        if level2 is not None:
            ws.write(r, 1, level2, st)
        ws.write(r, 2, name, st)
        ws.write(r, 3, target, st)
        ws.write(r, 4, actual, day if isinstance(actual, datetime.datetime) else pct if isinstance(actual, float) else st)
        ws.write(r, 5, weight, st)
        ws.write(r, 6, score if score is not None else "", st)
        ws.write(r, 7, reason, st)
    ws.write_merge(17, 17, 0, 4, "总分", bold)
    ws.write(17, 5, 100, st)
    ws.write(17, 6, "", st)
    ws.write_merge(18, 18, 0, 4, "评价等级", bold)
    ws.write_merge(18, 18, 5, 7, "", st)
    for c, w in enumerate([12, 16, 22, 16, 14, 8, 8, 30]):
        ws.col(c).width = w * 256
    wb.save(str(path))
    return path


# worked out by hand from the rules (mof-2020):
#   执行率 45/50 = 90% → 10 × 0.9 = 9
#   服务老年人人次 1300 ≥ 1200 → 15;  新建助餐点 8 of ≥10 → 15 × 8/10 = 12
#   投诉按时处理率 96% ≥ 95% → 10;  发放时间 2024-11-30 before 12-31 → 5
#   人均服务成本 320 against ≤300: over by 20/300 → 5 × (1 − 20/300) = 4.67 (the unit wrote 5: W-SELF-SCORE)
#   老年人生活质量 达成, no self-score → 20;  服务长效机制 部分达成, self-score 7 within 6–8 → 7
#   服务对象满意度 0.92 in a 0% cell = 92% ≥ 90% → 10
#   total 9 + 15 + 12 + 10 + 5 + 4.67 + 20 + 7 + 10 = 92.67 → 优
XLWT_SCORES = {10: 15, 11: 12, 12: 10, 13: 5, 14: 4.67, 15: 20, 16: 7, 17: 10}
XLWT_TOTAL = 92.67


def test_xls_written_by_xlwt_with_merged_group_cells(tmp_path):
    result = check_file(write_xlwt_form(tmp_path / "某街道办事处.xls"))
    assert (result.score.total, result.score.grade) == (XLWT_TOTAL, "优")
    assert (result.score.execution_rate, result.score.execution_score) == (90, 9)
    summary = score_summary(result)
    assert {i["row"]: i["score"] for i in summary["indicators"]} == XLWT_SCORES
    groups = {i["row"]: (i["level1"], i["level2"]) for i in summary["indicators"]}
    assert groups[11] == ("产出指标", "数量指标") and groups[16] == ("效益指标", "可持续影响指标")  # merged cells
    assert [(f.code, f.cell) for f in result.findings] == [("W-SELF-SCORE", "G14")]
    assert result.project == {"name": "社区居家养老服务补助", "department": "某区民政局", "unit": "某街道办事处", "year": 2024}


def test_grid_of_the_xlwt_file_has_formats_merges_and_looks(tmp_path):
    from perfeval_xlsx.reading.xls import read_xls

    grid = read_xls(write_xlwt_form(tmp_path / "a.xls"))
    sheet: SheetGrid = grid.sheets[0]
    assert (grid.kind, grid.reader, sheet.title) == ("xls", "xlrd", "绩效自评")
    assert (10, 1, 14, 1) in sheet.merged and (10, 2, 11, 2) in sheet.merged
    assert sheet.get(17, 5).value == 0.92 and sheet.get(17, 5).number_format == "0%"
    assert sheet.get(13, 5).value == datetime.datetime(2024, 11, 30)
    assert sheet.get(6, 3).value == 50 and isinstance(sheet.get(6, 3).value, int)  # 50.0 in BIFF, 50 as Excel shows
    assert sheet.get(9, 1).style.bold and sheet.get(9, 1).style.border == (True, True, True, True)
    assert sheet.col_widths[3] == 22


# --------------------------------------------------------------------------- batch, copies, pandas, LibreOffice


@pytest.fixture(scope="module")
def mixed_batch(converted, tmp_path_factory):
    """An inbox of an .xls (LibreOffice), an .ods (LibreOffice), an .xls (xlwt) and an .xlsx."""
    root = tmp_path_factory.mktemp("mixed")
    inbox, out = root / "收表", root / "评分结果"
    inbox.mkdir()
    shutil.copyfile(converted[BASE.name]["xls"], inbox / "乌鲁木齐市工商联.xls")
    shutil.copyfile(converted[SEED000.name]["ods"], inbox / "新疆工商联.ods")
    write_xlwt_form(inbox / "某街道办事处.xls")
    shutil.copyfile(SAMPLES / "broken" / "成本指标超支仍自评满分.xlsx", inbox / "成本超支.xlsx")
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in inbox.iterdir()}
    result = run_cli("batch", str(inbox), "-o", str(out), "--jobs", "2", "--json")
    return inbox, out, result, before


EXPECTED_BATCH = {  # file → (总分, 等级): the README's figures, the hand-worked xlwt form, the manifest's case
    "乌鲁木齐市工商联.xls": (100, "优"),
    "新疆工商联.ods": (97.58, "优"),
    "某街道办事处.xls": (XLWT_TOTAL, "优"),
    "成本超支.xlsx": (98.5, "优"),  # 100 − (6 − 4.5): the cost row scores 4.5, not the 6 written
}


def test_xls_and_ods_in_a_batch_are_in_the_rollup_with_their_scores(mixed_batch):
    inbox, out, result, before = mixed_batch
    assert result.returncode == 0, result.stderr[-2000:]
    data = json.loads(result.stdout)
    assert data["skipped"] == [] and data["summary"]["total"] == 4 and data["summary"]["unreadable"] == 0
    rows = read_table(out / Path(data["rollup"]).name, "项目汇总")
    totals = [r for r in rows if r["主管部门"] == "合计/平均"]
    rows = [r for r in rows if r["主管部门"] != "合计/平均"]
    got = {r["源文件"]: (r["总分"], r["等级"]) for r in rows}
    assert got == EXPECTED_BATCH
    # the 合计/平均 row: the average of the four totals
    assert len(totals) == 1 and totals[0]["总分"] == pytest.approx(round(sum(t for t, _ in EXPECTED_BATCH.values()) / 4, 2))
    names = {r["源文件"]: r["评分副本"] for r in rows}
    assert names["新疆工商联.ods"] == "新疆工商联_评分.xlsx" and names["某街道办事处.xls"] == "某街道办事处_评分.xlsx"
    # the inputs are as they were, and nothing was written beside them (no LibreOffice lock file)
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in inbox.iterdir()} == before


def test_scored_copies_of_xls_and_ods_read_back_in_pandas(mixed_batch):
    import pandas as pd

    _, out, _, _ = mixed_batch
    for source, (total, grade) in EXPECTED_BATCH.items():
        copy = out / f"{Path(source).stem}_评分.xlsx"
        assert scored_copy_total(copy) == total
        detail = pd.read_excel(copy, sheet_name="评分明细", engine="openpyxl")
        if source == "某街道办事处.xls":
            assert dict(zip(detail["表中行号"], detail["复核得分"], strict=True)) == XLWT_SCORES
            form = pd.read_excel(copy, sheet_name="绩效自评", header=None, engine="openpyxl")
            assert form.iloc[13, 6] == 4.67 and form.iloc[17, 6] == XLWT_TOTAL and form.iloc[18, 5] == grade
            assert form.iloc[13, 8] == 5  # the unit's own 得分, kept right of the table (原填自评得分)
        if Path(source).suffix != ".xlsx":
            summary = pd.read_excel(copy, sheet_name="评分汇总", header=None, engine="openpyxl")
            notes = [str(v) for v in summary[0] if isinstance(v, str) and "LibreOffice" in v]
            assert notes and "原文件未改动" in notes[0]


def test_scored_copies_of_xls_and_ods_open_in_libreoffice(mixed_batch, tmp_path):
    binary = need_soffice()
    _, out, _, _ = mixed_batch
    copies = []
    for i, source in enumerate(EXPECTED_BATCH):
        copy = tmp_path / f"copy{i}.xlsx"
        shutil.copyfile(out / f"{Path(source).stem}_评分.xlsx", copy)
        copies.append(copy)
    result = convert_to_pdf(binary, copies, tmp_path)
    for copy in copies:
        pdf = copy.with_suffix(".pdf")
        assert pdf.is_file(), result.stderr[-500:]
        data = pdf.read_bytes()
        assert data.count(b"/Type /Page") + data.count(b"/Type/Page") >= 4  # 评分汇总, the form, 评分明细, 问题清单


def test_without_libreoffice_the_copy_is_rebuilt_from_the_grid_and_says_so(converted, tmp_path):
    """PERFEVAL_SOFFICE= (empty) stands for a machine without LibreOffice."""
    import pandas as pd

    inbox, out = tmp_path / "in", tmp_path / "out"
    inbox.mkdir()
    shutil.copyfile(converted[BASE.name]["ods"], inbox / "甲.ods")
    write_xlwt_form(inbox / "乙.xls")
    result = run_cli("batch", str(inbox), "-o", str(out), "--jobs", "1", "--json", env={"PERFEVAL_SOFFICE": ""})
    assert result.returncode == 0, result.stderr[-2000:]
    for name, total, sheet in (("甲", 100, "自评表"), ("乙", XLWT_TOTAL, "绩效自评")):
        copy = out / f"{name}_评分.xlsx"
        assert scored_copy_total(copy) == total
        wb = openpyxl.load_workbook(copy)
        notes = [c.value for row in wb["评分汇总"].iter_rows() for c in row if isinstance(c.value, str) and "重建" in c.value]
        assert notes and "未安装 LibreOffice" in notes[0]
        assert wb.sheetnames[0] == "评分汇总" and sheet in wb.sheetnames
        form = wb[sheet]
        assert len(form.merged_cells.ranges) >= 10  # the unit's merged cells are kept
        assert form.column_dimensions["C"].width > 15
        wb.close()
    form = pd.read_excel(out / "乙_评分.xlsx", sheet_name="绩效自评", header=None, engine="openpyxl")
    assert form.iloc[13, 6] == 4.67 and form.iloc[16, 4] == 0.92  # numbers as numbers
    form = pd.read_excel(out / "甲_评分.xlsx", sheet_name="自评表", header=None, engine="openpyxl")
    assert form.iloc[13, 0].startswith("产出指标")  # a group label that was a formula: its value
    binary = soffice_binary()
    if binary is not None:
        pdfs = tmp_path / "pdf"
        copies = []
        for i, name in enumerate(("甲", "乙")):
            copies.append(pdfs / f"r{i}.xlsx")
            pdfs.mkdir(exist_ok=True)
            shutil.copyfile(out / f"{name}_评分.xlsx", copies[-1])
        convert_to_pdf(binary, copies, pdfs)
        assert all(c.with_suffix(".pdf").is_file() for c in copies)


def test_score_command_on_an_ods_writes_an_xlsx_beside_it(converted, tmp_path):
    ods = tmp_path / "表.ods"
    shutil.copyfile(converted[BASE.name]["ods"], ods)
    before = ods.read_bytes()
    outcome = score_file(ods)
    assert outcome.output == tmp_path / "表_评分.xlsx" and outcome.output.is_file()
    assert ods.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["表.ods", "表_评分.xlsx"]


# --------------------------------------------------------------------------- LibreOffice conversion itself


def test_two_conversions_at_once_do_not_collide(converted, tmp_path):
    need_soffice()
    results: dict[int, Path | Exception] = {}

    def run(i: int, source: Path) -> None:
        try:
            results[i] = convert(source, "xlsx", tmp_path / f"out{i}")
        except Exception as exc:  # noqa: BLE001
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, converted[name]["xls"]))
               for i, name in enumerate((BASE.name, SEED000.name))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    for i, name in enumerate((BASE.name, SEED000.name)):
        assert isinstance(results[i], Path), results[i]
        assert check_file(results[i]).score.total == HAND_TOTALS[name][0]


def test_a_conversion_that_hangs_is_stopped_at_its_timeout(tmp_path):
    fake = tmp_path / "soffice"
    fake.write_text("#!/bin/sh\nsleep 60\n")
    fake.chmod(0o755)
    source = tmp_path / "a.xls"
    source.write_bytes(b"x")
    start = time.perf_counter()
    with pytest.raises(ConversionFailed):
        convert(source, "xlsx", tmp_path / "out", timeout=1, binary=str(fake))
    assert time.perf_counter() - start < 15


# --------------------------------------------------------------------------- password-protected files

UNO_SAVE = r"""
import os, subprocess, sys, time, uno
from com.sun.star.beans import PropertyValue
src, dst, password, profile, soffice, filter_name = sys.argv[1:7]
pipe = "perfevaltest%d" % os.getpid()
proc = subprocess.Popen([soffice, "-env:UserInstallation=" + profile, "--headless", "--norestore", "--nologo",
                         "--accept=pipe,name=%s;urp;" % pipe], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
def prop(name, value):
    p = PropertyValue(); p.Name = name; p.Value = value; return p
try:
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    for _ in range(150):
        try:
            ctx = resolver.resolve("uno:pipe,name=%s;urp;StarOffice.ComponentContext" % pipe)
            break
        except Exception:
            time.sleep(0.2)
    desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
    doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(src), "_blank", 0, (prop("Hidden", True),))
    doc.storeToURL(uno.systemPathToFileUrl(dst), (prop("FilterName", filter_name), prop("Password", password)))
    doc.close(True)
    try:
        desktop.terminate()
    except Exception:
        pass
finally:
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
"""


def _uno_python() -> str:
    for candidate in ("/usr/bin/python3", "/usr/lib/libreoffice/program/python"):
        if Path(candidate).exists() and subprocess.run([candidate, "-c", "import uno"], capture_output=True).returncode == 0:
            return candidate
    pytest.skip("LibreOffice's Python bridge (python3-uno) is not installed")


@pytest.mark.parametrize("fmt,filter_name", [("xls", "MS Excel 97"), ("ods", "calc8")])
def test_password_protected_xls_and_ods_saved_by_libreoffice(converted, tmp_path, fmt, filter_name):
    binary = need_soffice()
    python = _uno_python()
    target = tmp_path / f"加密.{fmt}"
    subprocess.run([python, "-c", UNO_SAVE, str(converted[BASE.name][fmt]), str(target), "123456",
                    (tmp_path / "lo").as_uri(), binary, filter_name], capture_output=True, timeout=180, check=False)
    assert target.is_file(), "LibreOffice did not save the protected file"
    result = check_file(target)
    assert result.status == "unreadable"
    assert [f.code for f in result.findings] == ["E-FILE-ENCRYPTED"] and "密码" in result.findings[0].message


# --------------------------------------------------------------------------- hostile files

def _ole_random(tmp_path: Path) -> Path:
    path = tmp_path / "随机.xls"
    path.write_bytes(OLE_MAGIC + random.Random(11).randbytes(200_000))
    return path


def _ole_header_random_body(tmp_path: Path) -> Path:
    """A real .xls header (sector sizes, FAT pointers) over random sectors."""
    header = write_xlwt_form(tmp_path / "real.xls").read_bytes()[:512]
    path = tmp_path / "头部真实.xls"
    path.write_bytes(header + random.Random(12).randbytes(100 * 512))
    return path


def _truncated_xls(tmp_path: Path) -> Path:
    data = write_xlwt_form(tmp_path / "real.xls").read_bytes()
    path = tmp_path / "截断.xls"
    path.write_bytes(data[: len(data) // 2])
    return path


def _ods_zip_bomb(tmp_path: Path) -> Path:
    """An .ods whose content.xml inflates to 400 MB (about 400 kB packed)."""
    path = tmp_path / "炸弹.ods"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        member = zipfile.ZipInfo("content.xml")
        member.compress_type = zipfile.ZIP_DEFLATED
        with zf.open(member, "w", force_zip64=True) as fh:
            chunk = b" " * (4 << 20)
            for _ in range(100):
                fh.write(chunk)
    return path


def _ods_repeat_bomb(tmp_path: Path) -> Path:
    """A small, valid .ods whose one cell is repeated over 16384 columns × 1048576 rows."""
    content = ('<?xml version="1.0" encoding="UTF-8"?><office:document-content '
               'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
               'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
               'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:spreadsheet>'
               '<table:table table:name="自评表"><table:table-row table:number-rows-repeated="1048576">'
               '<table:table-cell table:number-columns-repeated="16384" office:value-type="string">'
               '<text:p>三级指标</text:p></table:table-cell></table:table-row></table:table>'
               '</office:spreadsheet></office:body></office:document-content>')
    path = tmp_path / "重复炸弹.ods"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("content.xml", content)
    return path


def _xls_whole_sheet_merge(tmp_path: Path) -> Path:
    """A small .xls whose one merged range claims the whole sheet (256 × 65536 cells): xlwt
    writes A1:B2, then the MERGEDCELLS record is patched in place to A1:IV65536."""
    import struct

    import xlwt

    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("自评表")
    ws.write_merge(0, 1, 0, 1, "三级指标")
    path = tmp_path / "整表合并.xls"
    wb.save(str(path))
    data = bytearray(path.read_bytes())
    record = struct.pack("<HHH4H", 0x00E5, 10, 1, 0, 1, 0, 1)
    at = data.find(record)
    assert at > 0
    data[at:at + len(record)] = struct.pack("<HHH4H", 0x00E5, 10, 1, 0, 65535, 0, 255)
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize("make,code", [
    (_ole_random, "E-FILE-CORRUPT"),
    (_ole_header_random_body, "E-FILE-CORRUPT"),
    (_truncated_xls, "E-FILE-CORRUPT"),
    (_ods_zip_bomb, "E-FILE-UNSAFE"),
    (_ods_repeat_bomb, "E-FILE-UNSAFE"),
    (_xls_whole_sheet_merge, "E-NO-FORM"),
])
def test_hostile_xls_and_ods_are_refused_within_5s_and_300mb(tmp_path, make, code):
    path = make(tmp_path)
    wall, cpu, max_rss_kb, returncode, report = measure_check(path)
    assert returncode == 2
    assert cpu < 5.0 and wall < 30.0
    assert max_rss_kb < 300 * 1024
    assert report[0]["status"] == "unreadable" and [f["code"] for f in report[0]["findings"]] == [code]
    assert path.stat().st_size < 2 * 1024 * 1024  # small on disk: the danger is in reading it


def test_odf_text_document_and_word_doc_are_named(tmp_path):
    odt = tmp_path / "说明.ods"
    with zipfile.ZipFile(odt, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        zf.writestr("content.xml", "<office:document-content/>")
    result = check_file(odt)
    assert [f.code for f in result.findings] == ["E-FILE-FORMAT"] and "文字文档" in result.findings[0].message


def test_grid_clips_a_merged_range_to_the_used_area():
    sheet = SheetGrid("s", merged=[(1, 1, 1_048_576, 16_384), (5, 5, 4, 4)])
    from perfeval_xlsx.reading.grid import GridCell

    sheet.cells[(3, 2)] = GridCell("x")
    assert list(sheet.clipped_merges()) == [(1, 1, 4, 3)]


def test_check_reads_through_no_scored_copy_and_writes_nothing(converted, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copyfile(converted[BASE.name]["xls"], folder / "a.xls")
    shutil.copyfile(converted[BASE.name]["ods"], folder / "b.ods")
    result = run_cli("check", "--json", str(folder))
    assert result.returncode == 0
    data = json.loads(result.stdout)
    assert [(Path(d["file"]).name, d["status"]) for d in data] == [("a.xls", "ok"), ("b.ods", "ok")]
    assert sorted(p.name for p in folder.iterdir()) == ["a.xls", "b.ods"]


# --------------------------------------------------------------------------- the .xlsx XML reader


def _grid_view(sheet: SheetGrid) -> tuple:
    cells = {k: (c.value, c.number_format, c.is_formula, c.missing_cache, c.literal) for k, c in sheet.cells.items()}
    return sheet.title, sheet.state, cells, sorted(sheet.merged)


def _odd_workbook(path: Path) -> Path:
    """What the samples lack: a hidden sheet, dates, times, booleans, an error, a shared and an
    array formula, rich text, a formula without a result, a 1904 calendar."""
    from openpyxl.cell.rich_text import CellRichText, TextBlock
    from openpyxl.cell.text import InlineFont
    from openpyxl.worksheet.formula import ArrayFormula

    wb = openpyxl.Workbook()
    wb.epoch = openpyxl.utils.datetime.CALENDAR_MAC_1904
    ws = wb.active
    ws.title = "数据"
    ws["A1"], ws["B1"] = datetime.datetime(2024, 12, 31), datetime.date(2024, 6, 30)
    ws["C1"], ws["D1"] = datetime.time(12, 30), datetime.timedelta(hours=30)
    ws["A2"], ws["B2"], ws["C2"] = True, "#N/A", 0.93
    ws["C2"].number_format = "0.00%"
    ws["A3"] = "=SUM(A4:A5)"
    ws["B3"] = ArrayFormula("B3:B3", "=SUM(A4:A5*1)")
    ws["A4"], ws["A5"] = 1, 2.5
    ws["A6"] = CellRichText(["≥", TextBlock(InlineFont(b=True), "800"), "本"])
    ws["A7"] = "=100%"  # typed by the unit? openpyxl makes it a formula, as Excel would
    ws.merge_cells("A8:C9")
    hidden = wb.create_sheet("隐藏")
    hidden.sheet_state = "hidden"
    hidden["A1"] = "三级指标"
    wb.save(path)
    return path


def test_xlsx_xml_reader_gives_the_grid_openpyxl_gives(tmp_path):
    from perfeval_xlsx.reading.safety import cached_formula_values
    from perfeval_xlsx.reading.xlsx import sheet_from_openpyxl
    from perfeval_xlsx.reading.xlsx_xml import read_xlsx

    files = sorted(SAMPLES.rglob("*.xlsx")) + sorted((SAMPLES.parent / "workbook_templates").glob("*.xlsx"))
    files.append(_odd_workbook(tmp_path / "odd.xlsx"))
    rng = random.Random(5)
    for i in range(6):  # samples damaged at random and saved by openpyxl (formulas lose their results)
        wb = openpyxl.load_workbook(files[i])
        ws = wb.worksheets[0]
        for _ in range(8):
            try:
                ws.cell(rng.randint(1, 30), rng.randint(1, 10)).value = rng.choice(["", "≥5", 3.5, None, "=1+1", 7])
            except AttributeError:  # a merged follower
                pass
        wb.save(tmp_path / f"fuzz{i}.xlsx")
        files.append(tmp_path / f"fuzz{i}.xlsx")
    for path in files:
        ours = read_xlsx(path)
        wb = openpyxl.load_workbook(path)
        theirs = [sheet_from_openpyxl(ws, cached_formula_values(path, ws.title)) for ws in wb.worksheets]
        assert [_grid_view(s) for s in ours.sheets] == [_grid_view(s) for s in theirs], path.name


def test_an_html_table_saved_as_xls_is_named(tmp_path):
    path = tmp_path / "系统导出.xls"
    path.write_text("<html><body><table><tr><td>项目名称</td></tr></table></body></html>", encoding="utf-8")
    result = check_file(path)
    assert [f.code for f in result.findings] == ["E-FILE-FORMAT"] and "网页" in result.findings[0].message


def _ods_formula_without_result(converted, tmp_path: Path) -> Path:
    """The base sample as LibreOffice saves it as .ods, its 全年执行数 (F7) turned into the formula
    =E7 without a result, as a program that writes ODS without computing would leave it."""
    import re

    source = converted[BASE.name]["ods"]
    target = tmp_path / "无结果.ods"
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "content.xml":
                text = data.decode("utf-8")
                m = re.search(r'<table:table-cell table:number-columns-repeated="3"( [^>]*office:value="7.94"[^>]*)>'
                              r"<text:p>7.94</text:p></table:table-cell>", text)
                assert m, "the sample's D7:F7 cells are not where LibreOffice writes them"
                attrs = m.group(1)
                style = re.search(r'table:style-name="[^"]+"', attrs).group(0)
                cells = (f'<table:table-cell table:number-columns-repeated="2"{attrs}><text:p>7.94</text:p></table:table-cell>'
                         f'<table:table-cell {style} table:formula="of:=[.E7]"/>')
                data = (text[: m.start()] + cells + text[m.end():]).encode("utf-8")
            zout.writestr(info, data)
    return target


def test_ods_formula_without_result_is_computed_by_libreoffice(converted, tmp_path):
    need_soffice()
    result = check_file(_ods_formula_without_result(converted, tmp_path))
    assert [(f.code, f.cell, f.value) for f in result.findings] == [("I-FORMULA-COMPUTED", "F7", 7.94)]
    assert "LibreOffice" in result.findings[0].message
    assert result.score.total == 100 and result.status == "ok"


def test_ods_formula_without_result_and_no_engine_is_an_error(converted, tmp_path, monkeypatch):
    path = _ods_formula_without_result(converted, tmp_path)
    monkeypatch.setenv("PERFEVAL_SOFFICE", "")  # no LibreOffice; the formulas package does not read .ods
    result = check_file(path)
    assert [(f.code, f.cell) for f in result.findings] == [("E-FORMULA-NO-VALUE", "F7")]
