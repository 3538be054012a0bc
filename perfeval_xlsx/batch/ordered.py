"""Results in listing order while a batch runs: the roll-up, perfeval-batch.json and the --json
output list the files by their path below INBOX, but the results arrive in any order (cached ones
first, then as the workers finish). `InOrder` hands each one on as soon as it and every file listed
before it are there, so that what a batch writes is written while the files are being scored.

The jobs are sent to the workers in listing order: with one worker the results arrive in order;
with more, a few arrive early and wait (their dicts are kept while few wait, else read back from
the cache file when their turn comes)."""


from __future__ import annotations

from typing import Any, Callable

#: results that arrived early are kept in memory up to this many; the others are read back later
KEEP_EARLY = 8


class InOrder:
    """`order`: every key that may have a result, in listing order. `emit(key, result)` is called
    for each key in that order, with the result dict given to `put` or, for one that waited long,
    None (the caller reads it back). A key given to `drop` will have no result (removed meanwhile,
    or held back in watch mode): the ones after it do not wait for it.

    `broken` is set when a key is given twice or is not in `order`: what was emitted is then not the
    listing, and the caller writes its outputs from the final results instead."""

    def __init__(self, order: list[str], emit: Callable[[str, dict[str, Any] | None], None]):
        self.order = order
        self.emit = emit
        self.pos = 0
        self.known = set(order)
        self.seen: set[str] = set()
        self.waiting: dict[str, dict[str, Any] | None] = {}
        self.kept: set[str] = set()  # keys that wait with their dict in memory
        self.emitted = 0
        self.broken = False

    def put(self, key: str, result: dict[str, Any] | None) -> None:
        if not self._arrive(key):
            return
        if self.order[self.pos] != key and result is not None:
            if len(self.kept) >= KEEP_EARLY:
                result = None  # waits on disk (in the cache file), not in memory
            else:
                self.kept.add(key)
        self.waiting[key] = result
        self._flush()

    def drop(self, key: str) -> None:
        if self._arrive(key):
            self.waiting[key] = _DROPPED
            self._flush()

    def _arrive(self, key: str) -> bool:
        if key not in self.known or key in self.seen:
            self.broken = True
            return False
        self.seen.add(key)
        return True

    def _flush(self) -> None:
        while self.pos < len(self.order) and self.order[self.pos] in self.waiting:
            key = self.order[self.pos]
            result = self.waiting.pop(key)
            self.pos += 1
            self.kept.discard(key)
            if result is _DROPPED:
                continue
            self.emitted += 1
            self.emit(key, result)

    @property
    def complete(self) -> bool:
        """Every key has been emitted or dropped, each once."""
        return not self.broken and self.pos == len(self.order)


_DROPPED: Any = object()
