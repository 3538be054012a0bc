"""Run by a Python that has LibreOffice's `uno` module (the system python3), not by pytest:

    python3 lo_type_into.py BOOK.xlsx SHEET '{"J15": "text"}' OUT.pdf|-

opens the workbook in a headless LibreOffice, unprotects SHEET, puts each text into its cell as
typing it would, and prints JSON: for each cell the row height (1/100 mm) and whether LibreOffice
fits the row to its text (OptimalHeight), before and after. OUT.pdf: the sheet exported after.
"""
import json
import os
import shutil
import subprocess
import sys
import time
import uuid

import uno
from com.sun.star.beans import PropertyValue


def prop(name, value):
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p

def main():
    path, sheet, edits_json, out_pdf = sys.argv[1:5]
    edits = json.loads(edits_json)
    pipe = "perfeval" + uuid.uuid4().hex[:8]
    profile = os.path.join(os.path.dirname(os.path.abspath(out_pdf if out_pdf != "-" else path)), f"lo-uno-{pipe}")
    proc = subprocess.Popen(["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
                             "--invisible", f"--accept=pipe,name={pipe};urp;"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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
        desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(os.path.abspath(path)), "_blank", 0, (prop("Hidden", True),))
        ws = doc.Sheets.getByName(sheet)
        ws.unprotect("")
        report = {}
        for address, text in edits.items():
            cell = ws.getCellRangeByName(address)
            row = ws.Rows.getByIndex(cell.CellAddress.Row)
            before = (row.Height, row.OptimalHeight)
            cell.setString(text)
            report[address] = {"before": before, "after": (row.Height, row.OptimalHeight)}
        if out_pdf != "-":
            doc.storeToURL(uno.systemPathToFileUrl(os.path.abspath(out_pdf)), (prop("FilterName", "calc_pdf_Export"),))
        doc.close(True)
        print(json.dumps(report))
    finally:
        try:
            desktop.terminate()
        except Exception:
            pass
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(profile, ignore_errors=True)


main()
