"""LibreOffice headless conversion: one private profile per call, a timeout, never the user's files.

Each call copies the input into a new temporary folder under an ASCII name (LibreOffice leaves
lock files beside the document it opens, and the file name's encoding must not matter), starts
``soffice --headless --convert-to`` with its own ``-env:UserInstallation`` profile folder (so that
conversions running at the same time never share a profile, and the user's LibreOffice settings
are never read or changed), and kills the whole process group when it runs past the timeout.
The profile asks LibreOffice to recalculate every formula on load, so the converted file holds
the results a spreadsheet shows.

`PERFEVAL_SOFFICE` names the program to use; set to an empty value it means "LibreOffice is not
installed" (the scored copy is then rebuilt from the grid).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from perfeval_xlsx.errors import PerfevalError

TIMEOUT = 120.0  # seconds for one conversion (a small form takes 1-3 s)
ENV = "PERFEVAL_SOFFICE"

# recalculate on load: formulas of .xlsx (OOXML) and .ods (ODF) files; .xls files always are
RECALC_PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""

FILTERS = {"xlsx": "xlsx:Calc MS Excel 2007 XML", "pdf": "pdf", "xls": "xls:MS Excel 97", "ods": "ods"}


class ConversionFailed(PerfevalError):
    """LibreOffice is missing, timed out or wrote nothing."""


def soffice_binary() -> str | None:
    """The LibreOffice program, or None when it is not installed (or `PERFEVAL_SOFFICE` is empty)."""
    if ENV in os.environ:
        value = os.environ[ENV].strip()
        return value or None
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert(source: Path, fmt: str, outdir: Path, *, timeout: float = TIMEOUT, binary: str | None = None) -> Path:
    """Convert `source` to `fmt` (xlsx, xls, ods, pdf) into `outdir`; the path written. The
    source is read only. Raises ConversionFailed."""
    binary = binary or soffice_binary()
    if binary is None:
        raise ConversionFailed("LibreOffice is not installed")
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="perfeval-lo-"))
    try:
        profile = work / "profile"
        (profile / "user").mkdir(parents=True)
        (profile / "user" / "registrymodifications.xcu").write_text(RECALC_PROFILE, encoding="utf-8")
        inbox = work / "in"
        inbox.mkdir()
        suffix = Path(source).suffix.lower() or ".bin"
        copy = inbox / f"form{suffix}"
        shutil.copyfile(source, copy)
        result_dir = work / "out"
        command = [binary, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore", "--nologo",
                   "--nodefault", "--nolockcheck", "--convert-to", FILTERS.get(fmt, fmt), "--outdir", str(result_dir), str(copy)]
        env = {**os.environ, "HOME": str(work)}  # nothing of the user's (~/.config) is read
        try:
            proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                    env=env, start_new_session=(os.name != "nt"))
        except OSError as exc:
            raise ConversionFailed(f"cannot start {binary}: {exc}") from None
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill(proc)
            raise ConversionFailed(f"LibreOffice took longer than {timeout:.0f} s") from None
        except BaseException:
            _kill(proc)
            raise
        written = result_dir / f"form.{fmt}"
        if not written.is_file() or written.stat().st_size == 0:
            raise ConversionFailed(f"LibreOffice wrote no .{fmt} (exit code {proc.returncode})")
        target = outdir / f"{Path(source).stem}.{fmt}"
        shutil.move(str(written), target)
        return target
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _kill(proc: subprocess.Popen) -> None:
    try:
        if os.name != "nt":
            os.killpg(proc.pid, signal.SIGKILL)  # soffice.bin and any helper it started
        else:  # pragma: no cover
            proc.kill()
    except (ProcessLookupError, PermissionError, OSError):
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:  # pragma: no cover
        pass
