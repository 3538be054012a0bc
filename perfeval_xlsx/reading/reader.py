"""Find and read the 自评表 in a workbook by its labels, never by fixed positions.

Reads our own templates (with rows the unit inserted) and units' own copies of the Ministry
layout: title rows, columns in other places, merged group cells or group names written once,
no 指标性质/计量单位 columns (values folded as `≥800本`), spacer rows, other sheet names.
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

from openpyxl.utils.cell import column_index_from_string, coordinate_from_string, get_column_letter

from perfeval_xlsx.forms.model import Cell, Form, FundsLine, GroupLabel, Header, IndicatorRow
from perfeval_xlsx.reading.grid import SheetGrid, WorkbookGrid
from perfeval_xlsx.reading.mark import read_as_form, read_mark
from perfeval_xlsx.reading.safety import FileProblem, cached_formula_values, inspect_file
from perfeval_xlsx.reading.values import normalize_label, normalize_text
from perfeval_xlsx.vocab import OUTPUT_SHEETS
from perfeval_xlsx.reading.xlsx import sheet_from_openpyxl

LABEL_MAX = 40  # characters: a label longer than this is a sentence, not a label

HEADER_SYNONYMS = {
    "project": ("项目名称",),
    "department": ("主管部门", "主管部门及代码", "主管单位", "主管部门名称"),
    "unit": ("实施单位", "项目实施单位", "预算单位", "项目单位", "实施单位名称"),
    "year": ("年度", "评价年度", "预算年度", "项目年度", "所属年度", "自评年度"),
}
INDICATOR_SYNONYMS = {
    "level1": ("一级指标",),
    "level2": ("二级指标",),
    "level3": ("三级指标", "指标名称", "绩效指标名称"),
    "operator": ("指标性质", "计算符号", "性质", "符号", "指标方向", "比较符号", "运算符号"),
    "target": ("年度指标值", "年度目标值", "指标值", "年初目标值", "目标值", "预期指标值", "全年指标值", "年度目标"),
    "unit": ("计量单位", "度量单位", "单位", "指标单位"),
    "actual": ("实际完成值", "实际值", "完成值", "全年实际值", "全年完成值", "实际完成", "实际完成数"),
    "weight": ("分值", "权重", "指标分值", "权重分值", "标准分值", "分数"),
    "score": ("得分", "自评得分", "实际得分", "评分", "评价得分"),
    "reason": ("偏差原因分析及改进措施", "偏差原因分析及改进", "偏差原因", "原因分析", "偏差原因分析",
               "未完成原因分析", "偏差原因及改进措施", "未完成原因和改进措施"),
}
FUNDS_SYNONYMS = {
    "budget_initial": ("年初预算数", "年初预算"),
    "budget": ("全年预算数", "全年预算", "预算资金", "预算数", "年度预算数", "调整后预算数"),
    "received": ("实际到位资金", "到位资金", "资金到位数"),
    "spent": ("全年执行数", "实际支出资金", "执行数", "全年执行", "实际支出", "全年支出数"),
    "rate": ("执行率", "预算执行率", "资金执行率"),
    "weight": ("分值", "权重"),
    "score": ("得分",),
}
FUNDS_LINES = {
    "total": ("年度资金总额", "资金总额", "合计", "总额", "年度资金合计"),
    "appropriation": ("当年财政拨款", "本年财政拨款", "财政拨款", "财政资金"),
    "carryover": ("上年结转资金", "上年结转"),
    "other": ("其他资金", "其他"),
}
FOOTER_LABELS = ("总分", "合计", "总计", "总得分", "得分合计", "总分值")
GRADE_LABELS = ("评价等级", "自评等级", "等级", "绩效等级", "自评结果")
GOAL_LABELS = {"planned": ("预期目标", "年度预期目标"), "actual": ("实际完成情况", "年度实际完成情况", "实际完成目标")}
_PLACEHOLDER_RE = re.compile(r"^(指标\d*|…+|\.{2,}|—+|-+|\d+)$")
_DECLARED_WEIGHT_RE = re.compile(r"(\d+(?:\.\d+)?)分")
_YEAR_RE = re.compile(r"(20\d{2}|19\d{2})年度?")
_MONEY_UNIT_RE = re.compile(r"(?:资金|金额|预算|执行数|支出)[^()]{0,6}\((?:单位:)?(元|千元|万元|亿元)\)|单位:(元|千元|万元|亿元)")
ALL_LABELS = {normalize_label(s) for group in (HEADER_SYNONYMS, INDICATOR_SYNONYMS, FUNDS_SYNONYMS, FUNDS_LINES)
              for names in group.values() for s in names} | {"年度总体目标", "项目资金", "资金来源"} | set(FOOTER_LABELS) | set(GRADE_LABELS)


class FormNotFound(FileProblem):
    pass


@lru_cache(maxsize=None)
def _normalized(synonyms: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(normalize_label(s) for s in synonyms)


def _match(label: str, synonyms: Iterable[str], prefix: bool = True) -> bool:
    if not label:
        return False
    names = _normalized(tuple(synonyms))
    return label in names or (prefix and any(label.startswith(n) for n in names if len(n) >= 2))


class _Grid:
    """A sheet's grid as the form reader sees it: merged cells give their anchor's value,
    formulas their cached result, labels are normalised text."""

    def __init__(self, sheet: SheetGrid):
        self.sheet = sheet
        self.title = sheet.title
        self.anchor: dict[tuple[int, int], tuple[int, int]] = {}
        self.ranges: dict[tuple[int, int], tuple[int, int, int, int]] = {}
        for r1, c1, r2, c2 in sheet.clipped_merges():
            top = (r1, c1)
            self.ranges[top] = (r1, c1, r2, c2)
            for r in range(r1, r2 + 1):
                for c in range(c1, c2 + 1):
                    self.anchor[(r, c)] = top
        self.cells = sheet.cells  # only the cells that exist (a sheet may claim a million rows of formatting)
        self.labels: dict[int, dict[int, str]] = {}
        for (r, c), cell in self.cells.items():
            value = cell.value
            if cell.formula is not None or cell.missing_cache:  # (is_formula, inlined: every cell)
                text = value if isinstance(value, str) and not cell.missing_cache else cell.literal
                if text:
                    self.labels.setdefault(r, {})[c] = normalize_label(text)
            elif isinstance(value, str) and value.strip():
                if len(value) <= LABEL_MAX:  # long text (a reason, a goal) is never a label
                    self.labels.setdefault(r, {})[c] = normalize_label(value)

    def merged_end_col(self, r: int, c: int) -> int:
        top = self.anchor.get((r, c))
        return self.ranges[top][3] if top else c

    def is_merged_follower(self, r: int, c: int) -> bool:
        top = self.anchor.get((r, c))
        return top is not None and top != (r, c)

    def cell(self, r: int, c: int) -> Cell:
        ar, ac = self.anchor.get((r, c), (r, c))
        raw = self.cells.get((ar, ac))
        address = f"{get_column_letter(ac)}{ar}"
        if raw is None:
            return Cell(self.title, address, None)
        fmt = raw.number_format or "General"
        if raw.formula is not None or raw.missing_cache:  # (is_formula)
            if raw.missing_cache:
                return Cell(self.title, address, None, fmt, formula=True, missing_cache=True)
            return Cell(self.title, address, raw.value if raw.value != "" else None, fmt, formula=True)
        return Cell(self.title, address, raw.value, fmt)

    def follower(self, r: int, c: int) -> Cell:
        """A blank cell inside a merged range, naming the cell that holds the range's value."""
        ar, ac = self.anchor[(r, c)]
        return Cell(self.title, f"{get_column_letter(c)}{r}", None, merged_into=f"{get_column_letter(ac)}{ar}")

    def literal(self, address: str) -> str:
        """The first text literal of the formula in `address` (a group label computed by a formula)."""
        col, row = coordinate_from_string(address)
        raw = self.cells.get((row, column_index_from_string(col)))
        return raw.literal if raw is not None else ""

    def label(self, r: int, c: int) -> str:
        ar, ac = self.anchor.get((r, c), (r, c))
        return self.labels.get(ar, {}).get(ac, "")

    def find(self, synonyms: Iterable[str], rows: range | None = None, prefix: bool = False) -> list[tuple[int, int]]:
        names = list(synonyms)
        hits = []
        for r in sorted(self.labels):
            if rows is not None and r not in rows:
                continue
            for c in sorted(self.labels[r]):
                if _match(self.labels[r][c], names, prefix):
                    hits.append((r, c))
        return hits

    @property
    def max_row(self) -> int:
        return self.sheet.max_row

    @property
    def max_col(self) -> int:
        return self.sheet.max_col


