"""Score a whole folder: find the forms, score them in parallel processes, skip what is unchanged,
write the roll-up and ``perfeval-batch.json``.

    result = run_batch("收件箱", "输出", jobs=2)
    result.summary          # {"total", "ok", "warnings", "errors", "unreadable", "skipped", ...}
    result.rollup           # 输出/汇总_20261122-080001.xlsx
    for d in result.iter_files(): ...   # the per-file objects of `perfeval score --json`

One module a step: ``discover`` (what to score, skip, ignore), ``pool`` (spawned workers),
``cache`` (OUTBOX/.perfeval-cache.json), ``result`` (per-file summaries), ``run`` (the run),
``watch`` (watch mode).
"""

from perfeval_xlsx.batch.discover import Discovery, Skipped, classify, discover, is_lock_or_temp, outbox_lock
from perfeval_xlsx.batch.result import BatchResult, FileSummary
from perfeval_xlsx.batch.run import run_batch, stream_json, write_batch_json
from perfeval_xlsx.errors import OutboxBusy

__all__ = ["BatchResult", "Discovery", "FileSummary", "OutboxBusy", "Skipped", "classify", "discover",
           "is_lock_or_temp", "outbox_lock", "run_batch", "stream_json", "write_batch_json"]
