"""The README's library example runs as written, and a batch whose workers cannot start says so
once instead of blaming every file."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from perfeval_xlsx.batch.pool import Scorer, _Job
from perfeval_xlsx.errors import WorkerStartError

from .conftest import BASE, ROOT, SEED000


def test_the_readme_library_example_runs_as_written(tmp_path):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Library", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    assert 'if __name__ == "__main__":' in code  # spawn imports the script again in each worker
    shutil.copy(BASE, tmp_path / "单位A.xlsx")
    (tmp_path / "收表").mkdir()
    for f in (BASE, SEED000):
        shutil.copy(f, tmp_path / "收表" / f.name)
    (tmp_path / "example.py").write_text(code, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, "example.py"], cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env)
    assert run.returncode == 0, run.stderr[-2000:]
    assert (tmp_path / "评分结果" / "单位A_评分.xlsx").is_file()
    assert len(list((tmp_path / "评分结果").glob("汇总_*.xlsx"))) == 1
    assert sorted(p.name for p in (tmp_path / "评分结果").glob("*_评分.xlsx")) == sorted(
        ["单位A_评分.xlsx", f"{BASE.stem}_评分.xlsx", f"{SEED000.stem}_评分.xlsx"])


def _refuse_to_load():
    raise RuntimeError("cannot start")


class _Unloadable:
    """Pickles fine in the parent; unpickling it in a worker fails, as a worker that cannot
    start (an example script without its main guard, a broken installation) does."""

    def __reduce__(self):
        return (_refuse_to_load, ())


def test_workers_that_cannot_start_are_one_clear_error_not_bad_files(tmp_path):
    scorer = Scorer(profile=_Unloadable(), jobs=2)
    results = []
    jobs = [_Job(str(tmp_path / f"{i}.xlsx"), BASE, tmp_path / "out") for i in range(3)]
    with pytest.raises(WorkerStartError) as exc:
        scorer.run(jobs, lambda job, result, retry: results.append((job, result)))
    assert results == []  # no file is reported as unreadable for it
    assert "评分进程无法启动" in str(exc.value) and 'if __name__ == "__main__":' in str(exc.value)
    assert Path(BASE).is_file()
