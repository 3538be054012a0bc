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


class _Sheet:
    """The handlers of one worksheet part."""

    def __init__(self, sheet: SheetGrid, strings: list[str], formats: list[str], date_styles: dict[int, bool],
                 epoch, budget: list[int]) -> None:
        self.sheet, self.strings, self.formats, self.date_styles, self.epoch = sheet, strings, formats, date_styles, epoch
        self.budget = budget  # cells left for the whole workbook
        self.row = 0
        self.col = 0
        self.cell: dict[str, Any] | None = None
        self.text: list[str] | None = None
        self.target = ""
        self.rph = 0
        self.shared: dict[str, str] = {}  # shared formula index → the master's text
        self.parser: list = []  # (its byte positions: where rows and cells start)

    def start(self, tag, attrs):
        local = _LOCAL.get(tag)
        if local is None:
            local = _local(tag)
        if local == "c":
            ref = attrs.get("r")
            if ref:
                at = _REFS.get(ref)
                if at is None:
                    col, row = coordinate_from_string(ref)
                    at = (row, column_index_from_string(col))
                    if len(_REFS) < 200_000:
                        _REFS[ref] = at
                self.row, self.col = at
            else:
                self.col += 1
            self.cell = {"t": attrs.get("t", "n"), "s": attrs.get("s"), "v": None, "f": None, "is": None,
                         "pos": self.parser[0].CurrentByteIndex}
        elif self.cell is not None:
            if local == "v":
                self.text, self.target = [], "v"
            elif local == "f":
                self.text, self.target = [], "f"
                self.cell["f_attrs"] = attrs
            elif local == "is":
                self.cell["is"] = []
            elif local == "rPh":
                self.rph += 1
            elif local == "t" and self.cell["is"] is not None and not self.rph:
                self.text, self.target = [], "is"
        elif local == "row":
            r = attrs.get("r")
            self.row = int(r) if r and r.isdigit() else self.row + 1
            self.col = 0
            self.sheet.row_pos[self.row] = self.parser[0].CurrentByteIndex
        elif local == "mergeCell":
            ref = attrs.get("ref", "")
            if ":" in ref:
                first, last = ref.split(":", 1)
                c1, r1 = coordinate_from_string(first)
                c2, r2 = coordinate_from_string(last)
                self.sheet.merged.append((r1, column_index_from_string(c1), r2, column_index_from_string(c2)))

    def chars(self, text):
        if self.text is not None:
            self.text.append(text)

    def end(self, tag):
        local = _LOCAL.get(tag)
        if local is None:
            local = _local(tag)
        cell = self.cell
        if cell is None:
            return
        if local in ("v", "f") and self.text is not None and self.target == local:
            cell[local] = "".join(self.text) or None  # an empty <v/> holds no value
            cell[local + "_seen"] = True
            self.text = None
        elif local == "t" and self.target == "is" and self.text is not None:
            cell["is"].append("".join(self.text))
            self.text = None
        elif local == "rPh":
            self.rph -= 1
        elif local == "c":
            self._put(cell)
            self.cell = None

    def _put(self, cell: dict[str, Any]) -> None:
        self.budget[0] -= 1
        if self.budget[0] < 0:
            raise _TooMany()
        try:
            style = int(cell["s"]) if cell["s"] else 0
        except ValueError:
            style = 0
        fmt = self.formats[style] if style < len(self.formats) else "General"
        kind, v = cell["t"], cell["v"]
        if "f_attrs" in cell:
            text = cell["f"] or ""
            f_attrs = cell.get("f_attrs") or {}
            if f_attrs.get("t") == "shared":
                si = f_attrs.get("si", "")
                if text:
                    self.shared[si] = text
                else:
                    text = self.shared.get(si, "")
            grid_cell = GridCell(None, fmt, formula="=" + text, xf=style, pos=cell["pos"])
            if v is None:
                if kind == "str" and cell.get("v_seen"):
                    grid_cell.value = ""
                else:
                    grid_cell.missing_cache = True
            else:
                grid_cell.value = _cached(kind, v)
            self.sheet.cells[(self.row, self.col)] = grid_cell
            return
        value: Any = v or None
        if kind == "inlineStr":
            value = "".join(cell["is"]) if cell["is"] is not None else None
        elif value is not None:
            if kind == "n":
                value = _number(value)
                if style in self.date_styles and not isinstance(value, str):
                    try:
                        value = from_excel(value, self.epoch, timedelta=self.date_styles[style])
                    except (OverflowError, ValueError):
                        value = "#VALUE!"
            elif kind == "s":
                value = self.strings[int(value)]
            elif kind == "b":
                value = bool(int(value))
            elif kind == "d":
                value = from_ISO8601(value)
        self.sheet.cells[(self.row, self.col)] = GridCell(value, fmt, xf=style, pos=cell["pos"])


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
        with zipfile.ZipFile(path) as zf:
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
                    handler = _Sheet(sheet, strings, formats, date_styles, epoch, budget)
                    data = zf.read(part)
                    parse_xml(data, handler.start, handler.end, handler.chars, parser_ref=handler.parser)
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
