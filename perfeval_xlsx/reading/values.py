"""The one parser of indicator values: `≥800本`, `≤2万元`, `90.4%`, `2024年12月31日前`, `达成`…

Used by the validator and the scorer alike. It turns a cell's value (text, number, date, with
its number format) into a `Parsed` record and a list of notes saying how it was read; the
caller turns notes into findings at the cell's address.

What the parser knows by itself is syntax: operators (symbols and their words), numbers
(Arabic, Chinese, `百分之九十五`), ranges, dates and periods, the three 定性 grade labels.
Everything that is a reading *decision* — which words mean a grade, which units exist, which
words introduce a comparison rather than a second value — comes from the profile's word tables
(`Words`, built by `rules.profile`); without them the parser reads only the syntax.
"""

from __future__ import annotations

import calendar
import math
import re
from functools import lru_cache
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from perfeval_xlsx.numbers import format_number
from perfeval_xlsx.vocab import QUAL_ACHIEVED, QUAL_MISSED, QUAL_PARTIAL, QUAL_SHORT, QUAL_SHORT_OF

# canonical operators
GE, GT, EQ, LT, LE, QUAL = "≥", "＞", "＝", "＜", "≤", "定性"
POSITIVE = (GE, GT)
REVERSE = (LE, LT)

NOT_APPLICABLE = {"不适用", "—", "——", "-", "--", "/", "无", "n/a", "na", "―", "－", "——————", "———"}
GRADES = QUAL_SHORT
GRADE_LONG = QUAL_SHORT_OF
ON_TIME_WORDS = ("按时完成", "按期完成", "如期完成", "提前完成", "按时", "按期")

_OPERATOR_COLUMN = {
    "≥": GE, ">=": GE, "=>": GE, "大于等于": GE, "大于或等于": GE, "不低于": GE, "不少于": GE, "不小于": GE,
    "正向": GE, "正向指标": GE,
    ">": GT, "大于": GT, "高于": GT,
    "=": EQ, "==": EQ, "等于": EQ,
    "<": LT, "小于": LT, "低于": LT,
    "≤": LE, "<=": LE, "=<": LE, "小于等于": LE, "小于或等于": LE, "不高于": LE, "不超过": LE, "不大于": LE,
    "反向": LE, "反向指标": LE,
    "定性": QUAL, "定性指标": QUAL,
}
_PREFIX_OPERATORS = sorted([
    (">=", GE), ("=>", GE), ("≥", GE), ("<=", LE), ("=<", LE), ("≤", LE),
    ("==", EQ), (">", GT), ("<", LT), ("=", EQ),
    ("大于或等于", GE), ("高于或等于", GE), ("大于等于", GE), ("不低于", GE), ("不少于", GE), ("不小于", GE),
    ("至少", GE), ("最少", GE), ("达到", GE), ("大于", GT), ("高于", GT), ("多于", GT), ("超过", GT),
    ("小于或等于", LE), ("低于或等于", LE), ("小于等于", LE), ("不高于", LE), ("不超过", LE), ("不大于", LE),
    ("不多于", LE), ("最多", LE), ("控制在", LE), ("小于", LT), ("低于", LT), ("少于", LT),
    ("等于", EQ),
], key=lambda kv: -len(kv[0]))
_SUFFIX_OPERATORS = [("及其以上", GE), ("及其以下", LE), ("及以上", GE), ("及以下", LE), ("以上", GE),
                     ("之内", LE), ("以内", LE), ("以下", LE)]  # longest first

_NUMBER = r"-?(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+)"
_NUMBER_RE = re.compile(rf"^(?P<num>{_NUMBER})(?P<rest>.*)$")
_LEAD_NUMBER_RE = re.compile(rf"^(?P<lead>[^\d]{{1,8}}?)(?P<num>{_NUMBER})(?P<rest>.*)$")
_RANGE_RE = re.compile(rf"^(?P<u1>[^\d~\-至到—–]{{0,4}})(?:~|-|至|到|—|–)(?P<num>{_NUMBER})(?P<rest>.*)$")
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000}
_CN_NUMBER_RE = re.compile(r"^(?P<num>[零〇一二两三四五六七八九十百千万]+)(?P<rest>.*)$")
_CN_PERCENT_RE = re.compile(r"^百分之(?P<num>[零〇一二两三四五六七八九十百]+(?:点[零〇一二三四五六七八九]+)?)(?P<rest>.*)$")
_CLAUSE_SPLIT_RE = re.compile(r"[，;；。、]|,(?!\d{3}(?!\d))")
_ANNOTATION_RE = re.compile(r"[(\[【]([^()\[\]【】]*)[)\]】]")
_NEGATION_CHARS = ("未", "没", "不", "无", "非", "尚")

