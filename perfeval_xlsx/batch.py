"""Score a whole folder: find the forms, score them in parallel processes, skip what is unchanged,
write the roll-up and ``perfeval-batch.json``.

    result = run_batch("收件箱", "输出", jobs=2)
    result.summary          # {"total", "ok", "warnings", "errors", "unreadable", "skipped", ...}
    result.rollup           # 输出/汇总_20261122-080001.xlsx
    for d in result.iter_files(): ...   # the per-file objects of `perfeval score --json`

- Discovery: every ``.xlsx``/``.xlsm`` is scored; every other file is reported as skipped with the
  reason (``.xls`` → save as .xlsx); Excel/WPS/LibreOffice lock and temp files, system files and our
  own outputs (when OUTBOX is inside INBOX) are ignored.
- Workers are started with the *spawn* method, as on Windows; each returns only the small
  per-file dict, so the parent never holds a workbook. A file that fails in any way — even one
  that kills its worker process — becomes an "unreadable" result with a Chinese reason; the batch
  goes on.
- Incremental: ``OUTBOX/.perfeval-cache.json`` maps each input to the SHA-256 of its content, the
  profile, the tool version, its scored copy and its per-file dict. A file whose content and
  profile are unchanged and whose scored copy still exists is not scored again (``force=True``
  redoes it); the roll-up always covers every current file.
- Memory stays bounded whatever the number of files: per-file dicts go to the cache file as they
  arrive (one entry per line) and the roll-up and ``perfeval-batch.json`` are written by reading
  them back one at a time; only a small summary per file stays in memory.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Collection, Iterator

from . import __version__
from .check import EMPTY_PROJECT
from .findings import finding
from .atomic import new_temp_file

SCORED_SUFFIXES = (".xlsx", ".xlsm")
CACHE_FILE = ".perfeval-cache.json"
BATCH_FILE = "perfeval-batch.json"  # the name mail.load_batch reads
CACHE_FORMAT = 1
STATUSES = ("ok", "warnings", "errors", "unreadable")
#: the unreadable codes that depend on the file's content only: such a result may be reused
#: while the content is unchanged (an I/O failure or a crash is tried again on the next run)
CONTENT_CODES = {"E-FILE-FORMAT", "E-FILE-CORRUPT", "E-FILE-ENCRYPTED", "E-FILE-UNSAFE", "E-NO-FORM", "E-MANY-FORMS"}

SAVE_AS_XLSX = "请在 Excel/WPS 中打开，另存为 .xlsx（Excel 工作簿）后放回文件夹。"
SKIP_REASONS = {
    ".xls": "旧版 Excel（.xls）格式，无法评分。" + SAVE_AS_XLSX,
    ".et": "WPS 表格（.et）格式，无法评分。" + SAVE_AS_XLSX,
    ".ett": "WPS 表格模板（.ett），不是填好的表。" + SAVE_AS_XLSX,
    ".xlsb": "Excel 二进制工作簿（.xlsb），无法评分。" + SAVE_AS_XLSX,
    ".xltx": "Excel 模板文件（.xltx），不是填好的表。" + SAVE_AS_XLSX,
    ".xltm": "Excel 模板文件（.xltm），不是填好的表。" + SAVE_AS_XLSX,
    ".ods": "OpenDocument 表格（.ods），无法评分。请在 LibreOffice/WPS 中另存为 .xlsx（Excel 2007-365）后放回文件夹。",
    ".csv": "文本/CSV 文件，不是自评表。请使用自评表模板填写，保存为 .xlsx 后放回文件夹。",
    ".zip": "压缩包，未处理。请解压后把其中的 .xlsx 放入文件夹。",
    ".rar": "压缩包，未处理。请解压后把其中的 .xlsx 放入文件夹。",
    ".7z": "压缩包，未处理。请解压后把其中的 .xlsx 放入文件夹。",
    ".pdf": "PDF 文件，无法评分。请提交 Excel 格式（.xlsx）的自评表。",
    ".doc": "Word 文档，不是自评表。请提交 Excel 格式（.xlsx）的自评表。",
    ".docx": "Word 文档，不是自评表。请提交 Excel 格式（.xlsx）的自评表。",
    ".wps": "WPS 文字文档，不是自评表。请提交 Excel 格式（.xlsx）的自评表。",
}
OTHER_REASON = "不是 Excel 工作簿（.xlsx/.xlsm），未处理。自评表请保存为 .xlsx 后放入文件夹。"
SUBFOLDER_REASON = "这是子文件夹，其中的文件未处理。如需一并处理，请加 --recursive。"
SYSTEM_FILES = {"thumbs.db", "desktop.ini", ".ds_store", "ehthumbs.db"}
ROLLUP_NAME = re.compile(r"^汇总_\d{8}-\d{6}(_\d+)?\.xlsx$")
EXCEL_TEMP = re.compile(r"^[0-9A-F]{8}$")  # Excel saves through an extensionless temp file


# --------------------------------------------------------------------------- discovery


@dataclass(frozen=True)
class Skipped:
    file: str  # relative to INBOX, as shown to the user
    reason: str


@dataclass
class Discovery:
    inbox: Path
    outbox: Path
    files: list[Path]  # to score, sorted by their path relative to INBOX
    skipped: list[Skipped] = field(default_factory=list)


SYMLINK_REASON = "这是快捷方式（符号链接），未处理。请把表格文件本身放入文件夹。"
LOCK_FILE = ".perfeval-batch.lock"


class OutboxBusy(RuntimeError):
    """Another batch or watch is writing the same OUTBOX."""


@contextmanager
def outbox_lock(outbox: Path, wait: float = 30.0):
    """One batch at a time per OUTBOX (the cache, roll-up and perfeval-batch.json are shared).
    A second run waits up to `wait` seconds, then gives up with OutboxBusy. The lock is the
    operating system's, so it goes away with a crashed process."""
    import time

    fh = open(Path(outbox) / LOCK_FILE, "a+b")  # noqa: SIM115 - held for the whole run
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                if os.name == "nt":
                    import msvcrt

                    fh.seek(0)
                    msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
                else:
                    import fcntl

                    fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError:
                if time.monotonic() >= deadline:
                    raise OutboxBusy(str(outbox)) from None
                time.sleep(0.5)
        yield
    finally:
        fh.close()


