"""The record of sent messages: OUTBOX/perfeval-mail-log.jsonl."""


from __future__ import annotations

import json
from email.utils import parseaddr
from pathlib import Path
from typing import Any, Iterable

from perfeval_xlsx.errors import MailError
from perfeval_xlsx.output.atomic import write_bytes
from perfeval_xlsx.vocab import MAIL_LOG


def read_mail_log(outbox: str | Path) -> list[dict[str, Any]]:
    """The records of earlier runs (``OUTBOX/perfeval-mail-log.jsonl``), oldest first."""
    path = Path(outbox) / MAIL_LOG
    if not path.exists():
        return []
    records = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise MailError(f"无法读取发送记录“{path}”：{getattr(exc, 'strerror', None) or exc}。") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if not isinstance(record, dict):
                raise ValueError
        except ValueError:
            raise MailError(
                f"发送记录“{path}”第 {number} 行无法读取。请检查该行（或删除它，但这样该行记录的文件会被当作未发送）。"
            ) from None
        records.append(record)
    return records


def sent_index(records: Iterable[dict[str, Any]]) -> dict[tuple[str, str], set[str]]:
    """(attachment name, sha256) -> the addresses (lower case) that accepted it."""
    index: dict[tuple[str, str], set[str]] = {}
    for record in records:
        accepted = {_addr(a) for a in [*record.get("to", []), *record.get("cc", [])] if isinstance(a, str)}
        for att in record.get("attachments", []):
            if isinstance(att, dict) and isinstance(att.get("name"), str) and isinstance(att.get("sha256"), str):
                index.setdefault((att["name"], att["sha256"]), set()).update(accepted)
    return index


def append_mail_log(outbox: str | Path, record: dict[str, Any]) -> Path:
    """Add one line to the record, atomically (the whole file is rewritten and replaced)."""
    path = Path(outbox) / MAIL_LOG
    old = path.read_bytes() if path.exists() else b""
    if old and not old.endswith(b"\n"):
        old += b"\n"
    line = json.dumps(record, ensure_ascii=False, sort_keys=False) + "\n"
    _write_atomic(path, old + line.encode("utf-8"))
    return path


def _write_atomic(path: Path, data: bytes) -> None:
    write_bytes(path, data)


def _addr(address: str) -> str:
    """The bare address, lower case, of "张三 <A@b.cn>" -> "a@b.cn"."""
    return parseaddr(address)[1].lower()


