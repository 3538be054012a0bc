"""Shared fixtures and helpers for the tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "workbook_templates"
SAMPLES = ROOT / "samples"
MOF_TEMPLATE = TEMPLATES / "项目支出绩效自评表.xlsx"
FRAMEWORK_TEMPLATE = TEMPLATES / "项目绩效评价表（共性框架）.xlsx"
SEED001 = SAMPLES / "2024_乌鲁木齐市工商联_非公有制党建工作经费（共性框架）.xlsx"
SEED000 = SAMPLES / "2021_新疆工商联_项目支出（自评表）.xlsx"
BASE = SAMPLES / "2024_乌鲁木齐市工商联_非公有制党建工作经费（自评表）.xlsx"


def run_cli(*args: str, cwd: Path | None = None, env: dict | None = None, stdin: str = "",
            process: bool = False) -> subprocess.CompletedProcess:
    """Run `perfeval ARGS` and return what a user sees: exit code, stdout, stderr.

    In-process by default (the CLI's own entry point, `perfeval_xlsx.cli.main`, with argv, cwd,
    environment and the standard streams swapped for the call): a subprocess costs the interpreter
    and import start-up of every call. `process=True` runs `python -m perfeval_xlsx` instead, for
    what only a real process shows (start-up, signals). `env` values of None unset a variable.
    An exception that escapes `main` is shown as a traceback on stderr with exit code 1, as Python
    itself would, so tests that forbid tracebacks see them either way.
    """
    if process:
        environ = {k: v for k, v in {**os.environ, **(env or {})}.items() if v is not None}
        return subprocess.run([sys.executable, "-m", "perfeval_xlsx", *args], cwd=cwd, capture_output=True,
                              text=True, env=environ, stdin=subprocess.DEVNULL, timeout=120)
    import contextlib
    import io
    import traceback

    from perfeval_xlsx import cli

    out, err = io.StringIO(), io.StringIO()
    saved_env = {k: os.environ.get(k) for k in (env or {})}
    saved_argv, saved_cwd, saved_stdin = sys.argv, os.getcwd(), sys.stdin
    code = 0
    try:
        for k, v in (env or {}).items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        sys.argv = ["perfeval", *args]
        sys.stdin = io.StringIO(stdin)
        if cwd is not None:
            os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                cli.main()
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            except BaseException:  # noqa: BLE001 - shown as the interpreter would
                traceback.print_exc(file=err)
                code = 1
    finally:
        os.chdir(saved_cwd)
        sys.argv, sys.stdin = saved_argv, saved_stdin
        for k, v in saved_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return subprocess.CompletedProcess(["perfeval", *args], code, out.getvalue(), err.getvalue())


def sheet_snapshot(path: Path) -> dict:
    """Everything a person sees of a workbook's cells: values or formulas, merges, validations,
    number formats, fills, locks, per sheet. Two workbooks with equal snapshots look the same."""
    wb = openpyxl.load_workbook(path)
    snap = {}
    for ws in wb.worksheets:
        cells = {}
        for row in ws.iter_rows():
            for c in row:
                if c.value is None and not c.has_style:
                    continue
                cells[c.coordinate] = (
                    c.value, c.number_format, c.fill.fgColor.rgb if c.fill and c.fill.fill_type else None,
                    c.protection.locked, c.font.name, c.font.b, c.alignment.horizontal, c.alignment.wrap_text,
                )
        snap[ws.title] = {
            "cells": cells,
            "merged": sorted(str(r) for r in ws.merged_cells.ranges),
            "validations": sorted(
                (str(dv.sqref), dv.type, dv.formula1, dv.formula2, dv.operator, dv.showErrorMessage, dv.prompt)
                for dv in ws.data_validations.dataValidation
            ),
            "widths": {k: round(v.width, 2) for k, v in ws.column_dimensions.items() if v.width},
            "heights": {k: round(v.height, 2) for k, v in ws.row_dimensions.items() if v.height},
            "protected": ws.protection.sheet,
            "freeze": ws.freeze_panes,
            "print_titles": ws.print_title_rows,
        }
    return snap


def soffice_binary() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


@pytest.fixture
def soffice() -> str:
    """LibreOffice for opening workbooks as a person would. Skipped where absent, never in CI."""
    return need_soffice()


def need_soffice() -> str:
    """The LibreOffice binary; the test is skipped where it is absent, and fails in CI."""
    binary = soffice_binary()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("CI must have LibreOffice (soffice): .ci/run installs libreoffice-calc-nogui")
        pytest.skip("LibreOffice (soffice) is not installed")
    return binary


def convert_to_pdf(soffice: str, files: list[Path], outdir: Path) -> subprocess.CompletedProcess:
    """Convert workbooks to PDF in one LibreOffice run, with a private profile folder."""
    profile = outdir / "lo-profile"
    return subprocess.run(
        [soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
         "--convert-to", "pdf", "--outdir", str(outdir), *map(str, files)],
        capture_output=True, text=True, timeout=600,
    )


MEASURE = """
import resource, subprocess, sys, time
t = time.perf_counter()
r = subprocess.run([sys.executable, "-m", "perfeval_xlsx", *sys.argv[1:]], capture_output=True, text=True)
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(time.perf_counter() - t, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, r.returncode)
print(r.stdout)
"""


def measure_check(path: Path):
    """`perfeval check --json PATH` in a child process: (wall s, CPU s, peak RSS kB, exit code,
    parsed JSON). The work done is the CPU time (start-up included); the wall time also counts
    what other processes of a busy machine take, so tests bound it only loosely (a hang)."""
    return measure_cli("check", "--json", str(path))


def measure_cli(*args: str):
    """`perfeval ARGS` (with --json) in a child process, measured as `measure_check` does."""
    import json

    out = subprocess.run([sys.executable, "-c", MEASURE, *args], capture_output=True, text=True, timeout=120)
    first, _, rest = out.stdout.partition("\n")
    wall, cpu, rss, code = first.split()
    return float(wall), float(cpu), int(rss), int(code), json.loads(rest)
