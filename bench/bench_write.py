"""`score_file` per file against the openpyxl load + save of the same file, in one process.

For the 11-row base sample and a generated 120-row form, prints the CPU milliseconds (best of
`--repeat` rounds after a warm-up, the four taking turns within each round) of:

- the floor: openpyxl `load_workbook` + `save` of the file (no scoring at all);
- `check_file` (read, validate, score);
- `score_file` with the patching writer (the default) and with the openpyxl writer;

each with its ratio to the floor measured in the same run. It asserts nothing.

    python bench/bench_write.py
    python bench/bench_write.py --repeat 40
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def best(fns: list, repeat: int) -> list[float]:
    """The best CPU ms of each of `fns` over `repeat` rounds, the functions taking turns within
    each round (so that a busy moment of the machine falls on all of them, not on one)."""
    for fn in fns:
        fn()  # warm-up: imports, caches
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeat):
        for fn, each in zip(fns, times):
            start = time.process_time()
            fn()
            each.append(time.process_time() - start)
    return [min(each) * 1000 for each in times]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    import openpyxl

    from bench_batch import _large
    from perfeval_xlsx.check import check_file
    from perfeval_xlsx.forms.content import content_from_dict
    from perfeval_xlsx.output.template import write_form
    from perfeval_xlsx.score import score_file

    work = Path(tempfile.mkdtemp(prefix="perfeval-bench-write-"))
    large = work / "120行.xlsx"
    write_form(content_from_dict(_large(1)), large)
    forms = [("11-row sample", ROOT / "samples" / "2024_乌鲁木齐市工商联_非公有制党建工作经费（自评表）.xlsx"),
             ("120-row form", large)]
    out = work / "out"
    print(f"CPU ms per file, best of {args.repeat}; ratio to the openpyxl load+save floor of the same file")
    print(f"{'form':<15}{'floor':>8}{'check':>8}{'score (patch)':>15}{'ratio':>7}{'score (openpyxl)':>18}{'ratio':>7}")
    for label, path in forms:
        def floor(path=path):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                wb = openpyxl.load_workbook(path)
                wb.save(io.BytesIO())

        base, check, patched, rewritten = best([
            floor,
            lambda path=path: check_file(path),
            lambda path=path: score_file(path, out),
            lambda path=path: score_file(path, out, writer="openpyxl"),
        ], args.repeat)
        print(f"{label:<15}{base:>8.1f}{check:>8.1f}{patched:>15.1f}{patched / base:>7.2f}{rewritten:>18.1f}"
              f"{rewritten / base:>7.2f}")


if __name__ == "__main__":
    main()
