"""Write the generated parts of the documentation from the code, or check that they are current.

    python docs/build.py          # rewrite the generated blocks
    python docs/build.py --check  # exit 1 (and say which block) when a block is out of date (CI)

Generated blocks sit between ``<!-- generated:NAME -->`` and ``<!-- /generated:NAME -->``:

- ``commands`` in README.md: every command with its options and their help, read from the typer app;
- ``profile`` in docs/rules.md: every profile field with its value in each shipped profile and the
  comment the profile file gives it, read from perfeval_xlsx/rules/profiles/*.toml;
- ``findings`` in docs/rules.md: the findings catalogue, from perfeval_xlsx/rules/findings.py.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


# --------------------------------------------------------------------------- commands


def commands_block() -> str:
    import typer.main

    from perfeval_xlsx.cli import app

    root = typer.main.get_command(app)
    context = type(root.make_context("perfeval", ["--help"], resilient_parsing=True))
    ctx = context(root, info_name="perfeval")
    out: list[str] = []
    for name in root.list_commands(ctx):
        cmd = root.get_command(ctx, name)
        sub = context(cmd, info_name=name, parent=ctx)
        usage = re.sub(r"\{(\w+)\}", lambda m: m.group(1).upper(), " ".join(cmd.collect_usage_pieces(sub)))
        summary = (cmd.help or "").strip().split("\n\n")[0].replace("\n", "")
        out.append(f"#### `perfeval {name} {usage}`\n\n{summary}\n")
        rows = []
        for param in cmd.get_params(sub):
            if param.name == "help":
                continue
            record = param.get_help_record(sub) if param.param_type_name == "option" else None
            if record is None:  # an argument
                names = f"`{param.make_metavar(sub) if hasattr(param, 'make_metavar') else param.name}`"
                help_text = getattr(param, "help", "") or ""
            else:
                names = f"`{record[0]}`"
                help_text = record[1]
            rows.append(f"| {_cell(names)} | {_cell(help_text)} |")
        if rows:
            out.append("| 参数 | 说明 |\n| --- | --- |\n" + "\n".join(rows) + "\n")
        example = re.search(r"(?:Example:|示例：)\s*(.+)", cmd.help or "")
        if example:
            out.append(f"例：`{example.group(1).strip()}`\n")
    return "\n".join(out)


# --------------------------------------------------------------------------- profile


#: tables that map words to words or numbers: one field each, not one per key
MAP_TABLES = ("level1", "level1_aliases", "synonyms", "aliases")


def _flatten(data: dict, prefix: str = "") -> dict[str, object]:
    flat: dict[str, object] = {}
    for key, value in data.items():
        path = f"{prefix}{key}" if not prefix else f"{prefix}.{key}"
        if isinstance(value, dict) and key not in MAP_TABLES:
            flat.update(_flatten(value, path))
        else:
            flat[path] = value
    return flat


def _comments(text: str) -> dict[str, str]:
    """`key = value  # comment` and `[table]  # comment` lines of a profile file, by dotted path."""
    comments: dict[str, str] = {}
    table = ""
    for line in text.splitlines():
        m = re.match(r"^\[([^\]]+)\]\s*(?:#\s*(.*))?$", line.strip())
        if m:
            table = m.group(1)
            if m.group(2):
                comments[table] = m.group(2).strip()
            continue
        m = re.match(r'^"?([^"=\s]+)"?\s*=.*?#\s*(.*)$', line.strip())
        if m:
            key = f"{table}.{m.group(1)}" if table else m.group(1)
            comments[key] = m.group(2).strip()
    return comments


def _shown(value: object) -> str:
    if isinstance(value, dict):
        items = list(value.items())
        shown = "；".join(f"{k} = {_shown(v)}" for k, v in items[:8])
        return f"{shown}；…（共 {len(items)} 项）" if len(items) > 8 else shown
    if isinstance(value, list):
        shown = ", ".join(_shown(v) for v in value[:8])
        return f"[{shown}, …（共 {len(value)} 项）]" if len(value) > 8 else f"[{shown}]"
    if isinstance(value, str):
        return f'"{value}"'
    return str(value)


def profile_block() -> str:
    from perfeval_xlsx.rules.profile import PROFILE_DIR

    files = sorted(PROFILE_DIR.glob("*.toml"))
    texts = {p.stem: p.read_text(encoding="utf-8") for p in files}
    data = {name: _flatten(tomllib.loads(text)) for name, text in texts.items()}
    comments: dict[str, str] = {}
    for text in texts.values():
        for key, comment in _comments(text).items():
            comments.setdefault(key, comment)
    keys: list[str] = []
    for flat in data.values():
        keys += [k for k in flat if k not in keys]
    names = list(data)
    head = "| field | " + " | ".join(f"`{n}`" for n in names) + " | meaning (from the profile file) |"
    rows = [head, "| --- | " + " | ".join("---" for _ in names) + " | --- |"]
    for key in keys:
        table = key.rsplit(".", 1)[0] if "." in key else ""
        meaning = comments.get(key) or comments.get(table, "")
        values = " | ".join(_cell(_shown(data[n][key])) if key in data[n] else "—" for n in names)
        rows.append(f"| `{key}` | {values} | {_cell(meaning)} |")
    return "\n".join(rows) + "\n"


# --------------------------------------------------------------------------- findings


def findings_block() -> str:
    from perfeval_xlsx.rules.findings import catalogue_markdown

    return catalogue_markdown(with_scope=True).rstrip("\n") + "\n"


# --------------------------------------------------------------------------- files

BLOCKS = {
    "commands": (ROOT / "README.md", commands_block),
    "profile": (ROOT / "docs" / "rules.md", profile_block),
    "findings": (ROOT / "docs" / "rules.md", findings_block),
}


def render(text: str, name: str, body: str) -> str:
    start, end = f"<!-- generated:{name} -->", f"<!-- /generated:{name} -->"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    if not pattern.search(text):
        raise SystemExit(f"{name}: markers {start} … {end} not found")
    return pattern.sub(lambda _m: f"{start}\n{body}{end}", text)


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    by_file: dict[Path, str] = {}
    for name, (path, build) in BLOCKS.items():
        text = by_file.get(path, path.read_text(encoding="utf-8"))
        new = render(text, name, build())
        if new != text:
            stale.append(f"{path.relative_to(ROOT)} ({name})")
        by_file[path] = new
    if check:
        if stale:
            print("out of date, run `python docs/build.py`: " + ", ".join(stale))
            return 1
        return 0
    for path, text in by_file.items():
        if path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
