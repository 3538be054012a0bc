"""Build the fidelity corpus: real, filled 自评表 workbooks that carry what a unit's own workbook
carries and a load+save by openpyxl loses or changes (issue 13). tests/test_fidelity.py scores
each and checks that the scored copy keeps it; `python -m tests.fidelity_table` prints the table.

    python tests/data/fidelity/build.py              # rewrite the fixtures in this folder
    python tests/data/fidelity/build.py --out DIR    # build into another folder
    python tests/data/fidelity/build.py --only lo_picture_comments_richtext_dv_cf_protected

Run it with the project's Python (perfeval_xlsx and xlsxwriter importable); the LibreOffice steps
run in a system Python with `uno` (python3-uno) through lo_uno.py, each with a private profile.
The fixtures are committed: the builder is how they were made (LibreOffice stamps dates, so two
builds differ in docProps/core.xml), not something the tests run.

Every fixture is the Ministry form (mof-2020) filled with the project of the base sample
(samples/definitions/broken/_base.toml: 乌鲁木齐市工商联 2024 非公有制党建工作经费), with one to
three changes so that scoring has something to say, written by the program named first:

lo_picture_comments_richtext_dv_cf_protected.xlsx  (LibreOffice Calc, via UNO)
    The template-written form opened in Calc, edited and saved as Excel 2007-365 .xlsx: a seal
    picture (PNG) anchored in a drawing, the unit's own comments on C3, I19 and I25, rich text in
    J15 (two runs: 宋体, then 黑体 bold dark red; Calc also writes its Latin/Asian font runs into
    the goal texts), the template's data validations plus a list validation whose source is on
    another sheet (下拉选项; Calc writes it in the standard form, not x14), the template's
    conditional formats plus one of Calc's own (style "Bad"), the merged cells, sheet protection.
    Findings: 党务培训班费用 ≤2万元 spent 2.5万元 and self-scored 6 → W-SELF-SCORE on I19, the cell
    that carries the unit's own comment (the scored copy's comment must join it, not replace it).
xw_x14dv_databar_sparkline_image_textbox_formulas.xlsx  (xlsxwriter)
    The form written by the template writer's own xlsxwriter code, plus: a data bar with the
    Excel 2010 extension (data_bar_2010) on 得分 I14:I24, the seal as an image and a text box
    (insert_textbox) in one drawing, a hidden sheet 下拉选项 that is the source of a list
    validation on H5 in the x14 form Excel writes for a source on another sheet (xlsxwriter 3.3
    cannot write x14 validations at all, only standard ones: the builder moves that validation
    into the sheet's extLst as <x14:dataValidations>, next to xlsxwriter's data bar ext), and a
    sheet 资金明细 with formulas and their cached results (one refers to 自评表!E7) and a
    sparkline (another extLst), saved as the selected sheet (tabSelected, activeTab 2), and an
    xl/calcChain.xml as Excel saves one (xlsxwriter writes none). Findings: spent 7.5 of 7.94万元 (执行率 94.46%, 得分 9.45, self 10
    → W-SELF-SCORE on I7); 培训人数 36 of ≥40 without a reason → W-REASON-MISSING on J15.
lo_vba_macro.xlsm  (LibreOffice Calc, via UNO, experimental mode)
    The form with a VBA module (Module1, Sub CheckWeightTotal) saved by Calc as Excel 2007-365
    macro-enabled: xl/vbaProject.bin is LibreOffice's own VBA export (it writes one only with
    VBA compatibility mode on, a project name, module info and ExperimentalMode; Calc reads
    the module's code back from it, the builder checks). Finding-free apart from a qualitative
    row: 有效提高商会党建各项工作 部分达成, self-scored 10 of 15 with a reason.
xw_chartsheet_printtitles_customxml.xlsx  (xlsxwriter, customXml added as OA/SharePoint do)
    A chartsheet 得分图 (a bar chart of 分值 and 得分 of 自评表) as the FIRST sheet, then 自评表
    with its print titles ($13:$13, localSheetId 1), 填表说明 with print titles of its own ($1:$1,
    localSheetId 2); a unit custom document property (报送系统编号); and a customXml part
    (customXml/item1.xml with itemProps1.xml, as document-management systems attach) related
    from the workbook. 服务对象满意度 80% of ≥85% with a reason, self-scored 9.41.
wps_cellimage_dispimg.xlsx  (xlsxwriter, WPS cell image added by hand)
    A WPS Office "cell image" (嵌入单元格的图片): xl/cellimages.xml with the seal, related from the
    workbook, and the cell H29 holding =_xlfn.DISPIMG("ID_…",1) with WPS's cached text, in the
    form sheet. WPS is not available here: the parts are written as WPS writes them (from WPS
    files seen in the wild), not by WPS. The form is the clean base: total 100.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile
import zlib
from pathlib import Path
from xml.etree import ElementTree as ET

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(ROOT))

import xlsxwriter  # noqa: E402

from perfeval_xlsx.forms.content import content_from_dict, load_definition  # noqa: E402
from perfeval_xlsx.output.template import DOC_CREATED, _Formats, _instructions, _SheetWriter, write_form  # noqa: E402
from perfeval_xlsx.reading.mark import TEMPLATE, mark_properties  # noqa: E402
from perfeval_xlsx.vocab import FONT  # noqa: E402

BASE_DEFINITION = ROOT / "samples" / "definitions" / "broken" / "_base.toml"
UNO_HELPER = HERE / "lo_uno.py"
FORM = "自评表"
OPTIONS_SHEET = "下拉选项"
CONTACTS = ["党建工作部", "财务科", "办公室"]
UNIT_AUTHOR = "单位财务 李会计"
WPS_IMAGE_ID = "ID_6F1B2C3D4E5F4A6B8C9D0E1F2A3B4C5D"
CUSTOM_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
    '<报送信息 xmlns="urn:example:czj-oa:submission"><系统编号>XJ-2024-0193</系统编号>'
    '<报送单位>乌鲁木齐市工商业联合会（乌鲁木齐市总商会）</报送单位><报送日期>2025-03-10</报送日期>'
    '<审核状态>待财务复核</审核状态></报送信息>'
)
CUSTOM_XML_PROPS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
    '<ds:datastoreItem ds:itemID="{5C6D3F1A-8B2E-4F7C-9A1D-3E4B5C6D7E8F}" '
    'xmlns:ds="http://schemas.openxmlformats.org/officeDocument/2006/customXml">'
    '<ds:schemaRefs><ds:schemaRef ds:uri="urn:example:czj-oa:submission"/></ds:schemaRefs></ds:datastoreItem>'
)


# --------------------------------------------------------------------------- content


def form_content(*changes: dict):
    """The base sample's content with `changes`: each {"match": {"level3": …}, field: value, …}
    for an indicator row, or {"funds": index, field: value, …} for a funds line."""
    data = load_definition(BASE_DEFINITION)
    data.pop("sample", None)
    for change in changes:
        change = dict(change)
        if "funds" in change:
            data["funds"][change.pop("funds")].update(change)
            continue
        match = change.pop("match")
        rows = [r for r in data["indicators"] if all(r.get(k) == v for k, v in match.items())]
        assert len(rows) == 1, match
        rows[0].update(change)
    return content_from_dict(data, where="fidelity fixture")


# --------------------------------------------------------------------------- pieces


def seal_png(size: int = 96) -> bytes:
    """A red round seal (a ring and a five-pointed star) as an RGBA PNG, in pure Python."""
    c = (size - 1) / 2
    r_out, r_in = size * 0.48, size * 0.42
    star = []
    for k in range(10):
        angle = -math.pi / 2 + k * math.pi / 5
        radius = size * (0.30 if k % 2 == 0 else 0.12)
        star.append((c + radius * math.cos(angle), c + radius * math.sin(angle)))

    def in_star(x: float, y: float) -> bool:
        inside = False
        for i in range(10):
            (x1, y1), (x2, y2) = star[i], star[(i + 1) % 10]
            if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / (y2 - y1) + x1:
                inside = not inside
        return inside

    rows = []
    for y in range(size):
        row = bytearray([0])
        for x in range(size):
            on = r_in <= math.hypot(x - c, y - c) <= r_out or in_star(x, y)
            row += bytes((200, 16, 32, 255) if on else (0, 0, 0, 0))
        rows.append(bytes(row))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + chunk(b"IEND", b""))


def xlsxwriter_form(path: Path, content, before=None, after=None) -> dict[str, str]:
    """The form as `perfeval template`'s writer lays it out (output.template), in a workbook we
    hold open: `before(workbook)` adds sheets in front, `after(workbook, ws, cells)` adds to it."""
    workbook = xlsxwriter.Workbook(str(path), {"default_format_properties": {"font_name": FONT, "font_size": 10}})
    layout = content.form_layout
    workbook.set_properties({"title": layout.title, "subject": "项目支出绩效自评", "author": "perfeval-xlsx",
                             "company": "", "created": DOC_CREATED})
    for name, value in mark_properties(TEMPLATE, ""):
        workbook.set_custom_property(name, value)
    if before is not None:
        before(workbook)
    formats = _Formats(workbook)
    writer = _SheetWriter(workbook, formats, content)
    cells = writer.write()
    _instructions(workbook, formats, layout)
    if after is not None:
        after(workbook, writer.ws, cells)
    workbook.close()
    return cells


def rewrite_zip(path: Path, change: dict[str, callable] | None = None, add: dict[str, bytes] | None = None) -> None:
    """Rewrite members of a zip in place (`change`: name → function of the old bytes) and append
    new ones, keeping the order and deflate compression of the rest."""
    change, add = change or {}, add or {}
    with zipfile.ZipFile(path) as zin:
        members = [(info, zin.read(info.filename)) for info in zin.infolist()]
    missing = set(change) - {i.filename for i, _ in members}
    assert not missing, missing
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
        for info, data in members:
            if info.filename in change:
                data = change[info.filename](data)
            zout.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
        for name, data in add.items():
            zout.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data, compress_type=zipfile.ZIP_DEFLATED)
    tmp.replace(path)


def uno_python() -> str:
    for candidate in ("/usr/bin/python3", "/usr/lib/libreoffice/program/python", shutil.which("python3")):
        if candidate and subprocess.run([candidate, "-c", "import uno"], capture_output=True).returncode == 0:
            return candidate
    raise SystemExit("no Python with LibreOffice's uno module (apt-get install python3-uno)")


def libreoffice(job: dict) -> dict:
    """Run one lo_uno.py job (open src, apply ops, store out); returns its report."""
    with tempfile.TemporaryDirectory(prefix="fidelity-lo-") as tmp:
        src = Path(tmp) / ("source" + Path(job["src"]).suffix)  # an ASCII name, and no lock file left beside the original
        shutil.copyfile(job["src"], src)
        job = {**job, "src": str(src)}
        job_file = Path(tmp) / "job.json"
        job_file.write_text(json.dumps(job, ensure_ascii=False), encoding="utf-8")
        run = subprocess.run([uno_python(), str(UNO_HELPER), str(job_file)], capture_output=True, text=True, timeout=600)
        if run.returncode != 0:
            raise SystemExit(f"LibreOffice job failed:\n{run.stdout}\n{run.stderr}")
        return json.loads(run.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- the fixtures


def build_lo_picture_comments(out: Path, work: Path) -> None:
    content = form_content({"match": {"level3": "党务培训班费用"}, "actual": 2.5, "score": 6,
                            "reason": "参训人数增加，场地和资料费用相应增加。"})
    base = work / "lo-base.xlsx"
    write_form(content, base)
    seal = work / "seal.png"
    seal.write_bytes(seal_png())
    libreoffice({
        "src": str(base), "out": str(out), "filter": "Calc MS Excel 2007 XML", "author": UNIT_AUTHOR,
        "ops": [
            {"op": "unprotect", "sheet": FORM},
            {"op": "add_sheet", "name": OPTIONS_SHEET, "column": CONTACTS},
            {"op": "picture", "sheet": FORM, "cell": "I26", "png": str(seal), "size_mm": [24, 24], "name": "单位公章"},
            {"op": "comment", "sheet": FORM, "cell": "C3", "author": UNIT_AUTHOR, "text": "项目名称与预算批复文件一致。"},
            {"op": "comment", "sheet": FORM, "cell": "I19", "author": UNIT_AUTHOR, "text": "单位说明：培训费用按合同全额支付，自评满分。"},
            {"op": "comment", "sheet": FORM, "cell": "I25", "author": UNIT_AUTHOR, "text": "自评总分由公式自动合计。"},
            {"op": "rich", "sheet": FORM, "cell": "J15", "runs": [
                {"text": "由于会议组织到位，", "font": "宋体"},
                {"text": "实际参会人数增多，超出预期指标。", "font": "黑体", "bold": True, "color": 0xC00000},
            ]},
            {"op": "list_validation", "sheet": FORM, "range": "H5", "source": f"${OPTIONS_SHEET}.$A$1:$A$3"},
            {"op": "conditional", "sheet": FORM, "range": "G14:G24", "style": "Bad",
             "formula": 'AND(ISNUMBER(G14);ISNUMBER(E14);D14="≥";G14<E14)'},
            {"op": "protect", "sheet": FORM},
        ],
    })


def _x14_validation(sheet_xml: bytes) -> bytes:
    """Move the list validation of H5 (source on another sheet) into the sheet's extLst as
    <x14:dataValidations>, the form Excel 2010+ writes for such a source."""
    text = sheet_xml.decode("utf-8")
    standard = re.search(r'<dataValidation [^>]*sqref="H5"[^>]*>.*?</dataValidation>', text)
    assert standard, "xlsxwriter wrote no validation on H5"
    text = text[:standard.start()] + text[standard.end():]
    count = re.search(r'<dataValidations count="(\d+)"', text)
    text = text.replace(count.group(0), f'<dataValidations count="{int(count.group(1)) - 1}"', 1)
    ext = (
        '<ext uri="{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}" xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main">'
        '<x14:dataValidations count="1" xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main">'
        '<x14:dataValidation type="list" allowBlank="1" showInputMessage="1" showErrorMessage="1" '
        'errorTitle="填报人有误" error="请从下拉列表中选择。">'
        f'<x14:formula1><xm:f>{OPTIONS_SHEET}!$A$1:$A$3</xm:f></x14:formula1><xm:sqref>H5</xm:sqref>'
        '</x14:dataValidation></x14:dataValidations></ext>'
    )
    # Excel's order of the worksheet's exts: conditional formats {78C0D931-…}, then validations
    assert text.endswith("</extLst></worksheet>"), "expected xlsxwriter's data bar extLst"
    text = text[: -len("</extLst></worksheet>")] + ext + "</extLst></worksheet>"
    return text.encode("utf-8")


def build_xw_x14(out: Path, work: Path) -> None:
    content = form_content(
        {"funds": 0, "spent": 7.5}, {"funds": 1, "spent": 7.5},
        {"match": {"level3": "党务培训班培训人数"}, "actual": 36, "score": 5.4, "reason": ""},
    )
    seal = seal_png()

    def after(workbook, ws, cells):
        ws.conditional_format("I14:I24", {"type": "data_bar", "data_bar_2010": True, "bar_color": "#63C384",
                                          "bar_solid": True, "min_type": "num", "min_value": 0,
                                          "max_type": "num", "max_value": 15})
        ws.data_validation("H5", {"validate": "list", "source": f"={OPTIONS_SHEET}!$A$1:$A$3",
                                  "error_title": "填报人有误", "error_message": "请从下拉列表中选择。"})
        ws.insert_image("I26", "seal.png", {"image_data": io.BytesIO(seal), "x_offset": 30, "y_offset": 2,
                                             "object_position": 1, "description": "单位公章"})
        ws.insert_textbox("A29", "单位盖章：乌鲁木齐市工商业联合会（乌鲁木齐市总商会）\n填报日期：2025年3月10日",
                          {"width": 420, "height": 44, "font": {"name": "宋体", "size": 10},
                           "line": {"color": "#C00000", "dash_type": "dash"}, "object_position": 1})
        detail = workbook.add_worksheet("资金明细")
        bold = workbook.add_format({"bold": True, "border": 1, "font_name": FONT, "font_size": 10})
        cell = workbook.add_format({"border": 1, "font_name": FONT, "font_size": 10})
        pct = workbook.add_format({"border": 1, "num_format": "0.00%", "font_name": FONT, "font_size": 10})
        detail.set_column(0, 0, 22)
        detail.set_column(1, 4, 12)
        detail.write_row(0, 0, ["支出项目", "预算数（万元）", "执行数（万元）", "执行率", "趋势"], bold)
        lines = [("党建书籍购置", 4.0, 4.0), ("党务培训班", 2.0, 1.56), ("学习资料", 1.94, 1.94)]
        for r, (name, budget, spent) in enumerate(lines, start=1):
            detail.write_string(r, 0, name, cell)
            detail.write_number(r, 1, budget, cell)
            detail.write_number(r, 2, spent, cell)
            detail.write_formula(r, 3, f"=IF(B{r + 1}>0,C{r + 1}/B{r + 1},\"\")", pct, spent / budget)
        detail.write_string(4, 0, "合计", bold)
        detail.write_formula(4, 1, "=SUM(B2:B4)", bold, 7.94)
        detail.write_formula(4, 2, "=SUM(C2:C4)", bold, 7.5)
        detail.write_formula(4, 3, "=IF(B5>0,C5/B5,\"\")", pct, 7.5 / 7.94)
        detail.write_string(5, 0, "与自评表全年预算数核对", cell)
        detail.write_formula(5, 1, f"={FORM}!E7-B5", cell, 0)
        detail.add_sparkline("E5", {"range": "资金明细!B5:C5", "type": "column"})
        detail.activate()  # saved while looking at 资金明细: its view is the selected one, not the form's
        options = workbook.add_worksheet(OPTIONS_SHEET)
        options.write_column(0, 0, CONTACTS)
        options.hide()

    xlsxwriter_form(out, content, after=after)
    rewrite_zip(out, change={"xl/worksheets/sheet1.xml": _x14_validation})
    add_calc_chain(out)


def add_calc_chain(path: Path) -> None:
    """Add xl/calcChain.xml listing every formula cell, as Excel saves it (xlsxwriter and Calc
    write none): the copy must drop it or keep it true."""
    main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    with zipfile.ZipFile(path) as z:
        workbook = z.read("xl/workbook.xml").decode("utf-8")
        entries = []
        for sheet_id, index in re.findall(r'<sheet name="[^"]*" sheetId="(\d+)" r:id="rId(\d+)"', workbook):
            part = f"xl/worksheets/sheet{index}.xml"
            if part not in z.namelist():
                continue
            for c in ET.fromstring(z.read(part)).iter(f"{main}c"):
                if c.find(f"{main}f") is not None:
                    entries.append(f'<c r="{c.get("r")}" i="{sheet_id}"/>')
    chain = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
             '<calcChain xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">' + "".join(entries) + "</calcChain>")
    rel = ('<Relationship Id="rIdCalcChain1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/calcChain" '
           'Target="calcChain.xml"/></Relationships>')
    override = ('<Override PartName="/xl/calcChain.xml" '
                'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.calcChain+xml"/></Types>')
    rewrite_zip(path, change={
        "xl/_rels/workbook.xml.rels": lambda b: b.decode().replace("</Relationships>", rel).encode(),
        "[Content_Types].xml": lambda b: b.decode().replace("</Types>", override).encode(),
    }, add={"xl/calcChain.xml": chain.encode("utf-8")})


VBA_CODE = """Option VBASupport 1
' Check the weight total after filling in the form
Sub CheckWeightTotal()
    Dim total As Double
    total = ThisWorkbook.Worksheets(1).Range("H25").Value
    If total <> 100 Then
        MsgBox "H25 = " & total & " (should be 100)"
    End If
