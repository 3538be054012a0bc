"""Run by a Python that has LibreOffice's `uno` module (the system python3), not by pytest:

    /usr/bin/python3 lo_uno.py JOB.json

JOB.json: {"src": BOOK, "out": OUT, "filter": "Calc MS Excel 2007 XML", "experimental": false,
"author": "…", "ops": [...]}. Opens BOOK in a headless LibreOffice (private profile), applies each
op as a person editing in Calc would, stores OUT with the filter and prints a JSON report. Ops:

    {"op": "unprotect" | "protect", "sheet": S}
    {"op": "picture", "sheet": S, "cell": "H26", "png": PATH, "size_mm": [25, 25], "name": N}
    {"op": "comment", "sheet": S, "cell": "I19", "text": T, "author": A}
    {"op": "rich", "sheet": S, "cell": "J15", "runs": [{"text": T, "font": F, "bold": b, "color": 0xRRGGBB}]}
    {"op": "add_sheet", "name": N, "column": ["a", "b"]}          (values down column A)
    {"op": "list_validation", "sheet": S, "range": "H5", "source": "$下拉选项.$A$1:$A$3"}
    {"op": "conditional", "sheet": S, "range": "G14:G24", "formula": F, "style": "Bad"}
    {"op": "basic_module", "module": "Module1", "code": SOURCE}   (a VBA module, VBA mode on)
    {"op": "read_basic"}                                           (report the VBA modules' code)

This is how the fidelity fixtures get what a workbook written by LibreOffice carries (a picture
in a drawing, comments, rich text, validations, conditional formats, protection, a VBA project).
"""
import json
import os
import shutil
import subprocess
import sys
import time
import uuid

import uno
from com.sun.star.awt import Size
from com.sun.star.beans import PropertyValue


def prop(name, value):
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


def configure(smgr, ctx, path, values):
    provider = smgr.createInstanceWithContext("com.sun.star.configuration.ConfigurationProvider", ctx)
    access = provider.createInstanceWithArguments("com.sun.star.configuration.ConfigurationUpdateAccess",
                                                  (prop("nodepath", path),))
    for name, value in values.items():
        access.setPropertyValue(name, value)
    access.commitChanges()


