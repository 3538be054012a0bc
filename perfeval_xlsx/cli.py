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

#: --profile names, the same for every command: the form (template) or its rules (the others)
TEMPLATE_PROFILES = {"mof-2020": "mof-2020", "framework-70": "framework", "framework": "framework"}
PROFILE_ALIASES = {"framework": "framework-70"}


def _fail(message: str, code: int = 2) -> None:
    """Print one clear Chinese message on stderr and exit; never a traceback."""
    typer.echo(f"错误：{message}", err=True)
    raise typer.Exit(code)


def _version(value: bool) -> None:
    if value:
        from perfeval_xlsx import __version__

        typer.echo(f"perfeval-xlsx {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="显示版本号并退出。"),
) -> None:
    """项目支出绩效自评表工具：发放模板、检查、评分、批量汇总、报送。"""


@app.command()
def template(
    profile: str = typer.Option("mof-2020", "--profile", "-p", help="表样：mof-2020（财政部自评表）或 framework-70（共性框架评价表，也可写 framework）。"),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="输出文件或文件夹，默认为当前文件夹下的标准文件名。"),
    force: bool = typer.Option(False, "--force", help="输出文件已存在时覆盖它。"),
) -> None:
    """生成一份空白的自评表模板（.xlsx），发给各单位离线填写。

    示例：perfeval template --profile framework-70 -o 项目绩效评价表.xlsx
    """
    if profile not in TEMPLATE_PROFILES:
        _fail(f"未知的表样“{profile}”。可选：mof-2020、framework-70（也可写 framework）。")
    profile = TEMPLATE_PROFILES[profile]
    from perfeval_xlsx.forms.layout import get_layout
    from perfeval_xlsx.output.template import write_template

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


def _profile_or_fail(profile: str):
    """Load a profile up front, so that a bad one is one clear usage error (exit 2)."""
    from perfeval_xlsx.rules.profile import ProfileError, load_profile

    if profile == "auto":
        return None
    try:
        return load_profile(PROFILE_ALIASES.get(profile, profile))
    except ProfileError as exc:
        _fail(str(exc))


def _expand(paths: list[Path]) -> list[Path]:
    """Files as given; a folder stands for the forms (.xlsx/.xlsm/.xls/.et/.ods) directly in it,
    without the scored copies and roll-ups this tool wrote there (one line says so for each)."""
    from perfeval_xlsx.batch.discover import own_output_reason
    from perfeval_xlsx.reading.safety import FORM_SUFFIXES

    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            for q in sorted(q for q in p.iterdir() if q.suffix.lower() in FORM_SUFFIXES and not q.name.startswith(("~$", ".~lock"))):
                reason = own_output_reason(q)
                if reason:
                    typer.echo(f"已跳过 {q}：{reason}", err=True)
                else:
                    out.append(q)
        else:
            out.append(p)
    return out


def _exit_code(results) -> int:
    from perfeval_xlsx.vocab import INTERNAL_CODE, exit_code

    internal = any(f.code == INTERNAL_CODE for r in results for f in r.findings)
    return exit_code((r.status for r in results), internal)


PROFILE_HELP = "评分规则：auto（按表样自动选择，默认）、mof-2020、framework-70（也可写 framework），或 .toml 文件路径。"


@app.command()
def check(
    files: list[Path] = typer.Argument(..., help="要检查的自评表文件（.xlsx、.xlsm、.xls、.et、.ods，或包含它们的文件夹）。", show_default=False),
    profile: str = typer.Option("auto", "--profile", "-p", help=PROFILE_HELP),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出（每个文件一个对象），不输出表格。"),
) -> None:
    """逐格检查填好的自评表，列出每个问题所在的单元格和改法。

    退出码：0 没有错误；1 有文件存在错误；2 有文件无法读取或用法错误。

    示例：perfeval check samples/broken/分值合计不等于100.xlsx
    """
    import warnings

    warnings.simplefilter("ignore")
    prof = _profile_or_fail(profile)
    from perfeval_xlsx.check import check_file
    from perfeval_xlsx.console import print_check_results

    results = [check_file(path, prof) for path in _expand(files)]
    if not results:
        _fail("没有找到要检查的自评表文件（.xlsx、.xlsm、.xls、.et、.ods）。")
    if as_json:
        from perfeval_xlsx.rules.findings import dumps

        typer.echo(dumps([r.to_dict() for r in results], indent=2))
    else:
        print_check_results(results)
    raise typer.Exit(_exit_code(results))


