"""The fidelity corpus (tests/data/fidelity/): what each fixture carries, the checks that the
scored copy keeps it, and the table of what each writer keeps or loses (issue 13).

    python -m tests.fidelity_table            # score every fixture with each writer, print the table
    python -m tests.fidelity_table --markdown # the same as a Markdown table (for the issue note)

A check is a function of (original, copy, fixture) that returns None when the copy keeps the
feature and a short text of what it lost otherwise. tests/test_fidelity.py runs the same checks:
with writer="patch" every one must hold; with writer="openpyxl" the ones a fixture lists in
`openpyxl_loses` are expected failures (and must really fail, so the table stays true).
"""

from __future__ import annotations

import posixpath
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable
from xml.etree import ElementTree as ET

FIDELITY = Path(__file__).resolve().parent / "data" / "fidelity"
FORM = "自评表"
WRITERS = ("patch", "openpyxl")

NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "pr": "http://schemas.openxmlformats.org/package/2006/relationships",
    "ct": "http://schemas.openxmlformats.org/package/2006/content-types",
    "x14": "http://schemas.microsoft.com/office/spreadsheetml/2009/9/main",
    "xm": "http://schemas.microsoft.com/office/excel/2006/main",
    "xdr": "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing",
    "a": "http://schemas.openxmlformats.org/drawingml/2006/main",
    "cp": "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties",
    "etc": "http://www.wps.cn/officeDocument/2017/etCustomData",
}
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
R_ID = f"{{{NS['r']}}}id"
#: the fill of a marked cell by its worst finding (README: 错误红、预警橙、提示蓝)
HIGHLIGHT = {"错误": "D9534F", "预警": "F4A460", "提示": "C5D9F1"}


# --------------------------------------------------------------------------- reading a package


