"""Before openpyxl sees a file: is it an .xlsx at all, is it safe to open, what do formulas hold.

- The file type is told by its bytes, not its name: an .xlsx/.xlsm, an .xls/.et (OLE with a
  Workbook stream) and an .ods are read; an encrypted workbook (OLE with an EncryptedPackage
  stream, an .xls with a FILEPASS record, an .ods whose manifest has encryption data), a Word
  document, a CSV or random bytes each get one clear finding instead of a traceback.
- A zip whose members declare an absurd uncompressed size or ratio (a zip bomb) is refused
  before anything is inflated; zipfile never inflates past a member's declared size, so the
  declared sizes bound the memory used.
- XML with a DOCTYPE (entity expansion, "billion laughs") is refused; defusedxml, installed
  as a dependency, makes openpyxl refuse it as well.
- openpyxl gives either formulas or cached values, not both; `cached_formula_values` reads
  the cached results of formula cells of one sheet straight from its XML, so one load serves.
"""

from __future__ import annotations

import posixpath
import zipfile
from pathlib import Path
from typing import Any

from defusedxml import ElementTree as SafeET

from perfeval_xlsx.errors import FileProblem

MAX_TOTAL_UNCOMPRESSED = 300 * 1024 * 1024  # 300 MB: a real 自评表 is well under 1 MB
MAX_MEMBER_UNCOMPRESSED = 150 * 1024 * 1024
MAX_RATIO = 200  # uncompressed / compressed, for members over 1 MB
MAX_MEMBERS = 5000
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
NS_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
MISSING = object()  # a formula cell with no cached value
#: the file names of forms: .xlsx/.xlsm (openpyxl), .xls and WPS .et (xlrd), .ods (its XML)
FORM_SUFFIXES: tuple[str, ...] = (".xlsx", ".xlsm", ".xls", ".et", ".ods")


def inspect_file(path: Path) -> str:
    """The real format of `path` — "xlsx" (also .xlsm), "xls" (also a WPS .et that is BIFF
    inside) or "ods" — told by its bytes; raise FileProblem unless it is one of them and safe to
    open."""
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        raise FileProblem("E-FILE-IO", f"无法打开文件：{exc.strerror or exc}。请确认文件存在、未被其他程序占用。") from None
    suffix = path.suffix.lower()
    if size == 0:
        raise FileProblem("E-FILE-CORRUPT", "文件是空的（0 字节）。请重新保存或重新提交这份表。")
    if head.startswith(OLE_MAGIC):
        return _inspect_ole(path, size)
    if not head.startswith(b"PK"):
        if suffix in (".xls", ".et") and _looks_like_markup(path):
            raise FileProblem("E-FILE-FORMAT", "这份“.xls”实际是网页（HTML）或 XML 表格（常见于业务系统导出），不是 Excel 工作簿。"
                                               "请在 Excel/WPS 中打开，另存为 .xlsx（Excel 工作簿）后再提交。")
        if suffix == ".csv" or _looks_like_text(path):
            raise FileProblem("E-FILE-FORMAT", "这是文本/CSV 文件，不是 Excel 工作簿。请使用自评表模板填写，保存为 .xlsx 后再提交。")
        raise FileProblem("E-FILE-FORMAT", "文件内容不是 Excel 工作簿（可能扩展名被改过或文件已损坏）。请在 Excel/WPS 中打开原表，另存为 .xlsx 后再提交。")
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            names = {i.filename for i in infos}
            _check_zip_sizes(infos)
            if "mimetype" in names and "content.xml" in names:
                _check_ods(zf, names)
                for info in infos:
                    if info.filename.endswith((".xml", ".rdf")):
                        _check_no_doctype(zf, info)
                return "ods"
            if "xl/workbook.xml" not in names:
                if "word/document.xml" in names:
                    raise FileProblem("E-FILE-FORMAT", "这是 Word 文档，不是 Excel 工作簿。请使用自评表模板（.xlsx）填写。")
                raise FileProblem("E-FILE-FORMAT", "压缩包中没有 Excel 工作簿的内容。请在 Excel/WPS 中打开原表，另存为 .xlsx 后再提交。")
            for info in infos:
                if info.filename.endswith((".xml", ".rels", ".vml")):
                    _check_no_doctype(zf, info)
    except zipfile.BadZipFile:
        raise FileProblem("E-FILE-CORRUPT", "文件不完整或已损坏（可能未传输完整）。请在 Excel/WPS 中重新保存后再提交。") from None
    except (OSError, EOFError, zipfile.LargeZipFile, NotImplementedError, RuntimeError) as exc:
        raise FileProblem("E-FILE-CORRUPT", f"文件无法解压（{type(exc).__name__}），可能已损坏。请在 Excel/WPS 中重新保存后再提交。") from None
    return "xlsx"


