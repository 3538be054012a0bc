"""The roll-up workbook of a batch: ``汇总_<YYYYmmdd-HHMMSS>.xlsx``, written with xlsxwriter.

Sheets:

- ``项目汇总`` — one row per file: 主管部门, 实施单位, 项目名称, 年度, 全年预算数, 全年执行数, 执行率,
  总分, 等级, 错误数, 预警数, 状态, 源文件, 评分副本 (a link); then a 合计/平均 row (money summed,
  执行率 of the sums, the average 总分 of the projects with a grade, problems counted);
- ``指标明细`` — every indicator of every file, with its file;
- ``问题清单`` — every finding of every file with its cell, errors first;
- ``图表`` — native Excel charts (grade distribution, score ranking, execution-rate distribution)
  over small value tables on the same sheet;
- ``未处理文件`` — only when some spreadsheet files were not scored, with the reason.

The input is plain per-file dicts (the objects of ``perfeval score --json``) read one at a time:
xlsxwriter runs in constant-memory mode and the warnings and notes wait in temporary files, so a
batch of any size is written without holding it in memory. A batch feeds a RollupWriter as its
files are scored (in listing order), so that only the totals, the charts and closing the file are
left for the end. Every cell holds a value (no formulas). The
file is written to a temporary name and then given its final name, never overwriting another
roll-up (two runs in the same second get ``_2``, ``_3``…); the roll-ups written before into the
same folder are then removed (kept with ``keep_older``), so that one current roll-up is there.
It carries the roll-up mark (reading.mark), so that it is never read as a form.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

from perfeval_xlsx import __version__
from perfeval_xlsx.numbers import as_float
from perfeval_xlsx.output.atomic import new_temp_file, try_lock
from perfeval_xlsx.output.textfit import LINE_HEIGHT, lines_needed, text_width
from perfeval_xlsx.reading.mark import ROLLUP, mark_properties, read_mark
from perfeval_xlsx.rules.findings import CATALOGUE, SEVERITY_LABEL
from perfeval_xlsx.result import FileResult
from perfeval_xlsx.vocab import (
    ERRORS, FONT, GRADES, OK, PROVISIONAL, ROLLUP_CHARTS, ROLLUP_DETAIL, ROLLUP_ISSUES, ROLLUP_SKIPPED, ROLLUP_SUMMARY,
    ROLLUP_NAME, STATUS_LABEL, UNREADABLE, WARNINGS,
)

# the same texts (file, unit and project names, rule wordings) come back on many rows
_width = lru_cache(maxsize=8192)(text_width)
_lines = lru_cache(maxsize=8192)(lines_needed)


def _row_height(texts_and_widths: list[tuple[str, float]], minimum: float = 18.0) -> float:
    """As textfit.row_height, with the line counts cached."""
    return max(minimum, max(_lines(t, w) for t, w in texts_and_widths) * LINE_HEIGHT + 4)

SUMMARY, DETAIL, ISSUES, CHARTS, SKIPPED = ROLLUP_SUMMARY, ROLLUP_DETAIL, ROLLUP_ISSUES, ROLLUP_CHARTS, ROLLUP_SKIPPED
BEST, GOOD, FAIR, POOR = GRADES
GRADE_COLORS = {  # (fill, font): the scored copy's colours
    BEST: ("#C6EFCE", "#006100"), GOOD: ("#DDEBF7", "#1F4E78"), FAIR: ("#FFEB9C", "#9C5700"),
    POOR: ("#FFC7CE", "#9C0006"), PROVISIONAL: ("#FFC7CE", "#9C0006"),
}
BAR_COLORS = {BEST: "#70AD47", GOOD: "#5B9BD5", FAIR: "#FFC000", POOR: "#C00000", PROVISIONAL: "#FF7C80"}
OTHER_GRADE_COLOR = "#A5A5A5"  # a grade name of a region's own profile
STATUS_COLORS = {STATUS_LABEL[OK]: GRADE_COLORS[BEST], STATUS_LABEL[WARNINGS]: GRADE_COLORS[FAIR],
                 STATUS_LABEL[ERRORS]: GRADE_COLORS[POOR], STATUS_LABEL[UNREADABLE]: GRADE_COLORS[POOR]}
#: 执行率 bands (percent): each includes its lower bound and excludes its upper one
RATE_BANDS = (("60%以下", None, 60.0), ("60%–80%", 60.0, 80.0), ("80%–90%", 80.0, 90.0),
              ("90%–100%", 90.0, 100.0), ("100%及以上", 100.0, None))
MAX_ROWS = 1_048_576  # Excel's limit per sheet
MAX_LINKS = 65_000  # Excel's limit of hyperlinks per sheet is 65,530
RANK_ALL_UP_TO = 30  # more projects than this: the ranking charts show the top and bottom 15
RANK_SHOWN = 15

# (header, kind, minimum width, maximum width)
SUMMARY_COLUMNS = (
    ("主管部门", "wrap", 10, 20), ("实施单位", "wrap", 10, 20), ("项目名称", "wrap", 12, 26),
    ("年度", "year", 6, 6), ("全年预算数（万元）", "money", 12, 12), ("全年执行数（万元）", "money", 12, 12),
    ("执行率", "pct", 9, 9), ("总分", "score", 7, 8), ("等级", "center", 7, 7), ("错误数", "int", 7, 7),
    ("预警数", "int", 7, 7), ("状态", "center", 9, 9), ("源文件", "wrap", 12, 32), ("评分副本", "link", 12, 40),
)
SUMMARY_PRINTED = 13  # the link column is for the screen: the printout stops at 源文件
DETAIL_COLUMNS = (
    ("源文件", "wrap", 10, 30), ("实施单位", "wrap", 10, 20), ("项目名称", "wrap", 10, 20),
    ("一级指标", "text", 8, 14), ("二级指标", "text", 8, 18), ("三级指标", "wrap", 10, 30),
    ("指标性质", "center", 7, 8), ("年度指标值", "value", 9, 20), ("实际完成值", "value", 9, 20),
    ("计量单位", "center", 7, 10), ("分值", "weight", 6, 7), ("自评得分", "score", 8, 8), ("复核得分", "score", 8, 8),
    ("规则说明", "wrap", 16, 40), ("工作表", "text", 8, 16), ("行号", "int", 5, 5),
)
ISSUES_COLUMNS = (
    ("级别", "center", 6, 6), ("源文件", "wrap", 10, 30), ("项目名称", "wrap", 10, 20), ("工作表", "text", 7, 12),
    ("单元格", "center", 7, 8), ("代码", "text", 10, 22), ("问题", "wrap", 12, 24), ("说明及改法", "wrap", 30, 64),
)


def rollup_name(moment: datetime, attempt: int = 1) -> str:
    stamp = moment.strftime("%Y%m%d-%H%M%S")
    return f"汇总_{stamp}.xlsx" if attempt == 1 else f"汇总_{stamp}_{attempt}.xlsx"




def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _rate_band(rate: float | None) -> int | None:
    if rate is None:
        return None
    for i, (_, low, high) in enumerate(RATE_BANDS):
        if (low is None or rate >= low) and (high is None or rate < high):
            return i
    return None  # pragma: no cover


class _Sheet:
    """One table sheet: header row, typed cells, widths fitted to the text, filter, frozen header."""

    def __init__(self, workbook, formats: dict[str, Any], name: str, columns: tuple):
        self.ws = workbook.add_worksheet(name)
        self.name = name
        self.formats = formats
        self.columns = columns
        self.widths = [max(low, text_width(h) + 2) for h, _, low, _ in columns]
        self.row = 0
        self.links = 0
        self.truncated = 0
        self.ws.set_row(0, 30)
        for c, (header, *_rest) in enumerate(columns):
            self.ws.write_string(0, c, header, formats["header"])
        self.row = 1
        self.data_end: int | None = None  # rows after it (the 合计 row) are no data

    def full(self) -> bool:
        return self.row >= MAX_ROWS - 1  # keep the last row for the note

    def add(self, values: list[Any]) -> None:
        if self.full():
            self.truncated += 1
            return
        ws, f, r = self.ws, self.formats, self.row
        wrapped = [(str(v), self.columns[c][3]) for c, v in enumerate(values)
                   if self.columns[c][1] == "wrap" and v not in (None, "")]
        if wrapped:
            ws.set_row(r, _row_height(wrapped))
        for c, value in enumerate(values):
            kind, cap = self.columns[c][1], self.columns[c][3]
            if kind in ("money", "pct", "score", "int", "year", "weight"):
                number = as_float(value)
                if number is None:
                    ws.write_blank(r, c, None, f[kind])
                else:
                    ws.write_number(r, c, number, f[kind])
                    shown = f"{number:,.2f}" if kind in ("money", "score") else f"{number:.2f}%" if kind == "pct" else _text(number)
                    self._fit(c, shown, cap)
            elif kind == "value":  # a number or a text (定性 values)
                number = as_float(value)
                if number is not None:
                    ws.write_number(r, c, number, f["general"])
                    self._fit(c, _text(number), cap)
                elif value not in (None, ""):
                    ws.write_string(r, c, str(value), f["center"])
                    self._fit(c, str(value), cap)
                else:
                    ws.write_blank(r, c, None, f["center"])
            elif kind == "link":
                target, shown = value if value else (None, "")
                if target and self.links < MAX_LINKS and "#" not in target and len(target) < 2000:
                    ws.write_url(r, c, "external:" + target, f["link"], string=shown, tip="打开评分副本")
                    self.links += 1
                elif shown:
                    ws.write_string(r, c, shown, f["text"])
                else:
                    ws.write_blank(r, c, None, f["text"])
                self._fit(c, shown, cap)
            else:
                text = _text(value)
                fmt = f["wrap"] if kind == "wrap" else f["center"] if kind == "center" else f["text"]
                if text:
                    ws.write_string(r, c, text, fmt)
                    self._fit(c, text, cap)
                else:
                    ws.write_blank(r, c, None, fmt)
        self.row += 1
        self._forget_written_row()

    def _forget_written_row(self) -> None:
        """xlsxwriter keeps the height of every row given one until the file is closed, although in
        constant-memory mode a row is on disk as soon as a cell of a later row is written: a table
        sheet (no drawings to place by row heights) forgets it then, so that memory stays flat."""
        written = getattr(self.ws, "previous_row", None)  # the row being filled; those above are on disk
        if not isinstance(written, int):
            return
        for name in ("row_info", "row_sizes"):
            heights = getattr(self.ws, name, None)
            if isinstance(heights, dict):
                heights.pop(written - 1, None)

    def _fit(self, c: int, text: str, cap: float) -> None:
        width = min(_width(text) + 2, cap)
        if width > self.widths[c]:
            self.widths[c] = width

    def finish(self, empty_note: str, generated: str) -> None:
        ws = self.ws
        _page(ws, self.name, generated, repeat_header=True)  # page setup is written at close: any time will do
        last = len(self.columns) - 1
        if self.row == 1:
            ws.write_string(1, 0, empty_note, self.formats["note"])
            self.row = 2
        for c, width in enumerate(self.widths):
            ws.set_column(c, c, width)
        end = self.data_end if self.data_end is not None else self.row
        ws.autofilter(0, 0, max(end - 1, 1), last)
        ws.freeze_panes(1, 0)
        if self.truncated:
            ws.write_string(self.row, 0, f"另有 {self.truncated} 行超过 Excel 的行数上限，未列出；请查看各文件的评分副本。",
                            self.formats["note"])


def _page(ws, title: str, generated: str, repeat_header: bool = False) -> None:
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    ws.set_header(f"&L项目支出绩效自评 {title}&R生成时间：{generated}")
    ws.set_footer("&C第 &P 页，共 &N 页")
    if repeat_header:
        ws.repeat_rows(0)


def _formats(workbook) -> dict[str, Any]:
    border = {"border": 1, "border_color": "#A6A6A6", "valign": "vcenter"}
    f = {
        "header": workbook.add_format({**border, "bold": True, "bg_color": "#DDEBF7", "align": "center",
                                       "text_wrap": True}),
        "text": workbook.add_format({**border}),
        "center": workbook.add_format({**border, "align": "center"}),
        "wrap": workbook.add_format({**border, "text_wrap": True}),
        "general": workbook.add_format({**border, "align": "center"}),
        "money": workbook.add_format({**border, "num_format": "#,##0.00"}),
        "pct": workbook.add_format({**border, "num_format": "0.00%"}),
        "score": workbook.add_format({**border, "num_format": "0.00"}),
        "weight": workbook.add_format({**border, "align": "center"}),  # 分值 as written: 10, 7.5
        "total_label": workbook.add_format({**border, "bold": True, "bg_color": "#F2F2F2", "text_wrap": True}),
        "total_money": workbook.add_format({**border, "bold": True, "bg_color": "#F2F2F2", "num_format": "#,##0.00"}),
        "total_pct": workbook.add_format({**border, "bold": True, "bg_color": "#F2F2F2", "num_format": "0.00%"}),
        "total_score": workbook.add_format({**border, "bold": True, "bg_color": "#F2F2F2", "num_format": "0.00"}),
        "total_int": workbook.add_format({**border, "bold": True, "bg_color": "#F2F2F2", "num_format": "0",
                                          "align": "center"}),
        "total_blank": workbook.add_format({**border, "bg_color": "#F2F2F2"}),
        "int": workbook.add_format({**border, "num_format": "0", "align": "center"}),
        "year": workbook.add_format({**border, "num_format": "0", "align": "center"}),
        "link": workbook.add_format({**border, "font_color": "#0563C1", "underline": 1}),
        "note": workbook.add_format({"italic": True, "font_color": "#595959"}),
        "title": workbook.add_format({"bold": True, "font_size": 12}),
    }
    return f


def _color_rules(workbook, formats, ws, first_row: int, last_row: int, col: int,
                 labels: dict[str, tuple[str, str]]) -> None:
    """Colour the cells of one column by their text (优 green … 差/待更正 red)."""
    for label, (fill, font) in labels.items():
        key = f"color:{fill}:{font}"
        if key not in formats:
            formats[key] = workbook.add_format({"bg_color": fill, "font_color": font, "bold": True})
        ws.conditional_format(first_row, col, max(last_row, first_row), col, {
            "type": "cell", "criteria": "==", "value": f'"{label}"', "format": formats[key]})


def write_rollup(
    outbox: str | Path,
    files: Iterable[dict[str, Any]],
    *,
    skipped: Iterable[Any] = (),
    generated_at: datetime | None = None,
    profile: str = "",
    relative_to: str | Path | None = None,
    keep_older: bool = False,
) -> Path:
    """Write the roll-up of `files` (per-file dicts, in the order to list them; their "output",
    if relative, is relative to `outbox`) into `outbox`; return its path. `skipped`: objects or
    dicts with `file` and `reason`. `relative_to`: shorten each "file" to its path below it.
    The roll-ups written before into `outbox` are removed unless `keep_older`.

    The same as RollupWriter fed one file at a time (what a batch does while its files are scored)."""
    rollup = RollupWriter(outbox, profile=profile, relative_to=relative_to)
    try:
        for d in files:
            rollup.add(d)
    except BaseException:
        rollup.abandon()
        raise
    return rollup.finish(skipped=skipped, generated_at=generated_at, keep_older=keep_older)


class RollupWriter:
    """The roll-up written while a batch runs: `add` each file's dict as soon as it and every file
    listed before it are there (the sheets are streamed, xlsxwriter's constant-memory mode), then
    `finish` writes what needs the whole batch — the 合计/平均 row, the warnings and notes of the
    问题清单 (errors are listed first, as they come), the charts, 未处理文件 — and gives the file
    its name. `abandon` removes everything written so far (an interrupted batch).

    The per-file work (typed cells, fitted widths and row heights, the sheets' XML) is done in
    `add`, so that the end of a batch does not grow with the size of the forms."""

    def __init__(self, outbox: str | Path, *, profile: str = "", relative_to: str | Path | None = None):
        import xlsxwriter

        self.outbox = Path(outbox)
        self.profile = profile
        self.base = Path(relative_to).resolve() if relative_to is not None else None
        self.files = 0
        self._closed = False
        fh, tmp_name = new_temp_file(self.outbox, ".perfeval-rollup-", ".xlsx.tmp")
        fh.close()
        self.tmp = Path(tmp_name)
        self._spills: dict[str, Any] = {}
        self._scratch: str | None = None
        self._scratch_lock = None
        try:
            # the worksheets' row data waits in files of a folder of our own until close
            self._scratch, self._scratch_lock = new_scratch()
            self._spills = {sev: tempfile.TemporaryFile("w+", encoding="utf-8") for sev in ("warning", "info")}
            self.workbook = workbook = xlsxwriter.Workbook(str(self.tmp), {
                "constant_memory": True, "tmpdir": self._scratch,
                "default_format_properties": {"font_name": FONT, "font_size": 10},
                "strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False,
            })
            for name, value in mark_properties(ROLLUP, __version__):
                workbook.set_custom_property(name, value)
            self.formats = _formats(workbook)
            self.summary = _Sheet(workbook, self.formats, SUMMARY, SUMMARY_COLUMNS)
            self.detail = _Sheet(workbook, self.formats, DETAIL, DETAIL_COLUMNS)
            self.issues = _Sheet(workbook, self.formats, ISSUES, ISSUES_COLUMNS)
            self.charts = workbook.add_worksheet(CHARTS)
            self.stats = _Stats()
        except BaseException:
            self.abandon()
            raise

    def add(self, d: dict[str, Any]) -> None:
        """One file's per-file dict (the objects of `perfeval score --json`), in listing order."""
        r = FileResult.from_dict(d)
        source = _source_name(r.file, self.base)
        project = r.project
        name = _text(project.get("name"))
        errors, warnings = len(r.errors), len(r.warnings)
        status = r.status
        rate = r.execution_rate
        output = r.output
        link = None
        if output:
            out = Path(output)
            target = out.as_posix() if not out.is_absolute() else _relative_or_absolute(out, self.outbox)
            link = (target, out.name)
        self.summary.add([
            project.get("department"), project.get("unit"), name, project.get("year"),
            r.budget, r.spent, None if rate is None else rate / 100, r.total,
            r.grade, errors, warnings, STATUS_LABEL.get(status, status), source, link,
        ])
        for ind in r.indicators:
            self.detail.add([
                source, project.get("unit"), name, ind.get("level1"), ind.get("level2"), ind.get("level3"),
                ind.get("operator"), ind.get("target"), ind.get("actual"), ind.get("unit"),
                ind.get("weight"), ind.get("self_score"), ind.get("score"), ind.get("rule"),
                ind.get("sheet"), ind.get("row"),
            ])
        for x in r.findings:
            message, cell = x.get("message") or "", x.get("cell") or ""
            if cell and message.startswith(f"{cell}："):  # the cell has its own column
                message = message[len(cell) + 1:]
            row = [source, name, x.get("sheet"), cell, x.get("code"), message, x.get("severity")]
            if x.get("severity") == "error":  # errors come first in 问题清单: listed at once
                self._issue(row)
            else:  # warnings, then notes: after all the errors
                spill = self._spills.get(x.get("severity"), self._spills["info"])
                spill.write(json.dumps(row, ensure_ascii=False) + "\n")
        self.stats.add(status, r.grade, r.total, rate, name or Path(source).stem, _text(project.get("unit")), source)
        self.stats.add_money(status, r.budget, r.spent, errors, warnings)
        self.files += 1

    def _issue(self, row: list[Any]) -> None:
        source, name, sheet, cell, code, message, sev = row
        rule = CATALOGUE.get(code)
        self.issues.add([SEVERITY_LABEL.get(sev, sev), source, name, sheet, cell, code, rule.title if rule else "", message])

    def finish(self, *, skipped: Iterable[Any] = (), generated_at: datetime | None = None, keep_older: bool = False) -> Path:
        """Write the rest, close the workbook and give it its name (``汇总_<date-time>.xlsx``, never
        replacing another roll-up); remove the roll-ups written before unless `keep_older`."""
        moment = generated_at or datetime.now()
        generated = moment.strftime("%Y-%m-%d %H:%M")
        workbook, formats, summary, issues, profile = self.workbook, self.formats, self.summary, self.issues, self.profile
        try:
            for severity in ("warning", "info"):
                spill = self._spills[severity]
                spill.seek(0)
                for line in spill:
                    self._issue(json.loads(line))
            workbook.set_properties({"title": "项目支出绩效自评 汇总", "subject": "项目支出绩效自评评分汇总",
                                     "author": "perfeval-xlsx", "comments": f"评分规则：{profile}" if profile else "",
                                     "created": moment})
            if summary.row > 1:
                _total_row(summary, self.stats)
            summary.finish("没有找到要评分的文件。", generated)
            self.detail.finish("没有可列出的指标（文件均无法读取）。", generated)
            issues.finish("没有发现问题。", generated)
            data_last = (summary.data_end if summary.data_end is not None else summary.row) - 1
            _color_rules(workbook, formats, summary.ws, 1, data_last, 8, GRADE_COLORS)
            _color_rules(workbook, formats, summary.ws, 1, data_last, 11, STATUS_COLORS)
            _color_rules(workbook, formats, issues.ws, 1, issues.row - 1, 0,
                         {SEVERITY_LABEL["error"]: GRADE_COLORS[POOR], SEVERITY_LABEL["warning"]: GRADE_COLORS[FAIR]})
            skipped = [_skip_pair(s) for s in skipped]
            _charts_sheet(workbook, self.charts, formats, self.stats, len(skipped), generated, profile)
            if skipped:
                sheet = _Sheet(workbook, formats, SKIPPED, (("文件", "text", 12, 50), ("未处理的原因及处理办法", "wrap", 30, 80)))
                for file, reason in skipped:
                    sheet.add([file, reason])
                sheet.finish("", generated)
            summary.ws.print_area(0, 0, max(summary.row - 1, 1), SUMMARY_PRINTED - 1)
            summary.ws.activate()
            self._closed = True
            workbook.close()
            target = _claim_name(self.tmp, self.outbox, moment)
        except BaseException:
            self.abandon()
            raise
        self._cleanup()
        if not keep_older:
            remove_older_rollups(self.outbox, target)
        return target

    def abandon(self) -> None:
        """Remove the unfinished roll-up and its scratch files (an interrupted or failed batch)."""
        workbook = getattr(self, "workbook", None)
        if workbook is not None and not self._closed:
            self._closed = True
            for ws in workbook.worksheets():  # their row data files are open until close
                try:
                    ws._opt_close()
                except Exception:  # noqa: BLE001 - another xlsxwriter: the folder goes all the same
                    pass
        self.tmp.unlink(missing_ok=True)
        self._cleanup()

    def _cleanup(self) -> None:
        for spill in self._spills.values():
            spill.close()
        self._spills = {}
        if self._scratch_lock is not None:
            self._scratch_lock.close()
            self._scratch_lock = None
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None


#: the folders (in the system's temporary folder) where xlsxwriter keeps a roll-up's rows until close
SCRATCH_PREFIX = "perfeval-rollup-"
SCRATCH_LOCK = ".lock"
#: a scratch folder younger than this is never taken for a dead run's (it may be locking itself)
SCRATCH_GRACE_SECONDS = 60


def new_scratch() -> tuple[str, Any]:
    """A new scratch folder and its lock file, locked while this run writes (a lock of the
    operating system's: it goes with the process). A run killed meanwhile leaves its folder
    unlocked, and the next roll-up written on this machine removes it."""
    remove_stale_scratch()
    path = tempfile.mkdtemp(prefix=SCRATCH_PREFIX)
    lock = open(os.path.join(path, SCRATCH_LOCK), "a+b")  # noqa: SIM115 - held until the roll-up is done
    try_lock(lock)
    return path, lock


def remove_stale_scratch(folder: str | Path | None = None) -> list[Path]:
    """Remove the scratch folders of roll-ups whose run is gone (killed, or the machine lost
    power): their lock is free. Returns those removed."""
    import time

    removed = []
    base = Path(folder if folder is not None else tempfile.gettempdir())
    try:
        candidates = list(base.glob(SCRATCH_PREFIX + "*"))
    except OSError:
        return removed
    for path in candidates:
        try:
            if path.is_symlink() or not path.is_dir() or time.time() - path.stat().st_mtime < SCRATCH_GRACE_SECONDS:
                continue
            try:
                fh = open(path / SCRATCH_LOCK, "r+b")  # noqa: SIM115
            except FileNotFoundError:
                free = True  # never locked: its run stopped while making it
            else:
                with fh:
                    free = try_lock(fh)
            if free:
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path)
        except OSError:
            continue
    return removed


def remove_older_rollups(outbox: Path, current: Path) -> list[Path]:
    """Remove the roll-ups this tool wrote into `outbox` before `current` (by their name and
    mark); one open in Excel on Windows cannot be removed and stays. Returns those removed."""
    removed = []
    for path in Path(outbox).iterdir():
        if path == current or not ROLLUP_NAME.match(path.name) or not path.is_file():
            continue
        mark = read_mark(path)
        if mark is None or mark.kind != ROLLUP:
            continue  # a file of the same name that is not ours: left alone
        try:
            path.unlink()
        except OSError:
            continue
        removed.append(path)
    return removed


def _total_row(sheet: _Sheet, stats: _Stats) -> None:
    """合计/平均 under the projects: money summed, 执行率 of the sums, the average 总分 of the
    projects that have a grade, problems counted."""
    ws, f, r = sheet.ws, sheet.formats, sheet.row
    sheet.data_end = r
    projects = sum(stats.status.values())
    graded = len(stats.graded_totals)
    average = sum(stats.graded_totals) / graded if graded else None
    note = f"总分为 {graded} 个已定级项目的平均分" if graded else "没有已定级的项目，不计平均分"
    if graded and graded < projects:
        note += "（不含待更正和无法读取的项目）"
    rate = stats.pair_spent / stats.pair_budget if stats.pair_budget else None
    if rate is not None and stats.money_rows < stats.budget_rows:
        note += f"；执行率按 {stats.money_rows} 个资金数据齐全的项目计算"
    cells: list[tuple[Any, str]] = [
        ("合计/平均", "total_label"), (f"共 {projects} 个项目", "total_label"), (note, "total_label"),
        (None, "total_blank"), (stats.budget_sum if stats.budget_rows else None, "total_money"),
        (stats.spent_sum if stats.spent_rows else None, "total_money"), (rate, "total_pct"),
        (None if average is None else round(average, 2), "total_score"), (None, "total_blank"),
        (stats.errors, "total_int"), (stats.warnings, "total_int"),
    ]
    cells += [(None, "total_blank")] * (SUMMARY_PRINTED - len(cells))
    for c, (value, key) in enumerate(cells):
        if value is None:
            ws.write_blank(r, c, None, f[key])
        elif isinstance(value, str):
            ws.write_string(r, c, value, f[key])
            sheet._fit(c, value, sheet.columns[c][3])
        else:
            ws.write_number(r, c, value, f[key])
    ws.set_row(r, _row_height([(str(v), sheet.columns[c][3]) for c, (v, _) in enumerate(cells) if isinstance(v, str)]))
    sheet.row += 1


def _skip_pair(item: Any) -> tuple[str, str]:
    if isinstance(item, dict):
        return str(item.get("file", "")), str(item.get("reason", ""))
    return str(item.file), str(item.reason)


def _source_name(file: Any, base: Path | None) -> str:
    text = _text(file)
    if base is not None and text:
        try:
            return Path(text).resolve().relative_to(base).as_posix()
        except (ValueError, OSError):
            pass
    return text


def _relative_or_absolute(path: Path, outbox: Path) -> str:
    try:
        return path.resolve().relative_to(outbox.resolve()).as_posix()
    except ValueError:
        return path.resolve().as_posix()


def _claim_name(tmp: Path, outbox: Path, moment: datetime) -> Path:
    """Give the finished file its name without ever replacing another roll-up: a hard link
    fails if the name is taken (atomic); where links are not supported, check then rename."""
    for attempt in range(1, 1000):
        target = outbox / rollup_name(moment, attempt)
        try:
            os.link(tmp, target)
        except FileExistsError:
            continue
        except OSError:  # no hard links here (some network shares, FAT)
            if target.exists():
                continue
            os.replace(tmp, target)
            return target
        tmp.unlink(missing_ok=True)
        return target
    raise FileExistsError(str(outbox / rollup_name(moment)))


# --------------------------------------------------------------------------- the charts


class _Stats:
    """The few numbers the charts need, gathered while the files stream past."""

    def __init__(self):
        self.status = {s: 0 for s in STATUS_LABEL}
        # the Ministry's grades always show; a profile's own grade names are added as they come
        self.grades = {g: 0 for g in (*GRADES, PROVISIONAL)}
        self.bands = [0] * len(RATE_BANDS)
        self.no_rate = 0
        self.ranked: list[tuple[float, str, str, str, str]] = []  # (total, name, unit, grade, source)
        self.graded_totals: list[float] = []
        self.budget_sum = self.spent_sum = self.pair_budget = self.pair_spent = 0.0  # the columns; both known
        self.budget_rows = self.spent_rows = self.money_rows = self.errors = self.warnings = 0

    def add_money(self, status: str, budget: float | None, spent: float | None, errors: int, warnings: int) -> None:
        """The 合计 row: each money column summed as shown; 执行率 over the rows with both."""
        self.errors += errors
        self.warnings += warnings
        if budget is not None:
            self.budget_sum += budget
            self.budget_rows += 1
        if spent is not None:
            self.spent_sum += spent
            self.spent_rows += 1
        if status != "unreadable" and budget is not None and spent is not None:
            self.pair_budget += budget
            self.pair_spent += spent
            self.money_rows += 1

    def add(self, status: str, grade: Any, total: float | None, rate: float | None, name: str, unit: str,
            source: str = "") -> None:
        self.status[status] = self.status.get(status, 0) + 1
        if status == UNREADABLE:
            return
        if isinstance(grade, str) and grade:
            self.grades[grade] = self.grades.get(grade, 0) + 1
        band = _rate_band(rate)
        if band is None:
            self.no_rate += 1
        else:
            self.bands[band] += 1
        if total is not None:
            self.ranked.append((total, name, unit, _text(grade), source))
            if isinstance(grade, str) and grade and grade != PROVISIONAL:
                self.graded_totals.append(total)


def _charts_sheet(workbook, ws, f, stats: _Stats, skipped: int, generated: str, profile: str) -> None:
    _page(ws, CHARTS, generated)
    ws.set_column(0, 0, 40)
    ws.set_column(1, 2, 9)
    ws.set_column(3, 3, 2)
    chart_font = {"name": FONT}
    row = 0
    ws.write_string(row, 0, "概况", f["title"])
    row += 1
    total_files = sum(stats.status.values())
    average = sum(stats.graded_totals) / len(stats.graded_totals) if stats.graded_totals else None
    overview = [("文件数", total_files), (STATUS_LABEL[OK], stats.status[OK]), (STATUS_LABEL[WARNINGS], stats.status[WARNINGS]),
                (f"{STATUS_LABEL[ERRORS]}（等级{PROVISIONAL}）", stats.status[ERRORS]),
                (STATUS_LABEL[UNREADABLE], stats.status[UNREADABLE]),
                ("未处理的文件（见“未处理文件”）", skipped)]
    for label, value in overview:
        ws.write_string(row, 0, label, f["text"])
        ws.write_number(row, 1, value, f["int"])
        row += 1
    ws.write_string(row, 0, f"平均总分（不含{PROVISIONAL}）", f["text"])
    if average is None:
        ws.write_blank(row, 1, None, f["score"])
    else:
        ws.write_number(row, 1, round(average, 2), f["score"])
    row += 2

    # grade distribution
    ws.write_string(row, 0, "等级分布", f["title"])
    row += 1
    ws.write_string(row, 0, "等级", f["header"])
    ws.write_string(row, 1, "项目数", f["header"])
    grade_first = row + 1
    for g in stats.grades:
        row += 1
        ws.write_string(row, 0, g, f["center"])
        ws.write_number(row, 1, stats.grades[g], f["int"])
    grade_last = row
    row += 2

    # execution-rate distribution
    ws.write_string(row, 0, "预算执行率分布", f["title"])
    row += 1
    ws.write_string(row, 0, "执行率区间（含下限、不含上限）", f["header"])
    ws.write_string(row, 1, "项目数", f["header"])
    band_first = row + 1
    for (label, _, _), count in zip(RATE_BANDS, stats.bands):
        row += 1
        ws.write_string(row, 0, label, f["center"])
        ws.write_number(row, 1, count, f["int"])
    band_last = row
    if stats.no_rate:
        row += 1
        ws.write_string(row, 0, "无法计算（资金数据有误）", f["center"])
        ws.write_number(row, 1, stats.no_rate, f["int"])
    row += 2

    # the two distributions: charts to the right of their tables
    sheet = ws.get_name()

    def column_chart(title: str, first: int, last: int, colors: list[str] | None, y_title: str, counts: list[int]):
        chart = workbook.add_chart({"type": "column"})
        series = {
            "name": title,
            "categories": [sheet, first, 0, last, 0],
            "values": [sheet, first, 1, last, 1],
            "data_labels": {"value": True, "font": chart_font},
            "gap": 60,
        }
        if colors:
            series["points"] = [{"fill": {"color": c}, "border": {"none": True}} for c in colors]
        else:
            series["fill"] = {"color": "#5B9BD5"}
        chart.add_series(series)
        chart.set_title({"name": title, "name_font": {**chart_font, "size": 12, "bold": True}})
        chart.set_legend({"none": True})
        chart.set_x_axis({"num_font": chart_font})
        step, top = count_axis(max(counts, default=0))
        chart.set_y_axis({"name": y_title, "name_font": {**chart_font, "bold": False}, "num_font": chart_font,
                          "min": 0, "max": top, "major_unit": step, "num_format": "0",  # whole projects
                          "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
        chart.set_size({"width": 560, "height": 300})
        return chart

    ws.insert_chart(0, 4, column_chart("等级分布", grade_first, grade_last, [BAR_COLORS.get(g, OTHER_GRADE_COLOR) for g in stats.grades],
                                       "项目数", [stats.grades[g] for g in stats.grades]),
                    {"x_offset": 10, "y_offset": 5})
    ws.insert_chart(16, 4, column_chart("预算执行率分布", band_first, band_last, None, "项目数", stats.bands),
                    {"x_offset": 10, "y_offset": 5})
    row = max(row, 33)
    if profile:
        rules = "按表样自动选择（自评表 mof-2020，共性框架 framework-70）" if profile == "auto" else profile
        ws.write_string(row - 1, 0, f"评分规则：{rules}。颜色：{BEST} 绿、{GOOD} 蓝、{FAIR} 黄、{POOR} 红、{PROVISIONAL} 粉红。", f["note"])

    # ranking: all projects, or the 15 highest and the 15 lowest; each block on a page of its own
    ranked = sorted(stats.ranked, key=lambda t: (-t[0], t[2], t[1]))
    labels = ranking_labels(ranked)
    lowest = min((t[0] for t in ranked), default=0.0)
    axis_min, axis_step = score_axis(lowest)
    blocks: list[tuple[str, list]] = []
    if len(ranked) <= RANK_ALL_UP_TO:
        blocks.append(("得分排名", list(enumerate(zip(ranked, labels, strict=True), 1))))
    else:
        n = len(ranked)
        pairs = list(zip(ranked, labels, strict=True))
        blocks.append((f"得分排名：最高的 {RANK_SHOWN} 个项目（共 {n} 个）", list(enumerate(pairs[:RANK_SHOWN], 1))))
        blocks.append((f"得分排名：最低的 {RANK_SHOWN} 个项目（共 {n} 个）",
                       list(enumerate(pairs[-RANK_SHOWN:], n - RANK_SHOWN + 1))))
    breaks = []
    wrap = workbook.add_format({"border": 1, "border_color": "#A6A6A6", "valign": "vcenter", "text_wrap": True})
    for title, rows in blocks:
        breaks.append(row)
        top = row
        ws.write_string(row, 0, title, f["title"])
        row += 1
        for c, h in enumerate(("名次. 项目（实施单位）", "总分", "等级")):
            ws.write_string(row, c, h, f["header"])
        first = row + 1
        for rank, ((total, _name, _unit, grade, _source), label) in rows:
            row += 1
            text = f"{rank}. {label}"
            ws.write_string(row, 0, text, wrap)
            ws.write_number(row, 1, total, f["score"])
            ws.write_string(row, 2, grade, f["center"])
            ws.set_row(row, _row_height([(text, 40)]))
        last = row
        chart = workbook.add_chart({"type": "bar"})
        chart.add_series({
            "name": "总分",
            "categories": [sheet, first, 0, last, 0],
            "values": [sheet, first, 1, last, 1],
            "data_labels": {"value": True, "num_format": "0.00", "font": chart_font},
            "points": [{"fill": {"color": BAR_COLORS.get(r[1][0][3], "#5B9BD5")}, "border": {"none": True}} for r in rows],
            "gap": 40,
        })
        chart.set_title({"name": title, "name_font": {**chart_font, "size": 12, "bold": True}})
        chart.set_legend({"none": True})
        # the category axis: rank 1 on top, the score axis kept at the bottom
        chart.set_y_axis({"reverse": True, "crossing": "max", "interval_unit": 1, "num_font": {**chart_font, "size": 9}})
        axis_name = "总分" if axis_min == 0 else f"总分（横轴从 {axis_min:g} 分起）"
        chart.set_x_axis({"min": axis_min, "max": 100, "major_unit": axis_step, "num_format": "0", "num_font": chart_font,
                          "name": axis_name, "name_font": {**chart_font, "bold": False, "size": 9},
                          "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
        height = max(300, 90 + 40 * len(rows))
        chart.set_size({"width": 620, "height": height})
        ws.insert_chart(top, 4, chart, {"x_offset": 10, "y_offset": 5})
        row = max(row, top + int(height / 20) + 1) + 2
    if not ranked:
        ws.write_string(row, 0, "没有可排名的项目（文件均无法读取）。", f["note"])
    ws.set_h_pagebreaks(breaks)


def count_axis(largest: int) -> tuple[int, int]:
    """A count axis of whole numbers: (step, top) with about five gridlines, top ≥ largest."""
    step = 1
    for candidate in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        step = candidate
        if largest / candidate <= 6:
            break
    top = max(step, -(-max(largest, 1) // step) * step)
    return step, top


def score_axis(lowest: float) -> tuple[float, float]:
    """Where the score axis starts and its step: low enough to show every bar, high enough that
    87 and 98 look different (totals are 0–100; the axis says where it starts)."""
    if lowest < 40:
        return 0.0, 10.0
    start = max(0.0, (int(lowest - 3) // 5) * 5.0)
    return start, 5.0 if 100 - start <= 40 else 10.0


def ranking_labels(ranked: list[tuple]) -> list[str]:
    """Labels that tell the projects apart: the project with its 实施单位 on a second line, whole
    (never cut in the middle); where one unit has the same project twice, the file names instead."""
    keys = [(t[1], t[2]) for t in ranked]
    repeated = {k for k in keys if keys.count(k) > 1}
    out = []
    for (_total, name, unit, _grade, source), key in zip(ranked, keys, strict=True):
        if key in repeated and source:  # the same project of the same unit twice: name the files
            second = Path(source).stem
        else:
            second = unit if unit and unit != name else ""
        out.append(f"{name}\n（{second}）" if second else name)
    return out
