"""Send a batch upward by email: plan the messages, build them, write .eml drafts or send by SMTP.

Input is what `perfeval batch` leaves in its OUTBOX folder: ``perfeval-batch.json`` (the
results), the roll-up workbook and one scored copy per form. Everything here works on plain
data, so it is usable without the command line::

    batch = load_batch("输出")
    plan = plan_messages(batch, sender="cwk@example.cn", to=["jxk@example.cn"], per_unit=True)
    write_eml(plan, "草稿")                       # or:
    send_plan(plan, SmtpSettings("smtp.example.cn", 587, "starttls", user="cwk@example.cn"), password)

Each message accepted by the server is recorded in ``OUTBOX/perfeval-mail-log.jsonl`` (time,
recipients, subject, attachment names and SHA-256), and a later run leaves out the files
already accepted for the same recipients (unless ``resend=True``).

Attachment names are Chinese: each attachment carries the RFC 2231 parameter
``filename*=utf-8''…`` (Content-Disposition) and, for clients that do not read RFC 2231, the
RFC 2047 encoded word ``name="=?utf-8?b?…?="`` (Content-Type) — as Thunderbird writes them.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import smtplib
import socket
import ssl
import sys
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.errors import MessageError
from email.header import Header
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path
from typing import Any, Callable, Iterable

from .atomic import write_bytes
from .mailconfig import SmtpSettings

BATCH_FILE = "perfeval-batch.json"
MAIL_LOG = "perfeval-mail-log.jsonl"
PASSWORD_ENV = "PERFEVAL_SMTP_PASSWORD"
XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
MB = 1024 * 1024
STATUSES = ("ok", "warnings", "errors", "unreadable")
GRADE_ORDER = ("优", "良", "中", "差")
NOT_A_GRADE = "待更正"

#: room kept in every message for its headers and text part when splitting by size
MESSAGE_OVERHEAD = 4096
#: room kept for one attachment's MIME headers and boundary
PART_OVERHEAD = 1024


class MailError(Exception):
    """A problem the user can fix: the message is one Chinese text (where, what, how to fix)."""


# --------------------------------------------------------------------------- the batch


@dataclass(frozen=True)
class Project:
    """One input form of the batch, as `perfeval batch` reported it."""

    file: str
    output: str | None
    status: str
    name: str = ""
    department: str = ""
    unit: str = ""
    year: int | None = None
    findings: tuple[dict[str, Any], ...] = ()
    execution_rate: float | None = None
    execution_score: float | None = None
    total: float | None = None
    grade: str | None = None

    @property
    def label(self) -> str:
        """How the body names the project: 单位《项目》, or the file name when unread."""
        if self.name:
            return f"{self.unit}《{self.name}》" if self.unit else f"《{self.name}》"
        return self.file

    @property
    def errors(self) -> list[str]:
        return [f.get("message", "") for f in self.findings if f.get("severity") == "error"]


@dataclass(frozen=True)
class Batch:
    outbox: Path
    projects: tuple[Project, ...]
    rollup: str | None
    generated_at: str = ""
    profile: str = ""
    summary: dict[str, Any] = field(default_factory=dict)


def load_batch(outbox: str | Path) -> Batch:
    """Read and check ``OUTBOX/perfeval-batch.json``; every named file must be in OUTBOX."""
    outbox = Path(outbox)
    if not outbox.is_dir():
        raise MailError(f"找不到文件夹“{outbox}”。请给出 perfeval batch 的输出文件夹。")
    path = outbox / BATCH_FILE
    if not path.is_file():
        raise MailError(
            f"文件夹“{outbox}”中没有 {BATCH_FILE}（批量评分结果）。请先运行 perfeval batch 生成评分结果，再运行 perfeval mail。"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise MailError(f"“{path}”第 {exc.lineno} 行不是有效的 JSON（{exc.msg}）。请重新运行 perfeval batch 生成它。") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise MailError(f"无法读取“{path}”：{getattr(exc, 'strerror', None) or exc}。") from None

    def missing(what: str) -> MailError:
        return MailError(f"“{path}”缺少或写错了 {what}。请重新运行 perfeval batch 生成它（不要手工修改）。")

    if not isinstance(data, dict) or not isinstance(data.get("files"), list):
        raise missing("“files”（文件列表）")
    if "rollup" not in data:
        raise missing("“rollup”（汇总表文件名）")
    rollup = data["rollup"]
    if rollup is not None:
        if not isinstance(rollup, str) or not rollup:
            raise missing("“rollup”（汇总表文件名）")
        _inside(outbox, rollup, path, "rollup（汇总表）")
    projects = []
    for i, entry in enumerate(data["files"]):
        where = f"files[{i}]"
        if not isinstance(entry, dict):
            raise missing(f"“{where}”")
        if not isinstance(entry.get("file"), str) or not entry["file"]:
            raise missing(f"“{where}.file”（原文件名）")
        status = entry.get("status")
        if status not in STATUSES:
            raise missing(f"“{where}.status”（应为 {'、'.join(STATUSES)} 之一，现为 {status!r}）")
        if "output" not in entry:
            raise missing(f"“{where}.output”（评分副本文件名）")
        output = entry["output"]
        if output is None:
            if status != "unreadable":
                raise missing(f"“{where}.output”（{entry['file']} 的评分副本文件名）")
        elif not isinstance(output, str) or not output:
            raise missing(f"“{where}.output”（评分副本文件名）")
        else:
            _inside(outbox, output, path, f"{where}.output（{entry['file']} 的评分副本）")
        project = entry.get("project") or {}
        if not isinstance(project, dict):
            raise missing(f"“{where}.project”")
        findings = entry.get("findings") or []
        if not isinstance(findings, list) or not all(isinstance(f, dict) for f in findings):
            raise missing(f"“{where}.findings”（问题列表）")
        year = project.get("year")
        try:
            year = int(year) if year not in (None, "") else None
        except (TypeError, ValueError):
            year = None
        projects.append(Project(
            file=entry["file"], output=output, status=status,
            name=_text(project.get("name")), department=_text(project.get("department")),
            unit=_text(project.get("unit")), year=year, findings=tuple(findings),
            execution_rate=_number(entry.get("execution_rate")), execution_score=_number(entry.get("execution_score")),
            total=_number(entry.get("total")), grade=_text(entry.get("grade")) or None,
        ))
    summary = data.get("summary") if isinstance(data.get("summary"), dict) else {}
    return Batch(
        outbox=outbox, projects=tuple(projects), rollup=rollup,
        generated_at=_text(data.get("generated_at")), profile=_text(data.get("profile")), summary=summary,
    )


def _inside(outbox: Path, name: str, json_path: Path, what: str) -> Path:
    """The file `name` (relative to OUTBOX) must exist and stay inside OUTBOX."""
    target = outbox / name
    try:
        inside = not Path(name).is_absolute() and target.resolve().is_relative_to(outbox.resolve())
    except (OSError, ValueError):
        inside = False
    if not inside:
        raise MailError(f"“{json_path}”中的 {what}“{name}”不在文件夹“{outbox}”内，出于安全不会发送。请重新运行 perfeval batch。")
    if not target.is_file():
        raise MailError(f"找不到 {what}“{target}”。文件可能被移动或删除，请重新运行 perfeval batch。")
    return target


def _text(value: Any) -> str:
    return str(value).strip() if value is not None else ""


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


# --------------------------------------------------------------------------- the record


def read_mail_log(outbox: str | Path) -> list[dict[str, Any]]:
    """The records of earlier runs (``OUTBOX/perfeval-mail-log.jsonl``), oldest first."""
    path = Path(outbox) / MAIL_LOG
    if not path.exists():
        return []
    records = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise MailError(f"无法读取发送记录“{path}”：{getattr(exc, 'strerror', None) or exc}。") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if not isinstance(record, dict):
                raise ValueError
        except ValueError:
            raise MailError(
                f"发送记录“{path}”第 {number} 行无法读取。请检查该行（或删除它，但这样该行记录的文件会被当作未发送）。"
            ) from None
        records.append(record)
    return records


def sent_index(records: Iterable[dict[str, Any]]) -> dict[tuple[str, str], set[str]]:
    """(attachment name, sha256) -> the addresses (lower case) that accepted it."""
    index: dict[tuple[str, str], set[str]] = {}
    for record in records:
        accepted = {_addr(a) for a in [*record.get("to", []), *record.get("cc", [])] if isinstance(a, str)}
        for att in record.get("attachments", []):
            if isinstance(att, dict) and isinstance(att.get("name"), str) and isinstance(att.get("sha256"), str):
                index.setdefault((att["name"], att["sha256"]), set()).update(accepted)
    return index


def append_mail_log(outbox: str | Path, record: dict[str, Any]) -> Path:
    """Add one line to the record, atomically (the whole file is rewritten and replaced)."""
    path = Path(outbox) / MAIL_LOG
    old = path.read_bytes() if path.exists() else b""
    if old and not old.endswith(b"\n"):
        old += b"\n"
    line = json.dumps(record, ensure_ascii=False, sort_keys=False) + "\n"
    _write_atomic(path, old + line.encode("utf-8"))
    return path


def _write_atomic(path: Path, data: bytes) -> None:
    write_bytes(path, data)


def _addr(address: str) -> str:
    """The bare address, lower case, of "张三 <A@b.cn>" -> "a@b.cn"."""
    return parseaddr(address)[1].lower()


# --------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class Attachment:
    name: str  # the file name the recipient sees
    path: Path
    size: int
    sha256: str
    description: str  # what it is, for the body

    @property
    def encoded_size(self) -> int:
        """Bytes on the wire: base64, 76 characters and CRLF per line."""
        chars = 4 * math.ceil(self.size / 3)
        return chars + 2 * math.ceil(chars / 76)


@dataclass
class PlannedMessage:
    subject: str
    sender: str
    to: list[str]
    cc: list[str]
    body: str
    attachments: list[Attachment]
    projects: list[Project]
    group: str  # "全部" | a unit name | "汇总表"
    part: int = 1
    parts: int = 1

    @property
    def recipients(self) -> list[str]:
        """Envelope addresses (to + cc), bare, without repeats."""
        seen: dict[str, None] = {}
        for a in [*self.to, *self.cc]:
            seen.setdefault(parseaddr(a)[1], None)
        return list(seen)

    @property
    def estimated_size(self) -> int:
        return MESSAGE_OVERHEAD + 2 * len(self.body.encode("utf-8")) + sum(
            a.encoded_size + PART_OVERHEAD for a in self.attachments
        )


@dataclass
class MailPlan:
    batch: Batch
    messages: list[PlannedMessage]
    warnings: list[str] = field(default_factory=list)
    already_sent: list[Attachment] = field(default_factory=list)  # left out: accepted before


def plan_messages(
    batch: Batch,
    *,
    sender: str,
    to: list[str],
    cc: list[str] | None = None,
    subject: str | None = None,
    per_unit: bool = False,
    max_size_mb: float = 20.0,
    sent: dict[tuple[str, str], set[str]] | None = None,
) -> MailPlan:
    """Group the batch's files into messages, split them by size, write subjects and bodies.

    - all files in one message, or with `per_unit` one message per 实施单位 with only its scored
      copies, and the roll-up in a message of its own;
    - a group larger than `max_size_mb` (as sent, base64 included) is split into numbered
      messages （1/3）…; one attachment larger than the limit goes alone, with a warning;
    - `sent` (see `sent_index`): files already accepted by all of these recipients are left out.
    """
    if not batch.projects:
        raise MailError(
            f"“{batch.outbox / BATCH_FILE}”中没有任何项目（0 个文件），没有可报送的内容。"
            "请先对放有自评表的文件夹运行 perfeval batch，再运行 perfeval mail。"
        )
    cc = list(cc or [])
    limit = int(max_size_mb * MB)
    recipients = {_addr(a) for a in [*to, *cc]}
    sent = sent or {}
    plan = MailPlan(batch=batch, messages=[])

    # the files, each once (by its path relative to OUTBOX), the roll-up first
    wanted: dict[str, str] = {}
    if batch.rollup:
        wanted.setdefault(batch.rollup, "汇总表")
    for p in batch.projects:
        if p.output:
            wanted.setdefault(p.output, f"{p.label}的评分副本")
    names = attachment_names(list(wanted))
    attachments: dict[str, Attachment] = {}
    for rel, description in wanted.items():
        path = batch.outbox / rel
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise MailError(f"无法读取附件“{path}”：{exc.strerror or exc}。请检查文件是否存在、是否正在被其他程序使用。") from None
        attachments[rel] = Attachment(names[rel], path, len(data), hashlib.sha256(data).hexdigest(), description)
    rollup = attachments[batch.rollup] if batch.rollup else None
    scored = {p.file: attachments[p.output] for p in batch.projects if p.output}

    groups: list[tuple[str, list[Project], list[Attachment]]] = []
    if per_unit:
        units: dict[str, list[Project]] = {}
        for p in batch.projects:
            if p.output:
                units.setdefault(one_line(p.unit) or "未填写实施单位", []).append(p)
        for unit, projects in units.items():
            groups.append((unit, projects, [scored[p.file] for p in projects]))
        if rollup:
            groups.append(("汇总表", list(batch.projects), [rollup]))
    else:
        groups.append(("全部", list(batch.projects), [*([rollup] if rollup else []), *scored.values()]))
    if not batch.rollup:
        plan.warnings.append(f"“{batch.outbox / BATCH_FILE}”中没有汇总表（rollup），邮件中只附评分副本。")

    for group, projects, files in groups:
        new = [a for a in files if not recipients <= sent.get((a.name, a.sha256), set())]
        plan.already_sent.extend(a for a in files if a not in new)
        if not new:
            continue
        count = sum(1 for p in projects if p.status != "unreadable")
        base_subject = _subject(subject, projects, group, count)
        chunks = _split(new, limit, lambda chunk: PlannedMessage(
            base_subject, sender, list(to), cc, _body(batch, group, projects, chunk, 1, 1, files), chunk, projects, group,
        ).estimated_size, plan.warnings, max_size_mb)
        for part, chunk in enumerate(chunks, 1):
            parts = len(chunks)
            title = base_subject + (f"（{part}/{parts}）" if parts > 1 else "")
            plan.messages.append(PlannedMessage(
                subject=title, sender=sender, to=list(to), cc=cc,
                body=_body(batch, group, projects, chunk, part, parts, files),
                attachments=chunk, projects=projects, group=group, part=part, parts=parts,
            ))
    return plan


def attachment_names(relative: list[str]) -> dict[str, str]:
    """The file name each attachment gets: its own name, or, where two would share one (the same
    name in different sub-folders of a ``--recursive`` batch), its relative path joined with "_"
    (``单位A/自评表_评分.xlsx`` -> ``单位A_自评表_评分.xlsx``). Names stay unique (case ignored,
    as on Windows); the sent log is keyed on them.
    """
    def plain(rel: str) -> str:
        return Path(rel).name

    def joined(rel: str) -> str:
        return "_".join(Path(rel).parts)

    counts = Counter(plain(rel).casefold() for rel in relative)
    result: dict[str, str] = {}
    used: set[str] = set()
    for rel in relative:
        name = plain(rel) if counts[plain(rel).casefold()] == 1 else joined(rel)
        if name.casefold() in used:
            stem, dot, suffix = name.rpartition(".")
            if not dot:
                stem, suffix = name, ""
            n = 2
            while (name := f"{stem}_{n}{dot}{suffix}").casefold() in used:
                n += 1
        used.add(name.casefold())
        result[rel] = name
    return result


def one_line(text: str) -> str:
    """Runs of whitespace and control characters (\\r \\n \\t U+2028 U+2029 …) -> one space."""
    cleaned = "".join(" " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in text)
    return " ".join(cleaned.split())


def _split(files: list[Attachment], limit: int, size_of: Callable[[list[Attachment]], int],
           warnings: list[str], max_size_mb: float) -> list[list[Attachment]]:
    """Greedy, in order: add files to the current message while it stays within the limit."""
    chunks: list[list[Attachment]] = []
    current: list[Attachment] = []
    for att in files:
        if size_of([att]) > limit:
            warnings.append(
                f"附件“{att.name}”较大（发送时约 {format_size(att.encoded_size)}），超过单封上限 {max_size_mb:g} MB，"
                f"已单独放在一封邮件中；如被邮件服务器拒收，请改用其他方式（如单位网盘）报送该文件。"
            )
            if current:
                chunks.append(current)
                current = []
            chunks.append([att])
            continue
        if current and size_of([*current, att]) > limit:
            chunks.append(current)
            current = []
        current.append(att)
    if current:
        chunks.append(current)
    return chunks


def _years(projects: Iterable[Project]) -> str:
    years = sorted({p.year for p in projects if p.year})
    return f"{'、'.join(map(str, years))}年度" if years else ""


def _subject(custom: str | None, projects: list[Project], group: str, count: int) -> str:
    """The subject line: always one line (a header may not contain line breaks)."""
    return one_line(_subject_text(one_line(custom) if custom else None, projects, one_line(group), count))


def _subject_text(custom: str | None, projects: list[Project], group: str, count: int) -> str:
    years = _years(projects)
    if custom:
        text = custom.replace("{year}", years.removesuffix("年度")).replace("{count}", str(count))
        if group == "汇总表":
            text += "（汇总表）"
        elif group != "全部":
            text += f"（{group}）"
        return text
    if group == "汇总表":
        return f"{years}项目支出绩效自评评分汇总表（{count}个项目）"
    if group != "全部":
        return f"{years}项目支出绩效自评评分结果（{group}，{count}个项目）"
    return f"{years}项目支出绩效自评评分结果（{count}个项目）"


def average_score(projects: Iterable[Project]) -> tuple[float | None, int]:
    """Average 总分 of the projects with a real grade (not 待更正, not unreadable); and how many."""
    totals = [p.total for p in projects if p.total is not None and p.status != "errors"
              and p.status != "unreadable" and p.grade != NOT_A_GRADE]
    return (sum(totals) / len(totals) if totals else None), len(totals)


def _body(batch: Batch, group: str, projects: list[Project], chunk: list[Attachment],
          part: int, parts: int, group_files: list[Attachment]) -> str:
    """The plain-text body: what is sent, the figures, what must be corrected."""
    readable = [p for p in projects if p.status != "unreadable"]
    unreadable = [p for p in projects if p.status == "unreadable"]
    with_errors = [p for p in readable if p.status == "errors"]
    units = list(dict.fromkeys(one_line(p.unit) for p in readable if p.unit))
    years = _years(projects)
    lines = ["您好：", ""]
    if group in ("全部", "汇总表"):
        scope = f"共 {len(readable)} 个项目"
        if units:
            scope += f"，涉及 {len(units)} 个实施单位（{'、'.join(units)}）"
        what = "评分汇总表" if group == "汇总表" else "评分结果"
    else:
        scope = f"实施单位：{group}，共 {len(readable)} 个项目"
        what = "评分结果"
    lines.append(f"现报送{years}项目支出绩效自评{what}，{scope}。")
    if parts > 1:
        lines.append(f"因附件较大，分 {parts} 封邮件发送，这是第 {part} 封。")
    lines.append("")

    sections: list[tuple[str, list[str]]] = []
    counts = Counter(p.status for p in readable)
    overview = [
        f"评分项目：{len(readable)} 个（无问题 {counts['ok']} 个，有提醒 {counts['warnings']} 个，"
        f"有错误待更正 {counts['errors']} 个）",
    ]
    grades = Counter(p.grade or "未评定" for p in readable)
    order = [g for g in GRADE_ORDER if grades[g]] + sorted(g for g in grades if g not in GRADE_ORDER and g != NOT_A_GRADE)
    if grades[NOT_A_GRADE]:
        order.append(NOT_A_GRADE)
    if order:
        overview.append("评价等级：" + "，".join(f"{g} {grades[g]} 个" for g in order))
    average, counted = average_score(readable)
    if average is not None:
        note = f"按 {counted} 个已评定等级的项目计算"
        if counted < len(readable):
            note += "；有错误待更正的项目暂不计入"
        overview.append(f"平均分：{average:.2f} 分（{note}）")
    if unreadable:
        overview.append(f"无法读取的文件：{len(unreadable)} 个（见下文）")
    skipped = batch.summary.get("skipped") if group in ("全部", "汇总表") else None
    if isinstance(skipped, int) and skipped > 0:
        overview.append(f"另有 {skipped} 个文件不是自评表，已跳过")
    sections.append(("总体情况", overview))

    if with_errors:
        fix = []
        for n, p in enumerate(with_errors, 1):
            fix.append(f"{n}. {p.label}（原文件：{p.file}）")
            fix.extend(f"   - {message}" for message in p.errors or ["（评分副本的“问题清单”工作表列出了具体问题）"])
        fix.append("以上项目请对照评分副本的“问题清单”工作表改正后重新报送，届时重新评分。")
        sections.append((f"需要更正的项目（{len(with_errors)} 个）", fix))
    if unreadable:
        unread = []
        for n, p in enumerate(unreadable, 1):
            unread.append(f"{n}. {p.file}" + (f"（{p.unit}）" if p.unit else ""))
            unread.extend(f"   - {f.get('message', '')}" for f in p.findings if f.get("message"))
        unread.append("以上文件请重新填报（用 perfeval template 生成的标准模板）后再报送。")
        sections.append((f"无法读取的文件（{len(unreadable)} 个）", unread))

    detail = []
    for n, p in enumerate(readable, 1):
        parts_ = []
        if p.total is not None:
            parts_.append(f"总分 {p.total:.2f}")
        parts_.append(f"等级 {p.grade or '未评定'}")
        if p.execution_rate is not None:
            parts_.append(f"预算执行率 {p.execution_rate:.2f}%")
        detail.append(f"{n}. {p.label}：" + "，".join(parts_))
    if detail:
        sections.append(("项目明细", detail))

    numerals = "一二三四五六七八九十"
    for i, (title, body_lines) in enumerate(sections):
        lines.append(f"{numerals[i]}、{title}")
        lines.extend(f"    {line}" for line in body_lines)
        lines.append("")

    lines.append(f"本封邮件附件（{len(chunk)} 个）：")
    lines.extend(f"    {a.name}（{a.description}，{format_size(a.size)}）" for a in chunk)
    earlier = [a for a in group_files if a not in chunk]
    if parts == 1 and len(earlier) > 0:
        lines.append(f"另有 {len(earlier)} 个文件此前已发送给同样的收件人，本次未重复附上。")
    lines.append("")
    lines.append("说明：评分副本中的“评分汇总”“评分明细”“问题清单”工作表列出了每项得分和每个问题所在的单元格。")
    stamp = batch.generated_at.replace("T", " ")
    if stamp:
        lines.append(f"本邮件由 perfeval-xlsx 根据 {stamp} 的批量评分结果生成。")
    return "\n".join(lines) + "\n"


def format_size(size: int) -> str:
    if size < 1024:
        return f"{size} 字节"
    if size < MB:
        return f"{size / 1024:.1f} KB"
    return f"{size / MB:.1f} MB"


# --------------------------------------------------------------------------- the messages


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
    from . import __version__

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


# --------------------------------------------------------------------------- sending


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
