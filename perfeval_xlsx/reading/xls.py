"""Read an Excel 97-2003 workbook (.xls, and WPS .et files that are BIFF inside) into the grid.

xlrd reads the cells, number formats, merged ranges, fonts, borders, widths and heights
(`formatting_info=True`). It does not say which cells are formulas, so one quick pass over the
BIFF records (`_formula_records`) finds the FORMULA records: their result type, whether the file
stored the result at all, and the formula's first text literal.

LibreOffice (7.x) writes a formula's text result to .xls as the number 0 when it did not
recalculate before saving (a converted file), and Excel/WPS re-compute such files when they
open them. A formula holding 0 that has a text literal is therefore taken as "result not stored"
(`missing_cache`), like a formula without a value in an .xlsx: the reader names group labels by
the literal, and a value cell is recomputed (reading.recalc) or reported.

Safety: the file is read whole (it is refused above `MAX_XLS_BYTES`), the cells are counted
before xlrd builds its rows (at most grid.MAX_CELLS), rows are kept ragged (a cell at IV65536
does not pad every row), and anything xlrd raises is a damaged file to the user.
"""

from __future__ import annotations

import io
import struct
from pathlib import Path
from typing import Any

from perfeval_xlsx.errors import FileProblem
from perfeval_xlsx.reading.grid import MAX_CELLS, CellStyle, GridCell, SheetGrid, WorkbookGrid, integral

MAX_XLS_BYTES = 64 * 1024 * 1024  # a real 自评表 .xls is 20-200 kB (a few MB with a pasted seal)

CORRUPT = "E-FILE-CORRUPT", "文件不完整或已损坏（旧版 Excel 格式无法解析）。请在 Excel/WPS 中打开并重新保存后再提交。"
ENCRYPTED = "E-FILE-ENCRYPTED", ("工作簿设置了打开密码，无法读取。请在 Excel/WPS 中取消密码（文件 → 信息 → 保护工作簿 → "
                                 "用密码进行加密，清空密码）后保存，再提交。")

_CELL_RECORDS = {0x0203: 1, 0x0204: 1, 0x00FD: 1, 0x027E: 1, 0x0201: 1, 0x0006: 1, 0x0205: 1}
_MULTI_RECORDS = {0x00BD, 0x00BE}  # MULRK, MULBLANK: several cells each
BOF, EOF, BOUNDSHEET, FILEPASS, FORMULA, STRING = 0x0809, 0x000A, 0x0085, 0x002F, 0x0006, 0x0207

# size of each formula token's data after its id byte (BIFF8); classed tokens by their base id
_PTG_SIZES = {0x01: 4, 0x02: 4, 0x1C: 1, 0x1D: 1, 0x1E: 2, 0x1F: 8, **{i: 0 for i in range(0x03, 0x17)}}
_PTG_CLASSED = {0x00: 7, 0x01: 2, 0x02: 3, 0x03: 4, 0x04: 4, 0x05: 8, 0x06: 6, 0x07: 6, 0x08: 6, 0x09: 2, 0x0A: 4,
                0x0B: 8, 0x0C: 4, 0x0D: 8, 0x19: 6, 0x1A: 6, 0x1B: 10, 0x1C: 6, 0x1D: 10}


def _records(data: bytes, start: int = 0):
    pos, end = start, len(data)
    while pos + 4 <= end:
        rtype, length = struct.unpack_from("<HH", data, pos)
        yield pos, rtype, data[pos + 4: pos + 4 + length]
        pos += 4 + length


def _first_literal(rgce: bytes) -> str | None:
    """The first text constant (ptgStr) of a formula's tokens, or None."""
    i, n = 0, len(rgce)
    while i < n:
        ptg = rgce[i]
        i += 1
        if ptg == 0x17:  # ptgStr: cch, flags, characters
            if i + 2 > n:
                return None
            cch, flags = rgce[i], rgce[i + 1]
            i += 2
            raw = rgce[i: i + cch * (2 if flags & 1 else 1)]
            return raw.decode("utf-16-le" if flags & 1 else "latin-1", "replace")
        if ptg == 0x19:  # ptgAttr: flags, data; tAttrChoose carries a jump table
            if i + 3 > n:
                return None
            flags = rgce[i]
            count = struct.unpack_from("<H", rgce, i + 1)[0]
            i += 3 + (2 * (count + 1) if flags & 0x04 else 0)
            continue
        if ptg < 0x20:
            size = _PTG_SIZES.get(ptg)
        else:
            size = _PTG_CLASSED.get(ptg & 0x1F)
        if size is None:
            return None  # a token this scan does not know: no literal claimed
        i += size
    return None


