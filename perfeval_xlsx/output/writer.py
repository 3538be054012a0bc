"""Write the scored copy: the unit's own workbook with the scores filled in as values, problem
cells highlighted with a comment, and three sheets in front and behind: 评分汇总, 评分明细,
问题清单. The input file is never touched; the copy is written to a temporary file and renamed.

Two writers make the same copy (output.form_sheet and output.summary_sheets decide what goes
in): for an .xlsx/.xlsm the patching writer (output.xlsx_patch) copies the unit's workbook member
by member and patches only what changes, keeping everything it does not touch byte for byte;
where it declines a workbook, or for a form converted from .xls/.ods, a scored copy scored
again and the like, the openpyxl writer (output.openpyxl_writer) loads and saves it. A copy the
openpyxl writer made of an .xlsx is said in an info finding (I-COPY-REWRITTEN).
"""

from __future__ import annotations

from pathlib import Path

from perfeval_xlsx.check import CheckResult
from perfeval_xlsx.vocab import scored_name as _scored_name

WRITERS = ("auto", "patch", "openpyxl")


def scored_name(source: Path) -> str:
    suffix = ".xlsm" if source.suffix.lower() == ".xlsm" else ".xlsx"
    return _scored_name(source.stem, suffix)


def write_scored_copy(result: CheckResult, source: Path, target: Path, writer: str = "auto") -> Path:
    """Write the scored copy of `source` (read into `result` by check_file(..., keep_workbook=True)).
    `writer`: "auto" (patching, else openpyxl), "patch" (patching only: raises Unsupported where
    it declines) or "openpyxl"."""
    if writer not in WRITERS:
        raise ValueError(f"writer must be one of {WRITERS}")
    if writer == "patch" and (result.workbook is not None or result.kind != "xlsx"):
        from perfeval_xlsx.output.xlsx_patch import Unsupported

        raise Unsupported("not an .xlsx read from its XML")
    if writer != "openpyxl" and result.workbook is None and result.kind == "xlsx":
        from perfeval_xlsx.output.xlsx_patch import Unsupported, write_patched

        try:
            return write_patched(result, source, target)
        except Unsupported:
            if writer == "patch":
                raise
            _say_rewritten(result)
    from perfeval_xlsx.output.openpyxl_writer import write_with_openpyxl

    if result.workbook is None:
        load_workbook_for(result, source)
    return write_with_openpyxl(result, source, target)


def load_workbook_for(result: CheckResult, source: Path) -> None:
    """The unit's .xlsx loaded by openpyxl, for the openpyxl writer."""
    from perfeval_xlsx.reading.mark import read_as_form
    from perfeval_xlsx.reading.reader import open_workbook

    result.workbook = open_workbook(source, keep_vba=source.suffix.lower() == ".xlsm")
    read_as_form(result.workbook)


def _say_rewritten(result: CheckResult) -> None:
    from perfeval_xlsx.rules.findings import finding

    result.findings.append(finding(
        "I-COPY-REWRITTEN", "", "", "file", None,
        "评分副本由备用方式重新生成（本工作簿含有逐项复制方式不支持的结构），表格内容、格式和评分完整，"
        "但原表中的图片、形状、部分批注和数据有效性格式可能未保留；原文件未改动。"))
