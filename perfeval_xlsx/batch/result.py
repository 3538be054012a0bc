"""The per-file summaries a batch keeps in memory and the result of a whole run."""


from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from perfeval_xlsx.batch.cache import _read_entry
from perfeval_xlsx.batch.discover import Skipped
from perfeval_xlsx.result import FileResult
from perfeval_xlsx.vocab import STATUSES
from perfeval_xlsx.vocab import INTERNAL_CODE, exit_code


@dataclass
class FileSummary:
    """What the parent keeps of one file: enough for the console, the summary and the charts."""

    key: str  # the resolved input path: the cache key
    file: str  # relative to INBOX (posix), as shown in the roll-up
    status: str
    project: dict[str, Any]
    total: float | None
    grade: str | None
    execution_rate: float | None
    errors: int
    warnings: int
    output: str | None  # relative to OUTBOX (posix)
    reason: str  # the first error message (why it cannot be read or scored)
    cached: bool  # unchanged since an earlier run: not scored again
    internal: bool = False  # the program failed on it (E-INTERNAL), not the form
    offset: int = 0  # where its per-file dict is in the cache file

    @property
    def label(self) -> str:
        return self.project.get("name") or self.file


@dataclass
class BatchResult:
    inbox: Path
    outbox: Path
    files: list[FileSummary]  # sorted by file
    skipped: list[Skipped]
    rollup: Path | None
    batch_json: Path
    profile: str
    generated_at: str
    cache_path: Path
    summary_report: Path | None = None  # 汇总报告_<date-time>.docx (with a report wording)
    retired: list[tuple[str, str]] = field(default_factory=list)  # stale scored copies moved: (from, to)
    listed: bool = False  # every file was handed to run_batch's `listed` in file order while it ran

    @property
    def summary(self) -> dict[str, int]:
        counts = {s: sum(1 for f in self.files if f.status == s) for s in STATUSES}
        return {"total": len(self.files), **counts, "skipped": len(self.skipped),
                "scored": sum(1 for f in self.files if not f.cached),
                "unchanged": sum(1 for f in self.files if f.cached)}

    @property
    def exit_code(self) -> int:
        """0 all clean (warnings allowed), 1 some files have errors, 2 some could not be read."""
        return exit_code((f.status for f in self.files), any(f.internal for f in self.files))

    def iter_files(self, relative_output: bool = False) -> Iterator[dict[str, Any]]:
        """The per-file dicts, in file order, read back one at a time from the cache file."""
        with open(self.cache_path, "rb") as fh:
            for summary in self.files:
                yield _display_dict(_read_entry(fh, summary.offset, summary.key)["result"], summary,
                                    self.inbox, self.outbox, relative_output)


def _display_dict(result: dict[str, Any], summary: FileSummary, inbox: Path, outbox: Path,
                  relative_output: bool) -> dict[str, Any]:
    d = dict(result)
    d["file"] = str(inbox / summary.file)
    if summary.output is None:
        d["output"] = None
    else:
        d["output"] = summary.output if relative_output else str(outbox / summary.output)
    return d


def failed_result(path: Path, message: str, code: str = "E-FILE-CORRUPT") -> dict[str, Any]:
    """The per-file dict of a file that could not be scored at all."""
    return FileResult.failed(path, code, message).to_dict()


def _summarize(key: str, rel: str, data: dict[str, Any], outbox: Path, cached: bool) -> FileSummary:
    result = FileResult.from_dict(data)
    output = result.output
    if output is not None:
        out = Path(output)
        try:
            output = out.resolve().relative_to(outbox.resolve()).as_posix()
        except ValueError:
            output = out.as_posix()
    return FileSummary(
        key=key, file=rel, status=result.status, project=result.project,
        total=result.total, grade=result.grade, execution_rate=result.execution_rate,
        errors=len(result.errors), warnings=len(result.warnings),
        output=output, reason=result.first_error, cached=cached,
        internal=any(f.get("code") == INTERNAL_CODE for f in result.findings),
    )