@app.command()
def score(
    files: list[Path] = typer.Argument(..., help="要评分的自评表文件（.xlsx、.xlsm、.xls、.et、.ods，或包含它们的文件夹）。", show_default=False),
    output: Optional[Path] = typer.Option(None, "--output", "-o", metavar="DIR", help="评分结果放入的文件夹，默认与原文件放在一起。"),
    profile: str = typer.Option("auto", "--profile", "-p", help=PROFILE_HELP),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出每个文件的检查结果和得分。"),
) -> None:
    """按规则评分，生成“原文件名_评分.xlsx”（原文件不改动）。

    评分副本中填好执行率、每项得分、总分和等级，有问题的单元格标色（错误红、预警橙、提示蓝）并附批注，
    并增加“评分汇总”“评分明细”“问题清单”三个工作表。
    退出码：0 没有错误；1 有文件存在错误；2 有文件无法读取或用法错误。

    示例：perfeval score samples/*.xlsx -o 评分结果/
    """
    import warnings

    warnings.simplefilter("ignore")
    prof = _profile_or_fail(profile)
    from perfeval_xlsx.console import print_score_results
    from perfeval_xlsx.score import score_file

    paths = _expand(files)
    if not paths:
        _fail("没有找到要评分的自评表文件（.xlsx、.xlsm、.xls、.et、.ods）。")
    if output is not None and output.exists() and not output.is_dir():
        _fail(f"“{output}”不是文件夹。请用 -o 指定一个文件夹。")
    from perfeval_xlsx.score import output_path

    targets: dict[str, Path] = {}
    for path in paths:  # a.xls and a.ods would both become a_评分.xlsx: the second would replace the first
        target = output_path(path, output)
        first = targets.setdefault(str(target.resolve()).lower(), path)
        if first != path:
            _fail(f"“{first}”和“{path}”的评分副本同名（{target.name}），后一个会覆盖前一个。"
                  "请把其中一个文件改名后再运行。")
    outcomes = [score_file(path, output, prof) for path in paths]
    if as_json:
        from perfeval_xlsx.rules.findings import dumps

        typer.echo(dumps([o.to_dict() for o in outcomes], indent=2))
    else:
        print_score_results(outcomes)
    raise typer.Exit(_exit_code([o.result for o in outcomes]))


TEMPLATE_HELP = "自评报告的措辞模板：standard（默认），或 .toml 文件路径（复制 standard.toml 修改）"


def _template_or_fail(template: Optional[str]):
    """Load a report wording template up front: a bad one is one clear usage error (exit 2)."""
    from perfeval_xlsx.errors import TemplateError
    from perfeval_xlsx.report import load_template

    try:
        return load_template(template)
    except TemplateError as exc:
        _fail(str(exc))


@app.command()
def report(
    files: list[Path] = typer.Argument(..., help="填好的自评表 .xlsx 文件（或包含它们的文件夹）。", show_default=False),
    output: Optional[Path] = typer.Option(None, "--output", "-o", metavar="DIR", help="自评报告放入的文件夹（必填）。"),
    profile: str = typer.Option("auto", "--profile", "-p", help=PROFILE_HELP),
    template: str = typer.Option("standard", "--template", "-t", metavar="NAME|PATH", help=TEMPLATE_HELP + "。"),
) -> None:
    """按评分结果起草《项目支出绩效自评报告》：每份表生成“原文件名_自评报告.docx”（原文件不改动）。

    报告分七个部分，资金、预算执行率、各指标的指标值和完成值、得分、偏差原因、总分和等级全部取自自评表；
    自评表中没有的内容（如项目背景、主要经验及做法）标为“【请填写：……】”。自评表有错误时，报告首页注明“待更正”。

    退出码：0 没有错误；1 有文件存在错误（报告已生成，注明待更正）；2 有文件无法读取或用法错误。

    示例：perfeval report samples/ -o 自评报告/
    """
    import warnings

    warnings.simplefilter("ignore")
    if output is None:
        _fail("请用 -o 指定自评报告放入的文件夹，如：perfeval report 收表/ -o 自评报告/")
    if output.exists() and not output.is_dir():
        _fail(f"“{output}”是一个文件，不是文件夹。请用 -o 指定一个文件夹。")
    prof = _profile_or_fail(profile)
    wording = _template_or_fail(template)
    from perfeval_xlsx.report import report_file
    from perfeval_xlsx.rules.findings import ERROR
    from perfeval_xlsx.vocab import ERRORS

    paths = _expand(files)
    if not paths:
        _fail("没有找到要起草报告的 .xlsx 文件。")
    results = []
    for path in paths:
        outcome = report_file(path, output, prof, wording)
        results.append(outcome.result)
        if outcome.output is None:
            reason = next((f.message for f in outcome.result.findings if f.severity == ERROR), "")
            typer.echo(f"未生成 {path.name} 的报告：{reason}", err=True)
            continue
        score = outcome.result.score
        note = "；自评表有错误，报告首页注明待更正" if outcome.result.status == ERRORS else ""
        typer.echo(f"已生成 {outcome.output}（总分 {score.total:g} 分，等级 {score.grade}{note}）")
    raise typer.Exit(_exit_code(results))