ODS_MIMETYPES = ("application/vnd.oasis.opendocument.spreadsheet", "application/vnd.oasis.opendocument.spreadsheet-template")


def _check_ods(zf: zipfile.ZipFile, names: set[str]) -> None:
    """An OpenDocument package: a spreadsheet, not password-protected."""
    mimetype = zf.read("mimetype")[:200].decode("ascii", "replace").strip()
    if mimetype not in ODS_MIMETYPES:
        kind = "文字文档" if "text" in mimetype else "演示文稿" if "presentation" in mimetype else "文档"
        raise FileProblem("E-FILE-FORMAT", f"这是 OpenDocument {kind}，不是表格。请使用自评表模板填写，保存为 .xlsx 后再提交。")
    if "META-INF/manifest.xml" in names:
        with zf.open("META-INF/manifest.xml") as fh:
            manifest = fh.read(MAX_MANIFEST)
        if b"encryption-data" in manifest:
            raise FileProblem("E-FILE-ENCRYPTED", "表格设置了打开密码，无法读取。请在 LibreOffice/WPS 中取消密码（文件 → 属性 → "
                                                  "安全 → 去掉密码）后保存，再提交。")


MAX_MANIFEST = 1024 * 1024


def _inspect_ole(path: Path, size: int) -> str:
    """An OLE2 compound file: an .xls/.et workbook ("xls"), an encrypted OOXML workbook, a
    Word document, or damaged."""
    from perfeval_xlsx.reading.xls import MAX_XLS_BYTES

    if size > MAX_XLS_BYTES:
        raise FileProblem("E-FILE-UNSAFE", f"文件大小为 {size // (1024 * 1024)} MB，远超正常的自评表，已拒绝读取。"
                                           "请删除多余内容（如图片）后另存为 .xlsx 再提交。")
    try:
        import io

        from xlrd import compdoc

        doc = compdoc.CompDoc(path.read_bytes(), logfile=io.StringIO())
        names = {d.name for d in doc.dirlist}
    except OSError as exc:
        raise FileProblem("E-FILE-IO", f"无法打开文件：{exc.strerror or exc}。请确认文件存在、未被其他程序占用。") from None
    except Exception:  # noqa: BLE001 - a damaged compound file raises many kinds
        raise FileProblem("E-FILE-CORRUPT", "文件不完整或已损坏（Office 复合文档结构无法解析）。请在 Excel/WPS 中重新保存后再提交。") from None
    if "EncryptedPackage" in names:
        raise FileProblem("E-FILE-ENCRYPTED", "工作簿设置了打开密码，无法读取。请在 Excel/WPS 中取消密码（文件 → 信息 → 保护工作簿 → 用密码进行加密，清空密码）后另存为 .xlsx 再提交。")
    if "Workbook" in names or "Book" in names:
        return "xls"
    if "WordDocument" in names:
        raise FileProblem("E-FILE-FORMAT", "这是 Word 文档（.doc），不是 Excel 工作簿。请使用自评表模板填写，保存为 .xlsx 后再提交。")
    raise FileProblem("E-FILE-FORMAT", "文件是 Office 复合文档，但其中没有 Excel 工作簿（可能是 WPS 的其他文档或已损坏）。"
                                       "请在 Excel/WPS 中打开原表，另存为 .xlsx（Excel 工作簿）后再提交。")


def _looks_like_markup(path: Path) -> bool:
    """An HTML table or an XML Spreadsheet 2003 saved under an .xls name."""
    with path.open("rb") as fh:
        sample = fh.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return sample.startswith((b"<html", b"<!doctype html", b"<table", b"<?xml", b"<meta")) or b"<html" in sample[:1024]


def _looks_like_text(path: Path) -> bool:
    with path.open("rb") as fh:
        sample = fh.read(4096)
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError:
        try:
            sample.decode("gbk")
        except UnicodeDecodeError:
            return False
    return b"\x00" not in sample


