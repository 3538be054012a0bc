"""The shape of the package: stages import only downward, shared words live in vocab.py only."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from perfeval_xlsx import vocab

PACKAGE = Path(__file__).resolve().parent.parent / "perfeval_xlsx"

#: the pipeline, bottom first: a stage may import the stages before it, never those after it
LOWER_STAGES = ("forms", "reading", "rules")
UPPER = ("output", "batch", "mail", "console", "cli", "report")


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        yield rel, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _imported(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.level:
                raise AssertionError(f"relative import in {tree}: use absolute perfeval_xlsx imports")
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return {n for n in names if n == "perfeval_xlsx" or n.startswith("perfeval_xlsx.")}


def test_forms_reading_rules_never_import_output_batch_mail_console_or_cli():
    offenders = []
    for rel, tree in _modules():
        if rel.parts[0] not in LOWER_STAGES:
            continue
        for name in _imported(tree):
            stage = name.split(".")[1] if "." in name else ""
            if stage in UPPER:
                offenders.append(f"{rel} imports {name}")
    assert offenders == []


def test_forms_do_not_import_reading_or_rules_and_reading_does_not_import_rules():
    offenders = []
    order = {"forms": 0, "reading": 1, "rules": 2}
    for rel, tree in _modules():
        own = order.get(rel.parts[0])
        if own is None:
            continue
        for name in _imported(tree):
            stage = name.split(".")[1] if "." in name else ""
            if stage in order and order[stage] > own:
                offenders.append(f"{rel} imports {name}")
    assert offenders == []


def test_the_layering_test_sees_a_violation():
    tree = ast.parse("from perfeval_xlsx.output.writer import write_scored_copy\n")
    assert _imported(tree) == {"perfeval_xlsx.output.writer"}


# --------------------------------------------------------------------------- one vocabulary

#: every word vocab.py defines that a finance officer reads, and the file names of the outputs
SHARED_WORDS = sorted({
    *vocab.STATUS_LABEL.values(), *vocab.GRADES, vocab.PROVISIONAL, *vocab.QUAL_LONG,
    vocab.SHEET_SUMMARY, vocab.SHEET_DETAIL, vocab.SHEET_ISSUES, vocab.SHEET_INSTRUCTIONS,
    vocab.ROLLUP_SUMMARY, vocab.ROLLUP_DETAIL, vocab.ROLLUP_CHARTS, vocab.ROLLUP_SKIPPED,
    vocab.BATCH_FILE, vocab.CACHE_FILE, vocab.LOCK_FILE, vocab.MAIL_LOG, vocab.PASSWORD_ENV,
    vocab.FONT, vocab.TITLE_FONT, vocab.SCORED_TAG,
})
#: words that are also ordinary single characters of other texts: only whole constants count
WHOLE_ONLY = set(vocab.GRADES) | {vocab.FONT, vocab.TITLE_FONT}


def _docstring_nodes(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = getattr(node, "body", [])
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def _literal_copies(source: str, filename: str) -> list[str]:
    tree = ast.parse(source, filename=filename)
    docs = _docstring_nodes(tree)
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)) or id(node) in docs:
            continue
        text = node.value
        for word in SHARED_WORDS:
            if word in WHOLE_ONLY and filename.startswith("reading/"):
                continue  # the parser reads single characters (中 of 中旬) that are not grades
            if text == word:
                found.append(f"{filename}:{node.lineno}: {text!r}")
    return found


def test_no_copy_of_a_shared_word_outside_vocab():
    offenders = []
    for rel, _tree in _modules():
        if rel.name == "vocab.py":
            continue
        offenders += _literal_copies((PACKAGE / rel).read_text(encoding="utf-8"), str(rel))
    assert offenders == []


@pytest.mark.parametrize("source", ['x = "待更正"\n', 'SHEET = "评分汇总"\n', 'f = {"font_name": "宋体"}\n',
                                    'p = "perfeval-batch.json"\n'])
def test_the_literal_test_sees_a_copy(source):
    assert _literal_copies(source, "example.py") != []