End Sub
"""


def build_lo_vba(out: Path, work: Path) -> None:
    content = form_content({"match": {"level3": "有效提高商会党建各项工作"}, "actual": "部分达成年度指标并具有一定效果",
                            "score": 10, "reason": "部分商会党组织活动开展不够经常，下一年度加强督导。"},
                           {"match": {"level3": "组织党支部开展党务培训班"}, "operator": ""})
    base = work / "vba-base.xlsx"
    write_form(content, base)
    libreoffice({"src": str(base), "out": str(out), "filter": "Calc MS Excel 2007 VBA XML", "experimental": True,
                 "ops": [{"op": "basic_module", "module": "Module1", "code": VBA_CODE}]})
    with zipfile.ZipFile(out) as z:
        assert "xl/vbaProject.bin" in z.namelist(), "LibreOffice wrote no VBA project"
    back = libreoffice({"src": str(out), "out": "", "filter": "", "ops": [{"op": "read_basic"}]})
    modules = back.get("basic", {}).get("VBAProject", {})
    assert any("Sub CheckWeightTotal" in code for code in modules.values()), f"VBA module not read back: {back}"


def build_xw_chartsheet(out: Path, work: Path) -> None:
    content = form_content({"match": {"level3": "服务对象满意度"}, "actual": 80, "score": 9.41, "reason": ""})

    def before(workbook):
        chartsheet = workbook.add_chartsheet("得分图")
        chart = workbook.add_chart({"type": "bar"})
        for col, name in (("H", "分值"), ("I", "得分")):
            chart.add_series({"name": name, "categories": f"={FORM}!$C$14:$C$24", "values": f"={FORM}!${col}$14:${col}$24"})
        chart.set_title({"name": "各指标分值与自评得分", "name_font": {"name": "黑体", "size": 12}})
        chart.set_x_axis({"num_font": {"name": FONT}})
        chart.set_y_axis({"reverse": True, "num_font": {"name": FONT, "size": 8}})
        chartsheet.set_chart(chart)

    def after(workbook, ws, cells):
        ws.activate()
        workbook.get_worksheet_by_name("填表说明").repeat_rows(0)
        workbook.set_custom_property("报送系统编号", "XJ-2024-0193")

    xlsxwriter_form(out, content, before=before, after=after)
    rels = ('<Relationship Id="rIdCustomXml1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/customXml" '
            'Target="../customXml/item1.xml"/></Relationships>')
    item_rels = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                 '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                 '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/customXmlProps" '
                 'Target="itemProps1.xml"/></Relationships>')
    override = ('<Override PartName="/customXml/itemProps1.xml" '
                'ContentType="application/vnd.openxmlformats-officedocument.customXmlProperties+xml"/></Types>')
    rewrite_zip(out, change={
        "xl/_rels/workbook.xml.rels": lambda b: b.decode().replace("</Relationships>", rels).encode(),
        "[Content_Types].xml": lambda b: b.decode().replace("</Types>", override).encode(),
    }, add={
        "customXml/item1.xml": CUSTOM_XML.encode("utf-8"),
        "customXml/itemProps1.xml": CUSTOM_XML_PROPS.encode("utf-8"),
        "customXml/_rels/item1.xml.rels": item_rels.encode("utf-8"),
    })


def build_wps_cellimage(out: Path, work: Path) -> None:
    content = form_content()

    def after(workbook, ws, cells):
        label = workbook.add_format({"font_name": FONT, "font_size": 10, "bold": True, "align": "right", "valign": "vcenter"})
        ws.write_string("G29", "单位盖章：", label)
        ws.write_formula("H29", f'=_xlfn.DISPIMG("{WPS_IMAGE_ID}",1)', None, f'=DISPIMG("{WPS_IMAGE_ID}",1)')
        ws.set_row(28, 60)

    xlsxwriter_form(out, content, after=after)
    cellimages = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<etc:cellImages xmlns:xdr="http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
        'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
        'xmlns:etc="http://www.wps.cn/officeDocument/2017/etCustomData">'
        f'<etc:cellImage><xdr:pic><xdr:nvPicPr><xdr:cNvPr id="2" name="{WPS_IMAGE_ID}" descr="单位公章"/>'
        '<xdr:cNvPicPr><a:picLocks noChangeAspect="1"/></xdr:cNvPicPr></xdr:nvPicPr>'
        '<xdr:blipFill><a:blip r:embed="rId1"/><a:stretch><a:fillRect/></a:stretch></xdr:blipFill>'
        '<xdr:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="685800" cy="685800"/></a:xfrm>'
        '<a:prstGeom prst="rect"><a:avLst/></a:prstGeom></xdr:spPr></xdr:pic></etc:cellImage></etc:cellImages>'
    )
    cellimage_rels = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                      '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                      '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/image" '
                      'Target="media/image1.png"/></Relationships>')
    rels = ('<Relationship Id="rIdCellImages1" Type="http://www.wps.cn/officeDocument/2020/cellImage" '
            'Target="cellimages.xml"/></Relationships>')
    types = ('<Default Extension="png" ContentType="image/png"/>'
             '<Override PartName="/xl/cellimages.xml" ContentType="application/vnd.wps-officedocument.cellimage+xml"/></Types>')
    rewrite_zip(out, change={
        "xl/_rels/workbook.xml.rels": lambda b: b.decode().replace("</Relationships>", rels).encode(),
        "[Content_Types].xml": lambda b: b.decode().replace("</Types>", types).encode(),
    }, add={
        "xl/cellimages.xml": cellimages.encode("utf-8"),
        "xl/_rels/cellimages.xml.rels": cellimage_rels.encode("utf-8"),
        "xl/media/image1.png": seal_png(),
    })


FIXTURES = {
    "lo_picture_comments_richtext_dv_cf_protected.xlsx": build_lo_picture_comments,
    "xw_x14dv_databar_sparkline_image_textbox_formulas.xlsx": build_xw_x14,
    "lo_vba_macro.xlsm": build_lo_vba,
    "xw_chartsheet_printtitles_customxml.xlsx": build_xw_chartsheet,
    "wps_cellimage_dispimg.xlsx": build_wps_cellimage,
}


def verify(paths: list[Path]) -> None:
    """Every fixture opens in LibreOffice (PDF export) and is a form the tool scores."""
    from perfeval_xlsx.score import score_file

    with tempfile.TemporaryDirectory(prefix="fidelity-verify-") as tmp:
        copies = []
        for i, path in enumerate(paths):
            copies.append(Path(tmp) / f"book{i}{path.suffix}")
            shutil.copyfile(path, copies[-1])
        subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp}/lo-profile", "--headless", "--norestore",
                        "--convert-to", "pdf", "--outdir", tmp, *map(str, copies)], capture_output=True, timeout=600)
        for path, copy in zip(paths, copies):
            assert copy.with_suffix(".pdf").exists(), f"LibreOffice cannot open {path.name}"
            outcome = score_file(path, Path(tmp) / "scored")
            assert outcome.output is not None and outcome.result.score is not None, f"{path.name} is not scored"
            print(f"{path.stat().st_size:>7,} B  {path.name}: total {outcome.result.score.total}, "
                  f"{', '.join(f'{f.code} {f.cell}' for f in outcome.result.findings) or 'no findings'}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=HERE)
    parser.add_argument("--only", action="append", default=[], help="fixture name (without suffix); repeatable")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    built = []
    for name, build in FIXTURES.items():
        if args.only and Path(name).stem not in args.only and name not in args.only:
            continue
        with tempfile.TemporaryDirectory(prefix="fidelity-") as work:
            build(args.out / name, Path(work))
        built.append(args.out / name)
    verify(built)


if __name__ == "__main__":
    main()
