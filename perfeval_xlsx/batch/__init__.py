"""Score a whole folder: find the forms, score them in parallel processes, skip what is unchanged,
write the roll-up and ``perfeval-batch.json``.

    result = run_batch("收件箱", "输出", jobs=2)
    result.summary          # {"total", "ok", "warnings", "errors", "unreadable", "skipped", ...}
    result.rollup           # 输出/汇总_20261122-080001.xlsx
    for d in result.iter_files(): ...   # the per-file objects of `perfeval score --json`

One module a step: ``discover`` (what to score, skip, ignore), ``pool`` (spawned workers),
``cache`` (OUTBOX/.perfeval-cache.json), ``result`` (per-file summaries), ``ordered`` (results in
listing order as they arrive), ``run`` (the run), ``watch`` (watch mode).

The run and its results are imported when first used: a batch worker (which imports ``pool``)
and ``perfeval check`` (which uses ``discover``) do not load the rest.
"""

from perfeval_xlsx.batch.discover import Discovery, Skipped, classify, discover, is_lock_or_temp, outbox_lock
from perfeval_xlsx.errors import OutboxBusy

_LAZY = {"BatchResult": "result", "FileSummary": "result",
         "JsonFiles": "run", "run_batch": "run", "stream_json": "run", "write_batch_json": "run"}

__all__ = ["BatchResult", "Discovery", "FileSummary", "JsonFiles", "OutboxBusy", "Skipped", "classify", "discover",
           "is_lock_or_temp", "outbox_lock", "run_batch", "stream_json", "write_batch_json"]


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'perfeval_xlsx.batch' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f"perfeval_xlsx.batch.{module}"), name)
    globals()[name] = value
    return value