def _folders_or_fail(inbox: Path, output: Optional[Path], command: str) -> Path:
    """INBOX must be a folder and OUTBOX given (and not a file): one Chinese message otherwise."""
    if output is None:
        _fail(f"请用 -o 指定输出文件夹（评分副本和汇总表写在那里），如：perfeval {command} {inbox} -o 评分结果/")
    if not inbox.exists():
        _fail(f"找不到文件夹“{inbox}”。请检查路径是否正确（含空格的路径请加引号）。")
    if not inbox.is_dir():
        _fail(f"“{inbox}”不是文件夹。perfeval {command} 处理整个文件夹；评分单个文件请用 perfeval score。")
    if output.exists() and not output.is_dir():
        _fail(f"“{output}”是一个文件，不是文件夹。请用 -o 指定一个文件夹。")
    return output


@app.command()
def batch(
    inbox: Path = typer.Argument(..., metavar="INBOX", help="收表文件夹：其中每个 .xlsx、.xlsm、.xls、.et、.ods 都会评分。", show_default=False),
    output: Optional[Path] = typer.Option(None, "--output", "-o", metavar="OUTBOX", help="输出文件夹：评分副本、汇总表和 perfeval-batch.json 写在这里（必填）。"),
    jobs: Optional[int] = typer.Option(None, "--jobs", "-j", metavar="N", help="同时评分的进程数，默认为 CPU 核数。"),
    recursive: bool = typer.Option(False, "--recursive", "-r", help="也处理子文件夹中的表（评分副本按同样的子文件夹存放）。"),
    profile: str = typer.Option("auto", "--profile", "-p", help=PROFILE_HELP),
    force: bool = typer.Option(False, "--force", help="全部重新评分，包括上次评分后没有改动的文件。"),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出（files、summary、rollup），不输出文字报告。"),
    with_report: bool = typer.Option(False, "--report", help="同时为每份表起草自评报告（原文件名_自评报告.docx，与评分副本放在一起），"
                                     "并为财务部门生成汇总报告（汇总报告_日期-时间.docx）。"),
    template: Optional[str] = typer.Option(None, "--template", "-t", metavar="NAME|PATH", help=TEMPLATE_HELP + "（隐含 --report）"),
    keep_rollups: bool = typer.Option(False, "--keep-rollups", help="保留以前生成的汇总表（默认只留最新的一份）。"),
) -> None:
    """批量评分整个文件夹：每份表一个评分副本，另生成一份带图表的汇总表。

    上次评分后没有改动的文件不再重复评分；.xls、.et、.ods 与 .xlsx 一样评分（评分副本总是 .xlsx），其他表格文件会列出并说明原因；
    本工具生成的评分副本和汇总表不计入项目；原表已移出收表文件夹的评分副本移到“已移出收表文件夹的评分副本”文件夹；
    Excel/WPS 的临时文件（~$ 开头等）和非表格文件自动忽略。

    退出码：0 没有错误；1 有文件存在错误；2 有文件无法读取或用法错误。

    示例：perfeval batch 收表/ -o 评分结果/ --recursive
    """
    import warnings

    warnings.simplefilter("ignore")
    if jobs is not None and jobs < 1:
        _fail(f"--jobs 应为不小于 1 的整数（现为 {jobs}）。")
    outbox = _folders_or_fail(inbox, output, "batch")
    prof = _profile_or_fail(profile)
    wording = _template_or_fail(template) if with_report or template is not None else None
    from perfeval_xlsx.batch import JsonFiles, OutboxBusy, discover, run_batch, stream_json
    from perfeval_xlsx.errors import WorkerStartError
    from perfeval_xlsx.console import print_batch_report

    disc = discover(inbox, outbox, recursive)
    if not disc.files:
        for item in disc.skipped:
            typer.echo(f"已跳过 {item.file}：{item.reason}", err=True)
        hint = "" if recursive else "如表在子文件夹中，请加 --recursive。"
        _fail(f"文件夹“{inbox}”中没有自评表文件（.xlsx、.xlsm、.xls、.et、.ods），未评分。{hint}")
    bar = None
    if sys.stderr.isatty():
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        from perfeval_xlsx.console import make_console

        bar = Progress(TextColumn("评分"), BarColumn(), MofNCompleteColumn(), TextColumn("剩余"), TimeRemainingColumn(),
                       console=make_console(stderr=True), transient=True)
        task = bar.add_task("评分", total=len(disc.files))
        bar.start()
    rendered = JsonFiles() if as_json else None  # the files' JSON, rendered while they are scored
    try:
        result = run_batch(inbox, outbox, profile=prof, jobs=jobs, recursive=recursive, force=force, discovery=disc, report=wording,
                           keep_rollups=keep_rollups, listed=rendered.add if rendered is not None else None,
                           progress=(lambda s, done, total: bar.update(task, completed=done, total=total)) if bar else None)
    except OutboxBusy:
        _fail(f"输出文件夹“{outbox}”正在被另一个 perfeval batch 或 watch 使用（已等待 30 秒）。请等它结束后再运行，"
              "或换一个输出文件夹。")
    except WorkerStartError as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"无法写入输出文件夹“{outbox}”：{exc.strerror or exc}。请检查文件夹是否可写、磁盘是否已满，"
              "以及汇总表是否正在 Excel/WPS 中打开。")
    except KeyboardInterrupt:
        typer.echo("已中断。已完成的评分已保存；再次运行同一命令会接着处理，已评分且未改动的文件不再重复评分。", err=True)
        raise typer.Exit(130)
    finally:
        if bar is not None:
            bar.stop()
    if rendered is not None:
        with rendered:
            stream_json(result, sys.stdout, rendered)
    else:
        print_batch_report(result)
        if result.summary_report is not None:
            typer.echo(f"自评报告已与评分副本放在一起；汇总报告：{result.summary_report}")
    raise typer.Exit(result.exit_code)