class Book:
    """An .xlsx/.xlsm package read with the standard library: parts, relationships, sheets."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        with zipfile.ZipFile(self.path) as z:
            self.infos = {i.filename: i for i in z.infolist()}
            self.data = {name: z.read(name) for name in self.infos}
        self.workbook_part = next(t for _, (kind, t) in self.rels("").items() if kind == REL + "officeDocument")

    def __contains__(self, name: str) -> bool:
        return name in self.data

    def xml(self, name: str) -> ET.Element:
        return ET.fromstring(self.data[name])

    @staticmethod
    def rels_name(part: str) -> str:
        folder, base = posixpath.split(part)
        return posixpath.join(folder, "_rels", base + ".rels")

    def rels(self, part: str) -> dict[str, tuple[str, str]]:
        """The relationships of `part` ("" for the package): id → (type, target part name)."""
        name = self.rels_name(part) if part else "_rels/.rels"
        if name not in self.data:
            return {}
        out = {}
        for rel in self.xml(name).findall("pr:Relationship", NS):
            target = rel.get("Target", "")
            if rel.get("TargetMode") == "External":
                continue
            if target.startswith("/"):
                target = target[1:]
            else:
                target = posixpath.normpath(posixpath.join(posixpath.dirname(part), target))
            out[rel.get("Id")] = (rel.get("Type"), target)
        return out

    def sheets(self) -> list[tuple[str, str, str]]:
        """(name, kind, part) of every sheet in workbook order; kind: worksheet or chartsheet."""
        rels = self.rels(self.workbook_part)
        out = []
        for sheet in self.xml(self.workbook_part).find("m:sheets", NS):
            kind, part = rels[sheet.get(R_ID)]
            out.append((sheet.get("name"), kind.rsplit("/", 1)[-1], part))
        return out

    def sheet_part(self, name: str) -> str:
        return next(part for n, _, part in self.sheets() if n == name)

    def related(self, part: str, kind: str) -> list[str]:
        return [t for _, (k, t) in self.rels(part).items() if k == REL + kind]

    def sheet(self, name: str) -> ET.Element:
        return self.xml(self.sheet_part(name))

    def shared_strings(self) -> list[ET.Element]:
        parts = self.related(self.workbook_part, "sharedStrings")
        return self.xml(parts[0]).findall("m:si", NS) if parts and parts[0] in self else []

    def cell(self, sheet: str, ref: str) -> ET.Element | None:
        return self.sheet(sheet).find(f"m:sheetData/m:row/m:c[@r='{ref}']", NS)

    def text_element(self, sheet: str, ref: str) -> ET.Element | None:
        """The <si> or <is> element holding the text of a text cell."""
        c = self.cell(sheet, ref)
        if c is None:
            return None
        if c.get("t") == "s":
            return self.shared_strings()[int(c.find("m:v", NS).text)]
        if c.get("t") == "inlineStr":
            return c.find("m:is", NS)
        return None

    def comments(self, sheet: str) -> dict[str, str]:
        """ref → text of the sheet's cell comments (all runs joined)."""
        return {ref: text for ref, (text, _) in self.comments_by(sheet).items()}

    def comments_by(self, sheet: str) -> dict[str, tuple[str, str]]:
        """ref → (text, author) of the sheet's cell comments."""
        out = {}
        for part in self.related(self.sheet_part(sheet), "comments"):
            root = self.xml(part)
            authors = [a.text or "" for a in root.iterfind("m:authors/m:author", NS)]
            for comment in root.iter(f"{{{NS['m']}}}comment"):
                author_id = int(comment.get("authorId", "0"))
                out[comment.get("ref")] = ("".join(t.text or "" for t in comment.iter(f"{{{NS['m']}}}t")),
                                           authors[author_id] if author_id < len(authors) else "")
        return out

    def drawings(self, sheet: str) -> list[str]:
        return self.related(self.sheet_part(sheet), "drawing")

    def defined_names(self) -> list[tuple[str, str | None, str]]:
        """(name, sheet it belongs to or None, text), sheet-level names resolved by position."""
        sheets = [n for n, _, _ in self.sheets()]
        names = self.xml(self.workbook_part).find("m:definedNames", NS)
        out = []
        for dn in ([] if names is None else names):
            local = dn.get("localSheetId")
            out.append((dn.get("name"), sheets[int(local)] if local is not None else None, dn.text or ""))
        return out

    def content_types(self) -> dict[str, str]:
        root = self.xml("[Content_Types].xml")
        return {o.get("PartName").lstrip("/"): o.get("ContentType") for o in root.findall("ct:Override", NS)}

    def custom_properties(self) -> dict[str, str]:
        if "docProps/custom.xml" not in self:
            return {}
        return {p.get("name"): "".join(p.itertext()) for p in self.xml("docProps/custom.xml").findall("cp:property", NS)}

    def fill_rgb(self, sheet: str, ref: str) -> str:
        """The solid fill colour (RRGGBB) of a cell, or ""."""
        c = self.cell(sheet, ref)
        styles = self.xml(self.related(self.workbook_part, "styles")[0])
        xfs = styles.find("m:cellXfs", NS).findall("m:xf", NS)
        xf = xfs[int(c.get("s", "0"))] if c is not None else None
        if xf is None:
            return ""
        fill = styles.find("m:fills", NS).findall("m:fill", NS)[int(xf.get("fillId", "0"))]
        pattern = fill.find("m:patternFill", NS)
        fg = pattern.find("m:fgColor", NS) if pattern is not None else None
        return (fg.get("rgb") or "")[-6:].upper() if fg is not None else ""


def may_change(orig: Book, form: str = FORM) -> set[str]:
    """The parts the scored copy is allowed to change (issue 13): the form sheet and its rels, its
    comments and VML, the workbook, its rels, content types, styles, shared strings, app.xml,
    custom.xml, calcChain, and a sheet whose view was selected (the copy selects 评分汇总)."""
    part = orig.sheet_part(form)
    allowed = {part, orig.rels_name(part), orig.workbook_part, orig.rels_name(orig.workbook_part), "[Content_Types].xml",
               "xl/styles.xml", "xl/sharedStrings.xml", "docProps/app.xml", "docProps/custom.xml", "xl/calcChain.xml"}
    for kind in ("styles", "sharedStrings", "calcChain"):
        allowed.update(orig.related(orig.workbook_part, kind))
    allowed.update(orig.related(part, "comments") + orig.related(part, "vmlDrawing"))
    for _, _, sheet_part in orig.sheets():
        view = orig.xml(sheet_part).find("m:sheetViews/m:sheetView", NS)
        if view is not None and view.get("tabSelected") in ("1", "true"):
            allowed.add(sheet_part)
    return allowed


# --------------------------------------------------------------------------- the checks


