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
from perfeval_xlsx.vocab import QUAL_ACHIEVED, QUAL_MISSED

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
    if "成本" in level2:
        return LE, "二级指标为成本指标"
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


def read_outcome(target_text: str, actual_text: str, actual: Parsed, profile: Profile) -> Outcome:
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
        if scale_target == levels_text:
            grade = dict(levels).get(head)
            if grade is not None:
                return Outcome(grade, "I-QUAL-BINARY", f"指标值为等级“{target_text}”，完成值“{head}”按“{grade}”理解")
    if actual.grade is not None:
        return Outcome(actual.grade, "I-QUAL-SYNONYM", f"“{actual.how}”按“{actual.grade}”理解")
    if actual.conflict:
        return Outcome(None, conflict=actual.conflict)
    if actual.kind == "number" and actual.unit == "%" and actual.number is not None and actual.number >= 100 - 1e-9 \
            and not actual.operator:
        return Outcome(QUAL_ACHIEVED, "I-QUAL-PERCENT", f"实际完成值“{actual_text}”按“达成”理解（全部完成）")
    if _paraphrase(t, a, profile):
        return Outcome(QUAL_ACHIEVED, "I-QUAL-PARAPHRASE", f"实际完成值“{actual_text}”与年度指标值“{target_text}”意思相同，按“达成”理解")
    return Outcome(None)


def _paraphrase(t: str, a: str, profile: Profile) -> bool:
    """The outcome says the target again in other words (明显改善 for 改善条件; 全天候 for
    全天候可用): it shares a word of two characters with the target that is not a generic word,
    has no negation and no weakening word the target does not have (ours)."""
    r = profile.reading
    if not t or not a or re.search(r"\d", a):
        return False
    for word in r.ignore:
        t, a = t.replace(word, ""), a.replace(word, "")
    if any(n in a for n in r.negative):
        return False
    if any(w in a for w in r.weak) and not any(w in t for w in r.weak):
        return False
    if len(a) >= 2 and a in t:
        return True
    for size in range(min(len(a), len(t)), 1, -1):
        for i in range(len(a) - size + 1):
            part = a[i:i + size]
            if part in t and part not in r.generic and re.fullmatch(r"[\u4e00-\u9fff]+", part):
                return True
    return False
