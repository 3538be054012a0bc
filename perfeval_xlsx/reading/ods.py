"""Read an OpenDocument spreadsheet (.ods) into the grid, straight from its XML.

One streaming pass (expat, the standard library's C parser) over `styles.xml` and `content.xml`
gives what the form reader needs and what python-calamine does not: the value type of each cell
(percentage, date, currency — written here as Excel number formats, ``0.00%``), merged ranges
(``number-columns-spanned``), formulas (``table:formula``) with their cached results, and which
formula has none; also column widths, row heights, fonts, fills, borders and alignment for a
scored copy rebuilt without LibreOffice.

Safety: the zip was checked before (declared sizes, DOCTYPE); expat is given no DTD and the
parse stops at a DOCTYPE or an entity declaration; a repeated row or cell (``number-rows-repeated``)
is expanded only when it holds content, and at most grid.MAX_CELLS cells are kept — a file that
claims more is refused.
"""

from __future__ import annotations

import re
import zipfile
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from xml.parsers import expat

from perfeval_xlsx.errors import FileProblem
from perfeval_xlsx.reading.safety import XML_SEP, XmlDeclarationRefused, parse_xml
from perfeval_xlsx.reading.grid import MAX_CELLS, MAX_COLS, MAX_ROWS, CellStyle, GridCell, SheetGrid, WorkbookGrid, integral

NS = {
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
    "style": "urn:oasis:names:tc:opendocument:xmlns:style:1.0",
    "number": "urn:oasis:names:tc:opendocument:xmlns:datastyle:1.0",
    "fo": "urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0",
    "calcext": "urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0",
}
_SEP = XML_SEP


def _q(prefix: str, name: str) -> str:
    return f"{NS[prefix]}{_SEP}{name}"


T_TABLE, T_ROW, T_CELL, T_COVERED = _q("table", "table"), _q("table", "table-row"), _q("table", "table-cell"), _q("table", "covered-table-cell")
T_COLUMN = _q("table", "table-column")
TX_P, TX_S, TX_TAB, TX_BR = _q("text", "p"), _q("text", "s"), _q("text", "tab"), _q("text", "line-break")
OFFICE_ANNOTATION, OFFICE_BODY = _q("office", "annotation"), _q("office", "body")
ST_STYLE = _q("style", "style")
ST_TEXT, ST_CELL, ST_PARA = _q("style", "text-properties"), _q("style", "table-cell-properties"), _q("style", "paragraph-properties")
ST_COLUMN, ST_ROW, ST_TABLE = _q("style", "table-column-properties"), _q("style", "table-row-properties"), _q("style", "table-properties")
DATA_STYLES = {_q("number", k): k for k in ("number-style", "percentage-style", "currency-style", "date-style",
                                            "time-style", "boolean-style", "text-style")}
NUMBER_TEXT = _q("number", "text")
A = {k: _q(*k.split(":")) for k in (
    "table:name", "table:style-name", "table:number-rows-repeated", "table:number-columns-repeated",
    "table:number-columns-spanned", "table:number-rows-spanned", "table:formula", "table:default-cell-style-name",
    "table:display", "office:value-type", "office:value", "office:date-value", "office:time-value",
    "office:boolean-value", "office:string-value", "calcext:value-type", "style:name", "style:family",
    "style:parent-style-name", "style:data-style-name", "style:column-width", "style:row-height",
    "style:use-optimal-row-height", "style:font-name", "fo:font-size", "fo:font-weight", "fo:font-style",
    "fo:color", "fo:background-color", "fo:border", "fo:border-left", "fo:border-right", "fo:border-top",
    "fo:border-bottom", "fo:text-align", "style:vertical-align", "fo:wrap-option", "number:decimal-places",
    "number:grouping", "number:style", "number:textual", "text:c")}