@dataclass(frozen=True)
class Fixture:
    file: str
    carries: str
    #: the values the scored copy must show, worked out by hand from docs/rules.md
    total: float
    grade: str
    form_cells: dict[str, object]
    #: cell → severity label of the worst finding expected there (the copy fills and comments it)
    marks: dict[str, str] = field(default_factory=dict)
    features: tuple[str, ...] = ()
    openpyxl_loses: frozenset[str] = frozenset()

    @property
    def path(self) -> Path:
        return FIDELITY / self.file


Check = Callable[[Book, Book, Fixture], "str | None"]
CHECKS: dict[str, tuple[str, Check]] = {}


def check(key: str, title: str):
    def register(fn: Check) -> Check:
        CHECKS[key] = (title, fn)
        return fn
    return register


def _missing(names, copy: Book, orig: Book) -> list[str]:
    return [n for n in names if n not in copy or copy.data[n] != orig.data[n]]


@check("parts", "every part not meant to change is byte-identical")
def _parts(orig: Book, copy: Book, fx: Fixture):
    allowed = may_change(orig)
    lost = [n for n in orig.data if n not in allowed and n not in copy]
    changed = [n for n in orig.data if n not in allowed and n in copy and copy.data[n] != orig.data[n]]
    if lost or changed:
        return "; ".join(filter(None, [lost and "missing " + ", ".join(lost), changed and "changed " + ", ".join(changed)]))
    return None


@check("raw", "their compressed bytes are untouched (CRC, size, method)")
def _raw(orig: Book, copy: Book, fx: Fixture):
    allowed = may_change(orig)
    differ = []
    for name, info in orig.infos.items():
        if name in allowed:
            continue
        other = copy.infos.get(name)
        if other is None or (other.CRC, other.compress_size, other.compress_type) != (info.CRC, info.compress_size, info.compress_type):
            differ.append(name)
    return ("recompressed or missing: " + ", ".join(differ)) if differ else None


@check("core", "docProps/core.xml unchanged")
def _core(orig: Book, copy: Book, fx: Fixture):
    if "docProps/core.xml" not in orig:
        return None
    return None if _missing(["docProps/core.xml"], copy, orig) == [] else "docProps/core.xml rewritten"


@check("custom_props", "the unit's custom document properties kept")
def _custom_props(orig: Book, copy: Book, fx: Fixture):
    mine = {k: v for k, v in orig.custom_properties().items() if not k.startswith("perfeval-xlsx")}
    theirs = copy.custom_properties()
    lost = [k for k, v in mine.items() if theirs.get(k) != v]
    return ("lost " + ", ".join(lost)) if lost else None


def _validations(book: Book) -> set[tuple]:
    sheet = book.sheet(FORM)
    out = set()
    for dv in sheet.iterfind("m:dataValidations/m:dataValidation", NS):
        f1 = dv.find("m:formula1", NS)
        out.add((" ".join(sorted(dv.get("sqref", "").split())), dv.get("type", "none"),
                 (f1.text or "") if f1 is not None else ""))
    return out


@check("validations", "the form's data validations kept")
def _dv(orig: Book, copy: Book, fx: Fixture):
    lost = _validations(orig) - _validations(copy)
    return ("lost " + ", ".join(sorted(s for s, _, _ in lost))) if lost else None


def _cond_formats(book: Book) -> set[tuple]:
    out = set()
    for cf in book.sheet(FORM).iterfind("m:conditionalFormatting", NS):
        for rule in cf.findall("m:cfRule", NS):
            out.add((cf.get("sqref"), rule.get("type"), tuple(f.text for f in rule.findall("m:formula", NS))))
    return out


@check("cond_formats", "the form's conditional formats kept")
def _cf(orig: Book, copy: Book, fx: Fixture):
    lost = _cond_formats(orig) - _cond_formats(copy)
    return ("lost " + ", ".join(sorted(f"{s} {t}" for s, t, _ in lost))) if lost else None


@check("merges", "the form's merged cells kept")
def _merges(orig: Book, copy: Book, fx: Fixture):
    def merges(book):
        return {m.get("ref") for m in book.sheet(FORM).iterfind("m:mergeCells/m:mergeCell", NS)}
    lost = merges(orig) - merges(copy)
    return ("lost " + ", ".join(sorted(lost))) if lost else None


