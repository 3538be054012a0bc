"""Formulas the file holds no result for: computed, so that only what truly cannot be is an error.

Files written by programs (a finance system's export, openpyxl) carry formulas without their
results, and LibreOffice writes a text result to .xls as 0. When the validator needs the value of
such a formula (it would report E-FORMULA-NO-VALUE), its result is computed:

1. for .xlsx/.xlsm, by the `formulas` package (a Python implementation of Excel's functions),
   in a child process with a timeout and a memory limit — a formula over a whole column must
   not take the checker down;
2. for what is left, and for .xls/.ods, by LibreOffice headless (reading.soffice: a private
   profile, recalculation on load, a timeout), reading the results from the converted copy.

A result that is an error value (``#NAME?``) counts as not computed. Group labels computed by a
formula are not asked for: the reader names them by the formula's first text literal.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FORMULAS_TIMEOUT = 60.0
FORMULAS_MEMORY = 2 * 1024 * 1024 * 1024  # address space of the child process (POSIX)
ENGINES = {"formulas": "formulas 公式引擎", "libreoffice": "LibreOffice"}


@dataclass
class Computed:
    values: dict[str, Any] = field(default_factory=dict)  # A1 address → result
    engine: dict[str, str] = field(default_factory=dict)  # A1 address → formulas | libreoffice


def compute(path: Path, kind: str, sheet: str, addresses: list[str]) -> Computed:
    """Results of the formulas at `addresses` of `sheet`, as far as an engine can give them."""
    done = Computed()
    if not addresses:
        return done
    if kind == "xlsx":
        for address, value in _with_formulas(path, sheet, addresses).items():
            done.values[address], done.engine[address] = value, "formulas"
    rest = [a for a in addresses if a not in done.values]
    if rest:
        for address, value in _with_libreoffice(path, sheet, rest).items():
            done.values[address], done.engine[address] = value, "libreoffice"
    return done


ERROR_VALUES = {"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#SPILL!", "#CALC!", "#GETTING_DATA"}


def _usable(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and value.strip().upper() in ERROR_VALUES)


CHILD = r"""
import contextlib, io, json, sys
path, sheet, wanted = sys.argv[1], sys.argv[2], set(json.loads(sys.argv[3]))
try:
    import resource
    limit = int(sys.argv[4])
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
except Exception:
    pass
out = {}
with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
    import formulas
    import numpy as np
    model = formulas.ExcelModel().loads(path).finish()
    solution = model.calculate()
prefix = "'[" + path.replace("\\", "/").rsplit("/", 1)[-1] + "]" + sheet + "'!"
for key, ranges in solution.items():
    if not key.upper().startswith(prefix.upper()):
        continue
    address = key[len(prefix):].upper()
    if address not in wanted:
        continue
    try:
        value = np.asarray(getattr(ranges, "value", ranges)).ravel()[0]
    except Exception:
        continue
    if isinstance(value, (bool, np.bool_)):
        out[address] = bool(value)
    elif isinstance(value, (int, float, np.integer, np.floating)):
        out[address] = float(value)
    elif isinstance(value, str):
        out[address] = value
print(json.dumps(out, ensure_ascii=False))
"""


def _with_formulas(path: Path, sheet: str, addresses: list[str]) -> dict[str, Any]:
    try:
        import formulas  # noqa: F401 - only to know it is installed
    except ImportError:
        return {}
    try:
        out = subprocess.run([sys.executable, "-c", CHILD, str(path), sheet, json.dumps(addresses), str(FORMULAS_MEMORY)],
                             capture_output=True, text=True, timeout=FORMULAS_TIMEOUT, stdin=subprocess.DEVNULL,
                             env={**os.environ, "PYTHONIOENCODING": "utf-8"})
        values = json.loads(out.stdout.strip().splitlines()[-1]) if out.returncode == 0 and out.stdout.strip() else {}
    except (subprocess.TimeoutExpired, OSError, ValueError, IndexError):
        return {}
    return {a: _number(v) for a, v in values.items() if _usable(v)}


def _number(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    return value


def _with_libreoffice(path: Path, sheet: str, addresses: list[str]) -> dict[str, Any]:
    from perfeval_xlsx.reading.safety import MISSING, cached_formula_values
    from perfeval_xlsx.reading.soffice import ConversionFailed, convert, soffice_binary

    if soffice_binary() is None:
        return {}
    with tempfile.TemporaryDirectory(prefix="perfeval-recalc-") as tmp:
        try:
            converted = convert(path, "xlsx", Path(tmp))
            cached = cached_formula_values(converted, sheet)
        except (ConversionFailed, OSError, ValueError, KeyError):
            return {}
        except Exception:  # noqa: BLE001 - a converted file we cannot read: nothing computed
            return {}
    return {a: cached[a] for a in addresses if cached.get(a, MISSING) is not MISSING and _usable(cached[a])}
