"""Scoring profiles: the rules as data (TOML), chosen by name or by path.

A profile holds every parameter of the rules of scoring-rules.md: default weights, grade
bands, over-completion, the reverse rule, the 定性 bands and synonyms, the not-applicable
policy and rounding. A bad profile file gets a ProfileError that names the field.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from perfeval_xlsx.errors import ProfileError
from perfeval_xlsx.reading.values import Words, normalize_text
from perfeval_xlsx.tomlerror import toml_error_text

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PROFILE_DIR = Path(__file__).resolve().parent / "profiles"
DEFAULT_PROFILE = "mof-2020"
FORM_PROFILES = {"mof-2020": "mof-2020", "framework": "framework-70"}  # form kind → its profile
GRADE_NAMES = ("达成", "部分达成", "未达成")


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    execution_weight: float
    level1_weights: dict[str, float]
    grades: tuple[tuple[str, float], ...]  # (label, lower bound), highest first
    overshoot_ratio: float = 1.3
    overshoot_deduction: float = 0.0
    reverse_rule: str = "linear"
    equal_tolerance: float = 0.0
    na_policy: str = "rescale"
    rounding: int = 2
    self_score_tolerance: float = 0.01
    qualitative_bands: dict[str, tuple[float, float]] = field(default_factory=dict)
    qualitative_synonyms: dict[str, str] = field(default_factory=dict)
    unit_synonyms: tuple[tuple[str, ...], ...] = ()
    source: str = ""
    level1_aliases: dict[str, str] = field(default_factory=dict)
    reading: Reading = field(default_factory=lambda: Reading())

    @property
    def words(self) -> Words:
        return self.reading.words

    def grade_for(self, total: float) -> str:
        for label, lower in self.grades:
            if total >= lower:
                return label
        return self.grades[-1][0]

    def unit_family(self, unit: str) -> str:
        """The first name of a unit's synonym group (本 for 册), else the unit itself."""
        for group in self.unit_synonyms:
            if unit in group:
                return group[0]
        return unit


@dataclass(frozen=True)
class Reading:
    """The word tables that decide how text is read (mof-2020.toml explains each)."""

    words: Words = Words()
    binary: tuple[tuple[str, ...], ...] = ()  # (met, not met…)
    positive: tuple[str, ...] = ()
    scales: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()  # (target, ((level, grade)…))
    partial: tuple[str, ...] = ()
    soft: tuple[str, ...] = ()
    strong: tuple[str, ...] = ()
    negative: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    negating: tuple[str, ...] = ()
    limiting: tuple[str, ...] = ()
    bad: tuple[str, ...] = ()
    generic: tuple[str, ...] = ()
    lower: tuple[str, ...] = ()
    higher: tuple[str, ...] = ()
    lower_units: tuple[str, ...] = ()
    timely_units: tuple[str, ...] = ()
    near_units: tuple[tuple[str, ...], ...] = ()
    incident: tuple[str, ...] = ()
    zero: tuple[str, ...] = ()
    standard: tuple[str, ...] = ()
    rate_names: tuple[str, ...] = ()


# (section, key) of each reading table; a profile without one uses mof-2020's
READING_TABLES = (
    ("qualitative", "synonyms"), ("qualitative", "binary"), ("qualitative", "scales"), ("qualitative", "paraphrase"),
    ("qualitative", "positive"),
    ("direction", None), ("reading", None), ("units", "synonyms"), ("units", "aliases"), ("units", "known"), ("units", "near"),
)


def available_profiles() -> list[str]:
    return sorted(p.stem for p in PROFILE_DIR.glob("*.toml"))


