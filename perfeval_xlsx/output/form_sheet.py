"""What the scored copy changes in the unit's own form sheet, decided once for both writers.

`mark_form` writes the scores as values, keeps the unit's differing 得分 in a 原填自评得分
column, highlights problem cells with a comment, adds the colour legend, makes rows tall enough
for their text and breaks pages between groups. It works on a `FormSheet`: the patching writer
(output.xlsx_patch) and the openpyxl writer (output.openpyxl_sheets) each give one.

The printed form adds up: where no score can be computed the unit's own figure moves to the
原填自评得分 column, as where it differs from ours. Every value changed is remembered with what
the unit had there (`FormSheet.originals`), so that reading the copy again gives the unit's form.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Iterator

from openpyxl.utils.cell import column_index_from_string, coordinate_from_string, get_column_letter

from perfeval_xlsx.check import CheckResult
from perfeval_xlsx.numbers import as_float as _num
from perfeval_xlsx.numbers import differs, format_number
from perfeval_xlsx.output.looks import (
    COMMENT_WIDTH,
    GREY_TEXT,
    HEADER,
    PERCENT_FORMAT,
    SCORE_FORMAT,
    AlignLook,
    FontLook,
    Look,
    comment_height,
    legend_cells,
)
from perfeval_xlsx.output.pagination import Block, column_points, group_blocks, page_capacity, row_breaks, with_footer
from perfeval_xlsx.output.textfit import line_height, lines_needed
from perfeval_xlsx.rules.findings import SEVERITY_LABEL, SEVERITY_ORDER

SELF_SCORE_HEADER = "原填自评得分"


@dataclass
class PageInfo:
    paper: int | None = None
    landscape: bool = False
    fit_to_page: bool = False
    fit_height: Any = None  # pages tall when fitted (0: as many as needed)
    scale: float | None = None
    margins: tuple[float, float, float, float] = (0.7, 0.7, 0.75, 0.75)  # left, right, top, bottom (in)


class FormSheet(ABC):
    """The unit's form sheet as a writer gives it: read what is there, change what we change."""

    title: str
    merged: list[tuple[int, int, int, int]]  # min_row, min_col, max_row, max_col

    def __init__(self) -> None:
        self.originals: dict[str, Any] = {}  # A1 → what the unit had (a value, or a formula record)

    # ---------------------------------------------------------------- reading
    @abstractmethod
    def value(self, row: int, col: int) -> Any: ...

    @abstractmethod
    def values(self) -> Iterator[tuple[int, int, Any]]:
        """(row, column, value) of every cell that exists."""

    @abstractmethod
    def text_look(self, row: int, col: int) -> tuple[bool, bool, bool, float]:
        """(wraps, shrinks to fit, rotated, font size) of a cell."""

    @abstractmethod
    def column_widths(self, upto: int) -> list[float]:
        """Widths (character units) of columns 1..upto; index 0 unused."""

    @abstractmethod
    def row_heights(self, rows) -> dict[int, float]: ...

    @abstractmethod
    def column_width(self, col: str) -> float | None: ...

    @abstractmethod
    def print_area(self) -> list[str]: ...

    @abstractmethod
    def print_title_rows(self) -> str | None: ...

    @abstractmethod
    def has_row_breaks(self) -> bool: ...

    @abstractmethod
    def page(self) -> PageInfo: ...

    # ---------------------------------------------------------------- writing
    @abstractmethod
    def put(self, row: int, col: int, value: Any, number_format: str | None) -> None:
        """Set a cell's value (and number format), keeping its style."""

    @abstractmethod
    def restyle(self, row: int, col: int, look: Look) -> None:
        """Replace the parts of the cell's style that `look` gives."""

    @abstractmethod
    def comment(self, row: int, col: int, text: str, width: int, height: int) -> None: ...

    @abstractmethod
    def set_row_height(self, row: int, height: float) -> None: ...

    @abstractmethod
    def set_column_width(self, col: str, width: float) -> None: ...

    @abstractmethod
    def set_print_area(self, ranges: list[str]) -> None: ...

    @abstractmethod
    def set_print_title_rows(self, rows: str) -> None: ...

    @abstractmethod
    def set_row_breaks(self, rows: list[int]) -> None: ...

    # ---------------------------------------------------------------- shared
    def _span(self, row: int, col: int) -> tuple[int, int, int, int] | None:
        cover = self.__dict__.get("_cover")
        if cover is None:  # every cell a merged range covers → the range (the first one given wins)
            cover = self._cover = {}
            for rng in reversed(self.merged):
                r1, c1, r2, c2 = rng
                if (r2 - r1 + 1) * (c2 - c1 + 1) > 100_000:
                    cover = self._cover = False
                    break
                for r in range(r1, r2 + 1):
                    for c in range(c1, c2 + 1):
                        cover[(r, c)] = rng
        if cover is False:  # (ranges too large to list: looked through)
            return next((rng for rng in self.merged if rng[0] <= row <= rng[2] and rng[1] <= col <= rng[3]), None)
        return cover.get((row, col))

    def is_follower(self, row: int, col: int) -> bool:
        """A cell covered by a merged range other than its top-left one."""
        rng = self._span(row, col)
        return rng is not None and (rng[0], rng[1]) != (row, col)

    def anchor(self, address: str) -> tuple[int, int] | None:
        """The cell a value at `address` goes into: the top-left of its merged range; None inside
        overlapping merges (left as the unit has it)."""
        col, row = coordinate_from_string(address)
        r, c = row, column_index_from_string(col)
        rng = self._span(r, c)
        if rng is not None and (rng[0], rng[1]) != (r, c):
            r, c = rng[0], rng[1]
            if self.is_follower(r, c):
                return None
        return (r, c) if self.writable(r, c) else None

    def writable(self, row: int, col: int) -> bool:
        """Whether a value can go into this cell (a writer may know of merges the ranges do not say)."""
        return True

    def set(self, address: str, value: Any, number_format: str | None = None) -> tuple[int, int] | None:
        """Write a value, remembering what the unit had there; returns the cell written."""
        if not address:
            return None
        at = self.anchor(address)
        if at is None:
            return None
        self.originals.setdefault(f"{get_column_letter(at[1])}{at[0]}", self.value(*at))
        self.put(at[0], at[1], value, number_format)
        return at