def _indicator_header_row(grid: _Grid) -> int | None:
    for r in sorted(grid.labels):
        labels = list(grid.labels[r].values())
        has = lambda key: any(_match(l, INDICATOR_SYNONYMS[key], prefix=False) for l in labels)  # noqa: E731
        if has("weight") and (has("target") or has("actual")) and (has("level3") or has("level2")):
            return r
    return None


def _columns(grid: _Grid, row: int, synonyms: dict[str, tuple[str, ...]], below: bool = True) -> dict[str, int]:
    """Field → column of a header row: exact labels first, then labels that start with one."""
    columns: dict[str, int] = {}
    rows = [row, row + 1] if below else [row]
    for strict in (True, False):
        for r in rows:
            for c in sorted(grid.labels.get(r, {})):
                if grid.is_merged_follower(r, c):
                    continue
                label = grid.labels[r][c]
                for key, names in synonyms.items():
                    if key in columns or c in columns.values():
                        continue
                    if _match(label, names, prefix=not strict):
                        columns[key] = c
                        break
        if r == row + 1 and not below:
            break
    return columns


HUGE_MERGE_CELLS = 10_000  # a merged range over more cells than this is cut to the used area


def _clip_huge_merges(path: Path):
    """The workbook's bytes with every merged range over more than HUGE_MERGE_CELLS cells cut to
    its sheet's used area (plus a row and a column), or None when there is none. openpyxl makes an
    object for every cell a range covers: `K1:XFD1048576` would take minutes and gigabytes; cut,
    it looks the same (the cells beyond the used area are empty)."""
    import io
    import re
    import zipfile

    from openpyxl.utils.cell import range_boundaries

    merge = re.compile(rb'<mergeCell ref="([A-Z]{1,3}\d{1,7}):([A-Z]{1,3}\d{1,7})"\s*/>')
    cell = re.compile(rb'<c r="([A-Z]{1,3})(\d{1,7})"')
    with zipfile.ZipFile(path) as zf:
        members = [(info, zf.read(info.filename)) for info in zf.infolist()]
    changed = False
    out = []
    for info, body in members:
        if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml") and b"<mergeCell " in body:
            def huge(m) -> bool:
                c1, r1, c2, r2 = range_boundaries(f"{m.group(1).decode()}:{m.group(2).decode()}")
                return (r2 - r1 + 1) * (c2 - c1 + 1) > HUGE_MERGE_CELLS
            if any(huge(m) for m in merge.finditer(body)):
                from openpyxl.utils import column_index_from_string, get_column_letter

                used = [(int(m.group(2)), column_index_from_string(m.group(1).decode())) for m in cell.finditer(body)]
                last_row = max((r for r, _ in used), default=1) + 1
                last_col = max((c for _, c in used), default=1) + 1

                def clip(m):
                    if not huge(m):
                        return m.group(0)
                    c1, r1, c2, r2 = range_boundaries(f"{m.group(1).decode()}:{m.group(2).decode()}")
                    r2, c2 = max(r1, min(r2, last_row)), max(c1, min(c2, last_col))
                    return f'<mergeCell ref="{m.group(1).decode()}:{get_column_letter(c2)}{r2}"/>'.encode()
                body = merge.sub(clip, body)
                changed = True
        out.append((info, body))
    if not changed:
        return None
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for info, body in out:
            zf.writestr(info, body)
    buffer.seek(0)
    return buffer


