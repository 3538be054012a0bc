"""Where to break the printed pages of a form so that no group and no total stands alone.

Excel and LibreOffice break a long sheet wherever a page is full: the 总分/评价等级 rows end up
alone on the last page, a 一级 or 二级 group starts at the foot of one page with its merged label
printed on the other. `row_breaks` works out manual breaks from the row heights and the print
setup: a group moves to the next page whole when it does not fit; only a group taller than a
page is split (between its 二级 groups, then between rows); the footer rows travel with the last
indicator rows. The page is filled to a little less than its estimated height, so that the
suites' own automatic breaks (computed with their fonts) never fall inside a group first.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: paper sizes (points) by the OOXML paperSize code; A4 when unknown
PAPER = {1: (612.0, 792.0), 5: (612.0, 1008.0), 8: (842.0, 1191.0), 9: (595.3, 841.9), 11: (419.5, 595.3)}
SAFETY = 0.96  # of the estimated page height actually filled (the row heights are estimated on the high side)


@dataclass
class Block:
    """Rows to keep on one page if at all possible (1-based, inclusive), with sub-blocks to fall
    back on when the whole is taller than a page."""

    first: int
    last: int
    children: list[Block] = field(default_factory=list)
    key: str = ""  # the group's name


def column_points(width_chars: float) -> float:
    """A column width in Excel character units as points (7-pixel digits, 5 pixels padding)."""
    return (int(width_chars * 7 + 0.5) + 5) * 0.75


def page_capacity(*, paper: int | None, landscape: bool, margins_in: tuple[float, float, float, float],
                  sheet_width_pt: float, scale: float | None = None, fit_width: bool = True) -> float:
    """Usable page height in the sheet's own points (before scaling); margins (left, right, top,
    bottom) in inches. Fitted to the page width unless `scale` (percent) is given."""
    short, long_ = PAPER.get(paper or 9, PAPER[9])
    width, height = (long_, short) if landscape else (short, long_)
    left, right, top, bottom = (m * 72 for m in margins_in)
    usable_w, usable_h = width - left - right, height - top - bottom
    if scale:
        factor = scale / 100
    elif fit_width and sheet_width_pt > 0:
        factor = min(1.0, usable_w / sheet_width_pt)
    else:
        factor = 1.0
    return usable_h / factor * SAFETY


def row_breaks(heights: dict[int, float], blocks: list[Block], capacity: float, *, before: float,
               repeated: float = 0.0, title_rows: tuple[int, int] | None = None, default: float = 15.0) -> list[int]:
    """The rows after which to break (1-based: a break after row 20 starts page 2 at row 21).

    `before`: the height of everything printed above the first block on page 1; `repeated`: the
    print-title rows (`title_rows`, first and last) repeated at the top of every later page — not
    twice on a page that starts with them."""
    def h(first: int, last: int) -> float:
        return sum(heights.get(r, default) for r in range(first, last + 1))

    breaks: list[int] = []
    used = before

    def new_page(after_row: int) -> None:
        nonlocal used
        if not breaks or breaks[-1] != after_row:
            breaks.append(after_row)
        starts_with_titles = title_rows is not None and title_rows[0] <= after_row + 1 <= title_rows[1]
        used = 0.0 if starts_with_titles else repeated

    def place(block: Block) -> None:
        nonlocal used
        height = h(block.first, block.last)
        fresh = used <= repeated + 0.01
        if used + height <= capacity:
            used += height
            return
        if height <= capacity - repeated:  # fits on a page of its own
            if not fresh:
                new_page(block.first - 1)
            used += height
            return
        if block.children:
            for child in block.children:
                place(child)
            return
        for r in range(block.first, block.last + 1):  # a single group taller than a page
            rh = heights.get(r, default)
            if used + rh > capacity and used > repeated + 0.01:
                new_page(r - 1)
            used += rh

    for block in blocks:
        place(block)
    return breaks


def with_footer(blocks: list[Block], footer_last: int) -> list[Block]:
    """Extend the last block at every level to the last footer row: the 总分 and 评价等级 rows
    always print with the rows above them."""
    if not blocks:
        return blocks
    last = blocks[-1]
    while True:
        last.last = max(last.last, footer_last)
        if not last.children:
            break
        last = last.children[-1]
    return blocks


def group_blocks(rows: list[tuple[int, str, str]]) -> list[Block]:
    """Blocks of (sheet row, 一级, 二级) indicator rows: 一级 groups of 二级 groups of rows."""
    out: list[Block] = []
    for row, level1, level2 in sorted(rows):
        if not out or out[-1].key != level1:
            out.append(Block(row, row, [Block(row, row, key=level2)], key=level1))
            continue
        top = out[-1]
        top.last = row
        if top.children[-1].key == level2:
            top.children[-1].last = row
        else:
            top.children.append(Block(row, row, key=level2))
    return out
