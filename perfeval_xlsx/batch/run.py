"""The batch run: discover, score (cached or in workers), write perfeval-batch.json and the roll-up."""


from __future__ import annotations

import json
import os
import shutil
import tempfile
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, Callable, Collection

from perfeval_xlsx import __version__
from perfeval_xlsx.batch.cache import (
    CONTENT_CODES,
    _CacheWriter,
    _iter_cache,
    _read_entry,
    file_sha256,
    profile_key,
)
from perfeval_xlsx.batch.discover import Discovery, Skipped, discover, outbox_lock, retire, stale_scored_copies
from perfeval_xlsx.batch.pool import SCORED_SHA, Scorer, _Job, _score_job
from perfeval_xlsx.batch.ordered import InOrder
from perfeval_xlsx.batch.result import BatchResult, FileSummary, _display_dict, _summarize
from perfeval_xlsx.errors import FileProblem
from perfeval_xlsx.output.atomic import new_temp_file, remove_stale_temp_files
from perfeval_xlsx.vocab import BATCH_FILE, CACHE_FILE, ROLLUP_PREFIX, summary_report_name
from perfeval_xlsx.rules.findings import plain


def run_batch(
    inbox: str | Path,
    outbox: str | Path,
    *,
    profile: Any = None,
    jobs: int | None = None,
    recursive: bool = False,
    force: bool = False,
    discovery: Discovery | None = None,
    only: Collection[Path] | None = None,
    scorer: Scorer | None = None,
    progress: Callable[[FileSummary, int, int], None] | None = None,
    on_result: Callable[[FileSummary], None] | None = None,
    now: datetime | None = None,
    report: Any = None,
    keep_rollups: bool = False,
    listed: Callable[[dict[str, Any]], None] | None = None,
) -> BatchResult:
    """Score every form of INBOX into OUTBOX and write the roll-up and perfeval-batch.json.

    `profile`: a Profile (load it once with profile.load_profile) or None for auto. `only`:
    score only these files (watch mode: the ones completely written); every other file keeps its
    earlier result, if any, whatever its content now. `progress(summary, done, total)` and `on_result(summary)` are called in the parent as
    each file completes. OSError from OUTBOX (cannot create, cannot write) is raised, and
    OutboxBusy when another run holds OUTBOX for longer than half a minute. `report`: a report
    Wording (report.load_template): each scored form also gets its 自评报告 beside its scored
    copy, and OUTBOX the 汇总报告 beside the roll-up.
    The roll-ups written before are removed (kept with `keep_rollups`); scored copies of forms no
    longer in INBOX are moved into OUTBOX/已移出收表文件夹的评分副本/ and listed in `result.retired`.

    The roll-up, perfeval-batch.json and the 汇总报告's figures are written while the files are
    scored, each file as soon as it and every file listed before it are done; `listed(d)` is
    called then too, with its per-file dict (as `result.iter_files()` gives it). `result.listed`
    says whether every file was handed on that way, in order (see `JsonFiles`).
    """
    outbox = Path(outbox)
    outbox.mkdir(parents=True, exist_ok=True)
    with outbox_lock(outbox):
        return _run_batch(inbox, outbox, profile=profile, jobs=jobs, recursive=recursive, force=force,
                          discovery=discovery, only=only, scorer=scorer, progress=progress,
                          on_result=on_result, now=now, report=report, keep_rollups=keep_rollups, listed=listed)


