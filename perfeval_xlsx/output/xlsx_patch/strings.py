"""xl/sharedStrings.xml: the unit's strings kept as they are (rich text included), ours appended."""

from __future__ import annotations

import re

from perfeval_xlsx.output.xlsx_patch.parts import Unsupported, insert_before_close, text

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


class SharedStrings:
    def __init__(self, data: bytes | None) -> None:
        self.data = data
        self.prefix = b""
        self.count = 0
        if data is not None:
            root = re.search(rb"<(?![?!])(\w+:)?sst\b[^>]*>", data)
            if root is None:
                raise Unsupported("no sst element")
            self.prefix = root.group(1) or b""
            self.count = len(re.findall(rb"<" + re.escape(self.prefix) + rb"si[\s/>]", data))
        self.added: list[str] = []
        self.refs = 0
        self._index: dict[str, int] = {}

    def index(self, value: str) -> int:
        """The index of a new shared string holding `value` (one per distinct text)."""
        self.refs += 1
        at = self._index.get(value)
        if at is None:
            at = self.count + len(self.added)
            self.added.append(value)
            self._index[value] = at
        return at

    @property
    def is_new(self) -> bool:
        return self.data is None

    @property
    def changed(self) -> bool:
        return bool(self.added)

    def xml(self) -> bytes:
        p = self.prefix.decode()
        body = "".join(f'<{p}si><{p}t xml:space="preserve">{text(s)}</{p}t></{p}si>' for s in self.added).encode()
        total = self.count + len(self.added)
        if self.data is None:
            return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="{MAIN_NS}" '
                    f'count="{self.refs}" uniqueCount="{total}">').encode() + body + b"</sst>"
        data = insert_before_close(self.data, b"</" + self.prefix + b"sst>", body)
        root = re.search(rb"<(?![?!])(\w+:)?sst\b[^>]*>", data)
        head = root.group(0)
        new = re.sub(rb'\buniqueCount="\d*"', f'uniqueCount="{total}"'.encode(), head)
        m = re.search(rb'\bcount="(\d*)"', new)
        if m:
            old = int(m.group(1) or 0)
            new = new[:m.start()] + f'count="{old + self.refs}"'.encode() + new[m.end():]
        return data[:root.start()] + new + data[root.end():]
