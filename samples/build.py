"""Build the sample workbooks from their readable definitions (samples/definitions/*.toml).

    python samples/build.py            # rewrite samples/*.xlsx, samples/broken/*.xlsx,
                                       # samples/manifest.json and samples/README.md
    python samples/build.py --out DIR  # build into another folder (the tests compare)

Each definition is the form's content in plain TOML; a file in definitions/broken/ names a
`base` and lists the one `[[change]]` that makes it broken. Expected findings name a row and a
field; the builder resolves them to the cell the writer put that value in, and records them in
manifest.json, which the tests of the reader and the scorer read.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from perfeval_xlsx.forms.content import DefinitionError, content_from_dict, load_definition  # noqa: E402
from perfeval_xlsx.output.template import write_form  # noqa: E402


def _resolve(finding: dict, content, cells: dict[str, str], where: str) -> dict:
    finding = dict(finding)
    if "cell_of" in finding:
        key = finding.pop("cell_of")
    else:
        section = finding.pop("section", "indicators")
        match = finding.pop("match")
        rows = getattr(content, section)
        hits = [i for i, r in enumerate(rows) if all(getattr(r, k) == v for k, v in match.items())]
        if len(hits) != 1:
            raise DefinitionError(f"{where}: expected finding {match} matches {len(hits)} rows")
        key = f"{section}[{hits[0]}].{finding['field']}"
    finding["cell"] = cells[key]
    finding.setdefault("field", key.rsplit(".", 1)[-1])
    finding["sheet"] = content.form_layout.sheet_name
    return finding


def build(out: Path) -> list[dict]:
    definitions = HERE / "definitions"
    jobs = [(p, out) for p in sorted(definitions.glob("*.toml"))]
    jobs.append((definitions / "broken" / "_base.toml", out))
    jobs += [(p, out / "broken") for p in sorted((definitions / "broken").glob("[!_]*.toml"))]
    manifest = []
    for path, folder in jobs:
        data = load_definition(path)
        sample = data.get("sample", {})
        content = content_from_dict(data, where=str(path.relative_to(HERE)))
        target = folder / sample["file"]
        cells = write_form(content, target)
        manifest.append({
            "file": str(target.relative_to(out)),
            "definition": str(path.relative_to(HERE)),
            "title": sample["title"],
            "layout": content.layout,
            "source": sample.get("source", ""),
            "description": sample["description"],
            "expected": sample["expected"],
            "project": content.header.project,
            "findings": [_resolve(f, content, cells, str(path)) for f in sample.get("findings", [])],
        })
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    (out / "README.md").write_text(_readme(manifest), encoding="utf-8")
    return manifest


def _readme(manifest: list[dict]) -> str:
    lines = [
        "# 示例工作簿（samples）",
        "",
        "本文件夹中的工作簿由 `samples/definitions/` 下可读的 TOML 定义生成，请勿手工修改 .xlsx：",
        "修改定义后运行 `python samples/build.py` 重新生成（本说明和 `manifest.json` 也随之更新）。",
        "测试会重新生成一遍并与这里的文件逐格比较。",
        "",
        "| 文件 | 内容 | 预期结果 |",
        "| --- | --- | --- |",
    ]
    for m in manifest:
        where = "；".join(f"`{f['code']}` 于 {f['sheet']}!{f['cell']}" for f in m["findings"])
        expected = m["expected"] + (f"（{where}）" if where else "")
        lines.append(f"| `{m['file']}` | {m['title']}。{m['description']} | {expected} |")
    lines += [
        "",
        "- 种子 001、种子 000 的数字取自 `shared/seeds/` 中的两份原始报告；种子 000 的报告没有指标表，",
        "  实际完成值取自报告正文，目标值为我们按报告表述设定（定义文件的注释逐条说明）。",
        "- `broken/` 中每个文件都是基准表的副本，只改了一处，是各单位填表时最常见的错误；",
        "  预期问题的代码、单元格见上表及 `manifest.json`。",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=HERE, help="output folder (default: samples/)")
    args = parser.parse_args()
    manifest = build(args.out)
    print(f"built {len(manifest)} workbooks into {args.out}")


if __name__ == "__main__":
    main()
