"""Build the MIME messages (Chinese subjects and attachment names) and .eml drafts."""


from __future__ import annotations

import hashlib
import unicodedata
from email import policy
from email.errors import MessageError
from email.header import Header
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path

from perfeval_xlsx.errors import MailError
from perfeval_xlsx.mail.log import _write_atomic
from perfeval_xlsx.mail.plan import MailPlan, PlannedMessage, one_line

XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")


class _FoldedHeader(str):
    """A header value already folded for the wire; `policy.fold` writes it unchanged.

    The email package re-parses header strings and folds them again; on a Content-Type with
    an encoded word in ``name="=?utf-8?b?…?="`` it decodes the word, writes RFC 2231
    ``name*=`` instead (dropping the fallback) and mangles the MIME type into an encoded word.
    An object with a ``name`` attribute is taken as a finished header (see EmailPolicy.fold).
    """

    def __new__(cls, value: str, folded: str = "", name: str = "Content-Type"):
        obj = super().__new__(cls, value)
        obj.name = name
        obj.folded = folded or f"{name}: {value}"
        return obj

    def __getnewargs__(self):
        return (str(self), self.folded, self.name)

    def fold(self, *, policy) -> str:
        return self.folded.replace("\n", policy.linesep) + policy.linesep


def _encoded_words(text: str, max_bytes: int = 42) -> list[str]:
    """RFC 2047 base64 words, each a whole number of characters and short enough for one line."""
    words, chunk = [], ""
    for ch in text:
        if chunk and len((chunk + ch).encode("utf-8")) > max_bytes:
            words.append(chunk)
            chunk = ""
        chunk += ch
    words.append(chunk)
    return [Header(w, "utf-8").encode() for w in words]


def _content_type(file_name: str) -> _FoldedHeader:
    mime = "/".join(XLSX_TYPE)
    if file_name.isascii():
        quoted = file_name.replace("\\", "\\\\").replace('"', '\\"')
        return _FoldedHeader(f'{mime}; name="{quoted}"', f'Content-Type: {mime};\n name="{quoted}"')
    words = _encoded_words(file_name)
    value = f'{mime}; name="{" ".join(words)}"'
    return _FoldedHeader(value, f"Content-Type: {mime};\n name=\"" + "\n ".join(words) + '"')


def build_message(planned: PlannedMessage, *, draft: bool = False) -> EmailMessage:
    """The MIME message: Chinese headers encoded, text body, xlsx attachments with both name forms.

    `draft`: mark it as unsent (``X-Unsent: 1``), so that Outlook opens the .eml for sending.
    """
    from perfeval_xlsx import __version__

    msg = EmailMessage(policy=policy.SMTP)
    msg["Subject"] = planned.subject
    msg["From"] = planned.sender
    msg["To"] = ", ".join(planned.to)
    if planned.cc:
        msg["Cc"] = ", ".join(planned.cc)
    msg["Date"] = formatdate(localtime=True)
    domain = parseaddr(planned.sender)[1].rpartition("@")[2] or None
    msg["Message-ID"] = make_msgid(domain=domain)
    msg["X-Mailer"] = f"perfeval-xlsx {__version__}"
    if draft:
        msg["X-Unsent"] = "1"
    msg.set_content(planned.body, charset="utf-8", cte="base64")
    for att in planned.attachments:
        try:
            data = att.path.read_bytes()
        except OSError as exc:
            raise MailError(f"无法读取附件“{att.path}”：{exc.strerror or exc}。") from None
        if hashlib.sha256(data).hexdigest() != att.sha256:
            raise MailError(f"附件“{att.path}”在准备邮件期间被修改了。请等 perfeval batch 运行结束后再发送。")
        msg.add_attachment(data, maintype=XLSX_TYPE[0], subtype=XLSX_TYPE[1], filename=att.name)
        part = msg.get_payload()[-1]
        del part["MIME-Version"]
        del part["Content-Type"]
        part["Content-Type"] = _content_type(att.name)
    return msg


def message_bytes(msg: EmailMessage) -> bytes:
    """The message as sent: CRLF line ends, 7-bit clean."""
    return msg.as_bytes(policy=policy.SMTP)


def write_eml(plan: MailPlan, directory: str | Path) -> list[Path]:
    """Write each message as an .eml draft (opens in Outlook, Foxmail, Thunderbird)."""
    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise MailError(f"无法创建文件夹“{directory}”：{exc.strerror or exc}。") from None
    written = []
    for i, planned in enumerate(plan.messages, 1):
        name = f"{i:02d}_{_safe_file_name(planned.subject)}.eml"
        path = directory / name
        data = _message_data(planned, draft=True)
        try:
            _write_atomic(path, data)
        except OSError as exc:
            raise MailError(f"无法写入“{path}”：{exc.strerror or exc}。请检查文件夹是否可写、文件是否正在被打开。") from None
        written.append(path)
    return written


def _message_data(planned: PlannedMessage, *, draft: bool = False) -> bytes:
    """`build_message` + `message_bytes`; what the email package refuses becomes a MailError."""
    try:
        return message_bytes(build_message(planned, draft=draft))
    except (ValueError, MessageError) as exc:
        raise MailError(
            f"无法生成邮件“{one_line(planned.subject)}”：{exc}。常见原因是主题、收件人或发件人中含有换行符或控制字符，"
            "请检查 --subject、--to、--cc、--from 以及 perfeval.toml 中的相应设置。未发送任何邮件。"
        ) from None


#: longest file-name stem of a draft, in UTF-8 bytes: with "NN_" and ".eml" well within the
#: 255 bytes Linux and macOS allow (about 60 Chinese characters)
MAX_STEM_BYTES = 180


def _safe_file_name(text: str, max_bytes: int = MAX_STEM_BYTES) -> str:
    cleaned = "".join("_" if c in '\\/:*?"<>|' or unicodedata.category(c) in ("Cc", "Zl", "Zp") else c
                      for c in text).strip(" .")
    stem, size = [], 0
    for ch in cleaned:  # whole characters only
        size += len(ch.encode("utf-8"))
        if size > max_bytes:
            break
        stem.append(ch)
    return "".join(stem).strip(" .") or "邮件"