@app.command()
def watch(
    inbox: Path = typer.Argument(..., metavar="INBOX", help="要监视的收表文件夹（可以是共享文件夹）。", show_default=False),
    output: Optional[Path] = typer.Option(None, "--output", "-o", metavar="OUTBOX", help="输出文件夹：评分副本、汇总表和 perfeval-batch.json 写在这里（必填）。"),
    poll: bool = typer.Option(False, "--poll", help="定时轮询文件夹，而不依赖系统的变动通知（网络共享文件夹请加此项）。"),
    settle: float = typer.Option(2.0, "--settle", metavar="SECONDS", help="文件大小和修改时间保持不变多少秒后才评分（确认已复制/保存完毕），默认 2。"),
    recursive: bool = typer.Option(False, "--recursive", "-r", help="也监视子文件夹。"),
    profile: str = typer.Option("auto", "--profile", "-p", help=PROFILE_HELP),
) -> None:
    """监视收表文件夹：新表放入（复制、保存完毕）后自动评分并更新汇总表，按 Ctrl-C 停止。

    每份表的每个版本只评分一次；Excel/WPS 的临时文件自动忽略；每个结果带时间记录在屏幕上。

    示例：perfeval watch Z:/绩效收表 -o 评分结果/ --poll --settle 5
    """
    import warnings

    warnings.simplefilter("ignore")
    if not settle > 0:
        _fail(f"--settle 应为大于 0 的秒数（现为 {settle:g}）。")
    outbox = _folders_or_fail(inbox, output, "watch")
    prof = _profile_or_fail(profile)
    import signal
    import threading

    from perfeval_xlsx.batch.watch import watch_folder

    stop = threading.Event()
    try:
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not the main thread / no SIGTERM
        pass
    try:
        watch_folder(inbox, outbox, profile=prof, recursive=recursive, poll=poll, settle=settle, stop=stop)
    except OSError as exc:
        _fail(f"无法监视“{inbox}”或写入“{outbox}”：{exc.strerror or exc}。请检查路径和访问权限；网络共享文件夹请加 --poll。")


