"""The `perfeval` command: a thin layer that parses options, calls the library, prints.

Only typer is imported at start-up; each command imports what it needs, so that
`perfeval --help` answers at once.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(
    name="perfeval",
    help="项目支出绩效自评表工具：发放模板、检查、评分、批量汇总、报送。",
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

TEMPLATE_PROFILES = ("mof-2020", "framework")


def _fail(message: str, code: int = 2) -> None:
    """Print one clear Chinese message on stderr and exit; never a traceback."""
    typer.echo(f"错误：{message}", err=True)
    raise typer.Exit(code)


def _version(value: bool) -> None:
    if value:
        from . import __version__

        typer.echo(f"perfeval-xlsx {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="显示版本号并退出。"),
) -> None:
    """项目支出绩效自评表工具：发放模板、检查、评分、批量汇总、报送。"""


@app.command()
def template(
    profile: str = typer.Option("mof-2020", "--profile", "-p", help="表样：mof-2020（财政部自评表）或 framework（共性框架评价表）。"),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="输出文件或文件夹，默认为当前文件夹下的标准文件名。"),
    force: bool = typer.Option(False, "--force", help="输出文件已存在时覆盖它。"),
) -> None:
    """生成一份空白的自评表模板（.xlsx），发给各单位离线填写。

    Example: perfeval template --profile framework -o 项目绩效评价表.xlsx
    """
    if profile not in TEMPLATE_PROFILES:
        _fail(f"未知的表样“{profile}”。可选：{'、'.join(TEMPLATE_PROFILES)}。")
    from .layout import get_layout
    from .template import write_template

    layout = get_layout(profile)
    path = output if output is not None else Path(layout.file_name)
    if path.is_dir() or str(output).endswith(("/", "\\")) or path.suffix == "":
        path = path / layout.file_name  # a folder: the standard file name inside it
    if path.suffix.lower() != ".xlsx":
        _fail(f"输出文件“{path}”的扩展名应为 .xlsx。")
    if path.exists() and not force:
        _fail(f"文件“{path}”已存在，未覆盖（它可能是已填写的表）。如确需覆盖，请加 --force。")
    try:
        write_template(profile, path)
    except OSError as exc:
        _fail(f"无法写入“{path}”：{exc.strerror or exc}。请检查文件夹是否存在、文件是否正在 Excel/WPS 中打开。")
    typer.echo(f"已生成模板：{path}")


def _kind(exc: BaseException) -> str:
    """Name the click exception kind without importing click (typer may vendor it)."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    for kind in ("NoArgsIsHelpError", "UsageError", "Abort", "Exit"):
        if kind in names:
            return kind
    return ""


def main() -> None:
    """Entry point: usage errors are reported in Chinese with exit code 2."""
    try:
        result = app(standalone_mode=False)
    except Exception as exc:
        kind = _kind(exc)
        if kind == "NoArgsIsHelpError":
            typer.echo(exc.ctx.get_help())
            sys.exit(0)
        if kind == "UsageError":
            ctx = getattr(exc, "ctx", None)
            where = ctx.command_path if ctx is not None else "perfeval"
            typer.echo(f"用法错误：{exc.format_message()}\n运行 `{where} --help` 查看用法。", err=True)
            sys.exit(2)
        if kind == "Abort":
            typer.echo("已取消。", err=True)
            sys.exit(130)
        if kind == "Exit":
            sys.exit(getattr(exc, "exit_code", 0))
        raise
    sys.exit(result if isinstance(result, int) else 0)