#: sheetProtection's attributes where absent (ECMA-376 §18.3.1.85): openpyxl writes them all
PROTECTION_DEFAULTS = {"sheet": "0", "objects": "0", "scenarios": "0", "formatCells": "1", "formatColumns": "1",
                       "formatRows": "1", "insertColumns": "1", "insertRows": "1", "insertHyperlinks": "1",
                       "deleteColumns": "1", "deleteRows": "1", "selectLockedCells": "0", "sort": "1", "autoFilter": "1",
                       "pivotTables": "1", "selectUnlockedCells": "0"}


@check("protection", "the form's sheet protection kept")
def _protection(orig: Book, copy: Book, fx: Fixture):
    def protection(book):
        p = book.sheet(FORM).find("m:sheetProtection", NS)
        if p is None:
            return None
        given = {k: {"true": "1", "false": "0"}.get(v, v) for k, v in p.attrib.items()}
        return {**PROTECTION_DEFAULTS, **given}
    a, b = protection(orig), protection(copy)
    return None if a == b else f"sheetProtection {a} became {b}"


@check("comments", "the unit's own comments kept, word for word (with their author where we add none)")
def _comments(orig: Book, copy: Book, fx: Fixture):
    mine, theirs = orig.comments_by(FORM), copy.comments_by(FORM)
    lost = [ref for ref, (text, _) in mine.items() if text.strip() not in theirs.get(ref, ("", ""))[0]]
    authors = [f"{ref} by {theirs[ref][1]!r}, not {author!r}" for ref, (_, author) in mine.items()
               if ref not in lost and ref not in fx.marks and theirs[ref][1] != author]
    wrong = (["lost the unit's comment on " + ", ".join(lost)] if lost else []) + authors
    return "; ".join(wrong) or None


@check("marks", "problem cells filled and commented (joined to the unit's comment)")
def _marks(orig: Book, copy: Book, fx: Fixture):
    theirs = copy.comments(FORM)
    wrong = []
    for ref, label in fx.marks.items():
        if f"【{label}】" not in theirs.get(ref, ""):
            wrong.append(f"{ref} no 【{label}】 comment")
        if copy.fill_rgb(FORM, ref) != HIGHLIGHT[label]:
            wrong.append(f"{ref} fill {copy.fill_rgb(FORM, ref) or 'none'}")
    return "; ".join(wrong) or None


@check("picture", "the picture (xl/media) and the form's drawing kept")
def _picture(orig: Book, copy: Book, fx: Fixture):
    media = [n for n in orig.data if n.startswith("xl/media/")]
    lost = _missing(media, copy, orig)
    drawings = orig.drawings(FORM)
    if _missing(drawings, copy, orig) or sorted(copy.drawings(FORM)) != sorted(drawings):
        lost.append("the drawing of " + FORM)
    return ("lost " + ", ".join(lost)) if lost else None


@check("shapes", "the image and the text box in the form's drawing kept")
def _shapes(orig: Book, copy: Book, fx: Fixture):
    drawings = copy.drawings(FORM)
    if not drawings or drawings[0] not in copy:
        return "the form has no drawing"
    root = copy.xml(drawings[0])
    pics = root.findall(".//xdr:pic", NS)
    boxes = ["".join(sp.itertext()) for sp in root.findall(".//xdr:sp", NS)]
    wrong = []
    if not pics:
        wrong.append("no picture")
    if not any("单位盖章" in text for text in boxes):
        wrong.append("no text box 单位盖章")
    return "; ".join(wrong) or None


@check("rich_text", "rich text in J15 kept (two runs, 宋体 and 黑体 bold)")
def _rich(orig: Book, copy: Book, fx: Fixture):
    si = copy.text_element(FORM, "J15")
    if si is None:
        return "J15 holds no text"
    runs = [(r.find("m:rPr/m:rFont", NS), r.find("m:rPr/m:b", NS), "".join(r.find("m:t", NS).itertext()))
            for r in si.findall("m:r", NS)]
    fonts = [(f.get("val") if f is not None else None, b is not None) for f, b, _ in runs]
    if ("宋体", False) in fonts and ("黑体", True) in fonts:
        return None
    return f"J15 is {len(runs)} run(s)" + (f" with fonts {fonts}" if runs else " (plain text)")


@check("x14_validation", "the x14 list validation (source on another sheet) kept in extLst")
def _x14_dv(orig: Book, copy: Book, fx: Fixture):
    sheet = copy.sheet(FORM)
    for dv in sheet.iterfind("m:extLst/m:ext/x14:dataValidations/x14:dataValidation", NS):
        if dv.findtext("xm:sqref", "", NS) == "H5" and dv.findtext("x14:formula1/xm:f", "", NS) == "下拉选项!$A$1:$A$3":
            return None
    return "no x14:dataValidation on H5"


