"""How the scored copy looks, said once for both of its writers (the patching writer and openpyxl).

A `Look` is a cell's font, fill, alignment, border and number format as plain values; each
writer turns it into its own style records. In `FormSheet.restyle` a part left None keeps what
the unit's cell has; in a sheet the tool writes from scratch it means the workbook's default.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from perfeval_xlsx.rules.findings import ERROR, INFO, WARNING
from perfeval_xlsx.vocab import FONT, GRADES, PROVISIONAL, TITLE_FONT


@dataclass(frozen=True)
class FontLook:
    name: str = FONT
    size: float = 10
    bold: bool = False
    color: str | None = None  # RRGGBB


@dataclass(frozen=True)
class AlignLook:
    horizontal: str | None = None  # left | center | right
    vertical: str | None = None  # top | center | bottom
    wrap: bool = False
    shrink: bool = False


@dataclass(frozen=True)
class Look:
    font: FontLook | None = None
    fill: str | None = None  # RRGGBB of a solid fill
    align: AlignLook | None = None
    border: bool | None = None  # True: the thin grey box
    number_format: str | None = None


#: the three highlights, apart from each other and from the pale yellow of input cells in colour
#: and in grey (luma 0.299 R + 0.587 G + 0.114 B: input 242, 提示 214, 预警 180, 错误 123)
HIGHLIGHT = {ERROR: "D9534F", WARNING: "F4A460", INFO: "C5D9F1"}
LEGEND = {ERROR: "错误：须更正", WARNING: "预警：请核实", INFO: "提示：说明怎样理解"}
LEGEND_LABEL = "颜色说明："
LEGEND_NOTE = "鼠标停在标色的单元格上可看到说明；各问题见“问题清单”工作表。"
SCORE_FORMAT = "0.00"  # every 得分 and 总分 the tool writes, on every sheet
PERCENT_FORMAT = "0.00%"
MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"
HEADER_FILL = "DDEBF7"
GRADE_FILL = {**dict(zip(GRADES, ("C6EFCE", "DDEBF7", "FFEB9C", "FFC7CE"))), PROVISIONAL: "FFC7CE"}
BORDER_COLOR = "808080"
GREY_TEXT = "595959"
ALERT_TEXT = "9C0006"
NOTE_TEXT = "9C5700"
COMMENT_AUTHOR = "perfeval-xlsx"
COMMENT_WIDTH = 320  # points

CENTER = AlignLook("center", "center", wrap=True)
HEADER = Look(FontLook(bold=True), HEADER_FILL, CENTER, True)


@lru_cache(maxsize=256)
def body(align: str = "left", fmt: str | None = None, bold: bool = False, size: float = 10) -> Look:
    """A boxed table cell of the tool's own sheets."""
    return Look(FontLook(size=size, bold=bold), None, AlignLook(align, "center", wrap=True), True, fmt)


@lru_cache(maxsize=16)
def title(size: float = 16) -> Look:
    return Look(FontLook(TITLE_FONT, size, bold=True), None, AlignLook("center", "center"))


def small(size: float = 9, color: str | None = GREY_TEXT, bold: bool = False, **align) -> Look:
    return Look(FontLook(size=size, color=color, bold=bold), None, AlignLook(**align) if align else None)


def legend_cells(severities) -> list[tuple[str, Look]]:
    """颜色说明, one filled cell per severity shown, and the note: the texts left to right."""
    cells = [(LEGEND_LABEL, small(color=None, bold=True, horizontal="right", vertical="center"))]
    for severity in (ERROR, WARNING, INFO):
        if severity in severities:
            cells.append((LEGEND[severity], Look(FontLook(size=9), HIGHLIGHT[severity],
                                                 AlignLook("center", "center", shrink=True), True)))
    cells.append((LEGEND_NOTE, small(horizontal="left", vertical="center")))
    return cells


def comment_height(text: str, findings: int) -> int:
    return min(60 + 40 * findings + len(text) // 2, 400)
