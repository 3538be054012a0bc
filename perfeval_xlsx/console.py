"""Console output of check/score results with rich: one block per file, a summary line."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from perfeval_xlsx.rules.findings import SEVERITY_LABEL
from perfeval_xlsx.vocab import ERRORS, OK, STATUS_LABEL, UNREADABLE, WARNINGS, count_statuses, counts_sentence

STYLE = {"error": "bold red", "warning": "yellow", "info": "dim"}
STATUS_COLOR = {OK: "green", WARNINGS: "yellow", ERRORS: "red", UNREADABLE: "red"}
STATUS_TEXT = {s: f"[{STATUS_COLOR[s]}]{STATUS_LABEL[s]}[/]" for s in STATUS_LABEL}


def make_console(stderr: bool = False) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    # piped output (a log file, another program): long lines stay whole, not folded at 80 columns
    tty = stream.isatty()
    return Console(file=stream, highlight=False, width=None if tty else 400, soft_wrap=not tty)


def project_line(project: dict) -> str:
    parts = [f"项目：{project.get('name') or '（未填）'}"]
    if project.get("unit"):
        parts.append(f"实施单位：{project['unit']}")
    if project.get("year"):
        parts.append(f"年度：{project['year']}")
    return "｜".join(parts)


def _message_body(f) -> str:
    prefix = f"{f.cell}："
    return f.message[len(prefix):] if f.cell and f.message.startswith(prefix) else f.message


def print_check_results(results, console: Console | None = None, scores: bool = False) -> None:
    console = console or make_console()
    for result in results:
        console.print(f"{STATUS_TEXT[result.status]}  {escape(result.file)}")
        if result.status != UNREADABLE:
            line = project_line(result.project)
            if scores and result.score is not None:
                s = result.score
                line += f"｜总分：{s.total:g}｜等级：{s.grade}"
            console.print(f"  {escape(line)}")
        if result.findings:
            table = Table(show_header=False, box=None, padding=(0, 1), pad_edge=False, expand=False)
            table.add_column("级别", no_wrap=True)
            table.add_column("单元格", no_wrap=True)
            table.add_column("代码", no_wrap=True)
            table.add_column("说明", overflow="fold")
            for f in result.findings:
                style = STYLE[f.severity]
                table.add_row(f"  [{style}]{SEVERITY_LABEL[f.severity]}[/]", f.cell or "—", f"[dim]{f.code}[/]", escape(_message_body(f)))
            console.print(table)
        console.print()
    console.print(counts_sentence(count_statuses(r.status for r in results)) + "。")


def print_score_results(outcomes, console: Console | None = None) -> None:
    """One line per file: status, project, 总分, 等级, counts; then the problems."""
    console = console or make_console()
    for o in outcomes:
        r = o.result
        errors = sum(1 for f in r.findings if f.severity == "error")
        warnings_ = sum(1 for f in r.findings if f.severity == "warning")
        if r.score is None:
            console.print(f"{STATUS_TEXT[r.status]}  {escape(r.file)}")
        else:
            s = r.score
            console.print(
                f"{STATUS_TEXT[r.status]}  {escape(r.project.get('name') or r.file)}  "
                f"总分 [bold]{s.total:g}[/]  等级 [bold]{s.grade}[/]  错误 {errors}  预警 {warnings_}"
            )
            console.print(f"  → {escape(str(o.output))}")
        for f in r.findings:
            if f.severity != "info":
                console.print(f"  [{STYLE[f.severity]}]{SEVERITY_LABEL[f.severity]}[/] {escape(f.message)}")
    console.print("\n" + counts_sentence(count_statuses(o.result.status for o in outcomes)) + "。")


def print_batch_report(result, console=None) -> None:
    """The short Chinese report: one line per file, the skipped files, the roll-up, the counts."""
    from perfeval_xlsx.numbers import format_number

    console = console or make_console()
    for f in result.files:
        line = f"{STATUS_TEXT[f.status]}  {escape(f.file)}"
        if f.status == UNREADABLE:
            line += f"  {escape(f.reason)}"
        else:
            line += f"  项目：{escape(f.project.get('name') or '（未填）')}  总分 [bold]{format_number(f.total)}[/]  等级 [bold]{f.grade}[/]"
            if f.errors:
                line += f"  错误 {f.errors}（{escape(f.reason)}{'等' if f.errors > 1 else ''}）"
            if f.warnings:
                line += f"  预警 {f.warnings}"
        if f.cached:
            line += "  [dim]（未改动，沿用上次结果）[/]"
        console.print(line)
    from perfeval_xlsx.batch.discover import SUBFOLDER_REASON

    for s in result.skipped:
        hint = "如需一并处理，请加 --recursive。" if s.reason == SUBFOLDER_REASON else ""
        console.print(f"[yellow]已跳过[/]  {escape(s.file)}  {escape(s.reason)}{hint}")
    s = result.summary
    retired = getattr(result, "retired", None)
    if retired:
        folder = retired[0][1].split("/")[0]
        console.print(f"[yellow]已移走[/]  {len(retired)} 份评分副本：其原表已不在收表文件夹中，移到“{escape(folder)}”文件夹"
                      f"（{escape('、'.join(src for src, _ in retired))}）。")
    if result.rollup is not None:
        console.print(f"\n汇总表：{escape(str(result.rollup))}")
    unchanged = f"；其中 {s['unchanged']} 个未改动，沿用上次结果（加 --force 可全部重新评分）" if s["unchanged"] else ""
    skipped = f"；跳过 {s['skipped']} 个" if s["skipped"] else ""
    console.print(f"{counts_sentence(s, s['total'])}{skipped}{unchanged}。")
    if s[ERRORS] or s[UNREADABLE]:
        console.print("有错误或无法读取的文件：原因见上，各单元格的问题见评分副本和汇总表的“问题清单”。请退回相关单位更正后重新提交。")
