"""A fixed-seed slice of the fuzz campaign (bench/fuzz.py): mutated samples never give a
traceback, a timeout, a run over 600 MB, non-strict JSON or a changed input.
The full campaign (1,000 files) is `python bench/fuzz.py`."""

from __future__ import annotations

import importlib
import sys

from .conftest import ROOT


def _fuzz_module():
    # imported by name from bench/ (on sys.path, which spawned workers inherit), so that the
    # campaign's worker processes can import it too
    if str(ROOT / "bench") not in sys.path:
        sys.path.insert(0, str(ROOT / "bench"))
    return importlib.import_module("fuzz")


def test_a_fixed_seed_slice_of_the_campaign_finds_nothing(tmp_path):
    fuzz = _fuzz_module()
    runs = fuzz.campaign(files=60, seed=20261202, jobs=1, folder=tmp_path)
    table = fuzz.report(runs)
    assert table["commands run"] == 120
    bad = [(r.command, r.file, r.mutation, r.exit_code, r.seconds, r.peak_mb, r.note) for r in fuzz.failures(runs)]
    assert bad == []
    # every mutated input was read as something: no exit code outside the documented ones
    assert set(table["exit codes"]) <= {"0", "1", "2"}
