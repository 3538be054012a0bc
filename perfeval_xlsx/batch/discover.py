"""Find the forms of an INBOX: what to score, what to skip and why, what to ignore."""

from __future__ import annotations

import os
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from perfeval_xlsx.errors import OutboxBusy
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
    ".csv": "文本/CSV 文件，不是自评表。请使用自评表模板填写，保存为 .xlsx 后放回文件夹。",
    ".zip": "压缩包，未处理。请解压后把其中的 .xlsx 放入文件夹。",
    ".rar": "压缩包，未处理。请解压后把其中的 .xlsx 放入文件夹。",
    ".7z": "压缩包，未处理。请解压后把其中的 .xlsx 放入文件夹。",
    ".pdf": "PDF 文件，无法评分。请提交 Excel 格式（.xlsx）的自评表。",
    ".doc": "Word 文档，不是自评表。请提交 Excel 格式（.xlsx）的自评表。",
    ".docx": "Word 文档，不是自评表。请提交 Excel 格式（.xlsx）的自评表。",
    ".wps": "WPS 文字文档，不是自评表。请提交 Excel 格式（.xlsx）的自评表。",
}

OTHER_REASON = "不是 Excel 工作簿（也不是 WPS、LibreOffice 表格：.xlsx、.xlsm、.xls、.et、.ods），未处理。自评表请保存为 .xlsx 后放入文件夹。"

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
    return bool(ROLLUP_NAME.match(name)) or is_scored_name(name) or name in (BATCH_FILE, CACHE_FILE, MAIL_LOG)


def classify(path: Path, inbox: Path, outbox: Path) -> str | None:
    """For one file (resolved paths): None to score it, "" to ignore it silently, else the
    reason it is skipped."""
    if is_lock_or_temp(path.name) or is_own_output(path, outbox):
        return ""
    suffix = path.suffix.lower()
    if suffix in FORM_SUFFIXES:
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
            if reason is None and not entry.is_file(follow_symlinks=False):
                reason = NOT_REGULAR  # a FIFO or device named .xlsx: never opened
            if reason is None:
                files.append(path)
            elif reason:
                skipped.append(Skipped(rel, reason))
    files.sort(key=lambda p: p.relative_to(root).as_posix())
    skipped.sort(key=lambda s: s.file)
    return Discovery(inbox, outbox, files, skipped)


