"""The form sheet's comments: the unit's kept, ours added (or appended to the unit's own comment
on the same cell), with the legacy VML shapes Excel, WPS and LibreOffice show them by."""

from __future__ import annotations

import re

from perfeval_xlsx.output.looks import COMMENT_AUTHOR, FONT
from perfeval_xlsx.output.xlsx_patch.parts import Unsupported, attr, insert_before_close, text
from perfeval_xlsx.reading.safety import XML_SEP, parse_xml

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RUN_PROPS = f'<rPr><sz val="9"/><color indexed="81"/><rFont val={attr(FONT)}/><charset val="134"/></rPr>'
_SHAPETYPE = ('<v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202" path="m,l,21600r21600,l21600,xe">'
              '<v:stroke joinstyle="miter"/><v:path gradientshapeok="t" o:connecttype="rect"/></v:shapetype>')


def _address(row: int, col: int) -> str:
    from openpyxl.utils.cell import get_column_letter

    return f"{get_column_letter(col)}{row}"


class Comments:
    """The comments part of one sheet (`data` None: the sheet has none yet)."""

    def __init__(self, data: bytes | None) -> None:
        self.data = data
        self.prefix = ""
        self.authors: list[str] = []
        self.refs: dict[str, tuple[int, int]] = {}  # cell → (start, end) of its <comment>
        if data is not None:
            self._parse(data)
        self.added: list[tuple[str, str]] = []  # (cell, text) of new comments
        self.appended: dict[str, str] = {}  # cell → text added to the unit's comment

    def _parse(self, data: bytes) -> None:
        root = re.search(rb"<(?![?!])(\w+:)?comments\b", data)
        if root is None:
            raise Unsupported("no comments element")
        self.prefix = (root.group(1) or b"").decode()
        parser: list = []
        stack: list[str] = []
        author: list[str] = []
        current: dict = {}

        def start(tag, attrs):
            local = tag.rpartition(XML_SEP)[2]
            stack.append(local)
            if local == "author":
                author.clear()
            elif local == "comment" and len(stack) == 3:
                current["ref"], current["start"] = attrs.get("ref", ""), parser[0].CurrentByteIndex

        def end(tag):
            local = stack.pop()
            if local == "author":
                self.authors.append("".join(author))
            elif local == "comment" and len(stack) == 2:
                pos = parser[0].CurrentByteIndex
                end_ = data.index(b">", pos) + 1
                self.refs[current["ref"]] = (current["start"], end_)

        def chars(value):
            if stack and stack[-1] == "author":
                author.append(value)

        parse_xml(data, start, end, chars, parser_ref=parser)

    def add(self, row: int, col: int, message: str) -> bool:
        """Our comment on a cell; returns whether it needs a new VML shape."""
        ref = _address(row, col)
        if ref in self.refs:
            self.appended[ref] = message
            return False
        self.added.append((ref, message))
        return True

    @property
    def changed(self) -> bool:
        return bool(self.added or self.appended)

    def xml(self) -> bytes:
        p = self.prefix
        data = self.data
        if data is None:
            data = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<comments xmlns="{MAIN_NS}">'
                    f"<authors></authors><commentList></commentList></comments>").encode()
        if COMMENT_AUTHOR in self.authors:
            author = self.authors.index(COMMENT_AUTHOR)
        else:
            author = len(self.authors)
            close = f"</{p}authors>".encode()
            if close not in data:
                raise Unsupported("comments without authors")
            data = insert_before_close(data, close, f"<{p}author>{text(COMMENT_AUTHOR)}</{p}author>".encode())
        # appended texts, from the end so that earlier positions stay valid
        shift = len(data) - len(self.data) if self.data is not None else 0
        for ref, message in sorted(self.appended.items(), key=lambda kv: self.refs[kv[0]][0], reverse=True):
            start, end = (x + shift for x in self.refs[ref])
            element = data[start:end]
            cut = [i for i in (element.find(f"<{p}rPh".encode()), element.find(f"<{p}phoneticPr".encode()),
                               element.rfind(f"</{p}text>".encode())) if i >= 0]
            if not cut:
                raise Unsupported("comment without text")
            at = start + min(cut)
            run = f'<{p}r>{_prefixed(_RUN_PROPS, p)}<{p}t xml:space="preserve">{text(chr(10) + message)}</{p}t></{p}r>'
            data = data[:at] + run.encode() + data[at:]
        new = "".join(f'<{p}comment ref="{ref}" authorId="{author}"><{p}text><{p}r>{_prefixed(_RUN_PROPS, p)}'
                      f'<{p}t xml:space="preserve">{text(message)}</{p}t></{p}r></{p}text></{p}comment>'
                      for ref, message in self.added)
        close = f"</{p}commentList>".encode()
        if new:
            if close not in data:
                raise Unsupported("comments without commentList")
            data = insert_before_close(data, close, new.encode())
        return data


