"""Write a drafted Report as a .docx with the typography of official documents (python-docx).

党政机关公文格式 (GB/T 9704-2012) as far as a report uses it: A4, 天头 37 mm, 订口 28 mm, a
156 × 225 mm text block of 22 lines; the title in 2号小标宋 (or 宋体 bold), the body in 3号仿宋
with a fixed 28.95 pt line pitch and a two-character first-line indent, 一级标题 in 黑体, 二级
in 楷体, 三级 in bold 仿宋; page numbers “— 1 —” in 4号宋体 in the footer (odd pages right,
even pages left) as a PAGE field. Every font is set for East Asian text too (w:eastAsia in
w:rFonts), or Word and LibreOffice would set the Chinese characters in a Latin font's fallback.
All of it comes from the template's [style] table.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from docx import Document
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_COLOR_INDEX, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from perfeval_xlsx.output.atomic import replacing
from perfeval_xlsx.report.model import (
    BODY,
    HEADING1,
    HEADING2,
    HEADING3,
    NOTICE,
    SIGNATURE,
    SUBTITLE,
    TABLE_TITLE,
    TITLE,
    Paragraph,
    Report,
    Table,
)

PLACEHOLDER = re.compile(r"(【请填写：[^】]*】)")
#: our paragraph styles: (style name in the document, outline level for Word's navigation pane)
STYLE_NAMES = {
    TITLE: ("报告标题", None), SUBTITLE: ("报告副标题", None), NOTICE: ("待更正提示", None),
    HEADING1: ("报告一级标题", 0), HEADING2: ("报告二级标题", 1), HEADING3: ("报告三级标题", 2),
    BODY: ("报告正文", None), TABLE_TITLE: ("报告表题", None), SIGNATURE: ("报告署名", None),
    "cell": ("表格文字", None), "cell_header": ("表头文字", None), "page": ("页码", None),
    "header": ("页眉文字", None),
}


def _set_fonts(rpr_owner: Any, east_asia: str, latin: str) -> None:
    """w:rFonts with ascii/hAnsi = latin and eastAsia = the Chinese font; theme fonts removed."""
    rpr = rpr_owner.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attr), None)
    fonts.set(qn("w:ascii"), latin)
    fonts.set(qn("w:hAnsi"), latin)
    fonts.set(qn("w:cs"), latin)
    fonts.set(qn("w:eastAsia"), east_asia)


def _set_lang(rpr_owner: Any) -> None:
    rpr = rpr_owner.get_or_add_rPr()
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), "zh-CN")


def _paragraph_style(doc: Any, key: str, st: dict[str, Any], *, font: str, size: float, bold: bool = False,
                     align: Any = WD_ALIGN_PARAGRAPH.JUSTIFY, indent_chars: float = 0.0, exact: float | None = None,
                     keep_next: bool = False, latin: str | None = None) -> Any:
    from docx.enum.style import WD_STYLE_TYPE

    name, outline = STYLE_NAMES[key]
    style = doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    style.base_style = doc.styles["Normal"]
    style.quick_style = True
    style.font.size = Pt(size)
    style.font.bold = bold
    style.font.italic = False
    _set_fonts(style.element, font, latin or st["latin_font"])
    pf = style.paragraph_format
    pf.alignment = align
    pf.space_before = Pt(0)
    pf.space_after = Pt(0)
    pf.first_line_indent = Pt(size * indent_chars) if indent_chars else Pt(0)
    pf.left_indent = Pt(0)
    if exact:
        pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        pf.line_spacing = Pt(exact)
    else:
        pf.line_spacing_rule = WD_LINE_SPACING.SINGLE
    pf.keep_with_next = keep_next
    pf.widow_control = True
    if outline is not None:
        ppr = style.element.get_or_add_pPr()
        level = OxmlElement("w:outlineLvl")
        level.set(qn("w:val"), str(outline))
        ppr.append(level)
    return style


def _styles(doc: Any, st: dict[str, Any]) -> None:
    body, size, pitch = st["body_font"], float(st["body_size"]), float(st["line_spacing_pt"])
    indent = float(st["first_line_indent_chars"])
    normal = doc.styles["Normal"]
    normal.font.size = Pt(size)
    _set_fonts(normal.element, body, st["latin_font"])
    _set_lang(normal.element)
    # document defaults too: text outside our styles (a field result, a list) stays Chinese 仿宋
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    if defaults is not None:
        rpr_default = defaults.find(qn("w:rPrDefault"))
        if rpr_default is not None and rpr_default.find(qn("w:rPr")) is not None:
            class _Owner:  # get_or_add_rPr for the rPrDefault element
                def __init__(self, el):
                    self.el = el

                def get_or_add_rPr(self):
                    return self.el.find(qn("w:rPr"))
            _set_fonts(_Owner(rpr_default), body, st["latin_font"])
            _set_lang(_Owner(rpr_default))
    _paragraph_style(doc, TITLE, st, font=st["title_font"], size=float(st["title_size"]), bold=bool(st["title_bold"]),
                     align=WD_ALIGN_PARAGRAPH.CENTER, exact=max(pitch, float(st["title_size"]) * 1.5),
                     latin=st["title_font"])
    _paragraph_style(doc, SUBTITLE, st, font=st["subtitle_font"], size=size, align=WD_ALIGN_PARAGRAPH.CENTER, exact=pitch)
    _paragraph_style(doc, NOTICE, st, font=st["heading1_font"], size=size, exact=pitch, indent_chars=indent)
    _paragraph_style(doc, HEADING1, st, font=st["heading1_font"], size=size, exact=pitch, indent_chars=indent,
                     keep_next=True, latin=st["heading1_font"])
    _paragraph_style(doc, HEADING2, st, font=st["heading2_font"], size=size, exact=pitch, indent_chars=indent,
                     keep_next=True, latin=st["heading2_font"])
    _paragraph_style(doc, HEADING3, st, font=body, size=size, bold=bool(st["heading3_bold"]), exact=pitch,
                     indent_chars=indent, keep_next=True)
    _paragraph_style(doc, BODY, st, font=body, size=size, exact=pitch, indent_chars=indent)
    _paragraph_style(doc, TABLE_TITLE, st, font=st["heading1_font"], size=size - 2, align=WD_ALIGN_PARAGRAPH.CENTER,
                     exact=pitch, keep_next=True)
    _paragraph_style(doc, SIGNATURE, st, font=body, size=size, align=WD_ALIGN_PARAGRAPH.RIGHT, exact=pitch)
    _paragraph_style(doc, "cell", st, font=st["table_font"], size=float(st["table_size"]), align=WD_ALIGN_PARAGRAPH.CENTER)
    _paragraph_style(doc, "cell_header", st, font=st["table_header_font"], size=float(st["table_size"]),
                     align=WD_ALIGN_PARAGRAPH.CENTER, latin=st["table_header_font"])
    _paragraph_style(doc, "page", st, font=st["page_number_font"], size=float(st["page_number_size"]),
                     align=WD_ALIGN_PARAGRAPH.RIGHT, latin=st["page_number_font"])
    _paragraph_style(doc, "header", st, font=st["heading1_font"], size=float(st["page_number_size"]) - 2,
                     align=WD_ALIGN_PARAGRAPH.RIGHT, latin=st["heading1_font"])


def _style(key: str) -> str:
    return STYLE_NAMES[key][0]


def _styled(paragraph: Any, style_id: str) -> Any:
    """Set a paragraph's style by id: python-docx's `paragraph.style = …` scans every style of
    the document each time, which made a report's table take most of a second."""
    paragraph._p.style = style_id
    return paragraph


