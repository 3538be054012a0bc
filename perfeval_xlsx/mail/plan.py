"""Plan the messages of a batch: who gets which files, split by size; subjects and Chinese bodies."""


from __future__ import annotations

import hashlib
import math
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path
from typing import Callable, Iterable

from perfeval_xlsx.errors import MailError
from perfeval_xlsx.mail.batchfile import Batch, Project
from perfeval_xlsx.mail.log import _addr
from perfeval_xlsx.vocab import BATCH_FILE, GRADES, MB, PROVISIONAL

#: room kept in every message for its headers and text part when splitting by size
MESSAGE_OVERHEAD = 4096

#: room kept for one attachment's MIME headers and boundary
PART_OVERHEAD = 1024


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
                f"附件“{att.name}”较大（{format_size(att.size)}，发送时编码后约大三分之一），超过单封上限 {max_size_mb:g} MB，"
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
              and p.status != "unreadable" and p.grade != PROVISIONAL]
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
        f"评分项目：{len(readable)} 个（通过 {counts['ok']} 个，有预警 {counts['warnings']} 个，"
        f"有错误待更正 {counts['errors']} 个）",
    ]
    grades = Counter(p.grade or "未评定" for p in readable)
    order = [g for g in GRADES if grades[g]] + sorted(g for g in grades if g not in GRADES and g != PROVISIONAL)
    if grades[PROVISIONAL]:
        order.append(PROVISIONAL)
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
        overview.append(f"另有 {skipped} 个文件未评分（如旧版 .xls、已有的评分副本），原因见汇总表的“未处理文件”工作表")
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


