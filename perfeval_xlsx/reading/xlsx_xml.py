"""Fill the grid from an .xlsx/.xlsm straight from its XML, in one pass per part.

What `perfeval check` and the scoring read: every worksheet's cells (values as openpyxl gives
them: numbers as int or float, dates for date-formatted numbers, shared and inline strings,
booleans, error values), each cell's number format (styles.xml), formulas with their cached
results (so no second pass over the sheet), and merged ranges. It does not build an object
model: a small form reads in about a millisecond, against tens of milliseconds for openpyxl,
which stays the reader of the workbook a scored copy is written from and the fallback reader.

Safety: inspect_file checked the zip (declared sizes) and refused any part with a DOCTYPE;
expat is given no DTD here either, and a part that declares one is refused. At most
grid.MAX_CELLS cells are kept.
"""

from __future__ import annotations

import io
import math
import posixpath
import zipfile
import zlib
from pathlib import Path
from typing import Any
from xml.parsers import expat

from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format
from openpyxl.utils.cell import column_index_from_string, coordinate_from_string
from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel, from_ISO8601

from perfeval_xlsx.errors import FileProblem
from perfeval_xlsx.reading.grid import MAX_CELLS, GridCell, SheetGrid, WorkbookGrid
from perfeval_xlsx.reading.safety import XML_SEP, XmlDeclarationRefused, parse_xml

MAINS = ("http://schemas.openxmlformats.org/spreadsheetml/2006/main", "http://purl.oclc.org/ooxml/spreadsheetml/main")
RELS = ("http://schemas.openxmlformats.org/officeDocument/2006/relationships",
        "http://purl.oclc.org/ooxml/officeDocument/relationships")
PKG_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
SEP = XML_SEP
WORKSHEET_TYPES = ("/worksheet",)
CORRUPT = "E-FILE-CORRUPT", "文件内容无法解析，可能已损坏。请在 Excel/WPS 中打开并重新保存为 .xlsx 后再提交。"


class _TooMany(Exception):
    pass


_LOCAL: dict[str, str] = {}
_REFS: dict[str, tuple[int, int]] = {}  # "B12" → (12, 2): a batch's forms share their addresses


def _local(name: str) -> str:
    """The local name of a SpreadsheetML element ("" for another namespace's)."""
    local = _LOCAL.get(name)
    if local is None:
        ns, _, local = name.rpartition(SEP)
        local = local if ns in MAINS or not ns else ""
        if len(_LOCAL) < 10_000:
            _LOCAL[name] = local
    return local


