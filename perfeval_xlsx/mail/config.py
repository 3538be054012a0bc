"""Settings of `perfeval mail`: the optional `perfeval.toml` file and the command-line options.

A finance office sets the mail server, the sender and the usual recipients once, in
``perfeval.toml`` (working folder, or ``--config PATH``)::

    [mail]
    smtp = "smtp.czj.example.gov.cn:587"
    starttls = true
    user = "jxpj@czj.example.gov.cn"
    from = "财务科 <jxpj@czj.example.gov.cn>"
    to = ["绩效科 <jxk@czj.example.gov.cn>"]
    cc = []
    max_size = 20          # MB per message
    subject = "{year}年度项目支出绩效自评评分结果（{count}个项目）"
    cafile = "内部根证书.pem"   # only for servers with an internal certificate authority
    timeout = 30           # seconds

Command-line options override the file. The password is never read from here: it comes from
the environment variable ``PERFEVAL_SMTP_PASSWORD`` or is typed in when asked.
"""

from __future__ import annotations

import math
import re
import sys
import unicodedata
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from perfeval_xlsx.errors import ConfigError
from perfeval_xlsx.tomlerror import toml_error_text

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

CONFIG_NAME = "perfeval.toml"
DEFAULT_MAX_SIZE_MB = 20.0
DEFAULT_TIMEOUT = 30.0
DEFAULT_PORTS = {"plain": 25, "starttls": 587, "ssl": 465}

#: the keys of [mail] and what each must be
CONFIG_FIELDS = {
    "smtp": "服务器地址，如 \"smtp.example.cn:587\"",
    "starttls": "true 或 false",
    "ssl": "true 或 false",
    "user": "登录用户名（文字）",
    "from": "发件人地址（文字）",
    "to": "收件人地址：文字，或文字的列表",
    "cc": "抄送地址：文字，或文字的列表",
    "max_size": "大于 0 的数（MB）",
    "subject": "邮件主题（文字）",
    "cafile": "证书文件路径（文字）",
    "timeout": "大于 0 的秒数",
}

_ADDR_SPEC = re.compile(r"^[^@\s<>(),;:\"\[\]]+@[^@\s<>(),;:\"\[\]]+$")


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str  # "plain" | "starttls" | "ssl"
    user: str | None = None
    cafile: Path | None = None
    timeout: float = DEFAULT_TIMEOUT

    @property
    def address(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


@dataclass(frozen=True)
class MailSettings:
    """Everything `perfeval mail` needs, after merging the config file and the options."""

    sender: str
    to: list[str]
    cc: list[str] = field(default_factory=list)
    subject: str | None = None
    max_size_mb: float = DEFAULT_MAX_SIZE_MB
    smtp: SmtpSettings | None = None  # None: .eml drafts or a dry run
    eml_dir: Path | None = None


def load_mail_config(path: Path | None = None, cwd: Path | None = None) -> dict[str, Any]:
    """Read and check the [mail] table: of `path`, or of ./perfeval.toml if it exists.

    Returns the checked values (``{}`` without a file); relative `cafile` paths are resolved
    against the file's folder. Other tables of the file are left to other commands.
    """
    if path is None:
        path = (cwd or Path.cwd()) / CONFIG_NAME
        if not path.is_file():
            return {}
    elif not path.is_file():
        raise ConfigError(f"找不到配置文件“{path}”。请检查 --config 后的路径。")
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"配置文件“{path}”格式有误：{toml_error_text(exc)}。请按 TOML 格式改正（文字要加英文双引号）。") from None
    except OSError as exc:
        raise ConfigError(f"无法读取配置文件“{path}”：{exc.strerror or exc}。") from None
    table = data.get("mail", {})
    if not isinstance(table, dict):
        raise ConfigError(f"配置文件“{path}”中的 mail 应为 [mail] 表。")
    where = f"配置文件“{path}”的 [mail] 中"
    for key in table:
        if key.lower() in ("password", "pass", "passwd", "pwd", "密码"):
            raise ConfigError(
                f"{where}不能保存密码（{key}）。请删除该项，改用环境变量 PERFEVAL_SMTP_PASSWORD，或运行时按提示输入。"
            )
        if key not in CONFIG_FIELDS:
            raise ConfigError(f"{where}有未知的设置项“{key}”。可用的设置项：{'、'.join(CONFIG_FIELDS)}。")
    checked: dict[str, Any] = {}
    for key, value in table.items():
        expected = CONFIG_FIELDS[key]
        bad = ConfigError(f"{where}“{key}”应为{expected}，现为 {value!r}。请改正后重新运行。")
        if key in ("starttls", "ssl"):
            if not isinstance(value, bool):
                raise bad
        elif key in ("to", "cc"):
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise bad
        elif key in ("max_size", "timeout"):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
                raise bad
            value = float(value)
        elif not isinstance(value, str) or not value.strip():
            raise bad
        if key == "cafile":
            value = path.parent / value
        checked[key] = value
    if checked.get("starttls") and checked.get("ssl"):
        raise ConfigError(f"{where}starttls 和 ssl 不能同时为 true。端口 587 一般用 starttls，465 用 ssl。")
    if "smtp" in checked:
        parse_smtp(checked["smtp"], f"{where}“smtp”")
    for key in ("to", "cc"):
        if key in checked:
            checked[key] = parse_addresses(checked[key], f"{where}“{key}”")
    if "from" in checked:
        checked["from"] = parse_single_address(checked["from"], f"{where}“from”")
    return checked


