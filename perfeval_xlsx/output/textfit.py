"""How much room Chinese text needs in a cell: widths in Excel character units, wrapped lines.

A column's width is counted in digits of the workbook's default font (宋体 10 pt: a digit is
half a character square, so a Chinese character takes about two units). The estimate errs on the
roomy side: a row a little too tall looks fine on paper, a clipped 偏差原因 does not. Line heights
allow for the CJK fonts that stand in for 宋体 where it is not installed (Noto Sans CJK: 1.45 em).
"""

from __future__ import annotations

import math
from functools import lru_cache
import re

LINE_FACTOR = 1.45  # line height / font size
LINE_HEIGHT = 14.5  # points per wrapped line at 10 pt
CJK_WIDTH = 2.0  # character units of one Chinese or full-width character at 10 pt
_WIDE = re.compile("[\u2e80-\U0010ffff]")  # CJK and full-width characters


def text_width(text: str, font_size: float = 10.0) -> float:
    """Display width in Excel character units: CJK and full-width characters count 2."""
    units = len(text) + (CJK_WIDTH - 1.0) * len(_WIDE.findall(text))
    return units * font_size / 10.0 if font_size != 10.0 else units


@lru_cache(maxsize=8192)
def lines_needed(text: str, width: float, font_size: float = 10.0) -> int:
    if not text:
        return 1
    usable = max(width - 1.5, 1.0)
    return sum(max(1, math.ceil(text_width(part, font_size) / usable)) for part in str(text).split("\n"))


def line_height(font_size: float = 10.0) -> float:
    return LINE_FACTOR * font_size


def row_height(texts_and_widths, minimum: float = 18.0) -> float:
    """The height (points) a row needs for its wrapped texts: [(text, column width), …]."""
    lines = max((lines_needed(str(t), w) for t, w in texts_and_widths if t not in (None, "")), default=1)
    return max(minimum, lines * LINE_HEIGHT + 4)
