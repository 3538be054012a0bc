"""xl/styles.xml: what a cell style shows, and new styles appended without duplicates.

A style the tool needs (a unit's cell with our fill, a score with two decimals, a cell of our
own sheets) is derived from an existing cell format (`xf`): only the parts the `Look` gives are
replaced, as in Excel's format dialog. New fonts, fills, borders, number formats and cell
formats are appended at the end of their lists; nothing already there moves or changes, so
every `s=` index in the unit's sheets keeps its meaning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from openpyxl.styles.numbers import BUILTIN_FORMATS, BUILTIN_FORMATS_REVERSE

from perfeval_xlsx.output.looks import BORDER_COLOR, FontLook, Look
from perfeval_xlsx.output.xlsx_patch.parts import Unsupported, attr, tag_end
from perfeval_xlsx.reading.safety import XML_SEP, parse_xml

_CONTAINERS = ("numFmts", "fonts", "fills", "borders", "cellXfs")
_ALIGN_KEYS = ("horizontal", "vertical", "wrapText", "shrinkToFit", "textRotation", "indent")


@dataclass
class _Xf:
    attrs: dict[str, str]
    alignment: dict[str, str] | None = None
    protection: dict[str, str] | None = None

    def xml(self) -> str:
        head = "".join(f" {k}={attr(v)}" for k, v in self.attrs.items())
        inner = ""
        if self.alignment:
            inner += "<alignment" + "".join(f" {k}={attr(v)}" for k, v in self.alignment.items()) + "/>"
        if self.protection:
            inner += "<protection" + "".join(f" {k}={attr(v)}" for k, v in self.protection.items()) + "/>"
        return f"<xf{head}>{inner}</xf>" if inner else f"<xf{head}/>"


@dataclass
class _Container:
    start: int = -1  # of its start tag
    tag_end: int = -1
    close: int = -1  # of its end tag
    count: int = 0
    empty: bool = False  # written <fonts/>
    added: list[str] = field(default_factory=list)


def _true(value: str | None) -> bool:
    return value in ("1", "true")


class StyleBook:
    def __init__(self, data: bytes) -> None:
        if not data.lstrip()[:1] == b"<":
            raise Unsupported("styles.xml is not UTF-8")
        self.data = data
        self.prefix = ""
        self.containers = {name: _Container() for name in _CONTAINERS}
        self.formats: dict[int, str] = {}  # custom number formats
        self.font_sizes: list[float] = []
        self.xfs: list[_Xf] = []
        self._keys: dict[str, int] = {}  # our additions: xml → index, per container
        self._derived: dict[tuple[int, Look], int] = {}
        self._text_looks: dict[int, tuple[bool, bool, bool, float]] = {}
        stack: list[str] = []
        state = {"font": -1}
        self._parse(stack, state)
        for name in ("fonts", "fills", "borders", "cellXfs"):
            if self.containers[name].close < 0:
                raise Unsupported(f"styles.xml has no {name}")

    def _parse(self, stack, state) -> None:
        parser: list = []

        def start(tag, attrs):
            local = tag.rpartition(XML_SEP)[2]
            depth = len(stack)
            stack.append(local)
            pos = parser[0].CurrentByteIndex
            if depth == 0:
                m = re.match(rb"<(\w+):", self.data[pos:pos + 40])
                self.prefix = m.group(1).decode() + ":" if m else ""
            if depth == 1 and local in self.containers:
                c = self.containers[local]
                c.start, c.tag_end = pos, tag_end(self.data, pos)
                if self.data[c.tag_end - 2:c.tag_end] == b"/>":
                    c.empty, c.close = True, c.tag_end
            parent = stack[-2] if depth >= 1 else ""
            if parent == "numFmts" and local == "numFmt":
                try:
                    self.formats[int(attrs.get("numFmtId", ""))] = attrs.get("formatCode", "General")
                except ValueError:
                    pass
            elif parent == "fonts" and local == "font":
                self.font_sizes.append(11.0)
                state["font"] = len(self.font_sizes) - 1
            elif parent == "font" and local == "sz" and len(stack) == 4 and stack[1] == "fonts":
                try:
                    self.font_sizes[state["font"]] = float(attrs.get("val", "11"))
                except ValueError:
                    pass
            elif parent == "cellXfs" and local == "xf":
                self.xfs.append(_Xf(dict(attrs)))
            elif parent == "xf" and len(stack) == 4 and stack[1] == "cellXfs":
                if local == "alignment":
                    self.xfs[-1].alignment = dict(attrs)
                elif local == "protection":
                    self.xfs[-1].protection = dict(attrs)
                else:
                    raise Unsupported("xf with extLst")
            if depth == 2 and stack[1] in self.containers:
                self.containers[stack[1]].count += 1

        def end(tag):
            local = stack.pop()
            if len(stack) == 1 and local in self.containers:
                self.containers[local].close = parser[0].CurrentByteIndex

        parse_xml(self.data, start, end, parser_ref=parser)

    # ---------------------------------------------------------------- reading
    def text_look(self, s: int) -> tuple[bool, bool, bool, float]:
        known = self._text_looks.get(s)
        if known is None:
            known = self._text_looks[s] = self._text_look(s)
        return known

    def _text_look(self, s: int) -> tuple[bool, bool, bool, float]:
        xf = self.xfs[s] if 0 <= s < len(self.xfs) else (self.xfs[0] if self.xfs else _Xf({}))
        a = xf.alignment or {}
        try:
            font = int(xf.attrs.get("fontId", "0"))
        except ValueError:
            font = 0
        size = self.font_sizes[font] if 0 <= font < len(self.font_sizes) else 11.0
        rotation = a.get("textRotation", "0") not in ("0", "")
        return _true(a.get("wrapText")), _true(a.get("shrinkToFit")), rotation, size

    def number_format(self, s: int) -> str:
        xf = self.xfs[s] if 0 <= s < len(self.xfs) else None
        if xf is None:
            return "General"
        try:
            fid = int(xf.attrs.get("numFmtId", "0"))
        except ValueError:
            return "General"
        return self.formats.get(fid) or BUILTIN_FORMATS.get(fid, "General")

    # ---------------------------------------------------------------- adding
    def _add(self, container: str, xml: str) -> int:
        key = container + "\x00" + xml
        index = self._keys.get(key)
        if index is None:
            c = self.containers[container]
            index = c.count + len(c.added)
            c.added.append(xml)
            self._keys[key] = index
        return index

    def font(self, f: FontLook) -> int:
        color = f'<color rgb="FF{f.color}"/>' if f.color else ""
        size = int(f.size) if float(f.size).is_integer() else f.size
        index = self._add("fonts", f'<font>{"<b/>" if f.bold else ""}<sz val="{size}"/>{color}'
                                   f'<name val={attr(f.name)}/><charset val="134"/></font>')
        while len(self.font_sizes) <= index:  # (what text_look reads of it)
            self.font_sizes.append(float(f.size))
        return index

    def fill(self, rgb: str) -> int:
        return self._add("fills", f'<fill><patternFill patternType="solid"><fgColor rgb="FF{rgb}"/>'
                                  f'<bgColor indexed="64"/></patternFill></fill>')

    def box(self) -> int:
        side = "".join(f'<{s} style="thin"><color rgb="FF{BORDER_COLOR}"/></{s}>' for s in ("left", "right", "top", "bottom"))
        return self._add("borders", f"<border>{side}<diagonal/></border>")

    def number_format_id(self, code: str) -> int:
        builtin = BUILTIN_FORMATS_REVERSE.get(code)
        if builtin is not None:
            return builtin
        for fid, existing in self.formats.items():
            if existing == code:
                return fid
        fid = max([163, *self.formats]) + 1
        self.formats[fid] = code
        self.containers["numFmts"].added.append(f'<numFmt numFmtId="{fid}" formatCode={attr(code)}/>')
        return fid

    def derive(self, s: int, look: Look) -> int:
        """The index of a cell format: cell format `s` with `look`'s parts in place of its own."""
        key = (s, look)
        index = self._derived.get(key)
        if index is not None:
            return index
        base = self.xfs[s] if 0 <= s < len(self.xfs) else (self.xfs[0] if self.xfs else _Xf({}))
        xf = _Xf(dict(base.attrs), dict(base.alignment) if base.alignment else None,
                 dict(base.protection) if base.protection else None)
        xf.attrs.setdefault("numFmtId", "0")
        xf.attrs.setdefault("fontId", "0")
        xf.attrs.setdefault("fillId", "0")
        xf.attrs.setdefault("borderId", "0")
        xf.attrs.setdefault("xfId", "0")
        if look.font is not None:
            xf.attrs["fontId"], xf.attrs["applyFont"] = str(self.font(look.font)), "1"
        if look.fill is not None:
            xf.attrs["fillId"], xf.attrs["applyFill"] = str(self.fill(look.fill)), "1"
        if look.border:
            xf.attrs["borderId"], xf.attrs["applyBorder"] = str(self.box()), "1"
        if look.number_format:
            xf.attrs["numFmtId"], xf.attrs["applyNumberFormat"] = str(self.number_format_id(look.number_format)), "1"
        if look.align is not None:
            a = look.align
            alignment = {k: v for k, v in (("horizontal", a.horizontal), ("vertical", a.vertical),
                                           ("wrapText", "1" if a.wrap else None),
                                           ("shrinkToFit", "1" if a.shrink else None)) if v}
            xf.alignment = alignment or None
            xf.attrs["applyAlignment"] = "1"
        index = self._add("cellXfs", xf.xml())
        if index >= len(self.xfs):
            self.xfs.append(xf)
        self._derived[key] = index
        return index

    # ---------------------------------------------------------------- writing
    @property
    def changed(self) -> bool:
        return any(c.added for c in self.containers.values())

    def xml(self) -> bytes:
        data = self.data
        edits: list[tuple[int, int, bytes]] = []  # (start, end, replacement)
        p = self.prefix
        for name in _CONTAINERS:
            c = self.containers[name]
            if not c.added:
                continue
            body = "".join(c.added)
            if p:
                body = re.sub(r"<(/?)(?=[a-zA-Z])", lambda m: f"<{m.group(1)}{p}", body)
            if c.start < 0:  # no numFmts yet: it goes first in the style sheet
                root_end = tag_end(data, re.search(rb"<(?![?!])", data).start())
                edits.append((root_end, root_end, f'<{p}numFmts count="{len(c.added)}">{body}</{p}numFmts>'.encode()))
                continue
            total = c.count + len(c.added)
            if c.empty:
                edits.append((c.start, c.tag_end, f'<{p}{name} count="{total}">{body}</{p}{name}>'.encode()))
                continue
            open_tag = data[c.start:c.tag_end]
            new_tag, n = re.subn(rb'\bcount="[^"]*"', f'count="{total}"'.encode(), open_tag)
            if not n:
                new_tag = open_tag[:-1] + f' count="{total}">'.encode()
            edits.append((c.start, c.tag_end, new_tag))
            edits.append((c.close, c.close, body.encode()))
        for start, end, replacement in sorted(edits, key=lambda e: e[0], reverse=True):
            data = data[:start] + replacement + data[end:]
        return data
