"""xl/workbook.xml: our three sheets added (评分汇总 first), the defined names kept in step.

Sheet-level names (print areas, print titles, filters) refer to sheets by their position among
all the workbook's sheets, chartsheets included; a sheet put in front moves every position by
one, and `Names` writes them back so. Everything else in the part is kept as it was.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from openpyxl.utils.cell import absolute_coordinate, quote_sheetname

from perfeval_xlsx.output.xlsx_patch.parts import Unsupported, attr, rel_prefix, tag_end, text
from perfeval_xlsx.reading.safety import XML_SEP, parse_xml

PRINT_AREA, PRINT_TITLES, FILTER = "_xlnm.Print_Area", "_xlnm.Print_Titles", "_xlnm._FilterDatabase"
_AFTER_NAMES = ("calcPr", "oleSize", "customWorkbookViews", "pivotCaches", "smartTagPr", "smartTagTypes",
                "webPublishing", "fileRecoveryPr", "webPublishObjects", "extLst")


@dataclass
class _Name:
    attrs: dict[str, str]
    text: str


class Workbook:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.sheets: list[dict[str, str]] = []  # attributes of each <sheet>, in order
        self.names: list[_Name] = []
        self.top: dict[str, tuple[int, int]] = {}
        self.sheets_close = -1
        self.sheets_open_end = -1
        root = re.search(rb"<(?![?!])(\w+:)?workbook\b", data)
        if root is None:
            raise Unsupported("no workbook element")
        self.p = (root.group(1) or b"").decode()
        self.rel = rel_prefix(data[:tag_end(data, root.start())])
        parser: list = []
        stack: list[str] = []
        name_text: list[str] = []

        def start(tag, attrs):
            local = tag.rpartition(XML_SEP)[2]
            stack.append(local)
            pos = parser[0].CurrentByteIndex
            if len(stack) == 2:
                self.top.setdefault(local, (pos, -1))
                if local == "sheets":
                    self.sheets_open_end = tag_end(data, pos)
            elif len(stack) == 3 and stack[1] == "sheets" and local == "sheet":
                self.sheets.append({k.rpartition(XML_SEP)[2] if k.startswith("http") else k: v for k, v in attrs.items()})
                self.sheets[-1]["__rid"] = next((v for k, v in attrs.items() if k.endswith(XML_SEP + "id")), "")
            elif len(stack) == 3 and stack[1] == "definedNames" and local == "definedName":
                name_text.clear()
                self.names.append(_Name(dict(attrs), ""))

        def end(tag):
            local = stack.pop()
            pos = parser[0].CurrentByteIndex
            if len(stack) == 1:
                begin = self.top[local][0]
                end_ = data.index(b">", pos) + 1 if data[pos:pos + 2] == b"</" else tag_end(data, begin)
                self.top[local] = (begin, end_)
                if local == "sheets":
                    self.sheets_close = pos
            elif len(stack) == 2 and local == "definedName":
                self.names[-1].text = "".join(name_text)

        def chars(value):
            if len(stack) == 3 and stack[2] == "definedName":
                name_text.append(value)

        parse_xml(data, start, end, chars, parser_ref=parser)
        if self.sheets_close < 0:
            raise Unsupported("no sheets")
        self.titles = [s.get("name", "") for s in self.sheets]
        self.added_front: list[tuple[str, str]] = []  # (name, relationship id)
        self.added_back: list[tuple[str, str]] = []
        self.changed_names = False

    # ------------------------------------------------------------------ sheets
    def add_sheet(self, name: str, rid: str, front: bool) -> None:
        (self.added_front if front else self.added_back).append((name, rid))

    def order(self) -> list[str]:
        """The titles of all sheets in their new order."""
        return [n for n, _ in self.added_front] + self.titles + [n for n, _ in self.added_back]

    def position(self, title: str) -> int:
        return self.order().index(title)

    # ------------------------------------------------------------------ names
    def _local(self, name: str, title: str) -> _Name | None:
        index = str(self.titles.index(title)) if title in self.titles else None
        for each in self.names:
            if each.attrs.get("name") == name and each.attrs.get("localSheetId") == index and index is not None:
                return each
        return None

    def get_area(self, title: str) -> list[str]:
        found = self._local(PRINT_AREA, title)
        return [part for part in found.text.split(",") if part] if found is not None else []

    def set_area(self, title: str, ranges: list[str]) -> None:
        refs = ",".join(f"{quote_sheetname(title)}!{absolute_coordinate(r)}" for r in ranges)
        self._set(PRINT_AREA, title, refs)

    def get_title_rows(self, title: str) -> str | None:
        found = self._local(PRINT_TITLES, title)
        if found is None:
            return None
        for part in found.text.split(","):
            m = re.search(r"!\$?(\d+):\$?(\d+)$", part)
            if m:
                return f"{m.group(1)}:{m.group(2)}"
        return None

    def set_title_rows(self, title: str, rows: str) -> None:
        first, last = rows.split(":")
        ref = f"{quote_sheetname(title)}!${first}:${last}"
        found = self._local(PRINT_TITLES, title)
        if found is not None:
            cols = [p for p in found.text.split(",") if not re.search(r"!\$?\d+:\$?\d+$", p)]
            ref = ",".join(cols + [ref])
        self._set(PRINT_TITLES, title, ref)

    def _set(self, name: str, title: str, value: str) -> None:
        found = self._local(name, title)
        if found is None:
            if title not in self.titles:  # one of ours: its position is counted later
                self.names.append(_Name({"name": name, "localSheetId": "@" + title}, value))
            else:
                self.names.append(_Name({"name": name, "localSheetId": str(self.titles.index(title))}, value))
        else:
            found.text = value
        self.changed_names = True

    def add_local(self, name: str, title: str, value: str, hidden: bool = False) -> None:
        self.names.append(_Name({"name": name, "localSheetId": "@" + title, **({"hidden": "1"} if hidden else {})}, value))
        self.changed_names = True

    # ------------------------------------------------------------------ writing
    def xml(self) -> bytes:
        data = self.data
        p, r = self.p, self.rel or "r:"
        declare = "" if self.rel else ' xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
        ids = [int(s.get("sheetId", "0")) for s in self.sheets if s.get("sheetId", "").isdigit()]
        next_id = max(ids, default=0) + 1

        def sheet(name: str, rid: str) -> str:
            nonlocal next_id
            xml = f"<{p}sheet name={attr(name)} sheetId=\"{next_id}\"{declare} {r}id=\"{rid}\"/>"
            next_id += 1
            return xml

        front = "".join(sheet(n, rid) for n, rid in self.added_front).encode()
        back = "".join(sheet(n, rid) for n, rid in self.added_back).encode()
        shift = len(self.added_front)
        edits: list[tuple[int, int, bytes]] = [(self.sheets_open_end, self.sheets_open_end, front),
                                               (self.sheets_close, self.sheets_close, back)]
        if shift or self.changed_names:
            names = []
            order = self.order()
            for each in self.names:
                attrs = dict(each.attrs)
                local = attrs.get("localSheetId")
                if local is not None and local.startswith("@"):
                    attrs["localSheetId"] = str(order.index(local[1:]))
                elif local is not None and local.isdigit():
                    attrs["localSheetId"] = str(int(local) + shift)
                names.append(f"<{p}definedName" + "".join(f" {k}={attr(v)}" for k, v in attrs.items())
                             + f">{text(each.text)}</{p}definedName>")
            if names:
                xml = f"<{p}definedNames>{''.join(names)}</{p}definedNames>".encode()
                if "definedNames" in self.top:
                    a, b = self.top["definedNames"]
                    edits.append((a, b, xml))
                else:
                    after = [self.top[n][0] for n in _AFTER_NAMES if n in self.top]
                    at = min(after) if after else self.top["sheets"][1]
                    edits.append((at, at, xml))
        views = self.top.get("bookViews")
        if views is not None and shift:
            element = data[views[0]:views[1]]
            new = re.sub(rb'\s(activeTab|firstSheet)="\d+"', b"", element)
            if new != element:
                edits.append((views[0], views[1], new))
        for start, end, replacement in sorted(edits, key=lambda e: e[0], reverse=True):
            data = data[:start] + replacement + data[end:]
        return data