def open_workbook(path: Path, keep_vba: bool = False):
    """Load a workbook that passed `inspect_file`; problems become FileProblem."""
    from openpyxl.reader.excel import ExcelReader

    try:
        source = _clip_huge_merges(path) or path
        # (load_workbook's own two steps: a read that fails leaves the reader's archives open,
        # and the VBA copy's finaliser would print a traceback later; they are closed here)
        reader = ExcelReader(source, read_only=False, keep_vba=keep_vba, data_only=False, keep_links=False)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                reader.read()
        except BaseException:
            _close_archives(reader)
            raise
        return reader.wb
    except FileProblem:
        raise
    except Exception as exc:  # noqa: BLE001 - any parser failure is a damaged file to the user
        name = type(exc).__name__
        if "Entities" in name or "DTD" in name or "Forbidden" in name:
            raise FileProblem("E-FILE-UNSAFE", "文件含有 XML 实体声明，已拒绝读取。请在 Excel/WPS 中另存为新的 .xlsx 后再提交。") from None
        raise FileProblem("E-FILE-CORRUPT", f"文件内容无法解析（{name}），可能已损坏。请在 Excel/WPS 中打开并重新保存为 .xlsx 后再提交。") from None


def _close_archives(reader) -> None:
    for archive in (getattr(getattr(reader, "wb", None), "vba_archive", None), getattr(reader, "archive", None)):
        if archive is not None:
            try:
                archive.close()
            except Exception:  # noqa: BLE001 - half-written: nothing more to do with it
                pass


