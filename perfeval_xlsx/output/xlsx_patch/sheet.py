"""The unit's form sheet, patched: only the cells, rows and elements we change are rewritten.

The sheet XML is cut into its rows and cells by position (each `<c>` and `<row>` is found with a
regular expression inside `<sheetData>`; the elements outside it with expat). A cell we write is
replaced by a new `<c>`; a row we touch is rebuilt from its cells' original bytes plus ours; every
other byte of the sheet is copied. Every formula of the form sheet becomes the value it showed
(recorded in the mark), as with the openpyxl writer.
"""

from __future__ import annotations

import math
import re
import zlib
from typing import Any, Iterator

from openpyxl.formula.translate import Translator
from openpyxl.utils.cell import column_index_from_string, get_column_letter, range_boundaries
from openpyxl.utils.datetime import to_excel

from perfeval_xlsx.output.form_sheet import FormSheet, PageInfo
from perfeval_xlsx.output.looks import Look
from perfeval_xlsx.output.xlsx_patch.parts import Unsupported, attr, rel_prefix, tag_end, xml_unescape
from perfeval_xlsx.output.xlsx_patch.styles import StyleBook
from perfeval_xlsx.reading.grid import SheetGrid
from perfeval_xlsx.reading.mark import formula_original
from perfeval_xlsx.reading.safety import XML_SEP, parse_xml

#: the order of a worksheet's elements (CT_Worksheet)
ORDER = ("sheetPr", "dimension", "sheetViews", "sheetFormatPr", "cols", "sheetData", "sheetCalcPr", "sheetProtection",
         "protectedRanges", "scenarios", "autoFilter", "sortState", "dataConsolidate", "customSheetViews", "mergeCells",
         "phoneticPr", "conditionalFormatting", "dataValidations", "hyperlinks", "printOptions", "pageMargins",
         "pageSetup", "headerFooter", "rowBreaks", "colBreaks", "customProperties", "cellWatches", "ignoredErrors",
         "smartTags", "drawing", "legacyDrawing", "legacyDrawingHF", "drawingHF", "picture", "oleObjects", "controls",
         "webPublishItems", "tableParts", "extLst")
_RANK = {name: i for i, name in enumerate(ORDER)}
_RANK["AlternateContent"] = _RANK["oleObjects"]  # (wraps oleObjects or controls in Excel's files)
_ATTR = re.compile(rb'([\w:]+)\s*=\s*"([^"]*)"')
_SPANS = re.compile(rb'\sspans="[^"]*"')
_HEIGHT = re.compile(rb'\s(?:ht|customHeight)="[^"]*"')


class _Row:
    __slots__ = ("start", "end", "open_end", "cells", "empty")

    def __init__(self, start: int, end: int, open_end: int, empty: bool) -> None:
        self.start, self.end, self.open_end, self.empty = start, end, open_end, empty
        self.cells: dict[int, tuple[int, int]] | None = None  # column → (start, end) of its <c>


def _attrs(tag: bytes) -> dict[str, str]:
    return {k.decode(): xml_unescape(v.decode("utf-8")) for k, v in _ATTR.findall(tag)}


