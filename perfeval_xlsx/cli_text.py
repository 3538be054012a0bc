"""Every word of the command line in Chinese: help pages, usage lines, metavars, usage errors.

typer and click write their own texts in English ("Usage:", "Options", "Show this message and
exit.", "Missing argument 'files'.", "Invalid value for '--max-size': …"), and typer 0.29 keeps
its own copy of click whose messages are plain f-strings, so there is no message catalogue to
translate. Instead, through click's public interfaces only:

- `localize(command)` walks the command tree built from the typer app: each command's context
  makes a `ChineseHelpFormatter` (the usage prefix, the section headings and the help texts
  click and typer add are written in Chinese), `[OPTIONS]`/`COMMAND [ARGS]...` and every
  metavar get Chinese names;
- `usage_message(exc)` builds the Chinese message of a usage error from the exception's kind
  and fields (the parameter, the option name, the value given), never from its English text.

A command added later is covered as well: the walk reaches it, and an ASCII metavar nobody named
here is replaced by the Chinese word for its type.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

USAGE_PREFIX = "用法："
OPTIONS_METAVAR = "[选项]"
SUBCOMMAND_METAVAR = "命令 [参数]..."
HEADINGS = {"Options": "选项", "Commands": "命令", "Arguments": "参数", "Usage": "用法"}

#: metavars written in cli.py, by their English name
METAVARS = {
    "INBOX": "收表文件夹", "OUTBOX": "输出文件夹", "N": "进程数", "SECONDS": "秒数", "ADDR": "地址",
    "TEXT": "文字", "MB": "兆字节数", "HOST[:PORT]": "服务器[:端口]", "NAME": "用户名", "FILE": "文件",
    "DIR": "文件夹", "FILE_OR_FOLDER": "文件或文件夹", "FOLDER": "文件夹", "PATH": "路径",
}
#: parameters without a metavar of their own, by name
PARAMETER_WORDS = {
    "files": "文件或文件夹", "file": "文件", "output": "文件或文件夹", "profile": "规则", "inbox": "收表文件夹",
    "outbox": "输出文件夹", "config": "配置文件",
}
TYPE_WORDS = {"path": "路径", "str": "文字", "text": "文字", "string": "文字", "int": "整数", "integer": "整数",
              "float": "数字", "number": "数字", "bool": "是或否", "boolean": "是或否", "choice": "选项",
              "datetime": "日期", "date": "日期"}
EXPECTED = {"整数": "一个整数，如 4", "数字": "一个数字，如 20 或 2.5", "路径": "一个文件或文件夹的路径",
            "文字": "一段文字", "是或否": "是或否", "日期": "一个日期，如 2024-12-31"}

#: texts click and typer put into help pages
_HELP_TEXTS = (
    (re.compile(r"Show this message and exit\.?"), "显示本帮助并退出。"),
    (re.compile(r"\[default: ([^\]]*)\]"), r"[默认：\1]"),
    (re.compile(r"\[required\]"), "[必填]"),
    (re.compile(r"\bdefault: "), "默认："),
    (re.compile(r"\brequired\b"), "必填"),
    (re.compile(r"\benv var: "), "环境变量："),
    (re.compile(r"\(dynamic\)"), "（动态）"),
    (re.compile(r"\(deprecated\)\s*"), "（已弃用）"),
    (re.compile(r"\bx>=(\S+)"), r"不小于 \1"),
    (re.compile(r"\bx<=(\S+)"), r"不大于 \1"),
)
_TYPE_HINT = re.compile(r"\s*<[^<>]*>")  # typer's "<path>", "<str>" after an argument
_REQUIRED_BRACES = re.compile(r"\{([^{}\s]+)\}")  # typer writes a required argument as {NAME}


def _help_text(text: str) -> str:
    for pattern, replacement in _HELP_TEXTS:
        text = pattern.sub(replacement, text)
    return text


def display_width(text: str) -> int:
    """Columns a text takes in a terminal: Chinese and full-width characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


_NO_LINE_START = set("，。、；：？！）》」』”’%")


