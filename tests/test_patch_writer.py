"""The patching writer (output.xlsx_patch) against the openpyxl writer, and its own edges.

Both writers make the scored copy from the same decisions, so every result and every value,
format, fill, comment, row height, page break and print setting of the copies must agree; the
fidelity corpus (test_fidelity.py) shows what only the patching writer keeps.
"""

from __future__ import annotations

import io
import sys
import warnings
import zipfile
import zlib
from pathlib import Path

import openpyxl
import pytest

from perfeval_xlsx.output.xlsx_patch import Unsupported
from perfeval_xlsx.reading.mark import workbook_mark
from perfeval_xlsx.score import score_file

from .conftest import ROOT

SAMPLES = sorted((ROOT / "samples").glob("*.xlsx")) + sorted((ROOT / "samples" / "broken").glob("*.xlsx"))
BASE = ROOT / "samples" / "2024_乌鲁木齐市工商联_非公有制党建工作经费（自评表）.xlsx"


def _generated(tmp_path: Path) -> list[Path]:
    """A 120-row form and the forms of every sample definition, written by the template writer."""
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from bench_batch import _large
    finally:
        sys.path.pop(0)
    from perfeval_xlsx.forms.content import content_from_dict
    from perfeval_xlsx.output.template import write_form

    out = []
    for i in (3, 7):
        path = tmp_path / f"large{i}.xlsx"
        write_form(content_from_dict(_large(i)), path)
        out.append(path)
    return out


def _load(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return openpyxl.load_workbook(path)


def _sheet_view(ws) -> dict:
    cells = {}
    for row in ws.iter_rows():
        for c in row:
            if c.value is None and not c.fill.fill_type and c.comment is None:
                continue
            cells[c.coordinate] = (c.value, c.number_format, (c.fill.fgColor.rgb or "")[-6:] if c.fill.fill_type else None,
                                   c.comment.text if c.comment else None, c.font.b, c.font.sz)
    heights = {r: d.height for r, d in ws.row_dimensions.items() if d.height}
    return {"cells": cells, "heights": heights, "breaks": [b.id for b in ws.row_breaks.brk],
            "merged": sorted(map(str, ws.merged_cells.ranges)), "area": str(ws.print_area), "titles": ws.print_title_rows}


def _compare(path: Path, tmp_path: Path) -> None:
    patched = score_file(path, tmp_path / "patch", writer="patch")
    rewritten = score_file(path, tmp_path / "openpyxl", writer="openpyxl")
    a, b = patched.to_dict(), rewritten.to_dict()
    assert Path(a.pop("output")).parent.name == "patch" and Path(b.pop("output")).parent.name == "openpyxl"
    assert a == b
    wa, wb = _load(patched.output), _load(rewritten.output)
    assert wa.sheetnames == wb.sheetnames
    assert wa.sheetnames[0] == "评分汇总" and wa.active.title == "评分汇总"
    for name in wa.sheetnames:
        assert _sheet_view(wa[name]) == _sheet_view(wb[name]), name
    ma, mb = workbook_mark(wa), workbook_mark(wb)
    assert (ma.kind, ma.sheet, ma.fingerprint, ma.originals, ma.source) == (mb.kind, mb.sheet, mb.fingerprint, mb.originals, mb.source)


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.stem)
def test_both_writers_make_the_same_copy_of_every_sample(path, tmp_path):
    _compare(path, tmp_path)


def test_both_writers_make_the_same_copy_of_generated_forms(tmp_path):
    for path in _generated(tmp_path):
        _compare(path, tmp_path / path.stem)