def _has_value(cell) -> bool:
    return cell is not None and cell.value not in (None, "")


# --------------------------------------------------------------------------- scores


def fill_form(sheet: FormSheet, result: CheckResult) -> None:
    form, s, v = result.form, result.score, result.validated
    ex = v.execution
    tolerance = v.profile.self_score_tolerance  # the one W-SELF-SCORE uses: kept ⇔ flagged
    moved: list[tuple[int, Any]] = []  # (row, the unit's own 得分) shown in 原填自评得分
    if ex.rate_cell is not None and s.execution_rate is not None and ex.weight is not None:
        sheet.set(ex.rate_cell.address, s.execution_rate / 100, PERCENT_FORMAT)
    if ex.score_cell is not None and ex.weight is not None:
        if s.execution_score is not None:
            sheet.set(ex.score_cell.address, s.execution_score, SCORE_FORMAT)
            if ex.self_score is not None and differs(ex.self_score, s.execution_score, tolerance):
                moved.append((ex.score_cell.row, ex.self_score))
        elif _has_value(ex.score_cell):  # no score can be computed: the unit's figure is not ours
            moved.append((ex.score_cell.row, ex.score_cell.value))
            sheet.set(ex.score_cell.address, None)
    by_row = {r.row.row: r for r in v.rows}
    for r in s.records:
        cell = by_row[r.row].row.score
        if cell is None or not cell.address:
            continue
        score = _num(r.score)
        if score is None:
            if _has_value(cell):
                moved.append((r.row, cell.value))
                sheet.set(cell.address, None)
            continue
        sheet.set(cell.address, score, SCORE_FORMAT)
        self_score = _num(cell.value) if isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool) else None
        if self_score is not None and differs(self_score, score, tolerance):
            moved.append((r.row, self_score))
        elif self_score is None and _has_value(cell):  # a text such as “6分”
            moved.append((r.row, cell.value))
    if form.total_score is not None and s.total is not None:
        sheet.set(form.total_score.address, s.total, SCORE_FORMAT)
    if form.grade is not None and form.grade.address:
        sheet.set(form.grade.address, s.grade)
    if not form.columns:
        return
    last_col = max(column_index_from_string(c) for c in form.columns.values())
    col = get_column_letter(last_col + 1)
    notes: list[tuple[int, str]] = []
    if s.na_weight and form.total_row and s.total is not None:
        notes.append((form.total_row, f"不适用指标 {format_number(s.na_weight)} 分不计，总分已按其余 "
                                      f"{format_number(100 - s.na_weight)} 分折算为百分制"))
    if not moved and not notes:
        return
    # the unit's own 得分, kept visible in a column right of the table
    if form.header_row and moved:
        at = sheet.set(f"{col}{form.header_row}", SELF_SCORE_HEADER)
        if at is not None:  # (None: inside merges that cannot be resolved)
            sheet.restyle(*at, HEADER)
    for row, value in moved:
        at = sheet.set(f"{col}{row}", value)
        if at is not None:
            sheet.restyle(*at, Look(FontLook(color=GREY_TEXT), None, AlignLook("center", "center"), True))
    for row, text in notes:
        at = sheet.set(f"{col}{row}", text)
        if at is not None:
            sheet.restyle(*at, Look(FontLook(size=9, color=GREY_TEXT), None, AlignLook("left", "center", wrap=True)))
    width = sheet.column_width(col)
    wanted = 16 if notes else 13  # (13: as wide as a column Excel adds)
    if not width or width < wanted:
        sheet.set_column_width(col, wanted)
    _widen_print_area(sheet, last_col + 1)


