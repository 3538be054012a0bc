"""Watch a shared inbox: score each form once it is completely written, refresh the roll-up.

    stop = threading.Event()
    watch_folder("收件箱", "输出", stop=stop)      # runs until stop is set (or Ctrl-C)

A watchdog observer (a polling one with ``poll=True``, for network shares where change
notifications do not arrive) reports changed files. A file is scored once its size and
modification time have not changed for ``settle`` seconds and it can be opened: a form still
being copied or saved is left alone until it is complete. Each content version is scored once
(the batch cache compares SHA-256). After each round the roll-up and ``perfeval-batch.json`` are
rewritten by `batch.run_batch` (cheap: unchanged files come from the cache); the previous
roll-up written by this session is then removed, so OUTBOX holds one current roll-up.
Every result is logged with a timestamp, e.g.::

    2026-11-22 08:00:01  已评分  某单位自评表.xlsx  总分 99  等级 优
"""

from __future__ import annotations

import os
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from perfeval_xlsx.batch.cache import file_sha256
from perfeval_xlsx.batch.discover import _inside, classify, discover
from perfeval_xlsx.batch.pool import Scorer
from perfeval_xlsx.batch.run import run_batch
from perfeval_xlsx.errors import OutboxBusy, WorkerStartError
from perfeval_xlsx.vocab import UNREADABLE, counts_sentence

TICK = 0.2  # seconds between two looks at the files waiting to settle


def stamp() -> str:
    return datetime.now().strftime("%Y-%m-%d %H:%M:%S")


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


@dataclass
class WatchStats:
    scored: int = 0  # files scored (each content version once)
    refreshes: int = 0  # roll-ups written
    rollup: Path | None = None  # the current roll-up


class _Events:
    """Collects the paths the observer reports; the watch loop takes them every tick."""

    def __init__(self, root: Path | None = None, out_root: Path | None = None):
        self.lock = threading.Lock()
        self.paths: set[str] = set()
        self.folders: set[str] = set()
        self.deleted = False
        self.root, self.out_root = root, out_root

    def _ours(self, name: str) -> bool:
        """A path the watch itself writes or removes: anything in an OUTBOX inside INBOX, our
        outputs, temp and lock files. Their comings and goings are no news."""
        if self.root is None or not name:
            return False
        path = Path(os.fsdecode(name))
        if self.out_root != self.root and _inside(path, self.out_root):
            return True
        return classify(path, self.root, self.out_root) == ""

    def dispatch(self, event: Any) -> None:  # watchdog calls this from its own thread
        kind = event.event_type
        if kind in ("opened", "closed_no_write"):
            return
        with self.lock:
            if kind == "deleted":
                if not self._ours(event.src_path):
                    self.deleted = True
                return
            path = getattr(event, "dest_path", "") or event.src_path
            if kind == "moved" and not self._ours(event.src_path):
                self.deleted = True  # the old name is gone
            if event.is_directory:
                if kind in ("created", "moved"):
                    self.folders.add(os.fsdecode(path))
            else:
                self.paths.add(os.fsdecode(path))

    def take(self) -> tuple[set[str], set[str], bool]:
        with self.lock:
            paths, folders, deleted = self.paths, self.folders, self.deleted
            self.paths, self.folders, self.deleted = set(), set(), False
        return paths, folders, deleted


def _ready(path: Path) -> bool:
    """Complete enough to read: it opens (Excel or a copier may still hold it locked)."""
    try:
        with open(path, "rb") as fh:
            fh.read(1)
        return True
    except OSError:
        return False