class XmlFormSheet(FormSheet):
    """A FormSheet over the sheet's XML and the reader's grid of it."""

    def __init__(self, data: bytes, grid: SheetGrid, styles: StyleBook, strings, names, cached: dict[str, Any]) -> None:
        super().__init__()
        head = data[:200]
        m = re.match(rb'\s*<\?xml[^>]*encoding="([^"]+)"', head)
        if m and m.group(1).lower() not in (b"utf-8", b"utf8"):
            raise Unsupported("sheet not in UTF-8")
        self.data, self.grid, self.styles, self.strings, self.names = data, grid, styles, strings, names
        self.title = grid.title
        self.merged = list(grid.clipped_merges())
        # cells a merged range covers show nothing (openpyxl reads them as empty MergedCells)
        self.followers = {(r, c) for r1, c1, r2, c2 in self.merged for r in range(r1, r2 + 1)
                          for c in range(c1, c2 + 1) if (r, c) != (r1, c1) and (r, c) in grid.cells}
        self.cached = cached  # the form's formula results (the reader's, recomputed ones included)
        root = re.search(rb"<(?![?!])(\w+:)?worksheet\b", data)
        if root is None:
            raise Unsupported("no worksheet element")
        self.p = root.group(1) or b""
        self._scan()
        self._top_level()
        self.edits: dict[tuple[int, int], Any] = {}
        self.new_styles: dict[tuple[int, int], int] = {}
        self.heights: dict[int, float] = {}
        self.widths: dict[str, float] = {}
        self.breaks: list[int] | None = None
        self.comments: list[tuple[int, int, str, int, int]] = []
        self.formula_values: dict[tuple[int, int], bytes] = {}  # the new XML of each formula cell
        self._formulas()

    # ------------------------------------------------------------------ parsing
    def _scan(self) -> None:
        """Where sheetData is; the rows and cells are where the reader saw them start."""
        data = self.data
        m = re.search(rb"<" + re.escape(self.p) + rb"sheetData\b", data)
        if m is None:
            raise Unsupported("no sheetData")
        open_end = tag_end(data, m.start())
        self.sheet_data = (m.start(), open_end)
        self.rows: dict[int, _Row] = {}
        if data[open_end - 2:open_end] == b"/>":
            self.sheet_data_end = open_end
            self.sheet_data_close = None
            return
        close = data.find(b"</" + self.p + b"sheetData>", open_end)
        if close < 0:
            raise Unsupported("unclosed sheetData")
        self.sheet_data_close = close
        self.sheet_data_end = close + len(b"</" + self.p + b"sheetData>")
        if self.grid.xml_check != (len(data), zlib.crc32(data)):
            raise Unsupported("the sheet is not the one the reader read")
        self._row_close = b"</" + self.p + b"row>"
        self._row_tag = re.compile(rb"<" + re.escape(self.p) + rb"row\b")
        self._by_row: dict[int, list[tuple[int, int]]] = {}  # row → (start, column) of its cells
        for (r, c), cell in self.grid.cells.items():
            if cell.pos >= 0:
                self._by_row.setdefault(r, []).append((cell.pos, c))

    def _row(self, r: int) -> _Row | None:
        """Row r as written (from where the reader saw it start), or None."""
        row = self.rows.get(r)
        if row is not None or r not in self.grid.row_pos:
            return row
        data, start = self.data, self.grid.row_pos[r]
        open_end = tag_end(data, start)
        head = data[start:open_end]
        if not self._row_tag.match(head):
            raise Unsupported("row position")
        if head.endswith(b"/>"):
            row = _Row(start, open_end, open_end, True)
            row.cells = {}
        else:
            cells = sorted(self._by_row.get(r, ()))
            end = data.find(self._row_close, cells[-1][0] if cells else open_end, self.sheet_data_close)
            if end < 0:
                raise Unsupported("unclosed row")
            row = _Row(start, end + len(self._row_close), open_end, False)
            # a cell runs to where the next one starts (white space between cells goes with it)
            bounds = [pos for pos, _c in cells]
            row.cells = dict(zip([c for _pos, c in cells], zip(bounds, bounds[1:] + [end])))
        self.rows[r] = row
        return row

    def _top_level(self) -> None:
        """Depth-1 elements outside sheetData: local name → (start, end)."""
        data = self.data
        start_cut, end_cut = self.sheet_data[0], self.sheet_data_end
        outside = data[:start_cut] + b"<" + self.p + b"sheetData/>" + data[end_cut:]
        shift = end_cut - start_cut - len(b"<" + self.p + b"sheetData/>")
        parser: list = []
        stack: list[str] = []
        found: dict[str, list[int]] = {}
        order: list[str] = []

        def real(pos: int) -> int:
            return pos if pos < start_cut else pos + shift

        def start(tag, attrs):
            stack.append(tag.rpartition(XML_SEP)[2])
            if len(stack) == 2:
                name = stack[-1]
                begin = real(parser[0].CurrentByteIndex)
                found.setdefault(name, [begin, -1])
                order.append(name)

        def end(tag):
            name = stack.pop()
            if len(stack) == 1:
                pos = parser[0].CurrentByteIndex
                begin = found[name][0]
                at = real(pos)
                if data[at:at + 2] == b"</":
                    found[name][1] = data.index(b">", at) + 1
                else:  # an empty element: its end is its start tag's end
                    found[name][1] = tag_end(data, begin)

        try:
            parse_xml(outside, start, end, parser_ref=parser)
        except Exception as exc:  # noqa: BLE001
            raise Unsupported(f"sheet XML: {exc}") from None
        if sum(order.count(n) for n in ("rowBreaks", "cols", "dimension", "legacyDrawing", "sheetViews")) != \
                len({n for n in order if n in ("rowBreaks", "cols", "dimension", "legacyDrawing", "sheetViews")}):
            raise Unsupported("repeated sheet element")
        found["sheetData"] = [start_cut, end_cut]
        self.top = {name: (a, b) for name, (a, b) in found.items()}
        self.top_order = [n for n in order]

    def _formulas(self) -> None:
        """The form's formulas as values: the new XML of each formula cell, and the record."""
        p = re.escape(self.p)
        f_re = re.compile(rb"<" + p + rb"f\b([^>]*?)(?:/>|>(.*?)</" + p + rb"f>)", re.S)
        v_re = re.compile(rb"<" + p + rb"v>(.*?)</" + p + rb"v>", re.S)
        masters: dict[str, tuple[str, str]] = {}  # shared index → (formula text, master address)
        pending: list[tuple[int, int, dict[str, str], str]] = []
        formulas = sorted((key, cell) for key, cell in self.grid.cells.items() if cell.is_formula)
        for (r, c), grid_cell in formulas:  # (in reading order: a shared formula's master comes first)
            row = self._row(r)
            cell = row.cells.get(c) if row is not None else None
            if cell is None:
                continue
            raw = self.data[cell[0]:cell[1]]
            fm = f_re.search(raw)
            if fm is None:
                continue
            f_attrs = _attrs(fm.group(1))
            formula = xml_unescape((fm.group(2) or b"").decode("utf-8"))
            address = f"{get_column_letter(c)}{r}"
            if "DISPIMG(" in formula.upper():
                continue  # a WPS picture in a cell: the formula is the picture, kept as it is
            if f_attrs.get("t") == "shared" and formula:
                masters[f_attrs.get("si", "")] = (formula, address)
            pending.append((r, c, f_attrs, formula))
            self.formula_values[(r, c)] = self._cached_cell(r, c, grid_cell.xf, raw, v_re)
        for r, c, f_attrs, formula in pending:
            if (r, c) in self.followers:
                continue  # (shows nothing: not the unit's form as read)
            kind = f_attrs.get("t", "normal")
            address = f"{get_column_letter(c)}{r}"
            if kind == "shared" and not formula:
                master = masters.get(f_attrs.get("si", ""))
                if master is None:
                    continue
                try:
                    formula = Translator("=" + master[0], origin=master[1]).translate_formula(address)[1:]
                except Exception:  # noqa: BLE001 - left as the master's text
                    formula = master[0]
            elif kind not in ("normal", "shared"):
                continue  # array and data-table formulas: openpyxl gives no text either
            value = self.cached.get(address, _MISSING)
            self.originals[address] = formula_original("=" + formula) if value is _MISSING \
                else formula_original("=" + formula, value)

    def _cached_cell(self, r: int, c: int, xf: int, raw: bytes, v_re) -> bytes:
        address = f"{get_column_letter(c)}{r}"
        t = re.search(rb'\bt="(\w+)"', raw[:raw.find(b">")])
        kind = t.group(1).decode() if t else "n"
        vm = v_re.search(raw)
        if vm is not None and vm.group(1).strip() and address in self.cached:
            v = vm.group(1)
            if kind in ("b", "e", "n"):  # the result as the file holds it
                t_attr = "" if kind == "n" else f' t="{kind}"'
                return f'<{self.p.decode()}c r="{address}"{self._s(xf)}{t_attr}><{self.p.decode()}v>'.encode() + v + \
                    f"</{self.p.decode()}v></{self.p.decode()}c>".encode()
        value = self.cached.get(address)  # a text result, or one computed by reading.recalc
        return self._cell_xml(r, c, None if value == "" else value, xf)

    # ------------------------------------------------------------------ reading
    def _grid_value(self, r: int, c: int) -> Any:
        cell = self.grid.cells.get((r, c))
        if cell is None:
            return None
        if cell.is_formula:
            value = self.cached.get(f"{get_column_letter(c)}{r}")
            return None if value == "" else value
        return cell.value

    def value(self, row, col):
        if (row, col) in self.edits:
            return self.edits[(row, col)]
        return self._grid_value(row, col)

    def values(self) -> Iterator[tuple[int, int, Any]]:
        followers, edits, cached = self.followers, self.edits, self.cached
        for key, cell in self.grid.cells.items():  # (value() inlined: three passes over every cell)
            if key in followers:
                yield key[0], key[1], None
            elif key in edits:
                yield key[0], key[1], edits[key]
            elif cell.formula is not None or cell.missing_cache:
                value = cached.get(f"{get_column_letter(key[1])}{key[0]}")
                yield key[0], key[1], None if value == "" else value
            else:
                yield key[0], key[1], cell.value
        for (r, c), value in list(self.edits.items()):
            if (r, c) not in self.grid.cells:
                yield r, c, value

    def _style(self, r: int, c: int) -> int:
        if (r, c) in self.new_styles:
            return self.new_styles[(r, c)]
        cell = self.grid.cells.get((r, c))
        return cell.xf if cell is not None else 0

    def text_look(self, row, col):
        return self.styles.text_look(self._style(row, col))

    def _element(self, name: str) -> bytes | None:
        span = self.top.get(name)
        return None if span is None else self.data[span[0]:span[1]]

    def _cols(self) -> list[dict[str, str]]:
        element = self._element("cols")
        if element is None:
            return []
        return [_attrs(m.group(0)) for m in re.finditer(rb"<" + re.escape(self.p) + rb"col\b[^>]*>", element)]

    def _format(self) -> dict[str, str]:
        element = self._element("sheetFormatPr")
        return _attrs(element[:tag_end(element, 0)]) if element is not None else {}

    def column_widths(self, upto):
        fmt = self._format()
        default = _float(fmt.get("defaultColWidth")) or ((_float(fmt.get("baseColWidth")) or 8) + 0.43)
        widths = [default] * (upto + 1)
        for col in self._cols():
            width, first, last = _float(col.get("width")), _int(col.get("min")), _int(col.get("max"))
            if width and first:
                for k in range(first, min(last or first, upto) + 1):
                    widths[k] = width
        for letter, width in self.widths.items():
            k = column_index_from_string(letter)
            if k <= upto:
                widths[k] = width
        return widths

    def row_heights(self, rows):
        default = _float(self._format().get("defaultRowHeight")) or 15.0
        out = {}
        for r in rows:
            if r in self.heights:
                out[r] = self.heights[r]
                continue
            out[r] = self.grid.row_heights.get(r) or default  # (the reader took each row's ht)
        return out

    def column_width(self, col):
        if col in self.widths:
            return self.widths[col]
        k = column_index_from_string(col)
        for each in self._cols():
            if _int(each.get("min")) and _int(each.get("min")) <= k <= (_int(each.get("max")) or 0):
                return _float(each.get("width"))
        return None

    def print_area(self):
        return self.names.get_area(self.title)

    def print_title_rows(self):
        return self.names.get_title_rows(self.title)

    def has_row_breaks(self):
        element = self._element("rowBreaks")
        return element is not None and b"<" + self.p + b"brk" in element

    def page(self):
        setup = self._element("pageSetup")
        s = _attrs(setup[:tag_end(setup, 0)]) if setup is not None else {}
        props = self._element("sheetPr")
        fit = bool(props is not None and re.search(rb'fitToPage="(1|true)"', props))
        margins = self._element("pageMargins")
        m = _attrs(margins) if margins is not None else {}
        return PageInfo(paper=_int(s.get("paperSize")), landscape=s.get("orientation") == "landscape",
                        fit_to_page=fit, fit_height=s.get("fitToHeight"), scale=_float(s.get("scale")),
                        margins=(_float(m.get("left")) or 0.7, _float(m.get("right")) or 0.7,
                                 _float(m.get("top")) or 0.75, _float(m.get("bottom")) or 0.75))

    # ------------------------------------------------------------------ writing
    def put(self, row, col, value, number_format):
        self.edits[(row, col)] = value
        if number_format:
            self.new_styles[(row, col)] = self.styles.derive(self._style(row, col), Look(number_format=number_format))

    def restyle(self, row, col, look):
        self.new_styles[(row, col)] = self.styles.derive(self._style(row, col), look)

    def comment(self, row, col, text_, width, height):
        self.comments.append((row, col, text_, width, height))

    def set_row_height(self, row, height):
        self.heights[row] = height

    def set_column_width(self, col, width):
        self.widths[col] = width

    def set_print_area(self, ranges):
        self.names.set_area(self.title, ranges)

    def set_print_title_rows(self, rows):
        self.names.set_title_rows(self.title, rows)

    def set_row_breaks(self, rows):
        self.breaks = list(rows)

    # ------------------------------------------------------------------ serialising
    @staticmethod
    def _s(s: int) -> str:
        return f' s="{s}"' if s else ""

    def _cell_xml(self, r: int, c: int, value: Any, s: int) -> bytes:
        return cell_xml(f"{get_column_letter(c)}{r}", value, s, self.strings, self.p.decode()).encode()

    def _new_cell(self, r: int, c: int) -> bytes | None:
        """The new XML of a cell we changed (None: copy the original)."""
        s = self._style(r, c)
        if (r, c) in self.edits:
            return self._cell_xml(r, c, self.edits[(r, c)], s)
        if (r, c) in self.formula_values:
            xml = self.formula_values[(r, c)]
            if (r, c) in self.new_styles:
                xml = re.sub(rb'^(<[\w:]*c r="[A-Z]+\d+")(?: s="\d+")?', lambda m: m.group(1) + self._s(s).encode(), xml)
            return xml
        if (r, c) in self.new_styles:
            row = self._row(r)
            cell = row.cells.get(c) if row is not None else None
            if cell is None:
                return self._cell_xml(r, c, None, s)
            raw = self.data[cell[0]:cell[1]]
            head_end = tag_end(raw, 0)
            head = raw[:head_end]
            head = re.sub(rb'\ss="\d+"', b"", head)
            head = re.sub(rb"^(<[\w:]*c\b)", lambda m: m.group(1) + self._s(s).encode(), head)
            return head + raw[head_end:]
        return None

    def _row_xml(self, r: int, touched: set[int]) -> bytes:
        p = self.p.decode()
        row = self._row(r)
        if row is not None:  # its start tag as written, with our height and without the spans hint
            head = self.data[row.start:row.open_end].rstrip(b"/>").rstrip()
            if touched:
                head = _SPANS.sub(b"", head)
            if r in self.heights:
                head = _HEIGHT.sub(b"", head) + f' ht="{_number(self.heights[r])}" customHeight="1"'.encode()
        else:
            head = f'<{p}row r="{r}"'.encode() + (f' ht="{_number(self.heights[r])}" customHeight="1"'.encode()
                                                  if r in self.heights else b"")
        cells = row.cells if row is not None else {}
        cols = sorted(set(cells) | touched)
        parts = []
        for c in cols:
            new = self._new_cell(r, c) if c in touched else None
            if new is None:
                cell = cells[c]
                parts.append(self.data[cell[0]:cell[1]])
            else:
                parts.append(new)
        if not parts:
            return head + b"/>"
        return head + b">" + b"".join(parts) + f"</{p}row>".encode()

    def sheet_xml(self, legacy_rid: str | None, drop_tab_selected: bool = True) -> bytes:
        """The patched sheet (`legacy_rid`: the relationship of a new VML drawing to point to)."""
        touched: dict[int, set[int]] = {}
        for (r, c) in list(self.edits) + list(self.new_styles) + list(self.formula_values):
            touched.setdefault(r, set()).add(c)
        for r in self.heights:
            touched.setdefault(r, set())
        data = self.data
        edits: list[tuple[int, int, bytes]] = []
        # rows: each touched row rebuilt in place; new rows inserted in order
        existing = sorted(self.grid.row_pos)
        new_rows: dict[int, list[bytes]] = {}  # insert position → rows
        for r in sorted(touched):
            if r in self.grid.row_pos:
                row = self._row(r)
                edits.append((row.start, row.end, self._row_xml(r, touched[r])))
                continue
            after = next((x for x in existing if x > r), None)
            pos = self.grid.row_pos[after] if after is not None else (self.sheet_data_close or self.sheet_data_end)
            new_rows.setdefault(pos, []).append(self._row_xml(r, touched[r]))
        for pos, rows in new_rows.items():
            edits.append((pos, pos, b"".join(rows)))
        if self.sheet_data_close is None and new_rows:  # <sheetData/>: opened up
            start, end = self.sheet_data
            body = b"".join(b"".join(rows) for rows in new_rows.values())
            edits = [e for e in edits if e[0] != end]
            edits.append((start, end, b"<" + self.p + b"sheetData>" + body + b"</" + self.p + b"sheetData>"))
        edits += self._element_edits(legacy_rid, drop_tab_selected, touched)
        pieces, at = [], 0  # (spliced in one pass: a copy of the sheet per edit would cost n²)
        for start, end, replacement in sorted(edits, key=lambda e: (e[0], e[1])):
            if start < at:
                raise Unsupported("overlapping edits")
            pieces += (data[at:start], replacement)
            at = end
        pieces.append(data[at:])
        return b"".join(pieces)

    def _insert_at(self, name: str) -> int:
        """Where a new `name` element goes: before the first element that follows it."""
        rank = _RANK[name]
        after = [self.top[n][0] for n in self.top_order if _RANK.get(n, -1) > rank and n in self.top]
        if after:
            return min(after)
        close = self.data.rfind(b"</" + self.p + b"worksheet>")
        if close < 0:
            raise Unsupported("no worksheet end")
        return close

    def _element_edits(self, legacy_rid, drop_tab_selected, touched) -> list[tuple[int, int, bytes]]:
        p = self.p.decode()
        out: list[tuple[int, int, bytes]] = []
        if self.widths:
            cols = self._cols()
            for letter, width in self.widths.items():
                k = column_index_from_string(letter)
                cols = _set_col(cols, k, width)
            xml = f"<{p}cols>" + "".join(f"<{p}col" + "".join(f" {a}={attr(v)}" for a, v in col.items()) + "/>"
                                        for col in cols) + f"</{p}cols>"
            out.append(self._replace_or_insert("cols", xml.encode()))
        if self.breaks is not None:
            if self.breaks:
                brks = "".join(f'<{p}brk id="{b}" max="16383" man="1"/>' for b in self.breaks)
                xml = f'<{p}rowBreaks count="{len(self.breaks)}" manualBreakCount="{len(self.breaks)}">{brks}</{p}rowBreaks>'
                out.append(self._replace_or_insert("rowBreaks", xml.encode()))
            elif "rowBreaks" in self.top:
                a, b = self.top["rowBreaks"]
                out.append((a, b, b""))
        if legacy_rid is not None:
            if "legacyDrawing" in self.top:
                raise Unsupported("legacy drawing already there")
            rel = rel_prefix(self.data[:tag_end(self.data, re.search(rb"<(?![?!])", self.data).start())])
            declare = "" if rel else ' xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
            xml = f'<{p}legacyDrawing{declare} {rel or "r:"}id="{legacy_rid}"/>'
            at = self._insert_at("legacyDrawing")
            out.append((at, at, xml.encode()))
        dim = self.top.get("dimension")
        if dim is not None and (self.edits or touched):
            element = self.data[dim[0]:dim[1]]
            m = re.search(rb'ref="([^"]+)"', element)
            if m:
                try:
                    c1, r1, c2, r2 = range_boundaries(m.group(1).decode())
                except (ValueError, TypeError):
                    c1 = r1 = c2 = r2 = None
                if c1 is not None:
                    rows = [r for r, cs in touched.items() if cs] or [r2]
                    cols = [c for cs in touched.values() for c in cs] or [c2]
                    c2, r2 = max(c2, *cols), max(r2, *rows)
                    ref = f"{get_column_letter(c1)}{r1}:{get_column_letter(c2)}{r2}".encode()
                    out.append((dim[0], dim[1], element[:m.start(1)] + ref + element[m.end(1):]))
        views = self.top.get("sheetViews")
        if drop_tab_selected and views is not None:
            element = self.data[views[0]:views[1]]
            changed = re.sub(rb'\stabSelected="(1|true)"', b"", element)
            if changed != element:
                out.append((views[0], views[1], changed))
        return out

    def _replace_or_insert(self, name: str, xml: bytes) -> tuple[int, int, bytes]:
        if name in self.top:
            a, b = self.top[name]
            return a, b, xml
        at = self._insert_at(name)
        return at, at, xml