def _run_batch(inbox, outbox, *, profile, jobs, recursive, force, discovery, only, scorer, progress,
               on_result, now, report=None, keep_rollups=False, listed=None) -> BatchResult:
    from perfeval_xlsx.output.rollup import RollupWriter
    from perfeval_xlsx.score import output_path

    if report is not None:
        from perfeval_xlsx.report import report_path
        from perfeval_xlsx.report.summary import SummaryTally

    inbox, outbox = Path(inbox), Path(outbox)
    remove_stale_temp_files(outbox)  # left by a run that was killed (we hold OUTBOX's lock)
    disc = discovery or discover(inbox, outbox, recursive)
    root = inbox.resolve()
    pkey = profile_key(profile)

    # what each current file is, and where its scored copy goes
    current: dict[str, tuple[Path, str, Path]] = {}  # key -> (source as given, rel, out_dir)
    outputs_seen: dict[str, str] = {}
    targets: set[Path] = set()  # the scored copies of the forms now in INBOX
    skipped = list(disc.skipped)
    for path in disc.files:
        resolved = path.resolve()
        rel = resolved.relative_to(root).as_posix()
        out_dir = outbox / Path(rel).parent
        target = output_path(Path(rel), out_dir)
        clash = outputs_seen.get(str(target.resolve()).lower())
        if clash is not None:
            skipped.append(Skipped(rel, f"与“{clash}”的评分副本同名（{target.name}），未处理。请把其中一个文件改名后再运行。"))
            continue
        outputs_seen[str(target.resolve()).lower()] = rel
        targets.add(target)
        current[str(resolved)] = (inbox / rel, rel, out_dir)
    skipped.sort(key=lambda s: s.file)
    allowed = None if only is None else {str(Path(p).resolve()) for p in only}
    held = set() if allowed is None else {key for key in current if key not in allowed}

    hashes: dict[str, str] = {}
    for key, (source, rel, _) in current.items():
        if key in held:
            continue
        try:
            hashes[key] = file_sha256(Path(key))
        except (OSError, FileProblem):
            hashes[key] = ""  # unreadable now: score it (and say why)

    cache_path = outbox / CACHE_FILE
    profile_name = "auto" if profile is None else profile.name
    writer = _CacheWriter(outbox)
    gone: list[Path] = []
    summaries: dict[str, FileSummary] = {}
    total = sum(1 for key in current if key not in held)
    # what is written in listing order, file by file, while the others are being scored
    rollup: RollupWriter | None = None
    files_json = _Rendered(_batch_json_text, "\n", ",\n")
    tally = SummaryTally() if report is not None else None  # the 汇总报告's figures
    reader: list[Any] = []  # the new cache file, opened for reading back a result that waited

    def emit(key: str, result: dict[str, Any] | None) -> None:
        summary = summaries[key]
        if result is None:
            if not reader:
                reader.append(open(writer.tmp, "rb"))  # noqa: SIM115 - closed before the cache is installed
            result = _read_entry(reader[0], summary.offset, key)["result"]
        d = _display_dict(result, summary, inbox, outbox, True)
        rollup.add(d)
        files_json.add(d)
        if tally is not None or listed is not None:
            full = _display_dict(result, summary, inbox, outbox, False)
            if tally is not None:
                tally.add(full)
            if listed is not None:
                listed(full)

    feed = InOrder(sorted(current, key=lambda k: current[k][1]), emit)

    def done(summary: FileSummary, result: dict[str, Any] | None = None) -> None:
        summaries[summary.key] = summary
        if progress is not None and summary.key not in held:
            progress(summary, len(summaries), total)
        if on_result is not None:
            on_result(summary)
        feed.put(summary.key, result)  # listed now if every file before it is there

    def close_reader() -> None:
        while reader:
            reader.pop().close()

    try:
        rollup = RollupWriter(outbox, profile=profile_name, relative_to=inbox)
        # 1. unchanged files: their entries move to the new cache as they are
        for key, entry in _iter_cache(cache_path):
            if key not in current and entry.get("output"):
                gone.append(outbox / entry["output"])  # written by an earlier run for a form since removed
            if key not in current or key in summaries:
                continue
            source, rel, out_dir = current[key]
            expected = output_path(Path(rel), out_dir)
            result = entry["result"]
            if key in held:
                usable = True
            else:
                usable = (not force and entry.get("sha256") == hashes.get(key) and hashes.get(key)
                          and entry.get("profile") == pkey and entry.get("tool") == __version__
                          and not entry.get("retry"))
                if usable and result.get("status") == "unreadable":
                    codes = {f.get("code") for f in result.get("findings", [])}
                    usable = bool(codes) and codes <= CONTENT_CODES
                elif usable:
                    usable = entry.get("output") == expected.relative_to(outbox).as_posix() and expected.is_file()
                if usable and report is not None and result.get("output"):  # its 自评报告, in this wording
                    usable = entry.get("report") == report.key and report_path(Path(rel), out_dir).is_file()
            if not usable:
                continue
            summary = _summarize(key, rel, result, outbox, cached=True)
            summary.offset = writer.add(key, entry)
            done(summary, result)
        for key in current:
            if key in held and key not in summaries:
                feed.drop(key)  # held back (watch mode) with no earlier result: not listed

        # 2. new and changed files: scored in parallel (sent in listing order), each recorded as it completes
        todo = [_Job(key, source, out_dir) for key, (source, _, out_dir) in sorted(current.items(), key=lambda kv: kv[1][1])
                if key not in summaries and key not in held]

        def scored(job: _Job, result: dict[str, Any], retry: bool) -> None:
            rel = current[job.key][1]
            if result.get("status") == "unreadable" and not Path(job.key).exists():
                skipped.append(Skipped(rel, "评分过程中文件被移走或删除，未处理。"))
                feed.drop(job.key)
                return
            if result.get("status") == "unreadable" and any(
                    f.get("code") == "E-FILE-IO" for f in result.get("findings", [])):
                retry = True  # a locked file or an unwritable OUTBOX: try again next time
            # the hash of the bytes the worker scored, not of what the file held before (it may
            # have been replaced meanwhile); a worker that read nothing leaves it empty: not reused
            scored_sha = result.pop(SCORED_SHA, "")
            summary = _summarize(job.key, rel, result, outbox, cached=False)
            entry = {"sha256": scored_sha, "profile": pkey, "tool": __version__,
                     "output": summary.output, "retry": retry, "result": result,
                     "report": report.key if report is not None and result.get("report") else None}
            summary.offset = writer.add(job.key, entry)
            done(summary, result)

        if todo:
            own = scorer is None
            active = scorer or Scorer(profile, jobs, worker=partial(_score_job, report=report) if report is not None else None)
            try:
                active.run(todo, scored)
            finally:
                if own:
                    active.close()
    except BaseException:
        close_reader()
        if rollup is not None:
            rollup.abandon()
        files_json.close()
        try:  # keep what was scored before the interruption
            writer.finish(cache_path)
        except Exception:  # noqa: BLE001
            writer.abandon()
        raise
    close_reader()
    try:
        writer.finish(cache_path)
    except BaseException:
        rollup.abandon()
        files_json.close()
        raise
    try:
        return _finish(inbox, outbox, summaries, skipped, profile_name, now, cache_path, gone, targets, report,
                       keep_rollups, rollup, files_json, tally, in_order=feed.complete and feed.emitted == len(summaries))
    finally:
        files_json.close()


