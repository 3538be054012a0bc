"""Send the planned messages by SMTP (STARTTLS/SSL), recording each accepted one."""


from __future__ import annotations

import math
import os
import smtplib
import socket
import ssl
import sys
from dataclasses import dataclass
from datetime import datetime
from email.utils import parseaddr
from typing import Any, Callable

from perfeval_xlsx.errors import MailError
from perfeval_xlsx.mail.config import SmtpSettings
from perfeval_xlsx.mail.log import _addr, append_mail_log
from perfeval_xlsx.mail.mime import _message_data
from perfeval_xlsx.mail.plan import MailPlan, PlannedMessage, format_size
from perfeval_xlsx.vocab import MAIL_LOG, MB, PASSWORD_ENV


def get_password(user: str, server: str, *, environ: dict[str, str] | None = None,
                 interactive: bool | None = None, prompt: Callable[[str], str] | None = None) -> str:
    """The SMTP password: from PERFEVAL_SMTP_PASSWORD, or typed in when run in a terminal."""
    environ = os.environ if environ is None else environ
    if environ.get(PASSWORD_ENV):
        return environ[PASSWORD_ENV]
    if interactive is None:
        interactive = sys.stdin is not None and sys.stdin.isatty()
    if not interactive:
        raise MailError(
            f"需要邮箱 {user} 的密码，但没有设置环境变量 {PASSWORD_ENV}，也不是在终端中运行（无法输入密码）。"
            f"请先设置该环境变量（值为邮箱密码或授权码），或在终端中运行本命令。"
        )
    if prompt is None:
        import getpass

        prompt = getpass.getpass
    password = prompt(f"请输入邮箱 {user} 在 {server} 的密码或授权码（输入时不显示）：")
    if not password:
        raise MailError("没有输入密码，未发送任何邮件。")
    return password


@dataclass
class SentMessage:
    planned: PlannedMessage
    size: int
    accepted: list[str]
    refused: dict[str, tuple[int, str]]
    record: dict[str, Any]


def send_plan(
    plan: MailPlan,
    settings: SmtpSettings,
    password: str | None = None,
    *,
    record: bool = True,
    on_sent: Callable[[int, SentMessage], None] | None = None,
) -> list[SentMessage]:
    """Send the planned messages over one SMTP connection; record each accepted one.

    Raises MailError (Chinese text) on any failure; messages accepted before it stay recorded.
    """
    if settings.user and password is not None and not password.isascii():
        raise MailError(
            f"{PASSWORD_ENV} 或输入的密码中含有中文或全角字符，邮件服务器登录只接受英文字母、数字和半角符号。"
            "请检查是否在中文输入法下输入了密码。未发送任何邮件。"
        )
    built = [(p, _message_data(p)) for p in plan.messages]
    sent: list[SentMessage] = []
    try:
        conn = _connect(settings)
    except Exception as exc:  # noqa: BLE001 - every failure becomes one message
        raise MailError(_explain(exc, settings, None)) from None
    current: PlannedMessage | None = None
    try:
        if settings.user:
            if password is None:
                raise MailError(f"需要邮箱 {settings.user} 的密码。")
            conn.login(settings.user, password)
        limit = _server_size_limit(conn)
        for i, (planned, data) in enumerate(built, 1):
            if limit and len(data) > limit:
                raise MailError(
                    f"邮件服务器 {settings.address} 限制单封邮件不超过 {format_size(limit)}，"
                    f"第 {i} 封“{planned.subject}”有 {format_size(len(data))}。"
                    f"请加 --max-size {max(math.floor(limit / MB * 90) / 100, 0.01):g} 重新运行，把附件分到多封邮件中。"
                )
        for i, (planned, data) in enumerate(built, 1):
            current = planned
            sender = parseaddr(planned.sender)[1]
            refused = conn.sendmail(sender, planned.recipients, data)
            refused_keys = {r.lower() for r in refused}
            accepted = [r for r in planned.recipients if r.lower() not in refused_keys]
            entry = _record(planned, settings, accepted, refused, data)
            if record:
                try:
                    append_mail_log(plan.batch.outbox, entry)
                except OSError as exc:
                    raise MailError(
                        f"邮件“{planned.subject}”已发送，但无法写入发送记录“{plan.batch.outbox / MAIL_LOG}”："
                        f"{exc.strerror or exc}。请检查该文件夹是否可写；重新运行前请加 --dry-run 核对，以免重复发送。"
                    ) from None
            message = SentMessage(planned, len(data), accepted, dict(refused), entry)
            sent.append(message)
            if on_sent:
                on_sent(i, message)
            if refused:
                raise MailError(
                    f"邮件“{planned.subject}”已发送给 {'、'.join(accepted)}，但邮件服务器拒绝了收件人 "
                    + "、".join(f"{r}（{_reply(c, m)}）" for r, (c, m) in refused.items())
                    + "。请检查这些地址；改正后重新运行即可补发（该邮件的附件会重新发给全部收件人）。其余邮件未发送。"
                )
    except MailError as exc:
        _close(conn)
        raise MailError(str(exc) + _already(sent)) from None
    except Exception as exc:  # noqa: BLE001
        _close(conn)
        raise MailError(_explain(exc, settings, current) + _already(sent)) from None
    try:
        conn.quit()
    except Exception:  # noqa: BLE001 - the messages are accepted; a rude goodbye does not matter
        _close(conn)
    return sent


