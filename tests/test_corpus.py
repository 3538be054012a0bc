"""Issue 10: every row of the reading corpus read as an experienced finance officer reads it.

`tests/data/reading_corpus_published.tsv` holds 年度指标值/实际完成值 pairs re-entered from
published 自评表 (with the page they come from), `reading_corpus_constructed.tsv` hard cases of
the kinds the issue lists; each row carries the officer's reading (operator, numbers, unit) and
score for 分值 10, or `ask` where the officer would send the row back. One test per row, through
the real reading path (tests/corpus.py); the cells once as printed (text) and once as Excel
stores what a unit types. `python -m tests.corpus` prints the table of misses and the figures.
"""

from __future__ import annotations

import pytest

from .corpus import all_cases, judge, read, silent_wrong, summary

CASES = all_cases()

# Rows the tool does not read as the officer does, with the reason the tool is left so.
KNOWN_MISSES = {
    "pub169": "18—54周岁 against 存在18岁以下、54周岁以上: the officer grades the eligibility condition 部分达成; "
              "the tool sees two ages in the 实际完成值 and asks (E-TWO-VALUES) — it cannot tell how many were outside",
}


def _params():
    for case in CASES:
        marks = [pytest.mark.xfail(reason=KNOWN_MISSES[case.id], strict=True)] if case.id in KNOWN_MISSES else []
        yield pytest.param(case, id=case.id, marks=marks)


@pytest.mark.parametrize("typed", [False, True], ids=["printed", "typed"])
@pytest.mark.parametrize("case", list(_params()))
def test_row_is_read_as_the_officer_reads_it(case, typed):
    reading = read(case, typed)
    assert judge(case, reading) == "", (case.target, case.actual, case.note)


@pytest.mark.parametrize("case", [c for c in CASES if c.officer_op == "ask"], ids=lambda c: c.id)
def test_an_ask_row_raises_an_error_or_a_warning_on_that_row(case):
    reading = read(case)
    assert reading.questions, (case.target, case.actual)
    assert all(cell.endswith("14") for _, _, cell in reading.findings)


def test_no_silent_wrong_score_on_any_constructed_case():
    for typed in (False, True):
        wrong = [c.id for c in CASES if c.corpus != "published" and silent_wrong(c, read(c, typed))]
        assert wrong == []


def test_figures_meet_the_issue():
    """≥ 97% of published pairs as the officer reads them, no silent wrong score on a
    constructed case, ≤ 2% needless errors; ≥ 150 published pairs from ≥ 20 forms and
    ≥ 100 constructed cases."""
    for typed in (False, True):
        figures, _ = summary(typed)
        assert figures["published read as the officer reads them (%)"] >= 97
        assert figures["silent wrong scores on constructed cases"] == 0
        assert figures["needless errors (%)"] <= 2
    published = [c for c in CASES if c.corpus == "published"]
    assert len(published) >= 150 and len({c.form for c in published}) >= 20
    assert len([c for c in CASES if c.corpus == "constructed"]) >= 100
    assert all(c.source_url for c in published)
