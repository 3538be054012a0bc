"""`perfeval watch`: a form written slowly is scored once, when complete; lock files are ignored;
each content version is scored once; Ctrl-C and SIGTERM end the command cleanly.

Every wait is bounded. The watcher runs in a thread (the library function, stopped by an event)
or as the real command in a subprocess (for the signals).
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from perfeval_xlsx.batch.watch import watch_folder
from perfeval_xlsx.vocab import CACHE_FILE

from .conftest import BASE
from .test_batch import generated_form, scored_copy_total

SETTLE = 1.5  # seconds a file must stay unchanged; the polling observer looks every 0.75 s
CHUNK_PAUSE = 1.0  # longer than the poll interval, shorter than SETTLE
TIMEOUT = 90


def wait_for(predicate, timeout: float = TIMEOUT, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or predicate}")
        time.sleep(0.05)


class Watcher:
    """watch_folder in a thread, with its log lines and results collected."""

    def __init__(self, inbox: Path, out: Path, poll: bool):
        self.logs: list[str] = []
        self.results: list[tuple[float, object]] = []  # (when, FileSummary)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=watch_folder, args=(inbox, out), daemon=True, kwargs=dict(
            poll=poll, settle=SETTLE, jobs=1, stop=self.stop, log=self.logs.append,
            on_result=lambda s: self.results.append((time.monotonic(), s))))

    def rounds(self) -> int:
        return sum("汇总已更新" in line for line in self.logs)

    def rounds_after(self, text: str) -> int:
        """Roll-ups written after the first log line containing `text` (-1: no such line yet)."""
        logs = list(self.logs)
        first = next((i for i, line in enumerate(logs) if text in line), None)
        return -1 if first is None else sum("汇总已更新" in line for line in logs[first:])

    def __enter__(self):
        self.thread.start()
        wait_for(lambda: self.rounds() >= 1, what="the first round")
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(30)
        assert not self.thread.is_alive(), "the watcher did not stop"
        assert "已停止监视" in self.logs[-1]


@pytest.mark.parametrize("poll", [True, False], ids=["polling", "notifications"])
def test_a_slowly_written_form_is_scored_once_after_it_is_complete(tmp_path, poll):
    inbox, out = tmp_path / "收件箱", tmp_path / "输出"
    inbox.mkdir()
    data = BASE.read_bytes()
    size = len(data) // 4 + 1
    with Watcher(inbox, out, poll) as w:
        with open(inbox / "a.xlsx", "wb") as fh:
            for i in range(4):
                fh.write(data[i * size:(i + 1) * size])
                fh.flush()
                os.fsync(fh.fileno())
                if i == 1:  # Excel's lock file appears beside it
                    (inbox / "~$a.xlsx").write_bytes(b"\x05cwk" + b"\x00" * 50)
                    (inbox / ".~lock.a.xlsx#").write_text("cwk,host,", encoding="utf-8")
                if i < 3:
                    time.sleep(CHUNK_PAUSE)
        complete = time.monotonic()
        wait_for(lambda: w.rounds_after("已评分  a.xlsx") == 1, what="a.xlsx to be scored and its round")
        rounds = w.rounds()
        time.sleep(2 * SETTLE + 1)  # time enough for a second, wrong scoring to show up
    assert [s.file for _, s in w.results] == ["a.xlsx"]
    when, summary = w.results[0]
    assert when > complete + SETTLE * 0.9  # not before the file stood still for the settle time
    assert (summary.status, summary.total, summary.grade) == ("ok", 100, "优")
    assert scored_copy_total(out / "a_评分.xlsx") == 100
    entry = json.loads((out / CACHE_FILE).read_text(encoding="utf-8"))["entries"][str((inbox / "a.xlsx").resolve())]
    assert entry["sha256"] == hashlib.sha256(data).hexdigest()  # the complete file was scored
    assert w.rounds() == rounds  # and nothing afterwards
    assert not [line for line in w.logs if "~$a" in line or ".~lock" in line]
    assert [line for line in w.logs if "已评分" in line][0].split("  ")[1:] == ["已评分", "a.xlsx", "总分 100", "等级 优"]
    assert not list(out.glob("*~*")) and (inbox / "~$a.xlsx").exists()


def test_each_version_is_scored_once_and_other_files_are_reported_once(tmp_path):
    inbox, out = tmp_path / "in", tmp_path / "out"
    inbox.mkdir()
    generated_form(inbox / "表.xlsx", 1, 0)
    with Watcher(inbox, out, poll=True) as w:
        wait_for(lambda: len(w.results) == 1, what="the form already there")
        assert w.results[0][1].total == 100
        rounds = w.rounds()
        os.utime(inbox / "表.xlsx")  # saved again without a change: same content, no new version
        (inbox / "表.xlsx").write_bytes((inbox / "表.xlsx").read_bytes())
        time.sleep(2 * SETTLE + 1)
        assert len(w.results) == 1 and w.rounds() == rounds  # nothing logged twice
        expected = generated_form(inbox / "表.xlsx", 1, 4)  # a corrected version: 4 trainees short
        wait_for(lambda: w.rounds_after("已评分  表.xlsx  总分 99.4") == 1, what="the new version and its round")
        (inbox / "说明.txt").write_text("各单位请于月底前报送", encoding="utf-8")  # no spreadsheet: ignored
        (inbox / "旧表.xlsb").write_bytes(b"PK\x03\x04" + b"\x00" * 512)  # .xls/.et/.ods are scored; .xlsb is not
        wait_for(lambda: w.rounds_after("已跳过  旧表.xlsb") == 1, what="the skipped file and its round")
        rounds = w.rounds()
        time.sleep(2 * SETTLE + 1)
    assert expected == 99.4 and w.results[1][1].total == pytest.approx(99.4)
    assert scored_copy_total(out / "表_评分.xlsx") == pytest.approx(99.4)
    assert sum("已跳过  旧表.xlsb" in line for line in w.logs) == 1 and not [x for x in w.logs if "说明.txt" in x]
    assert sum("已评分  表.xlsx" in line for line in w.logs) == 2  # two versions, one line each
    assert w.rounds() == rounds
    assert len(list(out.glob("汇总_*.xlsx"))) == 1  # each round replaces this session's roll-up


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_the_command_stops_cleanly_on_ctrl_c_and_sigterm(tmp_path, signum):
    inbox, out = tmp_path / "in", tmp_path / "out"
    inbox.mkdir()
    (inbox / "a.xlsx").write_bytes(BASE.read_bytes())
    proc = subprocess.Popen([sys.executable, "-m", "perfeval_xlsx", "watch", str(inbox), "-o", str(out), "--settle", "0.5"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stderr.readline, "")), daemon=True)
    reader.start()
    try:
        wait_for(lambda: any("汇总已更新" in line for line in lines) or proc.poll() is not None, what="the first round")
        assert proc.poll() is None, "".join(lines)
        proc.send_signal(signum)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    reader.join(10)
    text = "".join(lines)
    assert proc.returncode == 0, text
    assert "Traceback" not in text and "KeyboardInterrupt" not in text
    assert "已评分  a.xlsx  总分 100  等级 优" in text
    assert "已停止监视。本次共评分 1 个文件" in lines[-1]
    assert (out / "a_评分.xlsx").is_file()


@pytest.mark.parametrize("inside", [False, True], ids=["outbox-is-inbox", "outbox-inside-recursive"])
def test_the_watch_does_not_wake_itself(tmp_path, inside):
    """Its own roll-ups, caches and scored copies coming and going are no news: with OUTBOX
    equal to INBOX (or inside it, recursive) one form gives one round, not an endless loop."""
    inbox = tmp_path / "收表"
    inbox.mkdir()
    (inbox / "单位A.xlsx").write_bytes(BASE.read_bytes())
    out = inbox / "评分" if inside else inbox
    watcher = Watcher(inbox, out, poll=False)
    watcher.thread = threading.Thread(target=watch_folder, args=(inbox, out), daemon=True, kwargs=dict(
        recursive=inside, settle=SETTLE, jobs=1, stop=watcher.stop, log=watcher.logs.append))
    with watcher:
        time.sleep(4 * SETTLE)
        assert watcher.rounds() == 1, watcher.logs
