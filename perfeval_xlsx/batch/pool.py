"""Worker processes (spawn): each scores one file and returns its small result dict."""


from __future__ import annotations

import json
import os
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from perfeval_xlsx.batch.result import failed_result
from perfeval_xlsx.errors import FileProblem, WorkerStartError
from perfeval_xlsx.reading.files import read_regular_file
from perfeval_xlsx.vocab import INTERNAL_CODE

_WORKER_PROFILE: Any = None


#: how often a worker looks whether its parent is still there (a killed parent's workers stop)
PARENT_CHECK_SECONDS = 0.5
#: key of the worker's result dict that carries the SHA-256 of the bytes it scored (taken out by
#: the parent before the result is cached: the cache records the hash of what was really scored)
SCORED_SHA = "_sha256"


def _watch_parent(parent: int) -> None:
    import threading
    import time

    def loop() -> None:
        while True:
            time.sleep(PARENT_CHECK_SECONDS)
            if os.getppid() != parent:  # re-parented: the batch that started us is gone
                from perfeval_xlsx.output.atomic import remove_in_progress

                remove_in_progress()
                os._exit(1)

    threading.Thread(target=loop, name="perfeval-parent-watch", daemon=True).start()


def _init_worker(profile: Any, parent: int | None = None) -> None:
    """Runs once in each spawned worker: Ctrl-C is the parent's to handle; a worker whose parent
    dies (kill -9) stops within a second instead of writing on."""
    import signal
    import warnings

    global _WORKER_PROFILE
    _WORKER_PROFILE = profile
    warnings.simplefilter("ignore")
    if parent is not None:
        _watch_parent(parent)
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        # stopped by the parent (Ctrl-C): remove a scored copy's temporary file, then go
        signal.signal(signal.SIGTERM, _exit_on_term)
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not the main thread
        pass


def _exit_on_term(signum, frame) -> None:
    from perfeval_xlsx.output.atomic import remove_in_progress

    remove_in_progress()
    os._exit(1)  # not SystemExit: the pool's worker loop would catch it and carry on


def _score_job(source: str, out_dir: str, report: Any = None) -> dict[str, Any]:
    """Score one file in a worker; anything that goes wrong becomes an unreadable result.
    `report` (a report.Wording): also draft its 自评报告 beside the scored copy.

    The file is read once, and those bytes are what is scored and hashed: a file replaced while
    the batch runs is never cached under another version's hash."""
    path = Path(source)
    try:
        import hashlib
        import tempfile

        from perfeval_xlsx.score import score_file

        data = read_regular_file(path)
        with tempfile.TemporaryDirectory(prefix="perfeval-") as private:
            copy = Path(private) / path.name  # same name: same messages and scored-copy name
            copy.write_bytes(data)
            outcome = score_file(copy, Path(out_dir), _WORKER_PROFILE)
            outcome.result.file = str(path)
            result = outcome.to_dict()
            if report is not None:
                from perfeval_xlsx.report import add_report

                add_report(outcome, result, report)
        json.dumps(result, ensure_ascii=False, allow_nan=False)  # it travels and is cached as strict JSON
        result[SCORED_SHA] = hashlib.sha256(data).hexdigest()
        return result
    except FileProblem as problem:
        return failed_result(path, problem.message, code=problem.code)
    except OSError as exc:
        return failed_result(path, f"文件无法读取（{exc.strerror or exc}），未能评分。请检查文件是否仍在、是否正被其他程序占用。",
                             code="E-FILE-IO")
    except MemoryError:
        return failed_result(path, "文件过大或结构异常，评分时内存不足，未能评分。请检查该文件（如有大量空行、图片），"
                                   "在 Excel/WPS 中删除多余内容并重新保存后再放回文件夹。")
    except Exception as exc:  # noqa: BLE001 - one bad file never stops the batch
        from perfeval_xlsx.check import internal_message

        return failed_result(path, internal_message(exc), code=INTERNAL_CODE)


CRASH_MESSAGE = ("评分进程在处理该文件时意外退出（文件可能过大或结构异常），未能评分。请在 Excel/WPS 中打开并重新保存为 "
                 ".xlsx 后再放回文件夹；如仍出现，请把该文件发给技术支持。")
START_MESSAGE = ("评分进程无法启动，没有评分任何文件（这不是表格文件的问题）。如果是在自己的 Python 程序中调用 run_batch，"
                 "请把调用写在 if __name__ == \"__main__\": 之下（启动评分进程时会重新导入该程序）；否则请关闭其他占用内存的"
                 "程序后重新运行，如仍出现，请联系技术支持。")


def _ping() -> int:
    """A job that needs no file: does a worker start at all?"""
    return os.getpid()


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
        self._started: bool | None = None  # a worker has been seen to start (see _workers_start)

    def _get_pool(self, size: int):
        if self._pool is None or self._size < size:
            self.close()
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            self._pool = ProcessPoolExecutor(max_workers=size, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=_init_worker, initargs=(self.profile, os.getpid()))
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
                        if not self._workers_start():  # no worker starts: no file is to blame
                            raise WorkerStartError(START_MESSAGE)
                        on_done(job, failed_result(job.source, CRASH_MESSAGE), True)
                    self.close()
                # a pool that breaks before taking any file, again and again: workers cannot start
                fruitless = fruitless + 1 if len(pending) == before and not suspects else 0
                if fruitless >= 3:
                    raise WorkerStartError(START_MESSAGE)
        except BaseException:
            self.close(cancel=True)
            raise

    def _finish_in_hand(self, inflight: dict, on_done) -> None:
        """Ctrl-C: the files being scored finish (the others are dropped), and what they gave is
        kept, so that the next run does not score them again (a second Ctrl-C stops at once)."""
        self.close(cancel=True)
        for future, job in inflight.items():
            if future.done() and not future.cancelled():
                try:
                    result = future.result()
                except Exception:  # noqa: BLE001 - a worker that broke: scored next time
                    continue
                on_done(job, result, False)

    def _workers_start(self) -> bool:
        """Whether a fresh worker can start and run a job that needs no file (asked once)."""
        if self._started is None:
            from concurrent.futures.process import BrokenProcessPool

            self.close()
            pool = self._get_pool(1)
            try:
                with _sigint_ignored():
                    future = pool.submit(_ping)
                future.result(timeout=120)
                self._started = True
            except (BrokenProcessPool, TimeoutError, OSError):
                self._started = False
            finally:
                self.close()
        return self._started

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
            try:
                done, _ = wait(inflight, return_when=FIRST_COMPLETED)
            except KeyboardInterrupt:
                self._finish_in_hand(inflight, on_done)
                raise
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


