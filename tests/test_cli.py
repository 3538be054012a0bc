"""The `perfeval` command as a user meets it: help, template, and errors without tracebacks."""

from __future__ import annotations

import openpyxl

from .conftest import run_cli


def test_help_lists_the_commands():
    result = run_cli("--help")
    assert result.returncode == 0
    assert "template" in result.stdout and "自评表" in result.stdout


def test_no_arguments_shows_help():
    result = run_cli()
    assert result.returncode == 0
    assert "用法：perfeval" in result.stdout


def test_version():
    result = run_cli("--version")
    assert result.returncode == 0 and result.stdout.startswith("perfeval-xlsx ")


def test_template_default_name_in_working_folder(tmp_path):
    result = run_cli("template", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = tmp_path / "项目支出绩效自评表.xlsx"
    assert out.exists() and "已生成模板" in result.stdout
    assert openpyxl.load_workbook(out)["自评表"]["A1"].value == "项目支出绩效自评表"


def test_template_does_not_overwrite_a_filled_form(tmp_path):
    out = tmp_path / "我的表.xlsx"
    out.write_bytes(b"filled by a unit")
    result = run_cli("template", "-o", str(out))
    assert result.returncode == 2
    assert "已存在" in result.stderr and "--force" in result.stderr
    assert out.read_bytes() == b"filled by a unit"
    assert run_cli("template", "-o", str(out), "--force").returncode == 0
    assert openpyxl.load_workbook(out)["自评表"]["A1"].value == "项目支出绩效自评表"


def test_unknown_profile_is_a_chinese_usage_error(tmp_path):
    result = run_cli("template", "--profile", "hubei", cwd=tmp_path)
    assert result.returncode == 2
    assert "未知的表样" in result.stderr and "mof-2020" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert list(tmp_path.iterdir()) == []


def test_unknown_option_is_a_usage_error_without_traceback():
    result = run_cli("template", "--bogus")
    assert result.returncode == 2
    assert "用法错误" in result.stderr and "Traceback" not in result.stderr


def test_wrong_extension_is_refused(tmp_path):
    result = run_cli("template", "-o", str(tmp_path / "表.xls"))
    assert result.returncode == 2 and ".xlsx" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_readme_documents_every_finding_code():
    from perfeval_xlsx.rules.findings import catalogue_markdown

    from .conftest import ROOT

    assert catalogue_markdown() in (ROOT / "README.md").read_text(encoding="utf-8")


def test_check_loads_nothing_it_does_not_use(tmp_path):
    """`perfeval check` reads, validates and scores: no writers, mail, watch mode or batch run."""
    import json
    import os
    import subprocess
    import sys

    from .conftest import BASE, ROOT

    code = (
        "import atexit, json, sys\n"
        f"sys.argv = ['perfeval', 'check', {str(BASE)!r}]\n"
        f"atexit.register(lambda: open({str(tmp_path / 'modules.json')!r}, 'w').write(json.dumps(sorted(sys.modules))))\n"
        "from perfeval_xlsx.__main__ import main\n"
        "main()\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    modules = json.loads((tmp_path / "modules.json").read_text())
    unused = ("xlsxwriter", "docx", "watchdog", "multiprocessing", "perfeval_xlsx.mail", "perfeval_xlsx.output.writer",
              "perfeval_xlsx.output.rollup", "perfeval_xlsx.output.template", "perfeval_xlsx.report",
              "perfeval_xlsx.batch.pool", "perfeval_xlsx.batch.run", "perfeval_xlsx.batch.cache", "perfeval_xlsx.batch.watch")
    assert [m for m in modules if m in unused or m.split(".")[0] in unused] == []


def test_score_refuses_two_files_whose_copies_would_share_a_name(tmp_path):
    """两个收件箱里各有一份“表.xlsx”，评到同一个文件夹：两份评分副本都叫“表_评分.xlsx”，后一个会覆盖前一个。"""
    import shutil

    from .conftest import ROOT

    for inbox, sample in (("一", "2024_乌鲁木齐市工商联_非公有制党建工作经费（自评表）.xlsx"), ("二", "broken/金额单元格填了文字.xlsx")):
        (tmp_path / inbox).mkdir()
        shutil.copyfile(ROOT / "samples" / sample, tmp_path / inbox / "表.xlsx")
    out = tmp_path / "out"
    result = run_cli("score", str(tmp_path / "一" / "表.xlsx"), str(tmp_path / "二" / "表.xlsx"), "-o", str(out))
    assert result.returncode == 2
    assert "同名" in result.stderr and "表_评分.xlsx" in result.stderr
    assert not out.exists() or not any(out.iterdir())  # nothing written, nothing replaced