def _check_zip_sizes(infos: list[zipfile.ZipInfo]) -> None:
    if len(infos) > MAX_MEMBERS:
        raise FileProblem("E-FILE-UNSAFE", f"压缩包内有 {len(infos)} 个文件，远超正常工作簿，已拒绝读取。请提交正常保存的 .xlsx 文件。")
    total = 0
    for info in infos:
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > MAX_MEMBER_UNCOMPRESSED or (info.file_size > 1024 * 1024 and ratio > MAX_RATIO):
            raise FileProblem("E-FILE-UNSAFE", f"文件内部的“{info.filename}”解压后达 {info.file_size // (1024 * 1024)} MB（压缩比 {ratio:.0f}:1），疑似压缩炸弹，已拒绝读取。请提交正常保存的 .xlsx 文件。")
    if total > MAX_TOTAL_UNCOMPRESSED:
        raise FileProblem("E-FILE-UNSAFE", f"文件解压后共 {total // (1024 * 1024)} MB，远超正常工作簿，已拒绝读取。请提交正常保存的 .xlsx 文件。")


def _check_no_doctype(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    with zf.open(info) as fh:
        head = fh.read(4096)
    if b"<!DOCTYPE" in head.upper() or b"<!ENTITY" in head.upper():
        raise FileProblem("E-FILE-UNSAFE", f"文件内部的“{info.filename}”含有 XML 实体声明（可被用来耗尽内存），已拒绝读取。请在 Excel/WPS 中另存为新的 .xlsx 后再提交。")


def _sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet title → its XML part inside the zip."""
    wb = SafeET.fromstring(zf.read("xl/workbook.xml"))
    rels = SafeET.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target") for r in rels.iter(f"{NS_PKG_REL}Relationship")}
    parts = {}
    for sheet in wb.iter(f"{NS_MAIN}sheet"):
        target = targets.get(sheet.get(f"{NS_REL}id"), "")
        if target.startswith("/"):
            parts[sheet.get("name")] = target.lstrip("/")
        else:
            parts[sheet.get("name")] = posixpath.normpath(posixpath.join("xl", target))
    return parts


def cached_formula_values(path: Path, sheet_title: str) -> dict[str, Any]:
    """A1 address → cached value of each formula cell of the sheet (MISSING when none)."""
    out: dict[str, Any] = {}
    with zipfile.ZipFile(path) as zf:
        part = _sheet_parts(zf).get(sheet_title)
        if part is None or part not in zf.namelist():
            return out
        with zf.open(part) as fh:
            for _event, elem in SafeET.iterparse(fh, events=("end",)):
                if elem.tag != f"{NS_MAIN}c":
                    continue
                if elem.find(f"{NS_MAIN}f") is not None:
                    v = elem.find(f"{NS_MAIN}v")
                    kind = elem.get("t", "n")
                    if v is None or v.text is None:
                        out[elem.get("r")] = "" if kind == "str" and v is not None else MISSING
                    elif kind in ("str", "inlineStr"):
                        out[elem.get("r")] = v.text
                    elif kind == "b":
                        out[elem.get("r")] = v.text == "1"
                    elif kind == "e":
                        out[elem.get("r")] = v.text  # "#VALUE!" etc.
                    else:
                        try:
                            number = float(v.text)
                            out[elem.get("r")] = int(number) if number.is_integer() and "." not in v.text and "E" not in v.text.upper() else number
                        except ValueError:
                            out[elem.get("r")] = v.text
                elem.clear()
    return out


class XmlDeclarationRefused(Exception):
    """A DOCTYPE or ENTITY declaration met while parsing a part (entity expansion is refused)."""


#: namespace separator of the expat parsers: element names arrive as ``namespace|local``
XML_SEP = "|"


def parse_xml(data: bytes, start, end=None, chars=None, parser_ref: list | None = None) -> None:
    """Stream `data` through expat (the standard library's C parser) with the given handlers,
    refusing any DOCTYPE or ENTITY declaration wherever it stands and in any encoding.
    `parser_ref`: a list the parser is put into, for handlers that want its byte positions."""
    from xml.parsers import expat

    parser = expat.ParserCreate(namespace_separator=XML_SEP)
    if parser_ref is not None:
        parser_ref.append(parser)
    parser.buffer_text = True

    def refused(*_args) -> None:
        raise XmlDeclarationRefused()

    parser.StartDoctypeDeclHandler = refused
    parser.EntityDeclHandler = refused
    parser.StartElementHandler = start
    if end is not None:
        parser.EndElementHandler = end
    if chars is not None:
        parser.CharacterDataHandler = chars
    parser.Parse(data, True)


def check_well_formed(data: bytes) -> None:
    """Raise (expat.ExpatError, XmlDeclarationRefused) unless `data` is well-formed XML without a
    DOCTYPE; no element handlers, so it runs at the C parser's speed."""
    from xml.parsers import expat

    parser = expat.ParserCreate()

    def refused(*_args) -> None:
        raise XmlDeclarationRefused()

    parser.StartDoctypeDeclHandler = refused
    parser.EntityDeclHandler = refused
    parser.Parse(data, True)