MONEY_UNITS = {"元": 1.0, "千元": 1e3, "万元": 1e4, "百万元": 1e6, "亿元": 1e8}
_MAGNITUDE = {"万": 1e4, "千": 1e3, "百": 1e2, "亿": 1e8}
_UNIT_CLEAN_RE = re.compile(r"^[（(](.*)[)）]$")
_SEPARATORS = ",，、:：;；。.（()）"


@dataclass(frozen=True)
class Words:
    """The profile's word tables that decide how text is read (see the profile TOML files).

    The parser works without them (syntax only); `rules.profile.Profile.words` gives the
    tables of a profile."""

    grade_phrases: tuple[tuple[str, str], ...] = ()  # (phrase, grade), found anywhere, longest first
    units: tuple[str, ...] = ()  # known units, longest first: the unit ends where a known one does
    unit_aliases: tuple[tuple[str, str], ...] = ()  # (as written, canonical): 百分比 → %
    comparison: tuple[str, ...] = ()  # 较上年…: a comparison, no second value
    derived: tuple[str, ...] = ()  # 完成率, 占…: a figure derived from the value, no second value
    rising: tuple[str, ...] = ()  # 提升10% as a target: ≥ 10%
    falling: tuple[str, ...] = ()  # 下降5% as a target: a fall of at least 5%
    on_time: tuple[str, ...] = ON_TIME_WORDS
    negations: tuple[str, ...] = ("未能", "尚未", "没有", "未", "没", "不能", "无法")
    partial: tuple[str, ...] = ()  # 一半, 一般, 部分…: a 达成 phrase with one of them is ambiguous
    approx_prefixes: tuple[str, ...] = ("约", "大约")
    approx_suffixes: tuple[str, ...] = ("左右", "上下")

    def alias(self, unit: str) -> str:
        for written, canonical in self.unit_aliases:
            if unit == written:
                return canonical
        return unit


NO_WORDS = Words()


@dataclass
class Parsed:
    """A value as read. `kind`: number, date, grade, text, blank, na, ontime, late, multi."""

    kind: str
    raw: Any = None
    text: str = ""
    operator: str | None = None
    soft_operator: bool = False  # the operator came from a word such as 提升 (an actual may say it)
    number: float | None = None
    high: float | None = None  # upper bound of a range (90%-95%, 3-5个)
    unit: str = ""  # as written (normalised, aliases applied): 本, 万元, %, 元/亩…
    per: bool = False  # written `每亩300`: the unit has no numerator of its own
    date: date | None = None  # the deadline, or the latest day of a period (第四季度 → 12-31)
    date_from: date | None = None  # the earliest day of a period (第四季度 → 10-01)
    period: str = ""  # the form of a date that is not one day: month, xun, quarter, half, year, one-year, period
    grade: str | None = None  # 达成 / 部分达成 / 未达成
    description: str = ""  # text after a grade, or the words around a number (超额完成)
    how: str = ""  # the phrase that decided a grade (I-QUAL-SYNONYM)
    conflict: tuple[str, ...] = ()  # phrases naming different grades (an ambiguous outcome)
    approx: bool = False  # `800余册`, `约1000人`, `1000人左右`
    approx_word: str = ""  # 余, 约, 左右
    values: tuple[str, ...] = ()  # two measured values in one cell (培训3期，参训120人)
    notes: list[tuple[str, str]] = field(default_factory=list)  # (code, detail)

    @property
    def is_percent(self) -> bool:
        return self.unit == "%"

    @property
    def is_range(self) -> bool:
        return self.high is not None


