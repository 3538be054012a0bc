"""Find the forms of an INBOX: what to score, what to skip and why, what to ignore.

- .xlsx/.xlsm files are forms, unless this tool wrote them: a scored copy or a roll-up (told by
  the mark in the workbook, reading.mark, or by the name and sheets of one written before the
  mark) is left out with one line that says so. A scored copy edited since (a unit corrected the
  copy it got back) is a form again.
- Other spreadsheet files (.xls, .et, .ods, .csv, ...) are listed as skipped with what to do.
- Everything else (README.md, .py, .toml, pictures, documents) is simply not a form: ignored,
  as are lock, temp and system files.
"""

from __future__ import annotations

import os
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from perfeval_xlsx.errors import OutboxBusy
from perfeval_xlsx.output.atomic import try_lock
from perfeval_xlsx.reading.files import NOT_REGULAR
from perfeval_xlsx.reading.safety import FORM_SUFFIXES
from perfeval_xlsx.vocab import (
    BATCH_FILE,
    CACHE_FILE,
    LOCK_FILE,
    MAIL_LOG,
    ROLLUP_NAME,
    is_scored_name,
)

SAVE_AS_XLSX = "请在 Excel/WPS 中打开，另存为 .xlsx（Excel 工作簿）后放回文件夹。"

# .xls, .et and .ods are forms like .xlsx (FORM_SUFFIXES): read, scored, a scored .xlsx copy
SKIP_REASONS = {
    ".ett": "WPS 表格模板（.ett），不是填好的表。" + SAVE_AS_XLSX,
    ".xlsb": "Excel 二进制工作簿（.xlsb），无法评分。" + SAVE_AS_XLSX,
    ".xltx": "Excel 模板文件（.xltx），不是填好的表。" + SAVE_AS_XLSX,
    ".xltm": "Excel 模板文件（.xltm），不是填好的表。" + SAVE_AS_XLSX,
    ".xlt": "Excel 模板文件（.xlt），不是填好的表。" + SAVE_AS_XLSX,
    ".ots": "OpenDocument 表格模板（.ots），不是填好的表。请在 LibreOffice/WPS 中另存为 .xlsx 或 .ods 后放回文件夹。",
    ".fods": "OpenDocument 表格（.fods），无法评分。请在 LibreOffice 中另存为 .xlsx（Excel 2007-365）后放回文件夹。",
    ".numbers": "Numbers 表格（.numbers），无法评分。请在 Numbers 中导出为 Excel（.xlsx）后放回文件夹。",
    ".csv": "文本/CSV 文件，不是自评表。请使用自评表模板填写，保存为 .xlsx 后放回文件夹。",
}

OTHER_REASON = "不是 Excel 工作簿（也不是 WPS、LibreOffice 表格：.xlsx、.xlsm、.xls、.et、.ods），未处理。自评表请保存为 .xlsx 后放入文件夹。"
#: the spreadsheet files that are not read: listed as skipped; any other file is no form at all
SPREADSHEET_SUFFIXES = frozenset(SKIP_REASONS)

SUBFOLDER_REASON = "这是子文件夹，其中的文件未处理（未选择包括子文件夹）。"

SYSTEM_FILES = {"thumbs.db", "desktop.ini", ".ds_store", "ehthumbs.db"}

EXCEL_TEMP = re.compile(r"^[0-9A-F]{8}$")  # Excel saves through an extensionless temp file


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
            if try_lock(fh):
                break
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
    return bool(ROLLUP_NAME.match(name)) or is_scored_name(name) or name in (BATCH_FILE, CACHE_FILE, MAIL_LOG)


def classify(path: Path, inbox: Path, outbox: Path) -> str | None:
    """For one file (resolved paths), by its name: None to score it, "" to ignore it silently
    (not a form, or ours), else the reason a spreadsheet file is skipped."""
    if is_lock_or_temp(path.name) or is_own_output(path, outbox):
        return ""
    suffix = path.suffix.lower()
    if suffix in FORM_SUFFIXES:
        return None
    return SKIP_REASONS.get(suffix, "")