#: the form reader's view of a sheet choose_sheet has just looked at, taken once by read_sheet
_GRIDS: dict[int, tuple[SheetGrid, Any]] = {}


def _as_grid(sheet) -> SheetGrid:
    return sheet if isinstance(sheet, SheetGrid) else sheet_from_openpyxl(sheet)


def choose_sheet(sheets) -> Any:
    """The one sheet holding the form, among a workbook's sheets (openpyxl worksheets or
    SheetGrids; an openpyxl Workbook is taken as its worksheets)."""
    sheets = list(getattr(sheets, "worksheets", sheets))
    candidates = []
    for sheet in sheets:
        if sheet.title in OUTPUT_SHEETS:
            continue
        grid = _Grid(_as_grid(sheet))
        if _indicator_header_row(grid) is not None:
            candidates.append(sheet)
            if isinstance(sheet, SheetGrid):
                _GRIDS[id(sheet)] = (sheet, grid)  # for read_sheet, next (built once)
    visible = [s for s in candidates if _state(s) == "visible"]
    if len(visible) >= 1:
        candidates = visible
    if not candidates:
        names = "、".join(s.title for s in sheets)
        raise FormNotFound("E-NO-FORM", f"工作簿的工作表（{names}）中都找不到绩效指标表（表头应有“三级指标”“年度指标值”“实际完成值”“分值”等栏目）。请使用自评表模板填写，或检查表头文字是否被改动。")
    if len(candidates) > 1:
        names = "、".join(f"“{s.title}”" for s in candidates)
        raise FormNotFound("E-MANY-FORMS", f"工作表 {names} 都像自评表，无法确定读取哪一张。一个文件只能提交一个项目：请把其余项目另存为单独的文件，或删除多余的工作表。")
    return candidates[0]


def _state(sheet) -> str:
    return sheet.state if isinstance(sheet, SheetGrid) else sheet.sheet_state