def _print_ranges(sheet: FormSheet) -> list[str]:
    return [part.split("!")[-1].replace("$", "") for part in sheet.print_area()]


def _widen_print_area(sheet: FormSheet, last_col: int) -> None:
    """A print area that ends left of the new column is widened to show it."""
    ranges = _print_ranges(sheet)
    if not ranges:
        return
    out = []
    for ref in ranges:
        if ":" not in ref:
            out.append(ref)
            continue
        first, last = ref.split(":")
        col, row = coordinate_from_string(last)
        if column_index_from_string(col) < last_col:
            last = f"{get_column_letter(last_col)}{row}"
        out.append(f"{first}:{last}")
    sheet.set_print_area(out)


def _extend_print_area_rows(sheet: FormSheet, last_row: int) -> None:
    out = []
    for ref in _print_ranges(sheet):
        if ":" in ref:
            first, last = ref.split(":")
            col, row = coordinate_from_string(last)
            if row < last_row:
                last = f"{col}{last_row}"
            ref = f"{first}:{last}"
        out.append(ref)
    sheet.set_print_area(out)


# --------------------------------------------------------------------------- findings


def message_without_cell(f) -> str:
    """A finding's message without its leading ``H25：`` where the cell is shown beside it."""
    prefix = f"{f.cell}：" if f.cell else ""
    return f.message[len(prefix):] if prefix and f.message.startswith(prefix) else f.message


def finding_comments(result: CheckResult, sheet_title: str) -> list[tuple[str, str, str, int]]:
    """(address, worst severity, comment text, number of findings) per problem cell of a sheet."""
    by_cell: dict[str, list] = {}
    for f in result.findings:
        if f.cell and f.sheet == sheet_title:
            by_cell.setdefault(f.cell, []).append(f)
    out = []
    for address, findings in by_cell.items():
        worst = min(findings, key=lambda f: SEVERITY_ORDER[f.severity]).severity
        text = "\n".join(f"【{SEVERITY_LABEL[f.severity]}】{message_without_cell(f)}" for f in findings)
        out.append((address, worst, text, len(findings)))
    return out