def test_the_patched_copy_keeps_every_other_member_byte_for_byte(tmp_path):
    out = score_file(BASE, tmp_path, writer="patch").output
    with zipfile.ZipFile(BASE) as src, zipfile.ZipFile(out) as dst:
        changed = {n for n in src.namelist() if src.read(n) != dst.read(n)}
        for name in set(src.namelist()) - changed:
            a, b = src.getinfo(name), dst.getinfo(name)
            assert (a.CRC, a.compress_size, a.compress_type) == (b.CRC, b.compress_size, b.compress_type), name
        added = set(dst.namelist()) - set(src.namelist())
    # the form sheet, the parts that list sheets and styles, and our mark — nothing else
    assert changed == {"[Content_Types].xml", "xl/_rels/workbook.xml.rels", "xl/worksheets/sheet1.xml", "xl/workbook.xml",
                       "xl/sharedStrings.xml", "xl/styles.xml", "docProps/custom.xml", "docProps/app.xml"}
    assert added == {"xl/worksheets/sheet3.xml", "xl/worksheets/sheet4.xml", "xl/worksheets/sheet5.xml"}  # no findings: no comments
    # what we write is deflated at the writer's level (fast; a ZipInfo given to writestr would
    # otherwise take zlib's default level whatever the ZipFile was opened with)
    from perfeval_xlsx.output.xlsx_patch.zipcopy import COMPRESS_LEVEL

    with zipfile.ZipFile(out) as dst:
        for name in changed | added:
            body, info = dst.read(name), dst.getinfo(name)
            deflate = zlib.compressobj(COMPRESS_LEVEL, zlib.DEFLATED, -15)
            assert info.compress_type == zipfile.ZIP_DEFLATED
            assert info.compress_size == len(deflate.compress(body) + deflate.flush()), name


def test_the_sheet_list_of_app_xml_follows_the_workbook(tmp_path):
    out = score_file(BASE, tmp_path, writer="patch").output
    with zipfile.ZipFile(out) as zf:
        app = zf.read("docProps/app.xml").decode()
    wb = _load(out)
    titles = app.split("<TitlesOfParts>")[1]
    listed = [part.split("</vt:lpstr>")[0] for part in titles.split("<vt:lpstr>")[1:]]
    assert listed[:len(wb.sheetnames)] == wb.sheetnames
    assert f"<vt:i4>{len(wb.sheetnames)}</vt:i4>" in app


def _rezip(source: Path, target: Path, edit) -> Path:
    """A copy of `source` with each member's bytes passed through edit(name, bytes) (None: dropped)."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            body = edit(info.filename, zin.read(info))
            if body is not None:
                zout.writestr(info.filename, body)
    return target


def test_a_workbook_without_shared_strings_or_custom_properties_gets_them(tmp_path):
    """A minimal package (as some generators write): inline strings, no custom.xml, no app.xml."""
    wb = _load(BASE)
    ws = wb["自评表"]
    buf = io.BytesIO()
    wb.save(buf)
    plain = tmp_path / "plain.xlsx"
    plain.write_bytes(buf.getvalue())

    def strip(name, body):
        if name in ("docProps/custom.xml", "docProps/app.xml"):
            return None
        if name == "_rels/.rels":
            return body.replace(b'<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties" Target="docProps/custom.xml"/>', b"")
        if name == "[Content_Types].xml":
            return body.replace(b'<Override PartName="/docProps/custom.xml" ContentType="application/vnd.openxmlformats-officedocument.custom-properties+xml"/>', b"")
        return body

    bare = _rezip(plain, tmp_path / "bare.xlsx", strip)
    with zipfile.ZipFile(bare) as zf:
        assert "docProps/custom.xml" not in zf.namelist()
    outcome = score_file(bare, tmp_path / "out", writer="patch")
    assert outcome.result.status == "ok" and outcome.to_dict()["total"] == 100
    copy = _load(outcome.output)
    assert workbook_mark(copy).kind == "scored"
    assert copy["评分汇总"]["A1"].value == "项目支出绩效自评 评分汇总"
    assert ws.title in copy.sheetnames


def test_a_unit_comment_on_a_problem_cell_is_kept_and_ours_added_to_it(tmp_path):
    wb = _load(ROOT / "samples" / "broken" / "自评得分超过分值.xlsx")
    from openpyxl.comments import Comment

    wb["自评表"]["I24"].comment = Comment("单位说明：满意度调查按 12 分计。", "填表人")
    unit = tmp_path / "unit.xlsx"
    wb.save(unit)
    out = score_file(unit, tmp_path / "out", writer="patch").output
    text = _load(out)["自评表"]["I24"].comment.text
    assert text.startswith("单位说明：满意度调查按 12 分计。")
    assert "【错误】" in text and "得分" in text


def test_formulas_of_the_form_become_values_and_the_calculation_chain_goes(tmp_path):
    """xlsxwriter's forms carry formulas (the 总分 row) with results; the copy shows the results."""
    out = score_file(BASE, tmp_path, writer="patch").output
    with zipfile.ZipFile(out) as zf:
        sheet = zf.read("xl/worksheets/sheet1.xml")
        assert b"<f>" not in sheet and b"<f " not in sheet
        assert "xl/calcChain.xml" not in zf.namelist()
    mark = workbook_mark(_load(out))
    formulas = {k: v for k, v in mark.originals.items() if hasattr(v, "formula")}
    assert formulas, "the form's formulas are recorded to be restored"
    # reading the copy again gives the unit's own form, formulas included
    again = score_file(out, tmp_path / "again")
    assert again.to_dict()["total"] == 100 and again.result.status == "ok"