def _add(doc: Any, style_id: str, text: str = "") -> Any:
    paragraph = doc.add_paragraph()
    _styled(paragraph, style_id)
    if text:
        paragraph.add_run(text)
    return paragraph


def _runs(paragraph: Any, text: str, highlight: Any) -> None:
    """The text as runs; 【请填写：…】 placeholders highlighted so that nobody misses them."""
    for piece in PLACEHOLDER.split(text):
        if not piece:
            continue
        run = paragraph.add_run(piece)
        if highlight is not None and PLACEHOLDER.fullmatch(piece):
            run.font.highlight_color = highlight


def _border_box(paragraph: Any) -> None:
    ppr = paragraph._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    for side in ("top", "left", "bottom", "right"):
        edge = OxmlElement(f"w:{side}")
        edge.set(qn("w:val"), "single")
        edge.set(qn("w:sz"), "8")
        edge.set(qn("w:space"), "4")
        edge.set(qn("w:color"), "000000")
        borders.append(edge)
    ppr.append(borders)


def _page_field(paragraph: Any, fmt: str) -> None:
    """`— {page} —` with {page} a PAGE field (Word and LibreOffice compute it)."""
    before, _, after = fmt.partition("{page}")
    if before:
        paragraph.add_run(before)
    run = paragraph.add_run()
    begin = OxmlElement("w:fldChar")
    begin.set(qn("w:fldCharType"), "begin")
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = " PAGE "
    separate = OxmlElement("w:fldChar")
    separate.set(qn("w:fldCharType"), "separate")
    shown = OxmlElement("w:t")
    shown.text = "1"
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    for el in (begin, instr, separate, shown, end):
        run._r.append(el)
    if after:
        paragraph.add_run(after)