def is_lock_or_temp(name: str) -> bool:
    """Lock and temp files of Excel (``~$x.xlsx``, ``~x.tmp``, ``A1B2C3D4``), WPS (``~$x``,
    ``.~x``), LibreOffice (``.~lock.x.xlsx#``, ``lu123.tmp``), hidden and system files."""
    lower = name.lower()
    return (
        name.startswith(("~$", ".~", "~"))
        or name.startswith(".")  # hidden files, .~lock.*#, our own .perfeval-* temp files
        or lower.endswith((".tmp", ".temp", "#", ".crdownload", ".part"))
        or lower in SYSTEM_FILES
        or bool(EXCEL_TEMP.match(name))
    )


def _inside(path: Path, folder: Path) -> bool:
    try:
        return path == folder or path.is_relative_to(folder)
    except ValueError:
        return False


def is_own_output(path: Path, outbox: Path) -> bool:
    """A file this tool wrote into OUTBOX (matters when OUTBOX is INBOX or inside it)."""
    if not _inside(path.parent, outbox):
        return False
    name = path.name
    return (bool(ROLLUP_NAME.match(name)) or name.endswith(("_评分.xlsx", "_评分.xlsm"))
            or name in (BATCH_FILE, CACHE_FILE, "perfeval-mail-log.jsonl"))


def classify(path: Path, inbox: Path, outbox: Path) -> str | None:
    """For one file (resolved paths): None to score it, "" to ignore it silently, else the
    reason it is skipped."""
    if is_lock_or_temp(path.name) or is_own_output(path, outbox):
        return ""
    suffix = path.suffix.lower()
    if suffix in SCORED_SUFFIXES:
        return None
    return SKIP_REASONS.get(suffix, OTHER_REASON)


