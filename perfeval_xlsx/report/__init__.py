"""Draft the 项目支出绩效自评报告 of a scored form, and the 汇总报告 of a batch, as .docx.

    from perfeval_xlsx.report import report_file, load_template
    outcome = report_file("单位A.xlsx", "报告/")       # 报告/单位A_自评报告.docx
    outcome.result.status, outcome.output

One module a step: ``wording`` (the editable template, TOML: every sentence), ``draft`` (one
form's report as plain data: model.Report), ``summary`` (the batch's 汇总报告), ``docx``
(typography: python-docx). `perfeval report` and `perfeval batch --report` call these.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from perfeval_xlsx.check import CheckResult
from perfeval_xlsx.report.wording import DEFAULT_TEMPLATE, Wording, available_templates, load_template
from perfeval_xlsx.vocab import UNREADABLE, report_name

__all__ = ["DEFAULT_TEMPLATE", "ReportOutcome", "Wording", "add_report", "available_templates", "load_template",
           "report_file", "report_path", "write_report"]


@dataclass
class ReportOutcome:
    result: CheckResult
    output: Path | None  # None: the form could not be read (no report)


def report_path(source: Path, out_dir: Path | None) -> Path:
    """``单位A.xlsx`` → ``<out_dir>/单位A_自评报告.docx`` (beside the source by default)."""
    source = Path(source)
    return (Path(out_dir) if out_dir is not None else source.parent) / report_name(source.stem)


def _wording(template: str | Path | Wording | None) -> Wording:
    return template if isinstance(template, Wording) else load_template(template)


def write_report(result: CheckResult, target: Path, template: str | Path | Wording | None = None) -> Path:
    """Draft the report of a checked form (not unreadable) and write it to `target` atomically."""
    from perfeval_xlsx.report.docx import write_docx
    from perfeval_xlsx.report.draft import draft_report

    wording = _wording(template)
    return write_docx(draft_report(result, wording), wording.style, target)


def report_file(path: str | Path, out_dir: str | Path | None = None, profile: Any = None,
                template: str | Path | Wording | None = None) -> ReportOutcome:
    """Check and score `path`, then write its report; never raises for a bad input file (an
    unreadable form gives no report). Template and profile errors are raised (usage errors)."""
    from perfeval_xlsx.check import check_file
    from perfeval_xlsx.rules.findings import finding

    wording = _wording(template)
    source = Path(path)
    result = check_file(source, profile)
    if result.status == UNREADABLE or result.score is None:
        return ReportOutcome(result, None)
    target = report_path(source, Path(out_dir) if out_dir is not None else None)
    try:
        write_report(result, target, wording)
    except OSError as exc:
        result.findings.append(finding("E-FILE-IO", "", "", "file", str(target),
                                       f"自评报告无法写入“{target}”：{exc.strerror or exc}。请检查输出文件夹是否可写、"
                                       "文件是否正在 Word/WPS 中打开。"))
        result.status = UNREADABLE
        return ReportOutcome(result, None)
    return ReportOutcome(result, target)


def add_report(outcome: Any, result: dict[str, Any], wording: Wording) -> None:
    """A batch worker's step after scoring: write the report beside the scored copy and record
    it in the per-file dict (``report``: its path). A report that cannot be written is an
    E-FILE-IO finding, so the next run tries again."""
    from perfeval_xlsx.rules.findings import finding

    if outcome.output is None or outcome.result.score is None:
        return
    target = report_path(Path(outcome.result.file), Path(outcome.output).parent)
    try:
        write_report(outcome.result, target, wording)
    except OSError as exc:
        message = (f"自评报告无法写入“{target}”：{exc.strerror or exc}。请检查输出文件夹是否可写、"
                   "文件是否正在 Word/WPS 中打开。")
        result["findings"].append(finding("E-FILE-IO", "", "", "file", str(target), message).to_dict())
        result["status"] = UNREADABLE
        return
    result["report"] = str(target)
