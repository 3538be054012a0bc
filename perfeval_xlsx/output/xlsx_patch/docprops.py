"""docProps: our mark in custom.xml (the unit's own custom properties kept) and the sheet names
listed in app.xml kept in step with the workbook. core.xml is never touched."""

from __future__ import annotations

import re

from perfeval_xlsx.output.xlsx_patch.parts import Unsupported, attr, insert_before_close, text, xml_unescape

CUSTOM_NS = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
VT_NS = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
FMTID = "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}"
_PROPERTY = re.compile(rb"<(?:\w+:)?property\b[^>]*>.*?</(?:\w+:)?property>", re.S)


def custom_xml(data: bytes | None, props: list[tuple[str, str]], ours: str) -> bytes:
    """custom.xml with every property whose name starts with `ours` replaced by `props`."""
    if data is None:
        data = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Properties xmlns="{CUSTOM_NS}" '
                f'xmlns:vt="{VT_NS}"></Properties>').encode()
    root = re.search(rb"<(?![?!])(\w+:)?Properties\b[^>]*>", data)
    if root is None:
        raise Unsupported("no custom Properties element")
    p = (root.group(1) or b"").decode()
    vt = re.search(rb'xmlns:(\w+)="' + re.escape(VT_NS.encode()) + rb'"', root.group(0))
    declare = "" if vt else f' xmlns:vt="{VT_NS}"'
    v = vt.group(1).decode() if vt else "vt"

    def keep(m: re.Match) -> bytes:
        name = re.search(rb'\bname="([^"]*)"', m.group(0))
        if name and xml_unescape(name.group(1).decode("utf-8")).startswith(ours):
            return b""
        return m.group(0)

    data = _PROPERTY.sub(keep, data)
    pids = [int(x) for x in re.findall(rb'\bpid="(\d+)"', data)]
    pid = max([1, *pids]) + 1
    added = []
    for name, value in props:
        added.append(f'<{p}property fmtid="{FMTID}" pid="{pid}" name={attr(name)}{declare}>'
                     f"<{v}:lpwstr>{text(value)}</{v}:lpwstr></{p}property>")
        pid += 1
    return insert_before_close(data, f"</{p}Properties>".encode(), "".join(added).encode())


def app_xml(data: bytes, front: list[str], back: list[str]) -> bytes | None:
    """app.xml listing our sheets too; None where it lists none (LibreOffice's) or its lists do
    not read as Excel writes them (then it is left as it was)."""
    titles = re.search(rb"<(?:\w+:)?TitlesOfParts>\s*<(\w+:)vector\b([^>]*)>(.*?)</\1vector>", data, re.S)
    pairs = re.search(rb"<(?:\w+:)?HeadingPairs>\s*<(\w+:)vector\b[^>]*>(.*?)</\1vector>", data, re.S)
    if titles is None or pairs is None or pairs.start() > titles.start():
        return None
    v = titles.group(1)
    first = re.search(rb"<" + v + rb"variant>\s*<" + v + rb"lpstr>([^<]*)</" + v + rb"lpstr>\s*</" + v + rb"variant>\s*<"
                      + v + rb"variant>\s*<" + v + rb"i4>(\d+)</" + v + rb"i4>", pairs.group(2))
    if first is None or first.group(1) not in ("工作表".encode(), b"Worksheets"):
        return None
    sheets = int(first.group(2))
    items = re.findall(rb"<" + v + rb"lpstr>.*?</" + v + rb"lpstr>", titles.group(3), re.S)
    if len(items) < sheets:
        return None
    vs = v.decode()

    def lp(name: str) -> bytes:
        return f"<{vs}lpstr>{text(name)}</{vs}lpstr>".encode()

    items = [lp(n) for n in front] + items[:sheets] + [lp(n) for n in back] + items[sheets:]
    size = re.sub(rb'\bsize="\d+"', f'size="{len(items)}"'.encode(), titles.group(2))
    new_titles = (data[titles.start():titles.start(2)] + size + b">" + b"".join(items)
                  + f"</{vs}vector>".encode())
    count_at = pairs.start(2) + first.start(2)
    out = (data[:count_at] + str(sheets + len(front) + len(back)).encode() + data[count_at + len(first.group(2)):titles.start()]
           + new_titles + data[titles.end():])
    return out
