"""Draft the 汇总报告 of a batch for the finance office: how many forms, in which state, the
grades, the lowest scores, the most common problems (from the 问题清单) and the forms to correct.

It reads the per-file dicts of a batch (`BatchResult.iter_files()`, the objects of
`perfeval score --json`) one at a time and keeps only counts and the few rows it lists.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from perfeval_xlsx.report.draft import decimal_text, percent_text
from perfeval_xlsx.report.model import BODY, HEADING1, TABLE_TITLE, Paragraph, Report, Table
from perfeval_xlsx.report.wording import Wording
from perfeval_xlsx.rules.findings import CATALOGUE, ERROR, SEVERITY_LABEL, WARNING
from perfeval_xlsx.vocab import ERRORS, GRADES, PROVISIONAL, STATUS_LABEL, STATUSES, UNREADABLE

GRADE_WIDTHS = [52.0, 52.0, 52.0]
LOWEST_WIDTHS = [10.0, 44.0, 44.0, 16.0, 20.0, 22.0]
PROBLEM_WIDTHS = [70.0, 20.0, 36.0, 30.0]


@dataclass
class SummaryTally:
    """What the 汇总报告 keeps of a batch's files: `add` each per-file dict (a batch does it while
    its files are scored), then give the tally to draft_summary or write_summary_report."""

    files: int = 0
    statuses: Counter = field(default_factory=Counter)
    grades: Counter = field(default_factory=Counter)
    years: set = field(default_factory=set)
    budget: float = 0.0
    spent: float = 0.0
    money_files: int = 0
    graded: list[float] = field(default_factory=list)
    scored: list[tuple[float, str, str, str, str]] = field(default_factory=list)  # total, name, unit, grade, rate
    problem_files: Counter = field(default_factory=Counter)
    problem_count: Counter = field(default_factory=Counter)
    corrections: list[tuple[str, str, int, str]] = field(default_factory=list)  # project, file, errors, message

    def add(self, d: dict[str, Any]) -> None:
        self.files += 1
        status = d.get("status", UNREADABLE)
        self.statuses[status] += 1
        if status == UNREADABLE:
            return
        project = d.get("project") or {}
        name = project.get("name") or Path(str(d.get("file", ""))).stem
        if project.get("year"):
            self.years.add(project["year"])
        grade = d.get("grade") or ""
        if grade:
            self.grades[grade] += 1
        total = d.get("total")
        if isinstance(total, (int, float)):
            rate = percent_text(d.get("execution_rate")) or "—"
            self.scored.append((float(total), name, project.get("unit") or "", grade, rate))
            if grade in GRADES:
                self.graded.append(float(total))
        budget, spent = d.get("budget"), d.get("spent")
        if isinstance(budget, (int, float)) and isinstance(spent, (int, float)):
            self.budget += budget
            self.spent += spent
            self.money_files += 1
        findings = [f for f in d.get("findings") or [] if f.get("severity") in (ERROR, WARNING)]
        for code in {f.get("code") for f in findings}:
            self.problem_files[code] += 1
        self.problem_count.update(f.get("code") for f in findings)
        errors = [f for f in findings if f.get("severity") == ERROR]
        if status == ERRORS and errors:
            self.corrections.append((name, Path(str(d.get("file", ""))).name, len(errors), errors[0].get("message", "")))


def draft_summary(files: Iterable[dict[str, Any]] | SummaryTally, wording: Wording, *, skipped: int = 0,
                  generated_at: datetime | None = None) -> Report:
    """The 汇总报告 of the per-file dicts of a batch (or of their tally)."""
    if isinstance(files, SummaryTally):
        tally = files
    else:
        tally = SummaryTally()
        for d in files:
            tally.add(d)
    w = wording
    moment = generated_at or datetime.now()
    grade_order = [g for g in GRADES if tally.grades[g]] + [g for g in tally.grades if g not in GRADES]
    graded_files = sum(tally.grades.values())
    share = lambda n: percent_text(n / graded_files * 100) if graded_files else "0%"  # noqa: E731
    facts: dict[str, Any] = {
        "year": str(next(iter(tally.years))) if len(tally.years) == 1 else None,
        "date": f"{moment.year}年{moment.month}月{moment.day}日",
        "files": str(tally.files), "skipped": str(skipped) if skipped else None,
        "status_counts": "、".join(
            w.render("summary.status_item", {"status": STATUS_LABEL[s], "count": str(tally.statuses[s])}) or ""
            for s in STATUSES if tally.statuses[s]) or None,
        "budget": decimal_text(tally.budget) if tally.money_files else None,
        "spent": decimal_text(tally.spent) if tally.money_files else None,
        "execution_rate": percent_text(tally.spent / tally.budget * 100) if tally.money_files and tally.budget else None,
        "average": decimal_text(sum(tally.graded) / len(tally.graded)) if tally.graded else None,
        "graded": str(len(tally.graded)) if tally.graded else None,
        "provisional": str(tally.grades[PROVISIONAL]) if tally.grades[PROVISIONAL] else None,
        "grade_counts": "、".join(
            w.render("summary.grade_item", {"grade": g, "count": str(tally.grades[g]), "share": share(tally.grades[g])}) or ""
            for g in grade_order) or None,
    }
    blocks: list[Paragraph | Table] = []

    def say(key: str, style: str = BODY, extra: dict[str, Any] | None = None, prefix: str = "") -> None:
        text = w.render(key, {**facts, **(extra or {})})
        if text:
            blocks.append(Paragraph(prefix + text, style))

    say("summary.overview_heading", HEADING1)
    say("summary.overview")
    say("summary.money")

    say("summary.grades_heading", HEADING1)
    if grade_order:
        say("summary.grades")
        say("summary.grades_table_title", TABLE_TITLE)
        rows = [[g, str(tally.grades[g]), share(tally.grades[g]) or ""] for g in grade_order]
        rows.append([w.get("summary.grades_table_total"), str(graded_files), "100%"])
        blocks.append(Table(list(w.get("summary.grades_table_headers")), rows, list(GRADE_WIDTHS),
                            strong=frozenset({len(rows) - 1})))

    say("summary.lowest_heading", HEADING1)
    lowest = sorted(tally.scored, key=lambda t: (t[0], t[1]))[: int(w.get("summary.lowest_count"))]
    if lowest:
        say("summary.lowest", extra={"lowest": str(len(lowest))})
        say("summary.lowest_table_title", TABLE_TITLE)
        rows = [[str(i), name, unit, decimal_text(total) or "", grade, rate]
                for i, (total, name, unit, grade, rate) in enumerate(lowest, 1)]
        blocks.append(Table(list(w.get("summary.lowest_table_headers")), rows, list(LOWEST_WIDTHS), left=frozenset({1, 2})))

    say("summary.problems_heading", HEADING1)
    codes = sorted(tally.problem_files, key=lambda c: (-tally.problem_files[c], -tally.problem_count[c], c))
    if codes:
        say("summary.problems", extra={"problem_kinds": str(len(codes))})
        say("summary.problems_table_title", TABLE_TITLE)
        rows = []
        for code in codes[: int(w.get("summary.problems_count"))]:
            rule = CATALOGUE.get(code)
            rows.append([rule.title if rule else code, SEVERITY_LABEL.get(rule.severity, "") if rule else "",
                         str(tally.problem_files[code]), str(tally.problem_count[code])])
        blocks.append(Table(list(w.get("summary.problems_table_headers")), rows, list(PROBLEM_WIDTHS), left=frozenset({0})))
    else:
        say("summary.problems_none")

    say("summary.corrections_heading", HEADING1)
    if tally.corrections:
        say("summary.corrections")
        for i, (project, file, errors, message) in enumerate(sorted(tally.corrections, key=lambda c: c[1]), 1):
            say("summary.correction", extra={"project": project, "file": file, "errors": str(errors), "message": message},
                prefix=f"{i}.")
    else:
        say("summary.corrections_none")
    return Report(title=w.render("summary.title", facts) or "", subtitle=w.render("summary.subtitle", facts), blocks=blocks)


def write_summary_report(outbox: Path, files: Iterable[dict[str, Any]] | SummaryTally, wording: Wording, *, name: str,
                         skipped: int = 0, generated_at: datetime | None = None) -> Path:
    """Write the 汇总报告 as OUTBOX/`name` atomically."""
    from perfeval_xlsx.report.docx import write_docx

    report = draft_summary(files, wording, skipped=skipped, generated_at=generated_at)
    return write_docx(report, wording.style, Path(outbox) / name)
