"""A TOML syntax error in Chinese: where it is and what is wrong, without the parser's English.

tomllib (and tomli) raise ``TOMLDecodeError("Expected '=' after a key in a key/value pair (at
line 3, column 5)")``; their messages are a short fixed list, translated here.
"""

from __future__ import annotations

import re

_WHERE = re.compile(r"\s*\(at (?:line (\d+), column (\d+)|end of document)\)\s*$")

#: tomllib's messages (3.11–3.13, tomli 2.x), most specific first
_MESSAGES: tuple[tuple[str, str], ...] = (
    (r"Illegal character '\\n'", "文字缺少结尾的英文双引号（一段文字要写在同一行内）"),
    (r"Expected newline or end of document after a statement", "一行只能写一个“键 = 值”，值后面多出了内容"),
    (r"Expected '=' after a key", "键后面应有“=”，如 smtp = \"smtp.example.cn:587\""),
    (r"Expected ']' at the end of a table declaration", "表名应以“]”结尾，如 [mail]"),
    (r"Expected ']]' at the end of an array declaration", "表数组名应以“]]”结尾"),
    (r"Invalid initial character for a key part", "键名中有不允许的字符（键名只能用字母、数字、-、_，或加英文双引号）"),
    (r"Invalid value", "值的写法不对：文字要加英文双引号，如 to = \"jxk@example.cn\"；数字、true/false 不加引号"),
    (r"Invalid statement", "这一行不是“键 = 值”，也不是 [表名]"),
    (r"Unterminated string", "文字缺少结尾的英文双引号"),
    (r"Unclosed array", "列表缺少结尾的“]”"),
    (r"Unclosed inline table", "内嵌表缺少结尾的“}”"),
    (r"Cannot declare .* twice", "同一个表写了两次"),
    (r"Cannot overwrite a value", "同一个键写了两次"),
    (r"Duplicate inline table key", "内嵌表中同一个键写了两次"),
    (r"Cannot mutate immutable namespace", "不能给已写完的内嵌表或列表再加键"),
    (r"Cannot redefine namespace", "同一个表写了两次"),
    (r"Invalid date or datetime", "日期或时间的写法不对，应如 2024-12-31"),
    (r"Invalid hex value|Escaped character is not a Unicode scalar value", "文字中的“\\u”转义写法不对"),
    (r"Unescaped '\\\\' in a string", "文字中的“\\”要写成“\\\\”，或改用单引号"),
    (r"Illegal character|Found invalid character", "有不允许的字符（如中文引号、全角符号或不可见的控制字符）"),
    (r"Expected ", "缺少应有的符号"),
)


def toml_error_text(exc: Exception) -> str:
    """``第 3 行第 5 列：键后面应有“=”…`` for a TOMLDecodeError."""
    text = str(getattr(exc, "msg", "") or exc)
    where = ""
    found = _WHERE.search(str(exc))
    if found:
        where = f"第 {found.group(1)} 行第 {found.group(2)} 列：" if found.group(1) else "文件末尾："
        text = str(exc)[:found.start()]
    elif getattr(exc, "lineno", None):
        where = f"第 {exc.lineno} 行第 {getattr(exc, 'colno', 1)} 列："
    for pattern, chinese in _MESSAGES:
        if re.search(pattern, text):
            return where + chinese
    return where + "格式不符合 TOML 的写法"
