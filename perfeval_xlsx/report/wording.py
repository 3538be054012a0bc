"""Report wording templates: every sentence of a drafted report, as data a finance office edits.

A template is a TOML file (the same kind of file as a scoring profile), chosen by name
(``standard``, shipped in ``report/templates/``) or by path. Why TOML rather than a .docx
template: the report's paragraphs depend on the form (one per indicator, one per 一级 group,
sentences left out when the form has no figure for them), and Jinja tags inside a Word file
break as soon as Word splits a run while someone edits it; a TOML file is plain text with
comments, edited in Notepad, diffed and validated line by line, and the typography is ours.

Format, documented at the top of ``standard.toml``:

- each value is a paragraph with ``{placeholders}``; a placeholder the form has no value for
  becomes ``【请填写：…】``;
- a value may be an array of fragments: a fragment with a placeholder that has no value is
  left out, and the whole paragraph when all fragments with placeholders are;
- ``""`` leaves the paragraph out.

A user's template needs only the keys it changes: the rest comes from ``standard``. Unknown
keys, wrong types and unknown placeholders are a TemplateError naming the file and the key.
"""

from __future__ import annotations

import hashlib
import json
import string
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from perfeval_xlsx.errors import TemplateError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
DEFAULT_TEMPLATE = "standard"

#: the placeholders a template may use, with the words a 【请填写：…】 uses for a missing value
PLACEHOLDERS: dict[str, str] = {
    # the form
    "project": "项目名称", "department": "主管部门", "unit": "实施单位", "year": "年度", "form_title": "表名",
    "total": "总分", "grade": "评价等级", "profile": "评分规则", "errors": "错误数", "warnings": "预警数",
    "budget_initial": "年初预算数", "budget": "全年预算数", "received": "实际到位资金", "spent": "全年执行数",
    "parts": "资金来源分项", "label": "分项名称", "execution_rate": "预算执行率", "arrival_rate": "资金到位率",
    "execution_score": "预算执行率得分", "execution_weight": "预算执行率分值",
    "goal_planned": "年度总体目标", "goal_actual": "年度总体目标实际完成情况",
    "indicator_count": "指标个数", "level1_count": "一级指标个数", "level2_count": "二级指标个数",
    "level3_count": "三级指标个数", "indicator_kinds": "各类指标个数", "goal_count": "绩效指标个数",
    "met_count": "达到指标值的指标数", "missed_count": "未达到指标值的指标数", "over_count": "超过指标值较多的指标数",
    "na_count": "不适用的指标数", "missed_names": "未达到指标值的指标", "over_names": "超过指标值较多的指标",
    "overshoot": "超额比例", "bands": "等级划分", "band": "等级", "lower": "下限", "upper": "上限",
    "qual_bands": "定性指标得分区间", "reverse_rule": "反向指标计分办法", "level1_scores": "各一级指标得分",
    # one group or indicator
    "group": "一级指标", "level1": "一级指标", "level2": "二级指标", "name": "指标名称",
    "target": "年度指标值", "actual": "实际完成值", "completion": "完成率", "score": "得分", "weight": "分值",
    "excess": "超出比例", "deviation": "偏离比例", "late_days": "逾期天数", "reason": "偏差原因",
    "reason_text": "偏差原因", "problem": "错误说明", "severity": "类别", "message": "问题说明",
    # the page
    "page": "页码",
    # the summary report
    "date": "日期", "files": "自评表份数", "file": "文件名", "status_counts": "各状态份数", "status": "状态",
    "count": "个数", "share": "占比", "skipped": "未处理文件数", "average": "平均总分", "graded": "计入平均分的份数",
    "provisional": "待更正份数", "grade_counts": "各等级项目数", "lowest": "低分项目个数", "problem_kinds": "问题种类数",
}

#: tables whose keys are a template's own (names of 一级 indicators → their heading words)
OPEN_TABLES = frozenset({"analysis.groups"})

_FORMATTER = string.Formatter()


@dataclass(frozen=True)
class Wording:
    """A loaded template: `data` is the standard template with the user's keys laid over it."""

    name: str
    source: str
    data: dict[str, Any]

    @property
    def key(self) -> str:
        """Identifies the wording (the batch cache re-drafts reports when it changes)."""
        blob = json.dumps(self.data, ensure_ascii=False, sort_keys=True).encode("utf-8")
        return hashlib.sha256(blob).hexdigest()[:16]

    def get(self, dotted: str) -> Any:
        node: Any = self.data
        for part in dotted.split("."):
            node = node[part]
        return node

    def render(self, dotted: str, facts: Mapping[str, Any]) -> str | None:
        """The paragraph `dotted` with `facts` filled in; None when it is left out."""
        return render(self.get(dotted), facts)

    @property
    def style(self) -> dict[str, Any]:
        return self.data["style"]


def render(value: Any, facts: Mapping[str, Any]) -> str | None:
    """A string: every placeholder filled (a missing value becomes 【请填写：…】). A list of
    fragments: those whose placeholders all have values, joined; when every fragment that has a
    placeholder is left out, the whole paragraph is. "" or nothing left: None."""
    if isinstance(value, list):
        out, kept = [], False
        for fragment in value:
            text = _fill(fragment, facts, drop=True)
            if text is not None:
                out.append(text)
                kept = kept or _has_placeholder(fragment)
        return "".join(out) if kept else None
    text = _fill(value, facts, drop=False)
    return text or None