def watch_folder(
    inbox: str | Path,
    outbox: str | Path,
    *,
    profile: Any = None,
    recursive: bool = False,
    poll: bool = False,
    settle: float = 2.0,
    jobs: int | None = None,
    stop: threading.Event | None = None,
    log: Callable[[str], None] = _stderr,
    on_result: Callable[[Any], None] | None = None,
) -> WatchStats:
    """Watch INBOX until `stop` is set or Ctrl-C (KeyboardInterrupt).

    `on_result(summary)` is called for every file scored (batch.FileSummary). Problems writing
    OUTBOX are logged and tried again at the next change; nothing here raises for a bad file.
    """
    from watchdog.observers import Observer
    from watchdog.observers.polling import PollingObserver

    inbox, outbox = Path(inbox), Path(outbox)
    root, out_root = inbox.resolve(), outbox.resolve()
    if not root.is_dir():
        raise NotADirectoryError(str(inbox))
    outbox.mkdir(parents=True, exist_ok=True)
    stop = stop or threading.Event()
    stats = WatchStats()
    events = _Events(root, out_root)

    def start_observer():
        observer = PollingObserver(timeout=max(0.25, min(2.0, settle / 2))) if poll else Observer()
        observer.schedule(events, str(root), recursive=recursive)
        observer.start()
        return observer

    observer = start_observer()
    lost_since: float | None = None  # the observer stopped (a network share went away)
    scorer = Scorer(profile, jobs)
    waiting: dict[str, list] = {}  # path -> [size, mtime_ns, since]: files settling
    reported: set[tuple[str, int, int]] = set()  # skipped files already logged (path, size, mtime)
    versions: dict[str, str] = {}  # path -> SHA-256 of the version scored in this session
    session_rollups: list[Path] = []
    refresh = True  # the first round covers the files already there
    refresh_since: float | None = None

    def consider(path: Path) -> None:
        if _inside(path, out_root) and out_root != root:
            return  # OUTBOX inside INBOX: our own outputs
        try:
            rel = path.relative_to(root)
        except ValueError:
            return
        if not recursive and len(rel.parts) > 1:
            return
        if classify(path, root, out_root) == "":
            return  # lock, temp and system files, our own outputs
        waiting.setdefault(str(path), [-1, -1, 0.0])

    def log_result(summary) -> None:
        if summary.cached:
            return
        stats.scored += 1
        log(result_line(summary))
        if on_result is not None:
            on_result(summary)

    mode = "轮询" if poll else "实时"
    log(f"{stamp()}  开始监视  {inbox}（{mode}，文件 {settle:g} 秒内无变化后评分），结果写入 {outbox}。按 Ctrl-C 停止。")
    try:
        found = discover(root, out_root, recursive)
        for path in found.files:
            consider(path)
        for item in found.skipped:
            if not item.file.endswith("/"):
                consider(root / item.file)
            else:
                log(f"{stamp()}  已跳过  {item.file}  {item.reason}")
        while not stop.is_set():
            if not observer.is_alive() or not root.is_dir():
                if lost_since is None:
                    lost_since = time.monotonic()
                    log(f"{stamp()}  监视中断  无法访问“{inbox}”（网络中断或文件夹被移走），每 10 秒重试一次。")
                elif time.monotonic() - lost_since > 10 and root.is_dir():
                    lost_since = time.monotonic()
                    try:
                        observer.stop()
                        observer = start_observer()
                    except OSError:
                        pass
                    else:
                        lost_since = None
                        log(f"{stamp()}  恢复监视  {inbox}")
                        for path in discover(root, out_root, recursive).files:
                            consider(path)  # whatever arrived meanwhile
                stop.wait(TICK)
                continue
            paths, folders, deleted = events.take()
            for name in paths:
                consider(Path(name))
            for name in folders:
                if recursive and Path(name).is_dir():
                    for sub, _, names in os.walk(name):
                        for n in names:
                            consider(Path(sub) / n)
            refresh = refresh or deleted
            now = time.monotonic()
            ready: list[Path] = []
            for name, state in list(waiting.items()):
                try:
                    st = os.stat(name)
                except OSError:
                    del waiting[name]  # gone before it settled (a temp file, a cancelled copy)
                    continue
                if [st.st_size, st.st_mtime_ns] != state[:2]:
                    waiting[name] = [st.st_size, st.st_mtime_ns, now]
                elif now - state[2] >= settle and _ready(Path(name)):
                    ready.append(Path(name))
            fresh: dict[str, str] = {}
            for path in list(ready):
                st_key = waiting.pop(str(path))
                reason = classify(path, root, out_root)
                if reason:  # not a form: say so once per version
                    key = (str(path), st_key[0], st_key[1])
                    if key not in reported:
                        reported.add(key)
                        log(f"{stamp()}  已跳过  {path.relative_to(root).as_posix()}  {reason}")
                    continue
                try:  # saved again with the same content (or only touched): no new version, no round
                    digest = file_sha256(path)
                except OSError:
                    digest = ""
                if digest and versions.get(str(path)) == digest:
                    ready.remove(path)
                else:
                    fresh[str(path)] = digest
            if refresh and refresh_since is None:
                refresh_since = now
            # a round when files are ready, or for a deletion once nothing new is about to settle
            if ready or (refresh and (not waiting or now - refresh_since > 2 * settle + 1)):
                try:
                    result = run_batch(inbox, outbox, profile=profile, recursive=recursive, only=ready,
                                       scorer=scorer, on_result=log_result)
                except Exception as exc:  # noqa: BLE001 - the watch goes on; the files are tried again
                    if isinstance(exc, OutboxBusy):
                        why = f"输出文件夹“{outbox}”正被另一个 perfeval batch 使用"
                    elif isinstance(exc, WorkerStartError):
                        why = str(exc).rstrip("。")
                    elif not root.is_dir():
                        why = f"无法访问“{inbox}”（网络中断或文件夹被移走）"
                    elif isinstance(exc, OSError):
                        why = f"无法写入“{outbox}”：{exc.strerror or exc}。请检查文件夹是否可写、磁盘是否已满"
                    else:
                        why = f"内部错误（{type(exc).__name__}）。如反复出现，请联系技术支持"
                    log(f"{stamp()}  评分失败  {why}；稍后自动再试。")
                    for path in ready:
                        waiting[str(path)] = [-1, -1, 0.0]
                    refresh, refresh_since = True, now
                else:
                    refresh, refresh_since = False, None
                    versions.update({k: v for k, v in fresh.items() if v})
                    stats.refreshes += 1
                    stats.rollup = result.rollup
                    for old in session_rollups:
                        try:
                            old.unlink()
                        except OSError:
                            pass  # open in Excel: leave it
                    session_rollups = [result.rollup] if result.rollup else []
                    s = result.summary
                    log(f"{stamp()}  汇总已更新  {result.rollup.name if result.rollup else ''}  {counts_sentence(s, s['total'])}")
            stop.wait(TICK)
    except KeyboardInterrupt:
        pass
    finally:
        scorer.close(cancel=True)
        observer.stop()
        observer.join(timeout=5)
        log(f"{stamp()}  已停止监视。本次共评分 {stats.scored} 个文件"
            + (f"，汇总表：{stats.rollup}" if stats.rollup else "") + "。")
    return stats


def result_line(summary) -> str:
    """One log line for a scored file: time, what happened, file, 总分, 等级, problems."""
    from perfeval_xlsx.numbers import format_number

    if summary.status == UNREADABLE:
        return f"{stamp()}  无法读取  {summary.file}  {summary.reason}"
    line = f"{stamp()}  已评分  {summary.file}  总分 {format_number(summary.total)}  等级 {summary.grade}"
    if summary.errors:
        line += f"  错误 {summary.errors} 个（{summary.reason}）"
    if summary.warnings:
        line += f"  预警 {summary.warnings} 个"
    return line