_FOLDS = (("≧", "≥"), ("≦", "≤"), ("═", "="), ("﹪", "%"), ("〜", "~"), ("∼", "~"), ("・", "·"),
          ("•", "·"), ("‧", "·"), ("﹣", "-"), ("−", "-"))
_SPACE = re.compile(r"\s+")
_BRACKETED = re.compile(r"[(（\[【][^)）\]】]*[)）\]】]")


def normalize_text(value: Any) -> str:
    """NFKC (full-width → ASCII: ＞＝％１，), look-alikes folded (≧ ≦ ═ ﹦ ～), all white space removed."""
    return _normalized(value if isinstance(value, str) else str(value))


@lru_cache(maxsize=16384)
def _normalized(text: str) -> str:  # (a form asks for the same few hundred texts many times)
    text = unicodedata.normalize("NFKC", text)
    for a, b in _FOLDS:
        text = text.replace(a, b)
    return _SPACE.sub("", text)


def normalize_label(value: Any) -> str:
    """A label as compared with the known labels: normalised, without `:` or brackets' content
    such as `(50分)`, `(A)`."""
    return _label(value if isinstance(value, str) else str(value))


@lru_cache(maxsize=16384)
def _label(text: str) -> str:
    return _BRACKETED.sub("", normalize_text(text)).strip(":：*＊、.。")


NO_OPERATOR = {"定量", "定量指标", "数量", "数值"}  # an 指标性质 that names no direction: the default applies


def parse_operator_cell(value: Any) -> str | None:
    if value is None:
        return None
    text = normalize_text(value)
    if not text:
        return None
    for candidate in (text, text.rstrip("号"), re.sub(r"\(.*\)$", "", text), re.sub(r"^.*\((.*)\)$", r"\1", text)):
        if candidate in _OPERATOR_COLUMN:
            return _OPERATOR_COLUMN[candidate]
    return None


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


def _chinese_decimal(text: str) -> float | None:
    """九十五 → 95, 九十五点五 → 95.5."""
    whole, _, frac = text.partition("点")
    n = chinese_number(whole)
    if n is None:
        return None
    if not frac:
        return float(n)
    digits = "".join(str(_CN_DIGITS[ch]) for ch in frac if ch in _CN_DIGITS)
    return float(f"{n}.{digits}") if len(digits) == len(frac) else None


def split_unit(unit: str) -> tuple[float, str]:
    """`万元` → (1e4, 元); `万人次` → (1e4, 人次); `%` → (1, %); `本` → (1, 本); `万元/人` → (1e4, 元/人)."""
    unit = normalize_text(unit)
    m = _UNIT_CLEAN_RE.match(unit)
    if m:
        unit = m.group(1)
    if unit in MONEY_UNITS:
        return MONEY_UNITS[unit], "元"
    if unit.startswith("百万") and len(unit) > 2:
        return 1e6, unit[2:]
    if len(unit) >= 2 and unit[0] in _MAGNITUDE:
        return _MAGNITUDE[unit[0]], unit[1:]
    if unit in _MAGNITUDE:
        return _MAGNITUDE[unit], ""
    return 1.0, unit


def clean_unit(unit: Any, words: Words = NO_WORDS) -> str:
    """A unit as written in a 计量单位 cell or after a number, normalised: `%(百分比)` → %,
    `元/人、天` → 元/人·天 (a compound unit keeps all its parts)."""
    if unit is None:
        return ""
    text = normalize_text(unit).strip("。.")
    text = re.sub(r"(/[^\d/、]{1,4})、", r"\1·", text)
    aliased = words.alias(text)
    if aliased != text:
        return aliased
    m = _UNIT_CLEAN_RE.match(text)
    if m and m.group(1):
        return words.alias(m.group(1))
    return text


# -- dates --------------------------------------------------------------------------------

_QUARTER = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}


def _month_end(y: int, m: int) -> date:
    return date(y, m, calendar.monthrange(y, m)[1])