def wrap(text: str, width: int) -> list[str]:
    """Break `text` into lines of at most `width` columns: between any two Chinese characters,
    at spaces in Latin text, never before a closing punctuation mark."""
    lines: list[str] = []
    for raw in text.split("\n"):
        tokens = re.findall(r"[A-Za-z0-9_\-./:\\~$@<>{}\[\]|=+*'\"#&]+|\s+|.", raw)
        line, used = "", 0
        for token in tokens:
            w = display_width(token)
            if token.isspace():
                if line and used + w <= width:
                    line, used = line + " ", used + 1
                continue
            if used + w > width and line and token[0] not in _NO_LINE_START:
                lines.append(line.rstrip())
                line, used = "", 0
            line, used = line + token, used + w
        lines.append(line.rstrip())
    return lines


def _formatter_class(base: type) -> type:
    class ChineseHelpFormatter(base):  # type: ignore[misc, valid-type]
        """click's help formatter, writing the texts of click and typer in Chinese and lining
        up and wrapping Chinese text by its width on screen."""

        def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
            args = _REQUIRED_BRACES.sub(r"\1", args.replace("[OPTIONS]", OPTIONS_METAVAR)
                                        .replace("COMMAND [ARGS]...", SUBCOMMAND_METAVAR))
            super().write_usage(prog, args, prefix=USAGE_PREFIX)

        def write_heading(self, heading: str) -> None:
            self.write(f"{'':>{self.current_indent}}{HEADINGS.get(heading, heading)}：\n")

        def write_text(self, text: str) -> None:
            indent = " " * self.current_indent
            for line in wrap(_help_text(text), max(self.width - self.current_indent, 20)):
                self.write(f"{indent}{line}\n" if line else "\n")

        def write_dl(self, rows, col_max: int = 30, col_spacing: int = 2) -> None:
            rows = [(_TYPE_HINT.sub("", term), _help_text(text or "")) for term, text in rows]
            widths = [display_width(term) for term, _ in rows]
            first = min(max(widths, default=0), col_max) + col_spacing
            indent = " " * self.current_indent
            room = max(self.width - first - self.current_indent, 20)
            for (term, text), w in zip(rows, widths, strict=True):
                self.write(f"{indent}{term}")
                if not text:
                    self.write("\n")
                    continue
                if w <= first - col_spacing:
                    self.write(" " * (first - w))
                else:
                    self.write("\n" + indent + " " * first)
                lines = wrap(text, room)
                self.write(lines[0] + "\n")
                for line in lines[1:]:
                    self.write(f"{indent}{' ' * first}{line}\n")

    return ChineseHelpFormatter


_CONTEXTS: dict[type, type] = {}


def _context_class(base: type) -> type:
    if base not in _CONTEXTS:
        formatter = _formatter_class(base.formatter_class)
        _CONTEXTS[base] = type("ChineseContext", (base,), {"formatter_class": formatter})
    return _CONTEXTS[base]


def _type_word(param: Any) -> str:
    descriptor = getattr(param, "type_descriptor", None)
    annotation = getattr(descriptor, "annotation", None)
    names = []
    if annotation is not None:
        names.append(getattr(annotation, "__name__", str(annotation)))
        names.extend(getattr(a, "__name__", str(a)) for a in getattr(annotation, "__args__", ()) or ())
    kind = getattr(param, "type", None)
    if kind is not None:
        names.append(getattr(kind, "name", type(kind).__name__))
    for name in names:
        word = TYPE_WORDS.get(str(name).lower().replace("posixpath", "path").replace("windowspath", "path"))
        if word:
            return word
    return "值"


def _metavar(param: Any) -> str | None:
    current = getattr(param, "metavar", None)
    if current and not current.isascii():
        return current  # already Chinese
    if current in METAVARS:
        return METAVARS[current]
    name = getattr(param, "name", "") or ""
    if name in PARAMETER_WORDS:
        return PARAMETER_WORDS[name]
    return _type_word(param)


def localize(command: Any) -> Any:
    """Make `command` (a click command or group built from the typer app) and all its
    subcommands speak Chinese; returns it."""
    command.context_class = _context_class(command.context_class)
    if hasattr(command, "options_metavar"):
        command.options_metavar = OPTIONS_METAVAR
    if hasattr(command, "subcommand_metavar"):
        command.subcommand_metavar = SUBCOMMAND_METAVAR
    for param in getattr(command, "params", []):
        kind = getattr(param, "param_type_name", "")
        if kind == "argument" or (kind == "option" and not getattr(param, "is_flag", False)
                                  and not getattr(param, "count", False)):
            param.metavar = _metavar(param)
    for sub in (getattr(command, "commands", None) or {}).values():
        localize(sub)
    return command