def mark_findings(sheet: FormSheet, result: CheckResult) -> set[str]:
    """Fill problem cells by their worst finding (错误 red, 预警 orange, 提示 blue), with the
    messages in a comment. Returns the severities shown (for the legend)."""
    from perfeval_xlsx.output.looks import HIGHLIGHT

    shown: set[str] = set()
    for address, worst, text, count in finding_comments(result, sheet.title):
        try:
            col, row = coordinate_from_string(address)
            c = column_index_from_string(col)
        except ValueError:
            continue
        if sheet.is_follower(row, c) or not sheet.writable(row, c):
            continue
        if worst in HIGHLIGHT:
            sheet.restyle(row, c, Look(fill=HIGHLIGHT[worst]))
            shown.add(worst)
        sheet.comment(row, c, text, COMMENT_WIDTH, comment_height(text, count))
    return shown


def form_legend(sheet: FormSheet, result: CheckResult, severities: set[str]) -> int | None:
    """The legend two rows below the form's last row, inside the print area; returns its row."""
    if not severities:
        return None
    last = footer_last(result)
    used = [r for r, _c, value in sheet.values() if r > last and value not in (None, "")]
    row = (max(used) if used else last) + 2
    for col, (text, look) in enumerate(legend_cells(severities), 1):
        at = sheet.set(f"{get_column_letter(col)}{row}", text)
        if at is None:
            if col == 1:  # the row lies inside merges that cannot be resolved: no legend there
                break
            continue
        sheet.restyle(*at, look)
    if sheet.print_area():
        _extend_print_area_rows(sheet, row)
    return row


def footer_last(result: CheckResult) -> int:
    form = result.form
    return max([form.total_row or 0, form.grade.row if form.grade is not None else 0,
                *(r.row for r in form.indicators)])


# --------------------------------------------------------------------------- rows and pages


def fit_rows(sheet: FormSheet, last_row: int) -> dict[int, float]:
    """Make every row down to `last_row` tall enough for its wrapped text (rows only grow; a
    merged range shares what it needs over its rows). Returns the heights of rows 1..last_row."""
    # only text wraps: a number or a date never does (Excel shows ### in a cell too narrow)
    cells = [(r, c, v) for r, c, v in sheet.values() if r <= last_row and isinstance(v, str) and v]
    max_col = max((c for _r, c, _v in cells), default=1)
    widths = sheet.column_widths(max_col + 1)
    spans = {(r1, c1): (r1, c1, r2, c2) for r1, c1, r2, c2 in sheet.merged if r1 <= last_row}
    heights = sheet.row_heights(range(1, last_row + 1))
    needs: list[tuple[int, int, float]] = []  # (first row, last row, points)
    for r, c, text in cells:
        wrap, shrink, rotated, size = sheet.text_look(r, c)
        if not wrap or shrink or rotated:
            continue
        top, left, bottom, right = spans.get((r, c), (r, c, r, c))
        width = sum(widths[min(k, len(widths) - 1)] for k in range(left, right + 1))
        lines = lines_needed(text, width, size)
        if lines > 1:
            needs.append((top, min(bottom, last_row), lines * line_height(size) + 4))
    for top, bottom, need in sorted(needs, key=lambda n: n[1] - n[0]):  # single rows first
        have = sum(heights[k] for k in range(top, bottom + 1))
        if need > have + 0.5:
            extra = (need - have) / (bottom - top + 1)
            for k in range(top, bottom + 1):
                heights[k] = round(heights[k] + extra, 2)
                sheet.set_row_height(k, heights[k])
    return heights


