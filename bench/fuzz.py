"""Fuzz campaign: mutate the samples at zip, XML and cell level, run `perfeval check --json` and
`perfeval score --json` on each, and count what must never happen.

    python bench/fuzz.py                      # the full campaign: 1,000 files, 2 workers
    python bench/fuzz.py --files 100 --seed 7 # a slice (CI runs one from tests/test_fuzz.py)

Each file is run in a worker process through the CLI's own entry point (so start-up is paid once
per worker, not per file), with a 10 s alarm per command and the peak resident memory of each
command measured (Linux: /proc/self/clear_refs resets the peak). Counted per command: exit codes,
tracebacks (or any English Python error text) on stdout/stderr — finalisers' included, the
garbage collected after each command — internal errors (exit code 3, E-INTERNAL), timeouts, runs over 600 MB,
`--json` output that strict JSON parsers reject (NaN, Infinity), and inputs whose bytes changed.
A worker that dies (a crash, the memory cap) is counted and replaced.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import random
import re
import shutil
import sys
import tempfile
import time
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
TIME_LIMIT = 10  # seconds per command
MEMORY_LIMIT_MB = 600
ADDRESS_SPACE_CAP = 4 << 30  # a runaway worker is stopped by the kernel, not the machine

# --------------------------------------------------------------------------- mutations


def _members(data: bytes) -> list[tuple[zipfile.ZipInfo, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return [(i, z.read(i.filename)) for i in z.infolist()]


def _rezip(members: list[tuple[zipfile.ZipInfo, bytes]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info, body in members:
            z.writestr(info.filename, body)
    return out.getvalue()


def _form_sheet(members) -> int:
    names = [i.filename for i, _ in members]
    for candidate in ("xl/worksheets/sheet1.xml",):
        if candidate in names:
            return names.index(candidate)
    return next(k for k, n in enumerate(names) if n.startswith("xl/worksheets/"))


def _edit_sheet(data: bytes, edit) -> bytes:
    members = _members(data)
    k = _form_sheet(members)
    info, body = members[k]
    members[k] = (info, edit(body))
    return _rezip(members)


def _add_merge(ref: str):
    def edit(xml: bytes) -> bytes:
        cell = f'<mergeCell ref="{ref}"/>'.encode()
        if b"</mergeCells>" in xml:
            return xml.replace(b"</mergeCells>", cell + b"</mergeCells>", 1)
        return xml.replace(b"</sheetData>", b"</sheetData><mergeCells count=\"1\">" + cell + b"</mergeCells>", 1)
    return edit


def _replace_random(pattern: bytes, make, rng: random.Random):
    def edit(xml: bytes) -> bytes:
        spots = list(re.finditer(pattern, xml))
        if not spots:
            return xml
        m = rng.choice(spots)
        return xml[:m.start()] + make(m) + xml[m.end():]
    return edit


def _doctype_late(xml: bytes) -> bytes:
    decl_end = xml.index(b"?>") + 2 if xml.startswith(b"<?xml") else 0
    pad = b"<!--" + b" " * 5000 + b"-->"
    return xml[:decl_end] + pad + b'<!DOCTYPE x [<!ENTITY e "boom">]>' + xml[decl_end:]


def _utf16_doctype(xml: bytes) -> bytes:
    text = xml.decode("utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"')
    head, _, rest = text.partition("?>")
    return (head + '?><!DOCTYPE x [<!ENTITY e "boom">]>' + rest).encode("utf-16")


def _many_rows(xml: bytes) -> bytes:
    rows = b"".join(b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>x</t></is></c></row>' % (r, r) for r in range(200, 120000))
    return xml.replace(b"</sheetData>", rows + b"</sheetData>", 1)


def _strict_ooxml(xml: bytes) -> bytes:
    return xml.replace(b"http://schemas.openxmlformats.org/spreadsheetml/2006/main",
                       b"http://purl.oclc.org/ooxml/spreadsheetml/main")


def xml_mutations(rng: random.Random):
    return [
        ("merge-to-XFD", _add_merge("K1:XFD1048576")),
        ("merge-column", _add_merge("A1:A1048576")),
        ("merge-total-row", _add_merge(f"A{rng.randint(20, 30)}:J{rng.randint(30, 40)}")),
        ("number-400-digits", _replace_random(rb"<v>-?\d+(\.\d+)?</v>", lambda m: b"<v>" + b"9" * 400 + b"</v>", rng)),
        ("empty-date-cell", _replace_random(rb'<c r="([A-Z]+\d+)"( s="\d+")?( t="\w+")?>', lambda m: b'<c r="' + m.group(1) + b'" t="d">', rng)),
        ("date-garbage", _replace_random(rb'<c r="([A-Z]+\d+)"( s="\d+")?( t="\w+")?><v>[^<]*</v>',
                                         lambda m: b'<c r="' + m.group(1) + b'" t="d"><v>2024-13-45T99</v>', rng)),
        ("bad-shared-index", _replace_random(rb'(<c r="[A-Z]+\d+"( s="\d+")? t="s"><v>)\d+(</v>)', lambda m: m.group(1) + b"999999" + m.group(3), rng)),
        ("doctype-after-4k", _doctype_late),
        ("doctype-utf16", _utf16_doctype),
        ("drop-closing-tag", _replace_random(rb"</row>", lambda m: b"", rng)),
        ("row-1048576", _replace_random(rb'<row r="\d+"', lambda m: b'<row r="1048576"', rng)),
        ("120k-rows", _many_rows),
        ("strict-ooxml", _strict_ooxml),
        ("nan-text", _replace_random(rb"<v>-?\d+(\.\d+)?</v>", lambda m: b"<v>NaN</v>", rng)),
        ("inf-number", _replace_random(rb"<v>-?\d+(\.\d+)?</v>", lambda m: b"<v>1e999</v>", rng)),
    ]


def zip_mutation(data: bytes, rng: random.Random) -> tuple[str, bytes]:
    kind = rng.choice(["truncate", "flip", "drop-member", "empty-member", "stored", "deflate-damage", "garbage-member"])
    if kind == "truncate":
        return kind, data[: rng.randint(10, len(data) - 1)]
    if kind == "flip":
        b = bytearray(data)
        for _ in range(rng.randint(1, 20)):
            b[rng.randrange(30, len(b))] ^= 1 << rng.randrange(8)
        return kind, bytes(b)
    members = _members(data)
    if kind == "drop-member":
        members.pop(rng.randrange(len(members)))
        return kind, _rezip(members)
    if kind == "empty-member":
        k = rng.randrange(len(members))
        members[k] = (members[k][0], b"")
        return kind, _rezip(members)
    if kind == "garbage-member":
        k = rng.randrange(len(members))
        members[k] = (members[k][0], bytes(rng.randrange(256) for _ in range(300)))
        return kind, _rezip(members)
    if kind == "stored":
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
            for info, body in members:
                z.writestr(info.filename, body)
        return kind, out.getvalue()
    # deflate-damage: corrupt bytes inside the compressed sheet data (a damaged deflate stream)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        info = z.getinfo(members[_form_sheet(members)][0].filename)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    b = bytearray(data)
    for _ in range(8):
        b[start + rng.randrange(max(1, info.compress_size))] ^= 0xFF
    return kind, bytes(b)


WORDS = ["≥800本", "=100%", "已完成部分工作", "1-12月", "—", "", " ", "待核", "1e308", "9" * 40, "-5", "0.9",
         "达成", "部分达成", "未达成", "≤2万元", "2024年12月31日前", "不适用", "#DIV/0!", "=1/0", "\x00", "𠀋", "1,015"]


def cell_mutation(data: bytes, rng: random.Random) -> tuple[str, bytes]:
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb.worksheets[0]
    kind = rng.choice(["values", "merge", "delete-rows", "insert-rows"])
    if kind == "values":
        for _ in range(rng.randint(1, 12)):
            cell = ws.cell(rng.randint(1, min(ws.max_row + 3, 60)), rng.randint(1, min(ws.max_column + 2, 14)))
            try:
                cell.value = rng.choice([rng.choice(WORDS), rng.uniform(-1e6, 1e6), rng.randint(-5, 200), None,
                                         float("1e300"), -0.0])
            except (AttributeError, ValueError):
                pass  # a merged follower cell, or a character openpyxl refuses
    elif kind == "merge":
        r = rng.randint(1, ws.max_row)
        try:
            ws.merge_cells(start_row=r, start_column=rng.randint(1, 4), end_row=r + rng.randint(0, 5), end_column=rng.randint(5, 12))
        except ValueError:
            pass
    elif kind == "delete-rows":
        ws.delete_rows(rng.randint(1, ws.max_row), rng.randint(1, 5))
    else:
        ws.insert_rows(rng.randint(1, ws.max_row), rng.randint(1, 3))
    out = io.BytesIO()
    wb.save(out)
    return kind, out.getvalue()


def make_corpus(n: int, seed: int, folder: Path) -> list[tuple[Path, str]]:
    rng = random.Random(seed)
    sources = sorted(SAMPLES.glob("*.xlsx")) + sorted((SAMPLES / "broken").glob("*.xlsx"))
    made = []
    for i in range(n):
        src = rng.choice(sources)
        data = src.read_bytes()
        level = rng.choices(["xml", "zip", "cell"], weights=[5, 3, 2])[0]
        try:
            if level == "xml":
                name, edit = rng.choice(xml_mutations(rng))
                body = _edit_sheet(data, edit)
            elif level == "zip":
                name, body = zip_mutation(data, rng)
            else:
                name, body = cell_mutation(data, rng)
        except Exception as exc:  # noqa: BLE001 - a mutation that does not apply: keep the original
            name, body = f"unchanged({type(exc).__name__})", data
        suffix = ".xlsm" if rng.random() < 0.05 else ".xlsx"
        path = folder / f"{i:04d}_{level}_{name}{suffix}"
        path.write_bytes(body)
        made.append((path, f"{level}:{name}"))
    return made


# --------------------------------------------------------------------------- running


@dataclass
class Run:
    file: str
    mutation: str
    command: str
    exit_code: int | None
    seconds: float
    peak_mb: float
    traceback: bool = False
    timeout: bool = False
    strict_json: bool = True
    input_changed: bool = False
    crashed: bool = False
    note: str = ""
    restart: bool = False  # the worker stops after this run (a timeout, or memory it keeps)


class _PeakRss:
    """The highest resident memory of this process while a command runs, sampled every 10 ms
    (VmHWM cannot be reset everywhere, and ru_maxrss never goes down)."""

    def __init__(self):
        import threading

        self.peak = 0
        self._stop = threading.Event()
        self._page = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _rss(self) -> int:
        try:
            with open("/proc/self/statm") as fh:
                return int(fh.read().split()[1]) * self._page
        except OSError:
            import resource

            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    def _loop(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, self._rss())

    def __enter__(self):
        self.peak = self._rss()
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._rss())

    @property
    def mb(self) -> float:
        return self.peak / (1 << 20)


class _Alarm(BaseException):  # not Exception: no catch-all of the program may swallow it
    pass


def _run_cli(args: list[str]) -> tuple[int, str, str]:
    import contextlib
    import gc
    import traceback

    from perfeval_xlsx import cli

    out, err = io.StringIO(), io.StringIO()
    saved = sys.argv
    code = 0
    try:
        sys.argv = ["perfeval", *args]
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                cli.main()
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            except _Alarm:
                raise
            except BaseException:  # noqa: BLE001
                traceback.print_exc(file=err)
                code = 1
            # what is left unclosed prints its finaliser's traceback when collected, long after
            # the command: collected now, it is printed (to `err`) and counted against the command
            gc.collect()
    finally:
        sys.argv = saved
    return code, out.getvalue(), err.getvalue()


ENGLISH_ERROR = re.compile(r"Traceback \(most recent call last\)|Error: |Exception|Warning: ")


def _strict(text: str) -> bool:
    def refuse(constant):
        raise ValueError(constant)

    try:
        json.loads(text, parse_constant=refuse)
        return True
    except ValueError:
        return False


def _one(path: Path, mutation: str, command: str, scratch: Path, fresh: int = 0) -> Run:
    """One command on one file. Its memory: a fresh worker's resident size plus what the
    command added on top of what the worker held when it began."""
    import signal

    before = hashlib.sha256(path.read_bytes()).hexdigest()
    args = ["check", "--json", str(path)] if command == "check" else ["score", "--json", "-o", str(scratch), str(path)]
    started = time.perf_counter()

    def alarm(signum, frame):
        raise _Alarm()

    signal.signal(signal.SIGALRM, alarm)
    signal.alarm(TIME_LIMIT)
    base = _PeakRss()._rss()
    with _PeakRss() as memory:
        try:
            code, out, err = _run_cli(args)
            timeout = False
        except _Alarm:
            code, out, err, timeout = None, "", "", True
        finally:
            signal.alarm(0)
    seconds = time.perf_counter() - started
    peak = (fresh or base) + max(0, memory.peak - base)
    run = Run(path.name, mutation, command, code, round(seconds, 3), round(peak / (1 << 20), 1), timeout=timeout)
    run.traceback = bool(ENGLISH_ERROR.search(err)) or "Traceback" in out
    run.strict_json = timeout or _strict(out)
    run.input_changed = hashlib.sha256(path.read_bytes()).hexdigest() != before
    if run.traceback:
        run.note = err.strip().splitlines()[-1][:200] if err.strip() else out[:200]
    return run


def _worker(conn) -> None:
    import resource
    import warnings

    warnings.simplefilter("ignore")
    try:
        resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE_CAP, ADDRESS_SPACE_CAP))
    except (ValueError, OSError):
        pass
    import perfeval_xlsx.cli  # noqa: F401 - imported once, before the clock starts
    import perfeval_xlsx.score  # noqa: F401

    scratch = Path(tempfile.mkdtemp(prefix="perfeval-fuzz-"))
    probe = _PeakRss()
    fresh = probe._rss()
    try:
        while True:
            item = conn.recv()
            if item is None:
                break
            run = _one(Path(item[0]), item[1], item[2], scratch, fresh)
            # after an interrupted command the state is not to be trusted, and memory a command
            # took is kept by the allocator (it would hide the next command's peak): start afresh
            run.restart = run.timeout or probe._rss() > fresh + (64 << 20)
            conn.send(run)
            if run.restart:
                break
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def campaign(files: int = 1000, seed: int = 20261202, jobs: int = 2, folder: Path | None = None) -> list[Run]:
    """Make `files` mutated forms and run both commands on each in `jobs` worker processes."""
    import multiprocessing
    from multiprocessing.connection import wait

    own = folder is None
    folder = Path(tempfile.mkdtemp(prefix="perfeval-fuzz-in-")) if own else Path(folder)
    corpus = make_corpus(files, seed, folder)
    ctx = multiprocessing.get_context("spawn")
    tasks = [(str(p), m, c) for p, m in corpus for c in ("check", "score")]
    tasks.reverse()
    runs: list[Run] = []
    busy: dict = {}  # connection -> (process, task)
    retried: set = set()

    def start():
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_worker, args=(child,), daemon=True)
        proc.start()
        child.close()
        return parent, proc

    idle = [start() for _ in range(max(1, jobs))]
    while tasks or busy:
        while tasks and idle:
            conn, proc = idle.pop()
            task = tasks.pop()
            conn.send(task)
            busy[conn] = (proc, task)
        ready = wait(list(busy) + [proc.sentinel for proc, _ in busy.values()], timeout=TIME_LIMIT * 3)
        for conn in list(busy):
            proc, task = busy[conn]
            if conn in ready:
                try:
                    run = conn.recv()
                except (EOFError, OSError):
                    run = None
                if run is not None:
                    runs.append(run)
                    del busy[conn]
                    if run.restart:
                        proc.join(5)
                        idle.append(start())
                    else:
                        idle.append((conn, proc))
                    continue
            if not proc.is_alive() or (not ready and proc.is_alive()):
                if proc.is_alive():  # no answer in three time limits: a hang the alarm did not stop
                    proc.kill()
                proc.join(5)
                if proc.exitcode == 0 and task not in retried:  # it stopped cleanly before it began: again
                    retried.add(task)
                    tasks.append(task)
                    del busy[conn]
                    idle.append(start())
                    continue
                runs.append(Run(Path(task[0]).name, task[1], task[2], None, 0, 0, crashed=not ready, timeout=not ready,
                                note=f"worker exit code {proc.exitcode}"))
                if ready:
                    runs[-1].crashed = True
                del busy[conn]
                idle.append(start())
    for conn, proc in idle:
        try:
            conn.send(None)
        except OSError:
            pass
        proc.join(10)
    if own:
        shutil.rmtree(folder, ignore_errors=True)
    return runs


def report(runs: list[Run]) -> dict:
    files = {r.file for r in runs}
    table = {
        "files": len(files),
        "commands run": len(runs),
        "exit codes": dict(sorted(Counter(str(r.exit_code) for r in runs).items())),
        "tracebacks": sum(r.traceback for r in runs),
        "internal errors (exit 3)": sum(r.exit_code == 3 for r in runs),
        "timeouts (>10 s)": sum(r.timeout or r.seconds > TIME_LIMIT for r in runs),
        "over 600 MB": sum(r.peak_mb > MEMORY_LIMIT_MB for r in runs),
        "worker crashes": sum(r.crashed for r in runs),
        "non-strict JSON": sum(not r.strict_json for r in runs),
        "inputs changed": sum(r.input_changed for r in runs),
        "slowest (s)": max((r.seconds for r in runs), default=0),
        "peak memory (MB)": max((r.peak_mb for r in runs), default=0),
        "mutations": dict(sorted(Counter(r.mutation.split("(")[0] for r in runs if r.command == "check").items())),
    }
    return table


def failures(runs: list[Run]) -> list[Run]:
    return [r for r in runs if r.traceback or r.exit_code == 3 or r.timeout or r.seconds > TIME_LIMIT or r.peak_mb > MEMORY_LIMIT_MB or r.crashed
            or not r.strict_json or r.input_changed]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=20261202)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--keep", type=Path, help="write the mutated files here (kept)")
    args = parser.parse_args(argv)
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    runs = campaign(args.files, args.seed, args.jobs, args.keep)
    table = report(runs)
    table["wall time (s)"] = round(time.perf_counter() - started, 1)
    for key, value in table.items():
        print(f"{key:>18}: {value}")
    bad = failures(runs)
    for r in bad[:40]:
        print(f"FAIL {r.command} {r.file} [{r.mutation}] exit={r.exit_code} {r.seconds}s {r.peak_mb}MB {r.note}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main(sys.argv[1:]))
