"""Reading decisions that depend on the row, not only on the cell: the direction of a bare
number (from the indicator's name), zero targets, and the grade of a 定性 outcome.

The parser (`reading.values`) reads one cell; the validator calls these functions with the
row's name, 二级 and target to decide what an officer would read. Every word used here comes
from the profile's tables (`Profile.reading`); each function also says *what* decided, for the
info finding that tells the user how the cell was read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from perfeval_xlsx.reading.values import GE, LE, Parsed, normalize_text, split_unit
from perfeval_xlsx.rules.profile import Profile
from perfeval_xlsx.vocab import QUAL_ACHIEVED, QUAL_MISSED, QUAL_PARTIAL

_PUNCTUATION = "。.，,；;：:!！"


def direction(name: str, level2: str, unit: str, profile: Profile) -> tuple[str, str]:
    """(≥ or ≤, what decided) for a target number written without an operator (ours):
    the word of the name's tables that ends last in the name (the head word of a Chinese noun
    phrase; the longer one on a tie), then a duration unit, then 成本 in the 二级, then ≥."""
    r = profile.reading
    text = normalize_text(name)
    best: tuple[int, int, str, str] | None = None
    for words, op in ((r.lower, LE), (r.higher, GE)):
        for word in words:
            i = text.rfind(word)
            if i >= 0:
                key = (i + len(word), len(word), word, op)
                if best is None or key[:2] > best[:2]:
                    best = key
    if best is not None:
        return best[3], f"名称中的“{best[2]}”"
    base = split_unit(unit)[1] if unit else ""
    if base and base in r.lower_units:
        return LE, f"单位“{base}”"
    if base and base in r.timely_units and "时效" in level2:
        return LE, f"时效指标的单位“{base}”（时限）"
    if "成本" in level2:
        return LE, f"二级指标“{level2}”"
    return GE, ""


def counts_incidents(name: str, profile: Profile) -> str | None:
    """The incident word of the name (事故, 投诉…), if any: there `无` means ≤ 0."""
    text = normalize_text(name)
    return next((w for w in profile.reading.incident if w in text), None)


def is_zero_word(text: str, profile: Profile) -> bool:
    return normalize_text(text).rstrip(_PUNCTUATION) in profile.reading.zero


@dataclass
class Outcome:
    """A 定性 outcome as read: the grade, the info finding that says how (code, detail), or
    the phrases that disagreed when no grade could be read."""

    grade: str | None
    code: str | None = None
    detail: str = ""
    conflict: tuple[str, ...] = ()


def _head(text: str) -> str:
    """The first part of an outcome before a separator: `是，已按规定执行` → 是."""
    return re.split(r"[，,；;：:。(（]", text, maxsplit=1)[0]


def read_outcome(target_text: str, actual_text: str, actual: Parsed, profile: Profile,
                 target: Parsed | None = None) -> Outcome:
    """The grade of a 定性 row's 实际完成值, read from the whole text as an officer reads it.

    In order: the exact grade labels; the target repeated word for word; a binary target
    (是/否, 有/无, 及时/不及时) or a scale (优良中低差) answered by one of its words; the
    profile's phrases found anywhere (未全部完成 → 部分达成); a percentage of 100 or more
    (ours); the target said again in other words and not weaker (ours)."""
    r = profile.reading
    t = normalize_text(target_text).rstrip(_PUNCTUATION)
    a = normalize_text(actual_text).rstrip(_PUNCTUATION)
    if actual.grade is not None and not actual.how:
        return Outcome(actual.grade)
    if a and a == t:
        return Outcome(QUAL_ACHIEVED, "I-QUAL-ECHO", f"实际完成值与年度指标值相同（“{actual_text}”），按“达成”理解")
    head = _head(a)
    for pair in r.binary:
        if t in (pair[0], f"{pair[0]}/{pair[1]}", f"{pair[0]}或{pair[1]}", f"{pair[0]}{pair[1]}"):
            if head == pair[0]:
                return Outcome(QUAL_ACHIEVED, "I-QUAL-BINARY", f"指标值“{target_text}”、完成值“{head}”按“达成”理解")
            if head in pair[1:]:
                return Outcome(QUAL_MISSED, "I-QUAL-BINARY", f"指标值“{target_text}”、完成值“{head}”按“未达成”理解")
    scale_target = re.sub(r"[/、,，\-]", "", t)
    for levels_text, levels in r.scales:
        grades = dict(levels)
        if scale_target == levels_text and head in grades:
            grade = grades[head]
            return Outcome(grade, "I-QUAL-BINARY", f"指标值为等级“{target_text}”，完成值“{head}”按“{grade}”理解")
    for _, levels in r.scales:
        names = [level for level, _ in levels]
        if t in names and head in names and head != t:
            # a level as the target (合格): the outcome at or above it is 达成, below it its grade (ours)
            grade = QUAL_ACHIEVED if names.index(head) <= names.index(t) else dict(levels)[head]
            if grade == QUAL_ACHIEVED or names.index(head) > names.index(t):
                return Outcome(grade, "I-QUAL-BINARY", f"指标值为等级“{target_text}”，完成值“{head}”按“{grade}”理解")
    if actual.grade is not None:
        return Outcome(actual.grade, "I-QUAL-SYNONYM", f"“{actual.how}”按“{actual.grade}”理解")
    if actual.conflict:
        return Outcome(None, conflict=actual.conflict)
    if a in r.positive:
        return Outcome(QUAL_ACHIEVED, "I-QUAL-SYNONYM", f"“{actual_text}”按“达成”理解")
    met = _number_met(target, actual)
    if met:
        return Outcome(QUAL_ACHIEVED, "I-QUAL-PERCENT", f"定性指标的完成值“{actual_text}”达到年度指标值“{target_text}”，按“达成”理解")
    if actual.kind == "number" and actual.unit == "%" and actual.number is not None and actual.number >= 100 - 1e-9 \
            and not actual.operator:
        return Outcome(QUAL_ACHIEVED, "I-QUAL-PERCENT", f"实际完成值“{actual_text}”按“达成”理解（全部完成）")
    partial = next((w for w in r.partial if a == w + t or head == w + t), None)
    if partial:  # 基本达标 for 达标: said again, with 基本 (ours)
        return Outcome(QUAL_PARTIAL, "I-QUAL-PARAPHRASE", f"实际完成值“{actual_text}”是“{partial}”加年度指标值，按“部分达成”理解")
    if _paraphrase(t, a, profile):
        return Outcome(QUAL_ACHIEVED, "I-QUAL-PARAPHRASE", f"实际完成值“{actual_text}”与年度指标值“{target_text}”意思相同，按“达成”理解")
    return Outcome(None)


def _number_met(target: Parsed | None, actual: Parsed) -> bool:
    """A row marked 定性 whose target is a number (≥90%) and whose outcome is a number in the same
    unit that meets it (ours; one that does not is asked)."""
    if target is None or target.kind != "number" or actual.kind != "number" or actual.operator:
        return False
    tb, ab = split_unit(target.unit)[1], split_unit(actual.unit)[1]
    if tb != ab or target.number is None or actual.number is None:
        return False
    t = target.number * split_unit(target.unit)[0]
    a = actual.number * split_unit(actual.unit)[0]
    return a <= t + 1e-9 if target.operator in (LE, "＜") else a >= t - 1e-9


def _paraphrase(t: str, a: str, profile: Profile) -> bool:
    """The outcome says the target again in other words (明显改善 for 改善条件; 全天候 for
    全天候可用; 未超预算 for 不超过预算): it shares a word of two characters with the target
    that is not a generic word, has no negation the target has not (不/未/无 on both sides say
    the same thing; 发生 for 杜绝 is not a paraphrase), no bad word the target has not (问题,
    下降, 延迟), no word of partial achievement, and is not softer than a strong target (有所提高
    for 显著提高) (ours)."""
    r = profile.reading
    if not t or not a or re.search(r"\d", a) and t not in a:
        return False
    for word in r.ignore:
        t, a = t.replace(word, ""), a.replace(word, "")
    target_negates = any(n in t for n in r.negating)
    outcome_negates = any(n in a for n in r.negative)
    if target_negates != outcome_negates and not any(w in t for w in r.limiting):
        return False  # 发生安全事故 for 杜绝安全事故; 超过预算 for 不超过预算
    if any(w in a and w not in t for w in r.bad):
        return False
    if any(w in a for w in r.partial) and not any(w in t for w in r.partial):
        return False
    if any(w in a for w in r.soft) and any(w in t for w in r.strong):
        return False
    if len(a) >= 2 and a in t or len(t) >= 2 and t in a:
        return True  # 全天候 for 全天候可用; 带动就业50人 for 带动就业
    for size in range(min(len(a), len(t)), 1, -1):
        for i in range(len(a) - size + 1):
            part = a[i:i + size]
            if part in t and part not in r.generic and re.fullmatch(r"[\u4e00-\u9fff]+", part):
                return True
    return False
