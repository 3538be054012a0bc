"""Open only regular files, never blocking: a FIFO, a device or a socket named ``.xlsx`` is
reported, not read (opening a FIFO for reading waits for a writer forever)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from perfeval_xlsx.errors import FileProblem

NOT_REGULAR = "不是普通文件（可能是管道、设备或快捷方式），未读取。请把表格文件本身放入文件夹。"


def open_regular(path: str | Path):
    """A binary file object for `path`, or FileProblem E-FILE-FORMAT when it is not a regular
    file. O_NONBLOCK makes opening a FIFO return at once; it has no effect on regular files."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise FileProblem("E-FILE-FORMAT", NOT_REGULAR)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def is_regular(path: str | Path) -> bool:
    """True for a regular file (a symbolic link is followed); never opens the file."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


def read_regular_file(path: str | Path) -> bytes:
    with open_regular(path) as fh:
        return fh.read()
