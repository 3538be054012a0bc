"""Benchmark of the drafted 自评报告: what a report costs beside checking and scoring the form.
It prints figures; it asserts nothing.

    python bench/bench_report.py            # 20 rounds per sample
    python bench/bench_report.py --rounds 50

For each sample form, in one process: the baseline is `check_file` (read, validate, score: what
every command does first); then `draft_report` (the plain-data report) and `write_report`
(draft + python-docx + atomic save). Printed: milliseconds per form and the ratio of each to the
baseline, measured in the same run.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from perfeval_xlsx.check import check_file  # noqa: E402
from perfeval_xlsx.report import load_template, write_report  # noqa: E402
from perfeval_xlsx.report.draft import draft_report  # noqa: E402

SAMPLES = [
    ROOT / "samples" / "2024_乌鲁木齐市工商联_非公有制党建工作经费（共性框架）.xlsx",
    ROOT / "samples" / "2021_新疆工商联_项目支出（自评表）.xlsx",
]


def per_call(fn, rounds: int) -> float:
    fn()  # warm: imports, caches
    start = time.perf_counter()
    for _ in range(rounds):
        fn()
    return (time.perf_counter() - start) / rounds * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    wording = load_template()
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "报告.docx"
        print(f"{'sample':<52} {'check ms':>9} {'draft ms':>9} {'docx ms':>9} {'draft/check':>12} {'docx/check':>11}")
        for sample in SAMPLES:
            result = check_file(sample)
            check = per_call(lambda s=sample: check_file(s), args.rounds)
            draft = per_call(lambda r=result: draft_report(r, wording), args.rounds)
            docx = per_call(lambda r=result: write_report(r, target, wording), args.rounds)
            print(f"{sample.name:<52} {check:>9.1f} {draft:>9.1f} {docx:>9.1f} {draft / check:>12.2f} {docx / check:>11.2f}")


if __name__ == "__main__":
    main()