def _has_placeholder(text: str) -> bool:
    return any(field is not None for _, field, _, _ in _FORMATTER.parse(text))


def _fill(text: str, facts: Mapping[str, Any], *, drop: bool) -> str | None:
    parts: list[str] = []
    for literal, field, _spec, _conv in _FORMATTER.parse(text):
        parts.append(literal)
        if field is None:
            continue
        value = facts.get(field)
        if value is None:
            if drop:
                return None
            value = f"【请填写：{PLACEHOLDERS.get(field, field)}】"
        parts.append(str(value))
    return "".join(parts)


def available_templates() -> list[str]:
    return sorted(p.stem for p in TEMPLATE_DIR.glob("*.toml"))


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise TemplateError(f"找不到报告模板文件“{path}”。") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TemplateError(f"报告模板文件“{path}”无法读取：{exc}。") from None
    except tomllib.TOMLDecodeError as exc:
        raise TemplateError(f"报告模板文件“{path}”格式有误：{exc}。请检查引号和方括号是否成对。") from None


def load_template(name_or_path: str | Path | None = None) -> Wording:
    """A shipped template by name (``standard``) or a .toml file by path; None: ``standard``."""
    base_path = TEMPLATE_DIR / f"{DEFAULT_TEMPLATE}.toml"
    base = _read(base_path)
    if name_or_path is None or str(name_or_path) in ("", DEFAULT_TEMPLATE):
        data, source = base, str(base_path)
    else:
        text = str(name_or_path)
        path = Path(text)
        if not text.lower().endswith(".toml"):
            path = TEMPLATE_DIR / f"{text}.toml"
            if not path.exists():
                raise TemplateError(f"未知的报告模板“{text}”。可选：{'、'.join(available_templates())}，或给出 .toml 文件路径。")
        own = _read(path)
        source = str(path)
        data = _merge(base, own, "", source)
    _check_placeholders(data, "", source)
    return Wording(name=str(data.get("name", Path(source).stem)), source=source, data=data)


def _merge(base: dict[str, Any], own: dict[str, Any], where: str, source: str) -> dict[str, Any]:
    out = dict(base)
    for key, value in own.items():
        dotted = f"{where}.{key}" if where else key
        if key not in base:
            known = "、".join(f"[{k}]" if isinstance(base[k], dict) else k for k in base)
            raise TemplateError(f"报告模板“{source}”：不认识的项目“{dotted}”。请检查拼写（本节可用：{known}）。")
        expected = base[key]
        if isinstance(expected, dict):
            if not isinstance(value, dict):
                raise TemplateError(f"报告模板“{source}”：[{dotted}] 应为一节（表），实际为“{value}”。")
            if dotted in OPEN_TABLES:
                _check_open(value, dotted, source)
                out[key] = {**expected, **value}
            else:
                out[key] = _merge(expected, value, dotted, source)
        elif isinstance(expected, bool):
            if not isinstance(value, bool):
                raise TemplateError(f"报告模板“{source}”：{dotted} 应为 true 或 false，实际为“{value}”。")
            out[key] = value
        elif isinstance(expected, (int, float)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise TemplateError(f"报告模板“{source}”：{dotted} 应为不小于 0 的数字，实际为“{value}”。")
            out[key] = value
        elif key.endswith("headers"):
            if not isinstance(value, list) or len(value) != len(expected) or not all(isinstance(v, str) for v in value):
                raise TemplateError(f"报告模板“{source}”：{dotted} 应为 {len(expected)} 个栏目名称组成的数组。")
            out[key] = value
        else:
            if isinstance(value, list):
                if not all(isinstance(v, str) for v in value):
                    raise TemplateError(f"报告模板“{source}”：{dotted} 的数组中每一项都应为文字（用引号括起）。")
            elif not isinstance(value, str):
                raise TemplateError(f"报告模板“{source}”：{dotted} 应为文字（用引号括起），实际为“{value}”。")
            out[key] = value
    return out


def _check_open(value: dict[str, Any], dotted: str, source: str) -> None:
    for k, v in value.items():
        if not isinstance(v, str):
            raise TemplateError(f"报告模板“{source}”：{dotted}.{k} 应为文字（用引号括起）。")


def _check_placeholders(node: Any, where: str, source: str) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            _check_placeholders(value, f"{where}.{key}" if where else key, source)
        return
    texts = node if isinstance(node, list) else [node]
    for text in texts:
        if not isinstance(text, str):
            continue
        try:
            fields = list(_FORMATTER.parse(text))
        except ValueError:
            raise TemplateError(f"报告模板“{source}”：{where} 中的花括号不成对：“{text}”。占位符写成 {{名称}}，"
                                "花括号本身写成 {{{{ 或 }}}}。") from None
        for _literal, field, spec, conv in fields:
            if field is None:
                continue
            if field not in PLACEHOLDERS or spec or conv:
                raise TemplateError(f"报告模板“{source}”：{where} 中有不认识的占位符 {{{field}}}。"
                                    "可用的占位符见 standard.toml 开头和各节的说明。")
