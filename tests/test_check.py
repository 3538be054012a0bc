"""`perfeval check`: expected findings on the samples, unreadable and hostile files, fuzzing."""

from __future__ import annotations

import io
import json
import random
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest

from perfeval_xlsx.check import check_file
from perfeval_xlsx.reading.reader import read_sheet
from perfeval_xlsx.reading.safety import cached_formula_values
from perfeval_xlsx.rules.findings import CATALOGUE
from perfeval_xlsx.rules.profile import load_profile
from perfeval_xlsx.rules.scoring import score_form
from perfeval_xlsx.rules.validate import validate

from .conftest import BASE, SAMPLES, SEED000, SEED001, measure_check, run_cli

MANIFEST = {m["file"]: m for m in json.loads((SAMPLES / "manifest.json").read_text(encoding="utf-8"))}


@pytest.mark.parametrize("path", [SEED001, SEED000, BASE])
def test_good_samples_have_no_errors(path):
    result = check_file(path)
    assert result.status in ("ok", "warnings")
    assert [f for f in result.findings if f.severity == "error"] == []


def test_base_and_seed001_are_clean():
    assert check_file(BASE).findings == []
    assert check_file(SEED001).findings == []  # framework-70 chosen for the framework form
    assert check_file(SEED001).profile == "framework-70"


def test_seed000_warns_only_about_its_own_weights():
    """Seed 000 uses the report's weights: the 一级 totals differ from 50/30/10 (warnings)."""
    result = check_file(SEED000)
    assert {f.code for f in result.findings} == {"W-WEIGHT-LEVEL1"}
    cells = sorted(f.cell for f in result.findings)
    assert cells == ["A14", "A15", "A16", "A17", "H7"]  # 项目立项, 绩效决策, 预算执行, 产出 25≠50, 执行率 5≠10


@pytest.mark.parametrize("name", sorted(n for n in MANIFEST if n.startswith("broken/")))
def test_each_broken_file_gives_exactly_its_expected_finding(name):
    expected = MANIFEST[name]["findings"]
    result = check_file(SAMPLES / name)
    got = [(f.code, f.severity, f.sheet, f.cell) for f in result.findings]
    assert got == [(e["code"], e["severity"], e["sheet"], e["cell"]) for e in expected]
    assert result.findings[0].message.startswith(f"{expected[0]['cell']}：")


def test_every_finding_points_at_a_cell_of_its_sheet_and_says_where_first():
    from openpyxl.utils.cell import coordinate_to_tuple

    seen = 0
    for name in MANIFEST:
        path = SAMPLES / name
        wb = openpyxl.load_workbook(path)
        for f in check_file(path).findings:
            if CATALOGUE[f.code].scope != "form" or not f.cell:
                continue
            ws = wb[f.sheet]  # a KeyError here: the finding names a sheet the file does not have
            row, col = coordinate_to_tuple(f.cell)
            assert row <= ws.max_row and col <= ws.max_column, (name, f.code, f.cell)
            assert f.message.startswith(f"{f.cell}："), f.message
            seen += 1
    assert seen >= 10  # seed 000's weight warnings and the six broken forms' findings


# -- the command ----------------------------------------------------------------------------


def test_check_json_has_only_json_on_stdout_and_exit_codes():
    ok = run_cli("check", "--json", str(BASE))
    assert ok.returncode == 0
    data = json.loads(ok.stdout)
    assert data == [{"file": str(BASE), "status": "ok", "project": {
        "name": "非公有制党建工作经费", "department": "乌鲁木齐市工商业联合会（乌鲁木齐市总商会）",
        "unit": "乌鲁木齐市工商业联合会（乌鲁木齐市总商会）", "year": 2024}, "findings": []}]
    warn = run_cli("check", "--json", str(SAMPLES / "broken" / "未完成目标未写偏差原因.xlsx"))
    assert warn.returncode == 0 and json.loads(warn.stdout)[0]["status"] == "warnings"
    err = run_cli("check", "--json", str(SAMPLES / "broken" / "自评得分超过分值.xlsx"), str(BASE))
    assert err.returncode == 1
    first = json.loads(err.stdout)[0]
    assert first["status"] == "errors"
    assert first["findings"][0] == {
        "code": "E-SCORE-OVER-WEIGHT", "severity": "error", "sheet": "自评表", "cell": "I24", "field": "score",
        "value": 12, "message": "I24：得分不能大于分值：指标“服务对象满意度”得分 12 大于分值 10。请改为不超过 10 的得分。"}


