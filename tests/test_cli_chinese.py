"""Every word the command line prints is Chinese: help pages, usage lines, metavars, usage errors,
and the errors of bad TOML files. A test fails on any of click's or typer's English words.

The words allowed are the names a finance officer types or sees on files (options, commands,
profile and file names, product names); anything else in Latin letters is a leak.
"""

from __future__ import annotations

import re

import pytest

from .conftest import BASE, run_cli

COMMANDS = ("template", "check", "score", "report", "batch", "watch", "mail")

#: click's and typer's own words: none may appear
ENGLISH = (
    "Usage", "Options", "Commands", "Arguments", "Show this message", "Missing", "Invalid", "No such", "Error",
    "Try ", "required", "default", "Got unexpected", "requires", "does not take", "Example", "Aborted", "PATH",
    "TEXT", "INTEGER", "FLOAT", "BOOLEAN", "FILES", "INBOX", "OUTBOX", "COMMAND", "ARGS", "OPTIONS", "<path>",
    "<str>", "<int>", "<float>", "ADDR", "SECONDS", "HOST", "PORT", "DIR", "NAME", "FILE", "Input should",
    "valid", "number", "argument", "option", "command", "line", "column", "Expected", "character", "value",
)
#: Latin words that are names, not English sentences
NAMES = {
    "perfeval", "xlsx", "xlsm", "xls", "json", "toml", "csv", "eml", "pem", "auto", "mof", "framework", "Ctrl",
    "Excel", "WPS", "LibreOffice", "Outlook", "Foxmail", "Thunderbird", "STARTTLS", "SSL", "TLS", "MB",
    "PERFEVAL_SMTP_PASSWORD", "rollup", "summary", "files", "mail", "to", "year", "count", "batch", "samples",
    "broken", "cn", "example", "smtp", "jxk", "cwk", "Z", "true", "false", "et", "ods", "docx", "standard", "Word",
    *COMMANDS,
}


def _leaks(text: str, typed: tuple[str, ...] = ()) -> list[str]:
    """The Latin words of `text` that are neither option names, file or host names, names, nor
    words the user typed (echoed back in a message)."""
    for word in typed:
        text = text.replace(word, " ")
    text = re.sub(r"(?<![\w-])--?[A-Za-z][\w-]*", " ", text)  # --max-size, -o
    text = re.sub(r"[\w.~$/\\-]+\.(xlsx|xlsm|xls|et|toml|json|jsonl|pem|eml|ods|csv)\b", " ", text)  # file names
    text = re.sub(r"[\w.-]+@[\w.-]+|\b[\w-]+(\.[\w-]+)+\b|\{\w+\}|[\w/]+/", " ", text)  # addresses, hosts, {year}, paths
    return [w for w in re.findall(r"[A-Za-z][A-Za-z_]*", text) if w not in NAMES and not w.isupper() or w in ENGLISH]


def _chinese_only(text: str, typed: tuple[str, ...] = ()) -> None:
    for word in ENGLISH:
        assert word not in text, f"click/typer English “{word}” in:\n{text}"
    assert not _leaks(text, typed), f"Latin words {_leaks(text, typed)} in:\n{text}"


@pytest.mark.parametrize("args", [["--help"], ["-h"], []] + [[c, "--help"] for c in COMMANDS], ids=lambda a: " ".join(a) or "none")
def test_help_pages_are_chinese(args):
    result = run_cli(*args)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("用法：perfeval")
    _chinese_only(result.stdout + result.stderr)
    if args and args[0] in COMMANDS:
        assert "选项：" in result.stdout and "显示本帮助并退出。" in result.stdout


USAGE_ERRORS = [
    (["check"], "缺少参数“文件或文件夹”"),
    (["score"], "缺少参数“文件或文件夹”"),
    (["batch"], "缺少参数“收表文件夹”"),
    (["watch"], "缺少参数“收表文件夹”"),
    (["mail"], "缺少参数“输出文件夹”"),
    (["mail", "out", "--max-size", "abc"], "--max-size 的值“abc”无效：应为一个数字"),
    (["mail", "out", "--timeout", "soon"], "--timeout 的值“soon”无效：应为一个数字"),
    (["batch", "in", "-o", "out", "--jobs", "two"], "--jobs 的值“two”无效：应为一个整数"),
    (["watch", "in", "-o", "out", "--settle=abc"], "--settle 的值“abc”无效：应为一个数字"),
    (["template", "--bogus"], "没有选项 --bogus"),
    (["score", "x.xlsx", "--jsn"], "没有选项 --jsn"),
    (["bogus"], "没有命令“bogus”"),
    (["template", "-p"], "选项 -p 后面要写一个值"),
    (["check", "--json=1", "x.xlsx"], "选项 --json 不带值"),
    (["template", "extra", "words"], "多出了参数：extra words"),
]


@pytest.mark.parametrize("args, message", USAGE_ERRORS, ids=lambda a: " ".join(a) if isinstance(a, list) else "")
def test_usage_errors_are_chinese(args, message):
    result = run_cli(*args)
    assert result.returncode == 2
    assert result.stdout == "" and "Traceback" not in result.stderr
    assert result.stderr.startswith("用法错误：") and message in result.stderr, result.stderr
    assert "--help` 查看用法" in result.stderr
    _chinese_only(result.stderr, tuple(part for a in args if a not in COMMANDS for part in a.split("=")))


def test_profile_names_are_the_same_everywhere(tmp_path):
    """template -p framework-70 and check -p framework: each command takes both spellings."""
    for name in ("framework-70", "framework"):
        made = run_cli("template", "-p", name, "-o", str(tmp_path / name))
        assert made.returncode == 0, made.stderr
        assert (tmp_path / name / "项目绩效评价表（共性框架）.xlsx").is_file()
    assert run_cli("template", "-p", "mof-2020", "-o", str(tmp_path / "m")).returncode == 0
    for name in ("framework", "framework-70", "mof-2020"):
        checked = run_cli("check", str(BASE), "-p", name)
        assert checked.returncode == 0 and "错误：" not in checked.stderr, checked.stderr
    unknown = run_cli("template", "-p", "hubei", cwd=tmp_path)
    assert unknown.returncode == 2 and "mof-2020、framework-70" in unknown.stderr


def test_toml_errors_are_chinese(tmp_path):
    bad = tmp_path / "我的规则.toml"
    bad.write_text("[weights\nlevel1 = 1\n", encoding="utf-8")
    result = run_cli("check", str(BASE), "--profile", str(bad))
    assert result.returncode == 2
    assert "第 1 行第 9 列：表名应以“]”结尾" in result.stderr
    _chinese_only(result.stderr.replace(str(bad), ""))
    (tmp_path / "perfeval.toml").write_text('[mail]\nto = jxk@example.cn\nsubject = "未写完\n', encoding="utf-8")
    result = run_cli("mail", str(tmp_path), "--dry-run", cwd=tmp_path)
    assert result.returncode == 2
    assert "第 2 行第 6 列：值的写法不对：文字要加英文双引号" in result.stderr
    _chinese_only(result.stderr.replace(str(tmp_path / "perfeval.toml"), ""))