def _date_span(text: str, year: int | None, within: bool = False) -> tuple[date, date, str] | None:
    """(first day, last day, form) of one date expression: a day, a month, a third of a month,
    a quarter, a half-year, a year. `within`: part of a period (`12.31` may be a month.day)."""
    def y_of(g: str | None) -> int | None:
        return int(g) if g else year

    m = re.match(r"^(\d{4})(?:年(\d{1,2})月(\d{1,2})[日号]?|[-./](\d{1,2})[-./](\d{1,2}))$", text)
    if m:
        mo, d = (m.group(2), m.group(3)) if m.group(2) else (m.group(4), m.group(5))
        day = date(int(m.group(1)), int(mo), int(d))
        return day, day, "day"
    m = re.match(r"^(?:(\d{4})年)?(\d{1,2})月(上|中|下)旬(?:末)?$", text)
    if m and y_of(m.group(1)):
        y, mo = y_of(m.group(1)), int(m.group(2))
        first = {"上": 1, "中": 11, "下": 21}[m.group(3)]
        last = {"上": date(y, mo, 10), "中": date(y, mo, 20), "下": _month_end(y, mo)}[m.group(3)]
        return date(y, mo, first), last, "xun"
    m = re.match(r"^(\d{4})(?:年(\d{1,2})月|[-./](\d{1,2}))(底|末|份)?$", text)
    if m:
        y, mo = int(m.group(1)), int(m.group(2) or m.group(3))
        end = _month_end(y, mo)
        return (end if m.group(4) in ("底", "末") else date(y, mo, 1)), end, "month"
    m = re.match(r"^(\d{1,2})月(\d{1,2})[日号]$", text) or (re.match(r"^(\d{1,2})\.(\d{1,2})$", text) if within else None)
    if m and year:
        day = date(year, int(m.group(1)), int(m.group(2)))
        return day, day, "day"
    m = re.match(r"^(\d{1,2})月(底|末|份)?$", text)
    if m and year:
        mo = int(m.group(1))
        end = _month_end(year, mo)
        return (end if m.group(2) in ("底", "末") else date(year, mo, 1)), end, "month"
    m = re.match(r"^(?:(\d{4})年)?第?([一二三四1-4])季度(末|底)?$", text)
    if m and y_of(m.group(1)):
        y, q = y_of(m.group(1)), _QUARTER[m.group(2)]
        end = _month_end(y, 3 * q)
        return (end if m.group(3) else date(y, 3 * q - 2, 1)), end, "quarter"
    m = re.match(r"^(?:(\d{4})年)?(上|下)半年(末|底)?$", text)
    if m and y_of(m.group(1)):
        y = y_of(m.group(1))
        first, end = (date(y, 1, 1), date(y, 6, 30)) if m.group(2) == "上" else (date(y, 7, 1), date(y, 12, 31))
        return (end if m.group(3) else first), end, "half"
    m = re.match(r"^(?:(\d{4})年)?(?:年底|年末|年终|年度末)$", text) or re.match(r"^(\d{4})年(?:底|末)$", text)
    if m and y_of(m.group(1)):
        end = date(y_of(m.group(1)), 12, 31)
        return end, end, "year-end"
    m = re.match(r"^(?:(\d{4})年)?(?:年内|年度内|全年|本年度?|本年内|当年|年度)$", text) or re.match(r"^(\d{4})年度?内?$", text)
    if m and y_of(m.group(1)):
        y = y_of(m.group(1))
        return date(y, 1, 1), date(y, 12, 31), "year"
    m = re.match(r"^(?:1|一)(?:个)?(?:年|年度)$", text)  # a duration of one year: within the form's year (ours)
    if m and year:
        return date(year, 1, 1), date(year, 12, 31), "one-year"
    return None


def _date_period(text: str, year: int | None) -> tuple[date, date, str] | None:
    """`2021.1.1-12.31`, `1-12月`, `2024年1月-12月`, `1月至6月`: (first day, last day of the end)."""
    if not re.fullmatch(r"[\d年月日底末.\-/~至到—–]+", text):
        return None
    for m in re.finditer(r"~|-|至|到|—|–", text):
        a, b = text[: m.start()], text[m.end():]
        if not a or not b:
            continue
        ya = re.match(r"^((?:19|20)\d{2})(?!\d)", a)
        a_year = int(ya.group(1)) if ya else year
        if re.search(r"\d$", a) and b.endswith("月") and not re.search(r"[月.\-/]", a[4:] if ya else a):
            a = f"{a}月"  # 1-12月, 2024年1-12月
        try:
            start = _date_span(a, a_year, within=True)
            end = _date_span(b, a_year, within=True)
        except ValueError:
            continue
        if start is not None and end is not None and end[1] >= start[0]:
            return start[0], end[1], "period"
    return None