def _prefixed(xml: str, p: str) -> str:
    if not p:
        return xml
    return re.sub(r"<(/?)(?=[a-zA-Z])", lambda m: f"<{m.group(1)}{p}", xml)


class Vml:
    """The sheet's legacy VML drawing: a shape per new comment, appended."""

    def __init__(self, data: bytes | None, idmap: int) -> None:
        self.data = data
        self.shapes: list[str] = []
        ids = [int(x) for x in re.findall(rb"_x0000_s(\d+)", data)] if data is not None else []
        self.next_id = max(ids) + 1 if ids else idmap * 1024 + 1
        self.idmap = idmap

    def add(self, row: int, col: int, width: int, height: int) -> None:
        r0, c0 = row - 1, col - 1
        self.shapes.append(
            f'<v:shape id="_x0000_s{self.next_id}" type="#_x0000_t202" style="position:absolute;margin-left:59.25pt;'
            f'margin-top:1.5pt;width:{width}pt;height:{height}pt;z-index:{len(self.shapes) + 1};visibility:hidden" '
            f'fillcolor="#ffffe1" o:insetmode="auto"><v:fill color2="#ffffe1"/><v:shadow on="t" color="black" obscured="t"/>'
            f'<v:path o:connecttype="none"/><v:textbox style="mso-direction-alt:auto"><div style="text-align:left"></div>'
            f'</v:textbox><x:ClientData ObjectType="Note"><x:MoveWithCells/><x:SizeWithCells/>'
            f"<x:Anchor>{c0 + 1}, 15, {r0}, 10, {c0 + 4}, 15, {r0 + 4}, 4</x:Anchor><x:AutoFill>False</x:AutoFill>"
            f"<x:Row>{r0}</x:Row><x:Column>{c0}</x:Column></x:ClientData></v:shape>")
        self.next_id += 1

    @property
    def changed(self) -> bool:
        return bool(self.shapes)

    def xml(self) -> bytes:
        shapes = "".join(self.shapes)
        if self.data is None:
            return ('<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
                    'xmlns:x="urn:schemas-microsoft-com:office:excel"><o:shapelayout v:ext="edit">'
                    f'<o:idmap v:ext="edit" data="{self.idmap}"/></o:shapelayout>{_SHAPETYPE}{shapes}</xml>').encode()
        data = self.data
        if b'id="_x0000_t202"' not in data:
            shapes = _SHAPETYPE + shapes
        for prefix in (b'xmlns:v="urn:schemas-microsoft-com:vml"', b'xmlns:o="urn:schemas-microsoft-com:office:office"',
                       b'xmlns:x="urn:schemas-microsoft-com:office:excel"'):
            if prefix not in data:
                raise Unsupported("VML without the usual namespaces")
        close = data.rfind(b"</xml>")
        if close < 0:
            raise Unsupported("VML without </xml>")
        return data[:close] + shapes.encode() + data[close:]