def test_a_workbook_the_patcher_declines_is_written_by_openpyxl_and_said_so(tmp_path):
    """A sheet named 评分汇总 of the unit's own: the patching writer declines; auto falls back."""
    wb = _load(BASE)
    wb.create_sheet("评分汇总")
    unit = tmp_path / "unit.xlsx"
    wb.save(unit)
    from perfeval_xlsx.check import check_file
    from perfeval_xlsx.output.writer import write_scored_copy

    with pytest.raises(Unsupported):
        write_scored_copy(check_file(unit, keep_workbook=True), unit, tmp_path / "p.xlsx", writer="patch")
    outcome = score_file(unit, tmp_path / "auto")
    codes = [f["code"] for f in outcome.to_dict()["findings"]]
    assert codes == ["I-COPY-REWRITTEN"] and outcome.result.status == "ok"
    assert _load(outcome.output).sheetnames.count("评分汇总") == 1


def test_a_chartsheet_in_front_keeps_print_titles_on_their_sheets(tmp_path):
    fixture = ROOT / "tests" / "data" / "fidelity" / "xw_chartsheet_printtitles_customxml.xlsx"
    out = score_file(fixture, tmp_path, writer="patch").output
    wb = _load(out)
    assert wb["自评表"].print_title_rows.replace("$", "") == "13:13"
    assert wb["评分明细"].print_title_rows.replace("$", "") == "1:1"


def test_stored_and_descriptor_members_are_copied_as_they_are(tmp_path):
    """A member stored without compression, and one written with a data descriptor (as
    LibreOffice writes every member), come out with the same compressed bytes."""
    class Unseekable(io.RawIOBase):  # a pipe, as far as zipfile can tell: it writes descriptors
        def __init__(self):
            self.buffer = io.BytesIO()

        def writable(self):
            return True

        def write(self, b):
            return self.buffer.write(b)

        def tell(self):
            return self.buffer.tell()

    sink = Unseekable()
    source = tmp_path / "mixed.xlsx"
    with zipfile.ZipFile(BASE) as zin, zipfile.ZipFile(sink, "w") as zout:
        for info in zin.infolist():
            body = zin.read(info)
            if info.filename == "xl/theme/theme1.xml":
                zout.writestr(zipfile.ZipInfo(info.filename, info.date_time), body, compress_type=zipfile.ZIP_STORED)
            elif info.filename == "docProps/core.xml":
                streamed = zipfile.ZipInfo(info.filename, info.date_time)
                streamed.compress_type = zipfile.ZIP_DEFLATED
                with zout.open(streamed, "w") as fh:
                    fh.write(body)
            else:
                zout.writestr(info, body, compress_type=zipfile.ZIP_DEFLATED)
    source.write_bytes(sink.buffer.getvalue())
    with zipfile.ZipFile(source) as zf:
        assert zf.getinfo("docProps/core.xml").flag_bits & 0x08
    out = score_file(source, tmp_path / "out", writer="patch").output
    with zipfile.ZipFile(source) as a, zipfile.ZipFile(out) as b:
        assert b.testzip() is None
        for name in ("xl/theme/theme1.xml", "docProps/core.xml"):
            x, y = a.getinfo(name), b.getinfo(name)
            assert (x.CRC, x.compress_size, x.compress_type, x.flag_bits) == (y.CRC, y.compress_size, y.compress_type, y.flag_bits)
            assert a.read(name) == b.read(name)


