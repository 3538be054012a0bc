"""The one parser of indicator values: `≥800本`, `≤2万元`, `90.4%`, `2024年12月31日前`, `达成`…

Used by the validator and the scorer alike. It turns a cell's value (text, number, date, with
its number format) into a `Parsed` record and a list of notes saying how it was read; the
caller turns notes into findings at the cell's address.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from perfeval_xlsx.vocab import QUAL_SHORT, QUAL_SHORT_OF

# canonical operators
GE, GT, EQ, LT, LE, QUAL = "≥", "＞", "＝", "＜", "≤", "定性"
POSITIVE = (GE, GT)
REVERSE = (LE, LT)

NOT_APPLICABLE = {"不适用", "—", "——", "-", "--", "/", "无", "n/a", "na", "―", "－"}
GRADES = QUAL_SHORT
GRADE_LONG = QUAL_SHORT_OF
ON_TIME_WORDS = ("按时完成", "按期完成", "如期完成", "提前完成", "按时", "按期")

_OPERATOR_COLUMN = {
    "≥": GE, ">=": GE, "≧": GE, "=>": GE, "大于等于": GE, "不低于": GE, "不少于": GE, "正向": GE, "正向指标": GE,
    ">": GT, "大于": GT, "高于": GT,
    "=": EQ, "==": EQ, "等于": EQ,
    "<": LT, "小于": LT, "低于": LT,
    "≤": LE, "<=": LE, "≦": LE, "=<": LE, "小于等于": LE, "不高于": LE, "不超过": LE, "反向": LE, "反向指标": LE,
    "定性": QUAL, "定性指标": QUAL,
}
_PREFIX_OPERATORS = [  # longest first
    (">=", GE), ("=>", GE), ("≥", GE), ("≧", GE), ("<=", LE), ("=<", LE), ("≤", LE), ("≦", LE),
    ("==", EQ), (">", GT), ("<", LT), ("=", EQ),
    ("大于等于", GE), ("不低于", GE), ("不少于", GE), ("至少", GE), ("达到", GE), ("大于", GT), ("高于", GT),
    ("小于等于", LE), ("不高于", LE), ("不超过", LE), ("不大于", LE), ("控制在", LE), ("小于", LT), ("低于", LT),
    ("等于", EQ),
]
_SUFFIX_OPERATORS = [("及以上", GE), ("及以下", LE), ("以上", GE), ("以内", LE), ("以下", LE)]  # longest first

_NUMBER = r"-?(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+)"
_NUMBER_RE = re.compile(rf"^(?P<num>{_NUMBER})(?P<rest>.*)$")
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000}
_CN_NUMBER_RE = re.compile(r"^(?P<num>[零〇一二两三四五六七八九十百千万]+)(?P<rest>.*)$")

MONEY_UNITS = {"元": 1.0, "千元": 1e3, "万元": 1e4, "百万元": 1e6, "亿元": 1e8}
_MAGNITUDE = {"万": 1e4, "千": 1e3, "百": 1e2, "亿": 1e8}
_UNIT_CLEAN_RE = re.compile(r"^[（(](.*)[)）]$")


@dataclass
class Parsed:
    """A value as read. `kind`: number, date, grade, text, blank, na, ontime."""

    kind: str
    raw: Any = None
    text: str = ""
    operator: str | None = None
    number: float | None = None
    unit: str = ""  # as written (normalised): 本, 万元, %, …
    date: date | None = None
    grade: str | None = None  # 达成 / 部分达成 / 未达成
    description: str = ""  # text after a grade
    approx: bool = False  # `800余册`
    notes: list[tuple[str, str]] = field(default_factory=list)  # (code, detail)

    @property
    def is_percent(self) -> bool:
        return self.unit == "%"


def normalize_text(value: Any) -> str:
    """NFKC (full-width → ASCII: ＞＝％１，), look-alikes folded, all white space removed."""
    text = unicodedata.normalize("NFKC", str(value))
    text = text.replace("≧", "≥").replace("≦", "≤").replace("﹪", "%").replace("‰", "‰")
    return re.sub(r"\s+", "", text)


def normalize_label(value: Any) -> str:
    """A label as compared with the known labels: normalised, without `:` or brackets' content
    such as `(50分)`, `(A)`."""
    text = normalize_text(value)
    text = re.sub(r"[(（\[【][^)）\]】]*[)）\]】]", "", text)
    return text.strip(":：*＊、.。")


def parse_operator_cell(value: Any) -> str | None:
    if value is None:
        return None
    text = normalize_text(value)
    if not text:
        return None
    return _OPERATOR_COLUMN.get(text, _OPERATOR_COLUMN.get(text.rstrip("号")))


def chinese_number(text: str) -> int | None:
    """一 → 1, 两 → 2, 十二 → 12, 一百零五 → 105, 三千 → 3000 (counts only)."""
    if not text or any(ch not in _CN_DIGITS and ch not in _CN_UNITS for ch in text):
        return None
    total, section, digit = 0, 0, None
    for ch in text:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        else:
            unit = _CN_UNITS[ch]
            if unit == 10000:
                section = (section + (digit or 0)) * unit
                total += section
                section, digit = 0, None
                continue
            section += (1 if digit is None else digit) * unit
            digit = None
    return total + section + (digit or 0)


def split_unit(unit: str) -> tuple[float, str]:
    """`万元` → (1e4, 元); `万人次` → (1e4, 人次); `%` → (1, %); `本` → (1, 本)."""
    unit = normalize_text(unit)
    m = _UNIT_CLEAN_RE.match(unit)
    if m:
        unit = m.group(1)
    if unit in MONEY_UNITS:
        return MONEY_UNITS[unit], "元"
    if len(unit) >= 2 and unit[0] in _MAGNITUDE:
        return _MAGNITUDE[unit[0]], unit[1:]
    if unit in _MAGNITUDE:
        return _MAGNITUDE[unit], ""
    return 1.0, unit


def _parse_date(text: str, year: int | None) -> tuple[date | None, str | None]:
    """Returns (date, operator) for deadline-like text, else (None, None)."""
    op = None
    if text.endswith("完成") and len(text) > 2:
        text = text[:-2]  # 2024年12月31日之前完成, 年底前完成
    for suffix in ("之前", "以前", "前"):
        if text.endswith(suffix) and len(text) > len(suffix):
            text, op = text[: -len(suffix)], LE
            break
    text = text.rstrip("止")
    patterns = [
        (r"^(\d{4})年(\d{1,2})月(\d{1,2})[日号]?$", "ymd"),
        (r"^(\d{4})[-./](\d{1,2})[-./](\d{1,2})$", "ymd"),
        (r"^(\d{4})年(\d{1,2})月(?:底|末|份)?$", "ym"),
        (r"^(\d{4})[-./](\d{1,2})$", "ym"),
        (r"^(\d{1,2})月(\d{1,2})[日号]$", "md"),
        (r"^(\d{1,2})月(?:底|末|份)?$", "m"),
        (r"^(?:(\d{4})年)?(?:年底|年末|年终|年内|全年|本年度?|当年)$", "y"),
        (r"^(\d{4})年(?:底|末|内)?$", "y"),
    ]
    for pattern, form in patterns:
        m = re.match(pattern, text)
        if not m:
            continue
        g = m.groups()
        try:
            if form == "ymd":
                return date(int(g[0]), int(g[1]), int(g[2])), op
            if form == "ym":
                y, mo = int(g[0]), int(g[1])
                return date(y, mo, calendar.monthrange(y, mo)[1]), op
            if year is None:
                return None, None
            if form == "md":
                return date(year, int(g[0]), int(g[1])), op
            if form == "m":
                mo = int(g[0])
                return date(year, mo, calendar.monthrange(year, mo)[1]), op
            y = int(g[0]) if g[0] else year
            return date(y, 12, 31), op
        except ValueError:
            return None, None
    return None, None


def parse_grade(text: str, synonyms: dict[str, str] | None = None) -> tuple[str | None, str, str | None]:
    """(grade, description, synonym used) for text naming one of the three grades."""
    for long, short in GRADE_LONG.items():
        if text.startswith(long):
            return short, text[len(long):].lstrip(",，、:：;；。（(").rstrip("）)"), None
    for short in ("部分达成", "未达成", "达成"):
        if text.startswith(short):
            rest = text[len(short):]
            if short == "达成" and rest.startswith(("年度指标", "目标")):
                rest = rest.split("指标", 1)[-1] if "指标" in rest else rest[2:]
            return short, rest.lstrip(",，、:：;；。（(").rstrip("）)"), None
    for word, grade in sorted((synonyms or {}).items(), key=lambda kv: -len(kv[0])):
        if text.startswith(normalize_text(word)):
            return grade, text[len(normalize_text(word)):].lstrip(",，、:：;；。（(").rstrip("）)"), word
    return None, "", None


def parse_value(
    value: Any,
    number_format: str = "General",
    *,
    year: int | None = None,
    grade_synonyms: dict[str, str] | None = None,
) -> Parsed:
    """Read one cell's value. Numbers keep their unit; percentages are in percent (90.4)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return Parsed("blank", raw=value)
    if isinstance(value, bool):
        return Parsed("text", raw=value, text=str(value))
    if isinstance(value, datetime):
        return Parsed("date", raw=value, date=value.date())
    if isinstance(value, date):
        return Parsed("date", raw=value, date=value)
    if isinstance(value, (int, float)):
        if "%" in (number_format or ""):
            return Parsed("number", raw=value, number=round(float(value) * 100, 10), unit="%")
        return Parsed("number", raw=value, number=float(value))

    text = normalize_text(value)
    parsed = Parsed("text", raw=value, text=text)
    if text.lower() in NOT_APPLICABLE:
        parsed.kind = "na"
        return parsed
    # an operator in front (≥800本, 不少于40人) or behind (40人以上); `（含）` adds nothing to ≥/≤
    body = re.sub(r"\(含[^)]*\)", "", text)
    # `满意度≥95%`: words restating the indicator before the operator
    m = re.match(r"^([^\d≥≤<>=]{1,12})(?=[≥≤<>=])", body)
    if m:
        body = body[m.end():]
    for prefix, op in _PREFIX_OPERATORS:
        if body.startswith(prefix) and len(body) > len(prefix):
            parsed.operator, body = op, body[len(prefix):]
            break
    for suffix, op in _SUFFIX_OPERATORS:
        if body.endswith(suffix) and len(body) > len(suffix):
            body = body[: -len(suffix)]
            parsed.operator = parsed.operator or op  # 控制在4万元以内: the prefix already said ≤
            break

    d, date_op = _parse_date(body, year)
    if d is not None:
        parsed.kind, parsed.date = "date", d
        parsed.operator = parsed.operator or date_op or LE
        return parsed

    m = _NUMBER_RE.match(body)
    number: float | None = None
    if m:
        number = float(m.group("num").replace(",", ""))
        rest = m.group("rest")
    else:
        cm = _CN_NUMBER_RE.match(body)
        # Chinese numerals only as counts with a short unit: 一期, 两次, 三个 (not 十分满意)
        if (cm and chinese_number(cm.group("num")) is not None and not body.startswith("万")
                and len(cm.group("rest")) <= 2):
            number, rest = float(chinese_number(cm.group("num"))), cm.group("rest")
    if number is not None:
        if rest.startswith("余") or rest.startswith("多"):
            parsed.approx = True
            parsed.notes.append(("I-APPROX", f"“{text}”按 {number:g} 理解"))
            rest = rest[1:]
        unit = rest.strip("。.")
        if unit.endswith(("左右", "上下")) or body.startswith("约"):
            return parsed  # an approximate figure is not a target or a result
        if re.match(r"^(月|日|号|年|季度)", unit):
            return parsed  # a date without its year (12月底): not a count of months
        if unit and (re.search(r"\d", unit) or len(unit) > 6):
            return parsed  # a sentence with a number in it, not a value
        parsed.kind, parsed.number, parsed.unit = "number", number, unit
        return parsed

    grade, description, synonym = parse_grade(text, grade_synonyms)
    if grade is not None:
        parsed.kind, parsed.grade, parsed.description = "grade", grade, description
        if synonym:
            parsed.notes.append(("I-QUAL-SYNONYM", f"“{synonym}”按“{grade}”理解"))
        return parsed
    if any(text.startswith(w) for w in ON_TIME_WORDS):
        parsed.kind = "ontime"
    return parsed