def _rels(zf: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """Id → (type, target path in the zip) of a part's relationships."""
    folder, name = posixpath.split(part)
    path = posixpath.join(folder, "_rels", name + ".rels")
    out: dict[str, tuple[str, str]] = {}
    if path not in zf.NameToInfo:
        return out

    def start(tag, attrs):
        if tag.endswith("Relationship") and attrs.get("TargetMode") != "External":
            target = attrs.get("Target", "")
            full = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
            out[attrs.get("Id", "")] = (attrs.get("Type", ""), full)

    parse_xml(zf.read(path), start)
    return out


def _workbook(zf: zipfile.ZipFile) -> tuple[list[tuple[str, str, str]], bool]:
    """[(name, state, part)] of the worksheets in order, and whether dates count from 1904."""
    rels = _rels(zf, "xl/workbook.xml")
    sheets: list[tuple[str, str, str]] = []
    flags = {"1904": False}

    def start(tag, attrs):
        local = _local(tag)
        if local == "sheet":
            rid = next((v for k, v in attrs.items() if k.rpartition(SEP)[2] == "id" and k.rpartition(SEP)[0] in RELS), "")
            kind, part = rels.get(rid, ("", ""))
            if kind.endswith(WORKSHEET_TYPES) and part:
                sheets.append((attrs.get("name", ""), attrs.get("state", "visible"), part))
        elif local == "workbookPr":
            flags["1904"] = attrs.get("date1904") in ("1", "true")

    parse_xml(zf.read("xl/workbook.xml"), start)
    return sheets, flags["1904"]


def _styles(zf: zipfile.ZipFile, part: str | None) -> list[str]:
    """The number format of each cell style (cellXfs), in order."""
    if not part or part not in zf.NameToInfo:
        return []
    custom: dict[int, str] = {}
    formats: list[str] = []
    state = {"xfs": False}

    def start(tag, attrs):
        local = _local(tag)
        if local == "numFmt":
            try:
                custom[int(attrs.get("numFmtId", "-1"))] = attrs.get("formatCode", "General")
            except ValueError:
                pass
        elif local == "cellXfs":
            state["xfs"] = True
        elif local == "xf" and state["xfs"]:
            try:
                fid = int(attrs.get("numFmtId", "0"))
            except ValueError:
                fid = 0
            formats.append(custom.get(fid) or BUILTIN_FORMATS.get(fid, "General"))

    def end(tag):
        if _local(tag) == "cellXfs":
            state["xfs"] = False

    parse_xml(zf.read(part), start, end)
    return formats


def _shared_strings(zf: zipfile.ZipFile, part: str | None) -> list[str]:
    if not part or part not in zf.NameToInfo:
        return []
    strings: list[str] = []
    state = {"depth_rph": 0, "in_t": False}
    parts: list[str] = []

    def start(tag, attrs):
        local = _local(tag)
        if local == "si":
            parts.clear()
        elif local == "rPh":
            state["depth_rph"] += 1
        elif local == "t" and not state["depth_rph"]:
            state["in_t"] = True

    def end(tag):
        local = _local(tag)
        if local == "si":
            strings.append("".join(parts).replace("x005F_", ""))
        elif local == "rPh":
            state["depth_rph"] -= 1
        elif local == "t":
            state["in_t"] = False

    def chars(text):
        if state["in_t"]:
            parts.append(text)

    parse_xml(zf.read(part), start, end, chars)
    return strings


def _sheet_handlers(sheet: SheetGrid, strings: list[str], formats: list[str], date_styles: dict[int, bool],
                    epoch, budget: list[int], parser_ref: list):
    """The expat handlers (start, end, chars) that fill `sheet` from its worksheet part.

    Closures over local state rather than an object's attributes: they run for every element of
    every cell, and are the reader's main cost. `budget`: cells left for the whole workbook;
    `parser_ref`: where parse_xml puts the parser (its byte positions: where rows and cells start)."""
    cells, row_pos, row_heights, merged = sheet.cells, sheet.row_pos, sheet.row_heights, sheet.merged
    n_formats = len(formats)
    shared: dict[str, str] = {}  # shared formula index → the master's text
    row = col = 0
    in_cell = False
    kind = style_attr = value_text = formula_text = formula_attrs = inline = None
    value_seen = False
    pos = 0
    text: list[str] | None = None
    target = ""
    rph = 0

    def start(tag, attrs):
        nonlocal row, col, in_cell, kind, style_attr, value_text, formula_text, formula_attrs, inline, value_seen, pos, \
            text, target, rph
        local = _LOCAL.get(tag)
        if local is None:
            local = _local(tag)
        if local == "c":
            ref = attrs.get("r")
            if ref:
                at = _REFS.get(ref)
                if at is None:
                    letters, number = coordinate_from_string(ref)
                    at = (number, column_index_from_string(letters))
                    if len(_REFS) < 200_000:
                        _REFS[ref] = at
                row, col = at
            else:
                col += 1
            in_cell = True
            kind, style_attr = attrs.get("t", "n"), attrs.get("s")
            value_text = formula_text = formula_attrs = inline = None
            value_seen = False
            pos = parser_ref[0].CurrentByteIndex
        elif in_cell:
            if local == "v":
                text, target = [], "v"
            elif local == "f":
                text, target = [], "f"
                formula_attrs = attrs
            elif local == "is":
                inline = []
            elif local == "rPh":
                rph += 1
            elif local == "t" and inline is not None and not rph:
                text, target = [], "is"
        elif local == "row":
            r = attrs.get("r")
            row = int(r) if r and r.isdigit() else row + 1
            col = 0
            row_pos[row] = parser_ref[0].CurrentByteIndex
            try:
                row_heights[row] = float(attrs["ht"])
            except (KeyError, ValueError):
                row_heights.pop(row, None)
        elif local == "mergeCell":
            ref = attrs.get("ref", "")
            if ":" in ref:
                first, last = ref.split(":", 1)
                c1, r1 = coordinate_from_string(first)
                c2, r2 = coordinate_from_string(last)
                merged.append((r1, column_index_from_string(c1), r2, column_index_from_string(c2)))

    def chars(data):
        if text is not None:
            text.append(data)

    def end(tag):
        nonlocal in_cell, value_text, formula_text, value_seen, text, rph
        if not in_cell:
            return
        local = _LOCAL.get(tag)
        if local is None:
            local = _local(tag)
        if local == "c":
            put()
            in_cell = False
        elif local == "v":
            if text is not None and target == "v":
                value_text = "".join(text) or None  # an empty <v/> holds no value
                value_seen = True
                text = None
        elif local == "f":
            if text is not None and target == "f":
                formula_text = "".join(text) or None
                text = None
        elif local == "t":
            if target == "is" and text is not None:
                inline.append("".join(text))
                text = None
        elif local == "rPh":
            rph -= 1

    def put() -> None:
        budget[0] -= 1
        if budget[0] < 0:
            raise _TooMany()
        try:
            style = int(style_attr) if style_attr else 0
        except ValueError:
            style = 0
        fmt = formats[style] if style < n_formats else "General"
        v = value_text
        if formula_attrs is not None:
            formula = formula_text or ""
            if formula_attrs.get("t") == "shared":
                si = formula_attrs.get("si", "")
                if formula:
                    shared[si] = formula
                else:
                    formula = shared.get(si, "")
            grid_cell = GridCell(None, fmt, formula="=" + formula, xf=style, pos=pos)
            if v is None:
                if kind == "str" and value_seen:
                    grid_cell.value = ""
                else:
                    grid_cell.missing_cache = True
            else:
                grid_cell.value = _cached(kind, v)
            cells[(row, col)] = grid_cell
            return
        value: Any = v
        if kind == "inlineStr":
            value = "".join(inline) if inline is not None else None
        elif value is not None:
            if kind == "s":
                value = strings[int(value)]
            elif kind == "n":
                value = _number(value)
                if style in date_styles and not isinstance(value, str):
                    try:
                        value = from_excel(value, epoch, timedelta=date_styles[style])
                    except (OverflowError, ValueError):
                        value = "#VALUE!"
            elif kind == "b":
                value = bool(int(value))
            elif kind == "d":
                value = from_ISO8601(value)
        cells[(row, col)] = GridCell(value, fmt, xf=style, pos=pos)

    return start, end, chars


def _merged_followers(sheet: SheetGrid) -> None:
    """The cells a merged range covers exist (blank), as openpyxl makes them; a range claiming
    more than `MERGE_CELLS` cells only within the used area."""
    clipped = {(r1, c1): (r2, c2) for r1, c1, r2, c2 in sheet.clipped_merges()}
    for r1, c1, r2, c2 in sheet.merged:
        if (r2 - r1 + 1) * (c2 - c1 + 1) > MERGE_CELLS:
            if (r1, c1) not in clipped:
                continue
            r2, c2 = clipped[(r1, c1)]
        for r in range(r1, r2 + 1):
            for c in range(c1, c2 + 1):
                if (r, c) not in sheet.cells:
                    sheet.cells[(r, c)] = GridCell(None)


MERGE_CELLS = 10_000


def _cached(kind: str, text: str) -> Any:
    """A formula's cached result, as safety.cached_formula_values gives it."""
    if kind in ("str", "inlineStr", "e"):
        return text
    if kind == "b":
        return text == "1"
    return _number(text)


def _number(text: str) -> Any:
    """A numeric cell's text as int or float; a number no spreadsheet can hold (400 digits, 1e999,
    NaN) stays text, so that the validator names its cell instead of the arithmetic failing."""
    if len(text) < 16 and text.isascii() and text.isdigit():  # (the common case: a count, a string index)
        return int(text)
    try:
        number = float(text)
    except (ValueError, OverflowError):
        return text
    if not math.isfinite(number):
        return text
    if number.is_integer() and "." not in text and "E" not in text.upper() and abs(number) < 2 ** 53:
        return int(text)
    return number


def read_xlsx(path: Path) -> WorkbookGrid:
    """The grid of an .xlsx/.xlsm that passed inspect_file. Raises FileProblem."""
    from openpyxl.styles.numbers import is_timedelta_format

    grid = WorkbookGrid(Path(path), "xlsx", "xlsx-xml")
    try:
        grid.data = Path(path).read_bytes()
        with zipfile.ZipFile(io.BytesIO(grid.data)) as zf:
            sheets, mac = _workbook(zf)
            rels = _rels(zf, "xl/workbook.xml")
            parts = {kind.rsplit("/", 1)[-1]: target for kind, target in rels.values()}
            formats = _styles(zf, parts.get("styles"))
            strings = _shared_strings(zf, parts.get("sharedStrings"))
            # style → whether its date format is a duration ([h]:mm), as openpyxl reads them
            date_styles = {i: is_timedelta_format(f) for i, f in enumerate(formats) if is_date_format(f)}
            epoch = CALENDAR_MAC_1904 if mac else CALENDAR_WINDOWS_1900
            budget = [MAX_CELLS]
            for name, state, part in sheets:
                sheet = SheetGrid(name, state=state if state in ("visible", "hidden", "veryHidden") else "visible")
                if part in zf.NameToInfo:
                    parser: list = []
                    data = zf.read(part)
                    parse_xml(data, *_sheet_handlers(sheet, strings, formats, date_styles, epoch, budget, parser),
                              parser_ref=parser)
                    sheet.xml_check = (len(data), zlib.crc32(data))
                    _merged_followers(sheet)
                grid.sheets.append(sheet)
    except XmlDeclarationRefused:
        raise FileProblem("E-FILE-UNSAFE", "文件含有 XML 实体声明，已拒绝读取。请在 Excel/WPS 中另存为新的 .xlsx 后再提交。") from None
    except (_TooMany, MemoryError):
        raise FileProblem("E-FILE-UNSAFE", f"工作簿含有超过 {MAX_CELLS:,} 个单元格，远超正常的自评表，已拒绝读取。"
                                           "请删除多余内容后另存为 .xlsx 再提交。") from None
    except (expat.ExpatError, KeyError, IndexError, ValueError, zipfile.BadZipFile, OSError, EOFError,
            zipfile.LargeZipFile, NotImplementedError, RuntimeError, TypeError):
        raise FileProblem(*CORRUPT) from None
    return grid