def discover(inbox: str | Path, outbox: str | Path, recursive: bool = False) -> Discovery:
    """The files of INBOX to score and the files skipped (with reasons). Raises
    FileNotFoundError/NotADirectoryError for a missing INBOX."""
    inbox, outbox = Path(inbox), Path(outbox)
    root, out_root = inbox.resolve(), outbox.resolve()
    if not root.exists():
        raise FileNotFoundError(str(inbox))
    if not root.is_dir():
        raise NotADirectoryError(str(inbox))
    files: list[Path] = []
    skipped: list[Skipped] = []
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            rel = folder.relative_to(root).as_posix()
            skipped.append(Skipped(rel + "/", f"无法打开文件夹：{exc.strerror or exc}。请检查访问权限。"))
            continue
        for entry in entries:
            path = Path(entry.path)
            rel = path.relative_to(root).as_posix()
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            if is_dir:
                if entry.name.startswith((".", "~")) or path == out_root or entry.is_symlink():
                    continue  # hidden, our OUTBOX inside INBOX, or a link (loops)
                if recursive:
                    stack.append(path)
                else:
                    skipped.append(Skipped(rel + "/", SUBFOLDER_REASON))
                continue
            if entry.is_symlink():
                if not is_lock_or_temp(entry.name):
                    skipped.append(Skipped(rel, SYMLINK_REASON))
                continue
            reason = classify(path, root, out_root)
            if reason is None:
                files.append(path)
            elif reason:
                skipped.append(Skipped(rel, reason))
    files.sort(key=lambda p: p.relative_to(root).as_posix())
    skipped.sort(key=lambda s: s.file)
    return Discovery(inbox, outbox, files, skipped)


# --------------------------------------------------------------------------- results


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

    @property
    def summary(self) -> dict[str, int]:
        counts = {s: sum(1 for f in self.files if f.status == s) for s in STATUSES}
        return {"total": len(self.files), **counts, "skipped": len(self.skipped),
                "scored": sum(1 for f in self.files if not f.cached),
                "unchanged": sum(1 for f in self.files if f.cached)}

    @property
    def exit_code(self) -> int:
        """0 all clean (warnings allowed), 1 some files have errors, 2 some could not be read."""
        statuses = {f.status for f in self.files}
        return 2 if "unreadable" in statuses else 1 if "errors" in statuses else 0

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
    f = finding(code, "", "", "file", path.name, message)
    return {"file": str(path), "status": "unreadable", "project": dict(EMPTY_PROJECT),
            "findings": [f.to_dict()], "execution_rate": None, "execution_score": None, "total": None,
            "grade": None, "indicators": [], "budget": None, "spent": None, "profile": None, "output": None}


def _summarize(key: str, rel: str, result: dict[str, Any], outbox: Path, cached: bool) -> FileSummary:
    findings = result.get("findings") or []
    errors = [f for f in findings if f.get("severity") == "error"]
    output = result.get("output")
    if output is not None:
        out = Path(output)
        try:
            output = out.resolve().relative_to(outbox.resolve()).as_posix()
        except ValueError:
            output = out.as_posix()
    project = {k: (result.get("project") or {}).get(k) for k in EMPTY_PROJECT}
    return FileSummary(
        key=key, file=rel, status=result.get("status", "unreadable"), project=project,
        total=result.get("total"), grade=result.get("grade"), execution_rate=result.get("execution_rate"),
        errors=len(errors), warnings=sum(1 for f in findings if f.get("severity") == "warning"),
        output=output, reason=errors[0].get("message", "") if errors else "", cached=cached,
    )


# --------------------------------------------------------------------------- workers

_WORKER_PROFILE: Any = None


def _init_worker(profile: Any) -> None:
    """Runs once in each spawned worker: Ctrl-C is the parent's to handle."""
    import signal
    import warnings

    global _WORKER_PROFILE
    _WORKER_PROFILE = profile
    warnings.simplefilter("ignore")
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        # stopped by the parent (Ctrl-C): remove a scored copy's temporary file, then go
        signal.signal(signal.SIGTERM, _exit_on_term)
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not the main thread
        pass


def _exit_on_term(signum, frame) -> None:
    from .atomic import remove_in_progress

    remove_in_progress()
    os._exit(1)  # not SystemExit: the pool's worker loop would catch it and carry on