_MISSING = object()


def cell_xml(ref: str, value: Any, s: int, strings, p: str = "") -> str:
    """One `<c>` holding `value` with cell format `s` (text as a shared string; `p`: the sheet's
    prefix of the main namespace)."""
    style = f' s="{s}"' if s else ""
    kind = type(value)
    if kind is str:  # (the common cases first, without the general checks)
        return f'<{p}c r="{ref}"{style} t="s"><{p}v>{strings.index(value)}</{p}v></{p}c>' if value \
            else f'<{p}c r="{ref}"{style}/>'
    if value is None:
        return f'<{p}c r="{ref}"{style}/>'
    if kind is float:
        if not math.isfinite(value):
            return f'<{p}c r="{ref}"{style}/>'
        return f'<{p}c r="{ref}"{style}><{p}v>{_float_text(value)}</{p}v></{p}c>'
    value = cell_value(value)
    if value is None or value == "":
        return f'<{p}c r="{ref}"{style}/>'
    if isinstance(value, bool):
        return f'<{p}c r="{ref}"{style} t="b"><{p}v>{int(value)}</{p}v></{p}c>'
    if isinstance(value, (int, float)):
        return f'<{p}c r="{ref}"{style}><{p}v>{_number(value)}</{p}v></{p}c>'
    if hasattr(value, "isoformat"):
        return f'<{p}c r="{ref}"{style}><{p}v>{_number(to_excel(value))}</{p}v></{p}c>'
    return f'<{p}c r="{ref}"{style} t="s"><{p}v>{strings.index(str(value))}</{p}v></{p}c>'