def _footers(doc: Any, st: dict[str, Any], header: str | None) -> None:
    section = doc.sections[0]
    doc.settings.odd_and_even_pages_header_footer = True
    size = float(st["page_number_size"])
    for footer, align in ((section.footer, WD_ALIGN_PARAGRAPH.RIGHT), (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT)):
        p = footer.paragraphs[0]
        p.style = doc.styles[_style("page")]
        p.alignment = align
        # 单页码居右空一字，双页码居左空一字
        if align == WD_ALIGN_PARAGRAPH.RIGHT:
            p.paragraph_format.right_indent = Pt(size)
        else:
            p.paragraph_format.left_indent = Pt(size)
        _page_field(p, str(st["page_number_format"]))
    for page_header in (section.header, section.even_page_header):
        p = page_header.paragraphs[0]
        if header:
            p.style = doc.styles[_style("header")]
            p.add_run(header)


def _page(doc: Any, st: dict[str, Any]) -> None:
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(float(st["page_width_mm"])), Mm(float(st["page_height_mm"]))
    section.top_margin, section.bottom_margin = Mm(float(st["margin_top_mm"])), Mm(float(st["margin_bottom_mm"]))
    section.left_margin, section.right_margin = Mm(float(st["margin_left_mm"])), Mm(float(st["margin_right_mm"]))
    section.header_distance = Mm(max(float(st["margin_top_mm"]) - 15, 10))
    section.footer_distance = Mm(max(float(st["margin_bottom_mm"]) - 12, 10))


def _cell_text(cell: Any, text: str, style_id: str, align: Any, bold: bool) -> None:
    p = _styled(cell.paragraphs[0], style_id)
    p.alignment = align
    if text:
        run = p.add_run(text)
        if bold:
            run.bold = True
    cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER


def _table(doc: Any, block: Table) -> None:
    ncols = len(block.headers)
    table = doc.add_table(rows=1 + len(block.rows), cols=ncols)
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    widths = [Mm(w) for w in block.widths_mm]
    for i, column in enumerate(table.columns):
        column.width = widths[i]
    header_style, cell_style = doc.styles[_style("cell_header")].style_id, doc.styles[_style("cell")].style_id
    for r, values in enumerate([block.headers, *block.rows]):
        row = table.rows[r]
        if r == 0:  # the header row repeats on every page
            trpr = row._tr.get_or_add_trPr()
            repeat = OxmlElement("w:tblHeader")
            trpr.append(repeat)
        no_split = OxmlElement("w:cantSplit")
        row._tr.get_or_add_trPr().append(no_split)
        cells = row.cells
        for c, text in enumerate(values):
            cell = cells[c]
            cell.width = widths[c]
            if r == 0:
                _cell_text(cell, text, header_style, WD_ALIGN_PARAGRAPH.CENTER, False)
            else:
                align = WD_ALIGN_PARAGRAPH.LEFT if c in block.left else WD_ALIGN_PARAGRAPH.CENTER
                _cell_text(cell, text, cell_style, align, (r - 1) in block.strong)
    for r1, c1, r2, c2 in block.merges:
        table.rows[r1 + 1].cells[c1].merge(table.rows[r2 + 1].cells[c2])


def build_document(report: Report, style: dict[str, Any]) -> Any:
    """The python-docx Document of `report`."""
    doc = Document()
    _page(doc, style)
    _styles(doc, style)
    highlight = getattr(WD_COLOR_INDEX, str(style["placeholder_highlight"]).upper(), None) if style["placeholder_highlight"] else None
    # the default template's empty first paragraph: reuse it for the title
    body = doc.element.body
    for p in list(body.iterchildren(qn("w:p"))):
        body.remove(p)
    props = doc.core_properties
    props.title, props.author, props.last_modified_by = report.title, "", ""
    props.comments, props.subject, props.keywords, props.category = "", "", "", ""
    ids = {key: doc.styles[name].style_id for key, (name, _) in STYLE_NAMES.items()}
    _add(doc, ids[TITLE], report.title)
    if report.subtitle:
        _add(doc, ids[SUBTITLE], report.subtitle)
    _add(doc, ids[BODY])
    for block in report.blocks:
        if isinstance(block, Table):
            _table(doc, block)
            continue
        assert isinstance(block, Paragraph)
        p = _add(doc, ids[block.style])
        _runs(p, block.text, highlight)
        if block.style == NOTICE:
            _border_box(p)
        if block.style == SIGNATURE:  # 署名 and 成文日期: right, four characters in, on one page
            p.paragraph_format.right_indent = Pt(float(style["body_size"]) * 4)
            if block is not report.blocks[-1]:
                p.paragraph_format.space_before = Pt(float(style["line_spacing_pt"]) * 2)
                p.paragraph_format.keep_with_next = True
    _footers(doc, style, report.header)
    return doc


def write_docx(report: Report, style: dict[str, Any], target: Path) -> Path:
    """Write `report` to `target` atomically (a temporary file renamed over it)."""
    doc = build_document(report, style)
    with replacing(Path(target)) as tmp:
        doc.save(str(tmp))
    return Path(target)