def _score_job(source: str, out_dir: str) -> dict[str, Any]:
    """Score one file in a worker; anything that goes wrong becomes an unreadable result."""
    path = Path(source)
    try:
        from .score import score_file

        result = score_file(path, Path(out_dir), _WORKER_PROFILE).to_dict()
        json.dumps(result, ensure_ascii=False)  # it must travel and be cached as JSON
        return result
    except MemoryError:
        return failed_result(path, "文件过大或结构异常，评分时内存不足，未能评分。请检查该文件（如有大量空行、图片），"
                                   "在 Excel/WPS 中删除多余内容并重新保存后再放回文件夹。")
    except Exception as exc:  # noqa: BLE001 - one bad file never stops the batch
        return failed_result(path, f"评分时出现意外错误（{type(exc).__name__}），该文件未能评分。请在 Excel/WPS 中打开并"
                                   "重新保存为 .xlsx 后再放回文件夹；如仍出现，请把该文件发给技术支持。")


CRASH_MESSAGE = ("评分进程在处理该文件时意外退出（文件可能过大或结构异常），未能评分。请在 Excel/WPS 中打开并重新保存为 "
                 ".xlsx 后再放回文件夹；如仍出现，请把该文件发给技术支持。")
START_MESSAGE = "评分进程无法启动，该文件未能评分。请关闭其他占用内存的程序后重新运行；如仍出现，请联系技术支持。"