def _parse_date(text: str, year: int | None) -> tuple[date, date, str, str | None] | None:
    """(first day, last day, form, operator) for a deadline-like or completion-date text."""
    op = None
    body = text
    for prefix in ("已于", "截至", "截止到", "截止", "于", "在"):
        if body.startswith(prefix) and len(body) > len(prefix) + 1:
            body = body[len(prefix):]
            break
    if body.endswith("完成") and len(body) > 2:
        body = body[:-2]  # 2024年12月31日之前完成, 年底前完成, 年内完成
    body = body.removesuffix("已")
    for suffix in ("之前", "以前", "前"):
        if body.endswith(suffix) and len(body) > len(suffix):
            body, op = body[: -len(suffix)], LE
            break
    body = body.rstrip("止")
    try:
        span = _date_span(body, year, within=op is not None) or _date_period(body, year)
    except ValueError:
        return None
    if span is None:
        return None
    return span[0], span[1], span[2], op


# -- grades -------------------------------------------------------------------------------

def _phrase_matches(text: str, phrases: tuple[tuple[str, str], ...]) -> list[tuple[int, str, str]]:
    """Non-overlapping matches of the phrases in `text`, longest first: (position, phrase, grade)."""
    taken = [False] * len(text)
    found = []
    for phrase, grade in phrases:
        start = 0
        while phrase and (i := text.find(phrase, start)) >= 0:
            if not any(taken[i:i + len(phrase)]):
                found.append((i, phrase, grade))
                for k in range(i, i + len(phrase)):
                    taken[k] = True
            start = i + 1
    return sorted(found)


def _negated(text: str, position: int, negations: tuple[str, ...]) -> bool:
    before = text[max(0, position - 3):position]
    return any(before.endswith(n) for n in negations)


def parse_grade(text: str, synonyms: dict[str, str] | None = None, words: Words = NO_WORDS
                ) -> tuple[str | None, str, str | None]:
    """(grade, description, phrase used) for text naming one of the three grades.

    The grade is read from the whole text: the exact labels (long ones first, so that
    `未达成年度指标且效果较差` is not read as `达成`), then the profile's phrases found anywhere
    in the text, longest first (`未全部完成` before `全部完成`). Phrases that disagree, or a
    达成-phrase right after a negation (`没有按期完成`), give no grade (the caller asks);
    `conflict_of` tells which phrases disagreed."""
    grade, description, how, _ = _grade(text, synonyms, words)
    return grade, description, how


def _grade(text: str, synonyms: dict[str, str] | None, words: Words
           ) -> tuple[str | None, str, str | None, tuple[str, ...]]:
    for long, short in GRADE_LONG.items():
        if text.startswith(long):
            rest = text[len(long):]
            return short, rest.lstrip(_SEPARATORS).rstrip("）)"), None, ()
    phrases = list(words.grade_phrases)
    phrases += [(normalize_text(w), g) for w, g in (synonyms or {}).items()]
    phrases += [(g, g) for g in (QUAL_PARTIAL, QUAL_MISSED, QUAL_ACHIEVED)]
    phrases.sort(key=lambda pg: -len(pg[0]))
    matches = _phrase_matches(text, tuple(phrases))
    # 达成 only as the grade label, not inside a word (达成率不高 is not 达成)
    matches = [m for m in matches if not (m[1] == QUAL_ACHIEVED and text[m[0] + 2:m[0] + 3] in ("率", "度"))]
    if not matches:
        return None, "", None, ()
    conflict = tuple(p for i, p, g in matches if g == QUAL_ACHIEVED and _negated(text, i, words.negations))
    grades = {g for _, _, g in matches}
    if conflict or len(grades) > 1:
        return None, "", None, conflict or tuple(p for _, p, _ in matches)
    label_first = matches[0][0] == 0 and matches[0][1] in QUAL_SHORT
    if grades == {QUAL_ACHIEVED} and not label_first:
        # 已完成一半, 完成情况一般: a 达成 phrase with a word of partial achievement is ambiguous (ours)
        rest = text
        for _, phrase, _ in matches:
            rest = rest.replace(phrase, "")
        partial = tuple(w for w in words.partial if w in rest)
        if partial:
            return None, "", None, (matches[0][1], *partial)
    first_pos, first_phrase, grade = matches[0]
    labels = set(QUAL_SHORT)
    how = next((p for _, p, _ in matches if p not in labels), None)
    if first_pos == 0 and first_phrase in labels:
        rest = text[len(first_phrase):]
        if first_phrase == QUAL_ACHIEVED and rest.startswith(("年度指标", "目标", "预期指标", "预期目标")):
            rest = rest.split("指标", 1)[-1] if "指标" in rest else rest[2:]
            how = None
        description = rest.lstrip(_SEPARATORS).rstrip("）)")
        if description and how and description.startswith(how):
            how = None  # 达成，完全达到预期: the label decided, the rest describes
    else:
        description = text
    return grade, description, how, ()


