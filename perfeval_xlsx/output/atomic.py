"""Writing outputs atomically: into a temporary file beside the target, then renamed over it.

A reader never sees a half-written workbook, and a failed write leaves the old file as it was.
Unlike `tempfile.mkstemp` (mode 0600), the temporary file gets the usual permissions (the
umask), so colleagues who share an output folder can read what replaces it.
"""

from __future__ import annotations

import os
import secrets
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


def new_temp_file(folder: Path, prefix: str, suffix: str, mode: str = "wb"):
    """A new file in `folder` for writing (then renamed into place): (open file, path)."""
    for _ in range(100):
        path = Path(folder) / f"{prefix}{secrets.token_hex(6)}{suffix}"
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        except FileExistsError:
            continue
        return (os.fdopen(fd, mode, encoding="utf-8", newline="\n") if "b" not in mode else os.fdopen(fd, mode)), path
    raise FileExistsError(str(folder))


IN_PROGRESS: set[Path] = set()  # temporary files being written now (removed by remove_in_progress)


@contextmanager
def replacing(target: Path) -> Iterator[Path]:
    """A temporary path beside `target` to write to; on success it replaces `target`."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fh, tmp = new_temp_file(target.parent, ".perfeval-", target.suffix + ".tmp")
    fh.close()
    IN_PROGRESS.add(tmp)
    try:
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        IN_PROGRESS.discard(tmp)


def remove_in_progress() -> None:
    """Remove the temporary files being written (a process about to be stopped)."""
    for tmp in list(IN_PROGRESS):
        try:
            tmp.unlink()
        except OSError:
            pass


def write_bytes(target: Path, data: bytes) -> None:
    """Write `data` to `target` atomically (flushed to disk before the rename)."""
    with replacing(target) as tmp, tmp.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


TEMP_PATTERN = ".perfeval-*.tmp"  # every temporary file this module and its callers create


def remove_stale_temp_files(folder: Path) -> int:
    """Remove temporary files of ours that a killed run left in `folder` and its subfolders.
    Call only while holding the folder's batch lock (no other run is writing there)."""
    removed = 0
    for tmp in Path(folder).rglob(TEMP_PATTERN):
        try:
            if tmp.is_file() and not tmp.is_symlink():
                tmp.unlink()
                removed += 1
        except OSError:
            pass
    return removed


def try_lock(fh) -> bool:
    """Take the lock of an open file without waiting; False if another run holds it."""
    try:
        if os.name == "nt":
            import msvcrt

            fh.seek(0)
            msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True