def sheet_groups(sheet: FormSheet, form) -> list[Block]:
    """The 一级 groups of the form as printed (their merged label cells, blank rows included),
    each with its 二级 groups; the rows between two groups belong to the one above."""
    cols = {k: column_index_from_string(form.columns[k]) for k in ("level1", "level2") if k in form.columns}
    spans: dict[int, list[tuple[int, int]]] = {c: [] for c in cols.values()}
    for r1, c1, r2, _c2 in sheet.merged:
        if c1 in spans and r2 > r1:
            spans[c1].append((r1, r2))

    def span(key: str, row: int) -> tuple[int, int]:
        col = cols.get(key)
        return next(((a, b) for a, b in spans.get(col, []) if a <= row <= b), (row, row))

    tops: dict[tuple[int, int], set[tuple[int, int]]] = {}
    for ind in form.indicators:
        top = span("level1", ind.row)
        child = span("level2", ind.row)
        tops.setdefault(top, set()).add((max(child[0], top[0]), min(child[1], top[1])))
    if not tops:
        return group_blocks([(ind.row, ind.level1, ind.level2) for ind in form.indicators])
    blocks = [Block(a, b, [Block(x, y) for x, y in sorted(children)]) for (a, b), children in sorted(tops.items())]
    for block, after in zip(blocks, blocks[1:] + [None], strict=True):
        if after is not None and after.first > block.last + 1:
            block.last = after.first - 1  # blank rows (or a group left blank) go with the group above
        block.children[0].first = block.first
        for child, nxt in zip(block.children, block.children[1:] + [None], strict=True):
            child.last = nxt.first - 1 if nxt is not None else block.last
    return blocks


def paginate_form(sheet: FormSheet, result: CheckResult, heights: dict[int, float], last: int, ours: bool) -> None:
    """Print titles (the indicator header) and manual breaks between groups: no group printed
    apart from its label, the totals never alone on a page. A unit's own breaks are kept,
    except in our template, whose breaks were worked out for the blank form."""
    form = result.form
    if not form.header_row or not form.indicators or not form.columns:
        return
    if not sheet.print_title_rows():
        sheet.set_print_title_rows(f"{form.header_row}:{form.header_row}")
    if sheet.has_row_breaks() and not ours:
        return
    page = sheet.page()
    if page.fit_to_page and page.fit_height not in (0, "0"):  # fitted to a number of pages tall: no breaks
        sheet.set_row_breaks([])
        return
    last_col = max(column_index_from_string(c) for c in form.columns.values()) + 1
    widths = sheet.column_widths(last_col)
    sheet_width = sum(column_points(w) for w in widths[1:last_col + 1])
    capacity = page_capacity(paper=page.paper or 9, landscape=page.landscape, margins_in=page.margins,
                             sheet_width_pt=sheet_width, scale=None if page.fit_to_page else (page.scale or 100),
                             fit_width=page.fit_to_page)
    blocks = with_footer(sheet_groups(sheet, form), last)
    blocks[0].first = form.header_row
    titles = str(sheet.print_title_rows()).replace("$", "").split(":")
    try:
        title_rows = (int(titles[0]), int(titles[-1]))
    except ValueError:
        title_rows = (form.header_row, form.header_row)
    repeated = sum(heights.get(r, 15.0) for r in range(title_rows[0], title_rows[1] + 1))
    before = sum(heights.get(r, 15.0) for r in range(1, form.header_row))
    sheet.set_row_breaks(row_breaks(heights, blocks, capacity, before=before, repeated=repeated, title_rows=title_rows))


def mark_form(sheet: FormSheet, result: CheckResult, ours: bool) -> None:
    """Everything the scored copy does to the unit's form sheet, in order."""
    fill_form(sheet, result)
    severities = mark_findings(sheet, result)
    legend_row = form_legend(sheet, result, severities)
    form = result.form
    last = footer_last(result)
    heights = fit_rows(sheet, max(legend_row or 0, last, form.header_row or 0) + 1)
    if last:
        paginate_form(sheet, result, heights, legend_row or last, ours)