def _finish(inbox, outbox, summaries, skipped, profile_name, now, cache_path, gone, targets, report, keep_rollups,
            rollup, files_json, tally, in_order) -> BatchResult:
    """The end of a run: what needs the whole batch (the roll-up's totals and charts, the heads of
    perfeval-batch.json and the 汇总报告). The files were listed while they were scored, unless
    `in_order` is false (never expected): then everything is written again from the new cache."""
    from perfeval_xlsx.output.rollup import write_rollup
    from perfeval_xlsx.report.summary import write_summary_report

    # scored copies an earlier run wrote for forms since removed from INBOX: not left looking current
    try:
        retired = retire(outbox, stale_scored_copies(outbox, gone, targets))
    except BaseException:
        rollup.abandon()
        raise
    files = sorted(summaries.values(), key=lambda s: s.file)
    moment = now or datetime.now()
    result = BatchResult(inbox, outbox, files, skipped, None, outbox / BATCH_FILE, profile_name,
                         moment.isoformat(timespec="seconds"), cache_path, retired=retired, listed=in_order)
    if in_order:
        result.rollup = rollup.finish(skipped=skipped, generated_at=moment, keep_older=keep_rollups)
    else:
        rollup.abandon()
        result.rollup = write_rollup(outbox, result.iter_files(relative_output=True), skipped=skipped,
                                     generated_at=moment, profile=profile_name, relative_to=inbox,
                                     keep_older=keep_rollups)
    if report is not None:  # the 汇总报告 for the finance office, named like the roll-up
        result.summary_report = write_summary_report(
            outbox, tally if in_order else result.iter_files(), report,
            name=summary_report_name(result.rollup.stem[len(ROLLUP_PREFIX):]), skipped=len(skipped), generated_at=moment)
    write_batch_json(result, files_json if in_order else None)
    return result


