"""How much room Chinese text needs in a cell: widths in Excel character units, wrapped lines."""

from __future__ import annotations

import math

LINE_HEIGHT = 14.0  # points per wrapped line at 10 pt


def text_width(text: str) -> float:
    """Display width in Excel character units: CJK and full-width characters count 1.8."""
    return sum(1.8 if ord(ch) > 0x2E7F else 1.0 for ch in text)


def lines_needed(text: str, width: float) -> int:
    if not text:
        return 1
    usable = max(width - 1.5, 1.0)
    return sum(max(1, math.ceil(text_width(part) / usable)) for part in str(text).split("\n"))


def row_height(texts_and_widths, minimum: float = 18.0) -> float:
    """The height (points) a row needs for its wrapped texts: [(text, column width), …]."""
    lines = max((lines_needed(str(t), w) for t, w in texts_and_widths if t not in (None, "")), default=1)
    return max(minimum, lines * LINE_HEIGHT + 4)