# ECMA-376 Part 1, CT_Worksheet: the sequence of a worksheet's child elements (Excel refuses a
# sheet whose elements are out of this order and offers to "repair" the workbook)
WORKSHEET_SEQUENCE = (
    "sheetPr", "dimension", "sheetViews", "sheetFormatPr", "cols", "sheetData", "sheetCalcPr", "sheetProtection",
    "protectedRanges", "scenarios", "autoFilter", "sortState", "dataConsolidate", "customSheetViews", "mergeCells",
    "phoneticPr", "conditionalFormatting", "dataValidations", "hyperlinks", "printOptions", "pageMargins", "pageSetup",
    "headerFooter", "rowBreaks", "colBreaks", "customProperties", "cellWatches", "ignoredErrors", "smartTags", "drawing",
    "legacyDrawing", "legacyDrawingHF", "drawingHF", "picture", "oleObjects", "controls", "webPublishItems", "tableParts",
    "extLst",
)


def _worksheet_children(data: bytes) -> list[str]:
    from xml.etree import ElementTree

    return [child.tag.rpartition("}")[2] for child in ElementTree.fromstring(data)]


@pytest.mark.parametrize("path", SAMPLES + sorted((ROOT / "tests" / "data" / "fidelity").glob("*.xls[xm]")),
                         ids=lambda p: p.stem[:30])
def test_every_patched_worksheet_keeps_the_schema_order_of_its_elements(path, tmp_path):
    # a form without page breaks or comments of its own gets both (rowBreaks, then legacyDrawing,
    # both before </worksheet> when nothing follows): they must come in the schema's order
    outcome = score_file(path, tmp_path, writer="patch")
    assert outcome.output is not None
    with zipfile.ZipFile(outcome.output) as zf:
        sheets = [n for n in zf.namelist() if n.startswith("xl/worksheets/") and n.endswith(".xml")]
        assert sheets
        for name in sheets:
            children = [c for c in _worksheet_children(zf.read(name)) if c != "AlternateContent"]
            ranks = [WORKSHEET_SEQUENCE.index(c) for c in children]
            assert ranks == sorted(ranks), (name, children)


def test_page_breaks_and_a_new_comment_drawing_inserted_at_one_place_come_in_order(tmp_path):
    # the 120-row form: breaks between groups and comments on problem cells, neither there before
    form = _generated(tmp_path)[0]
    broken = tmp_path / "with_problem.xlsx"
    from perfeval_xlsx.check import check_file

    first = check_file(form).form.indicators[0]
    wb = _load(form)
    from openpyxl.worksheet.pagebreak import RowBreak

    ws = wb[first.actual.sheet]
    ws[first.actual.address] = "待核"  # a value that cannot be read: an error comment on it
    ws.row_breaks = RowBreak()  # no breaks of its own: ours are inserted
    wb.save(broken)
    with zipfile.ZipFile(broken) as zf:
        sheet = zf.read("xl/worksheets/sheet1.xml")
        assert b"rowBreaks" not in sheet and b"legacyDrawing" not in sheet
    outcome = score_file(broken, tmp_path / "out", writer="patch")
    with zipfile.ZipFile(outcome.output) as zf:
        children = _worksheet_children(zf.read("xl/worksheets/sheet1.xml"))
    assert "rowBreaks" in children and "legacyDrawing" in children
    assert children.index("rowBreaks") < children.index("legacyDrawing")