def write_batch_json(result: BatchResult, rendered: _Rendered | None = None) -> Path:
    """``OUTBOX/perfeval-batch.json`` as mail.load_batch reads it, streamed one file per line.
    `rendered`: the files' lines, written while the batch ran (else rendered from the cache now)."""
    path = result.batch_json
    fh, tmp = new_temp_file(result.outbox, ".perfeval-batch-", ".tmp", "w")
    try:
        with fh:
            head = {
                "generated_at": result.generated_at,
                "profile": result.profile,
                "tool": f"perfeval-xlsx {__version__}",
                "summary": result.summary,
                "rollup": result.rollup.relative_to(result.outbox).as_posix() if result.rollup else None,
                "skipped": [{"file": s.file, "reason": s.reason} for s in result.skipped],
            }
            fh.write(json.dumps(plain(head), ensure_ascii=False, allow_nan=False)[:-1] + ', "files": [')
            if rendered is not None and rendered.count == len(result.files):
                rendered.copy_to(fh)
            else:
                for i, d in enumerate(result.iter_files(relative_output=True)):
                    fh.write(("\n" if i == 0 else ",\n") + _batch_json_text(d))
            fh.write("\n]}\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def stream_json(result: BatchResult, out, rendered: JsonFiles | None = None) -> None:
    """``{"files": [...], "summary": {...}, "rollup": path, "skipped": [...]}`` written to `out`
    one file at a time (the per-file objects of `perfeval score --json`). `rendered`: the JsonFiles
    whose `add` was run_batch's `listed`: the files were rendered while the batch ran, and are
    only copied now."""
    out.write('{\n  "files": [')
    if rendered is not None and result.listed and rendered.count == len(result.files):
        rendered.copy_to(out)
    else:
        for i, d in enumerate(result.iter_files()):
            out.write(("\n    " if i == 0 else ",\n    ") + _pretty_json_text(d))
    out.write("\n  ],\n")
    tail = {"summary": result.summary, "rollup": str(result.rollup) if result.rollup else None,
            "skipped": [{"file": s.file, "reason": s.reason} for s in result.skipped]}
    if result.summary_report is not None:
        tail["summary_report"] = str(result.summary_report)
    out.write(json.dumps(plain(tail), ensure_ascii=False, allow_nan=False, indent=2)[2:] + "\n")
    out.flush()


def _batch_json_text(d: dict[str, Any]) -> str:
    return json.dumps(plain(d), ensure_ascii=False, allow_nan=False, default=str)


def _pretty_json_text(d: dict[str, Any]) -> str:
    return json.dumps(plain(d), ensure_ascii=False, allow_nan=False, indent=2, default=str).replace("\n", "\n    ")


class _Rendered:
    """Per-file JSON texts written to a temporary file as they come, copied out at the end."""

    def __init__(self, render: Callable[[dict[str, Any]], str], first: str, sep: str):
        self.render, self.first, self.sep = render, first, sep
        self.count = 0
        self.fh = None

    def add(self, d: dict[str, Any]) -> None:
        if self.fh is None:
            self.fh = tempfile.TemporaryFile("w+", encoding="utf-8")
        self.fh.write((self.first if self.count == 0 else self.sep) + self.render(d))
        self.count += 1

    def copy_to(self, out) -> None:
        if self.fh is not None:
            self.fh.seek(0)
            shutil.copyfileobj(self.fh, out, 1 << 16)  # characters: a few hundred KB at a time

    def close(self) -> None:
        if self.fh is not None:
            self.fh.close()
            self.fh = None


class JsonFiles(_Rendered):
    """The "files" of stream_json, rendered while a batch runs: pass `add` to run_batch as
    `listed`, then the JsonFiles to stream_json, which only copies them.

        with JsonFiles() as rendered:
            result = run_batch(inbox, outbox, listed=rendered.add)
            stream_json(result, sys.stdout, rendered)
    """

    def __init__(self):
        super().__init__(_pretty_json_text, "\n    ", ",\n    ")

    def __enter__(self) -> JsonFiles:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