CORRUPT = "E-FILE-CORRUPT", "OpenDocument 表格（.ods）内容无法解析，可能已损坏。请在 LibreOffice/WPS 中打开并重新保存后再提交。"
TOO_MANY = "E-FILE-UNSAFE", (f"表格含有超过 {MAX_CELLS:,} 个有内容的单元格（或大量重复的行、列），远超正常的自评表，已拒绝读取。"
                             "请删除多余内容后另存为 .xlsx 再提交。")
_LENGTH_RE = re.compile(r"^([\d.]+)(in|cm|mm|pt|pc|px)?$")
_TO_POINTS = {"in": 72.0, "cm": 72 / 2.54, "mm": 72 / 25.4, "pt": 1.0, "pc": 12.0, "px": 0.75, None: 1.0}


class _Unsafe(Exception):
    pass


def _points(length: str | None) -> float | None:
    m = _LENGTH_RE.match(length or "")
    return float(m.group(1)) * _TO_POINTS[m.group(2)] if m else None


class _Styles:
    """Cell, column, row and table styles and the data styles (number formats) of a document."""

    def __init__(self) -> None:
        self.styles: dict[str, dict[str, Any]] = {}
        self.data: dict[str, str] = {}  # data style name → Excel number format
        self._resolved: dict[str, tuple[str, CellStyle | None]] = {}
        self._current: dict[str, Any] | None = None
        self._data_name: str | None = None
        self._data_kind = ""
        self._data_parts: list[str] = []
        self._text = False

    # -- parsing (shared by styles.xml and content.xml's automatic styles) ----------------------
    def start(self, name: str, attrs: dict[str, str]) -> None:
        if name == ST_STYLE:
            self._current = {"family": attrs.get(A["style:family"]), "parent": attrs.get(A["style:parent-style-name"]),
                             "data": attrs.get(A["style:data-style-name"])}
            self.styles[attrs.get(A["style:name"], "")] = self._current
        elif self._current is not None and name in (ST_TEXT, ST_CELL, ST_PARA, ST_COLUMN, ST_ROW, ST_TABLE):
            for key, value in attrs.items():
                self._current[key] = value
        elif name in DATA_STYLES:
            self._data_name, self._data_kind, self._data_parts = attrs.get(A["style:name"], ""), DATA_STYLES[name], []
        elif self._data_name is not None:
            self._data_part(name, attrs)

    def end(self, name: str) -> None:
        if name == ST_STYLE:
            self._current = None
        elif name in DATA_STYLES and self._data_name is not None:
            self.data[self._data_name] = self._format()
            self._data_name = None
        elif name == NUMBER_TEXT:
            self._text = False

    def chars(self, text: str) -> None:
        if self._text and self._data_name is not None and self._data_kind == "date-style":
            self._data_parts.append('"' + text.replace('"', "") + '"' if text.strip() else text)

    def _data_part(self, name: str, attrs: dict[str, str]) -> None:
        local = name.rsplit(_SEP, 1)[-1]
        long = attrs.get(A["number:style"]) == "long"
        if local == "number":
            places = int(attrs.get(A["number:decimal-places"], "0") or 0)
            grouping = attrs.get(A["number:grouping"]) == "true"
            self._data_parts.append(("#,##0" if grouping else "0") + ("." + "0" * places if places else ""))
        elif local == "scientific-number":
            self._data_parts.append("0.00E+00")
        elif local == "year":
            self._data_parts.append("yyyy" if long else "yy")
        elif local == "month":
            textual = attrs.get(A["number:textual"]) == "true"
            self._data_parts.append(("mmmm" if long else "mmm") if textual else ("mm" if long else "m"))
        elif local == "day":
            self._data_parts.append("dd" if long else "d")
        elif local in ("hours", "minutes", "seconds"):
            self._data_parts.append({"hours": "hh", "minutes": "mm", "seconds": "ss"}[local])
        elif local == "text":
            self._text = True

    def _format(self) -> str:
        kind, parts = self._data_kind, self._data_parts
        if kind == "percentage-style":
            return (parts[0] if parts else "0") + "%"
        if kind == "currency-style":
            return parts[0] if parts else "#,##0.00"
        if kind == "number-style":
            return parts[0] if parts else "General"
        if kind == "date-style":
            return "".join(parts) or "yyyy-mm-dd"
        if kind == "time-style":
            return ":".join(p for p in parts if not p.startswith('"')) or "hh:mm:ss"
        if kind == "text-style":
            return "@"
        return "General"

    # -- lookups ------------------------------------------------------------------------------
    def _chain(self, name: str | None):
        seen = 0
        while name and name in self.styles and seen < 20:
            yield self.styles[name]
            name = self.styles[name].get("parent")
            seen += 1

    def _get(self, name: str | None, key: str) -> Any:
        for style in self._chain(name):
            if key in style and style[key] is not None:
                return style[key]
        return None

    def cell(self, name: str | None) -> tuple[str, CellStyle | None]:
        """(Excel number format, look) of a cell style."""
        if name is None:
            return "General", None
        hit = self._resolved.get(name)
        if hit is not None:
            return hit
        data = self._get(name, "data")
        fmt = self.data.get(data, "General") if data else "General"
        if name not in self.styles:
            self._resolved[name] = (fmt, None)
            return fmt, None

        def color(key: str) -> str | None:
            value = self._get(name, A[key])
            return value[1:].upper() if isinstance(value, str) and value.startswith("#") and len(value) == 7 else None

        def side(key: str) -> bool:
            value = self._get(name, A[key]) or self._get(name, A["fo:border"])
            return bool(value) and value != "none"

        size = _points(self._get(name, A["fo:font-size"]))
        fg = color("fo:color")
        style = CellStyle(
            font_name=self._get(name, A["style:font-name"]), font_size=size,
            bold=self._get(name, A["fo:font-weight"]) == "bold", italic=self._get(name, A["fo:font-style"]) == "italic",
            color=fg if fg != "000000" else None, fill=color("fo:background-color"),
            border=(side("fo:border-left"), side("fo:border-right"), side("fo:border-top"), side("fo:border-bottom")),
            horizontal={"start": "left", "left": "left", "center": "center", "end": "right", "right": "right"}.get(
                self._get(name, A["fo:text-align"]) or ""),
            vertical={"top": "top", "middle": "center", "bottom": "bottom"}.get(self._get(name, A["style:vertical-align"]) or ""),
            wrap=self._get(name, A["fo:wrap-option"]) == "wrap",
        )
        self._resolved[name] = (fmt, style)
        return fmt, style

    def column_width(self, name: str | None) -> float | None:
        points = _points(self._get(name, A["style:column-width"]))
        return round(max(points / 5.25 - 0.71, 0), 2) if points else None  # Excel characters (宋体 11)

    def row_height(self, name: str | None) -> float | None:
        if self._get(name, A["style:use-optimal-row-height"]) == "true":
            return None
        points = _points(self._get(name, A["style:row-height"]))
        return round(points, 2) if points else None

    def hidden_table(self, name: str | None) -> bool:
        return self._get(name, A["table:display"]) == "false"


