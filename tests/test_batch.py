"""`perfeval batch`: a folder of forms in, scored copies, one roll-up and perfeval-batch.json out.

The big batch (the samples, good and broken, a corrupt file and 40 generated forms) is run once
per module through the command line, twice (the second run must skip everything); the other
tests build small folders of their own. Expected values are written here by hand: the sample
README's figures, the manifest's findings, and the generated forms' totals (100 − 0.15 per
trainee short of the target of 40, see `generated_form`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

import openpyxl
import pytest

from perfeval_xlsx.batch import classify, discover, is_lock_or_temp, run_batch
from perfeval_xlsx.batch.pool import Scorer, _score_job
from perfeval_xlsx.forms.content import content_from_dict, load_definition
from perfeval_xlsx.mail import load_batch
from perfeval_xlsx.output.rollup import write_rollup
from perfeval_xlsx.output.template import write_form
from perfeval_xlsx.vocab import CACHE_FILE

from .conftest import BASE, SAMPLES, SEED000, SEED001, convert_to_pdf, run_cli

BASE_DEFINITION = SAMPLES / "definitions" / "broken" / "_base.toml"
MANIFEST = json.loads((SAMPLES / "manifest.json").read_text(encoding="utf-8"))
BROKEN = sorted((SAMPLES / "broken").glob("*.xlsx"))
GENERATED = 40  # with the 10 others: 50 projects, more than the 30 a ranking chart shows
SUMMARY_HEADERS = ["主管部门", "实施单位", "项目名称", "年度", "全年预算数（万元）", "全年执行数（万元）", "执行率", "总分",
                   "等级", "错误数", "预警数", "状态", "源文件", "评分副本"]


def generated_form(path: Path, i: int, short: int) -> float:
    """The base sample (all targets met, total 100) with a new project name, and the training
    row (≥40 人, 分值 6) `short` trainees short, self-scored 6×(40−short)/40 with a reason.
    Returns the hand-computed total: 100 − 6×short/40 = 100 − 0.15×short."""
    data = load_definition(BASE_DEFINITION)
    data.pop("sample", None)
    data["header"]["project"] = f"测试项目{i:03d}"
    data["header"]["unit"] = f"测试单位{i % 7}"
    row = next(r for r in data["indicators"] if r["level3"] == "党务培训班培训人数")
    row["actual"] = 40 - short
    row["score"] = round(6 * (40 - short) / 40, 2)
    row["reason"] = "部分学员因工作冲突未能参训，下期提前通知。" if short else ""
    write_form(content_from_dict(data), path)
    return round(100 - 0.15 * short, 2)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_table(path: Path, sheet: str) -> list[dict]:
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    rows = list(wb[sheet].iter_rows(values_only=True))
    wb.close()
    header = list(rows[0])
    return [dict(zip(header, r)) for r in rows[1:] if any(v is not None for v in r)]


def project_rows(path: Path) -> list[dict]:
    """项目汇总 without its 合计/平均 row."""
    return [r for r in read_table(path, "项目汇总") if r["主管部门"] != "合计/平均"]


def scored_copy_total(path: Path) -> float:
    """总分 as the scored copy itself shows it (its 评分汇总 sheet, values only)."""
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        for row in wb["评分汇总"].iter_rows(values_only=True):
            if row and row[0] == "总分":
                return row[1]
    finally:
        wb.close()
    raise AssertionError(f"{path.name}: no 总分 in 评分汇总")


def rollup_of(out: Path) -> Path:
    return out / json.loads((out / "perfeval-batch.json").read_text(encoding="utf-8"))["rollup"]


# --------------------------------------------------------------------------- the big batch


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    root = tmp_path_factory.mktemp("batch")
    inbox, out = root / "收件箱", root / "输出"
    (inbox / "broken").mkdir(parents=True)
    (inbox / "generated").mkdir()
    for f in (SEED000, SEED001, BASE):
        shutil.copy(f, inbox / f.name)
    for f in BROKEN:
        shutil.copy(f, inbox / "broken" / f.name)
    expected_totals = {}
    for i in range(GENERATED):
        rel = f"generated/单位填报_{i:03d}.xlsx"
        expected_totals[rel] = generated_form(inbox / rel, i, i % 10)
    (inbox / "损坏的表.xlsx").write_bytes(BASE.read_bytes()[:3000])  # a copy cut short
    # lock and temp files of Excel, WPS and LibreOffice: ignored
    (inbox / "~$损坏的表.xlsx").write_bytes(b"\x05cwk" + b"\x00" * 50)
    (inbox / ".~lock.单位填报_001.xlsx#").write_text("cwk,host,/home/cwk,22.11.2026 08:00,", encoding="utf-8")
    (inbox / "generated" / "~WRL0001.tmp").write_bytes(b"temp")
    # other spreadsheet files: skipped, with the reason; files that are no spreadsheets: ignored
    (inbox / "说明.txt").write_text("请各单位于 11 月底前报送。", encoding="utf-8")
    (inbox / "旧格式.xlsb").write_bytes(b"PK\x03\x04" + b"\x00" * 512)  # (.xls/.et/.ods are scored: test_formats.py)
    (inbox / "README.md").write_text("# 收表说明", encoding="utf-8")
    (inbox / "generated" / "make.py").write_text("print(1)", encoding="utf-8")
    inputs = {p: sha256(p) for p in inbox.rglob("*") if p.is_file()}

    first = run_cli("batch", str(inbox), "-o", str(out), "--recursive", "--jobs", "2", "--json")
    assert "Traceback" not in first.stderr, first.stderr[-2000:]
    data = json.loads(first.stdout)
    written_rollup = out / Path(data["rollup"]).name
    first_rollup = root / "first_rollup.xlsx"  # kept aside: the second run replaces it
    shutil.copy(written_rollup, first_rollup)
    copies = {p: p.stat().st_mtime_ns for p in out.rglob("*_评分.xlsx")}
    second = run_cli("batch", str(inbox), "-o", str(out), "--recursive", "--jobs", "2")
    assert "Traceback" not in second.stderr, second.stderr[-2000:]
    return SimpleNamespace(inbox=inbox, out=out, first=first, data=data, second=second, inputs=inputs,
                           copies=copies, first_rollup=first_rollup, written_rollup=written_rollup,
                           expected_totals=expected_totals)


def test_rollup_has_one_row_per_form(big):
    rows = project_rows(big.first_rollup)
    expected = ({f.name for f in (SEED000, SEED001, BASE)} | {f"broken/{f.name}" for f in BROKEN}
                | set(big.expected_totals) | {"损坏的表.xlsx"})
    assert len(expected) == 3 + 6 + GENERATED + 1
    assert sorted(r["源文件"] for r in rows) == sorted(expected)


def test_each_total_equals_the_scored_copy_and_the_hand_computed_one(big):
    rows = project_rows(big.first_rollup)
    checked = 0
    for row in rows:
        rel = Path(row["源文件"])
        if row["状态"] == "无法读取":
            assert row["总分"] is None and row["评分副本"] is None
            continue
        copy = big.out / rel.parent / f"{rel.stem}_评分.xlsx"
        assert row["评分副本"] == copy.name
        assert row["总分"] == pytest.approx(scored_copy_total(copy), abs=1e-9), rel
        checked += 1
    assert checked == len(rows) - 1
    by_file = {r["源文件"]: r for r in rows}
    for rel, total in big.expected_totals.items():
        assert by_file[rel]["总分"] == pytest.approx(total, abs=1e-9), rel
        assert (by_file[rel]["等级"], by_file[rel]["状态"]) == ("优", "通过")
    # the sample README's figures
    seed000 = by_file[SEED000.name]
    assert (seed000["总分"], seed000["等级"], seed000["执行率"]) == (pytest.approx(97.58), "优", pytest.approx(0.8369))
    assert (seed000["全年预算数（万元）"], seed000["全年执行数（万元）"]) == (pytest.approx(320), pytest.approx(267.81))
    assert (by_file[SEED001.name]["总分"], by_file[BASE.name]["总分"]) == (pytest.approx(99), pytest.approx(100))
    assert by_file["generated/单位填报_007.xlsx"]["项目名称"] == "测试项目007"
    assert by_file["generated/单位填报_007.xlsx"]["实施单位"] == "测试单位0"


def test_broken_files_are_listed_with_their_reasons(big):
    issues = read_table(big.first_rollup, "问题清单")
    listed = {(r["源文件"], r["代码"], r["单元格"], r["级别"]) for r in issues}
    broken = [m for m in MANIFEST if m["file"].startswith("broken/")]
    assert len(broken) == 6
    for m in broken:
        for f in m["findings"]:
            assert (m["file"], f["code"], f["cell"], {"error": "错误", "warning": "预警"}[f["severity"]]) in listed
    corrupt = [r for r in issues if r["源文件"] == "损坏的表.xlsx"]
    assert [r["代码"] for r in corrupt] == ["E-FILE-CORRUPT"]
    assert "损坏" in corrupt[0]["说明及改法"] and "重新保存" in corrupt[0]["说明及改法"]
    # errors before warnings before notes
    order = {"错误": 0, "预警": 1, "提示": 2}
    assert [order[r["级别"]] for r in issues] == sorted(order[r["级别"]] for r in issues)
    # the console report names the file and why
    report = big.second.stdout
    assert re.search(r"无法读取\s+损坏的表\.xlsx\s+文件不完整或已损坏", report)
    assert re.search(r"有错误\s+broken/分值合计不等于100\.xlsx.*总分 99\s+等级 待更正\s+错误 1（H25：", report)


def test_lock_files_and_non_spreadsheets_are_ignored_other_spreadsheets_skipped_with_a_reason(big):
    files = [Path(d["file"]).name for d in big.data["files"]]
    assert not [f for f in files if f.startswith(("~", ".~"))]
    skipped = {s["file"]: s["reason"] for s in big.data["skipped"]}
    assert set(skipped) == {"旧格式.xlsb"}  # 说明.txt, README.md and make.py are simply no forms
    assert "另存为 .xlsx" in skipped["旧格式.xlsb"]
    sheet = read_table(big.first_rollup, "未处理文件")
    assert {r["文件"] for r in sheet} == {"旧格式.xlsb"}
    assert "已跳过  旧格式.xlsb  Excel 二进制工作簿（.xlsb）" in big.second.stdout
    assert "说明.txt" not in big.second.stdout and "README.md" not in big.second.stdout


def test_json_summary_and_exit_code(big):
    assert big.first.returncode == 2  # one file cannot be read
    assert big.first.stderr == ""  # not a terminal: no progress bar; nothing but JSON on stdout
    assert set(big.data) >= {"files", "summary", "rollup"}
    # hand-counted: 2 clean samples + 40 generated; seed 000 and two broken files warn; four broken
    # files have errors; one file is cut short; 旧格式.xlsb is skipped
    assert {k: big.data["summary"][k] for k in ("total", "ok", "warnings", "errors", "unreadable", "skipped")} == \
        {"total": 50, "ok": 42, "warnings": 3, "errors": 4, "unreadable": 1, "skipped": 1}
    assert Path(big.data["rollup"]).name.startswith("汇总_") and big.first_rollup.is_file()  # (replaced since)
    for d in big.data["files"]:
        assert set(d) >= {"file", "status", "project", "findings", "execution_rate", "execution_score", "total",
                          "grade", "indicators", "output"}
        if d["status"] == "unreadable":
            assert d["output"] is None
        else:
            assert Path(d["output"]).is_file() and Path(d["output"]).resolve().is_relative_to(big.out.resolve())
    generated = [d for d in big.data["files"] if "generated" in d["file"]]
    assert len(generated) == GENERATED and all(len(d["indicators"]) == 11 for d in generated)


def test_second_run_skips_everything_unchanged(big):
    assert big.second.returncode == 2
    assert big.second.stdout.count("（未改动，沿用上次结果）") == 50  # one per file
    assert "其中 50 个未改动" in big.second.stdout
    assert {p: p.stat().st_mtime_ns for p in big.out.rglob("*_评分.xlsx")} == big.copies  # not rewritten
    second_rollup = rollup_of(big.out)
    assert second_rollup != big.written_rollup and not big.written_rollup.exists()  # replaced: one roll-up
    assert [p.name for p in big.out.glob("汇总_*.xlsx")] == [second_rollup.name]
    assert len(read_table(second_rollup, "项目汇总")) == 50 + 1  # and the 合计/平均 row


def test_inputs_are_never_modified(big):
    assert {p: sha256(p) for p in big.inputs} == big.inputs
    assert not [p for p in big.inbox.rglob("*") if p.is_file() and p not in big.inputs]  # nothing written into INBOX


def test_batch_json_loads_with_mail(big):
    batch = load_batch(big.out)
    assert len(batch.projects) == 50
    assert (big.out / batch.rollup).is_file() and batch.rollup.startswith("汇总_")
    assert batch.summary["total"] == 50
    statuses = {p.file.replace("\\", "/").split("收件箱/")[-1]: p.status for p in batch.projects}
    assert statuses["损坏的表.xlsx"] == "unreadable" and statuses["broken/自评得分超过分值.xlsx"] == "errors"
    assert all((big.out / p.output).is_file() for p in batch.projects if p.output)


def test_cache_is_json_with_the_content_hashes(big):
    cache = json.loads((big.out / CACHE_FILE).read_text(encoding="utf-8"))
    entries = cache["entries"]
    assert len(entries) == 50
    for name, entry in entries.items():
        assert entry["sha256"] == sha256(Path(name))


def test_rollup_layout_formats_and_chart_data(big):
    path = big.first_rollup
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["项目汇总", "指标明细", "问题清单", "图表", "未处理文件"]
    ws = wb["项目汇总"]
    assert [c.value for c in ws[1]] == SUMMARY_HEADERS
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:N51"
    assert ws["G2"].number_format == "0.00%" and ws["H2"].number_format == "0.00"
    assert ws["E2"].number_format == "#,##0.00"
    assert ws["A2"].font.name == "宋体"
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
    assert ws.sheet_properties.pageSetUpPr.fitToPage  # one page wide (fitToWidth defaults to 1), as many tall
    assert ws.page_setup.fitToWidth in (None, 1) and ws.page_setup.fitToHeight == 0
    assert ws.column_dimensions["C"].width > 10  # fitted to the Chinese project names
    rules = {(str(rng.sqref), r.formula[0]) for rng in ws.conditional_formatting for r in rng.rules}
    assert {("I2:I51", '"优"'), ("I2:I51", '"待更正"'), ("I2:I51", '"差"')} <= rules
    for name in ("指标明细", "问题清单"):
        assert wb[name].freeze_panes == "A2" and wb[name].auto_filter.ref.startswith("A1:")
    detail = read_table(path, "指标明细")
    assert sum(1 for r in detail if r["源文件"].startswith("generated/")) == GENERATED * 11
    # chart data: values on the 图表 sheet (no formulas anywhere)
    charts = {}
    for row in wb["图表"].iter_rows(values_only=True):
        if row[0] is not None and row[1] is not None:
            charts[row[0]] = row[1]
    assert {g: charts[g] for g in ("优", "良", "中", "差", "待更正")} == {"优": 45, "良": 0, "中": 0, "差": 0, "待更正": 4}  # 40 generated + 5
    assert charts["80%–90%"] == 1 and charts["100%及以上"] == 47 and charts["60%以下"] == 0
    assert charts["无法计算（资金数据有误）"] == 1  # 金额单元格填了文字: the amount is text
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        assert len([n for n in names if re.fullmatch(r"xl/charts/chart\d+\.xml", n)]) == 4  # 50 > 30: top and bottom 15
        sheets = "".join(z.read(n).decode("utf-8") for n in names if n.startswith("xl/worksheets/sheet"))
        assert "<f>" not in sheets


def _ppm_pixels(path: Path) -> tuple[int, int, bytes]:
    data = path.read_bytes()
    parts = data.split(maxsplit=4)  # P6, width, height, maxval, pixels
    assert parts[0] == b"P6"
    return int(parts[1]), int(parts[2]), parts[4]


def test_rollup_converts_to_pdf_and_its_charts_show(big, soffice, tmp_path):
    copy = tmp_path / "rollup.xlsx"
    copy.write_bytes(big.first_rollup.read_bytes())
    result = convert_to_pdf(soffice, [copy], tmp_path)
    pdf = tmp_path / "rollup.pdf"
    assert pdf.exists(), result.stderr[-500:]
    if not (shutil.which("pdftotext") and shutil.which("pdftoppm")):
        if os.environ.get("CI"):
            pytest.fail("CI must have poppler-utils (pdftotext, pdftoppm)")
        pytest.skip("poppler-utils not installed")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, timeout=60).stdout
    pages = text.split("\f")
    chart_page = next(i for i, p in enumerate(pages, 1) if "等级分布" in p and "概况" in p)
    subprocess.run(["pdftoppm", "-r", "60", "-f", str(chart_page), "-l", str(chart_page), str(pdf), str(tmp_path / "charts")],
                   check=True, timeout=60)
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", str(chart_page), "-l", str(chart_page), str(pdf),
                    str(tmp_path / "charts")], check=True, timeout=60)  # to look at: charts-N.png
    ppm = next(tmp_path.glob("charts*.ppm"))
    _, _, pixels = _ppm_pixels(ppm)

    def count(rgb: tuple[int, int, int]) -> int:
        return sum(1 for i in range(0, len(pixels) - 2, 3)
                   if all(abs(pixels[i + k] - rgb[k]) <= 12 for k in range(3)))

    assert count((0x70, 0xAD, 0x47)) > 500  # the green 优 column of the grade chart
    assert count((0x5B, 0x9B, 0xD5)) > 500  # the blue columns of the execution-rate chart


# --------------------------------------------------------------------------- small folders


def _crashing_worker(source: str, out_dir: str) -> dict:
    """Kills its worker process on a file named 崩溃*, like a crash in a native library."""
    if Path(source).name.startswith("崩溃"):
        os._exit(3)
    return _score_job(source, out_dir)


def test_a_worker_crash_does_not_stop_the_batch(tmp_path):
    inbox, out = tmp_path / "in", tmp_path / "out"
    inbox.mkdir()
    for i in range(4):
        generated_form(inbox / f"表{i}.xlsx", i, 0)
    shutil.copy(BASE, inbox / "崩溃.xlsx")
    result = run_batch(inbox, out, scorer=Scorer(jobs=2, worker=_crashing_worker))
    by_file = {f.file: f for f in result.files}
    assert by_file["崩溃.xlsx"].status == "unreadable" and "意外退出" in by_file["崩溃.xlsx"].reason
    assert [by_file[f"表{i}.xlsx"].total for i in range(4)] == [100, 100, 100, 100]
    # a crash is not remembered: the next run tries the file again (and scores it)
    again = run_batch(inbox, out, jobs=1)
    assert again.summary["scored"] == 1 and {f.file: f.total for f in again.files}["崩溃.xlsx"] == 100


def test_changed_file_redone_deleted_file_dropped_force_redoes_all(tmp_path):
    inbox, out = tmp_path / "in", tmp_path / "out"
    inbox.mkdir()
    for i in range(3):
        generated_form(inbox / f"表{i}.xlsx", i, 0)
    first = run_batch(inbox, out, jobs=2)
    assert first.summary["scored"] == 3
    assert run_batch(inbox, out, jobs=2).summary["scored"] == 0
    expected = generated_form(inbox / "表1.xlsx", 1, 4)  # 4 trainees short: 100 − 0.6
    changed = run_batch(inbox, out, jobs=2)
    assert [f.file for f in changed.files if not f.cached] == ["表1.xlsx"]
    assert {f.file: f.total for f in changed.files} == {"表0.xlsx": 100, "表1.xlsx": pytest.approx(expected), "表2.xlsx": 100}
    assert expected == 99.4 and scored_copy_total(out / "表1_评分.xlsx") == pytest.approx(99.4)
    (inbox / "表2.xlsx").unlink()
    dropped = run_batch(inbox, out, jobs=2)
    assert [f.file for f in dropped.files] == ["表0.xlsx", "表1.xlsx"]
    assert len(project_rows(dropped.rollup)) == 2
    # the scored copy of the removed form does not stay looking current: moved aside and listed
    assert dropped.retired == [("表2_评分.xlsx", "已移出收表文件夹的评分副本/表2_评分.xlsx")]
    assert not (out / "表2_评分.xlsx").exists() and (out / "已移出收表文件夹的评分副本" / "表2_评分.xlsx").is_file()
    assert len(json.loads((out / CACHE_FILE).read_text(encoding="utf-8"))["entries"]) == 2
    (out / "表0_评分.xlsx").unlink()  # a scored copy deleted by hand is written again
    assert [f.file for f in run_batch(inbox, out, jobs=2).files if not f.cached] == ["表0.xlsx"]
    forced = run_cli("batch", str(inbox), "-o", str(out), "--force", "--json")
    assert forced.returncode == 0
    assert json.loads(forced.stdout)["summary"]["scored"] == 2


def test_exit_codes_and_usage_errors(tmp_path):
    inbox, out = tmp_path / "in", tmp_path / "out"
    inbox.mkdir()
    shutil.copy(BASE, inbox / BASE.name)
    shutil.copy(SEED000, inbox / SEED000.name)  # warnings only
    assert run_cli("batch", str(inbox), "-o", str(out)).returncode == 0
    shutil.copy(SAMPLES / "broken" / "自评得分超过分值.xlsx", inbox / "b.xlsx")
    assert run_cli("batch", str(inbox), "-o", str(out)).returncode == 1
    (inbox / "c.xlsx").write_bytes(b"")
    assert run_cli("batch", str(inbox), "-o", str(out)).returncode == 2
    for args, words in (
        ((str(tmp_path / "没有这个文件夹"), "-o", str(out)), "找不到文件夹"),
        ((str(inbox),), "请用 -o 指定输出文件夹"),
        ((str(BASE), "-o", str(out)), "不是文件夹"),
        ((str(inbox), "-o", str(out), "--jobs", "0"), "--jobs"),
        ((str(inbox), "-o", str(out), "--profile", "nope"), "未知的评分规则"),
    ):
        result = run_cli("batch", *args)
        assert result.returncode == 2 and words in result.stderr and "Traceback" not in result.stderr, args
        assert result.stdout == ""
    only_locks = tmp_path / "locks"
    only_locks.mkdir()
    (only_locks / "~$表.xlsx").write_bytes(b"x")
    (only_locks / ".~lock.表.xlsx#").write_text("x")
    result = run_cli("batch", str(only_locks), "-o", str(out))
    assert result.returncode == 2 and "没有自评表文件（.xlsx、.xlsm、.xls、.et、.ods）" in result.stderr


def test_outbox_inside_or_equal_to_inbox_is_not_scored_again(tmp_path):
    inbox = tmp_path / "in"
    inbox.mkdir()
    shutil.copy(BASE, inbox / "a.xlsx")
    for _ in range(2):
        result = run_batch(inbox, inbox / "评分结果", recursive=True, jobs=1)
        assert [f.file for f in result.files] == ["a.xlsx"] and result.skipped == []
    for _ in range(2):
        result = run_batch(inbox, inbox, jobs=1)
        assert [f.file for f in result.files] == ["a.xlsx"]
        assert result.skipped == []  # the subfolder holds only our own outputs: not worth a line
    assert (inbox / "a_评分.xlsx").is_file() and not list(inbox.rglob("*_评分_评分*"))


def test_two_rollups_in_the_same_second_do_not_overwrite(tmp_path):
    moment = datetime(2026, 11, 22, 8, 0, 1)
    files = [{"file": "a.xlsx", "status": "unreadable", "findings": [], "output": None}]
    first = write_rollup(tmp_path, files, generated_at=moment)
    second = write_rollup(tmp_path, files, generated_at=moment, keep_older=True)
    assert (first.name, second.name) == ("汇总_20261122-080001.xlsx", "汇总_20261122-080001_2.xlsx")
    assert first.is_file() and second.is_file()
    assert not list(tmp_path.glob(".perfeval-*"))  # no temporary file left behind
    # by default the older roll-ups of the folder are replaced: one current roll-up
    (tmp_path / "汇总_20200101-000000.xlsx").write_bytes(b"a file of that name that is not ours")
    third = write_rollup(tmp_path, files, generated_at=datetime(2026, 11, 22, 9, 0, 0))
    assert sorted(p.name for p in tmp_path.glob("汇总_*.xlsx")) == ["汇总_20200101-000000.xlsx", third.name]


@pytest.mark.parametrize("name", ["~$表.xlsx", ".~lock.表.xlsx#", "~WRL0001.tmp", "~$表", "lu12345.tmp", "Thumbs.db",
                                  "desktop.ini", ".DS_Store", "A1B2C3D4", ".perfeval-rollup-1a2b.xlsx.tmp"])
def test_lock_temp_and_system_files_are_recognised(name):
    assert is_lock_or_temp(name)


@pytest.mark.parametrize("name, outcome", [
    ("表.xlsx", None), ("表.XLSM", None), ("表.xls", None), ("表.et", None), ("表.ods", None), ("表.xlsb", "另存为 .xlsx"),
    ("表.csv", "CSV"), ("表.zip", ""), ("表.pdf", ""), ("说明.docx", ""), ("照片.jpg", ""), ("README.md", ""),
    ("build.py", ""), ("perfeval.toml", ""),
])
def test_classify(name, outcome, tmp_path):
    """Spreadsheets we cannot read are skipped with what to do; anything else is no form."""
    reason = classify(tmp_path / name, tmp_path, tmp_path / "out")
    assert reason is None if outcome is None else (outcome in reason if outcome else reason == "")


def test_discovery_without_recursive_reports_subfolders(tmp_path):
    (tmp_path / "sub").mkdir()
    shutil.copy(BASE, tmp_path / "sub" / "a.xlsx")
    shutil.copy(BASE, tmp_path / "b.xlsx")
    flat = discover(tmp_path, tmp_path / "out")
    assert [p.name for p in flat.files] == ["b.xlsx"]
    assert [(s.file, s.reason) for s in flat.skipped] == [("sub/", "这是子文件夹，其中的文件未处理（未选择包括子文件夹）。")]
    shown = run_cli("batch", str(tmp_path), "-o", str(tmp_path / "out"))
    assert "已跳过  sub/  这是子文件夹，其中的文件未处理（未选择包括子文件夹）。如需一并处理，请加 --recursive。" in shown.stdout
    deep = discover(tmp_path, tmp_path / "out", recursive=True)
    assert [p.relative_to(tmp_path).as_posix() for p in deep.files] == ["b.xlsx", "sub/a.xlsx"]


def test_ctrl_c_stops_the_batch_cleanly_and_keeps_the_work_done(tmp_path):
    inbox, out = tmp_path / "in", tmp_path / "out"
    inbox.mkdir()
    for i in range(60):
        generated_form(inbox / f"表{i:02d}.xlsx", i, i % 10)
    proc = subprocess.Popen([sys.executable, "-m", "perfeval_xlsx", "batch", str(inbox), "-o", str(out), "--jobs", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 90
        # a scored copy on disk does not mean its result reached the parent: wait until the
        # parent has recorded one (the cache being written holds one entry per line, flushed)
        def recorded() -> bool:
            return any(b'\n"' in p.read_bytes() for p in out.glob(".perfeval-cache-*.tmp"))

        while not recorded() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    assert proc.returncode == 130 and "Traceback" not in err and "已中断" in err
    assert not list(out.glob("汇总_*.xlsx"))  # no roll-up of a partial run
    again = run_batch(inbox, out, jobs=2)
    assert again.summary["unchanged"] >= 1 and again.summary["total"] == 60
    assert not list(out.glob(".perfeval-*.tmp"))  # no temporary file left behind


# -- defects found in review -------------------------------------------------------------------

def test_a_second_run_on_the_same_outbox_waits_then_gives_up(tmp_path):
    from perfeval_xlsx.batch import OutboxBusy, outbox_lock

    out = tmp_path / "out"
    out.mkdir()
    with outbox_lock(out):
        with pytest.raises(OutboxBusy):
            with outbox_lock(out, wait=0.6):
                pass
    with outbox_lock(out, wait=0.1):  # released: free again
        pass


def test_symbolic_links_are_skipped_with_a_reason(tmp_path):
    from perfeval_xlsx.batch.discover import SYMLINK_REASON, discover

    inbox = tmp_path / "in"
    inbox.mkdir()
    (inbox / "真表.xlsx").write_bytes(BASE.read_bytes())
    (inbox / "快捷方式.xlsx").symlink_to(inbox / "真表.xlsx")
    (inbox / "断开.xlsx").symlink_to(tmp_path / "不存在.xlsx")
    found = discover(inbox, tmp_path / "out")
    assert [p.name for p in found.files] == ["真表.xlsx"]
    assert {(s.file, s.reason) for s in found.skipped} == {("快捷方式.xlsx", SYMLINK_REASON), ("断开.xlsx", SYMLINK_REASON)}
    result = run_cli("batch", str(inbox), "-o", str(tmp_path / "out"), "--json")
    assert result.returncode == 0 and "Traceback" not in result.stderr


def test_a_file_removed_while_scoring_is_skipped_not_unreadable(tmp_path):
    from perfeval_xlsx.batch import discover, run_batch

    inbox = tmp_path / "in"
    inbox.mkdir()
    for name in ("甲.xlsx", "乙.xlsx"):
        (inbox / name).write_bytes(BASE.read_bytes())
    found = discover(inbox, tmp_path / "out")
    (inbox / "乙.xlsx").unlink()  # gone after discovery
    result = run_batch(inbox, tmp_path / "out", discovery=found, jobs=1)
    assert result.summary["total"] == 1 and result.summary["unreadable"] == 0
    assert [s.file for s in result.skipped] == ["乙.xlsx"]
    assert result.exit_code == 0


def test_abandoned_cache_leaves_no_temp_file(tmp_path):
    from perfeval_xlsx.batch.cache import _CacheWriter

    writer = _CacheWriter(tmp_path)
    real_close = writer.fh.close

    def full_disk():
        real_close()
        raise OSError(28, "No space left on device")

    writer.fh.close = full_disk
    writer.abandon()
    assert list(tmp_path.iterdir()) == []


# -- the outputs written while the files are scored ------------------------------------------


class _InProcessScorer:
    """Scores in this process, handing the results on in an order of its own: `reverse` (every
    file but the last listed arrives early and waits), or `twice` (the first file is reported
    twice: the outputs must then be written from the final results). `remove`: a file deleted
    just before it is scored."""

    def __init__(self, order: str, report=None, remove: str | None = None):
        self.order, self.report, self.remove = order, report, remove

    def run(self, jobs, on_done) -> None:
        jobs = list(reversed(jobs)) if self.order == "reverse" else list(jobs)
        for job in jobs:
            if self.remove and job.source.name == self.remove:
                job.source.unlink()
            on_done(job, _score_job(str(job.source), str(job.out_dir), report=self.report), False)
        if self.order == "twice":
            on_done(jobs[0], _score_job(str(jobs[0].source), str(jobs[0].out_dir), report=self.report), False)

    def close(self, cancel: bool = False) -> None:
        pass


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {name: z.read(name) for name in z.namelist()}


@pytest.mark.parametrize("order", ["reverse", "twice"])
def test_outputs_written_while_scoring_equal_those_written_at_the_end(tmp_path, order):
    import io

    from perfeval_xlsx.batch import JsonFiles, stream_json, write_batch_json
    from perfeval_xlsx.batch.ordered import KEEP_EARLY
    from perfeval_xlsx.report import load_template
    from perfeval_xlsx.report.summary import write_summary_report

    inbox, out, end = tmp_path / "in", tmp_path / "out", tmp_path / "end"
    (inbox / "broken").mkdir(parents=True)
    for f in (SEED000, SEED001, BASE):
        shutil.copy(f, inbox / f.name)
    if order == "reverse":  # more files than wait in memory: the others are read back from the cache
        for f in BROKEN:
            shutil.copy(f, inbox / "broken" / f.name)
        for i in range(KEEP_EARLY - 4):
            generated_form(inbox / f"单位{i}.xlsx", i, i % 3)
    (inbox / "损坏的表.xlsx").write_bytes(BASE.read_bytes()[:3000])
    shutil.copy(BASE, inbox / "被移走的表.xlsx")
    (inbox / "旧格式.xlsb").write_bytes(b"PK\x03\x04" + b"\x00" * 512)
    wording, moment = load_template(), datetime(2026, 11, 22, 8, 0, 1)
    with JsonFiles() as rendered:
        result = run_batch(inbox, out, recursive=True, report=wording, now=moment, listed=rendered.add,
                           scorer=_InProcessScorer(order, wording, remove="被移走的表.xlsx"))
        assert result.listed is (order == "reverse")
        assert "被移走的表.xlsx" in {s.file for s in result.skipped}
        assert len(result.files) == (3 + len(BROKEN) + KEEP_EARLY - 4 + 1 if order == "reverse" else 4)
        streamed = io.StringIO()
        stream_json(result, streamed, rendered)
    at_end = io.StringIO()
    stream_json(result, at_end)
    assert streamed.getvalue() == at_end.getvalue()
    assert [d["file"] for d in json.loads(streamed.getvalue())["files"]] == [str(inbox / f.file) for f in result.files]

    end.mkdir()
    rollup = write_rollup(end, result.iter_files(relative_output=True), skipped=result.skipped, generated_at=moment,
                          profile=result.profile, relative_to=inbox)
    assert rollup.name == result.rollup.name and _members(result.rollup) == _members(rollup)
    summary = write_summary_report(end, result.iter_files(), wording, name=result.summary_report.name,
                                   skipped=len(result.skipped), generated_at=moment)
    assert _members(result.summary_report) == _members(summary)
    batch_json = result.batch_json.read_bytes()
    write_batch_json(result)  # rendered from the cache now
    assert result.batch_json.read_bytes() == batch_json
    assert not list(out.glob(".perfeval-*.tmp"))


def test_in_order_hands_results_on_in_listing_order():
    from perfeval_xlsx.batch.ordered import KEEP_EARLY, InOrder

    keys = [f"k{i:02d}" for i in range(KEEP_EARLY + 4)]
    got = []
    feed = InOrder(keys, lambda key, result: got.append((key, result)))
    for key in reversed(keys[2:]):  # all but the first two arrive early
        feed.put(key, {"key": key})
    assert got == [] and len(feed.kept) == KEEP_EARLY
    feed.drop(keys[1])  # removed meanwhile: not listed, and nothing waits for it
    assert got == []
    feed.put(keys[0], {"key": keys[0]})
    assert [k for k, _ in got] == [keys[0], *keys[2:]] and feed.complete and feed.emitted == len(keys) - 1
    # the last ones to arrive early were kept in memory, the first ones wait to be read back
    assert [r is None for _, r in got[1:]] == [True] * (len(keys) - 2 - KEEP_EARLY) + [False] * KEEP_EARLY
    feed.put(keys[0], {})  # twice: the listing is no longer trusted
    assert feed.broken and not feed.complete


# -- what a worker process loads -------------------------------------------------------------

#: never needed to score a file: the command line, the console, mail, watch mode, the parent's outputs
NOT_IN_WORKERS = ("typer", "click", "rich", "pydantic", "shellingham", "watchdog", "docx", "perfeval_xlsx.cli",
                  "perfeval_xlsx.cli_text", "perfeval_xlsx.console", "perfeval_xlsx.mail", "perfeval_xlsx.batch.run",
                  "perfeval_xlsx.batch.watch", "perfeval_xlsx.output.rollup", "perfeval_xlsx.report")

_PROBE = '''
import sys

from perfeval_xlsx.batch.pool import _score_job


def probe(source, out_dir):
    result = _score_job(source, out_dir)
    result["_modules"] = sorted(sys.modules)
    return result
'''

# what pip writes for [project.scripts] perfeval = "module:function"; spawn runs it again in each
# worker (as __mp_main__: its top, not its main block)
_CONSOLE_SCRIPT = '''import re
import sys
from {module} import {function}
if __name__ == "__main__":
    import json
    from pathlib import Path

    sys.path.insert(0, {probe_dir!r})
    import worker_probe
    from perfeval_xlsx.batch.pool import Scorer, _Job

    got = []
    scorer = Scorer(jobs=1, worker=worker_probe.probe)
    scorer.run([_Job("x", Path(sys.argv[1]), Path(sys.argv[2]))], lambda job, result, retry: got.append(result))
    scorer.close()
    print(json.dumps(got[0]))
'''


def test_a_worker_started_by_the_perfeval_command_loads_only_what_scoring_needs(tmp_path):
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib
    from .conftest import ROOT

    entry = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]["perfeval"]
    module, function = entry.split(":")
    (tmp_path / "worker_probe.py").write_text(_PROBE, encoding="utf-8")
    script = tmp_path / "perfeval"
    script.write_text(_CONSOLE_SCRIPT.format(module=module, function=function, probe_dir=str(tmp_path)), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    run = subprocess.run([sys.executable, str(script), str(BASE), str(tmp_path / "out")], capture_output=True, text=True,
                         timeout=300, env=env, cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads(run.stdout.splitlines()[-1])
    assert result["status"] != "unreadable" and result["total"] == 100
    modules = result["_modules"]
    assert [m for m in modules if m in NOT_IN_WORKERS or m.split(".")[0] in NOT_IN_WORKERS] == []
    assert "pandas" in modules  # scoring's own (rules.scoring)


def test_an_abandoned_rollup_leaves_nothing_behind(tmp_path):
    from perfeval_xlsx.output.rollup import RollupWriter

    rollup = RollupWriter(tmp_path, profile="auto")
    scratch = Path(rollup._scratch)
    rollup.add({"file": "甲.xlsx", "status": "ok", "project": {"name": "项目甲"}, "total": 95.0, "grade": "优",
                "indicators": [{"level1": "产出指标", "level3": "培训人数", "score": 6.0}],
                "findings": [{"severity": "warning", "code": "W-X", "message": "C5：说明"}]})
    assert scratch.is_dir() and list(tmp_path.glob(".perfeval-rollup-*.xlsx.tmp"))
    rollup.abandon()
    assert list(tmp_path.iterdir()) == [] and not scratch.exists()


def test_scratch_folders_of_dead_runs_are_removed_and_those_in_use_kept(tmp_path):
    from perfeval_xlsx.output.atomic import try_lock
    from perfeval_xlsx.output.rollup import SCRATCH_LOCK, SCRATCH_PREFIX, remove_stale_scratch

    old = time.time() - 3600
    dead, unlocked, live, young = (tmp_path / f"{SCRATCH_PREFIX}{name}" for name in ("dead", "unlocked", "live", "young"))
    for folder in (dead, unlocked, live, young):
        folder.mkdir()
        (folder / "tmprows").write_text("<row/>", encoding="utf-8")
    for folder in (dead, live, young):
        (folder / SCRATCH_LOCK).write_bytes(b"")
    with open(live / SCRATCH_LOCK, "r+b") as held:  # a run still writing holds its lock
        assert try_lock(held)
        for folder in (dead, unlocked, live):
            os.utime(folder, (old, old))
        assert sorted(p.name for p in remove_stale_scratch(tmp_path)) == [dead.name, unlocked.name]
    assert live.is_dir() and young.is_dir() and not dead.exists() and not unlocked.exists()