def _formula_records(stream: bytes) -> tuple[dict[int, dict[tuple[int, int], tuple[str, Any]]], int, bool]:
    """Per worksheet stream offset: (row, col) → (result kind, literal); the number of cells;
    whether the workbook is encrypted (a FILEPASS record in the globals)."""
    sheets: dict[int, dict[tuple[int, int], tuple[str, Any]]] = {}
    cells = 0
    stack: list[dict[tuple[int, int], tuple[str, Any]] | None] = []  # substreams nest (a chart in a sheet)
    current: dict[tuple[int, int], tuple[str, Any]] | None = None
    pending: tuple[int, int] | None = None
    seen_globals = False
    for pos, rtype, body in _records(stream):
        if rtype == BOF:
            # the first substream holds the workbook's globals; each later one is a sheet
            stack.append(sheets.setdefault(pos, {}) if seen_globals else None)
            seen_globals = True
            current, pending = stack[-1], None
            continue
        if rtype == EOF:
            if stack:
                stack.pop()
            current, pending = (stack[-1] if stack else None), None
            continue
        if current is None:
            if rtype == FILEPASS and len(stack) == 1:
                return sheets, cells, True
            continue
        if rtype in _CELL_RECORDS:
            cells += 1
        elif rtype in _MULTI_RECORDS and len(body) >= 6:
            cells += max((len(body) - 6) // (6 if rtype == 0x00BD else 2), 0)
        if cells > MAX_CELLS:
            raise FileProblem("E-FILE-UNSAFE", f"工作簿含有超过 {MAX_CELLS:,} 个单元格，远超正常的自评表，已拒绝读取。"
                                               "请删除多余内容后另存为 .xlsx 再提交。")
        if rtype == STRING and pending is not None and current is not None:
            current[pending] = ("text", current[pending][1])
            pending = None
            continue
        if rtype in (0x04BC, 0x0221, 0x0236, 0x003C):  # SHRFMLA, ARRAY, TABLE, CONTINUE: before a STRING
            continue
        pending = None
        if rtype == FORMULA and current is not None and len(body) >= 22:
            row, col = struct.unpack_from("<HH", body, 0)
            result = body[6:14]
            literal = _first_literal(body[22:22 + struct.unpack_from("<H", body, 20)[0]])
            if result[6:8] == b"\xff\xff":
                kind = {0: "text", 1: "bool", 2: "error", 3: "empty"}.get(result[0], "other")
                if result[0] == 0:
                    kind, pending = "no-string", (row, col)  # a STRING record should follow
            else:
                kind = "zero" if result == bytes(8) else "number"
            current[(row, col)] = (kind, literal)
    return sheets, cells, False


def _style(book, xf, cache: dict[int, CellStyle | None], index: int) -> CellStyle | None:
    if index in cache:
        return cache[index]
    try:
        font = book.font_list[xf.font_index]
        colour = book.colour_map.get(font.colour_index)
        fill = None
        if xf.background.fill_pattern == 1:
            rgb = book.colour_map.get(xf.background.pattern_colour_index)
            fill = "{:02X}{:02X}{:02X}".format(*rgb) if rgb else None
        b = xf.border
        style = CellStyle(
            font_name=font.name or None, font_size=font.height / 20 if font.height else None,
            bold=font.weight >= 700, italic=bool(font.italic),
            color="{:02X}{:02X}{:02X}".format(*colour) if colour and colour != (0, 0, 0) else None, fill=fill,
            border=(b.left_line_style > 0, b.right_line_style > 0, b.top_line_style > 0, b.bottom_line_style > 0),
            horizontal={1: "left", 2: "center", 3: "right", 6: "center"}.get(xf.alignment.hor_align),
            vertical={0: "top", 1: "center", 2: "bottom"}.get(xf.alignment.vert_align),
            wrap=bool(xf.alignment.text_wrapped),
        )
    except (AttributeError, IndexError, KeyError, TypeError):
        style = None
    cache[index] = style
    return style


def read_xls(path: Path) -> WorkbookGrid:
    """The grid of an .xls/.et workbook. Raises FileProblem (corrupt, encrypted, unsafe)."""
    import xlrd
    from openpyxl.styles.numbers import is_date_format
    from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel
    from xlrd import compdoc

    try:
        size = path.stat().st_size
        if size > MAX_XLS_BYTES:
            raise FileProblem("E-FILE-UNSAFE", f"文件大小为 {size // (1024 * 1024)} MB，远超正常的自评表，已拒绝读取。"
                                               "请删除多余内容（如图片）后另存为 .xlsx 再提交。")
        data = path.read_bytes()
    except OSError as exc:
        raise FileProblem("E-FILE-IO", f"无法打开文件：{exc.strerror or exc}。请确认文件存在、未被其他程序占用。") from None
    log = io.StringIO()  # xlrd writes its warnings to a log file, never to our output
    try:
        doc = compdoc.CompDoc(data, logfile=log)
        stream = doc.get_named_stream("Workbook") or doc.get_named_stream("Book")
        if stream is None:
            raise FileProblem("E-FILE-FORMAT", "文件是 Office 复合文档，但其中没有 Excel 工作簿（可能是 Word 或其他文档）。"
                                               "请使用自评表模板填写，保存为 .xlsx 后再提交。")
        formulas, _cells, encrypted = _formula_records(bytes(stream))
        if encrypted:
            raise FileProblem(*ENCRYPTED)
        book = xlrd.open_workbook(file_contents=data, logfile=log, formatting_info=True, ragged_rows=True,
                                  on_demand=False)
    except FileProblem:
        raise
    except MemoryError:
        raise FileProblem("E-FILE-UNSAFE", "文件结构异常，读取时内存不足，已拒绝读取。请在 Excel/WPS 中另存为 .xlsx 后再提交。") from None
    except Exception as exc:  # noqa: BLE001 - xlrd raises many kinds on a damaged file
        if "encrypted" in str(exc).lower():
            raise FileProblem(*ENCRYPTED) from None
        raise FileProblem(*CORRUPT) from None
    try:
        return _grid(path, book, formulas, is_date_format, from_excel,
                     CALENDAR_MAC_1904 if book.datemode == 1 else CALENDAR_WINDOWS_1900)
    except FileProblem:
        raise
    except Exception:  # noqa: BLE001
        raise FileProblem(*CORRUPT) from None
    finally:
        book.release_resources()


def _grid(path, book, formulas, is_date_format, from_excel, epoch) -> WorkbookGrid:
    import xlrd

    grid = WorkbookGrid(path, "xls", "xlrd")
    styles: dict[int, CellStyle | None] = {}
    formats: dict[int, str] = {}
    for index, sh in enumerate(book.sheets()):
        # the sheet's BOF, as an offset in the Workbook stream (xlrd keeps it from BOUNDSHEET)
        own = formulas.get(book._sh_abs_posn[index] - book.base, {})  # noqa: SLF001
        sheet = SheetGrid(sh.name, state={0: "visible", 1: "hidden"}.get(sh.visibility, "veryHidden"))
        for r in range(sh.nrows):
            types, values = sh.row_types(r), sh.row_values(r)
            for c in range(len(types)):
                ctype, value = types[c], values[c]
                xf_index = sh.cell_xf_index(r, c)
                fmt = formats.get(xf_index)
                if fmt is None:
                    xf = book.xf_list[xf_index]
                    fmt_obj = book.format_map.get(xf.format_key)
                    fmt = fmt_obj.format_str if fmt_obj is not None and fmt_obj.format_str else "General"
                    formats[xf_index] = fmt
                style = _style(book, book.xf_list[xf_index], styles, xf_index)
                formula = own.get((r, c))
                if ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK) and formula is None:
                    if style is not None and (style.border != (False, False, False, False) or style.fill):
                        sheet.cells[(r + 1, c + 1)] = GridCell(None, fmt, style=style)
                    continue
                cell = GridCell(_value(ctype, value, fmt, is_date_format, from_excel, epoch), fmt, style=style)
                if formula is not None:
                    kind, literal = formula
                    cell.literal_text = literal or ""
                    cell.formula = ""  # a formula; xlrd cannot give its text
                    if kind == "zero" and literal:
                        cell.value, cell.missing_cache = None, True  # see the module's note
                    elif kind == "no-string":
                        cell.value, cell.missing_cache = None, True
                    elif kind == "empty":
                        cell.value = None
                sheet.cells[(r + 1, c + 1)] = cell
        for r1, r2, c1, c2 in sh.merged_cells:  # xlrd: rlo, rhi, clo, chi (exclusive ends)
            if r2 > r1 and c2 > c1 and (r2 - r1, c2 - c1) != (1, 1):
                sheet.merged.append((r1 + 1, c1 + 1, r2, c2))
        for c, info in sh.colinfo_map.items():
            if info.width and not info.hidden:
                sheet.col_widths[c + 1] = round(info.width / 256, 2)
        for r, info in sh.rowinfo_map.items():
            if info.height and not info.hidden and info.has_default_height == 0:
                sheet.row_heights[r + 1] = info.height / 20
        grid.sheets.append(sheet)
    return grid


def _value(ctype: int, value: Any, fmt: str, is_date_format, from_excel, epoch) -> Any:
    import xlrd

    if ctype == xlrd.XL_CELL_TEXT:
        return value
    if ctype in (xlrd.XL_CELL_NUMBER, xlrd.XL_CELL_DATE):
        if is_date_format(fmt):
            try:
                return from_excel(value, epoch)
            except (ValueError, OverflowError):
                return integral(float(value))
        return integral(float(value))
    if ctype == xlrd.XL_CELL_BOOLEAN:
        return bool(value)
    if ctype == xlrd.XL_CELL_ERROR:
        return xlrd.error_text_from_code.get(value, "#N/A")
    return None
