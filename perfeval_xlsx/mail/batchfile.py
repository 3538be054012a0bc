"""Read OUTBOX/perfeval-batch.json: the projects and files of a batch to send."""


from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from perfeval_xlsx.errors import MailError
from perfeval_xlsx.result import FileResult
from perfeval_xlsx.vocab import BATCH_FILE, STATUSES


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
        result = FileResult.from_dict(entry)
        year = result.project.get("year")
        try:
            year = int(year) if year not in (None, "") else None
        except (TypeError, ValueError):
            year = None
        projects.append(Project(
            file=result.file, output=result.output, status=result.status,
            name=_text(result.project.get("name")), department=_text(result.project.get("department")),
            unit=_text(result.project.get("unit")), year=year, findings=result.findings,
            execution_rate=result.execution_rate, execution_score=result.execution_score,
            total=result.total, grade=_text(result.grade) or None,
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




