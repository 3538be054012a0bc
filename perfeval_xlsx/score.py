"""Score one file end to end: check it, then write `<name>_评分.xlsx` beside it or into a folder.

This is what `perfeval score` and each worker of `perfeval batch` call. It never raises for a
bad input file: an unreadable one gives status `unreadable` and no output.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from perfeval_xlsx.check import CheckResult, check_file, score_summary
from perfeval_xlsx.errors import FileProblem
from perfeval_xlsx.result import FileResult
from perfeval_xlsx.rules.findings import finding
from perfeval_xlsx.vocab import INTERNAL_CODE, UNREADABLE
from perfeval_xlsx.rules.profile import Profile


@dataclass
class ScoreOutcome:
    result: CheckResult
    output: Path | None

    def file_result(self) -> FileResult:
        """The one per-file record every later stage reads (batch cache, roll-up, mail, --json)."""
        r = self.result
        scores = score_summary(r)
        ex = r.validated.execution if r.validated is not None else None
        return FileResult(
            file=r.file, status=r.status, project=dict(r.project), findings=tuple(f.to_dict() for f in r.findings),
            execution_rate=scores["execution_rate"], execution_score=scores["execution_score"],
            total=scores["total"], grade=scores["grade"], indicators=tuple(scores["indicators"]),
            budget=ex.budget if ex is not None else None, spent=ex.spent if ex is not None else None,
            profile=r.profile or None, output=str(self.output) if self.output is not None else None,
        )

    def to_dict(self) -> dict[str, Any]:
        """The per-file object of `perfeval score --json` (check's object plus scores)."""
        return self.file_result().to_dict()


def output_path(source: Path, out_dir: Path | None) -> Path:
    from perfeval_xlsx.output.writer import scored_name

    return (out_dir if out_dir is not None else source.parent) / scored_name(source)


def score_file(path: str | Path, out_dir: str | Path | None = None, profile: str | Path | Profile | None = None,
               *, writer: str = "auto") -> ScoreOutcome:
    """Check and score `path`, write its scored copy, and return both. `writer`: see
    output.writer.write_scored_copy ("auto": the patching writer, openpyxl where it declines)."""
    from perfeval_xlsx.output.writer import write_scored_copy

    source = Path(path)
    result = check_file(source, profile, keep_workbook=True)
    if result.status == UNREADABLE:
        return ScoreOutcome(result, None)
    from perfeval_xlsx.reading.mark import original_name

    # a scored copy read back as the unit's form is named after the unit's file
    named = source.with_name(original_name(result.workbook, source.name))
    target = output_path(named, Path(out_dir) if out_dir is not None else None)
    if target.resolve() == source.resolve():
        target = target.with_name(f"{target.stem}_副本{target.suffix}")
    copy_source = None
    try:
        if result.kind != "xlsx":  # an .xls/.et/.ods form: converted, or rebuilt from its grid
            from perfeval_xlsx.output.convert import CopySource

            copy_source = CopySource()
            copy_source.prepare(result, source)
        write_scored_copy(result, source, target, writer)
    except FileProblem as problem:  # the fallback writer could not load what the XML reader read
        result.findings.append(finding(problem.code, "", "", "file", source.name, problem.message))
        result.status = UNREADABLE
        return ScoreOutcome(result, None)
    except OSError as exc:
        result.findings.append(finding("E-FILE-IO", "", "", "file", str(target),
                                       f"评分结果无法写入“{target}”：{exc.strerror or exc}。请检查输出文件夹是否可写、文件是否正在 Excel/WPS 中打开。"))
        result.status = UNREADABLE
        return ScoreOutcome(result, None)
    except Exception as exc:  # noqa: BLE001 - a layout the writer does not handle: said, never a traceback
        from perfeval_xlsx.check import internal_message

        result.findings.append(finding(INTERNAL_CODE, "", "", "file", source.name,
                                       "评分副本未能生成：" + internal_message(exc)))
        result.status = UNREADABLE
        return ScoreOutcome(result, None)
    finally:
        result.workbook = result.grid = None  # free them: a batch must not hold workbooks
        if copy_source is not None:
            copy_source.close()
    return ScoreOutcome(result, target)
