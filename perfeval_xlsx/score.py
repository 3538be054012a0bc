"""Score one file end to end: check it, then write `<name>_评分.xlsx` beside it or into a folder.

This is what `perfeval score` and each worker of `perfeval batch` call. It never raises for a
bad input file: an unreadable one gives status `unreadable` and no output.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from perfeval_xlsx.check import CheckResult, check_file, score_summary
from perfeval_xlsx.rules.findings import finding
from perfeval_xlsx.rules.profile import Profile


@dataclass
class ScoreOutcome:
    result: CheckResult
    output: Path | None

    def to_dict(self) -> dict[str, Any]:
        """The per-file object of `perfeval score --json` (check's object plus scores)."""
        out = self.result.to_dict()
        out.update(score_summary(self.result))
        ex = self.result.validated.execution if self.result.validated is not None else None
        out["budget"] = ex.budget if ex is not None else None
        out["spent"] = ex.spent if ex is not None else None
        out["profile"] = self.result.profile or None
        out["output"] = str(self.output) if self.output is not None else None
        return out


def output_path(source: Path, out_dir: Path | None) -> Path:
    from perfeval_xlsx.output.writer import scored_name

    return (out_dir if out_dir is not None else source.parent) / scored_name(source)


def score_file(path: str | Path, out_dir: str | Path | None = None, profile: str | Path | Profile | None = None) -> ScoreOutcome:
    """Check and score `path`, write its scored copy, and return both."""
    from perfeval_xlsx.output.writer import write_scored_copy

    source = Path(path)
    result = check_file(source, profile, keep_workbook=True)
    if result.status == "unreadable":
        return ScoreOutcome(result, None)
    from perfeval_xlsx.reading.mark import original_name

    # a scored copy read back as the unit's form is named after the unit's file
    named = source.with_name(original_name(result.workbook, source.name))
    target = output_path(named, Path(out_dir) if out_dir is not None else None)
    if target.resolve() == source.resolve():
        target = target.with_name(f"{target.stem}_副本{target.suffix}")
    try:
        write_scored_copy(result, source, target)
    except OSError as exc:
        result.findings.append(finding("E-FILE-IO", "", "", "file", str(target),
                                       f"评分结果无法写入“{target}”：{exc.strerror or exc}。请检查输出文件夹是否可写、文件是否正在 Excel/WPS 中打开。"))
        result.status = "unreadable"
        return ScoreOutcome(result, None)
    finally:
        result.workbook = None  # free it: a batch must not hold workbooks
    return ScoreOutcome(result, target)
