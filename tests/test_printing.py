"""What the office prints: rows tall enough for their text, pages broken between groups with the
totals kept with the table, a scored form that adds up, highlights that stay apart in grey, and
the same figures written the same way on every sheet.

Printed output is checked in LibreOffice (PDF, then its text page by page); the row-growth test
types into the template through LibreOffice's own API (the system python3 with `uno`).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from perfeval_xlsx.batch import run_batch
from perfeval_xlsx.forms.content import content_from_dict, load_definition
from perfeval_xlsx.output.template import INPUT_FILL, write_form
from perfeval_xlsx.output.looks import HIGHLIGHT
from perfeval_xlsx.rules.findings import ERROR, INFO, WARNING
from perfeval_xlsx.score import score_file

from .conftest import BASE, FRAMEWORK_TEMPLATE, MOF_TEMPLATE, SAMPLES, SEED000, SEED001, convert_to_pdf, run_cli

BASE_DEFINITION = SAMPLES / "definitions" / "broken" / "_base.toml"
HELPER = Path(__file__).parent / "helpers" / "lo_type_into.py"
REASON = ("实际参会人数增多，部分商会主动申请增派党务工作者参训，培训规模超出计划；下一年度将根据各商会报名情况"
          "合理确定培训人数，提前做好场地和经费安排。")
PARTIAL = "部分达成年度指标并具有一定效果"  # the 定性 dropdown's longest value
CAPPED = "控制在120万元以内"


def _long_form(path: Path) -> Path:
    """The base sample as a unit writes it: a long 偏差原因, a folded target, the long 定性 grade."""
    data = load_definition(BASE_DEFINITION)
    data.pop("sample", None)
    for r in data["indicators"]:
        if r["level3"] == "党务培训班培训人数":
            r["reason"] = REASON
        if r["level3"] == "党务培训班费用":
            r.update(operator="", target=CAPPED, unit="")
        if r["operator"] == "定性":
            r.update(actual=PARTIAL, score=9, reason="部分商会党组织活动开展不够经常，下一步加强督促指导。")
    write_form(content_from_dict(data), path)
    return path


def _filled_by_a_program(path: Path) -> Path:
    """Our blank template filled cell by cell by a program that fits no row (as some systems do)."""
    wb = openpyxl.load_workbook(MOF_TEMPLATE)
    ws = wb["自评表"]
    values = {"C3": "非公有制党建工作经费", "C4": "乌鲁木齐市工商业联合会", "H4": "乌鲁木齐市工商业联合会", "C5": 2024,
              "D7": 7.94, "E7": 7.94, "F7": 7.94}
    for address, value in values.items():
        ws[address] = value
    rows = [("商会党建书籍配发", "≥", 800, "本", 1015, 30, 30, None), ("党务培训班培训人数", "≥", 40, "人", 62, 30, 30, REASON),
            ("党务培训班费用", None, CAPPED, None, 100, 10, 10, None), ("有效提高商会党建各项工作", "定性", "有效提高", None, PARTIAL, 10, 7, "尚有差距。"),
            ("服务对象满意度", "≥", 85, "%", 93, 10, 10, None)]
    for r, row in zip((14, 15, 23, 29, 38), rows, strict=True):  # 数量, 数量, 成本, 社会效益, 满意度
        for col, value in zip("CDEFGHIJ", row, strict=True):
            if value is not None:
                ws[f"{col}{r}"] = value
    wb.save(path)
    return path


def _pages(soffice: str, books: list[Path], tmp_path: Path) -> dict[Path, list[str]]:
    """Each workbook's printed pages as text (LibreOffice → PDF → pdftotext)."""
    if not shutil.which("pdftotext"):
        pytest.skip("poppler-utils not installed")
    copies = []
    for i, book in enumerate(books):
        copies.append(tmp_path / f"print{i}.xlsx")
        shutil.copy(book, copies[-1])
    convert_to_pdf(soffice, copies, tmp_path)
    out = {}
    for book, copy in zip(books, copies, strict=True):
        # -raw: in the order LibreOffice draws, so the lines of one cell come together
        text = subprocess.run(["pdftotext", "-raw", str(copy.with_suffix(".pdf")), "-"], capture_output=True,
                              text=True, timeout=60).stdout
        out[book] = [re.sub(r"\s+", "", page) for page in text.split("\f") if page.strip()]
    return out