@app.command()
def mail(
    outbox: Path = typer.Argument(..., metavar="OUTBOX", help="perfeval batch 的输出文件夹（内有 perfeval-batch.json、汇总表和评分副本）。"),
    to: Optional[list[str]] = typer.Option(None, "--to", metavar="ADDR", help="收件人，可重复；默认用 perfeval.toml 中 [mail] 的 to。"),
    cc: Optional[list[str]] = typer.Option(None, "--cc", metavar="ADDR", help="抄送，可重复。"),
    sender: Optional[str] = typer.Option(None, "--from", metavar="ADDR", help="发件人地址，如 \"财务科 <cwk@example.cn>\"。"),
    subject: Optional[str] = typer.Option(None, "--subject", metavar="TEXT", help="邮件主题，可含 {year}、{count}；默认如“2024年度项目支出绩效自评评分结果（3个项目）”。"),
    per_unit: bool = typer.Option(False, "--per-unit", help="每个实施单位一封邮件，只附该单位的评分副本；汇总表另发一封。"),
    max_size: Optional[float] = typer.Option(None, "--max-size", metavar="MB", help="单封邮件大小上限（MB，按发送时的大小计），默认 20；超过时分成多封并编号。"),
    smtp: Optional[str] = typer.Option(None, "--smtp", metavar="HOST[:PORT]", help="直接发送：邮件服务器 主机名[:端口]，如 smtp.example.cn:587。"),
    starttls: Optional[bool] = typer.Option(None, "--starttls/--no-starttls", help="连接后用 STARTTLS 加密（常用端口 587）。"),
    use_ssl: Optional[bool] = typer.Option(None, "--ssl/--no-ssl", help="全程 SSL/TLS 加密（常用端口 465）。"),
    user: Optional[str] = typer.Option(None, "--user", metavar="NAME", help="登录邮件服务器的用户名；密码取自环境变量 PERFEVAL_SMTP_PASSWORD，或运行时输入。"),
    cafile: Optional[Path] = typer.Option(None, "--cafile", metavar="FILE", help="邮件服务器使用单位内部证书时，指定其根证书文件（.pem）。"),
    timeout: Optional[float] = typer.Option(None, "--timeout", metavar="SECONDS", help="等待邮件服务器响应的秒数，默认 30。"),
    eml: Optional[Path] = typer.Option(None, "--eml", metavar="DIR", help="不发送，把邮件草稿（.eml）写入此文件夹，可用 Outlook、Foxmail、Thunderbird 打开后发送。"),
    resend: bool = typer.Option(False, "--resend", help="重新发送此前已发送给同样收件人的文件。"),
    dry_run: bool = typer.Option(False, "--dry-run", help="只列出将要发送的邮件，不发送、不写文件。"),
    config: Optional[Path] = typer.Option(None, "--config", metavar="FILE", help="配置文件，默认为当前文件夹下的 perfeval.toml（如有）。"),
) -> None:
    """把批量评分结果（汇总表和评分副本）通过邮件报送上级，或生成邮件草稿。

    示例：perfeval mail 输出/ --to jxk@example.cn --from cwk@example.cn --smtp smtp.example.cn:587 --starttls --user cwk@example.cn
    """
    from perfeval_xlsx.mail import (
        MailError,
        get_password,
        load_batch,
        plan_messages,
        read_mail_log,
        send_plan,
        sent_index,
        write_eml,
    )
    from perfeval_xlsx.mail.config import ConfigError, load_mail_config, resolve_settings
    from perfeval_xlsx.mail.plan import format_size
    from perfeval_xlsx.vocab import MAIL_LOG

    try:
        settings = resolve_settings(
            load_mail_config(config), to=to, cc=cc, sender=sender, subject=subject, max_size=max_size,
            smtp=smtp, starttls=starttls, ssl=use_ssl, user=user, cafile=cafile, timeout=timeout,
            eml=eml, dry_run=dry_run,
        )
        batch = load_batch(outbox)
        sending = settings.smtp is not None and settings.eml_dir is None
        sent = sent_index(read_mail_log(outbox)) if sending and not resend else None
        plan = plan_messages(
            batch, sender=settings.sender, to=settings.to, cc=settings.cc, subject=settings.subject,
            per_unit=per_unit, max_size_mb=settings.max_size_mb, sent=sent,
        )
    except (ConfigError, MailError) as exc:
        _fail(str(exc))
    for warning in plan.warnings:
        typer.echo(f"提醒：{warning}", err=True)
    if plan.already_sent:
        names = "、".join(a.name for a in plan.already_sent)
        typer.echo(f"已跳过此前已发送给同样收件人的 {len(plan.already_sent)} 个文件：{names}（加 --resend 可重新发送）。")
    if not plan.messages:
        typer.echo("没有需要发送的文件。" if plan.already_sent else "没有可发送的文件：perfeval-batch.json 中没有评分副本或汇总表。")
        return

    def line(i: int, planned, size: int, verb: str) -> str:
        who = "、".join(planned.to) + (f"，抄送 {'、'.join(planned.cc)}" if planned.cc else "")
        return (f"{verb} {i}/{len(plan.messages)}：收件人 {who}；主题“{planned.subject}”；"
                f"附件 {len(planned.attachments)} 个；大小 {format_size(size)}")

    files = sum(len(m.attachments) for m in plan.messages)
    if dry_run:
        for i, planned in enumerate(plan.messages, 1):
            typer.echo(line(i, planned, planned.estimated_size, "计划") + "（估计）")
            for att in planned.attachments:
                typer.echo(f"    {att.name}（{format_size(att.size)}）")
        typer.echo(f"预演完成：共 {len(plan.messages)} 封邮件、{files} 个附件，未发送，也未写入任何文件。")
        return
    try:
        if settings.eml_dir is not None:
            paths = write_eml(plan, settings.eml_dir)
            for i, (planned, path) in enumerate(zip(plan.messages, paths), 1):
                typer.echo(line(i, planned, path.stat().st_size, "已生成草稿") + f"；文件 {path.name}")
            typer.echo(f"完成：已在“{settings.eml_dir}”生成 {len(paths)} 封邮件草稿、共 {files} 个附件，请打开后核对并发送。")
            return
        smtp_settings = settings.smtp
        password = None
        if smtp_settings.user:
            password = get_password(smtp_settings.user, smtp_settings.address)
            if smtp_settings.security == "plain":
                typer.echo("提醒：连接未加密，密码将以明文传输。如服务器支持，请加 --starttls 或 --ssl。", err=True)
        sent_messages = send_plan(
            plan, smtp_settings, password,
            on_sent=lambda i, s: typer.echo(line(i, s.planned, s.size, "已发送")),
        )
    except MailError as exc:
        _fail(str(exc))
    except OSError as exc:  # a file that vanished or a folder that cannot be written
        _fail(f"{getattr(exc, 'filename', '') or ''} {exc.strerror or exc}。请检查文件和文件夹后重新运行。".strip())
    typer.echo(
        f"完成：已发送 {len(sent_messages)} 封邮件、共 {files} 个附件到 {smtp_settings.address}；"
        f"发送记录已写入“{outbox / MAIL_LOG}”。"
    )