@check("databar_ext", "the Excel 2010 data bar (extLst) kept and linked")
def _databar(orig: Book, copy: Book, fx: Fixture):
    sheet = copy.sheet(FORM)
    ids = {r.text for r in sheet.iterfind("m:conditionalFormatting/m:cfRule[@type='dataBar']/m:extLst/m:ext/x14:id", NS)}
    ext = {r.get("id") for r in sheet.iterfind("m:extLst/m:ext/x14:conditionalFormattings/x14:conditionalFormatting/x14:cfRule", NS)
           if r.find("x14:dataBar", NS) is not None}
    if not ext:
        return "no x14 data bar"
    return None if ids & ext else "x14 data bar not linked from the cfRule"


@check("sparkline", "the sparkline on 资金明细 (extLst) kept")
def _sparkline(orig: Book, copy: Book, fx: Fixture):
    sheet = copy.sheet("资金明细")
    return None if sheet.find("m:extLst/m:ext/x14:sparklineGroups", NS) is not None else "no x14:sparklineGroups"


@check("formulas", "formulas of the other sheets kept, with their cached results")
def _formulas(orig: Book, copy: Book, fx: Fixture):
    lost = []
    for name, kind, part in orig.sheets():
        if name == FORM or kind != "worksheet":
            continue
        theirs = {c.get("r"): c for c in copy.sheet(name).iterfind("m:sheetData/m:row/m:c", NS)}
        for c in orig.xml(part).iterfind("m:sheetData/m:row/m:c", NS):
            if c.find("m:f", NS) is None:
                continue
            other = theirs.get(c.get("r"))
            if (other is None or other.find("m:f", NS) is None or other.findtext("m:f", "", NS) != c.findtext("m:f", "", NS)
                    or other.findtext("m:v", "", NS) != c.findtext("m:v", "", NS)):
                lost.append(f"{name}!{c.get('r')}")
    return ("formula replaced or changed: " + ", ".join(lost)) if lost else None


@check("vba", "the VBA project kept (vbaProject.bin, its relationship, macro-enabled type)")
def _vba(orig: Book, copy: Book, fx: Fixture):
    wrong = _missing(["xl/vbaProject.bin"], copy, orig)
    if not any(k.endswith("/vbaProject") and t == "xl/vbaProject.bin" for k, t in copy.rels(copy.workbook_part).values()):
        wrong.append("no vbaProject relationship")
    if "macroEnabled" not in copy.content_types().get(copy.workbook_part, ""):
        wrong.append("workbook not macro-enabled")
    if copy.path.suffix.lower() != ".xlsm":
        wrong.append(f"copy is {copy.path.suffix}")
    return "; ".join(wrong) or None


@check("custom_xml", "the customXml part kept and related from the workbook")
def _custom_xml(orig: Book, copy: Book, fx: Fixture):
    parts = [n for n in orig.data if n.startswith("customXml/")]
    wrong = _missing(parts, copy, orig)
    if "customXml/item1.xml" not in copy.related(copy.workbook_part, "customXml"):
        wrong.append("no customXml relationship")
    if "customXml/itemProps1.xml" not in copy.content_types():
        wrong.append("no content type of itemProps1.xml")
    return ("lost " + ", ".join(wrong)) if wrong else None


@check("chartsheet", "the chartsheet and its chart kept")
def _chartsheet(orig: Book, copy: Book, fx: Fixture):
    parts = [n for n in orig.data if n.startswith(("xl/chartsheets/", "xl/charts/", "xl/drawings/")) and n not in may_change(orig)]
    wrong = _missing(parts, copy, orig)
    if ("得分图", "chartsheet") not in [(n, k) for n, k, _ in copy.sheets()]:
        wrong.append("no chartsheet 得分图")
    return ("lost or changed " + ", ".join(wrong)) if wrong else None


@check("print_titles", "sheet-level print titles on the right sheets")
def _print_titles(orig: Book, copy: Book, fx: Fixture):
    def titles(book):
        return {sheet: text.replace("'", "") for name, sheet, text in book.defined_names() if name == "_xlnm.Print_Titles"}
    mine, theirs = titles(orig), titles(copy)
    wrong = [f"{sheet} {text} is on {next((s for s, t in theirs.items() if t == text), 'no sheet')}"
             for sheet, text in mine.items() if theirs.get(sheet) != text]
    return "; ".join(wrong) or None