# -- numbers ------------------------------------------------------------------------------

_UNIT_CHARS = r"A-Za-z\u4e00-\u9fff·%‰°℃²³"
_NOT_UNITS = ("前", "后", "内", "外", "以", "及", "之", "左右", "上下", "至", "到")


def _unit_and_tail(rest: str, words: Words) -> tuple[str, str] | None:
    """Split what follows a number into its unit and words after it (`期培训` → 期, 培训).
    None when it is a sentence rather than a unit (ours: an unknown unit has at most 4
    letters, words after a known unit at most 4, without a negation or an approximation)."""
    rest = rest.strip("。.")
    if not rest:
        return "", ""
    if re.fullmatch(rf"[{_UNIT_CHARS}]{{0,4}}(?:/[{_UNIT_CHARS}]{{1,6}}){{1,2}}", rest):
        return rest, ""  # a compound unit: 元/人·月, 份/百万人, 元/人/月
    hedges = (*words.approx_suffixes, *words.approx_prefixes)
    for unit in words.units:
        if rest.startswith(unit):
            tail = rest[len(unit):]
            if not tail:
                return unit, ""
            if re.fullmatch(rf"(?:/[{_UNIT_CHARS}]{{1,6}}){{1,2}}", tail):
                return rest, ""
            if (len(tail) <= 4 and re.fullmatch(r"[\u4e00-\u9fff]+", tail)
                    and not any(ch in tail for ch in _NEGATION_CHARS) and not any(h in tail for h in hedges)):
                return unit, tail
            return None
    if (len(rest) <= (6 if not words.units else 4) and re.fullmatch(rf"[{_UNIT_CHARS}]+", rest)
            and not rest.startswith(_NOT_UNITS)):
        return rest, ""
    return None