def parse_smtp(value: str, where: str = "--smtp") -> tuple[str, int | None]:
    """`HOST[:PORT]` (or `[IPv6]:PORT`) -> (host, port or None)."""
    text = value.strip()
    port: str | None = None
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        if rest:
            if not rest.startswith(":"):
                raise ConfigError(f"{where}的服务器地址“{value}”格式不对。请写成 主机名:端口，如 smtp.example.cn:587。")
            port = rest[1:]
    elif text.count(":") == 1:
        host, port = text.split(":")
    else:
        host = text
    if not host or any(c.isspace() for c in host) or "/" in host or "@" in host:
        raise ConfigError(f"{where}的服务器地址“{value}”格式不对。请写成 主机名:端口，如 smtp.example.cn:587。")
    if port is None:
        return host, None
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"{where}的端口“{port}”不是 1～65535 之间的整数。常用端口：25、465（--ssl）、587（--starttls）。")
    return host, int(port)


def parse_addresses(values: list[str], where: str) -> list[str]:
    """Check addresses ("a@b.cn", "张三 <a@b.cn>", several separated by commas or semicolons).

    Separators are ``,`` ``;`` and the full-width ``，`` ``；`` ``、`` (outside quotes). Returns one
    normalised entry per address; raises ConfigError naming the bad one. An address is never
    dropped silently: a piece that holds more than one address, or control characters (line
    breaks that would add header lines), is refused.
    """
    result: list[str] = []
    for raw in values:
        bad_char = next((c for c in raw if _is_control(c)), None)
        if bad_char is not None:
            raise ConfigError(
                f"{where}中的“{_visible(raw)}”含有换行符或控制字符（{_char_name(bad_char)}），不能用作邮箱地址。"
                "请删除这些字符，每个地址写成 name@example.cn 或 姓名 <name@example.cn>。"
            )
        pieces = [p.strip() for p in _split_outside_quotes(raw) if p.strip()]
        if not pieces:
            raise ConfigError(f"{where}中有空的邮箱地址。请写成 name@example.cn 或 姓名 <name@example.cn>。")
        for piece in pieces:
            if _holds_several(piece):
                raise ConfigError(
                    f"{where}中的“{piece}”含有多个邮箱地址。多个地址请用英文逗号分隔，"
                    "如 \"张三 <a@example.cn>, 李四 <b@example.cn>\"，或重复使用该选项。"
                )
            name, addr = parseaddr(piece)
            if not addr.isascii() and ("@" in addr or "＠" in addr):
                raise ConfigError(
                    f"{where}中的“{piece}”含有中文或全角字符。邮箱地址只能用英文字母、数字和半角符号（@ . _ -），"
                    "姓名可写在地址前，如 张三 <zhangsan@example.cn>。"
                )
            if not _ADDR_SPEC.match(addr or "") or ("<" in piece) != (">" in piece):
                raise ConfigError(f"{where}中的“{piece}”不是有效的邮箱地址。请写成 name@example.cn 或 姓名 <name@example.cn>。")
            try:
                result.append(str(Address(display_name=name, addr_spec=addr)) if name else addr)
            except (ValueError, IndexError):
                raise ConfigError(f"{where}中的“{piece}”不是有效的邮箱地址。请写成 name@example.cn 或 姓名 <name@example.cn>。") from None
    return result


