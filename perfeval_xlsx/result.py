"""The result of one file, as every later stage sees it: one typed record, built once.

`score_file` (and a batch worker, for a file that could not be scored at all) produce a
`FileResult`; the batch cache, ``perfeval-batch.json``, the roll-up, ``--json`` and mail read it
back with `FileResult.from_dict`. Its dict form is strict JSON (no NaN, dates as ISO text): the
per-file object of ``perfeval score --json``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from perfeval_xlsx.numbers import as_float
from perfeval_xlsx.rules.findings import plain
from perfeval_xlsx.vocab import STATUSES, UNREADABLE

PROJECT_KEYS = ("name", "department", "unit", "year")


def empty_project() -> dict[str, Any]:
    return dict.fromkeys(PROJECT_KEYS)


def json_safe(value: Any) -> Any:
    """Plain JSON data: NaN and infinities null, dates ISO text, tuples lists (rules.findings.plain)."""
    return plain(value)


@dataclass(frozen=True)
class FileResult:
    file: str
    status: str  # one of vocab.STATUSES
    project: dict[str, Any] = field(default_factory=empty_project)
    findings: tuple[dict[str, Any], ...] = ()  # Finding.to_dict() records
    execution_rate: float | None = None  # percent
    execution_score: float | None = None
    total: float | None = None
    grade: str | None = None
    indicators: tuple[dict[str, Any], ...] = ()
    budget: float | None = None  # 万元
    spent: float | None = None
    profile: str | None = None
    output: str | None = None  # the scored copy
    report: str | None = None  # the drafted 自评报告 (batch --report)

    # ------------------------------------------------------------------ reading it

    @property
    def errors(self) -> list[dict[str, Any]]:
        return [f for f in self.findings if f.get("severity") == "error"]

    @property
    def warnings(self) -> list[dict[str, Any]]:
        return [f for f in self.findings if f.get("severity") == "warning"]

    @property
    def first_error(self) -> str:
        errors = self.errors
        return str(errors[0].get("message", "")) if errors else ""

    @property
    def readable(self) -> bool:
        return self.status != UNREADABLE

    # ------------------------------------------------------------------ as data

    def to_dict(self) -> dict[str, Any]:
        return {f.name: json_safe(getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FileResult:
        """Back from JSON (cache, perfeval-batch.json); unknown keys are ignored, odd values dropped."""
        status = data.get("status")
        project = data.get("project") if isinstance(data.get("project"), dict) else {}
        findings = data.get("findings") if isinstance(data.get("findings"), list) else []
        indicators = data.get("indicators") if isinstance(data.get("indicators"), list) else []
        grade = data.get("grade")
        return cls(
            file=str(data.get("file") or ""),
            status=status if status in STATUSES else UNREADABLE,
            project={k: project.get(k) for k in PROJECT_KEYS},
            findings=tuple(f for f in findings if isinstance(f, dict)),
            execution_rate=as_float(data.get("execution_rate")),
            execution_score=as_float(data.get("execution_score")),
            total=as_float(data.get("total")),
            grade=str(grade) if grade not in (None, "") else None,
            indicators=tuple(i for i in indicators if isinstance(i, dict)),
            budget=as_float(data.get("budget")),
            spent=as_float(data.get("spent")),
            profile=data.get("profile") or None,
            output=data.get("output") or None,
            report=data.get("report") or None,
        )

    @classmethod
    def failed(cls, path: str | Path, code: str, message: str) -> FileResult:
        """A file that could not be scored at all: one finding about the file."""
        from perfeval_xlsx.rules.findings import finding

        f = finding(code, "", "", "file", Path(path).name, message)
        return cls(file=str(path), status=UNREADABLE, findings=(f.to_dict(),))
