"""Check one file: read it, validate every cell, apply the rules; never raise on bad input.

`check_file` is what `perfeval check`, `perfeval score` and `perfeval batch` call for each file.
A file that cannot be read yields one finding and status `unreadable`, not an exception.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from perfeval_xlsx.reading.safety import FileProblem
from perfeval_xlsx.rules.findings import Finding, finding, plain, status_of
from perfeval_xlsx.rules.profile import DEFAULT_PROFILE, FORM_PROFILES, Profile, load_profile


@dataclass
class CheckResult:
    file: str
    status: str  # ok | warnings | errors | unreadable
    project: dict[str, Any]
    findings: list[Finding]
    profile: str = ""
    form: Any = None  # model.Form
    workbook: Any = None  # the loaded openpyxl workbook (only with keep_workbook=True)
    validated: Any = None  # validate.Validated
    score: Any = None  # scoring.FormScore

    def to_dict(self, with_scores: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "file": self.file,
            "status": self.status,
            "project": self.project,
            "findings": [f.to_dict() for f in self.findings],
        }
        if with_scores:
            out.update(score_summary(self))
        return plain(out)


EMPTY_PROJECT = {"name": None, "department": None, "unit": None, "year": None}


def resolve_profile(profile: str | Path | Profile | None, form_kind: str) -> Profile:
    """`None` (auto): the profile of the form's kind — mof-2020, or framework-70 for the
    common-framework form."""
    if isinstance(profile, Profile):
        return profile
    if profile is None or str(profile) == "auto":
        return load_profile(FORM_PROFILES.get(form_kind, DEFAULT_PROFILE))
    return load_profile(profile)


def check_file(path: str | Path, profile: str | Path | Profile | None = None, *,
               keep_workbook: bool = False) -> CheckResult:
    """Read, validate and score one workbook. Profile errors (ProfileError) are the caller's
    mistake and are raised; anything wrong with the file becomes a finding."""
    from perfeval_xlsx.reading.reader import load_form
    from perfeval_xlsx.rules.scoring import score_form
    from perfeval_xlsx.rules.validate import validate

    path = Path(path)
    try:
        wb, form = load_form(path, keep_vba=path.suffix.lower() == ".xlsm")
    except FileProblem as problem:
        f = finding(problem.code, "", "", "file", path.name, problem.message)
        return CheckResult(str(path), "unreadable", dict(EMPTY_PROJECT), [f])
    prof = resolve_profile(profile, form.kind)
    validated = validate(form, prof)
    scored = score_form(validated)
    return CheckResult(str(path), status_of(scored.findings), form.project, scored.findings,
                       profile=prof.name, form=form, validated=validated, score=scored,
                       workbook=wb if keep_workbook else None)


def score_summary(result: CheckResult) -> dict[str, Any]:
    """The scores of a result as plain data (the `--json` fields of `perfeval score`)."""
    from perfeval_xlsx.rules.scoring import as_float as num
    from perfeval_xlsx.rules.scoring import records

    s = result.score
    if s is None:
        return {"execution_rate": None, "execution_score": None, "total": None, "grade": None, "indicators": []}

    indicators = []
    for r in records(s.rows):
        indicators.append({
            "sheet": r.sheet, "row": int(r.row), "level1": r.level1, "level2": r.level2, "level3": r.level3,
            "operator": r.operator, "target": num(r.target) if r.kind == "quant" else r.target_text,
            "actual": num(r.actual) if r.kind == "quant" else r.actual_text, "unit": r.unit,
            "weight": num(r.weight), "self_score": num(r.self_score), "score": num(r.score), "rule": r.rule,
        })
    return {
        "execution_rate": num(s.execution_rate),
        "execution_score": num(s.execution_score),
        "total": num(s.total),
        "grade": s.grade,
        "indicators": indicators,
    }