def _kind(exc: BaseException) -> str:
    """Name the click exception kind without importing click (typer may vendor it)."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    for kind in ("NoArgsIsHelpError", "UsageError", "Abort", "Exit"):
        if kind in names:
            return kind
    return ""


def main() -> None:
    """Entry point: help and usage errors in Chinese (cli_text); usage errors exit with 2."""
    from perfeval_xlsx.cli_text import localize, usage_message

    argv = sys.argv[1:]
    # "Exception ignored in ZipFile.__del__ …" (a full disk while a zip closes) is English noise:
    # the failure itself is reported where it happened
    sys.unraisablehook = lambda unraisable: None
    try:
        result = localize(typer.main.get_command(app)).main(argv, prog_name="perfeval", standalone_mode=False)
    except Exception as exc:
        kind = _kind(exc)
        if kind == "NoArgsIsHelpError":
            typer.echo(exc.ctx.get_help())
            sys.exit(0)
        if kind == "UsageError":
            ctx = getattr(exc, "ctx", None)
            named = argv[0] if argv and argv[0] in typer.main.get_command(app).commands else ""
            where = ctx.command_path if ctx is not None else f"perfeval {named}".strip()
            typer.echo(f"用法错误：{usage_message(exc, argv)}\n运行 `{where} --help` 查看用法。", err=True)
            sys.exit(2)
        if kind == "Abort":
            typer.echo("已取消。", err=True)
            sys.exit(130)
        if kind == "Exit":
            sys.exit(getattr(exc, "exit_code", 0))
        raise
    sys.exit(result if isinstance(result, int) else 0)