# --------------------------------------------------------------------------- rows


def test_blank_template_rows_grow_with_what_is_typed(tmp_path):
    """The indicator rows have no fixed height, so Excel, WPS and LibreOffice fit them to the text;
    typed into the template in LibreOffice, a long 偏差原因 makes its row grow."""
    for path in (MOF_TEMPLATE, FRAMEWORK_TEMPLATE):
        ws = openpyxl.load_workbook(path)["自评表"]
        header = next(c.row for row in ws.iter_rows() for c in row if c.value == "三级指标")
        total = next(c.row for row in ws.iter_rows() for c in row if c.value == "总分")
        fixed = [r for r in range(header + 1, total) if ws.row_dimensions[r].height]
        assert fixed == [], f"{path.name}: rows {fixed} have a fixed height"
    python = next((p for p in ("/usr/bin/python3", shutil.which("python3")) if p and subprocess.run(
        [p, "-c", "import uno"], capture_output=True).returncode == 0), None)
    if not shutil.which("soffice") or python is None:
        pytest.skip("LibreOffice with its Python (uno) is not installed")
    book = tmp_path / "t.xlsx"
    shutil.copy(MOF_TEMPLATE, book)
    edits = {"J15": REASON, "G16": PARTIAL, "E17": CAPPED}
    run = subprocess.run([python, str(HELPER), str(book), "自评表", json.dumps(edits, ensure_ascii=False), "-"],
                         capture_output=True, text=True, timeout=300)
    report = json.loads(run.stdout)
    for address in edits:
        (_, optimal_before), (_, optimal_after) = report[address]["before"], report[address]["after"]
        assert optimal_before and optimal_after, address  # LibreOffice fits the row to its text
    assert report["J15"]["after"][0] >= 3 * report["J15"]["before"][0]  # four lines or more, not one


def test_scored_copy_sizes_the_rows_it_fills_nothing_clipped(soffice, tmp_path):
    long = _long_form(tmp_path / "long.xlsx")
    typed = _filled_by_a_program(tmp_path / "typed.xlsx")
    scored = score_file(typed, tmp_path / "out").output
    ws = openpyxl.load_workbook(scored)["自评表"]
    assert ws.row_dimensions[15].height >= 4 * 14  # the 64-character 偏差原因 in a 32-wide column: 4 lines or more
    pages = _pages(soffice, [long, scored], tmp_path)
    for book in (long, scored):
        text = "".join(pages[book])
        # the last characters of each long text are printed: nothing cut off at the foot of a cell
        for tail in ("提前做好场地和经费安排。", "具有一定效果", "以内"):
            assert tail in text, f"{book.name}: “{tail}” is not printed"


# --------------------------------------------------------------------------- pages


def _groups(ws) -> list[tuple[int, str, str]]:  # ws loaded with data_only=True
    """(row, 一级, 二级) of the indicator rows, following merged group cells."""
    header = next(c.row for row in ws.iter_rows() for c in row if c.value == "三级指标")
    total = next(c.row for row in ws.iter_rows() for c in row if c.value == "总分")

    def label(r: int, col: int) -> str:
        for rng in ws.merged_cells.ranges:
            if rng.min_col == col and rng.min_row <= r <= rng.max_row:
                return str(ws.cell(rng.min_row, col).value or "").split("\n")[0]
        return str(ws.cell(r, col).value or "").split("\n")[0]

    return [(r, label(r, 1), label(r, 2)) for r in range(header + 1, total)]