def own_output_reason(path: Path) -> str | None:
    """Why a workbook is left out when this tool wrote it (a scored copy or a roll-up, by its
    mark); None for a form. A scored copy a person has edited since counts as a form."""
    from perfeval_xlsx.reading.mark import SCORED, describe, is_unedited, read_mark

    mark = read_mark(path)
    if mark is None or not mark.is_output:
        return None
    if mark.kind == SCORED and not mark.legacy:
        try:
            import warnings

            import openpyxl

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                wb = openpyxl.load_workbook(path, keep_links=False)
            edited = not is_unedited(wb, mark)
        except Exception:  # noqa: BLE001 - unreadable: the reader will say why
            return None
        if edited:
            return None
    return describe(mark)


def _has_forms(folder: Path) -> bool:
    """A subfolder worth mentioning: it holds spreadsheet files that are not our own outputs."""
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                name = entry.name
                suffix = os.path.splitext(name)[1].lower()
                if is_lock_or_temp(name) or not (suffix in FORM_SUFFIXES or suffix in SPREADSHEET_SUFFIXES):
                    continue
                if ROLLUP_NAME.match(name) or is_scored_name(name):
                    continue
                return True
    except OSError:
        return True  # cannot look inside: say so rather than stay silent
    return False


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
                elif _has_forms(path):
                    skipped.append(Skipped(rel + "/", SUBFOLDER_REASON))
                continue
            if entry.is_symlink():
                if classify(path, root, out_root) != "":
                    skipped.append(Skipped(rel, SYMLINK_REASON))
                continue
            reason = classify(path, root, out_root)
            if reason is None and not entry.is_file(follow_symlinks=False):
                reason = NOT_REGULAR  # a FIFO or device named .xlsx: never opened
            if reason is None:
                reason = own_output_reason(path)
            if reason is None:
                files.append(path)
            elif reason:
                skipped.append(Skipped(rel, reason))
    files.sort(key=lambda p: p.relative_to(root).as_posix())
    skipped.sort(key=lambda s: s.file)
    return Discovery(inbox, outbox, files, skipped)




#: where a batch moves the scored copies of forms no longer in INBOX
RETIRED_FOLDER = "已移出收表文件夹的评分副本"


def stale_scored_copies(outbox: Path, written: list[Path], current: set[Path]) -> list[Path]:
    """Of the scored copies earlier runs wrote into OUTBOX (`written`, from the batch cache), those
    whose forms are no longer in INBOX: still there, still our scored copy (by its mark), and no
    current form's copy. Copies written by `perfeval score` or by hand are never touched."""
    from perfeval_xlsx.reading.mark import SCORED, read_mark

    out_root = Path(outbox).resolve()
    keep = {Path(p).resolve() for p in current}
    stale = []
    for path in written:
        path = Path(path).resolve()
        if path in keep or not path.is_file() or path.is_symlink() or not _inside(path, out_root):
            continue
        if RETIRED_FOLDER in path.relative_to(out_root).parts:
            continue
        mark = read_mark(path)
        if mark is not None and mark.kind == SCORED:
            stale.append(path)
    return sorted(set(stale))


def retire(outbox: Path, stale: list[Path]) -> list[tuple[str, str]]:
    """Move stale scored copies into OUTBOX/已移出收表文件夹的评分副本/ (same subfolders), so that
    none is left looking current. Returns (from, to) relative to OUTBOX; a copy open in Excel
    on Windows cannot be moved and stays."""
    out_root = Path(outbox).resolve()
    moved = []
    for path in stale:
        rel = path.relative_to(out_root)
        target = out_root / RETIRED_FOLDER / rel
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, target)
        except OSError:
            continue
        moved.append((rel.as_posix(), target.relative_to(out_root).as_posix()))
    return moved
