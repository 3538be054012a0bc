"""The mark perfeval-xlsx puts into every workbook it writes, and what it means when read back.

Every workbook the tool writes carries a custom document property ``perfeval-xlsx`` (File →
Properties → Custom in Excel and WPS, File → Properties in LibreOffice; all three keep it when
they save): a short JSON object whose ``kind`` is

- ``template`` — a blank form (`perfeval template`) or a filled one (the samples): a form;
- ``scored`` — a scored copy: the unit's form with our scores, marks and three sheets;
- ``rollup`` — a batch roll-up (汇总_….xlsx).

A scored copy also records the sheet it filled, a fingerprint of that sheet's values as written,
and, in properties ``perfeval-xlsx 原填内容 1``, ``… 2`` (Excel keeps at most 255 characters
per property), every cell it changed with the value the unit wrote. Reading a scored copy whose
sheet still matches its fingerprint therefore gives back the unit's own form; one edited since
(a unit corrected its returned copy) is read as it now is.

Workbooks written before the mark existed are recognised by their sheets: 评分汇总 + 评分明细
(a scored copy), 项目汇总 + 指标明细 + 图表 (a roll-up).

Nothing here imports the writers: the output stage calls `mark_properties`, the reading stage
`read_mark` (from the file, cheaply, without openpyxl) and `restore_original` (on a loaded
workbook).
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, BinaryIO

from defusedxml import ElementTree as SafeET

from perfeval_xlsx.vocab import ROLLUP_CHARTS, ROLLUP_DETAIL, ROLLUP_SUMMARY, SHEET_DETAIL, SHEET_SUMMARY

MARK_PROPERTY = "perfeval-xlsx"
SOURCE_PROPERTY = "perfeval-xlsx 原表"
ORIGINAL_PROPERTY = "perfeval-xlsx 原填内容 {}"
PROPERTY_LIMIT = 255  # characters Excel keeps of a custom property's text
_CHUNK = 240

TEMPLATE, SCORED, ROLLUP = "template", "scored", "rollup"
KINDS = (TEMPLATE, SCORED, ROLLUP)

#: sheets that tell a workbook written before the mark existed
LEGACY_SCORED_SHEETS = frozenset({SHEET_SUMMARY, SHEET_DETAIL})
LEGACY_ROLLUP_SHEETS = frozenset({ROLLUP_SUMMARY, ROLLUP_DETAIL, ROLLUP_CHARTS})

_NS_CUSTOM = "{http://schemas.openxmlformats.org/officeDocument/2006/custom-properties}"
_NS_VT = "{http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes}"
_NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_MAX_PART = 2 * 1024 * 1024  # a custom.xml or workbook.xml larger than this is not ours


@dataclass
class Mark:
    kind: str  # template | scored | rollup
    version: str = ""
    sheet: str = ""  # scored: the form sheet that was filled
    fingerprint: str = ""  # scored: of that sheet's values as written
    source: str = ""  # scored: the file name of the unit's form
    originals: dict[str, Any] = field(default_factory=dict)  # scored: A1 → the unit's value
    legacy: bool = False  # recognised by its sheets (written before the mark existed)

    @property
    def is_output(self) -> bool:
        """A scored copy or a roll-up: not a form a unit sent."""
        return self.kind in (SCORED, ROLLUP)


# --------------------------------------------------------------------------- writing


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"dt": value.isoformat()}
    if isinstance(value, date):
        return {"d": value.isoformat()}
    if isinstance(value, time):
        return {"t": value.isoformat()}
    if isinstance(value, (int, float, str)) or value is None:
        return value
    return str(value)


@dataclass(frozen=True)
class FormulaOriginal:
    """A formula the unit's form held, with the result it showed (None: it showed none)."""

    formula: str
    value: Any = None
    has_value: bool = False


def _from_json(value: Any) -> Any:
    if isinstance(value, dict) and "f" in value:
        return FormulaOriginal(str(value["f"]), _from_json(value.get("v")), "v" in value)
    if isinstance(value, dict):
        if "dt" in value:
            return datetime.fromisoformat(value["dt"])
        if "d" in value:
            return date.fromisoformat(value["d"])
        if "t" in value:
            return time.fromisoformat(value["t"])
    return value


_NO_RESULT = object()


def formula_original(formula: str, cached: Any = _NO_RESULT) -> dict[str, Any]:
    """How to record a formula cell of the unit's form (restored as that formula, its cached
    result given to the reader)."""
    out: dict[str, Any] = {"f": formula}
    if cached is not _NO_RESULT:
        out["v"] = _jsonable(cached)
    return out


