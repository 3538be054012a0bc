"""Copy a zip member by member: unchanged members as their compressed bytes, untouched.

`zipfile` can only write what it compresses itself. For a member we do not change, the local
header and the compressed data (and its data descriptor) are copied as they are from the
original, and the central directory entry is written by `zipfile` from the original's
`ZipInfo` with its new offset. Changed and new members are deflated as usual.
"""

from __future__ import annotations

import io
import struct
import zipfile
from typing import BinaryIO

from perfeval_xlsx.output.xlsx_patch.parts import Unsupported  # (here: that member is recompressed)

_LOCAL_HEADER = struct.Struct("<4s5H3L2H")  # signature … file name length, extra length
_DESCRIPTOR_SIG = b"PK\x07\x08"
COMPRESS_LEVEL = 1  # the parts we write: a third of level 6's time, files about 10% larger


def _raw_member(data: bytes, info: zipfile.ZipInfo) -> bytes:
    """The local header, compressed data and data descriptor of `info`, as in `data`."""
    start = info.header_offset
    head = data[start:start + _LOCAL_HEADER.size]
    if len(head) < _LOCAL_HEADER.size:
        raise Unsupported("short local header")
    fields = _LOCAL_HEADER.unpack(head)
    if fields[0] != b"PK\x03\x04":
        raise Unsupported("no local header")
    name_len, extra_len = fields[9], fields[10]
    end = start + _LOCAL_HEADER.size + name_len + extra_len + info.compress_size
    if info.flag_bits & 0x08:  # sizes in a data descriptor after the data
        sig = data[end:end + 4] == _DESCRIPTOR_SIG
        zip64 = info.compress_size >= 0xFFFFFFFF or info.file_size >= 0xFFFFFFFF
        end += (4 if sig else 0) + (20 if zip64 else 12)
    if end > len(data):
        raise Unsupported("member runs past the end")
    return data[start:end]


def write_zip(out: BinaryIO, source: bytes, infos: list[zipfile.ZipInfo], changed: dict[str, bytes],
              added: list[tuple[str, bytes]]) -> None:
    """Write `infos` in order (each as it is, or `changed[name]` deflated; a name mapped to None
    is left out), then `added`, to `out`."""
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL) as zf:
        for info in infos:
            name = info.filename
            if name in changed:
                body = changed[name]
                if body is not None:
                    zf.writestr(_fresh(name, info), body, compresslevel=COMPRESS_LEVEL)
                continue
            try:
                raw = _raw_member(source, info)
            except Unsupported:
                with zipfile.ZipFile(io.BytesIO(source)) as original:
                    zf.writestr(_fresh(name, info), original.read(info), compresslevel=COMPRESS_LEVEL)
                continue
            copy = _copied_info(info, zf.fp.tell())
            zf.fp.write(raw)
            zf.filelist.append(copy)
            zf.NameToInfo[name] = copy
            zf.start_dir = zf.fp.tell()
        for name, body in added:
            zf.writestr(_fresh(name, None), body, compresslevel=COMPRESS_LEVEL)


def _fresh(name: str, like: zipfile.ZipInfo | None) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=like.date_time if like is not None else (1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = like.external_attr if like is not None else 0o600 << 16
    return info


def _copied_info(info: zipfile.ZipInfo, offset: int) -> zipfile.ZipInfo:
    copy = zipfile.ZipInfo(info.filename, info.date_time)
    for attr in ("compress_type", "comment", "extra", "create_system", "create_version", "extract_version",
                 "reserved", "flag_bits", "volume", "internal_attr", "external_attr", "CRC",
                 "compress_size", "file_size"):
        setattr(copy, attr, getattr(info, attr))
    copy.header_offset = offset
    strip = getattr(zipfile, "_strip_extra", None)  # a ZIP64 field the sizes do not need is not repeated
    if strip is not None and info.file_size < 0xFFFFFFFF and info.compress_size < 0xFFFFFFFF:
        copy.extra = strip(info.extra, (1,))
    if hasattr(info, "_raw_time"):
        copy._raw_time = info._raw_time  # noqa: SLF001
    return copy