def cell_value(value: Any) -> Any:
    """What a cell can hold of `value`: a number no spreadsheet holds (infinite, NaN) is left
    out, an integer too large for a float is kept as the text it was (as the reader took it)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if type(value) is int and not -(2 ** 1023) < value < 2 ** 1023:
        return str(value)
    return value


def _set_col(cols: list[dict[str, str]], k: int, width: float) -> list[dict[str, str]]:
    """The <col> list with column k's width set (a range covering k split around it)."""
    out: list[dict[str, str]] = []
    done = False
    for col in cols:
        first, last = _int(col.get("min")) or 0, _int(col.get("max")) or 0
        if first <= k <= last:
            if first < k:
                out.append({**col, "max": str(k - 1)})
            out.append({**col, "min": str(k), "max": str(k), "width": _number(width), "customWidth": "1"})
            if k < last:
                out.append({**col, "min": str(k + 1)})
            done = True
        else:
            out.append(col)
    if not done:
        out.append({"min": str(k), "max": str(k), "width": _number(width), "customWidth": "1"})
    return sorted(out, key=lambda col: _int(col.get("min")) or 0)


def _number(value: Any) -> str:
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int):
        return str(value)
    return _float_text(float(value))


def _float_text(value: float) -> str:
    return str(int(value)) if value.is_integer() and abs(value) < 2 ** 53 else "%.16g" % value  # as openpyxl writes


def _float(value: Any) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _int(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None