def mark_properties(kind: str, version: str, *, sheet: str = "", fingerprint: str = "", source: str = "",
                    originals: dict[str, Any] | None = None) -> list[tuple[str, str]]:
    """The custom document properties (name, text) to write, each within Excel's 255 characters."""
    if kind not in KINDS:
        raise ValueError(kind)
    props: list[tuple[str, str]] = []
    chunks: list[str] = []
    if originals:
        text = json.dumps({k: (v if isinstance(v, dict) and "f" in v else _jsonable(v)) for k, v in sorted(originals.items())},
                          ensure_ascii=False, separators=(",", ":"))
        chunks = [text[i:i + _CHUNK] for i in range(0, len(text), _CHUNK)]
    head: dict[str, Any] = {"kind": kind, "version": version}
    if sheet:
        head.update({"sheet": sheet, "fp": fingerprint, "parts": len(chunks)})
    props.append((MARK_PROPERTY, json.dumps(head, ensure_ascii=False, separators=(",", ":"))))
    if source:
        props.append((SOURCE_PROPERTY, source[:PROPERTY_LIMIT]))
    props += [(ORIGINAL_PROPERTY.format(i), chunk) for i, chunk in enumerate(chunks, 1)]
    return props


def _normal(value: Any) -> str | None:
    """One spelling of a cell value, the same after a save and a reload by any of the suites."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return f"b:{int(value)}"
    if isinstance(value, (int, float)):
        try:
            return f"n:{float(value)!r}"
        except OverflowError:  # an integer no spreadsheet holds: spelled as it is
            return f"n:{value}"
    if isinstance(value, (datetime, date, time)):
        return f"d:{value.isoformat()}"
    return f"s:{value}"


def values_fingerprint(values) -> str:
    """A short hash of a sheet's values: (row, column, value) of the cells that exist."""
    keyed = [(r, c, f"s:{v}" if type(v) is str else _normal(v)) for r, c, v in values if v is not None and v != ""]
    keyed.sort()  # ((row, column) is unique: the texts are never compared)
    parts = [f"{r},{c}={text}\x00" for r, c, text in keyed if text is not None]
    return hashlib.sha256("".join(parts).encode()).hexdigest()[:20]


def sheet_fingerprint(ws) -> str:
    """The fingerprint of an openpyxl worksheet's values (formulas as their text)."""
    cells = ws._cells  # noqa: SLF001 - the cells that exist, without creating any
    return values_fingerprint((r, c, cell.value) for (r, c), cell in cells.items())


# --------------------------------------------------------------------------- reading


def _parse_head(text: str | None) -> dict[str, Any] | None:
    try:
        head = json.loads(text or "")
    except ValueError:
        return None
    return head if isinstance(head, dict) and head.get("kind") in KINDS else None


def _mark_from_props(props: dict[str, str], sheets: list[str]) -> Mark | None:
    head = _parse_head(props.get(MARK_PROPERTY))
    if head is None:
        names = set(sheets)
        if LEGACY_ROLLUP_SHEETS <= names:
            return Mark(ROLLUP, legacy=True)
        if LEGACY_SCORED_SHEETS <= names:
            return Mark(SCORED, legacy=True)
        return None
    mark = Mark(head["kind"], str(head.get("version", "")), str(head.get("sheet", "")), str(head.get("fp", "")),
                props.get(SOURCE_PROPERTY, ""))
    parts = head.get("parts", 0)
    if isinstance(parts, int) and parts > 0:
        text = "".join(props.get(ORIGINAL_PROPERTY.format(i), "") for i in range(1, parts + 1))
        try:
            originals = json.loads(text)
        except ValueError:
            originals = None  # cut short (a suite that keeps fewer characters): not restorable
        if isinstance(originals, dict):
            mark.originals = {str(k): _from_json(v) for k, v in originals.items()}
        else:
            mark.fingerprint = ""  # the unit's values cannot be restored: read the copy as it is
    return mark


def read_mark(path: str | Path | BinaryIO) -> Mark | None:
    """The mark of a workbook file (or its bytes, as a file object), read from its zip without
    openpyxl; None when it has none or is not a readable .xlsx (its problems are for the reader
    to report)."""
    try:
        with zipfile.ZipFile(path) as zf:
            props = _custom_properties(zf)
            sheets = _sheet_names(zf) if MARK_PROPERTY not in props else []
    except (OSError, zipfile.BadZipFile, EOFError, RuntimeError, NotImplementedError, ValueError, KeyError):
        return None
    except Exception:  # noqa: BLE001 - defusedxml refusing entities, malformed XML: not ours
        return None
    return _mark_from_props(props, sheets)