class _Content:
    """The body of content.xml: tables, rows, cells."""

    def __init__(self, styles: _Styles, grid: WorkbookGrid) -> None:
        self.styles, self.grid = styles, grid
        self.sheet: SheetGrid | None = None
        self.row = 0  # rows done in this table
        self.col = 0
        self.row_repeat = 1
        self.row_style: str | None = None
        self.row_default: str | None = None
        self.col_defaults: list[str | None] = []
        self.ncells = 0
        self.cell: dict[str, Any] | None = None
        self.row_cells: list[tuple[int, int, dict[str, Any]]] = []  # (column, repeat, cell) of the current row
        self.paragraphs: list[list[str]] | None = None
        self.skip = 0  # depth inside an annotation (a comment's text is not the cell's)

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if self.skip:
            self.skip += 1
            return
        if name == T_TABLE:
            self.sheet = SheetGrid(attrs.get(A["table:name"], f"Sheet{len(self.grid.sheets) + 1}"))
            if self.styles.hidden_table(attrs.get(A["table:style-name"])):
                self.sheet.state = "hidden"
            self.grid.sheets.append(self.sheet)
            self.row, self.col_defaults = 0, []
        elif self.sheet is None:
            return
        elif name == T_COLUMN:
            repeat = int(attrs.get(A["table:number-columns-repeated"], "1") or 1)
            width = self.styles.column_width(attrs.get(A["table:style-name"]))
            default = attrs.get(A["table:default-cell-style-name"])
            for _ in range(min(repeat, 1024 - len(self.col_defaults))):
                self.col_defaults.append(default)
                if width is not None:
                    self.sheet.col_widths[len(self.col_defaults)] = width
        elif name == T_ROW:
            self.row_repeat = max(int(attrs.get(A["table:number-rows-repeated"], "1") or 1), 1)
            self.row_style = attrs.get(A["table:style-name"])
            self.row_default = attrs.get(A["table:default-cell-style-name"])
            self.col, self.row_cells = 0, []
        elif name in (T_CELL, T_COVERED):
            repeat = max(int(attrs.get(A["table:number-columns-repeated"], "1") or 1), 1)
            self.cell = {"attrs": attrs, "repeat": repeat, "covered": name == T_COVERED}
            self.paragraphs = []
        elif name == OFFICE_ANNOTATION:
            self.skip = 1
        elif self.paragraphs is not None:
            if name == TX_P:
                self.paragraphs.append([])
            elif name == TX_S:
                self._text(" " * min(int(attrs.get(A["text:c"], "1") or 1), 1000))
            elif name == TX_TAB:
                self._text("\t")
            elif name == TX_BR:
                self._text("\n")

    def _text(self, text: str) -> None:
        if self.paragraphs is not None:
            if not self.paragraphs:
                self.paragraphs.append([])
            self.paragraphs[-1].append(text)

    def chars(self, text: str) -> None:
        if not self.skip and self.paragraphs is not None and self.paragraphs:
            self.paragraphs[-1].append(text)

    def end(self, name: str) -> None:
        if self.skip:
            self.skip -= 1
            return
        if name in (T_CELL, T_COVERED) and self.cell is not None:
            self._end_cell()
        elif name == T_ROW and self.sheet is not None:
            self._end_row()
        elif name == T_TABLE:
            self.sheet = None

    def _end_cell(self) -> None:
        cell, self.cell = self.cell, None
        text = "\n".join("".join(p) for p in (self.paragraphs or []))
        self.paragraphs = None
        assert cell is not None
        attrs = cell["attrs"]
        first = self.col + 1
        self.col += cell["repeat"]
        if cell["covered"] or first > MAX_COLS:
            return
        value_type = attrs.get(A["office:value-type"])
        formula = attrs.get(A["table:formula"])
        if value_type is None and formula is None and not text:
            spans = attrs.get(A["table:number-columns-spanned"]) or attrs.get(A["table:number-rows-spanned"])
            if not spans:
                return  # an empty (perhaps styled) cell
        cell["text"] = text
        self.row_cells.append((first, min(cell["repeat"], MAX_COLS - first + 1), cell))

    def _end_row(self) -> None:
        assert self.sheet is not None
        first_row = self.row + 1
        repeat = self.row_repeat
        self.row += repeat
        if first_row > MAX_ROWS:
            return
        height = self.styles.row_height(self.row_style)
        if not self.row_cells:
            if height is not None and repeat == 1:
                self.sheet.row_heights[first_row] = height
            return
        rows = min(repeat, MAX_ROWS - first_row + 1)
        if rows * sum(n for _, n, _ in self.row_cells) + self.ncells > MAX_CELLS:
            raise _Unsafe()
        for r in range(first_row, first_row + rows):
            if height is not None:
                self.sheet.row_heights[r] = height
            for first, n, cell in self.row_cells:
                for c in range(first, first + n):
                    self._put(r, c, cell)
        self.row_cells = []

    def _put(self, r: int, c: int, cell: dict[str, Any]) -> None:
        attrs = cell["attrs"]
        style_name = attrs.get(A["table:style-name"]) or self.row_default or (
            self.col_defaults[c - 1] if c - 1 < len(self.col_defaults) else None)
        fmt, look = self.styles.cell(style_name)
        formula = attrs.get(A["table:formula"])
        value_type = attrs.get(A["office:value-type"])
        value = _value(value_type, attrs, cell["text"])
        grid_cell = GridCell(value, fmt, formula=formula, style=look)
        if formula is not None and value_type is None:
            grid_cell.missing_cache = True
            grid_cell.value = None
        if attrs.get(A["calcext:value-type"]) == "error":
            grid_cell.value = cell["text"] or "#VALUE!"
        self.sheet.cells[(r, c)] = grid_cell  # type: ignore[union-attr]
        self.ncells += 1
        cols = int(attrs.get(A["table:number-columns-spanned"], "1") or 1)
        rows = int(attrs.get(A["table:number-rows-spanned"], "1") or 1)
        if cols > 1 or rows > 1:
            self.sheet.merged.append((r, c, min(r + rows - 1, MAX_ROWS), min(c + cols - 1, MAX_COLS)))  # type: ignore[union-attr]


