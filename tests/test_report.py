"""`perfeval report` and `perfeval batch --report`: the 绩效自评报告 drafted from a scored form.

The figures asserted are the source reports' own (shared/seeds/001: 总分99分、等级优、7.94万元、
预算执行率100%、1015本、62人、90.4%、93%、资金分配合理性 3 分得 2 分 and its reason; seed 000:
320万元、83.69%), or worked out by hand from the rules beside the assertion. Every document is
read back with python-docx (and, where LibreOffice is installed, converted to PDF), never
through our own model of it.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import docx
import pytest
from docx.enum.text import WD_COLOR_INDEX
from docx.oxml.ns import qn

from perfeval_xlsx.batch import run_batch
from perfeval_xlsx.errors import TemplateError
from perfeval_xlsx.report import load_template, report_file
from perfeval_xlsx.report.draft import decimal_text
from perfeval_xlsx.report.wording import render

from .conftest import ROOT, SAMPLES, SEED000, SEED001, convert_to_pdf, run_cli

BROKEN = SAMPLES / "broken"
SCORE_OVER_WEIGHT = BROKEN / "自评得分超过分值.xlsx"  # error: I24 得分 12 > 分值 10
REASON_MISSING = BROKEN / "未完成目标未写偏差原因.xlsx"  # warning only: 36 of ≥40 人, no 偏差原因
SECTIONS = ["一、基本情况", "二、绩效评价工作开展情况", "三、综合评价情况及评价结论", "四、绩效评价指标分析",
            "五、主要经验及做法、存在的问题及原因分析", "六、有关建议", "七、其他需要说明的问题"]


def paragraphs(path: Path) -> list[str]:
    return [p.text for p in docx.Document(str(path)).paragraphs]


def table_rows(path: Path, index: int = 0) -> list[list[str]]:
    table = docx.Document(str(path)).tables[index]
    return [[cell.text for cell in row.cells] for row in table.rows]


def full_text(path: Path) -> str:
    document = docx.Document(str(path))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        parts.extend("\t".join(c.text for c in row.cells) for row in table.rows)
    return "\n".join(parts)


def paragraph_with(path: Path, *needles: str) -> str:
    found = [t for t in paragraphs(path) if all(n in t for n in needles)]
    assert found, f"no paragraph with {needles}"
    return found[0]


@pytest.fixture(scope="module")
def seed001_report(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("seed001")
    outcome = report_file(SEED001, out)
    assert outcome.result.status == "ok" and outcome.output == out / f"{SEED001.stem}_自评报告.docx"
    return outcome.output


@pytest.fixture(scope="module")
def seed000_report(tmp_path_factory) -> Path:
    return report_file(SEED000, tmp_path_factory.mktemp("seed000")).output


@pytest.fixture(scope="module")
def provisional_report(tmp_path_factory) -> Path:
    outcome = report_file(SCORE_OVER_WEIGHT, tmp_path_factory.mktemp("broken"))
    assert outcome.result.status == "errors"
    return outcome.output


# ---------------------------------------------------------------------------- numbers


def test_numbers_are_written_as_finance_reports_write_them():
    assert decimal_text(320.0) == "320"
    assert decimal_text(7.94) == "7.94"
    assert decimal_text(267.81) == "267.81"
    assert decimal_text(4.185) == "4.19"  # half up, not to even
    assert decimal_text(126.875) == "126.88"
    assert decimal_text(1234567.0, 6) == "1234567"  # never 1.23457e+06
    assert decimal_text(None) is None


# ---------------------------------------------------------------------------- seed 001


def test_seed001_report_has_the_seven_sections_in_order(seed001_report):
    texts = paragraphs(seed001_report)
    positions = [texts.index(s) for s in SECTIONS]
    assert positions == sorted(positions)
    assert texts[0] == "非公有制党建工作经费绩效自评报告" and texts[1] == "（2024年度）"


def test_seed001_report_figures_match_the_source_report(seed001_report):
    text = full_text(seed001_report)
    # 三、综合评价: “最终评分结果为：总分为99分，绩效评级为‘优’”
    assert "绩效自评总分为99分，评价等级为“优”" in text
    # 一、基本情况: “共安排预算7.94万元……预算执行率100%”
    funds = paragraph_with(seed001_report, "资金投入和使用情况")
    assert "全年预算数7.94万元" in funds and "实际到位资金7.94万元，资金到位率100%" in funds
    assert "项目资金使用7.94万元，预算执行率100%" in funds
    assert "年初预算" not in funds  # the framework form has no 年初预算数: that fragment is left out
    # 四、产出: targets → actual values, completion rates by hand (1015/800 = 126.875% → 126.88%, 62/40 = 155%)
    books = paragraph_with(seed001_report, "“商会党建书籍配发”的年度指标值")
    assert "年度指标值为≥800本，实际完成1015本，完成率126.88%" in books and "得5分（分值5分）" in books
    assert "因商会党组织党建书籍较少，申请多发" in books  # the unit's 偏差原因, quoted
    trainees = paragraph_with(seed001_report, "“党务培训班培训人数”的年度指标值")
    assert "≥40人，实际完成62人，完成率155%，超过年度指标值较多" in trainees
    assert "由于会议组织到位，实际参会人数增多" in trainees
    rate = paragraph_with(seed001_report, "“直属商会党支部党务工作者培训率”的年度指标值")
    assert "≥85%，实际完成90.4%" in rate  # 90.4 / 85 = 106.35%
    assert "完成率106.35%" in rate
    satisfaction = paragraph_with(seed001_report, "“服务对象满意度”的年度指标值")
    assert "≥85%，实际完成93%" in satisfaction and "得10分（分值10分）" in satisfaction
    # 资金分配合理性: 部分达成, 3 分得 2 分, with the report's reason
    allocation = paragraph_with(seed001_report, "“资金分配合理性”的年度指标值")
    assert "实际完成情况为“部分达成”" in allocation and "得2分（分值3分）" in allocation
    assert "因换届会议未能获得组织审批无法召开，更换为商会党建书籍配发费" in allocation
    # the 决策 group: 20 分, 19 得 (the report: “权重为20分，实际得分19分”)
    assert "决策指标由3个二级指标和6个三级指标构成，权重为20分，实际得分19分。" in text
    # and in 五: the one indicator short of full marks is a problem, with its reason
    problem = paragraph_with(seed001_report, "1.“资金分配合理性”评为“部分达成”")
    assert "得2分，分值3分" in problem


def test_seed001_indicator_table_is_the_form(seed001_report):
    rows = table_rows(seed001_report)
    assert rows[0] == ["一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分", "偏差原因"]
    by_name = {r[2]: r for r in rows[1:]}
    assert by_name["资金分配合理性"][3:7] == ["分配合理", "部分达成", "3", "2"]
    assert "换届会议" in by_name["资金分配合理性"][7]
    assert by_name["商会党建书籍配发"][3:7] == ["≥800本", "1015本", "5", "5"]
    assert by_name["党务培训班培训人数"][3:7] == ["≥40人", "62人", "5", "5"]
    assert by_name["直属商会党支部党务工作者培训率"][3:5] == ["≥85%", "90.4%"]
    assert by_name["服务对象满意度"][3:5] == ["≥85%", "93%"]
    assert by_name["购买学习资料和书籍等费用"][3:5] == ["≤1.94万元", "1.94万元"]
    # 21 indicator rows (the report's table), then 总分 and 评价等级 across merged cells
    assert len(rows) == 1 + 21 + 2
    assert rows[-2][0] == "总分" and rows[-2][5:7] == ["100", "99"]
    assert rows[-1][0] == "评价等级" and rows[-1][5] == "优"
    # the 一级 cell of 决策 spans its six rows, as in the form
    assert [r[0] for r in rows[1:7]] == ["决策"] * 6


def test_placeholders_only_where_the_form_is_silent(seed001_report):
    document = docx.Document(str(seed001_report))
    marked = [run.text for p in document.paragraphs for run in p.runs if run.text.startswith("【请填写")]
    assert "【请填写：主要经验及做法。】" in marked and "【请填写：有关建议。】" in marked
    highlighted = [run for p in document.paragraphs for run in p.runs if run.text.startswith("【请填写")]
    assert all(run.font.highlight_color == WD_COLOR_INDEX.YELLOW for run in highlighted)
    # every figure of the form is filled: no placeholder asks for a 金额, 得分 or 指标
    text = full_text(seed001_report)
    for word in ("万元】", "得分】", "总分】", "年度】", "项目名称】", "指标值】"):
        assert word not in text
    assert "待更正" not in text


def test_official_typography(seed001_report):
    document = docx.Document(str(seed001_report))
    section = document.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    assert round(section.top_margin.mm) == 37 and round(section.left_margin.mm) == 28
    styles = {p.style.name for p in document.paragraphs}
    assert {"报告标题", "报告一级标题", "报告二级标题", "报告正文"} <= styles

    def east_asia(style_name: str) -> str:
        fonts = document.styles[style_name].element.rPr.find(qn("w:rFonts"))
        return fonts.get(qn("w:eastAsia"))

    assert east_asia("报告正文") == "仿宋" and east_asia("报告一级标题") == "黑体"
    assert east_asia("报告二级标题") == "楷体" and east_asia("报告标题") == "宋体"
    assert document.styles["报告正文"].font.size.pt == 16  # 三号
    assert document.styles["报告标题"].font.size.pt == 22 and document.styles["报告标题"].font.bold  # 二号
    # page numbers: a PAGE field in the odd and the even footer, “— 1 —”
    for footer in (section.footer, section.even_page_footer):
        xml = footer._element.xml
        assert "PAGE" in xml and "— " in footer.paragraphs[0].text
    assert document.settings.odd_and_even_pages_header_footer


# ---------------------------------------------------------------------------- seed 000


def test_seed000_report_budget_and_execution(seed000_report):
    funds = paragraph_with(seed000_report, "资金投入和使用情况")
    # the source report: “年初预算资金安排320万元……预算完成率83.69%”
    assert "年初预算资金安排320万元" in funds and "预算执行率83.69%" in funds
    assert "项目资金使用267.81万元" in funds
    # 预算执行率 score: 5 × 267.81 / 320 = 4.1845… → 4.18 of 5
    execution = paragraph_with(seed000_report, "全年预算数320万元，全年执行数267.81万元")
    assert "预算执行率83.69%，得4.18分（分值5分）" in execution
    rows = table_rows(seed000_report)
    assert rows[1][0] == "预算执行率" and rows[1][5:7] == ["5", "4.18"]
    # the missed training target: 34 of ≥50 人次 → 68%, 5 × 34 / 50 = 3.4, with the reason quoted
    missed = paragraph_with(seed000_report, "“选派企业家参加理想信念教育培训”的年度指标值")
    assert "≥50人次，实际完成34人次，完成率68%，未达到年度指标值" in missed
    assert "受疫情防控影响" in missed and "得3.4分（分值5分）" in missed
    assert "绩效自评总分为97.58分，评价等级为“优”" in full_text(seed000_report)


# ---------------------------------------------------------------------------- forms with problems


def test_a_form_with_errors_gives_a_provisional_report(provisional_report):
    texts = paragraphs(provisional_report)
    first_heading = texts.index("一、基本情况")
    front = "".join(texts[:first_heading])
    assert "待更正" in front and "1处错误" in front  # on the first page, under the title
    header = docx.Document(str(provisional_report)).sections[0].header.paragraphs[0].text
    assert header == "待更正稿"
    text = full_text(provisional_report)
    assert "评价等级待更正" in text and "评价等级为“" not in text
    assert "I24：得分不能大于分值" in text  # 七、其他需要说明的问题 names the cell to correct


def test_a_missed_target_without_reason_says_so(tmp_path):
    outcome = report_file(REASON_MISSING, tmp_path)
    assert outcome.result.status == "warnings"
    line = paragraph_with(outcome.output, "“党务培训班培训人数”的年度指标值")
    # 6 × 36 / 40 = 5.4
    assert "≥40人，实际完成36人，完成率90%，未达到年度指标值，自评表未填写偏差原因，得5.4分（分值6分）" in line
    assert "待更正" not in full_text(outcome.output)


def test_a_blank_form_claims_nothing(tmp_path):
    """The blank template: no project, no money, no indicator. The report asks for them and says
    nothing that the form does not hold (no “各项绩效指标均达到年度指标值”, no empty sentences)."""
    outcome = report_file(ROOT / "workbook_templates" / "项目支出绩效自评表.xlsx", tmp_path)
    texts = paragraphs(outcome.output)
    assert texts[0] == "【请填写：项目名称】绩效自评报告" and "待更正" in "".join(texts[:texts.index("一、基本情况")])
    assert "各项绩效指标均达到年度指标值。" not in texts
    assert not [t for t in texts if t.startswith(("，", "。", "（分值")) or t.endswith("：。")]
    assert not [t for t in texts if t.startswith("资金投入和使用情况")]


def test_an_unreadable_file_gives_no_report(tmp_path):
    bad = tmp_path / "坏文件.xlsx"
    bad.write_bytes(b"not a workbook")
    outcome = report_file(bad, tmp_path / "out")
    assert outcome.result.status == "unreadable" and outcome.output is None
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------------------- the wording template


def test_render_fills_drops_and_marks():
    assert render("{year}年度", {"year": "2024"}) == "2024年度"
    assert render("{year}年度", {}) == "【请填写：年度】年度"  # a string keeps its place and asks
    assert render(["年初预算{budget_initial}万元，", "全年预算{budget}万元"], {"budget": "7.94"}) == "全年预算7.94万元"
    assert render("", {}) is None
    assert render(["（{parts}）", "。"], {}) is None  # only punctuation would be left: the paragraph goes


def test_an_own_template_changes_only_what_it_says(tmp_path):
    own = tmp_path / "我的模板.toml"
    own.write_text('[conclusion]\nresult = "本项目自评{total}分，等级{grade}。"\n\n'
                   '[analysis.groups]\n"产出" = "产出指标完成"\n', encoding="utf-8")
    outcome = report_file(SEED001, tmp_path / "out", template=own)
    text = full_text(outcome.output)
    assert "本项目自评99分，等级优。" in text
    assert "（三）产出指标完成情况" in text and "（一）项目决策情况" in text  # the rest from standard
    assert "七、其他需要说明的问题" in text


@pytest.mark.parametrize("content, words", [
    ('[conclusion]\nreslt = "x"\n', ["conclusion.reslt", "不认识"]),
    ('[conclusion]\nresult = "得{totl}分"\n', ["{totl}", "conclusion.result"]),
    ('[style]\nbody_size = "三号"\n', ["style.body_size", "数字"]),
    ('[conclusion]\nresult = "得{total分"\n', ["conclusion.result", "花括号"]),
    ('[conclusion\n', ["格式有误"]),
])
def test_a_bad_template_is_named_and_explained(tmp_path, content, words):
    bad = tmp_path / "坏模板.toml"
    bad.write_text(content, encoding="utf-8")
    with pytest.raises(TemplateError) as info:
        load_template(bad)
    for word in words:
        assert word in str(info.value)
    with pytest.raises(TemplateError, match="可选：standard"):
        load_template("no-such-template")


# ---------------------------------------------------------------------------- command line


def test_report_command_exit_codes(tmp_path):
    sources = tmp_path / "收表"
    sources.mkdir()
    good, broken = sources / SEED001.name, sources / SCORE_OVER_WEIGHT.name
    shutil.copy(SEED001, good)
    shutil.copy(SCORE_OVER_WEIGHT, broken)
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (good, broken)}
    out = tmp_path / "报告"

    done = run_cli("report", str(good), "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert (out / f"{SEED001.stem}_自评报告.docx").is_file() and "总分 99 分，等级 优" in done.stdout

    done = run_cli("report", str(sources), "-o", str(out))  # a folder: both forms; one has errors
    assert done.returncode == 1, done.stderr
    assert (out / f"{SCORE_OVER_WEIGHT.stem}_自评报告.docx").is_file() and "待更正" in done.stdout
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (good, broken)} == before  # inputs untouched

    bad = tmp_path / "坏文件.xlsx"
    bad.write_bytes(b"\x00" * 100)
    done = run_cli("report", str(bad), "-o", str(out))
    assert done.returncode == 2 and "坏文件.xlsx" in done.stderr and "Traceback" not in done.stderr
    assert not (out / "坏文件_自评报告.docx").exists()

    done = run_cli("report", str(good))
    assert done.returncode == 2 and "-o" in done.stderr
    done = run_cli("report", str(good), "-o", str(good))
    assert done.returncode == 2 and "不是文件夹" in done.stderr
    done = run_cli("report", str(good), "-o", str(out), "--template", "no-such")
    assert done.returncode == 2 and "未知的报告模板" in done.stderr and "Traceback" not in done.stderr
    assert "示例：" in run_cli("report", "--help").stdout


def test_batch_report_writes_each_report_and_the_summary(tmp_path):
    inbox, outbox = tmp_path / "收表", tmp_path / "评分结果"
    (inbox / "子文件夹").mkdir(parents=True)
    shutil.copy(SEED001, inbox / SEED001.name)
    shutil.copy(SCORE_OVER_WEIGHT, inbox / "子文件夹" / SCORE_OVER_WEIGHT.name)
    done = run_cli("batch", str(inbox), "-o", str(outbox), "--recursive", "--report", "-j", "1")
    assert done.returncode == 1, done.stderr  # one form has errors
    report_a = outbox / f"{SEED001.stem}_自评报告.docx"
    report_b = outbox / "子文件夹" / f"{SCORE_OVER_WEIGHT.stem}_自评报告.docx"
    assert (outbox / f"{SEED001.stem}_评分.xlsx").is_file() and report_a.is_file() and report_b.is_file()
    assert "绩效自评总分为99分" in full_text(report_a) and "待更正" in "".join(paragraphs(report_b)[:4])
    summaries = sorted(outbox.glob("汇总报告_*.docx"))
    assert len(summaries) == 1 and summaries[0].stem[5:] == next(outbox.glob("汇总_*.xlsx")).stem[3:]
    text = full_text(summaries[0])
    assert "本次共处理自评表2份，其中通过1份、有错误1份" in text
    # 7.94 + 7.94 = 15.88 万元, all spent; the average leaves the provisional form out: 99
    assert "预算合计15.88万元，执行15.88万元，总体预算执行率100%" in text and "平均总分99分（1份" in text
    grades = table_rows(summaries[0], 0)
    assert grades[1:] == [["优", "1", "50%"], ["待更正", "1", "50%"], ["合计", "2", "100%"]]
    lowest = table_rows(summaries[0], 1)
    assert [r[3:5] for r in lowest[1:]] == [["99", "优"], ["100", "待更正"]]
    problems = table_rows(summaries[0], 2)
    assert ["得分大于分值", "错误", "1", "1"] in problems
    assert "I24：得分不能大于分值" in text  # 五、需更正的自评表

    # unchanged forms are not scored again, unless a report is missing
    report_a.unlink()
    result = run_batch(inbox, outbox, recursive=True, jobs=1, report=load_template())
    assert result.summary["scored"] == 1 and result.summary["unchanged"] == 1
    assert report_a.is_file() and result.summary_report is not None and result.summary_report.is_file()


# ---------------------------------------------------------------------------- LibreOffice


def test_reports_convert_to_pdf_with_libreoffice(soffice, tmp_path, seed001_report, seed000_report, provisional_report):
    copies = []
    for i, report in enumerate((seed001_report, seed000_report, provisional_report)):
        copy = tmp_path / f"report{i}.docx"
        copy.write_bytes(report.read_bytes())
        copies.append(copy)
    result = convert_to_pdf(soffice, copies, tmp_path)
    for copy in copies:
        pdf = copy.with_suffix(".pdf")
        assert pdf.exists(), f"LibreOffice could not convert {copy.name}: {result.stderr[-500:]}"
        assert pdf.read_bytes().startswith(b"%PDF")
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")

    def page_text(pdf: Path, first: int, last: int | None = None) -> str:
        args = ["pdftotext", "-f", str(first)] + (["-l", str(last)] if last else []) + [str(pdf), "-"]
        out = subprocess.run(args, capture_output=True, text=True, timeout=60).stdout
        return "".join(out.split())  # LibreOffice spaces digits apart from Chinese: compare without spaces

    assert "待更正" in page_text(tmp_path / "report2.pdf", 1, 1)
    assert "待更正" not in page_text(tmp_path / "report0.pdf", 1)
    whole = page_text(tmp_path / "report0.pdf", 1)
    assert "总分为99分，评价等级为“优”" in whole and "1015本" in whole and "—1—" in whole
    assert "320万元" in page_text(tmp_path / "report1.pdf", 1) and "83.69%" in page_text(tmp_path / "report1.pdf", 1)
