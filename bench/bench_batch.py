"""Benchmark of `perfeval batch`: throughput at --jobs 1 and 2 against an openpyxl floor, and
peak memory as the number of files grows. It prints figures; it asserts nothing.

    python bench/bench_batch.py            # N = 200 and 2000 small forms, N = 200 large forms (~10 min on 2 cores)
    python bench/bench_batch.py --quick    # N = 200 only (small and large, ~3 min)
    python bench/bench_batch.py --sizes 200,2000 --kinds small,large   # everything (long)
    python bench/bench_batch.py --marginal # per-file cost of N = 400 over N = 40, --jobs 1 (~6 min)

For each kind of form (small: the 11 indicators of the samples; large: 120 indicator rows) and
each N, the forms are generated into a temporary folder (50 distinct forms, copied to N files),
then three runs are measured, each in a fresh process:

- floor:   openpyxl load_workbook + save of the same N files in one process, no scoring
           (the time of the loop; the unavoidable cost of reading and writing a workbook);
- jobs 1:  `perfeval batch INBOX -o OUTBOX --jobs 1 --json`, end to end (interpreter start,
           worker start, scoring, scored copies, roll-up, perfeval-batch.json);
- jobs 2:  the same with --jobs 2;
- and, to calibrate, the floor split over two processes running at once: how much two cores
  give on this machine at all (shared or hyper-threaded cores give less than 2x).

Printed: files/second of each, the per-file cost at jobs 1 over the floor's, the jobs 2 / jobs 1
throughput ratio, and the peak memory of each run — the summed RSS of the whole process tree
(parent and workers), sampled every 50 ms from /proc (Linux), and the largest single process
(getrusage of the children) — with the ratio of N = 2000 to N = 200.

--marginal measures instead what one more file costs, without the start-up and end of a run:
for N = 40 and N = 400 (or --sizes A,B), each in a fresh process, the wall time of the floor and
of `perfeval batch --jobs 1` end to end; the marginal per-file cost is (t(400) − t(40)) / 360 for
both, printed with their ratio (the target is batch ≤ 0.6× the floor), and the peak memory of the
batch at N = 40 and N = 400 with their ratio (flat, 1.0x, is the target).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DISTINCT = 50


# --------------------------------------------------------------------------- forms


def _small(i: int) -> dict:
    from perfeval_xlsx.forms.content import load_definition

    data = load_definition(ROOT / "samples" / "definitions" / "broken" / "_base.toml")
    data.pop("sample", None)
    data["header"]["project"] = f"基准测试项目{i:04d}"
    data["header"]["unit"] = f"测试单位{i % 13}"
    row = next(r for r in data["indicators"] if r["level3"] == "党务培训班培训人数")
    short = i % 10
    row["actual"], row["score"] = 40 - short, round(6 * (40 - short) / 40, 2)
    row["reason"] = "部分学员因工作冲突未能参训。" if short else ""
    return data


def _large(i: int) -> dict:
    """120 indicator rows: 产出 50 rows × 1 分, 效益 60 × 0.5, 满意度 10 × 1 (with 执行率 10: 100)."""
    data = _small(i)
    groups = (("产出指标", ("数量指标", "质量指标", "时效指标", "成本指标"), 50, 1.0),
              ("效益指标", ("经济效益指标", "社会效益指标", "生态效益指标", "可持续影响指标"), 60, 0.5),
              ("满意度指标", ("服务对象满意度指标",), 10, 1.0))
    rows = []
    for level1, level2s, count, weight in groups:
        for k in range(count):
            level2 = level2s[k % len(level2s)]
            cost = level2 == "成本指标"
            target = 10 + (k + i) % 90
            actual = target if cost else target + (k % 3)
            rows.append({"level1": level1, "level2": level2, "level3": f"{level2[:2]}指标第{k + 1}项",
                         "operator": "≤" if cost else "≥", "target": target, "unit": "万元" if cost else "个",
                         "actual": actual, "weight": weight, "score": weight})
    data["indicators"] = rows
    return data


def generate(folder: Path, kind: str, n: int) -> float:
    """N forms in `folder`: DISTINCT generated ones, copied round. Returns the seconds taken."""
    from perfeval_xlsx.forms.content import content_from_dict
    from perfeval_xlsx.output.template import write_form

    start = time.perf_counter()
    folder.mkdir(parents=True, exist_ok=True)
    make = _small if kind == "small" else _large
    originals = []
    for i in range(min(DISTINCT, n)):
        path = folder / f"单位{i:04d}_项目支出绩效自评表.xlsx"
        write_form(content_from_dict(make(i)), path)
        originals.append(path)
    for i in range(len(originals), n):
        shutil.copyfile(originals[i % len(originals)], folder / f"单位{i:04d}_项目支出绩效自评表.xlsx")
    return time.perf_counter() - start


# --------------------------------------------------------------------------- measuring


def _tree_rss(root_pid: int) -> tuple[int, int]:
    """Summed RSS (bytes) of root_pid and all its descendants, and the largest one's, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read().decode("utf-8", "replace")
            ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        except (OSError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    total, largest, todo = 0, 0, [root_pid]
    page = os.sysconf("SC_PAGE_SIZE")
    while todo:
        pid = todo.pop()
        try:
            with open(f"/proc/{pid}/statm") as fh:
                rss = int(fh.read().split()[1]) * page
            total += rss
            largest = max(largest, rss)
        except (OSError, ValueError):
            pass
        todo.extend(children.get(pid, []))
    return total, largest


def measure(cmd: list[str]) -> dict:
    """Run `cmd`; wall time, its stdout, peak summed RSS of its process tree, max single RSS
    (from getrusage: only when larger than any earlier child's) and the sampled largest one."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = peak_single = 0
    sampling = os.path.isdir("/proc")
    done = threading.Event()

    def sample():
        nonlocal peak, peak_single
        while not done.is_set():
            total, largest = _tree_rss(proc.pid)
            peak, peak_single = max(peak, total), max(peak_single, largest)
            done.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    if sampling:
        sampler.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - start
    done.set()
    if sampling:
        sampler.join()
    single = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
    if proc.returncode not in (0, 1, 2) or "Traceback" in err:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err[-3000:]}")
    return {"wall": wall, "stdout": out, "peak_tree": peak if sampling else None,
            "max_single": single * 1024 if single > before else None, "peak_single": peak_single if sampling else None}


def floor_main(inbox: str, outdir: str, part: str = "0/1") -> None:
    """(subprocess) openpyxl load + save of every file (or every k-th of m: part "k/m"), one
    process; prints the loop time."""
    import warnings

    import openpyxl

    warnings.simplefilter("ignore")
    k, m = map(int, part.split("/"))
    files = sorted(Path(inbox).glob("*.xlsx"))[k::m]
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    for path in files:
        wb = openpyxl.load_workbook(path)
        wb.save(out / path.name)
    print(json.dumps({"files": len(files), "seconds": time.perf_counter() - start}))


def mib(value: int | None) -> str:
    return "n/a" if value is None else f"{value / 1024 / 1024:.0f} MiB"


def run(kind: str, n: int, work: Path) -> dict:
    inbox = work / f"{kind}_{n}" / "inbox"
    gen = generate(inbox, kind, n)
    print(f"\n== {kind} forms, N = {n} (generated in {gen:.0f} s) ==", flush=True)
    floor = measure([sys.executable, __file__, "--_floor", str(inbox), str(work / f"{kind}_{n}" / "floor")])
    floor_s = json.loads(floor["stdout"])["seconds"]
    print(f"floor (openpyxl load+save, one process): {n / floor_s:7.2f} files/s  {1000 * floor_s / n:6.1f} ms/file  "
          f"peak tree {mib(floor['peak_tree'])}", flush=True)
    row = {"kind": kind, "n": n, "floor_s": floor_s, "floor_peak": floor["peak_tree"]}
    # what two cores give at all: two floor processes at once, each on half of (at most 400) files
    sample = work / f"{kind}_{n}" / "floor2_in"
    sample.mkdir()
    for path in sorted(inbox.glob("*.xlsx"))[:400]:
        os.link(path, sample / path.name)
    m = min(n, 400)
    halves = [subprocess.Popen([sys.executable, __file__, "--_floor", str(sample), str(work / f"{kind}_{n}" / f"floor{k}"),
                                f"{k}/2"], stdout=subprocess.PIPE, text=True) for k in range(2)]
    loops = [json.loads(h.communicate()[0])["seconds"] for h in halves]
    row["floor2_s"] = max(loops) * n / m  # scaled to N files
    print(f"floor, two processes at once ({m} files): {n / row['floor2_s']:7.2f} files/s  "
          f"({floor_s / row['floor2_s']:.2f}x one process: what this machine's two cores give)", flush=True)
    for jobs in (1, 2):
        out = work / f"{kind}_{n}" / f"out_jobs{jobs}"
        m = measure([sys.executable, "-m", "perfeval_xlsx", "batch", str(inbox), "-o", str(out), "--jobs", str(jobs), "--json"])
        summary = json.loads(m["stdout"])["summary"]
        assert_like = "" if summary["total"] == n and summary["scored"] == n else f"  (!) summary {summary}"
        row[f"jobs{jobs}_s"], row[f"jobs{jobs}_peak"], row[f"jobs{jobs}_single"] = m["wall"], m["peak_tree"], m["max_single"]
        print(f"batch --jobs {jobs} (end to end):          {n / m['wall']:7.2f} files/s  {1000 * m['wall'] / n:6.1f} ms/file  "
              f"peak tree {mib(m['peak_tree'])}  largest process {mib(m['max_single'])}{assert_like}", flush=True)
        shutil.rmtree(out, ignore_errors=True)
    row["cost_ratio"] = row["jobs1_s"] / floor_s
    row["speedup"] = row["jobs1_s"] / row["jobs2_s"]
    print(f"per-file cost at --jobs 1 / floor: {row['cost_ratio']:.2f}x   (target ≤ 1.5x)")
    print(f"throughput --jobs 2 / --jobs 1:    {row['speedup']:.2f}x   (target ≥ 1.6x; the machine's floor gives "
          f"{floor_s / row['floor2_s']:.2f}x)", flush=True)
    shutil.rmtree(work / f"{kind}_{n}", ignore_errors=True)
    return row


def marginal(kind: str, sizes: tuple[int, int], work: Path) -> dict:
    """(t(B) − t(A)) / (B − A) of the floor and of `batch --jobs 1`, both timed end to end in a
    fresh process; the batch's peak memory at A and B."""
    small_n, large_n = sizes
    row: dict = {"kind": kind, "sizes": sizes}
    print(f"\n== marginal cost, {kind} forms, N = {small_n} and {large_n} ==", flush=True)
    for n in sizes:
        inbox = work / f"m_{kind}_{n}" / "inbox"
        gen = generate(inbox, kind, n)
        floor = measure([sys.executable, __file__, "--_floor", str(inbox), str(work / f"m_{kind}_{n}" / "floor")])
        out = work / f"m_{kind}_{n}" / "out"
        batch = measure([sys.executable, "-m", "perfeval_xlsx", "batch", str(inbox), "-o", str(out), "--jobs", "1", "--json"])
        summary = json.loads(batch["stdout"])["summary"]
        warn = "" if summary["total"] == n and summary["scored"] == n else f"  (!) summary {summary}"
        row[n] = {"floor": floor["wall"], "batch": batch["wall"], "peak_tree": batch["peak_tree"], "single": batch["peak_single"]}
        print(f"N = {n:4d} (generated in {gen:.0f} s): floor {floor['wall']:7.2f} s   batch --jobs 1 {batch['wall']:7.2f} s   "
              f"peak tree {mib(batch['peak_tree'])}  largest process {mib(batch['peak_single'])}{warn}", flush=True)
        shutil.rmtree(work / f"m_{kind}_{n}", ignore_errors=True)
    extra = large_n - small_n
    row["floor_ms"] = 1000 * (row[large_n]["floor"] - row[small_n]["floor"]) / extra
    row["batch_ms"] = 1000 * (row[large_n]["batch"] - row[small_n]["batch"]) / extra
    row["ratio"] = row["batch_ms"] / row["floor_ms"] if row["floor_ms"] > 0 else float("nan")
    print(f"marginal per file: batch --jobs 1 {row['batch_ms']:6.1f} ms, floor (openpyxl load+save) {row['floor_ms']:6.1f} ms, "
          f"ratio {row['ratio']:.2f}x   (target ≤ 0.6x)")
    for key, label in (("peak_tree", "process tree"), ("single", "largest process")):
        low, high = row[small_n][key], row[large_n][key]
        if low and high:
            print(f"peak memory ({label}): N={small_n} {mib(low)}, N={large_n} {mib(high)}, ratio {high / low:.2f}x   (flat: 1.0x)")
    return row


def main() -> None:
    if len(sys.argv) in (4, 5) and sys.argv[1] == "--_floor":
        floor_main(*sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="N = 200 only")
    parser.add_argument("--sizes", default=None, help="comma-separated N values (default 200,2000)")
    parser.add_argument("--kinds", default="small,large", help="small, large or both (default both)")
    parser.add_argument("--work", type=Path, default=None, help="folder for the generated forms (default: a temp folder)")
    parser.add_argument("--marginal", action="store_true",
                        help="per-file cost of N=400 over N=40 at --jobs 1 against the floor's, and peak memory (--sizes A,B to change)")
    args = parser.parse_args()
    if args.marginal:
        sizes = tuple(int(s) for s in (args.sizes or "40,400").split(","))
        if len(sizes) != 2 or sizes[0] >= sizes[1]:
            parser.error("--marginal takes two sizes, the smaller first: --sizes 40,400")
        work = args.work or Path(tempfile.mkdtemp(prefix="perfeval-bench-"))
        print(f"perfeval batch marginal cost: {os.cpu_count()} cores, Python {sys.version.split()[0]}, work folder {work}")
        try:
            rows = [marginal(kind, sizes, work) for kind in args.kinds.split(",")]
        finally:
            if args.work is None:
                shutil.rmtree(work, ignore_errors=True)
        print("\n== summary ==")
        print(f"{'kind':6} {'batch ms/file':>13} {'floor ms/file':>13} {'ratio':>6} {'peak j1 ' + str(sizes[0]):>12} {'peak j1 ' + str(sizes[1]):>12}")
        for r in rows:
            print(f"{r['kind']:6} {r['batch_ms']:13.1f} {r['floor_ms']:13.1f} {r['ratio']:5.2f}x "
                  f"{mib(r[sizes[0]]['peak_tree']):>12} {mib(r[sizes[1]]['peak_tree']):>12}")
        return
    sizes = [200] if args.quick else [int(s) for s in (args.sizes or "200,2000").split(",")]
    kinds = args.kinds.split(",")
    work = args.work or Path(tempfile.mkdtemp(prefix="perfeval-bench-"))
    print(f"perfeval batch benchmark: {os.cpu_count()} cores, Python {sys.version.split()[0]}, work folder {work}")
    rows = []
    try:
        for kind in kinds:
            for n in sizes:
                if kind == "large" and n > 200 and args.sizes is None:
                    continue  # large forms at N = 2000 only when asked for (--sizes): they take long
                rows.append(run(kind, n, work))
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    print("\n== summary ==")
    print(f"{'kind':6} {'N':>5} {'floor f/s':>9} {'j1 f/s':>7} {'j2 f/s':>7} {'j1/floor':>8} {'j2/j1':>6} "
          f"{'floor2/1':>8} {'peak j1':>8} {'peak j2':>8}")
    for r in rows:
        n = r["n"]
        print(f"{r['kind']:6} {n:5d} {n / r['floor_s']:9.2f} {n / r['jobs1_s']:7.2f} {n / r['jobs2_s']:7.2f} "
              f"{r['cost_ratio']:7.2f}x {r['speedup']:5.2f}x {r['floor_s'] / r['floor2_s']:7.2f}x "
              f"{mib(r['jobs1_peak']):>8} {mib(r['jobs2_peak']):>8}")
    for kind in kinds:
        by_n = {r["n"]: r for r in rows if r["kind"] == kind}
        if 200 in by_n and 2000 in by_n and by_n[200]["jobs2_peak"]:
            for jobs in (1, 2):
                ratio = by_n[2000][f"jobs{jobs}_peak"] / by_n[200][f"jobs{jobs}_peak"]
                print(f"{kind} forms, --jobs {jobs}: peak memory N=2000 / N=200 = {ratio:.2f}x   (target ≤ 1.2x)")


if __name__ == "__main__":
    main()