def _record(planned: PlannedMessage, settings: SmtpSettings, accepted: list[str],
            refused: dict[str, Any], data: bytes) -> dict[str, Any]:
    accepted_set = {a.lower() for a in accepted}
    return {
        "time": datetime.now().astimezone().isoformat(timespec="seconds"),
        "server": settings.address,
        "from": planned.sender,
        "to": [a for a in planned.to if _addr(a) in accepted_set],
        "cc": [a for a in planned.cc if _addr(a) in accepted_set],
        "refused": sorted(refused),
        "subject": planned.subject,
        "size": len(data),
        "attachments": [{"name": a.name, "sha256": a.sha256, "size": a.size} for a in planned.attachments],
    }


def _connect(settings: SmtpSettings) -> smtplib.SMTP:
    context = None
    if settings.security in ("ssl", "starttls"):
        context = ssl.create_default_context(cafile=str(settings.cafile) if settings.cafile else None)
    if settings.security == "ssl":
        conn: smtplib.SMTP = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout, context=context)
    else:
        conn = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    try:
        conn.ehlo()
        if settings.security == "starttls":
            conn.starttls(context=context)
            conn.ehlo()
    except BaseException:
        _close(conn)
        raise
    return conn


def _server_size_limit(conn: smtplib.SMTP) -> int:
    value = conn.esmtp_features.get("size", "") if conn.does_esmtp else ""
    return int(value) if value.strip().isdigit() else 0


def _close(conn: smtplib.SMTP) -> None:
    try:
        conn.close()
    except Exception:  # noqa: BLE001
        pass


def _reply(code: int, message: bytes | str) -> str:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)
    return f"{code} {' '.join(text.split())}".strip()


def _already(sent: list[SentMessage]) -> str:
    if not sent:
        return "（本次没有邮件被服务器接收，未记录为已发送。）"
    return f"（本次已有 {len(sent)} 封邮件被服务器接收，已记入 {MAIL_LOG}；收件人不变时，重新运行不会重复发送其中的文件。）"


