"""The words and names every stage shares, defined once.

Everything a finance officer reads more than once — statuses, grades, the 定性 grades, sheet
names, file names, fonts — is defined here and imported by the modules that write it or read it.
A test (tests/test_layering.py) greps the package for stray copies of these literals.
"""

from __future__ import annotations

import re

# ---------------------------------------------------------------------------- statuses

#: a file's status, worst last; the CLI maps them to exit codes 0 / 0 / 1 / 2
OK, WARNINGS, ERRORS, UNREADABLE = "ok", "warnings", "errors", "unreadable"
STATUSES: tuple[str, ...] = (OK, WARNINGS, ERRORS, UNREADABLE)
STATUS_LABEL: dict[str, str] = {OK: "通过", WARNINGS: "有预警", ERRORS: "有错误", UNREADABLE: "无法读取"}


#: exit codes of check, score and batch
EXIT_OK, EXIT_ERRORS, EXIT_UNREADABLE, EXIT_INTERNAL = 0, 1, 2, 3
INTERNAL_CODE = "E-INTERNAL"


def exit_code(statuses, internal: bool = False) -> int:
    """0 all clean (warnings allowed), 1 some file has errors, 2 some file could not be read,
    3 the program itself failed on some file (not the form's fault)."""
    statuses = set(statuses)
    if internal:
        return EXIT_INTERNAL
    return EXIT_UNREADABLE if UNREADABLE in statuses else EXIT_ERRORS if ERRORS in statuses else EXIT_OK


def count_statuses(statuses) -> dict[str, int]:
    counts = dict.fromkeys(STATUSES, 0)
    for s in statuses:
        counts[s] = counts.get(s, 0) + 1
    return counts


def counts_sentence(counts: dict[str, int], total: int | None = None) -> str:
    """``共 3 个文件：通过 1，有预警 1，有错误 1，无法读取 0`` (no final full stop)."""
    total = sum(counts.get(s, 0) for s in STATUSES) if total is None else total
    parts = "，".join(f"{STATUS_LABEL[s]} {counts.get(s, 0)}" for s in STATUSES)
    return f"共 {total} 个文件：{parts}"


# ---------------------------------------------------------------------------- grades

#: the Ministry's grade names, best first (a profile may define its own bands and names)
GRADES: tuple[str, ...] = ("优", "良", "中", "差")
#: shown instead of a grade while a form has errors
PROVISIONAL = "待更正"

#: the three 定性 grades of 财预〔2020〕10号, short and long, best first
QUAL_ACHIEVED, QUAL_PARTIAL, QUAL_MISSED = "达成", "部分达成", "未达成"
QUAL_SHORT: tuple[str, ...] = (QUAL_ACHIEVED, QUAL_PARTIAL, QUAL_MISSED)
QUAL_LONG: tuple[str, ...] = ("达成年度指标", "部分达成年度指标并具有一定效果", "未达成年度指标且效果较差")
QUAL_LONG_OF: dict[str, str] = dict(zip(QUAL_SHORT, QUAL_LONG))
QUAL_SHORT_OF: dict[str, str] = dict(zip(QUAL_LONG, QUAL_SHORT))

# ---------------------------------------------------------------------------- sheets

SHEET_SUMMARY = "评分汇总"        # first sheet of a scored copy
SHEET_DETAIL = "评分明细"
SHEET_ISSUES = "问题清单"
SHEET_INSTRUCTIONS = "填表说明"   # in the templates
ROLLUP_SUMMARY = "项目汇总"       # the roll-up's sheets
ROLLUP_DETAIL = "指标明细"
ROLLUP_ISSUES = SHEET_ISSUES
ROLLUP_CHARTS = "图表"
ROLLUP_SKIPPED = "未处理文件"
#: sheets we write into a workbook: never the unit's form
OUTPUT_SHEETS = frozenset({SHEET_SUMMARY, SHEET_DETAIL, SHEET_ISSUES, SHEET_INSTRUCTIONS})

# ---------------------------------------------------------------------------- files

SCORED_TAG = "_评分"
SCORED_SUFFIXES: tuple[str, ...] = (".xlsx", ".xlsm")
ROLLUP_PREFIX = "汇总_"
ROLLUP_NAME = re.compile(r"^汇总_\d{8}-\d{6}(_\d+)?\.xlsx$")
BATCH_FILE = "perfeval-batch.json"      # OUTBOX: what `perfeval mail` reads
CACHE_FILE = ".perfeval-cache.json"     # OUTBOX: the batch cache
LOCK_FILE = ".perfeval-batch.lock"      # OUTBOX: one run at a time
MAIL_LOG = "perfeval-mail-log.jsonl"    # OUTBOX: messages accepted by the server
CONFIG_FILE = "perfeval.toml"           # current folder: [mail] settings
PASSWORD_ENV = "PERFEVAL_SMTP_PASSWORD"


#: the longest file name most file systems take, in bytes (UTF-8: a Chinese character is 3)
NAME_MAX_BYTES = 255


def fit_name(stem: str, tail: str, limit: int = NAME_MAX_BYTES) -> str:
    """``stem + tail``, the stem cut (at a character boundary) so that the name fits `limit` bytes."""
    room = limit - len(tail.encode("utf-8"))
    data = stem.encode("utf-8")
    if len(data) > room:
        stem = data[:max(room, 1)].decode("utf-8", "ignore").rstrip() or "表"
    return stem + tail


def scored_name(stem: str, suffix: str) -> str:
    """``单位A.xlsx`` → ``单位A_评分.xlsx`` (an .xlsm keeps its macros and its suffix); a stem too
    long for the file system with the tag added is shortened."""
    return fit_name(stem, f"{SCORED_TAG}{suffix}")


def rollup_name(stamp: str, attempt: int = 1) -> str:
    """``汇总_20261122-080001.xlsx``; a second roll-up in the same second gets ``_2``."""
    return f"{ROLLUP_PREFIX}{stamp}.xlsx" if attempt == 1 else f"{ROLLUP_PREFIX}{stamp}_{attempt}.xlsx"


def is_scored_name(name: str) -> bool:
    return any(name.endswith(f"{SCORED_TAG}{s}") for s in SCORED_SUFFIXES)


REPORT_TAG = "_自评报告"                 # <name>_自评报告.docx: the drafted 绩效自评报告
SUMMARY_REPORT_PREFIX = "汇总报告_"      # OUTBOX: 汇总报告_<date-time>.docx for the finance office


def report_name(stem: str) -> str:
    """``单位A`` → ``单位A_自评报告.docx``."""
    return fit_name(stem, f"{REPORT_TAG}.docx")


def summary_report_name(stamp: str, attempt: int = 1) -> str:
    """``汇总报告_20261122-080001.docx`` (the stamp of the roll-up it goes with)."""
    return f"{SUMMARY_REPORT_PREFIX}{stamp}.docx" if attempt == 1 else f"{SUMMARY_REPORT_PREFIX}{stamp}_{attempt}.docx"


# ---------------------------------------------------------------------------- fonts

FONT = "宋体"          # body text of every workbook we write
TITLE_FONT = "黑体"    # titles

# ---------------------------------------------------------------------------- sizes

MB = 1024 * 1024
