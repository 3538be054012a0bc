"""The package's bookkeeping parts: [Content_Types].xml and the .rels files, edited as text.

Every edit inserts or removes whole elements and leaves the rest of the part's bytes as they
were, so that namespace prefixes, `mc:Ignorable` lists and the unit's own entries survive.
"""

from __future__ import annotations

import posixpath
import re
from xml.sax.saxutils import escape, quoteattr

from perfeval_xlsx.reading.safety import XML_SEP, parse_xml

REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
REL = REL_NS + "/"
T_WORKSHEET = REL + "worksheet"
T_SHARED_STRINGS = REL + "sharedStrings"
T_STYLES = REL + "styles"
T_COMMENTS = REL + "comments"
T_VML = REL + "vmlDrawing"
T_CALC_CHAIN = REL + "calcChain"
T_CUSTOM_PROPS = REL + "custom-properties"
CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CT_SHARED_STRINGS = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
CT_COMMENTS = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
CT_VML = "application/vnd.openxmlformats-officedocument.vmlDrawing"
CT_CUSTOM_PROPS = "application/vnd.openxmlformats-officedocument.custom-properties+xml"

_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class Unsupported(Exception):
    """Something the patching writer does not follow: the openpyxl writer is used instead."""


def text(value: str) -> str:
    """Character data for XML (characters XML cannot hold dropped)."""
    return escape(_ILLEGAL.sub("", value))


def attr(value: str) -> str:
    """A quoted attribute value."""
    return quoteattr(_ILLEGAL.sub("", value), {"\n": "&#10;", "\r": "&#13;", "\t": "&#9;"})


def insert_before_close(data: bytes, close_tag: bytes, addition: bytes) -> bytes:
    """`addition` inserted before the last `close_tag` (e.g. b"</Types>")."""
    at = data.rfind(close_tag)
    if at < 0:
        raise Unsupported(f"no {close_tag!r}")
    return data[:at] + addition + data[at:]


def rel_prefix(head: bytes) -> str:
    """The prefix (``r:``) a root start tag binds to the relationships namespace, or ""."""
    m = re.search(rb'xmlns:(\w+)="' + REL_NS.encode() + rb'"', head)
    return m.group(1).decode() + ":" if m else ""


def rels_path(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def relative(from_part: str, to_part: str) -> str:
    return posixpath.relpath(to_part, posixpath.dirname(from_part) or ".")


class Rels:
    """A part's relationships: read, added to, removed from."""

    def __init__(self, part: str, data: bytes | None) -> None:
        self.part = part
        self.data = data if data is not None else (
            b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"></Relationships>')
        self.new = data is None
        self.changed = False
        self.items: dict[str, tuple[str, str, str]] = {}  # id → (type, target as written, TargetMode)
        folder = posixpath.dirname(part)

        def start(tag, attrs):
            if tag.rpartition(XML_SEP)[2] == "Relationship":
                self.items[attrs.get("Id", "")] = (attrs.get("Type", ""), attrs.get("Target", ""), attrs.get("TargetMode", ""))

        parse_xml(self.data, start)
        self.folder = folder

    def resolve(self, target: str) -> str:
        return target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(self.folder, target))

    def of_type(self, kind: str) -> list[tuple[str, str]]:
        """(id, part path) of the internal relationships of `kind`."""
        return [(rid, self.resolve(t)) for rid, (k, t, mode) in self.items.items() if k == kind and mode != "External"]

    def target(self, rid: str) -> str | None:
        item = self.items.get(rid)
        return None if item is None or item[2] == "External" else self.resolve(item[1])

    def add(self, kind: str, to_part: str) -> str:
        n = len(self.items) + 1
        while f"rId{n}" in self.items:
            n += 1
        rid = f"rId{n}"
        target = relative(self.part if self.part else "x", to_part) if self.part else to_part
        self.items[rid] = (kind, target, "")
        element = f'<Relationship Id="{rid}" Type={attr(kind)} Target={attr(target)}/>'.encode()
        self.data = insert_before_close(self.data, b"</Relationships>", element)
        self.changed = True
        return rid

    def remove(self, rid: str) -> None:
        pattern = re.compile(rb'<(?:\w+:)?Relationship\b[^>]*?\bId="' + re.escape(rid.encode()) + rb'"[^>]*?/>')
        self.data, n = pattern.subn(b"", self.data)
        if n != 1:
            raise Unsupported(f"relationship {rid}")
        self.items.pop(rid, None)
        self.changed = True


class ContentTypes:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.changed = False
        self.defaults: dict[str, str] = {}
        self.overrides: dict[str, str] = {}

        def start(tag, attrs):
            local = tag.rpartition(XML_SEP)[2]
            if local == "Default":
                self.defaults[attrs.get("Extension", "").lower()] = attrs.get("ContentType", "")
            elif local == "Override":
                self.overrides[attrs.get("PartName", "")] = attrs.get("ContentType", "")

        parse_xml(data, start)

    def override(self, part: str, content_type: str) -> None:
        name = "/" + part
        if self.overrides.get(name) == content_type:
            return
        if name in self.overrides:
            raise Unsupported(f"content type of {part}")
        self.overrides[name] = content_type
        self.data = insert_before_close(self.data, b"</Types>",
                                        f"<Override PartName={attr(name)} ContentType={attr(content_type)}/>".encode())
        self.changed = True

    def default(self, extension: str, content_type: str) -> None:
        if extension in self.defaults:
            return
        self.defaults[extension] = content_type
        self.data = insert_before_close(self.data, b"</Types>",
                                        f"<Default Extension={attr(extension)} ContentType={attr(content_type)}/>".encode())
        self.changed = True

    def drop(self, part: str) -> None:
        name = "/" + part
        if name not in self.overrides:
            return
        pattern = re.compile(rb'<(?:\w+:)?Override\b[^>]*?PartName="' + re.escape(name.encode()) + rb'"[^>]*?/>')
        self.data = pattern.sub(b"", self.data)
        del self.overrides[name]
        self.changed = True

    def has_part(self, part: str) -> bool:
        name = "/" + part
        return name in self.overrides or posixpath.splitext(part)[1].lstrip(".").lower() in self.defaults


_TAG = re.compile(rb"""<[^>"']*(?:(?:"[^"]*"|'[^']*')[^>"']*)*>""")


def tag_end(data: bytes, start: int) -> int:
    """The index just past the start tag beginning at `start` (quotes respected)."""
    m = _TAG.match(data, start)
    if m is None:
        raise Unsupported("unterminated tag")
    return m.end()


_REFERENCE = re.compile(r"&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}


def xml_unescape(value: str) -> str:
    """Character data or an attribute value as XML reads it (character references included)."""
    def one(m: re.Match) -> str:
        ref = m.group(1)
        if ref[0] != "#":
            return _NAMED[ref]
        try:
            return chr(int(ref[2:], 16) if ref[1] in "xX" else int(ref[1:]))
        except (ValueError, OverflowError):
            return m.group(0)

    return _REFERENCE.sub(one, value) if "&" in value else value