@contextmanager
def _sigint_ignored():
    """Ignore Ctrl-C for a moment (main thread only), so that worker processes started now
    never print a KeyboardInterrupt of their own while importing: Ctrl-C is the parent's."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    try:
        old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except (ValueError, OSError):  # pragma: no cover
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


@dataclass
class _Job:
    key: str
    source: Path
    out_dir: Path


class Scorer:
    """A pool of spawned worker processes, created when first needed and kept until closed
    (watch mode keeps one for its whole session). A pool broken by a crashing worker is
    replaced; the files it was holding are re-run one at a time to find the culprit."""

    def __init__(self, profile: Any = None, jobs: int | None = None, worker: Callable[[str, str], dict] | None = None):
        self.profile = profile
        self.jobs = max(1, jobs or os.cpu_count() or 1)
        self.worker = worker or _score_job  # a module-level function (spawn pickles it by name)
        self._pool = None
        self._size = 0
        self._fresh = False

    def _get_pool(self, size: int):
        if self._pool is None or self._size < size:
            self.close()
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            self._pool = ProcessPoolExecutor(max_workers=size, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=_init_worker, initargs=(self.profile,))
            self._size = size
            self._fresh = True
        return self._pool

    def close(self, cancel: bool = False) -> None:
        if self._pool is not None:
            pool, self._pool, self._size = self._pool, None, 0
            if not cancel:
                pool.shutdown(wait=True)
                return
            # interrupted: files not started are dropped and the ones in hand finish (a second or
            # so); a second Ctrl-C while waiting stops the workers at once instead of hanging
            processes = list((getattr(pool, "_processes", None) or {}).values())
            try:
                pool.shutdown(wait=True, cancel_futures=True)
            except KeyboardInterrupt:
                for process in processes:
                    try:
                        process.terminate()  # the worker removes its temporary file and exits
                    except Exception:  # noqa: BLE001 - already gone
                        pass
                raise

    def run(self, jobs: list[_Job], on_done: Callable[[_Job, dict[str, Any], bool], None]) -> None:
        """Score `jobs`; call on_done(job, result, retry) for each as it completes, in any order.
        `retry` marks a result that must not be reused by a later run (a crash)."""
        pending = deque(jobs)
        try:
            fruitless = 0
            while pending:
                before = len(pending)
                suspects = self._run_pool(pending, min(self.jobs, len(pending)), on_done)
                for job in suspects:  # alone, in a fresh one-worker pool: is the crash this file's own?
                    self.close()
                    if self._run_pool(deque([job]), 1, on_done):
                        on_done(job, failed_result(job.source, CRASH_MESSAGE), True)
                    self.close()
                # a pool that breaks before taking any file, again and again: give up on the rest
                fruitless = fruitless + 1 if len(pending) == before and not suspects else 0
                if fruitless >= 3:
                    while pending:
                        stuck = pending.popleft()
                        on_done(stuck, failed_result(stuck.source, START_MESSAGE), True)
        except BaseException:
            self.close(cancel=True)
            raise

    def _run_pool(self, pending: deque, size: int, on_done) -> list[_Job]:
        """Run files from `pending` until it is empty or the pool breaks. Returns the files the
        pool held when it broke (one of them killed it); files never sent stay in `pending`."""
        from concurrent.futures import FIRST_COMPLETED, wait
        from concurrent.futures.process import BrokenProcessPool

        suspects: list[_Job] = []
        inflight: dict[Any, _Job] = {}
        broken = False
        pool = self._get_pool(size)
        while (pending and not broken) or inflight:
            while pending and not broken and len(inflight) < 2 * size:  # bounded: results stream
                job = pending.popleft()
                try:
                    if self._fresh:  # the workers start inside the first submit: they inherit "ignore Ctrl-C"
                        with _sigint_ignored():
                            future = pool.submit(self.worker, str(job.source), str(job.out_dir))
                        self._fresh = False
                    else:
                        future = pool.submit(self.worker, str(job.source), str(job.out_dir))
                    inflight[future] = job
                except BrokenProcessPool:
                    pending.appendleft(job)
                    broken = True
            if not inflight:
                break
            done, _ = wait(inflight, return_when=FIRST_COMPLETED)
            for fut in done:
                job = inflight.pop(fut)
                try:
                    result = fut.result()
                except BrokenProcessPool:
                    suspects.append(job)
                    broken = True
                    continue
                except Exception as exc:  # noqa: BLE001 - e.g. a result that cannot be sent back
                    on_done(job, failed_result(job.source, f"评分结果无法传回（{type(exc).__name__}），该文件未能评分。"
                                                          "请把该文件发给技术支持。"), True)
                    continue
                on_done(job, result, False)
        if broken:
            self.close()
        return suspects


# --------------------------------------------------------------------------- the cache


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def profile_key(profile: Any) -> str:
    """Names the rules a result was scored with; a changed profile file gives a new key."""
    if profile is None:
        return "auto"
    return f"{profile.name}:{hashlib.sha256(repr(profile).encode('utf-8')).hexdigest()[:16]}"


def _iter_cache(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """The entries of a cache file, read one line at a time (as _CacheWriter writes them). A
    damaged, reformatted or foreign cache yields what it can: the rest is simply scored again."""
    try:
        fh = open(path, "rb")
    except OSError:
        return
    with fh:
        first = fh.readline()
        try:
            header = json.loads(first.decode("utf-8").rstrip().removesuffix(', "entries": {') + "}") if first else {}
        except (ValueError, UnicodeDecodeError):
            header = {}
        if header.get("format") != CACHE_FORMAT:
            return
        for line in fh:
            text = line.decode("utf-8", "replace").strip().lstrip(",")
            if not text or text == "}}":
                continue
            try:
                item = json.loads("{" + text + "}")
            except ValueError:
                continue
            for key, entry in item.items():
                if isinstance(entry, dict) and isinstance(entry.get("result"), dict):
                    yield key, entry


def _read_entry(fh, offset: int, key: str) -> dict[str, Any]:
    fh.seek(offset)
    text = fh.readline().decode("utf-8").strip().lstrip(",")
    item = json.loads("{" + text + "}")
    if key not in item:  # pragma: no cover - the cache was replaced under us
        raise RuntimeError("cache file changed during the run")
    return item[key]


class _CacheWriter:
    """Writes the new cache as entries arrive: a JSON object, one entry per line, so that it is
    valid JSON for any reader and can also be read back one entry at a time."""

    def __init__(self, outbox: Path):
        self.fh, self.tmp = new_temp_file(outbox, ".perfeval-cache-", ".tmp")
        self.fh.write(json.dumps({"format": CACHE_FORMAT, "tool": __version__}, ensure_ascii=False)
                      .removesuffix("}").encode("utf-8") + b', "entries": {')
        self.first = True

    def add(self, key: str, entry: dict[str, Any]) -> int:
        line = ("\n" if self.first else "\n,") + json.dumps(key, ensure_ascii=False) + ": " + \
            json.dumps(entry, ensure_ascii=False, default=str)
        self.first = False
        self.fh.write(line[0].encode("utf-8"))
        offset = self.fh.tell()
        self.fh.write(line[1:].encode("utf-8"))
        return offset

    def finish(self, target: Path) -> None:
        self.fh.write(b"\n}}\n")
        self.fh.flush()
        os.fsync(self.fh.fileno())
        self.fh.close()
        os.replace(self.tmp, target)

    def abandon(self) -> None:
        try:
            if not self.fh.closed:
                self.fh.close()
        except OSError:
            pass  # a full disk: closing flushes and fails; the file goes all the same
        finally:
            self.tmp.unlink(missing_ok=True)


# --------------------------------------------------------------------------- the run


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
) -> BatchResult:
    """Score every form of INBOX into OUTBOX and write the roll-up and perfeval-batch.json.

    `profile`: a Profile (load it once with profile.load_profile) or None for auto. `only`:
    score only these files (watch mode: the ones completely written); every other file keeps its
    earlier result, if any, whatever its content now. `progress(summary, done, total)` and `on_result(summary)` are called in the parent as
    each file completes. OSError from OUTBOX (cannot create, cannot write) is raised, and
    OutboxBusy when another run holds OUTBOX for longer than half a minute.
    """
    outbox = Path(outbox)
    outbox.mkdir(parents=True, exist_ok=True)
    with outbox_lock(outbox):
        return _run_batch(inbox, outbox, profile=profile, jobs=jobs, recursive=recursive, force=force,
                          discovery=discovery, only=only, scorer=scorer, progress=progress,
                          on_result=on_result, now=now)


def _run_batch(inbox, outbox, *, profile, jobs, recursive, force, discovery, only, scorer, progress,
               on_result, now) -> BatchResult:
    from .rollup import write_rollup
    from .score import output_path

    inbox, outbox = Path(inbox), Path(outbox)
    disc = discovery or discover(inbox, outbox, recursive)
    root = inbox.resolve()
    pkey = profile_key(profile)

    # what each current file is, and where its scored copy goes
    current: dict[str, tuple[Path, str, Path]] = {}  # key -> (source as given, rel, out_dir)
    outputs_seen: dict[str, str] = {}
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
        except OSError:
            hashes[key] = ""  # unreadable now: score it (and say why)

    cache_path = outbox / CACHE_FILE
    writer = _CacheWriter(outbox)
    summaries: dict[str, FileSummary] = {}
    total = sum(1 for key in current if key not in held)

    def done(summary: FileSummary) -> None:
        summaries[summary.key] = summary
        if progress is not None and summary.key not in held:
            progress(summary, len(summaries), total)
        if on_result is not None:
            on_result(summary)

    try:
        # 1. unchanged files: their entries move to the new cache as they are
        for key, entry in _iter_cache(cache_path):
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
            if not usable:
                continue
            summary = _summarize(key, rel, result, outbox, cached=True)
            summary.offset = writer.add(key, entry)
            done(summary)

        # 2. new and changed files: scored in parallel, each recorded as it completes
        todo = [_Job(key, source, out_dir) for key, (source, _, out_dir) in current.items()
                if key not in summaries and key not in held]

        def scored(job: _Job, result: dict[str, Any], retry: bool) -> None:
            rel = current[job.key][1]
            if result.get("status") == "unreadable" and not Path(job.key).exists():
                skipped.append(Skipped(rel, "评分过程中文件被移走或删除，未处理。"))
                return
            if result.get("status") == "unreadable" and any(
                    f.get("code") == "E-FILE-IO" for f in result.get("findings", [])):
                retry = True  # a locked file or an unwritable OUTBOX: try again next time
            summary = _summarize(job.key, rel, result, outbox, cached=False)
            entry = {"sha256": hashes.get(job.key, ""), "profile": pkey, "tool": __version__,
                     "output": summary.output, "retry": retry, "result": result}
            summary.offset = writer.add(job.key, entry)
            done(summary)

        if todo:
            own = scorer is None
            active = scorer or Scorer(profile, jobs)
            try:
                active.run(todo, scored)
            finally:
                if own:
                    active.close()
    except BaseException:
        try:  # keep what was scored before the interruption
            writer.finish(cache_path)
        except Exception:  # noqa: BLE001
            writer.abandon()
        raise
    writer.finish(cache_path)

    files = sorted(summaries.values(), key=lambda s: s.file)
    moment = now or datetime.now()
    result = BatchResult(inbox, outbox, files, skipped, None, outbox / BATCH_FILE,
                         "auto" if profile is None else profile.name, moment.isoformat(timespec="seconds"), cache_path)
    result.rollup = write_rollup(outbox, result.iter_files(relative_output=True), skipped=skipped,
                                 generated_at=moment, profile=result.profile, relative_to=inbox)
    write_batch_json(result)
    return result


def write_batch_json(result: BatchResult) -> Path:
    """``OUTBOX/perfeval-batch.json`` as mail.load_batch reads it, streamed one file per line."""
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
            fh.write(json.dumps(head, ensure_ascii=False)[:-1] + ', "files": [')
            for i, d in enumerate(result.iter_files(relative_output=True)):
                fh.write(("\n" if i == 0 else ",\n") + json.dumps(d, ensure_ascii=False, default=str))
            fh.write("\n]}\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


# --------------------------------------------------------------------------- output


def stream_json(result: BatchResult, out) -> None:
    """``{"files": [...], "summary": {...}, "rollup": path, "skipped": [...]}`` written to `out`
    one file at a time (the per-file objects of `perfeval score --json`)."""
    out.write('{\n  "files": [')
    for i, d in enumerate(result.iter_files()):
        text = json.dumps(d, ensure_ascii=False, indent=2, default=str).replace("\n", "\n    ")
        out.write(("\n    " if i == 0 else ",\n    ") + text)
    out.write("\n  ],\n")
    tail = {"summary": result.summary, "rollup": str(result.rollup) if result.rollup else None,
            "skipped": [{"file": s.file, "reason": s.reason} for s in result.skipped]}
    out.write(json.dumps(tail, ensure_ascii=False, indent=2)[2:] + "\n")
    out.flush()


def print_batch_report(result: BatchResult, console=None) -> None:
    """The short Chinese report: one line per file, the skipped files, the roll-up, the counts."""
    from rich.markup import escape

    from .report import STATUS_TEXT, make_console
    from .values import format_number

    console = console or make_console()
    for f in result.files:
        line = f"{STATUS_TEXT[f.status]}  {escape(f.file)}"
        if f.status == "unreadable":
            line += f"  {escape(f.reason)}"
        else:
            line += f"  项目：{escape(f.project.get('name') or '（未填）')}  总分 [bold]{format_number(f.total)}[/]  等级 [bold]{f.grade}[/]"
            if f.errors:
                line += f"  错误 {f.errors}（{escape(f.reason)}{'等' if f.errors > 1 else ''}）"
            if f.warnings:
                line += f"  预警 {f.warnings}"
        if f.cached:
            line += "  [dim]（未改动，沿用上次结果）[/]"
        console.print(line)
    for s in result.skipped:
        console.print(f"[yellow]已跳过[/]  {escape(s.file)}  {escape(s.reason)}")
    s = result.summary
    if result.rollup is not None:
        console.print(f"\n汇总表：{escape(str(result.rollup))}")
    unchanged = f"；其中 {s['unchanged']} 个未改动，沿用上次结果（加 --force 可全部重新评分）" if s["unchanged"] else ""
    skipped = f"；跳过 {s['skipped']} 个" if s["skipped"] else ""
    console.print(f"共 {s['total']} 个文件：通过 {s['ok']}，有预警 {s['warnings']}，有错误 {s['errors']}，"
                  f"无法读取 {s['unreadable']}{skipped}{unchanged}。")
    if s["errors"] or s["unreadable"]:
        console.print("有错误或无法读取的文件：原因见上，各单元格的问题见评分副本和汇总表的“问题清单”。请退回相关单位更正后重新提交。")