def load_profile(name_or_path: str | Path) -> Profile:
    """A shipped profile by name (`mof-2020`, `framework-70`) or a TOML file by path."""
    text = str(name_or_path)
    path = Path(text)
    if not text.endswith(".toml"):
        path = PROFILE_DIR / f"{text}.toml"
        if not path.exists():
            raise ProfileError(f"未知的评分规则“{text}”。可选：{'、'.join(available_profiles())}，或给出 .toml 文件路径。")
    try:
        stat = path.stat()
        key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
        if key in _LOADED:  # (a batch scores every file by the same profile)
            return _LOADED[key]
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ProfileError(f"找不到评分规则文件“{path}”。") from None
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"评分规则文件“{path}”格式有误：{toml_error_text(exc)}。请改正后再运行。") from None
    profile = profile_from_dict(data, str(path))
    if len(_LOADED) > 32:
        _LOADED.clear()
    _LOADED[key] = profile
    return profile


_LOADED: dict[tuple[str, int, int], Profile] = {}  # profiles read, by file and version


def _number(data: dict, key: str, where: str, *, minimum: float | None = None, maximum: float | None = None,
            default: Any = None) -> float:
    value = data.get(key, default)
    if value is None:
        raise ProfileError(f"{where}：缺少字段“{key}”。")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ProfileError(f"{where}：字段“{key}”应为数字，实际为“{value}”。")
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ProfileError(f"{where}：字段“{key}”={value} 超出范围（{minimum} 到 {maximum}）。")
    return float(value)


def profile_from_dict(data: dict[str, Any], source: str = "profile") -> Profile:
    where = f"评分规则“{source}”"
    known = {"name", "description", "weights", "grades", "rules", "qualitative", "units", "direction", "reading"}
    unknown = set(data) - known
    if unknown:
        raise ProfileError(f"{where}：不认识的字段 {'、'.join(sorted(unknown))}（可用：{'、'.join(sorted(known))}）。")
    weights = data.get("weights", {})
    if not isinstance(weights, dict):
        raise ProfileError(f"{where}：[weights] 应为表。")
    level1 = weights.get("level1", {})
    if not isinstance(level1, dict) or not level1:
        raise ProfileError(f"{where}：缺少字段“weights.level1”（各一级指标的默认分值）。")
    level1_weights = {str(k): _number(level1, k, f"{where} weights.level1", minimum=0, maximum=100) for k in level1}
    execution = _number(weights, "execution", f"{where} weights", minimum=0, maximum=100, default=0)
    if abs(sum(level1_weights.values()) + execution - 100) > 1e-9:
        raise ProfileError(f"{where}：weights.level1 与 weights.execution 合计为 {sum(level1_weights.values()) + execution:g}，应为 100。")
    grades_raw = data.get("grades")
    if not isinstance(grades_raw, dict) or len(grades_raw) < 2:
        raise ProfileError(f"{where}：缺少字段“grades”（如 优 = 90、良 = 80、中 = 60、差 = 0）。")
    grades = tuple((str(k), _number(grades_raw, k, f"{where} grades", minimum=0, maximum=100)) for k in grades_raw)
    if [g[1] for g in grades] != sorted((g[1] for g in grades), reverse=True):
        raise ProfileError(f"{where}：grades 应按分数从高到低排列。")
    rules = data.get("rules", {})
    reverse_rule = rules.get("reverse_rule", "linear")
    if reverse_rule not in ("linear", "ratio"):
        raise ProfileError(f"{where}：字段“rules.reverse_rule”应为 \"linear\" 或 \"ratio\"，实际为“{reverse_rule}”。")
    na_policy = rules.get("na_policy", "rescale")
    if na_policy not in ("rescale", "error"):
        raise ProfileError(f"{where}：字段“rules.na_policy”应为 \"rescale\" 或 \"error\"，实际为“{na_policy}”。")
    rounding = rules.get("rounding", 2)
    if not isinstance(rounding, int) or isinstance(rounding, bool) or not 0 <= rounding <= 6:
        raise ProfileError(f"{where}：字段“rules.rounding”应为 0 到 6 的整数。")
    data = _with_default_tables(data)
    qualitative = dict(data.get("qualitative", {}))
    synonyms = qualitative.pop("synonyms", {})
    for key in ("binary", "scales", "paraphrase", "positive"):
        qualitative.pop(key, None)
    bands: dict[str, tuple[float, float]] = {}
    for grade in GRADE_NAMES:
        band = qualitative.get(grade, {"达成": [0.8, 1.0], "部分达成": [0.6, 0.8], "未达成": [0.0, 0.6]}[grade])
        if (not isinstance(band, list) or len(band) != 2 or not all(isinstance(x, (int, float)) for x in band)
                or not 0 <= band[0] <= band[1] <= 1):
            raise ProfileError(f"{where}：字段“qualitative.{grade}”应为 [下限, 上限]，取 0 到 1 之间的比例。")
        bands[grade] = (float(band[0]), float(band[1]))
    for word, grade in synonyms.items():
        if grade not in GRADE_NAMES:
            raise ProfileError(f"{where}：qualitative.synonyms 中“{word}”对应的“{grade}”不是 达成/部分达成/未达成。")
    unit_synonyms = data.get("units", {}).get("synonyms", [])
    if not all(isinstance(g, list) and all(isinstance(u, str) for u in g) for g in unit_synonyms):
        raise ProfileError(f"{where}：字段“units.synonyms”应为单位名称的列表的列表。")
    aliases = weights.get("level1_aliases", {})
    if not isinstance(aliases, dict) or not all(isinstance(v, str) and v in level1_weights for v in aliases.values()):
        raise ProfileError(f"{where}：字段“weights.level1_aliases”应为 写法 = 一级指标 的表，一级指标须是 weights.level1 中的名称。")
    return Profile(
        name=str(data.get("name", Path(source).stem)),
        description=str(data.get("description", "")),
        execution_weight=execution,
        level1_weights=level1_weights,
        grades=grades,
        overshoot_ratio=_number(rules, "overshoot_ratio", f"{where} rules", minimum=1, default=1.3),
        overshoot_deduction=_number(rules, "overshoot_deduction", f"{where} rules", minimum=0, maximum=1, default=0),
        reverse_rule=reverse_rule,
        equal_tolerance=_number(rules, "equal_tolerance", f"{where} rules", minimum=0, default=0),
        na_policy=na_policy,
        rounding=rounding,
        self_score_tolerance=_number(rules, "self_score_tolerance", f"{where} rules", minimum=0, default=0.01),
        qualitative_bands=bands,
        qualitative_synonyms={str(k): str(v) for k, v in synonyms.items()},
        unit_synonyms=tuple(tuple(g) for g in unit_synonyms),
        source=source,
        level1_aliases={normalize_text(k): v for k, v in aliases.items()},
        reading=_reading(data, synonyms, where),
    )