def _small_part(zf: zipfile.ZipFile, name: str) -> bytes | None:
    try:
        info = zf.getinfo(name)
    except KeyError:
        return None
    if info.file_size > _MAX_PART:
        return None
    return zf.read(info)


def _custom_properties(zf: zipfile.ZipFile) -> dict[str, str]:
    data = _small_part(zf, "docProps/custom.xml")
    if not data:
        return {}
    out = {}
    for prop in SafeET.fromstring(data).iter(f"{_NS_CUSTOM}property"):
        name = prop.get("name")
        value = next(iter(prop), None)
        if name and value is not None and value.tag in (f"{_NS_VT}lpwstr", f"{_NS_VT}lpstr", f"{_NS_VT}bstr"):
            out[name] = value.text or ""
    return out


def _sheet_names(zf: zipfile.ZipFile) -> list[str]:
    data = _small_part(zf, "xl/workbook.xml")
    if not data:
        return []
    return [s.get("name", "") for s in SafeET.fromstring(data).iter(f"{_NS_MAIN}sheet")]


def workbook_mark(wb) -> Mark | None:
    """The mark of a workbook loaded by openpyxl."""
    props = {}
    for prop in getattr(wb, "custom_doc_props", None) or ():
        value = getattr(prop, "value", None)
        if isinstance(value, str):
            props[prop.name] = value
    return _mark_from_props(props, wb.sheetnames)


def is_unedited(wb, mark: Mark) -> bool:
    """A scored copy whose form sheet still holds exactly what we wrote."""
    if mark.kind != SCORED or not mark.fingerprint or mark.sheet not in wb.sheetnames:
        return False
    return sheet_fingerprint(wb[mark.sheet]) == mark.fingerprint


def restore_original(wb, mark: Mark | None = None) -> dict[str, Any] | None:
    """If `wb` is an unedited scored copy, put the unit's own values back into its form sheet
    (the scores, rates, total and grade we wrote, its formulas; the 原填自评得分 column removed).
    Returns the cached results of the formulas put back (address → value), or None when the
    workbook is no unedited scored copy."""
    mark = mark or workbook_mark(wb)
    if mark is None or not is_unedited(wb, mark):
        return None
    ws = wb[mark.sheet]
    cached: dict[str, Any] = {}
    for address, value in mark.originals.items():
        try:
            cell = ws[address]
            if isinstance(value, FormulaOriginal):
                cell.value = value.formula
                if value.has_value:
                    cached[address] = value.value
            else:
                cell.value = value
        except (ValueError, AttributeError, IndexError):
            continue  # a merged follower or an address outside the sheet: nothing to restore
    return cached


def read_as_form(wb) -> dict[str, Any]:
    """What the reader does first with a loaded workbook: a roll-up is no form (one clear
    finding); an unedited scored copy is turned back into the unit's own form. Returns the
    cached results of formulas put back (for the reader's cached values), usually empty."""
    from perfeval_xlsx.errors import FileProblem

    mark = workbook_mark(wb)
    wb.perfeval_mark, wb.perfeval_restored = mark, False  # for the writer: whose form this is
    if mark is None:
        return {}
    if mark.kind == ROLLUP:
        raise FileProblem("E-NO-FORM", "这是本工具生成的汇总表（汇总多个项目），不是单位填报的自评表，不能评分。"
                                       "请检查或评分各单位提交的原表。")
    if mark.kind == SCORED:
        cached = restore_original(wb, mark)
        wb.perfeval_restored = cached is not None
        return cached or {}
    return {}


def original_name(wb, name: str) -> str:
    """The unit's file name for a workbook read by `read_as_form`: the name recorded in a
    scored copy read back as the unit's form, else `name`."""
    mark = getattr(wb, "perfeval_mark", None)
    if getattr(wb, "perfeval_restored", False) and mark is not None and mark.source:
        return mark.source
    return name


def describe(mark: Mark) -> str:
    """Why a batch leaves this workbook out, in one Chinese sentence."""
    if mark.kind == ROLLUP:
        return "这是本工具生成的汇总表，不是自评表，不计入项目。"
    source = f"（由“{mark.source}”生成）" if mark.source else ""
    return f"这是本工具生成的评分副本{source}，不是单位提交的表，不重复计入。"
