"""Benchmark of `check` per file with each reader, against a bare python-calamine read of the same
file measured in the same run. It prints figures; it asserts nothing.

    python bench/bench_check.py            # small (11 rows) and large (120 rows) forms, all readers
    python bench/bench_check.py --repeat 50

The forms: the base sample (11 indicator rows) and a generated 120-row form (bench_batch's
`_large`), each as .xlsx (our writer), and as .xls and .ods saved by LibreOffice headless
(skipped when soffice is missing), plus the unit's .xls written by xlwt (tests/test_formats.py).
For each file, in this process, after one warm-up call, the median of `--repeat` calls of:

- calamine:        python-calamine opening the file and reading every sheet's values and merged
                   ranges, nothing else — the baseline (the fastest read there is);
- read only:       the default reader's grid and the form read from it (no validation);
- check:           `check_file(path)` as `perfeval check` runs it — read through the default
                   reader (.xlsx: the sheet XML, xlsx_xml; .xls/.et: xlrd; .ods: its content.xml),
                   validate, score;
- check/openpyxl:  .xlsx read by openpyxl instead (the fallback reader, and what the scored copy
                   is written from), then the same validation and scoring;
- check/calamine:  python-calamine's values and merges put into the grid (no number formats, no
                   formula flags), then the same reading, validation and scoring — to show what a
                   values-only reader would miss: "same" says whether the result (total, grade,
                   every indicator score, every finding's code and cell) equals the .xlsx's;
- check/LibreOffice (.ods, .xls): converting to .xlsx headless first (private profile), then
                   check of the conversion — the other way to read these formats (3 runs only).

Printed per file and reader: milliseconds per call, the ratio to calamine's bare read of the
same file, and whether the result equals that of the .xlsx original.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def _timed(fn, repeat: int) -> float:
    fn()  # warm-up: imports, caches
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def calamine_read(path: Path) -> None:
    import python_calamine as pc

    wb = pc.CalamineWorkbook.from_path(str(path))
    for name in wb.sheet_names:
        sheet = wb.get_sheet_by_name(name)
        sheet.to_python(skip_empty_area=False)
        sheet.merged_cell_ranges  # noqa: B018 - read it, as a reader would
    wb.close()


def _calamine_grid(path: Path):
    """python-calamine's values and merges as a grid: what a values-only reader gives."""
    import datetime

    import python_calamine as pc

    from perfeval_xlsx.reading.grid import GridCell, SheetGrid, WorkbookGrid, integral

    wb = pc.CalamineWorkbook.from_path(str(path))
    grid = WorkbookGrid(path, path.suffix.lstrip("."), "calamine")
    for meta in wb.sheets_metadata:
        sheet = wb.get_sheet_by_name(meta.name)
        state = "visible" if str(meta.visible).endswith("Visible") else "hidden"
        g = SheetGrid(meta.name, state=state)
        for r, row in enumerate(sheet.to_python(skip_empty_area=False), 1):
            for c, value in enumerate(row, 1):
                if value == "":
                    continue
                if isinstance(value, float):
                    value = integral(value)
                if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
                    value = datetime.datetime.combine(value, datetime.time())
                g.cells[(r, c)] = GridCell(value)
        for (r1, c1), (r2, c2) in sheet.merged_cell_ranges or []:
            g.merged.append((r1 + 1, c1 + 1, r2 + 1, c2 + 1))
        grid.sheets.append(g)
    wb.close()
    return grid


def read_only(path: Path):
    """The default reader's grid and form, no validation."""
    from perfeval_xlsx.reading.reader import load

    return load(path, workbook=False).form


def read_openpyxl(path: Path):
    from perfeval_xlsx.reading.reader import choose_sheet, open_workbook, read_sheet
    from perfeval_xlsx.reading.safety import cached_formula_values

    wb = open_workbook(path)
    ws = choose_sheet(wb)
    return read_sheet(ws, cached_formula_values(path, ws.title), str(path))


def check_calamine(path: Path):
    from perfeval_xlsx.check import CheckResult
    from perfeval_xlsx.reading.reader import read_grid_form
    from perfeval_xlsx.rules.findings import status_of
    from perfeval_xlsx.rules.profile import DEFAULT_PROFILE, FORM_PROFILES, load_profile
    from perfeval_xlsx.rules.scoring import score_form
    from perfeval_xlsx.rules.validate import validate

    form = read_grid_form(_calamine_grid(path))
    validated = validate(form, load_profile(FORM_PROFILES.get(form.kind, DEFAULT_PROFILE)))
    scored = score_form(validated)
    return CheckResult(str(path), status_of(scored.findings), form.project, scored.findings, form=form,
                       validated=validated, score=scored)