# --------------------------------------------------------------------------- usage errors


def _kinds(exc: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(exc).__mro__}


def _param_name(param: Any) -> str:
    """How to name a parameter in a message: --max-size, or the argument's Chinese metavar."""
    if param is None:
        return ""
    if getattr(param, "param_type_name", "") == "option":
        opts = sorted(getattr(param, "opts", []) or [], key=len, reverse=True)
        return opts[0] if opts else str(param.name)
    return f"“{_metavar(param)}”"


def _given(argv: list[str] | None, param: Any) -> str | None:
    """The value the user typed for an option, from the command line."""
    if not argv or param is None or getattr(param, "param_type_name", "") != "option":
        return None
    opts = list(getattr(param, "opts", []) or []) + list(getattr(param, "secondary_opts", []) or [])
    for i, token in enumerate(argv):
        for opt in opts:
            if token == opt and i + 1 < len(argv):
                return argv[i + 1]
            if token.startswith(opt + "="):
                return token[len(opt) + 1:]
    return None


def _quoted(message: str) -> list[str]:
    return re.findall(r"'([^']*)'", message)


def usage_message(exc: BaseException, argv: list[str] | None = None) -> str:
    """The Chinese message of a click/typer usage error (without the “用法错误：” prefix)."""
    kinds = _kinds(exc)
    raw = exc.format_message() if hasattr(exc, "format_message") else str(exc)
    english = str(getattr(exc, "message", raw) or raw)
    param = getattr(exc, "param", None)
    if "MissingParameter" in kinds:
        if param is not None and getattr(param, "param_type_name", "") == "option":
            return f"缺少选项 {_param_name(param)} 的值。"
        return f"缺少参数{_param_name(param)}。"
    if "NoSuchOption" in kinds:
        option = getattr(exc, "option_name", "") or ""
        possible = [p for p in (getattr(exc, "possibilities", None) or []) if p]
        hint = f"是不是要用 {'、'.join(sorted(possible))}？" if possible else ""
        return f"没有选项 {option}。{hint}"
    if "BadOptionUsage" in kinds:
        option = getattr(exc, "option_name", "") or (_quoted(english) or [""])[0]
        if "does not take a value" in english:
            return f"选项 {option} 不带值，请不要在它后面写“=…”。"
        if "requires" in english:
            return f"选项 {option} 后面要写一个值。"
        return f"选项 {option} 的写法不对。"
    if "BadArgumentUsage" in kinds:
        return "参数的个数不对。"
    if "BadParameter" in kinds:
        if _cjk(english):  # a message we wrote ourselves (a callback)
            return english
        name = _param_name(param) or "参数"
        value = _given(argv, param)
        word = _type_word(param) if param is not None else "值"
        expected = EXPECTED.get(word, "正确的值")
        shown = f"“{value}”" if value is not None else ""
        return f"{name} 的值{shown}无效：应为{expected}。"
    # plain UsageError: click's own sentences, recognised by their shape
    if english.startswith("No such command"):
        name = (_quoted(english) or [""])[0]
        ctx = getattr(exc, "ctx", None)
        names = sorted(getattr(getattr(ctx, "command", None), "commands", {}) or {})
        listed = f"可用的命令：{'、'.join(names)}。" if names else ""
        return f"没有命令“{name}”。{listed}"
    if english.startswith("Missing command"):
        return "缺少命令。"
    if english.startswith("Got unexpected extra argument"):
        found = re.search(r"\(([^()]*)\)\s*$", english)
        extra = found.group(1) if found else ""
        return f"多出了参数：{extra}。请检查是否漏写了选项名，含空格的路径要加引号。"
    if _cjk(english):
        return english
    return "命令行的写法不对。"


def _cjk(text: str) -> str:
    """`text` when it is a Chinese sentence (ours), else ""."""
    return text if any("\u4e00" <= ch <= "\u9fff" for ch in text) else ""