def _quantity(body: str, words: Words, parsed: Parsed) -> bool:
    """Read `body` (operators already taken off) as a number with its unit; fill `parsed` and
    return True when it is one, leave `parsed` alone otherwise."""
    lead = ""
    number: float | None = None
    m = _NUMBER_RE.match(body)
    cn_percent = _CN_PERCENT_RE.match(body)
    if cn_percent:
        number = _chinese_decimal(cn_percent.group("num"))
        rest = "%" + cn_percent.group("rest")
    elif m:
        number, rest = float(m.group("num").replace(",", "")), m.group("rest")
    else:
        lm = _LEAD_NUMBER_RE.match(body)
        if lm:
            lead = lm.group("lead")
            number, rest = float(lm.group("num").replace(",", "")), lm.group("rest")
        else:
            cm = _CN_NUMBER_RE.match(body)
            # Chinese numerals only as counts with a short unit: 一期, 两次, 三个 (not 十分满意)
            if (cm and chinese_number(cm.group("num")) is not None and not body.startswith("万")
                    and len(cm.group("rest")) <= 2):
                number, rest = float(chinese_number(cm.group("num"))), cm.group("rest")
    if number is None or not math.isfinite(number):  # (400 digits: no spreadsheet holds it, no number)
        return False
    approx_word, per_unit, rising = "", "", False
    if lead:
        # words before the number (满意度97%, 完成3期培训, 每亩300, 约1000人, 提升10%), never a
        # negation, an ordinal or a comparison (ours)
        changes = (*words.rising, *words.falling)
        compares = any(w in lead for w in words.comparison)
        if (any(ch in lead for ch in _NEGATION_CHARS) or lead.endswith(("第", "前", "后"))
                or compares and not lead.endswith(changes) or re.search(r"[≥≤<>=~]", lead)):
            return False
        for word in words.approx_prefixes:
            if lead.endswith(word):
                approx_word, lead = word, lead[: -len(word)]
                break
        per = re.search(r"每([^\d]{1,3})$", lead) or re.search(r"每(半年|季度|季|年|月|周)", lead)
        if per:
            per_unit, lead = per.group(1), lead[: per.start()] + lead[per.end():]
        for word in sorted(changes, key=len, reverse=True):
            if lead.endswith(word):  # 提升10%, 较上年增长5%, 下降5% (the amount of the change): ≥ (ours)
                rising, lead = True, lead[: -len(word)]
                break
    high = None
    rm = _RANGE_RE.match(rest)  # a range: 90%-95%, 3-5个, 3至5个, 90%~95%
    if rm:
        second = float(rm.group("num").replace(",", ""))
        if math.isfinite(second) and second > number and (not rm.group("u1") or rm.group("rest") in ("", rm.group("u1"))):
            high, rest = second, rm.group("rest") or rm.group("u1")
    approx_note = None
    if rest.startswith(("余", "多")):
        approx_word, approx_note = rest[0], f"“{parsed.text}”按 {format_number(number)} 理解"
        rest = rest[1:]
    for word in words.approx_suffixes:
        if rest.endswith(word) and len(rest) >= len(word):
            approx_word, rest = word, rest[: -len(word)]
            break
    if re.match(r"^(月|日|号|年|季度)", rest):
        return False  # a date without its year (12月底): not a count of months
    split = _unit_and_tail(rest, words)
    if split is None:
        return False
    unit, tail = split
    if tail.startswith(("内", "以内", "之内")) and parsed.operator is None:
        parsed.operator = LE  # 3天内办结, 5个工作日以内 (ours)
    unit = clean_unit(unit, words)
    if per_unit:
        unit = f"{unit}/{per_unit}" if unit else f"/{per_unit}"
    parsed.kind, parsed.number, parsed.unit, parsed.high = "number", number, unit, high
    parsed.per = bool(per_unit)
    if approx_word:
        parsed.approx, parsed.approx_word = True, approx_word
    if approx_note:
        parsed.notes.append(("I-APPROX", approx_note))
    if rising and parsed.operator is None:
        parsed.operator, parsed.soft_operator = GE, True
    parsed.description = "".join(x for x in (lead, tail) if x)
    return True


def _has_quantity(clause: str, words: Words) -> bool:
    """A clause holding a measured value of its own (参训120人), not a comparison (较上年提高2个百分点)."""
    if not re.search(r"\d", clause) or any(w in clause for w in (*words.comparison, *words.derived, *words.rising,
                                                                   *words.falling)):
        return False
    probe = Parsed("text", text=clause)
    body = clause
    for prefix, _op in _PREFIX_OPERATORS:
        if body.startswith(prefix) and len(body) > len(prefix):
            body = body[len(prefix):]
            break
    return _quantity(body, words, probe) or bool(re.search(r"\d+(?:\.\d+)?\s*[%‰]", clause))


def _strip_annotations(text: str) -> tuple[str, list[str]]:
    """`1015本（超额完成）` → (1015本, [超额完成]); `≥85%（含）` → (≥85%, [])."""
    notes = []

    def keep(m: re.Match) -> str:
        inner = m.group(1)
        if not (inner == "含" or inner.startswith("含") and re.search(r"\d", inner)):  # （含）, （含90%）: part of ≥/≤
            notes.append(inner)
        return ""

    core = _ANNOTATION_RE.sub(keep, text)
    return (core, notes) if core else (text, [])


