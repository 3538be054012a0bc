"""perfeval-xlsx: 项目支出绩效自评表 — template, read and validate, score, batch, send upward.

The library is the product; the `perfeval` command is a thin layer over it. Heavy modules
(pandas, openpyxl, xlsxwriter) are imported by the functions that need them, so that
`import perfeval_xlsx` and `perfeval --help` stay fast.
"""

__version__ = "0.1.0"

__all__ = ["__version__", "write_template", "write_form"]


def __getattr__(name: str):
    if name in ("write_template", "write_form"):
        from perfeval_xlsx.output import template

        return getattr(template, name)
    raise AttributeError(f"module 'perfeval_xlsx' has no attribute {name!r}")
