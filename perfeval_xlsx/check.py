"""Check one file: read it, validate every cell, apply the rules; never raise on bad input.

`check_file` is what `perfeval check`, `perfeval score` and `perfeval batch` call for each file.
A file that cannot be read yields one finding and status `unreadable`, not an exception.
"""

from __future__ import annotations

import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from perfeval_xlsx.reading.files import NOT_REGULAR, is_regular
from perfeval_xlsx.reading.safety import FileProblem
from perfeval_xlsx.result import empty_project
from perfeval_xlsx.rules.findings import Finding, finding, plain, status_of
from perfeval_xlsx.vocab import UNREADABLE
from perfeval_xlsx.rules.profile import DEFAULT_PROFILE, FORM_PROFILES, Profile, load_profile


@dataclass
class CheckResult:
    file: str
    status: str  # ok | warnings | errors | unreadable
    project: dict[str, Any]
    findings: list[Finding]
    profile: str = ""
    form: Any = None  # model.Form
    workbook: Any = None  # an openpyxl workbook, where the reader loaded one (our own outputs, the fallback)
    validated: Any = None  # validate.Validated
    score: Any = None  # scoring.FormScore
    kind: str = "xlsx"  # the file's real format: xlsx | xls | ods
    grid: Any = None  # grid.WorkbookGrid the form was read from (only with keep_workbook=True)
    formula_source: Any = None  # the .xlsx holding the formulas' results, when not the file itself
    copy_note: str | None = None  # said on 评分汇总 when the scored copy is not the unit's workbook as it was

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




CORRUPT_MESSAGE = "文件已损坏（压缩数据或内容不完整），无法读取。请在 Excel/WPS 中打开并另存为新文件后重新提交。"
TOO_BIG_MESSAGE = "文件过大或结构异常，读取时内存不足，未能读取。请删除多余的空行、图片后重新保存再提交。"


def internal_message(exc: BaseException) -> str:
    return (f"读取或评分这份表时程序内部出错（{type(exc).__name__}），这不是表的填写问题。"
            "请把这份表发给技术支持；其他表不受影响。")


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
    from perfeval_xlsx.reading.reader import load
    from perfeval_xlsx.rules.scoring import score_form
    from perfeval_xlsx.rules.validate import validate

    path = Path(path)

    def unreadable(code: str, message: str) -> CheckResult:
        f = finding(code, "", "", "file", path.name, message)
        return CheckResult(str(path), UNREADABLE, empty_project(), [f])

    try:
        if path.exists() and not is_regular(path):
            raise FileProblem("E-FILE-FORMAT", NOT_REGULAR)  # a FIFO would block the reader
        loaded = load(path, keep_vba=path.suffix.lower() == ".xlsm", workbook=False)
    except FileProblem as problem:
        return unreadable(problem.code, problem.message)
    except (zlib.error, zipfile.BadZipFile, EOFError, OverflowError):
        return unreadable("E-FILE-CORRUPT", CORRUPT_MESSAGE)
    except MemoryError:
        return unreadable("E-FILE-UNSAFE", TOO_BIG_MESSAGE)
    except Exception as exc:  # noqa: BLE001 - our mistake, not the unit's: said as such, never a traceback
        return unreadable("E-INTERNAL", internal_message(exc))
    prof = resolve_profile(profile, loaded.form.kind)  # a bad profile is the caller's mistake: raised
    try:
        validated = validate(loaded.form, prof)
        computed = _compute_formulas(path, loaded, validated.findings)
        if computed is not None and computed.values:
            validated = validate(loaded.form, prof)
        form = loaded.form
        scored = score_form(validated)
        findings = scored.findings + _computed_findings(form, computed)
    except FileProblem as problem:
        return unreadable(problem.code, problem.message)
    except Exception as exc:  # noqa: BLE001
        return unreadable("E-INTERNAL", internal_message(exc))
    return CheckResult(str(path), status_of(findings), form.project, findings,
                       profile=prof.name, form=form, validated=validated, score=scored,
                       workbook=loaded.workbook if keep_workbook else None, kind=loaded.kind,
                       grid=loaded.grid if keep_workbook else None)


def _compute_formulas(path: Path, loaded, findings: list[Finding]) -> Any:
    """Formulas the validator needed a value of (E-FORMULA-NO-VALUE) but the file holds no
    result for: computed (reading.recalc), and the form read again with them. An error stays
    only where no engine could compute it."""
    from perfeval_xlsx.reading.recalc import compute

    addresses = [f.cell for f in findings if f.code == "E-FORMULA-NO-VALUE" and f.cell and f.sheet == loaded.form.sheet]
    if not addresses:
        return None
    computed = compute(path, loaded.kind, loaded.form.sheet, list(dict.fromkeys(addresses)))
    if computed.values:
        loaded.reread(computed.values)
    return computed


def _computed_findings(form, computed) -> list[Finding]:
    from perfeval_xlsx.reading.recalc import ENGINES

    if computed is None:
        return []
    out = []
    for address, value in computed.values.items():
        engine = ENGINES.get(computed.engine.get(address, ""), "")
        out.append(finding("I-FORMULA-COMPUTED", form.sheet, address, "formula", value,
                           f"公式在文件中没有保存计算结果（文件可能由其他程序生成），已用{engine}计算，结果为 {value}，按此评分。"
                           "如与 Excel/WPS 中显示的不同，请在 Excel/WPS 中打开并保存后重新提交。"))
    return out


def score_summary(result: CheckResult) -> dict[str, Any]:
    """The scores of a result as plain data (the `--json` fields of `perfeval score`)."""
    from perfeval_xlsx.numbers import as_float as num

    s = result.score
    if s is None:
        return {"execution_rate": None, "execution_score": None, "total": None, "grade": None, "indicators": []}

    indicators = []
    for r in s.records:
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
