"""The batch cache: OUTBOX/.perfeval-cache.json, one entry per line, read back one at a time."""


from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Iterator

from perfeval_xlsx import __version__
from perfeval_xlsx.output.atomic import new_temp_file
from perfeval_xlsx.rules.findings import FILE, codes_of_scope

CACHE_FORMAT = 1

#: the unreadable codes that depend on the file's content only: such a result may be reused
#: while the content is unchanged (an I/O failure or a crash is tried again on the next run)
CONTENT_CODES = codes_of_scope(FILE)


def file_sha256(path: Path) -> str:
    from perfeval_xlsx.reading.files import open_regular

    h = hashlib.sha256()
    with open_regular(path) as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def profile_key(profile: Any) -> str:
    """Names the rules a result was scored with; a changed profile file gives a new key."""
    if profile is None:
        return "auto"
    return f"{profile.name}:{hashlib.sha256(repr(profile).encode('utf-8')).hexdigest()[:16]}"


def _iter_cache(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """The entries of a cache file, read one line at a time (as _CacheWriter writes them). A
    damaged, reformatted or foreign cache yields what it can: the rest is simply scored again."""
    try:
        fh = open(path, "rb")
    except OSError:
        return
    with fh:
        first = fh.readline()
        try:
            header = json.loads(first.decode("utf-8").rstrip().removesuffix(', "entries": {') + "}") if first else {}
        except (ValueError, UnicodeDecodeError):
            header = {}
        if header.get("format") != CACHE_FORMAT:
            return
        for line in fh:
            text = line.decode("utf-8", "replace").strip().lstrip(",")
            if not text or text == "}}":
                continue
            try:
                item = json.loads("{" + text + "}")
            except ValueError:
                continue
            for key, entry in item.items():
                if isinstance(entry, dict) and isinstance(entry.get("result"), dict):
                    yield key, entry


def _read_entry(fh, offset: int, key: str) -> dict[str, Any]:
    fh.seek(offset)
    text = fh.readline().decode("utf-8").strip().lstrip(",")
    item = json.loads("{" + text + "}")
    if key not in item:  # pragma: no cover - the cache was replaced under us
        raise RuntimeError("cache file changed during the run")
    return item[key]


class _CacheWriter:
    """Writes the new cache as entries arrive: a JSON object, one entry per line, so that it is
    valid JSON for any reader and can also be read back one entry at a time."""

    def __init__(self, outbox: Path):
        self.fh, self.tmp = new_temp_file(outbox, ".perfeval-cache-", ".tmp")
        self.fh.write(json.dumps({"format": CACHE_FORMAT, "tool": __version__}, ensure_ascii=False)
                      .removesuffix("}").encode("utf-8") + b', "entries": {')
        self.first = True
        self.broken = False

    def add(self, key: str, entry: dict[str, Any]) -> int:
        line = ("\n" if self.first else "\n,") + json.dumps(key, ensure_ascii=False) + ": " + \
            json.dumps(entry, ensure_ascii=False, default=str)
        self.first = False
        try:
            self.fh.write(line[0].encode("utf-8"))
            offset = self.fh.tell()
            self.fh.write(line[1:].encode("utf-8"))
            self.fh.flush()  # on disk as it arrives: what a crash or Ctrl-C leaves is what was recorded
        except BaseException:
            self.broken = True  # a line may be cut short (a full disk): never install this file
            raise
        return offset

    def finish(self, target: Path) -> None:
        if self.broken:
            self.abandon()
            raise OSError("the new cache could not be written completely; the old one is kept")
        self.fh.write(b"\n}}\n")
        self.fh.flush()
        os.fsync(self.fh.fileno())
        self.fh.close()
        os.replace(self.tmp, target)

    def abandon(self) -> None:
        try:
            if not self.fh.closed:
                self.fh.close()
        except OSError:
            pass  # a full disk: closing flushes and fails; the file goes all the same
        finally:
            self.tmp.unlink(missing_ok=True)