def parse_single_address(value: str, where: str) -> str:
    addresses = parse_addresses([value], where)
    if len(addresses) != 1:
        raise ConfigError(f"{where}只能是一个邮箱地址，现为“{value}”。")
    return addresses[0]


_SEPARATORS = ",;，；、"


def _split_outside_quotes(text: str) -> list[str]:
    pieces, current, quoted = [], [], False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch in _SEPARATORS and not quoted:
            pieces.append("".join(current))
            current = []
        else:
            current.append(ch)
    pieces.append("".join(current))
    return pieces


def _holds_several(piece: str) -> bool:
    """More than one address in one piece: two <…>, two @, or an @ or text beside the <…>."""
    unquoted = re.sub(r'"[^"]*"', '""', piece)
    if unquoted.count("<") > 1 or unquoted.count(">") > 1:
        return True
    if "<" not in unquoted:
        return unquoted.count("@") + unquoted.count("＠") > 1
    before, _, rest = unquoted.partition("<")
    _, _, after = rest.partition(">")
    return "@" in before or "＠" in before or bool(after.strip())


def _is_control(ch: str) -> bool:
    """Control characters and line/paragraph separators (\\r \\n \\t U+2028 U+2029 …)."""
    return unicodedata.category(ch) in ("Cc", "Zl", "Zp")


def _char_name(ch: str) -> str:
    names = {"\n": "换行", "\r": "回车", "\t": "制表符", "\u2028": "行分隔符 U+2028", "\u2029": "段分隔符 U+2029"}
    return names.get(ch, f"U+{ord(ch):04X}")


def _visible(text: str) -> str:
    """The text with its control characters shown as ⏎ / U+XXXX, for an error message on one line."""
    return "".join(("⏎" if c in "\r\n\u2028\u2029" else f"<U+{ord(c):04X}>") if _is_control(c) else c for c in text)