@dataclass
class Loaded:
    """A workbook as read: its real format, the form, and what the scored copy is written
    from — the openpyxl workbook (.xlsx/.xlsm) or the grid (other formats)."""

    kind: str  # xlsx | xls | ods
    form: Form
    workbook: Any = None
    grid: WorkbookGrid | None = None
    sheet: Any = None  # the form's sheet: an openpyxl worksheet or a SheetGrid

    def reread(self, values: dict[str, Any]) -> None:
        """Read the form again with these formula results (A1 address → value) filled in."""
        if isinstance(self.sheet, SheetGrid):
            for address, value in values.items():
                col, row = coordinate_from_string(address)
                cell = self.sheet.cells.get((row, column_index_from_string(col)))
                if cell is not None:
                    cell.value, cell.missing_cache = value, False
            self.form = read_grid_form(self.grid, self.sheet)
        else:
            cached = {**self.form.cached_values, **values}
            self.form = read_sheet(self.sheet, cached, self.form.path)


def load(path: str | Path, keep_vba: bool = False, workbook: bool = True) -> Loaded:
    """Tell the file's format by its bytes, check it is safe, and read its form from the grid.
    `workbook`: also load an .xlsx/.xlsm with openpyxl (to write a scored copy from it); the
    form is read from the sheet XML either way (xlsx_xml), openpyxl being the fallback reader."""
    path = Path(path)
    kind = inspect_file(path)
    if kind != "xlsx":
        grid = read_grid(path, kind)
        sheet = choose_sheet(grid.sheets)
        return Loaded(kind, read_grid_form(grid, sheet), grid=grid, sheet=sheet)
    from perfeval_xlsx.reading.xlsx_xml import read_xlsx

    try:
        grid = read_xlsx(path)
    except FileProblem as problem:
        if problem.code != "E-FILE-CORRUPT":
            raise
        grid = None  # something our XML reader does not follow: openpyxl reads it
    # cheap: docProps/custom.xml and the sheet names only
    mark = read_mark(path if grid is None else io.BytesIO(grid.data))
    if grid is not None:
        grid.mark = mark
    if grid is None or (mark is not None and mark.is_output):
        # openpyxl reads what our XML reader does not follow, and our own outputs: a roll-up is
        # refused, a scored copy gives back the unit's own form (reading.mark)
        wb = open_workbook(path, keep_vba=keep_vba)
        restored = read_as_form(wb)
        ws = choose_sheet(wb)
        try:
            cached = cached_formula_values(path, ws.title)
        except Exception:  # noqa: BLE001 - no cached values: formulas will be reported
            cached = {}
        cached.update(restored)
        return Loaded(kind, read_sheet(ws, cached, str(path)), workbook=wb, sheet=ws)
    sheet = choose_sheet(grid.sheets)
    loaded = Loaded(kind, read_grid_form(grid, sheet), grid=grid, sheet=sheet)
    if workbook:
        loaded.workbook = open_workbook(path, keep_vba=keep_vba)
        read_as_form(loaded.workbook)  # records for the writer whose form this is (no mark here)
    return loaded


def load_form(path: str | Path, keep_vba: bool = False):
    """Load the workbook and read its form: (workbook, Form). The workbook is loaded once,
    with formulas kept, so that the scored copy can be written from it (openpyxl, for
    .xlsx/.xlsm); for any other format it is None (see `load`)."""
    loaded = load(path, keep_vba)
    return loaded.workbook, loaded.form


def read_grid(path: Path, kind: str) -> WorkbookGrid:
    """The grid of a workbook whose real format (`inspect_file`) is `kind`."""
    if kind == "xls":
        from perfeval_xlsx.reading.xls import read_xls

        return read_xls(path)
    if kind == "ods":
        from perfeval_xlsx.reading.ods import read_ods

        return read_ods(path)
    raise ValueError(kind)


def read_grid_form(grid: WorkbookGrid, sheet: SheetGrid | None = None) -> Form:
    """The form in a workbook's grid (in `sheet`, when the sheet is chosen already)."""
    sheet = sheet or choose_sheet(grid.sheets)
    form = read_sheet(sheet, path=str(grid.path))
    form.cached_values = {address: cell.value for address, cell in sheet.formula_cells() if not cell.missing_cache}
    return form


def read_form(path: str | Path) -> Form:
    """Read the form in `path`. Raises FileProblem (with a Chinese message) when it cannot."""
    return load_form(path)[1]


