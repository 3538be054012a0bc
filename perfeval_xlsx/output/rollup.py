"""The roll-up workbook of a batch: ``汇总_<YYYYmmdd-HHMMSS>.xlsx``, written with xlsxwriter.

Sheets:

- ``项目汇总`` — one row per file: 主管部门, 实施单位, 项目名称, 年度, 全年预算数, 全年执行数, 执行率,
  总分, 等级, 错误数, 警告数, 状态, 源文件, 评分副本 (a link);
- ``指标明细`` — every indicator of every file, with its file;
- ``问题清单`` — every finding of every file with its cell, errors first;
- ``图表`` — native Excel charts (grade distribution, score ranking, execution-rate distribution)
  over small value tables on the same sheet;
- ``未处理文件`` — only when some files were skipped (not a form file, or a scored-copy name clash), with the reason.

The input is plain per-file dicts (the objects of ``perfeval score --json``) read one at a time:
xlsxwriter runs in constant-memory mode and the findings wait in temporary files, so a batch of
any size is written without holding it in memory. Every cell holds a value (no formulas). The
file is written to a temporary name and then given its final name, never overwriting another
roll-up (two runs in the same second get ``_2``, ``_3``…).
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

from perfeval_xlsx.numbers import as_float
from perfeval_xlsx.output.atomic import new_temp_file
from perfeval_xlsx.output.textfit import LINE_HEIGHT, lines_needed, text_width
from perfeval_xlsx.rules.findings import CATALOGUE, SEVERITY_LABEL
from perfeval_xlsx.result import FileResult
from perfeval_xlsx.vocab import (
    ERRORS, FONT, GRADES, OK, PROVISIONAL, ROLLUP_CHARTS, ROLLUP_DETAIL, ROLLUP_ISSUES, ROLLUP_SKIPPED, ROLLUP_SUMMARY,
    STATUS_LABEL, UNREADABLE, WARNINGS,
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
    ("警告数", "int", 7, 7), ("状态", "center", 9, 9), ("源文件", "wrap", 12, 32), ("评分副本", "link", 12, 40),
)
SUMMARY_PRINTED = 13  # the link column is for the screen: the printout stops at 源文件
DETAIL_COLUMNS = (
    ("源文件", "wrap", 10, 30), ("实施单位", "wrap", 10, 20), ("项目名称", "wrap", 10, 20),
    ("一级指标", "text", 8, 14), ("二级指标", "text", 8, 18), ("三级指标", "wrap", 10, 30),
    ("指标性质", "center", 7, 8), ("年度指标值", "value", 9, 20), ("实际完成值", "value", 9, 20),
    ("计量单位", "center", 7, 10), ("分值", "score", 6, 7), ("自评得分", "score", 8, 8), ("复核得分", "score", 8, 8),
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

    def __init__(self, workbook, formats: dict[str, Any], name: str, columns: tuple, generated: str):
        self.ws = workbook.add_worksheet(name)
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
        _page(self.ws, name, generated, repeat_header=True)

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
            if kind in ("money", "pct", "score", "int", "year"):
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

    def _fit(self, c: int, text: str, cap: float) -> None:
        width = min(_width(text) + 2, cap)
        if width > self.widths[c]:
            self.widths[c] = width

    def finish(self, empty_note: str) -> None:
        ws = self.ws
        last = len(self.columns) - 1
        if self.row == 1:
            ws.write_string(1, 0, empty_note, self.formats["note"])
            self.row = 2
        for c, width in enumerate(self.widths):
            ws.set_column(c, c, width)
        ws.autofilter(0, 0, max(self.row - 1, 1), last)
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
) -> Path:
    """Write the roll-up of `files` (per-file dicts, in the order to list them; their "output",
    if relative, is relative to `outbox`) into `outbox`; return its path. `skipped`: objects or
    dicts with `file` and `reason`. `relative_to`: shorten each "file" to its path below it."""
    import xlsxwriter

    outbox = Path(outbox)
    moment = generated_at or datetime.now()
    generated = moment.strftime("%Y-%m-%d %H:%M")
    base = Path(relative_to).resolve() if relative_to is not None else None
    fh, tmp_name = new_temp_file(outbox, ".perfeval-rollup-", ".xlsx.tmp")
    fh.close()
    spills = {sev: tempfile.TemporaryFile("w+", encoding="utf-8") for sev in ("error", "warning", "info")}
    try:
        workbook = xlsxwriter.Workbook(str(tmp_name), {
            "constant_memory": True,
            "default_format_properties": {"font_name": FONT, "font_size": 10},
            "strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False,
        })
        workbook.set_properties({"title": "项目支出绩效自评 汇总", "subject": "项目支出绩效自评评分汇总",
                                 "author": "perfeval-xlsx", "comments": f"评分规则：{profile}" if profile else "",
                                 "created": moment})
        formats = _formats(workbook)
        summary = _Sheet(workbook, formats, SUMMARY, SUMMARY_COLUMNS, generated)
        detail = _Sheet(workbook, formats, DETAIL, DETAIL_COLUMNS, generated)
        issues = _Sheet(workbook, formats, ISSUES, ISSUES_COLUMNS, generated)
        charts = workbook.add_worksheet(CHARTS)
        stats = _Stats()

        for d in files:
            r = FileResult.from_dict(d)
            source = _source_name(r.file, base)
            project = r.project
            name = _text(project.get("name"))
            findings = r.findings
            errors, warnings = len(r.errors), len(r.warnings)
            status = r.status
            rate = r.execution_rate
            output = r.output
            link = None
            if output:
                out = Path(output)
                target = out.as_posix() if not out.is_absolute() else _relative_or_absolute(out, outbox)
                link = (target, out.name)
            summary.add([
                project.get("department"), project.get("unit"), name, project.get("year"),
                r.budget, r.spent, None if rate is None else rate / 100, r.total,
                r.grade, errors, warnings, STATUS_LABEL.get(status, status), source, link,
            ])
            for ind in r.indicators:
                detail.add([
                    source, project.get("unit"), name, ind.get("level1"), ind.get("level2"), ind.get("level3"),
                    ind.get("operator"), ind.get("target"), ind.get("actual"), ind.get("unit"),
                    ind.get("weight"), ind.get("self_score"), ind.get("score"), ind.get("rule"),
                    ind.get("sheet"), ind.get("row"),
                ])
            for x in findings:
                spill = spills.get(x.get("severity"), spills["info"])
                spill.write(json.dumps([source, name, x.get("sheet"), x.get("cell"), x.get("code"),
                                        x.get("message"), x.get("severity")], ensure_ascii=False) + "\n")
            stats.add(status, r.grade, r.total, rate, name or Path(source).stem,
                      _text(project.get("unit")))

        for severity, spill in spills.items():
            spill.seek(0)
            for line in spill:
                source, name, sheet, cell, code, message, sev = json.loads(line)
                rule = CATALOGUE.get(code)
                issues.add([SEVERITY_LABEL.get(sev, sev), source, name, sheet, cell, code,
                            rule.title if rule else "", message])

        summary.finish("没有找到要评分的文件。")
        detail.finish("没有可列出的指标（文件均无法读取）。")
        issues.finish("没有发现问题。")
        _color_rules(workbook, formats, summary.ws, 1, summary.row - 1, 8, GRADE_COLORS)
        _color_rules(workbook, formats, summary.ws, 1, summary.row - 1, 11, STATUS_COLORS)
        _color_rules(workbook, formats, issues.ws, 1, issues.row - 1, 0,
                     {SEVERITY_LABEL["error"]: GRADE_COLORS[POOR], SEVERITY_LABEL["warning"]: GRADE_COLORS[FAIR]})
        skipped = [_skip_pair(s) for s in skipped]
        _charts_sheet(workbook, charts, formats, stats, len(skipped), generated, profile)
        if skipped:
            sheet = _Sheet(workbook, formats, SKIPPED, (("文件", "text", 12, 50), ("未处理的原因及处理办法", "wrap", 30, 80)),
                           generated)
            for file, reason in skipped:
                sheet.add([file, reason])
            sheet.finish("")
        summary.ws.print_area(0, 0, max(summary.row - 1, 1), SUMMARY_PRINTED - 1)
        summary.ws.activate()
        workbook.close()
        return _claim_name(Path(tmp_name), outbox, moment)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    finally:
        for spill in spills.values():
            spill.close()


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
        self.ranked: list[tuple[float, str, str, str]] = []  # (total, name, unit, grade)
        self.graded_totals: list[float] = []

    def add(self, status: str, grade: Any, total: float | None, rate: float | None, name: str, unit: str) -> None:
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
            self.ranked.append((total, name, unit, _text(grade)))
            if isinstance(grade, str) and grade and grade != PROVISIONAL:
                self.graded_totals.append(total)


def _charts_sheet(workbook, ws, f, stats: _Stats, skipped: int, generated: str, profile: str) -> None:
    _page(ws, CHARTS, generated)
    ws.set_column(0, 0, 36)
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
                ("未处理（不是自评表文件等）", skipped)]
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

    def column_chart(title: str, first: int, last: int, colors: list[str] | None, y_title: str):
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
        chart.set_y_axis({"name": y_title, "name_font": {**chart_font, "bold": False}, "num_font": chart_font,
                          "min": 0, "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
        chart.set_size({"width": 560, "height": 300})
        return chart

    ws.insert_chart(0, 4, column_chart("等级分布", grade_first, grade_last, [BAR_COLORS.get(g, OTHER_GRADE_COLOR) for g in stats.grades], "项目数"),
                    {"x_offset": 10, "y_offset": 5})
    ws.insert_chart(16, 4, column_chart("预算执行率分布", band_first, band_last, None, "项目数"),
                    {"x_offset": 10, "y_offset": 5})
    row = max(row, 33)
    if profile:
        rules = "按表样自动选择（自评表 mof-2020，共性框架 framework-70）" if profile == "auto" else profile
        ws.write_string(row - 1, 0, f"评分规则：{rules}。颜色：{BEST} 绿、{GOOD} 蓝、{FAIR} 黄、{POOR} 红、{PROVISIONAL} 粉红。", f["note"])

    # ranking: all projects, or the 15 highest and the 15 lowest; each block on a page of its own
    ranked = sorted(stats.ranked, key=lambda t: (-t[0], t[1]))
    counts: dict[str, int] = {}
    for t in ranked:
        counts[t[1]] = counts.get(t[1], 0) + 1
    blocks: list[tuple[str, list]] = []
    if len(ranked) <= RANK_ALL_UP_TO:
        blocks.append(("得分排名", list(enumerate(ranked, 1))))
    else:
        n = len(ranked)
        blocks.append((f"得分排名：最高的 {RANK_SHOWN} 个项目（共 {n} 个）", list(enumerate(ranked[:RANK_SHOWN], 1))))
        blocks.append((f"得分排名：最低的 {RANK_SHOWN} 个项目（共 {n} 个）",
                       list(enumerate(ranked[-RANK_SHOWN:], n - RANK_SHOWN + 1))))
    breaks = []
    for title, rows in blocks:
        breaks.append(row)
        top = row
        ws.write_string(row, 0, title, f["title"])
        row += 1
        for c, h in enumerate(("名次. 项目", "总分", "等级")):
            ws.write_string(row, c, h, f["header"])
        first = row + 1
        for rank, (total, name, unit, grade) in rows:
            row += 1
            label = name if counts[name] == 1 or not unit else f"{name}（{unit}）"
            if text_width(label) > 34:
                while text_width(label) > 33:
                    label = label[:-1]
                label += "…"
            ws.write_string(row, 0, f"{rank}. {label}", f["text"])
            ws.write_number(row, 1, total, f["score"])
            ws.write_string(row, 2, grade, f["center"])
        last = row
        chart = workbook.add_chart({"type": "bar"})
        chart.add_series({
            "name": "总分",
            "categories": [sheet, first, 0, last, 0],
            "values": [sheet, first, 1, last, 1],
            "data_labels": {"value": True, "num_format": "0.00", "font": chart_font},
            "points": [{"fill": {"color": BAR_COLORS.get(r[1][3], "#5B9BD5")}, "border": {"none": True}} for r in rows],
            "gap": 40,
        })
        chart.set_title({"name": title, "name_font": {**chart_font, "size": 12, "bold": True}})
        chart.set_legend({"none": True})
        chart.set_y_axis({"reverse": True, "num_font": chart_font})  # the category axis: rank 1 on top
        chart.set_x_axis({"min": 0, "max": 100, "num_font": chart_font,
                          "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
        height = max(300, 80 + 22 * len(rows))
        chart.set_size({"width": 560, "height": height})
        ws.insert_chart(top, 4, chart, {"x_offset": 10, "y_offset": 5})
        row = max(row, top + int(height / 20) + 1) + 2
    if not ranked:
        ws.write_string(row, 0, "没有可排名的项目（文件均无法读取）。", f["note"])
    ws.set_h_pagebreaks(breaks)