def resolve_settings(
    config: dict[str, Any],
    *,
    to: list[str] | None = None,
    cc: list[str] | None = None,
    sender: str | None = None,
    subject: str | None = None,
    max_size: float | None = None,
    smtp: str | None = None,
    starttls: bool | None = None,
    ssl: bool | None = None,
    user: str | None = None,
    cafile: Path | None = None,
    timeout: float | None = None,
    eml: Path | None = None,
    dry_run: bool = False,
) -> MailSettings:
    """Merge the config file (`load_mail_config`) and the command-line options (which win)."""
    if smtp is not None and eml is not None:
        raise ConfigError("--smtp 和 --eml 只能选一个：--smtp 直接发送，--eml 只生成邮件草稿。")
    to_list = parse_addresses(to, "收件人（--to）") if to else config.get("to", [])
    cc_list = parse_addresses(cc, "抄送（--cc）") if cc else config.get("cc", [])
    if not to_list:
        raise ConfigError("没有收件人。请用 --to 指定（可重复），或在 perfeval.toml 的 [mail] 中设置 to。")
    the_user = user if user is not None else config.get("user")
    if the_user is not None and not the_user.strip():
        raise ConfigError("--user 不能为空。")
    if the_user is not None and (not the_user.isascii() or any(_is_control(c) for c in the_user)):
        source = "--user" if user is not None else "perfeval.toml 的 user"
        raise ConfigError(
            f"{source}（登录用户名）“{_visible(the_user)}”含有中文、全角字符或控制字符。邮件服务器的登录名只能用英文字母、"
            "数字和半角符号，一般就是完整的邮箱地址，如 --user cwk@example.cn。"
        )
    if sender is not None:
        the_sender = parse_single_address(sender, "发件人（--from）")
    elif "from" in config:
        the_sender = config["from"]
    elif the_user and _ADDR_SPEC.match(the_user):
        the_sender = the_user
    else:
        raise ConfigError("没有发件人。请用 --from 指定发件人地址，或在 perfeval.toml 的 [mail] 中设置 from。")
    size = max_size if max_size is not None else config.get("max_size", DEFAULT_MAX_SIZE_MB)
    if not math.isfinite(size) or size <= 0:
        raise ConfigError(f"--max-size 应为大于 0 的数（单位 MB），现为 {size}。")
    the_subject = subject if subject is not None else config.get("subject")
    if the_subject is not None and not the_subject.strip():
        raise ConfigError("--subject 不能为空。不写此项即使用默认主题。")
    if the_subject is not None:
        bad_char = next((c for c in the_subject if _is_control(c)), None)
        if bad_char is not None:
            source = "--subject" if subject is not None else "perfeval.toml 的 subject"
            raise ConfigError(
                f"{source}（邮件主题）“{_visible(the_subject)}”含有换行符或控制字符（{_char_name(bad_char)}）。"
                "邮件主题只能是一行文字，请删除这些字符后重新运行。"
            )

    smtp_settings = None
    if eml is None:
        server = smtp if smtp is not None else config.get("smtp")
        if server is None:
            if not dry_run:
                raise ConfigError(
                    "请指定发送方式：--smtp 服务器[:端口] 直接发送，或 --eml 文件夹 生成邮件草稿"
                    "（也可在 perfeval.toml 的 [mail] 中设置 smtp）。"
                )
        else:
            host, port = parse_smtp(server, "--smtp" if smtp is not None else "perfeval.toml 的 smtp")
            if starttls is not None or ssl is not None:  # options given: the file's choice is replaced
                use_starttls, use_ssl = bool(starttls), bool(ssl)
            else:
                use_starttls, use_ssl = config.get("starttls", False), config.get("ssl", False)
            if use_starttls and use_ssl:
                raise ConfigError("--starttls 和 --ssl 只能选一个：端口 587 一般用 --starttls，465 用 --ssl。")
            security = "ssl" if use_ssl else "starttls" if use_starttls else "plain"
            the_timeout = timeout if timeout is not None else config.get("timeout", DEFAULT_TIMEOUT)
            if not math.isfinite(the_timeout) or the_timeout <= 0:
                raise ConfigError(f"--timeout 应为大于 0 的秒数，现为 {the_timeout}。")
            the_cafile = cafile if cafile is not None else config.get("cafile")
            if the_cafile is not None and not Path(the_cafile).is_file():
                raise ConfigError(f"找不到证书文件“{the_cafile}”（--cafile）。请检查路径。")
            smtp_settings = SmtpSettings(
                host=host, port=port or DEFAULT_PORTS[security], security=security,
                user=the_user, cafile=Path(the_cafile) if the_cafile is not None else None, timeout=float(the_timeout),
            )
    return MailSettings(
        sender=the_sender, to=list(to_list), cc=list(cc_list), subject=the_subject,
        max_size_mb=float(size), smtp=smtp_settings, eml_dir=eml,
    )