def read_sheet(ws, cached: dict[str, Any] | None = None, path: str = "") -> Form:
    """The form in one sheet: a SheetGrid, or an openpyxl worksheet with its formulas' cached
    results (`cached`: A1 address → value)."""
    sheet = ws if isinstance(ws, SheetGrid) else sheet_from_openpyxl(ws, cached)
    known = _GRIDS.pop(id(sheet), None)
    _GRIDS.clear()
    grid = known[1] if known is not None and known[0] is sheet else _Grid(sheet)
    header_row = _indicator_header_row(grid)
    if header_row is None:
        raise FormNotFound("E-NO-FORM", f"工作表“{sheet.title}”中找不到绩效指标表。")
    columns = _columns(grid, header_row, INDICATOR_SYNONYMS)
    form = _FormReader(grid, header_row, columns, path).read()
    form.cached_values = dict(cached or {})
    return form


@dataclass
class _FormReader:
    grid: _Grid
    header_row: int
    columns: dict[str, int]
    path: str

    def read(self) -> Form:
        g = self.grid
        footer = self._footer_row()
        funds_header = self._funds_header_row()
        funds, funds_kind = self._funds(funds_header)
        indicators, groups = self._indicators(footer)
        kind = "framework" if funds_kind == "framework" or any(
            normalize_label(x.name).removeprefix("项目").rstrip("指标") in ("决策", "过程") for x in groups) else "mof-2020"
        form = Form(
            path=self.path, sheet=g.title, kind=kind, header=self._header(funds_header),
            funds=funds, goals=self._goals(), indicators=indicators, groups=groups,
            columns={k: get_column_letter(c) for k, c in self.columns.items()}, total_row=footer,
            header_row=self.header_row,
        )
        form.money_unit, form.money_unit_cell = self._money_unit(funds_header, funds)
        if footer is not None:
            if "weight" in self.columns:
                form.total_weight = g.cell(footer, self.columns["weight"])
            form.total_score = self._footer_score(footer)
            grade_hits = g.find(GRADE_LABELS, rows=range(footer, footer + 6))
            if grade_hits:
                form.grade = self._right_value(*grade_hits[0])
        return form

    # -- header ----------------------------------------------------------------------
    def _right_value(self, r: int, c: int) -> Cell | None:
        """The input cell right of a label (past the label's merged range). An unmerged blank
        cell or two between label and value are passed over; the next label ends the search,
        and a value that is not there is reported at the first cell right of the label."""
        g = self.grid
        first = g.merged_end_col(r, c) + 1
        nc = first
        for _ in range(4):
            if nc > g.max_col:
                break
            if g.label(r, nc) in ALL_LABELS:
                break
            cell = g.cell(r, nc)
            if not cell.blank or cell.missing_cache or g.anchor.get((r, nc)):
                return cell
            nc += 1
        return Cell(g.title, g.cell(r, first).address, None)

    def _header(self, funds_header: int | None) -> Header:
        g = self.grid
        top = funds_header or self.header_row
        header = Header()
        for key, names in HEADER_SYNONYMS.items():
            hits = g.find(names, rows=range(1, top))
            if not hits:
                # `项目名称：XXX` written in one cell
                for r, row in g.labels.items():
                    if r >= top:
                        continue
                    for c, text in row.items():
                        for name in names:
                            if key != "year" and text.startswith(normalize_label(name)) and len(text) > len(name) + 1:
                                raw = str(g.cell(r, c).value)
                                value = re.split(r"[:：]", raw, maxsplit=1)[-1].strip()
                                setattr(header, key, Cell(g.title, g.cell(r, c).address, value))
                                header.labels[key] = g.cell(r, c).address
                continue
            r, c = hits[0]
            header.labels[key] = g.cell(r, c).address
            setattr(header, key, self._right_value(r, c))
        header.year_value = self._year(header, top)
        return header

    def _year(self, header: Header, top: int) -> int | None:
        cell = header.year
        if cell is not None and not cell.blank:
            text = normalize_text(cell.value)
            m = re.match(r"^(\d{4})(?:\.0)?年?度?$", text)
            if m and 1990 <= int(m.group(1)) <= 2100:
                return int(m.group(1))
        for r in sorted(self.grid.labels):
            if r >= top:
                break
            for c in sorted(self.grid.labels[r]):
                raw = self.grid.cell(r, c).value
                m = _YEAR_RE.search(normalize_text(raw)) if isinstance(raw, str) else None
                if m and "年度" in normalize_text(raw):
                    if header.year is None or header.year.blank:
                        header.year = Cell(self.grid.title, self.grid.cell(r, c).address, raw)
                    return int(m.group(1))
        return None

    # -- funds -----------------------------------------------------------------------
    def _funds_header_row(self) -> int | None:
        hits = self.grid.find(FUNDS_SYNONYMS["budget"], rows=range(1, self.header_row))
        return hits[0][0] if hits else None

    def _funds(self, row: int | None) -> tuple[list[FundsLine], str]:
        if row is None:
            return [], "mof-2020"
        g = self.grid
        cols = _columns(g, row, FUNDS_SYNONYMS, below=False)
        kind = "framework" if "received" in cols else "mof-2020"
        first_amount = min(cols.values()) if cols else 1
        lines: list[FundsLine] = []
        seen: set[str] = set()
        for r in range(row + 1, self.header_row):
            key = label = None
            for c in range(1, first_amount):
                text = g.label(r, c)
                text = re.sub(r"^其中[:：]?", "", text)
                for k, names in FUNDS_LINES.items():
                    if k not in seen and _match(text, names, prefix=False):
                        key, label = k, str(g.cell(r, c).value).strip()
                        break
                if key:
                    break
            if key is None:
                if lines and any(_match(g.label(r, c), ("年度总体目标", "预期目标"), prefix=True) for c in range(1, first_amount + 1)):
                    break
                continue
            seen.add(key)
            lines.append(self._funds_line(key, label, r, cols))
        if not lines and cols and row + 1 < self.header_row:
            # labels in one row and the amounts in the row below, no 年度资金总额 line (framework forms)
            below = row + 1 + (g.ranges[g.anchor[(row, first_amount)]][2] - row if g.anchor.get((row, first_amount)) else 0)
            if any(isinstance(g.cell(below, c).value, (int, float)) or g.cell(below, c).formula for c in cols.values()):
                lines.append(self._funds_line("total", "项目资金", below, cols))
        return lines, kind

    def _funds_line(self, key: str, label: str, r: int, cols: dict[str, int]) -> FundsLine:
        g = self.grid
        line = FundsLine(key=key, label=label, row=r)
        for field_name, c in cols.items():
            # two amounts merged into one cell: the value belongs to the first only
            setattr(line, field_name, g.follower(r, c) if g.is_merged_follower(r, c) else g.cell(r, c))
        return line

    def _money_unit(self, row: int | None, funds: list[FundsLine]) -> tuple[str, Cell | None]:
        """The unit the funds block states (`项目资金（元）`, `单位：元`); 万元 when none."""
        if row is None:
            return "万元", None
        g = self.grid
        last = max((ln.row for ln in funds), default=row)
        for r in range(max(1, row - 1), last + 1):
            for c in sorted(g.labels.get(r, {})):
                raw = g.cell(r, c).value
                m = _MONEY_UNIT_RE.search(normalize_text(raw)) if isinstance(raw, str) else None
                if m:
                    return m.group(1) or m.group(2), g.cell(r, c)
        return "万元", None

    def _goals(self) -> dict[str, Cell | None]:
        g = self.grid
        goals: dict[str, Cell | None] = {"planned": None, "actual": None}
        anchor = g.find(("年度总体目标", "总体目标"), rows=range(1, self.header_row))
        if not anchor:
            return goals
        r0 = anchor[0][0]
        for key, names in GOAL_LABELS.items():
            hits = g.find(names, rows=range(r0, min(r0 + 3, self.header_row)))
            if hits:
                r, c = hits[0]
                below = r + 1
                top = g.anchor.get((r, c))
                if top:
                    below = g.ranges[top][2] + 1
                goals[key] = g.cell(below, c)
        return goals

    # -- indicators ------------------------------------------------------------------
    def _footer_row(self) -> int | None:
        g = self.grid
        for r in sorted(g.labels):
            if r <= self.header_row:
                continue
            for c, text in g.labels[r].items():
                if text in FOOTER_LABELS or (text.startswith("总分") and len(text) <= 6):
                    return r
        return None

    def _footer_score(self, footer: int) -> Cell | None:
        g = self.grid
        if "score" in self.columns:
            return g.cell(footer, self.columns["score"])  # blank: the scored copy fills it in
        return None

    def _indicators(self, footer: int | None) -> tuple[list[IndicatorRow], list[GroupLabel]]:
        g, cols = self.grid, self.columns
        end = footer if footer is not None else g.max_row + 1
        rows: list[IndicatorRow] = []
        groups: list[GroupLabel] = []
        last = {"level1": "", "level2": ""}

        def at(r: int, key: str) -> Cell | None:
            if key not in cols:
                return None
            if key != "reason" and g.is_merged_follower(r, cols[key]):
                # a number merged over several cells belongs to its first cell only (a 偏差原因
                # merged over several rows is shared by them)
                return g.follower(r, cols[key])
            return g.cell(r, cols[key])

        for r in range(self.header_row + 1, end):
            if r == self.header_row + 1 and self._is_second_header_row(r):
                continue
            for key in ("level1", "level2"):
                cell = g.cell(r, cols[key]) if key in cols else None
                if cell is not None and cell.missing_cache:
                    # a group label computed by a formula (our template), saved without its result
                    label = g.literal(cell.address)
                    cell = Cell(cell.sheet, cell.address, label or None)
                if cell is None or cell.blank:
                    continue  # written once above for several rows (merged or not)
                text = str(cell.value)
                if key == "level1" and _group_name(text) != _group_name(last["level1"]):
                    last["level2"] = ""  # a new 一级: the 二级 of the group above does not carry over
                    groups.append(GroupLabel(_group_name(text), _declared_weight(text), cell))
                last[key] = text
            level3, target, actual = at(r, "level3"), at(r, "target"), at(r, "actual")
            weight, score = at(r, "weight"), at(r, "score")
            values = [c for c in (target, actual, weight, score) if c is not None]
            has_values = any(not c.blank or c.missing_cache for c in values)
            name = normalize_label(level3.value) if level3 is not None and not level3.blank else ""
            if not has_values and (not name or _PLACEHOLDER_RE.match(name)):
                continue  # blank, spacer, placeholder or group-header row
            empty = Cell(g.title, "", None)
            rows.append(IndicatorRow(
                row=r, level1=_group_name(last["level1"]), level2=normalize_label(last["level2"]),
                level3=level3 or Cell(g.title, f"A{r}", None), target=target or empty, actual=actual or empty,
                weight=weight or empty, operator=at(r, "operator"), unit=at(r, "unit"),
                score=score, reason=at(r, "reason"),
            ))
            if groups:
                groups[-1].rows.append(r)
        return rows, groups

    def _is_second_header_row(self, r: int) -> bool:
        labels = self.grid.labels.get(r, {}).values()
        return sum(1 for l in labels if any(_match(l, names, prefix=False) for names in INDICATOR_SYNONYMS.values())) >= 2


@lru_cache(maxsize=4096)
def _group_name(text: str) -> str:
    return _GROUP_POINTS_RE.sub("", normalize_label(text))


_GROUP_POINTS_RE = re.compile(r"\d+(?:\.\d+)?分$")  # `产出指标50分` → 产出指标


def _declared_weight(text: str) -> float | None:
    m = _DECLARED_WEIGHT_RE.search(normalize_text(text))
    return float(m.group(1)) if m else None