def _explain(exc: BaseException, settings: SmtpSettings, planned: PlannedMessage | None) -> str:
    """One Chinese sentence for an SMTP or network failure: where, what, how to fix."""
    server = settings.address
    which = f"发送“{planned.subject}”时，" if planned else ""
    if isinstance(exc, UnicodeEncodeError):
        return (
            f"{which}无法把“{exc.object[exc.start:exc.end]}”发送给邮件服务器 {server}：登录用户名、密码和邮箱地址"
            f"只能用英文字母、数字和半角符号（不能有中文或全角字符）。请检查 --user（现为 {settings.user}）、"
            f"环境变量 {PASSWORD_ENV}、--from 和 --to。"
        )
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return (
            f"登录邮件服务器 {server} 失败：用户名或密码不正确（服务器答复：{_reply(exc.smtp_code, exc.smtp_error)}）。"
            f"请检查 --user {settings.user} 和环境变量 {PASSWORD_ENV}；QQ、163、企业微信等邮箱要用“授权码”而不是登录密码。"
        )
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        text = str(exc)
        if "STARTTLS" in text.upper():
            return f"邮件服务器 {server} 不支持 STARTTLS 加密。请改用 --ssl（通常端口 465），或向单位信息部门确认加密方式。"
        if "AUTH" in text.upper():
            return (
                f"邮件服务器 {server} 在当前连接上不提供登录（AUTH）。多数服务器要求先加密："
                f"请加 --starttls（端口 587）或 --ssl（端口 465）；如该服务器不需要登录，请去掉 --user。"
            )
        return f"邮件服务器 {server} 不支持所需的功能（{text}）。"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        who = "、".join(f"{r}（{_reply(c, m)}）" for r, (c, m) in exc.recipients.items())
        if exc.recipients and all(400 <= c < 500 for c, _ in exc.recipients.values()):
            # 4xx: a temporary refusal (452 too many recipients or mailbox full for now), not a wrong address
            return (f"{which}邮件服务器 {server} 暂时不接收给这些收件人的邮件：{who}。这是暂时性的答复（4xx），"
                    "不是地址错误；请稍后重新运行。该邮件未发送。")
        return f"{which}邮件服务器 {server} 拒绝了全部收件人：{who}。请检查收件人地址是否正确。该邮件未发送。"
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return (
            f"{which}邮件服务器 {server} 拒绝了发件人 {exc.sender}（答复：{_reply(exc.smtp_code, exc.smtp_error)}）。"
            f"请检查 --from 是否与登录账号一致；如答复提到大小（size），请用 --max-size 调小单封大小。"
        )
    if isinstance(exc, smtplib.SMTPDataError):
        return (
            f"{which}邮件服务器 {server} 拒收了邮件（答复：{_reply(exc.smtp_code, exc.smtp_error)}）。"
            f"如答复提到邮件过大，请用 --max-size 调小单封大小后重新运行。"
        )
    if isinstance(exc, smtplib.SMTPConnectError):
        return f"邮件服务器 {server} 拒绝连接（答复：{_reply(exc.smtp_code, exc.smtp_error)}）。请稍后再试，或向单位信息部门确认。"
    timed_out = isinstance(exc, (TimeoutError, socket.timeout)) or (
        isinstance(exc, smtplib.SMTPServerDisconnected) and "timed out" in str(exc)
    )
    if timed_out:
        return (
            f"{which}等待邮件服务器 {server} 响应超时（{settings.timeout:g} 秒内没有回应）。"
            f"请检查网络和防火墙、端口与加密方式（465 要加 --ssl），或用 --timeout 延长等待时间。"
        )
    if isinstance(exc, smtplib.SMTPServerDisconnected) and planned is not None:
        # connected and logged in, then dropped while the message was on its way: not a port mismatch
        return (
            f"{which}邮件服务器 {server} 在传送邮件的过程中断开了连接（网络中断，或服务器限制了单封邮件的大小）。"
            f"该邮件未被接收；请稍后重新运行，如多次出现，请用 --max-size 调小单封大小。"
        )
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return (
            f"{which}邮件服务器 {server} 意外断开了连接。常见原因是加密方式与端口不匹配："
            f"端口 465 用 --ssl，端口 587 用 --starttls，端口 25 一般不加。"
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{which}邮件服务器 {server} 返回错误（{_reply(exc.smtp_code, exc.smtp_error)}）。请把这条信息告诉单位信息部门。"
    if isinstance(exc, smtplib.SMTPException):
        return f"{which}与邮件服务器 {server} 通信出错：{exc}。"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return (
            f"无法验证邮件服务器 {server} 的证书（{exc.verify_message or exc.reason}）。"
            f"请核对服务器地址；如单位使用内部证书，请用 --cafile 指定根证书文件。"
        )
    if isinstance(exc, ssl.SSLError):
        return (
            f"与邮件服务器 {server} 建立加密连接失败（{exc.reason or exc}）。"
            f"请检查端口与加密方式：端口 465 用 --ssl，端口 587 用 --starttls。"
        )
    if isinstance(exc, ConnectionRefusedError):
        return (
            f"无法连接邮件服务器 {server}：连接被拒绝（该端口没有邮件服务）。"
            f"请检查 --smtp 的地址和端口（常用：25；465 配 --ssl；587 配 --starttls），以及本机网络。"
        )
    if isinstance(exc, socket.gaierror):
        return f"找不到邮件服务器“{settings.host}”（域名无法解析）。请检查 --smtp 的拼写和网络连接。"
    if isinstance(exc, OSError):
        return f"{which}无法连接邮件服务器 {server}：{exc.strerror or exc}。请检查 --smtp 的地址和端口，以及本机网络。"
    return f"{which}发送时出现意外错误（{type(exc).__name__}：{exc}）。请把这条信息告诉维护人员。"