def apply(op, doc, smgr, ctx, report):
    kind = op["op"]
    if kind == "add_sheet":
        sheets = doc.Sheets
        sheets.insertNewByName(op["name"], sheets.Count)
        ws = sheets.getByName(op["name"])
        for i, value in enumerate(op["column"]):
            ws.getCellByPosition(0, i).setString(value)
        return
    if kind == "basic_module":
        libs = doc.BasicLibraries
        libs.VBACompatibilityMode = True
        libs.ProjectName = "VBAProject"
        if not libs.hasByName("VBAProject"):
            libs.createLibrary("VBAProject")
        lib = libs.getByName("VBAProject")
        lib.insertByName(op["module"], op["code"])
        from com.sun.star.script import ModuleInfo

        info = ModuleInfo()
        info.ModuleType = uno.getConstantByName("com.sun.star.script.ModuleType.NORMAL")
        if not lib.hasModuleInfo(op["module"]):
            lib.insertModuleInfo(op["module"], info)
        return
    if kind == "read_basic":
        libs = doc.BasicLibraries
        report["basic"] = {}
        for name in libs.getElementNames():
            libs.loadLibrary(name)
            lib = libs.getByName(name)
            report["basic"][name] = {m: lib.getByName(m) for m in lib.getElementNames()}
        report["vba_mode"] = bool(libs.VBACompatibilityMode)
        return
    ws = doc.Sheets.getByName(op["sheet"])
    if kind == "unprotect":
        ws.unprotect("")
    elif kind == "protect":
        ws.protect("")
    elif kind == "picture":
        provider = smgr.createInstanceWithContext("com.sun.star.graphic.GraphicProvider", ctx)
        graphic = provider.queryGraphic((prop("URL", uno.systemPathToFileUrl(os.path.abspath(op["png"]))),))
        shape = doc.createInstance("com.sun.star.drawing.GraphicObjectShape")
        ws.DrawPage.add(shape)
        shape.Graphic = graphic
        width, height = op.get("size_mm", (25, 25))
        shape.Size = Size(width * 100, height * 100)
        shape.Anchor = ws.getCellRangeByName(op["cell"])
        shape.Name = op.get("name", "Picture")
    elif kind == "comment":
        if op.get("author"):  # as a person inserts one (Insert → Comment): it carries its author
            frame = doc.getCurrentController().getFrame()
            dispatch = smgr.createInstanceWithContext("com.sun.star.frame.DispatchHelper", ctx)
            dispatch.executeDispatch(frame, ".uno:GoToCell", "", 0, (prop("ToPoint", op["cell"]),))
            dispatch.executeDispatch(frame, ".uno:InsertAnnotation", "", 0,
                                     (prop("Text", op["text"]), prop("Author", op["author"])))
        else:  # the API's own insertNew writes no author
            ws.Annotations.insertNew(ws.getCellRangeByName(op["cell"]).CellAddress, op["text"])
    elif kind == "rich":
        text = ws.getCellRangeByName(op["cell"]).getText()
        text.setString("")
        offset = 0
        for run in op["runs"]:
            end = text.createTextCursor()
            end.gotoEnd(False)
            text.insertString(end, run["text"], False)
            cursor = text.createTextCursor()
            cursor.gotoStart(False)
            cursor.goRight(offset, False)
            cursor.goRight(len(run["text"]), True)
            for name in ("CharFontName", "CharFontNameAsian"):
                cursor.setPropertyValue(name, run["font"])
            weight = 150.0 if run.get("bold") else 100.0
            for name in ("CharWeight", "CharWeightAsian"):
                cursor.setPropertyValue(name, weight)
            cursor.CharColor = run.get("color", 0)
            offset += len(run["text"])
    elif kind == "list_validation":
        from com.sun.star.sheet.ValidationType import LIST

        rng = ws.getCellRangeByName(op["range"])
        validation = rng.Validation
        validation.Type = LIST
        validation.setFormula1(op["source"])
        validation.ShowList = 1
        validation.ShowErrorMessage = True
        validation.ErrorMessage = op.get("error", "请从下拉列表中选择。")
        rng.Validation = validation
    elif kind == "conditional":
        from com.sun.star.sheet.ConditionOperator import FORMULA

        rng = ws.getCellRangeByName(op["range"])
        entries = rng.ConditionalFormat
        entries.addNew((prop("Operator", FORMULA), prop("Formula1", op["formula"]), prop("StyleName", op["style"])))
        rng.ConditionalFormat = entries
    else:
        raise SystemExit(f"unknown op {kind}")


def main():
    with open(sys.argv[1], encoding="utf-8") as fh:
        job = json.load(fh)
    pipe = "fidelity" + uuid.uuid4().hex[:8]
    profile = os.path.join(os.path.dirname(os.path.abspath(job["out"] or job["src"])), f"lo-fid-{pipe}")
    proc = subprocess.Popen(["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
                             "--invisible", f"--accept=pipe,name={pipe};urp;"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    desktop = doc = None
    report = {}
    try:
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
        for _ in range(240):
            try:
                ctx = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
                break
            except Exception:
                time.sleep(0.5)
        else:
            raise SystemExit("LibreOffice did not answer")
        smgr = ctx.ServiceManager
        if job.get("author"):  # comments carry the user's name, as in a unit's own office suite
            configure(smgr, ctx, "/org.openoffice.UserProfile/Data", {"givenname": job["author"], "sn": ""})
        if job.get("experimental"):  # LibreOffice writes a VBA project only in experimental mode
            configure(smgr, ctx, "/org.openoffice.Office.Common/Misc", {"ExperimentalMode": True})
        desktop = smgr.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(os.path.abspath(job["src"])), "_blank", 0,
                                           (prop("Hidden", True),))
        if doc is None:
            raise SystemExit(f"LibreOffice could not open {job['src']}")
        for op in job.get("ops", []):
            apply(op, doc, smgr, ctx, report)
        if job.get("out"):
            doc.storeToURL(uno.systemPathToFileUrl(os.path.abspath(job["out"])), (prop("FilterName", job["filter"]),))
        print(json.dumps(report, ensure_ascii=False))
    finally:
        if doc is not None:
            try:
                doc.close(True)
            except Exception:
                pass
        try:
            if desktop is not None:
                desktop.terminate()
        except Exception:
            pass
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(profile, ignore_errors=True)


main()