@check("wps_cellimage", "the WPS cell image (cellimages.xml, DISPIMG in H29) kept")
def _wps(orig: Book, copy: Book, fx: Fixture):
    wrong = _missing(["xl/cellimages.xml", "xl/_rels/cellimages.xml.rels", "xl/media/image1.png"], copy, orig)
    if not any(t == "xl/cellimages.xml" for _, t in copy.rels(copy.workbook_part).values()):
        wrong.append("cellimages relationship")
    c = copy.cell(FORM, "H29")
    if c is None or "DISPIMG" not in c.findtext("m:f", "", NS):
        wrong.append("H29 formula")
    return ("lost " + ", ".join(wrong)) if wrong else None


@check("calc_chain", "calcChain dropped, or still true (every cell it lists is a formula)")
def _calc_chain(orig: Book, copy: Book, fx: Fixture):
    parts = copy.related(copy.workbook_part, "calcChain")
    if not parts:
        stale = "xl/calcChain.xml" in copy or "xl/calcChain.xml" in copy.content_types()
        return "calcChain part or content type left without its relationship" if stale else None
    ids = {sheet.get("sheetId"): sheet.get("name") for sheet in copy.xml(copy.workbook_part).find("m:sheets", NS)}
    wrong, sheet_id = [], None
    for c in copy.xml(parts[0]).iterfind("m:c", NS):
        sheet_id = c.get("i", sheet_id)
        cell = copy.cell(ids[sheet_id], c.get("r")) if sheet_id in ids else None
        if cell is None or cell.find("m:f", NS) is None:
            wrong.append(f"{ids.get(sheet_id, sheet_id)}!{c.get('r')}")
    return ("calcChain lists cells without a formula: " + ", ".join(wrong)) if wrong else None


COMMON = ("parts", "raw", "core")

FIXTURES = (
    Fixture(
        "lo_picture_comments_richtext_dv_cf_protected.xlsx",
        "LibreOffice: seal picture, unit comments (C3, I19, I25), rich text J15, validations (one from another sheet), "
        "conditional formats, merges, protection; W-SELF-SCORE on the commented I19",
        # 党务培训班费用 ≤2, actual 2.5: 6 × (1 − 0.5/2) = 4.5; 10 + (6·5 + 4.5 + 7 + 7) + 15 + 15 + 10 = 98.5 → 优
        total=98.5, grade="优",
        form_cells={"G7": 1.0, "I7": 10, "I14": 6, "I15": 6, "I19": 4.5, "I20": 7, "I22": 15, "I24": 10,
                    "I25": 98.5, "H26": "优", "K13": "原填自评得分", "K19": 6},
        marks={"I19": "预警"},
        features=COMMON + ("picture", "comments", "marks", "rich_text", "validations", "cond_formats", "merges", "protection"),
        openpyxl_loses=frozenset({"parts", "raw", "core", "picture", "comments", "rich_text"}),
    ),
    Fixture(
        "xw_x14dv_databar_sparkline_image_textbox_formulas.xlsx",
        "xlsxwriter: x14 list validation (source on a hidden sheet), 2010 data bar, image + text box, 资金明细 with "
        "formulas, cached results and a sparkline, an Excel-style calcChain; W-SELF-SCORE I7, W-REASON-MISSING J15",
        # 执行率 7.5/7.94 = 94.46%, 10 × 0.9446 = 9.45; 培训人数 6 × 36/40 = 5.4;
        # 9.45 + (6 + 5.4 + 6·4 + 7 + 7) + 30 + 10 = 98.85 → 优
        total=98.85, grade="优",
        form_cells={"G7": 0.9446, "I7": 9.45, "I14": 6, "I15": 5.4, "I19": 6, "I24": 10, "I25": 98.85, "H26": "优",
                    "K13": "原填自评得分", "K7": 10},
        marks={"I7": "预警", "J15": "预警"},
        features=COMMON + ("x14_validation", "databar_ext", "shapes", "picture", "formulas", "sparkline", "marks",
                           "validations", "cond_formats", "calc_chain"),
        openpyxl_loses=frozenset({"parts", "raw", "core", "x14_validation", "databar_ext", "shapes", "picture", "formulas",
                                  "sparkline"}),
    ),
    Fixture(
        "lo_vba_macro.xlsm",
        "LibreOffice (experimental mode): macro-enabled form with a VBA project (Module1); I-OPERATOR-DEFAULT on D16",
        # 有效提高… 部分达成, self-score 10 of 15 is inside 60–80% (9–12): kept; 100 − 15 + 10 = 95 → 优
        total=95, grade="优",
        form_cells={"I7": 10, "I16": 6, "I22": 10, "I23": 15, "I25": 95, "H26": "优"},
        marks={"D16": "提示"},
        features=COMMON + ("vba", "marks", "validations", "protection"),
        openpyxl_loses=frozenset({"parts", "raw", "core"}),
    ),
    Fixture(
        "xw_chartsheet_printtitles_customxml.xlsx",
        "xlsxwriter: chartsheet 得分图 first, print titles on 自评表 and 填表说明, a unit custom property, a customXml part; "
        "W-REASON-MISSING J24",
        # 满意度 10 × 80/85 = 9.41; 100 − 10 + 9.41 = 99.41 → 优
        total=99.41, grade="优",
        form_cells={"I7": 10, "I23": 15, "I24": 9.41, "I25": 99.41, "H26": "优"},
        marks={"J24": "预警"},
        features=COMMON + ("chartsheet", "print_titles", "custom_xml", "custom_props", "marks"),
        openpyxl_loses=frozenset({"parts", "raw", "core", "chartsheet", "print_titles", "custom_xml"}),
    ),
    Fixture(
        "wps_cellimage_dispimg.xlsx",
        "WPS-style cell image (xl/cellimages.xml + DISPIMG formula in H29, parts as WPS writes them); the clean base form",
        # every target met, every self-score full: 100 → 优
        total=100, grade="优",
        form_cells={"G7": 1.0, "I7": 10, "I14": 6, "I22": 15, "I25": 100, "H26": "优"},
        features=COMMON + ("wps_cellimage",),
        openpyxl_loses=frozenset({"parts", "raw", "core", "wps_cellimage"}),
    ),
)
BY_FILE = {fx.file: fx for fx in FIXTURES}