@pytest.mark.parametrize("path", [MOF_TEMPLATE, FRAMEWORK_TEMPLATE, BASE, SEED000, SEED001])
def test_page_breaks_fall_between_groups_and_keep_the_totals(path):
    ws = openpyxl.load_workbook(path, data_only=True)["自评表"]
    groups = _groups(ws)
    by_row = {r: (l1, l2) for r, l1, l2 in groups}
    last = groups[-1][0]
    for brk in (b.id for b in ws.row_breaks.brk):
        if brk in by_row and brk + 1 in by_row:
            assert by_row[brk][1] != by_row[brk + 1][1] or by_row[brk][0] != by_row[brk + 1][0], \
                f"{path.name}: a break after row {brk} splits {by_row[brk]}"
        assert brk != last, f"{path.name}: 总分 and 评价等级 would print alone"


def test_printed_groups_stay_with_their_labels_and_totals_with_the_table(soffice, tmp_path):
    long = _long_form(tmp_path / "long.xlsx")
    scored = score_file(SEED000, tmp_path / "out").output
    # the template with a few rows filled and many left blank, scored: blank rows count on the page
    sparse = score_file(_filled_by_a_program(tmp_path / "typed.xlsx"), tmp_path / "out").output
    books = [MOF_TEMPLATE, FRAMEWORK_TEMPLATE, long, scored, sparse]
    pages = _pages(soffice, books, tmp_path)
    for book in (scored, sparse):  # the colour legend prints with the totals, not alone
        form_pages = [p for p in pages[book] if "一级指标二级指标三级指标" in p]  # the form (and 评分明细)
        [legend_page] = [p for p in form_pages if "颜色说明" in p]
        assert "评价等级" in legend_page and "三级指标" in legend_page, book.name
    for book in books:
        sheet = openpyxl.load_workbook(book, data_only=True)["自评表"]
        groups = _groups(sheet)
        form_pages = [p for p in pages[book] if "三级指标" in p]
        for _, level1, level2 in groups:  # a 二级 label is printed on a page with its 一级 label
            assert any(level2 in p and level1 in p for p in form_pages), f"{book.name}: {level1}/{level2} split"
        [total_page] = [p for p in form_pages if "总分" in p and "评价等级" in p]
        assert groups[-1][2] in total_page  # the last group prints with the 总分 rows
        last_group = [str(sheet.cell(r, 3).value) for r, level1, _ in groups
                      if level1 == groups[-1][1] and sheet.cell(r, 3).value]
        if last_group:  # its rows print with the totals, not only its label
            assert last_group[-1] in total_page


# --------------------------------------------------------------------------- the scored form


def test_scored_form_adds_up_when_the_execution_score_cannot_be_computed(tmp_path):
    """金额单元格填了文字: 全年执行数 is text, so no 执行率得分 can be computed; the unit's 10 moves to
    原填自评得分 and the printed 得分 column adds up to the printed 总分: 50 + 30 + 10 = 90."""
    out = score_file(SAMPLES / "broken" / "金额单元格填了文字.xlsx", tmp_path).output
    ws = openpyxl.load_workbook(out, data_only=True)["自评表"]
    assert ws["I7"].value is None and ws["K7"].value == 10 and ws["K13"].value == "原填自评得分"
    scores = [ws[f"I{r}"].value for r in range(14, 25) if isinstance(ws[f"I{r}"].value, (int, float))]
    assert sum(scores) == ws["I25"].value == 90


def _luma(rgb: str) -> float:
    r, g, b = (int(rgb[-6:][i:i + 2], 16) for i in (0, 2, 4))
    return 0.299 * r + 0.587 * g + 0.114 * b


def test_highlights_stay_apart_in_grey_and_are_explained(tmp_path):
    colours = {"input": INPUT_FILL.lstrip("#"), **{s: HIGHLIGHT[s] for s in (ERROR, WARNING, INFO)}}
    greys = sorted(_luma(c) for c in colours.values())
    assert min(b - a for a, b in zip(greys, greys[1:], strict=False)) >= 25, colours  # four distinct greys on paper
    out = score_file(SEED000, tmp_path).output  # warnings and notes
    wb = openpyxl.load_workbook(out)
    legend = {c.value: c.fill.fgColor.rgb[-6:] for row in wb["评分汇总"].iter_rows() for c in row
              if isinstance(c.value, str) and "：" in c.value and c.fill.fill_type}
    assert legend == {"错误：须更正": "D9534F", "预警：请核实": "F4A460", "提示：说明怎样理解": "C5D9F1"}
    form = [c.value for row in wb["自评表"].iter_rows() for c in row if c.value == "颜色说明："]
    assert form == ["颜色说明："]