_DEFAULT_TABLES: dict[str, Any] | None = None


def _with_default_tables(data: dict[str, Any]) -> dict[str, Any]:
    """The profile with each reading table it lacks taken from mof-2020.toml."""
    global _DEFAULT_TABLES
    if _DEFAULT_TABLES is None:
        with (PROFILE_DIR / f"{DEFAULT_PROFILE}.toml").open("rb") as fh:
            _DEFAULT_TABLES = tomllib.load(fh)
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in data.items()}
    for section, key in READING_TABLES:
        default = _DEFAULT_TABLES.get(section, {})
        if key is None:
            if section not in out:
                out[section] = dict(default)
            continue
        table = out.setdefault(section, {})
        if not isinstance(table, dict):
            continue
        if key not in table and key in default:
            table[key] = default[key]
    return out


def _strings(value: Any, name: str, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise ProfileError(f"{where}：字段“{name}”应为文字的列表。")
    return tuple(normalize_text(x) for x in value)


def _reading(data: dict[str, Any], synonyms: dict[str, Any], where: str) -> Reading:
    qualitative, units = data.get("qualitative", {}), data.get("units", {})
    direction, reading = data.get("direction", {}), data.get("reading", {})
    for name, table in (("direction", direction), ("reading", reading)):
        if not isinstance(table, dict):
            raise ProfileError(f"{where}：[{name}] 应为表。")
    pairs = qualitative.get("binary", {}).get("pairs", [])
    if not all(isinstance(p, list) and len(p) >= 2 and all(isinstance(w, str) for w in p) for p in pairs):
        raise ProfileError(f"{where}：字段“qualitative.binary.pairs”应为 [达成的写法, 未达成的写法…] 的列表。")
    scales = []
    for target, levels in qualitative.get("scales", {}).items():
        if not isinstance(levels, dict) or not all(g in GRADE_NAMES for g in levels.values()):
            raise ProfileError(f"{where}：qualitative.scales 中“{target}”应为 等级 = 达成/部分达成/未达成 的表。")
        scales.append((normalize_text(target), tuple((normalize_text(k), v) for k, v in levels.items())))
    paraphrase = qualitative.get("paraphrase", {})
    aliases = units.get("aliases", {})
    if not isinstance(aliases, dict) or not all(isinstance(v, str) for v in aliases.values()):
        raise ProfileError(f"{where}：字段“units.aliases”应为 写法 = 单位 的表。")
    known = _strings(units.get("known", []), "units.known", where)
    phrases = tuple(sorted(((normalize_text(k), str(v)) for k, v in synonyms.items()), key=lambda kv: -len(kv[0])))
    words = Words(
        grade_phrases=phrases,
        units=tuple(sorted(set(known), key=len, reverse=True)),
        unit_aliases=tuple((normalize_text(k), normalize_text(v)) for k, v in aliases.items()),
        comparison=_strings(reading.get("comparison", []), "reading.comparison", where),
        derived=_strings(reading.get("derived", []), "reading.derived", where),
        rising=_strings(reading.get("rising", []), "reading.rising", where),
        falling=_strings(reading.get("falling", []), "reading.falling", where),
        on_time=_strings(reading.get("on_time", []), "reading.on_time", where),
        negations=_strings(reading.get("negations", []), "reading.negations", where),
        partial=_strings(paraphrase.get("partial", []), "qualitative.paraphrase.partial", where),
        approx_prefixes=_strings(reading.get("approx_prefixes", []), "reading.approx_prefixes", where),
        approx_suffixes=_strings(reading.get("approx_suffixes", []), "reading.approx_suffixes", where),
    )
    return Reading(
        words=words,
        binary=tuple(tuple(normalize_text(w) for w in p) for p in pairs),
        positive=_strings(qualitative.get("positive", {}).get("words", []), "qualitative.positive.words", where),
        scales=tuple(scales),
        partial=_strings(paraphrase.get("partial", []), "qualitative.paraphrase.partial", where),
        soft=_strings(paraphrase.get("soft", []), "qualitative.paraphrase.soft", where),
        strong=_strings(paraphrase.get("strong", []), "qualitative.paraphrase.strong", where),
        negative=_strings(paraphrase.get("negative", []), "qualitative.paraphrase.negative", where),
        ignore=_strings(paraphrase.get("ignore", []), "qualitative.paraphrase.ignore", where),
        generic=_strings(paraphrase.get("generic", []), "qualitative.paraphrase.generic", where),
        negating=_strings(paraphrase.get("negating", []), "qualitative.paraphrase.negating", where),
        limiting=_strings(paraphrase.get("limiting", []), "qualitative.paraphrase.limiting", where),
        bad=_strings(paraphrase.get("bad", []), "qualitative.paraphrase.bad", where),
        lower=_strings(direction.get("lower", []), "direction.lower", where),
        higher=_strings(direction.get("higher", []), "direction.higher", where),
        lower_units=_strings(direction.get("lower_units", []), "direction.lower_units", where),
        timely_units=_strings(direction.get("timely_units", []), "direction.timely_units", where),
        near_units=tuple(_strings(g, "units.near", where) for g in units.get("near", [])),
        incident=_strings(direction.get("incident", []), "direction.incident", where),
        zero=_strings(direction.get("zero", []), "direction.zero", where),
        standard=_strings(direction.get("standard", []), "direction.standard", where),
        rate_names=_strings(reading.get("rate_names", []), "reading.rate_names", where),
    )