# --------------------------------------------------------------------------- scoring with a writer


def score_with(path: Path, out_dir: Path, writer: str):
    from perfeval_xlsx.score import score_file

    return score_file(path, out_dir, writer=writer)


def run_checks(fx: Fixture, copy_path: Path) -> dict[str, str | None]:
    orig, copy = Book(fx.path), Book(copy_path)
    return {key: CHECKS[key][1](orig, copy, fx) for key in fx.features}


def table(markdown: bool = False) -> str:
    results: dict[str, dict[str, dict[str, str | None] | str]] = {}
    with tempfile.TemporaryDirectory(prefix="fidelity-table-") as tmp:
        for writer in WRITERS:
            out = Path(tmp) / writer
            for fx in FIXTURES:
                try:
                    outcome = score_with(fx.path, out, writer)
                except TypeError as exc:
                    results.setdefault(fx.file, {})[writer] = f"n/a ({exc})"
                    continue
                if outcome.output is None:
                    results.setdefault(fx.file, {})[writer] = "no scored copy"
                    continue
                results.setdefault(fx.file, {})[writer] = run_checks(fx, outcome.output)
    rows = []
    for fx in FIXTURES:
        for key in fx.features:
            cells = []
            for writer in WRITERS:
                got = results[fx.file][writer]
                if isinstance(got, str):
                    cells.append(got.split(" (")[0])
                else:
                    cells.append("kept" if got[key] is None else f"LOST: {got[key]}")
            rows.append((fx.file, CHECKS[key][0], *cells))
    head = ("fixture", "feature", *(f"writer={w}" for w in WRITERS))
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        last = None
        for row in rows:
            name = f"`{row[0]}`" if row[0] != last else ""
            last = row[0]
            cells = [c.replace("|", "\\|") for c in row[2:]]
            lines.append("| " + " | ".join([name, row[1], *cells]) + " |")
        return "\n".join(lines)
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(2)]
    lines = []
    last = None
    for row in [head, *rows]:
        name = row[0] if row[0] != last else ""
        last = row[0]
        lines.append(f"{name:<{widths[0]}}  {row[1]:<{widths[1]}}  " + "  |  ".join(row[2:]))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    print(table(markdown="--markdown" in argv))


if __name__ == "__main__":
    main()