def check_openpyxl(path: Path):
    from perfeval_xlsx.check import CheckResult
    from perfeval_xlsx.reading.reader import choose_sheet, open_workbook, read_sheet
    from perfeval_xlsx.reading.safety import cached_formula_values, inspect_file
    from perfeval_xlsx.rules.findings import status_of
    from perfeval_xlsx.rules.profile import DEFAULT_PROFILE, FORM_PROFILES, load_profile
    from perfeval_xlsx.rules.scoring import score_form
    from perfeval_xlsx.rules.validate import validate

    inspect_file(path)
    wb = open_workbook(path)
    ws = choose_sheet(wb)
    form = read_sheet(ws, cached_formula_values(path, ws.title), str(path))
    validated = validate(form, load_profile(FORM_PROFILES.get(form.kind, DEFAULT_PROFILE)))
    scored = score_form(validated)
    return CheckResult(str(path), status_of(scored.findings), form.project, scored.findings, form=form,
                       validated=validated, score=scored)


def check_libreoffice(path: Path):
    from perfeval_xlsx.check import check_file
    from perfeval_xlsx.reading.soffice import convert

    with tempfile.TemporaryDirectory() as tmp:
        return check_file(convert(path, "xlsx", Path(tmp)))


def outcome(result) -> tuple:
    from perfeval_xlsx.check import score_summary

    s = score_summary(result)
    return (s["total"], s["grade"], tuple((i["row"], i["score"]) for i in s["indicators"]),
            tuple((f.code, f.cell) for f in result.findings))


def make_files(folder: Path) -> list[tuple[str, Path]]:
    from bench_batch import _large

    from perfeval_xlsx.forms.content import content_from_dict
    from perfeval_xlsx.output.template import write_form
    from perfeval_xlsx.reading.soffice import soffice_binary

    small = folder / "small.xlsx"
    shutil.copyfile(ROOT / "samples" / "2024_乌鲁木齐市工商联_非公有制党建工作经费（自评表）.xlsx", small)
    large = folder / "large.xlsx"
    write_form(content_from_dict(_large(1)), large)
    files = [("small", small), ("large", large)]
    binary = soffice_binary()
    if binary:
        for fmt in ("xls", "ods"):
            subprocess.run([binary, f"-env:UserInstallation={(folder / 'lo').as_uri()}", "--headless", "--norestore",
                            "--convert-to", fmt, "--outdir", str(folder), str(small), str(large)],
                           capture_output=True, timeout=600, check=False)
            for name in ("small", "large"):
                if (folder / f"{name}.{fmt}").is_file():
                    files.append((name, folder / f"{name}.{fmt}"))
    else:
        print("LibreOffice is not installed: .xls and .ods saved by it are not measured")
    sys.path.insert(0, str(ROOT))
    from tests.test_formats import write_xlwt_form

    files.append(("xlwt", write_xlwt_form(folder / "xlwt.xls")))
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    from perfeval_xlsx.check import check_file

    with tempfile.TemporaryDirectory(prefix="perfeval-bench-check-") as tmp:
        files = make_files(Path(tmp))
        reference = {name: outcome(check_file(path)) for name, path in files if path.suffix == ".xlsx"}
        reference["xlwt"] = outcome(check_file(dict(files)["xlwt"]))  # no .xlsx original: its own xlrd result
        print(f"{'form':6} {'file':5} {'reader':18} {'ms/check':>9} {'× calamine':>11}  same result as .xlsx")
        for name, path in files:
            base = _timed(lambda path=path: calamine_read(path), args.repeat)
            rows = [("calamine (bare)", base, None), ("read only", _timed(lambda path=path: read_only(path), args.repeat), None)]
            if path.suffix == ".xlsx":
                rows.append(("read only/openpyxl", _timed(lambda path=path: read_openpyxl(path), args.repeat), None))
            rows.append(("check", _timed(lambda path=path: check_file(path), args.repeat), outcome(check_file(path))))
            if path.suffix == ".xlsx":
                rows.append(("check/openpyxl", _timed(lambda path=path: check_openpyxl(path), args.repeat), outcome(check_openpyxl(path))))
            try:
                got = outcome(check_calamine(path))
            except Exception as exc:  # noqa: BLE001 - a values-only read may not find the form at all
                got = (type(exc).__name__,)
            rows.append(("check/calamine", _timed(lambda path=path: _safe(check_calamine, path), args.repeat), got))
            if path.suffix in (".xls", ".ods") and name != "xlwt":
                rows.append(("check/LibreOffice", _timed(lambda path=path: check_libreoffice(path), 3), outcome(check_libreoffice(path))))
            for reader, ms, result in rows:
                same = "" if result is None else ("yes" if result == reference[name] else "NO")
                print(f"{name:6} {path.suffix:5} {reader:18} {ms:9.2f} {ms / base:11.1f}  {same}")


def _safe(fn, path):
    try:
        return fn(path)
    except Exception:  # noqa: BLE001
        return None


if __name__ == "__main__":
    main()
