"""Numbers shared by every stage: coercion, rounding, display, and the tolerances, defined once.

The profile's `rounding` and `self_score_tolerance` are the rule parameters a region may change;
the constants below are the arithmetic slack of comparing floats, not rules.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

#: slack of a float comparison that must hold exactly on paper (``score ≤ weight``)
EPS = 1e-9
#: 分值 are entered with at most two decimals: totals that differ by less than half a cent agree
WEIGHT_TOLERANCE = 0.005
#: a rate typed in the form agrees with the one computed from money within 0.01 percentage points
RATE_TOLERANCE = 0.01


def as_float(value: Any) -> float | None:
    """A plain finite float, or None for blanks, text, booleans, NaN and infinities.

    Accepts Python and numpy numbers (pandas frame values), so that one helper serves the frame,
    the cache's JSON and workbook cells alike.
    """
    if value is None or isinstance(value, (str, bool, np.bool_)):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def round_half_up(values, digits: int = 2):
    """Round half up (4.185 → 4.19), for scalars or arrays of non-negative numbers."""
    scale = 10.0 ** digits
    arr = np.floor(np.asarray(values, dtype=float) * scale + 0.5 + EPS) / scale
    return float(arr) if np.ndim(arr) == 0 else arr


def format_number(value: float | None) -> str:
    """``92.73``, ``100``, ``0.5`` — as few digits as the value needs; ``""`` for None."""
    if value is None:
        return ""
    number = as_float(value)
    if number is None:  # a 400-digit integer or NaN: shown as it is, never an OverflowError
        return str(value)
    number = round(number, 6)
    return f"{number:g}" if abs(number) < 1e15 else str(number)


def differs(a: float, b: float, tolerance: float) -> bool:
    """True when `a` and `b` differ by more than `tolerance` (float noise ignored)."""
    return abs(a - b) > tolerance + EPS
