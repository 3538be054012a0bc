"""The patching writer of the scored copy: the unit's .xlsx/.xlsm copied member by member, with
only what the scoring changes patched in.

Unchanged members (pictures, drawings, charts, VBA projects, customXml, core.xml, every other
sheet) are copied as their compressed bytes. Patched: the form sheet (scores, marks, rows,
breaks; formulas as the values they showed), its comments and VML drawing, styles.xml and
sharedStrings.xml (appended to), workbook.xml and its rels (our three sheets, the defined names),
[Content_Types].xml, app.xml (the sheet list) and custom.xml (our mark); calcChain.xml is
dropped when formulas became values (Excel rebuilds it). Anything this writer does not follow
raises `Unsupported`, and the openpyxl writer writes the copy instead.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

from perfeval_xlsx import __version__
from perfeval_xlsx.check import CheckResult
from perfeval_xlsx.output.atomic import replacing
from perfeval_xlsx.output.form_sheet import mark_form
from perfeval_xlsx.output.summary_sheets import detail_sheet, issues_sheet, summary_sheet
from perfeval_xlsx.output.xlsx_patch.comments import Comments, Vml
from perfeval_xlsx.output.xlsx_patch.docprops import app_xml, custom_xml
from perfeval_xlsx.output.xlsx_patch.newsheet import XmlBuilder
from perfeval_xlsx.output.xlsx_patch.parts import (
    CT_COMMENTS,
    CT_CUSTOM_PROPS,
    CT_SHARED_STRINGS,
    CT_VML,
    CT_WORKSHEET,
    REL,
    T_CALC_CHAIN,
    T_COMMENTS,
    T_CUSTOM_PROPS,
    T_SHARED_STRINGS,
    T_STYLES,
    T_VML,
    T_WORKSHEET,
    ContentTypes,
    Rels,
    Unsupported,
    rels_path,
)
from perfeval_xlsx.output.xlsx_patch.sheet import XmlFormSheet
from perfeval_xlsx.output.xlsx_patch.strings import SharedStrings
from perfeval_xlsx.output.xlsx_patch.styles import StyleBook
from perfeval_xlsx.output.xlsx_patch.workbook import Workbook
from perfeval_xlsx.output.xlsx_patch.zipcopy import write_zip
from perfeval_xlsx.reading.mark import MARK_PROPERTY, SCORED, TEMPLATE, mark_properties, values_fingerprint
from perfeval_xlsx.reading.safety import check_well_formed
from perfeval_xlsx.vocab import SHEET_DETAIL, SHEET_ISSUES, SHEET_SUMMARY

__all__ = ["Unsupported", "write_patched"]

_OFFICE_DOCUMENT = REL + "officeDocument"
_STRICT = b"http://purl.oclc.org/ooxml/"


def _free_name(taken: set[str], pattern: str) -> str:
    n = 1
    while pattern.format(n) in taken:
        n += 1
    taken.add(pattern.format(n))
    return pattern.format(n)


def write_patched(result: CheckResult, source: Path, target: Path) -> Path:
    """Write the scored copy of `source` (an .xlsx/.xlsm read into `result` with its grid)."""
    grid = result.grid
    if grid is None or result.kind != "xlsx" or grid.data is None:
        raise Unsupported("no grid")
    mark = grid.mark
    if mark is not None and mark.kind != TEMPLATE:
        raise Unsupported("one of our outputs")
    data = grid.data  # the bytes that were read and scored
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return _write(result, source, target, data, zf, ours=mark is not None)
    except (Unsupported, OSError):
        raise
    except (ValueError, KeyError, IndexError, TypeError, zipfile.BadZipFile, UnicodeDecodeError) as exc:
        raise Unsupported(f"{type(exc).__name__}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - expat errors and the like: the openpyxl writer tries
        if type(exc).__name__ in ("ExpatError", "XmlDeclarationRefused"):
            raise Unsupported(type(exc).__name__) from None
        raise


def _write(result: CheckResult, source: Path, target: Path, data: bytes, zf: zipfile.ZipFile, ours: bool) -> Path:
    infos = zf.infolist()
    names = [i.filename for i in infos]
    if len(set(names)) != len(names) or any(i.flag_bits & 0x1 for i in infos):
        raise Unsupported("duplicate or encrypted members")
    present = set(names)
    taken = {n.lower() for n in names}

    def read(name: str | None) -> bytes | None:
        return zf.read(name) if name is not None and name in present else None

    changed: dict[str, bytes | None] = {}
    added: list[tuple[str, bytes]] = []
    content_types = ContentTypes(read("[Content_Types].xml") or b"")
    root_rels = Rels("", read("_rels/.rels"))
    office = root_rels.of_type(_OFFICE_DOCUMENT)
    if len(office) != 1:
        raise Unsupported("no office document")
    wb_part = office[0][1]
    wb_data = read(wb_part)
    if wb_data is None or _STRICT in wb_data[:2000]:
        raise Unsupported("strict OOXML or no workbook")
    wb_rels = Rels(wb_part, read(rels_path(wb_part)))
    workbook = Workbook(wb_data)
    if {SHEET_SUMMARY, SHEET_DETAIL, SHEET_ISSUES} & set(workbook.titles):
        raise Unsupported("our sheet names are taken")
    form_title = result.form.sheet
    entry = next((s for s in workbook.sheets if s.get("name") == form_title), None)
    form_part = wb_rels.target(entry["__rid"]) if entry is not None else None
    if form_part is None or form_part not in present:
        raise Unsupported("form sheet part")
    styles_parts = wb_rels.of_type(T_STYLES)
    if len(styles_parts) != 1 or styles_parts[0][1] not in present:
        raise Unsupported("no styles part")
    styles_part = styles_parts[0][1]
    styles = StyleBook(read(styles_part))
    sst_parts = wb_rels.of_type(T_SHARED_STRINGS)
    sst_part = sst_parts[0][1] if sst_parts and sst_parts[0][1] in present else None
    strings = SharedStrings(read(sst_part))
    grid_sheet = next((s for s in result.grid.sheets if s.title == form_title), None)
    if grid_sheet is None:
        raise Unsupported("form sheet not in the grid")

    sheet = XmlFormSheet(read(form_part), grid_sheet, styles, strings, workbook, result.form.cached_values)
    mark_form(sheet, result, ours)

    # comments and their VML shapes
    legacy_rid = None
    sheet_rels_part = rels_path(form_part)
    sheet_rels = Rels(form_part, read(sheet_rels_part))
    if sheet.comments:
        comment_parts = sheet_rels.of_type(T_COMMENTS)
        vml_parts = sheet_rels.of_type(T_VML)
        if len(comment_parts) > 1 or len(vml_parts) > 1:
            raise Unsupported("several comment parts")
        comments_part = comment_parts[0][1] if comment_parts else None
        vml_part = vml_parts[0][1] if vml_parts else None
        if comments_part is not None and vml_part is None:
            raise Unsupported("comments without a VML drawing")
        comments = Comments(read(comments_part))
        idmaps = [int(x) for n in names if n.lower().endswith(".vml")
                  for x in re.findall(rb'<o:idmap[^>]*data="(\d+)', zf.read(n))]
        vml = Vml(read(vml_part), max([0, *idmaps]) + 1)
        for r, c, message, width, height in sheet.comments:
            if comments.add(r, c, message):
                vml.add(r, c, width, height)
        if comments_part is None:
            comments_part = _free_name(taken, "xl/comments{}.xml")
            sheet_rels.add(T_COMMENTS, comments_part)
            content_types.override(comments_part, CT_COMMENTS)
            added.append((comments_part, comments.xml()))
        else:
            changed[comments_part] = comments.xml()
        if vml_part is None:
            vml_part = _free_name(taken, "xl/drawings/vmldrawing{}.vml")
            legacy_rid = sheet_rels.add(T_VML, vml_part)
            content_types.default("vml", CT_VML)
            added.append((vml_part, vml.xml()))
        elif vml.changed:
            changed[vml_part] = vml.xml()

    # the three sheets of our own
    builders = []
    for title, front in ((SHEET_SUMMARY, True), (SHEET_DETAIL, False), (SHEET_ISSUES, False)):
        part = _free_name(taken, "xl/worksheets/sheet{}.xml")
        rid = wb_rels.add(T_WORKSHEET, part)
        content_types.override(part, CT_WORKSHEET)
        workbook.add_sheet(title, rid, front)
        builders.append((part, XmlBuilder(title, styles, strings, workbook, selected=front)))
    summary_sheet(builders[0][1], result, Path(source.name))
    detail_sheet(builders[1][1], result)
    issues_sheet(builders[2][1], result)

    changed[form_part] = sheet.sheet_xml(legacy_rid)
    if sheet_rels.changed:
        if sheet_rels.new:
            added.append((sheet_rels_part, sheet_rels.data))
        else:
            changed[sheet_rels_part] = sheet_rels.data
    for part, builder in builders:
        added.append((part, builder.xml()))

    # the other sheets: none stays selected beside 评分汇总
    for each in workbook.sheets:
        part = wb_rels.target(each["__rid"])
        if part is None or part == form_part or part not in present:
            continue
        with zf.open(part) as fh:
            head = fh.read(8192)
        if re.search(rb'<(?:\w+:)?sheetView\b[^>]*\stabSelected="(1|true)"', head):
            body = zf.read(part)
            changed[part] = re.sub(rb'(<(?:\w+:)?sheetView\b[^>]*?)\stabSelected="(?:1|true)"', rb"\1", body, count=1)

    # formulas became values: Excel's calculation chain would point at cells without formulas
    if sheet.formula_values:
        for rid, part in wb_rels.of_type(T_CALC_CHAIN):
            wb_rels.remove(rid)
            content_types.drop(part)
            if part in present:
                changed[part] = None

    if sst_part is None and strings.changed:
        sst_part = _free_name(taken, "xl/sharedStrings.xml") if "xl/sharedstrings.xml" in taken else "xl/sharedStrings.xml"
        taken.add(sst_part.lower())
        wb_rels.add(T_SHARED_STRINGS, sst_part)
        content_types.override(sst_part, CT_SHARED_STRINGS)
        added.append((sst_part, strings.xml()))
    elif strings.changed:
        changed[sst_part] = strings.xml()
    if styles.changed:
        changed[styles_part] = styles.xml()
    changed[wb_part] = workbook.xml()
    changed[rels_path(wb_part)] = wb_rels.data

    # our mark, with what the unit had in every cell we changed
    fingerprint = values_fingerprint(sheet.values())
    props = mark_properties(SCORED, __version__, sheet=form_title, fingerprint=fingerprint, source=source.name,
                            originals=sheet.originals)
    custom = root_rels.of_type(T_CUSTOM_PROPS)
    if custom and custom[0][1] in present:
        changed[custom[0][1]] = custom_xml(read(custom[0][1]), props, MARK_PROPERTY)
    else:
        part = "docProps/custom.xml" if "docprops/custom.xml" not in taken else _free_name(taken, "docProps/custom{}.xml")
        root_rels.add(T_CUSTOM_PROPS, part)
        content_types.override(part, CT_CUSTOM_PROPS)
        added.append((part, custom_xml(None, props, MARK_PROPERTY)))
    if root_rels.changed:
        changed["_rels/.rels"] = root_rels.data
    app = read("docProps/app.xml")
    if app is not None:
        new_app = app_xml(app, [SHEET_SUMMARY], [SHEET_DETAIL, SHEET_ISSUES])
        if new_app is not None:
            changed["docProps/app.xml"] = new_app
    changed["[Content_Types].xml"] = content_types.data

    ours = {part for part, _builder in builders}  # (written whole from escaped values)
    for name, body in list(changed.items()) + added:  # never a spliced part no reader can parse
        if body is not None and name not in ours and not name.lower().endswith((".vml", ".bin")):
            check_well_formed(body)
    with replacing(target) as tmp, open(tmp, "wb") as out:
        write_zip(out, data, infos, changed, added)
    return target