def test_check_table_output(tmp_path):
    result = run_cli("check", str(SAMPLES / "broken"))
    assert result.returncode == 1
    assert "E-WEIGHT-SUM" in result.stdout and "H25" in result.stdout
    assert "共 6 个文件：通过 0，有预警 2，有错误 4，无法读取 0。" in result.stdout
    assert "Traceback" not in result.stderr


def test_check_unreadable_file_exit_2(tmp_path):
    bad = tmp_path / "报表.xls"
    bad.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(1024))
    result = run_cli("check", "--json", str(bad), str(BASE))
    assert result.returncode == 2
    data = json.loads(result.stdout)
    # an .xls is read now; an OLE header over zeros is a damaged file
    assert data[0]["status"] == "unreadable" and data[0]["findings"][0]["code"] == "E-FILE-CORRUPT"
    assert "重新保存" in data[0]["findings"][0]["message"]
    assert data[1]["status"] == "ok"


def test_bad_profile_is_a_usage_error(tmp_path):
    bad = tmp_path / "my.toml"
    bad.write_text('name = "x"\n[weights]\nexecution = 10\n[weights.level1]\n"产出" = 50\n', encoding="utf-8")
    result = run_cli("check", "--profile", str(bad), str(BASE))
    assert result.returncode == 2
    assert "合计为 60" in result.stderr and "应为 100" in result.stderr
    result = run_cli("check", "--profile", "hubei", str(BASE))
    assert result.returncode == 2 and "未知的评分规则" in result.stderr


# -- files that are not readable forms ---------------------------------------------------------


def _encrypted(tmp_path: Path) -> Path:
    from msoffcrypto.format.ooxml import OOXMLFile

    out = tmp_path / "加密.xlsx"
    with BASE.open("rb") as fh, out.open("wb") as dst:
        OOXMLFile(fh).encrypt("123456", dst)
    return out


def _ods(tmp_path: Path) -> Path:
    out = tmp_path / "表.ods"
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("content.xml", "<office:document-content/>")
    return out


@pytest.mark.parametrize("name,make,code,hint", [
    ("旧表.xls", lambda d: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4096), "E-FILE-CORRUPT", "已损坏"),
    ("wps表.et", lambda d: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4096), "E-FILE-CORRUPT", "已损坏"),
    ("导出.csv", lambda d: "项目名称,分值\n非公党建,100\n".encode("gbk"), "E-FILE-FORMAT", "不是 Excel 工作簿"),
    ("空.xlsx", lambda d: b"", "E-FILE-CORRUPT", "0 字节"),
    ("截断.xlsx", lambda d: BASE.read_bytes()[: len(BASE.read_bytes()) // 2], "E-FILE-CORRUPT", "重新保存"),
    ("乱码.xlsx", lambda d: random.Random(1).randbytes(5000), "E-FILE-FORMAT", "不是 Excel 工作簿"),
    ("文档.xlsx", lambda d: _docx_bytes(), "E-FILE-FORMAT", "Word"),
])
def test_unreadable_files_get_one_clear_finding(tmp_path, name, make, code, hint):
    path = tmp_path / name
    path.write_bytes(make(tmp_path))
    result = check_file(path)
    assert result.status == "unreadable"
    assert [(f.code, f.severity) for f in result.findings] == [(code, "error")]
    assert hint in result.findings[0].message


def _docx_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", "<w:document/>")
    return buf.getvalue()


def test_encrypted_and_ods_files(tmp_path):
    enc = check_file(_encrypted(tmp_path))
    assert [f.code for f in enc.findings] == ["E-FILE-ENCRYPTED"] and "密码" in enc.findings[0].message
    ods = check_file(_ods(tmp_path))  # an .ods is read now: this one has no table at all
    assert [f.code for f in ods.findings] == ["E-FILE-CORRUPT"] and ".ods" in ods.findings[0].message


def test_missing_file(tmp_path):
    result = check_file(tmp_path / "没有这个文件.xlsx")
    assert result.status == "unreadable" and result.findings[0].code == "E-FILE-IO"


# -- hostile files: bounded time and memory --------------------------------------------------

LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>&lol9;</t></si></sst>"""


def _rewrite(src: Path, dst: Path, replace: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, replace.get(info.filename, zin.read(info.filename)))
    return dst


def _billion_laughs(tmp_path: Path) -> Path:
    return _rewrite(BASE, tmp_path / "laughs.xlsx", {"xl/sharedStrings.xml": LAUGHS.encode()})


def _zip_bomb(tmp_path: Path) -> Path:
    """A workbook whose sheet inflates to 400 MB of zeros (about 400 kB packed)."""
    dst = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(BASE) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename == "xl/worksheets/sheet1.xml":
                member = zipfile.ZipInfo(info.filename)
                member.compress_type = zipfile.ZIP_DEFLATED
                with zout.open(member, "w", force_zip64=True) as fh:
                    chunk = b"\0" * (4 << 20)
                    for _ in range(100):
                        fh.write(chunk)
            else:
                zout.writestr(info, zin.read(info.filename))
    return dst


@pytest.mark.parametrize("make,code", [(_billion_laughs, "E-FILE-UNSAFE"), (_zip_bomb, "E-FILE-UNSAFE")])
def test_hostile_files_are_refused_within_5s_and_200mb(tmp_path, make, code):
    path = make(tmp_path)
    wall, cpu, max_rss_kb, returncode, report = measure_check(path)
    assert returncode == 2
    assert cpu < 5.0 and wall < 30.0
    assert max_rss_kb < 200 * 1024
    assert report[0]["status"] == "unreadable" and report[0]["findings"][0]["code"] == code
    assert path.stat().st_size < 2 * 1024 * 1024  # small on disk: the danger is in inflating it


def test_openpyxl_itself_refuses_entities_through_defusedxml(tmp_path):
    """Even past our own check, openpyxl (with defusedxml installed) will not expand entities."""
    path = _billion_laughs(tmp_path)
    start = time.perf_counter()
    with pytest.raises(Exception) as exc:
        openpyxl.load_workbook(path)
    chain, err = [], exc.value
    while err is not None:
        chain.append(type(err).__name__)
        err = err.__cause__ or err.__context__
    assert "EntitiesForbidden" in chain, chain
    from openpyxl.xml import DEFUSEDXML

    assert DEFUSEDXML is True
    assert time.perf_counter() - start < 5


# -- fuzzing: random damage never raises ------------------------------------------------------

WORDS = ["", "  ", "≥", "约一千本", "=", "0", "-5", "1e309", "达成", "部分达成", "不适用", "—", "12月底",
         "２０２４年", "≤2万元", "800余册", "100%", "0.93", "#VALUE!", "项目名称", "三级指标", "分值", "总分", "\n"]


def _mutate(ws, rng: random.Random) -> None:
    for _ in range(rng.randint(1, 12)):
        action = rng.random()
        row, col = rng.randint(1, min(ws.max_row, 30)), rng.randint(1, 10)
        if action < 0.08 and ws.merged_cells.ranges:
            try:
                ws.unmerge_cells(str(rng.choice(list(ws.merged_cells.ranges))))
            except (KeyError, ValueError):  # openpyxl's own bookkeeping after deleted rows
                pass
        elif action < 0.14:
            ws.delete_rows(row, rng.randint(1, 3))
        elif action < 0.20:
            ws.insert_rows(row, rng.randint(1, 2))
        else:
            try:
                cell = ws.cell(row, col)
                cell.value = rng.choice([rng.choice(WORDS), rng.uniform(-1000, 1000), rng.randint(-5, 200), None])
            except AttributeError:  # a merged follower cell is read-only in openpyxl
                pass


def test_fuzz_random_mutations_never_raise():
    rng = random.Random(20261122)
    profile = load_profile("mof-2020")
    cached = cached_formula_values(BASE, "自评表")
    outcomes = set()
    for i in range(400):
        if i % 40 == 0:  # damage accumulates over 40 rounds, then a fresh copy
            ws = openpyxl.load_workbook(BASE)["自评表"]
        _mutate(ws, rng)
        try:
            form = read_sheet(ws, cached)
        except Exception as exc:  # only our FileProblem (no form left) is acceptable
            assert type(exc).__name__ == "FormNotFound", repr(exc)
            outcomes.add("no form")
            continue
        scored = score_form(validate(form, profile))
        assert all(f.message.startswith(f"{f.cell}：") for f in scored.findings if f.cell)
        outcomes.add("errors" if any(f.severity == "error" for f in scored.findings) else "read")
    assert {"errors", "read"} <= outcomes


def test_fuzz_saved_files_through_check_file(tmp_path):
    rng = random.Random(7)
    for i in range(30):
        wb = openpyxl.load_workbook(SAMPLES / rng.choice(sorted(MANIFEST)))
        _mutate(wb.worksheets[0], rng)
        path = tmp_path / f"fuzz{i}.xlsx"
        wb.save(path)
        result = check_file(path)
        assert result.status in ("ok", "warnings", "errors", "unreadable")
        assert all(f.code in CATALOGUE for f in result.findings)