def _value(value_type: str | None, attrs: dict[str, str], text: str) -> Any:
    try:
        if value_type in ("float", "percentage", "currency"):
            return integral(float(attrs[A["office:value"]]))
        if value_type == "date":
            raw = attrs[A["office:date-value"]]
            return datetime.fromisoformat(raw) if "T" in raw else datetime.combine(date.fromisoformat(raw), time())
        if value_type == "time":
            m = re.match(r"^PT(\d+)H(\d+)M(\d+(?:\.\d+)?)S$", attrs[A["office:time-value"]])
            if m:
                h, mi, s = int(m.group(1)), int(m.group(2)), float(m.group(3))
                return time(h % 24, mi, int(s))
            return text
        if value_type == "boolean":
            return attrs[A["office:boolean-value"]] == "true"
    except (KeyError, ValueError):
        return text or None
    if value_type == "string":
        return attrs.get(A["office:string-value"], text)
    return text or None


def _parse(data: bytes, handler) -> None:
    parse_xml(data, handler.start, handler.end, handler.chars)


def read_ods(path: Path) -> WorkbookGrid:
    """The grid of an .ods workbook. Raises FileProblem (corrupt, unsafe)."""
    grid = WorkbookGrid(path, "ods", "ods")
    styles = _Styles()
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            if "styles.xml" in names:
                _parse(zf.read("styles.xml"), styles)
            content = zf.read("content.xml")

        class _Both:
            def __init__(self) -> None:
                self.body = _Content(styles, grid)
                self.in_body = False

            def start(self, name, attrs):
                if name == OFFICE_BODY:
                    self.in_body = True
                (self.body if self.in_body else styles).start(name, attrs)

            def end(self, name):
                (self.body if self.in_body else styles).end(name)

            def chars(self, text):
                (self.body if self.in_body else styles).chars(text)

        _parse(content, _Both())
    except _Unsafe:
        raise FileProblem(*TOO_MANY) from None
    except XmlDeclarationRefused:
        raise FileProblem("E-FILE-UNSAFE", "表格内容含有 XML 实体声明（可被用来耗尽内存），已拒绝读取。"
                                           "请在 LibreOffice/WPS 中另存为 .xlsx 后再提交。") from None
    except MemoryError:
        raise FileProblem(*TOO_MANY) from None
    except (expat.ExpatError, KeyError, zipfile.BadZipFile, OSError, EOFError, ValueError, zipfile.LargeZipFile,
            NotImplementedError, RuntimeError):
        raise FileProblem(*CORRUPT) from None
    if not grid.sheets:
        raise FileProblem(*CORRUPT)
    return grid