def parse_value(
    value: Any,
    number_format: str = "General",
    *,
    year: int | None = None,
    grade_synonyms: dict[str, str] | None = None,
    words: Words | None = None,
) -> Parsed:
    """Read one cell's value. Numbers keep their unit; percentages are in percent (90.4)."""
    words = words or NO_WORDS
    if value is None or (isinstance(value, str) and not value.strip()):
        return Parsed("blank", raw=value)
    if isinstance(value, bool):
        return Parsed("text", raw=value, text=str(value))
    if isinstance(value, datetime):
        return Parsed("date", raw=value, date=value.date(), date_from=value.date())
    if isinstance(value, date):
        return Parsed("date", raw=value, date=value, date_from=value)
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            return Parsed("text", raw=value, text=str(value))  # NaN or infinity is no number
        if "%" in (number_format or ""):
            return Parsed("number", raw=value, number=round(float(value) * 100, 10), unit="%")
        return Parsed("number", raw=value, number=float(value))

    text = normalize_text(value)
    parsed = Parsed("text", raw=value, text=text)
    if text.lower() in NOT_APPLICABLE:
        parsed.kind = "na"
        return parsed
    core, annotations = _strip_annotations(text)
    core = re.sub(r"(/[^\d/、]{1,4})、", r"\1·", core)  # 元/人、天: one compound unit
    clauses = [c for c in _CLAUSE_SPLIT_RE.split(core) if c]
    main = clauses[0] if clauses else core
    _read_main(main, year, words, parsed)
    if parsed.kind == "text" and len(clauses) > 1 and not re.search(r"\d", main):
        # 已完成，100%: the one clause with a number is the value, the words before it a note (ours)
        numbered = [c for c in clauses[1:] if re.search(r"\d", c)]
        if len(numbered) == 1:
            _read_main(numbered[0], year, words, parsed)
            if parsed.kind in ("number", "date"):
                rest = [c for c in clauses if c is not numbered[0]]
                parsed.description = "，".join(x for x in [parsed.description, *rest, *annotations] if x)
                return parsed
    if parsed.kind in ("number", "date"):
        others = [c for c in clauses[1:] if _has_quantity(c, words)]
        if others:
            parsed.values = (main, *others)
            parsed.kind = "multi"
            return parsed
        extra = [c for c in clauses[1:]] + annotations
        parsed.description = "，".join(x for x in [parsed.description, *extra] if x)
        return parsed
    grade, description, how, conflict = _grade(text, grade_synonyms, words)
    if grade is not None:
        parsed.kind, parsed.grade, parsed.description, parsed.how = "grade", grade, description, how or ""
        if how:
            parsed.notes.append(("I-QUAL-SYNONYM", f"“{how}”按“{grade}”理解"))
    parsed.conflict = conflict
    on_time = _on_time(text, words)
    if on_time is not None:
        parsed.kind = "ontime" if on_time else "late"  # the grade, if any, stays readable
    return parsed


def on_time_of(text: str, words: Words = NO_WORDS) -> bool | None:
    return _on_time(normalize_text(text), words)


def _on_time(text: str, words: Words) -> bool | None:
    """True: the text says done on time (wherever the words stand: 项目已按期完成); False: it
    says not on time (未能按期完成); None: it says neither."""
    for word in sorted(words.on_time, key=len, reverse=True):
        i = text.find(word)
        if i >= 0:
            return not _negated(text, i, words.negations)
    return None


def _read_main(body: str, year: int | None, words: Words, parsed: Parsed) -> None:
    """The main clause: an operator in front (≥800本, 不少于40人) or behind (40人以上), then a
    date or period, then a number with its unit; `（含）` adds nothing to ≥/≤."""
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

    span = _parse_date(body, year)
    if span is not None:
        first, last, form, date_op = span
        parsed.kind, parsed.date, parsed.date_from = "date", last, first
        parsed.period = form if first != last or form in ("one-year", "period", "quarter", "half", "xun") else ""
        parsed.operator = parsed.operator or date_op or LE
        return
    _quantity(body, words, parsed)