def test_summary_headers_fit_and_say_what_they_mean(tmp_path):
    out = score_file(SEED001, tmp_path).output  # the framework form: 实际支出资金（万元）
    ws = openpyxl.load_workbook(out)["评分汇总"]
    header = next(r for r in range(1, 40) if ws.cell(r, 3).value == "实际支出资金（万元）")
    assert ws.row_dimensions[header].height >= 2 * 14  # two lines in a 16-wide column
    labels = {c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)}
    assert "得分÷分值" in labels and "得分率" not in labels and "预算执行率" in labels


def test_dates_are_dates_in_the_detail_sheet_and_the_json(tmp_path):
    data = load_definition(BASE_DEFINITION)
    data.pop("sample", None)
    data["indicators"][4].update(operator="≤", target=date(2024, 6, 30), unit="", actual=date(2024, 6, 28))
    form = tmp_path / "时效.xlsx"
    write_form(content_from_dict(data), form)
    result = run_cli("score", str(form), "-o", str(tmp_path / "out"), "--json")
    [d] = json.loads(result.stdout)
    timely = next(i for i in d["indicators"] if i["level2"] == "时效指标")
    assert (timely["target"], timely["actual"]) == ("2024-06-30", "2024-06-28")
    ws = openpyxl.load_workbook(d["output"])["评分明细"]
    row = next(r for r in ws.iter_rows(min_row=2) if r[2].value == "时效指标")
    assert row[5].value == datetime(2024, 6, 30) and row[5].number_format == "yyyy-mm-dd"
    assert row[6].value == datetime(2024, 6, 28)


def test_the_same_figures_have_the_same_decimals_on_every_sheet(tmp_path):
    result = run_batch(_one(tmp_path), tmp_path / "结果", jobs=1)
    copy = tmp_path / "结果" / f"{SEED000.stem}_评分.xlsx"
    wb = openpyxl.load_workbook(copy)
    form, summary, detail = wb["自评表"], wb["评分汇总"], wb["评分明细"]
    assert form["I7"].number_format == "0.00" and form["I25"].number_format == "0.00"  # 执行率得分, 总分
    total_cell = next(row[1] for row in summary.iter_rows() if row[0].value == "总分")
    assert total_cell.number_format == "0.00"
    assert {detail.cell(r, 13).number_format for r in range(2, detail.max_row + 1)} == {"0.00"}  # 复核得分
    roll = openpyxl.load_workbook(result.rollup)
    assert roll["项目汇总"]["H2"].number_format == "0.00" and roll["项目汇总"]["G2"].number_format == "0.00%"
    assert form["G7"].number_format == summary.cell(  # 执行率 as 0.00% on the form and the summary
        next(r for r in range(1, 40) if summary.cell(r, 4).value == "预算执行率") + 1, 4).number_format == "0.00%"


def _one(tmp_path: Path) -> Path:
    inbox = tmp_path / "收表"
    inbox.mkdir()
    shutil.copy(SEED000, inbox / SEED000.name)
    return inbox


def test_issue_lists_do_not_repeat_the_cell(tmp_path):
    result = run_batch(_one(tmp_path), tmp_path / "结果", jobs=1)
    copy = openpyxl.load_workbook(tmp_path / "结果" / f"{SEED000.stem}_评分.xlsx")["问题清单"]
    rows = [(r[3].value, r[6].value) for r in copy.iter_rows(min_row=2) if r[3].value]
    assert rows and not [m for cell, m in rows if m.startswith(f"{cell}：")]
    roll = openpyxl.load_workbook(result.rollup)["问题清单"]
    rows = [(r[4].value, r[7].value) for r in roll.iter_rows(min_row=2) if r[4].value]
    assert rows and not [m for cell, m in rows if m.startswith(f"{cell}：")]
